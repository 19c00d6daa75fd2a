"""Define-by-run: symbo's discovered-space loop vs its symbolic loop vs Optuna, in one run.

Run it with the benchmark venv (``make bench`` builds ``.venv-bench``) or any venv with Optuna::

    nice -n 10 .venv-bench/bin/python benchmarks/define_by_run_bench.py [--part quality|overhead|all]
        [--seeds 20] [--trials 100] [--overhead-trials 1000] [--sqlite-trials 200]
        [--repeat 3] [--json out.json]

**(a) Search quality on a conditional space** (``--part quality``). One objective, written
once in Optuna's style (``trial.suggest_*``), run unchanged by both libraries: the optimizer
(``sgd``, ``adam``, ``rmsprop``) decides which settings exist (momentum and nesterov; beta1 and
beta2; alpha and centered), and the best learning rate depends on the optimizer; weight decay
and batch size are shared. The loss is a made-up smooth function of the settings (minimized;
optimum 0.03 with adam). Configurations, each seeded with the seed number:

- symbo ``TPE()`` with no space (``sb.tune(objective)``: the space is discovered as trials run);
- symbo ``TPE()`` on the same function written with inline markers and traced first
  (``sb.trace``: the space, with its conditional tree, is known before the first trial);
- Optuna ``TPESampler()`` (defaults: independent per parameter) and
  ``TPESampler(multivariate=True, group=True)`` (the conditional-space setting).

The table gives the mean simple regret (best loss found - 0.03) after 50 and 100 trials (prefixes
of one run per seed) with its standard error and median, over ``--seeds`` seeds.

**(b) Overhead per trial** (``--part overhead``): the cost of the loop itself with an instant
objective over 10 decisions (a choice of 4, 4 log-scale floats, 3 ints, 2 choices of 3), random
search everywhere (so that no model is timed), ``--overhead-trials`` trials in memory:

- symbo's symbolic loop: ``sb.tune(objective, space)`` on an ``sb.Dict`` of the 10 markers;
- symbo's discovered-space loop: ``sb.tune(objective)`` where ``objective(trial)`` makes the 10
  ``suggest_*`` calls (and the same with 10 inline markers);
- Optuna's ``study.optimize`` with ``RandomSampler``, the same ``suggest_*`` objective.

Each figure is the wall time of a whole run divided by the number of trials, the median of
``--repeat`` runs (the loops interleaved, round after round, so that a busy machine slows
them alike). Then the symbolic loop, the discovered loop and Optuna again with a SQLite file
each (``--sqlite-trials`` trials). The script prints the tables and exits 0.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import tempfile
import time
from typing import Any

from _timing import environment, markdown_table

import symbo as sb

OPTIMUM = 0.03


# ---- (a) the conditional benchmark --------------------------------------------------------------
def loss(opt: str, lr: float, wd: float, batch: int, extra: dict[str, Any]) -> float:
    lg = math.log10(lr)
    shared = 0.01 * (math.log10(wd) + 4.0) ** 2 + 0.005 * (math.log2(batch) - 6.0) ** 2
    if opt == "sgd":
        value = 0.06 + 0.05 * (lg + 1.0) ** 2 + 0.8 * (extra["momentum"] - 0.9) ** 2
        value += 0.0 if extra["nesterov"] else 0.02
    elif opt == "adam":
        value = OPTIMUM + 0.05 * (lg + 3.0) ** 2 + 2.0 * (extra["beta1"] - 0.9) ** 2
        value += 0.02 * (math.log10(1.0 - extra["beta2"]) + 3.0) ** 2
    else:
        value = 0.05 + 0.05 * (lg + 2.0) ** 2 + 1.5 * (extra["alpha"] - 0.95) ** 2
        value += 0.0 if extra["centered"] else 0.01
    return value + shared


def objective(trial: Any) -> float:
    """Optuna's style; runs unchanged under Optuna and symbo."""
    opt = trial.suggest_categorical("optimizer", ["sgd", "adam", "rmsprop"])
    lr = trial.suggest_float("lr", 1e-5, 1.0, log=True)
    extra: dict[str, Any] = {}
    if opt == "sgd":
        extra["momentum"] = trial.suggest_float("momentum", 0.0, 0.99)
        extra["nesterov"] = trial.suggest_categorical("nesterov", [False, True])
    elif opt == "adam":
        extra["beta1"] = trial.suggest_float("beta1", 0.5, 0.999)
        extra["beta2"] = trial.suggest_float("beta2", 0.9, 0.99999)
    else:
        extra["alpha"] = trial.suggest_float("alpha", 0.8, 0.999)
        extra["centered"] = trial.suggest_categorical("centered", [False, True])
    wd = trial.suggest_float("weight_decay", 1e-6, 1e-1, log=True)
    batch = trial.suggest_categorical("batch_size", [16, 32, 64, 128, 256])
    return loss(opt, lr, wd, batch, extra)


def inline() -> float:
    """The same function with inline markers (for ``sb.trace``)."""
    opt = sb.one_of(["sgd", "adam", "rmsprop"], name="optimizer")
    lr = sb.float_range(1e-5, 1.0, scale="log", name="lr")
    extra: dict[str, Any] = {}
    if opt == "sgd":
        extra["momentum"] = sb.float_range(0.0, 0.99, name="momentum")
        extra["nesterov"] = sb.one_of([False, True], name="nesterov")
    elif opt == "adam":
        extra["beta1"] = sb.float_range(0.5, 0.999, name="beta1")
        extra["beta2"] = sb.float_range(0.9, 0.99999, name="beta2")
    else:
        extra["alpha"] = sb.float_range(0.8, 0.999, name="alpha")
        extra["centered"] = sb.one_of([False, True], name="centered")
    wd = sb.float_range(1e-6, 1e-1, scale="log", name="weight_decay")
    batch = sb.one_of([16, 32, 64, 128, 256], name="batch_size")
    return loss(opt, lr, wd, batch, extra)


def best_so_far(values: list[float]) -> list[float]:
    out, best = [], math.inf
    for v in values:
        best = min(best, v)
        out.append(best)
    return out


def run_symbo_discovered(seed: int, trials: int) -> list[float]:
    study = sb.tune(objective, algorithm=sb.algorithms.TPE(seed=seed), num_trials=trials,
                    objectives=("min",))
    return best_so_far([t.reward for t in study.trials])


def run_symbo_traced(seed: int, trials: int) -> list[float]:
    study = sb.tune(lambda program: program(), sb.trace(inline), sb.algorithms.TPE(seed=seed),
                    num_trials=trials, objectives=("min",))
    return best_so_far([t.reward for t in study.trials])


def run_optuna(seed: int, trials: int, **sampler: Any) -> list[float]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="minimize",
                                sampler=optuna.samplers.TPESampler(seed=seed, **sampler))
    study.optimize(objective, n_trials=trials)
    return best_so_far([t.value for t in study.trials])


CONFIGS = {
    "symbo TPE, no space (discovered)": run_symbo_discovered,
    "symbo TPE, traced space": run_symbo_traced,
    "Optuna TPESampler()": lambda seed, trials: run_optuna(seed, trials),
    "Optuna TPESampler(multivariate, group)":
        lambda seed, trials: run_optuna(seed, trials, multivariate=True, group=True),
}


def quality(seeds: int, trials: int) -> dict[str, Any]:
    checkpoints = [c for c in (50, 100) if c <= trials] or [trials]
    results: dict[str, Any] = {}
    rows = []
    for name, run in CONFIGS.items():
        started = time.perf_counter()
        curves = [run(seed, trials) for seed in range(seeds)]
        seconds = (time.perf_counter() - started) / seeds
        row = [name]
        results[name] = {"seconds_per_run": seconds}
        for c in checkpoints:
            regrets = [curve[c - 1] - OPTIMUM for curve in curves]
            mean = statistics.fmean(regrets)
            se = statistics.stdev(regrets) / math.sqrt(len(regrets)) if len(regrets) > 1 else 0.0
            median = statistics.median(regrets)
            results[name][str(c)] = {"mean": mean, "se": se, "median": median}
            row.append(f"{mean:.4f} ± {se:.4f} (median {median:.4f})")
        row.append(f"{seconds:.2f}")
        rows.append(row)
        print(f"  {name}: done", file=sys.stderr, flush=True)
    header = ["configuration"] + [f"regret at {c}" for c in checkpoints] + ["s per run"]
    print(f"\n(a) conditional benchmark, {seeds} seeds, mean simple regret ± s.e. (lower is "
          "better)\n")
    print(markdown_table(header, rows))
    return results


# ---- (b) overhead per trial -----------------------------------------------------------------------
def flat_trial(trial: Any) -> float:
    trial.suggest_categorical("c0", ["a", "b", "c", "d"])
    total = 0.0
    for i in range(4):
        total += trial.suggest_float(f"f{i}", 1e-4, 1.0, log=True)
    for i in range(3):
        total += trial.suggest_int(f"i{i}", 1, 64)
    for i in range(2):
        trial.suggest_categorical(f"k{i}", ["x", "y", "z"])
    return total


def flat_inline() -> float:
    sb.one_of(["a", "b", "c", "d"], name="c0")
    total = 0.0
    for i in range(4):
        total += sb.float_range(1e-4, 1.0, scale="log", name=f"f{i}")
    for i in range(3):
        total += sb.int_range(1, 64, name=f"i{i}")
    for i in range(2):
        sb.one_of(["x", "y", "z"], name=f"k{i}")
    return total


def flat_space() -> sb.Dict:
    return sb.Dict(
        c0=sb.one_of(["a", "b", "c", "d"], name="c0"),
        **{f"f{i}": sb.float_range(1e-4, 1.0, scale="log", name=f"f{i}") for i in range(4)},
        **{f"i{i}": sb.int_range(1, 64, name=f"i{i}") for i in range(3)},
        **{f"k{i}": sb.one_of(["x", "y", "z"], name=f"k{i}") for i in range(2)},
    )


def timed(runs: dict[str, Any], trials: int, repeat: int) -> dict[str, float]:
    """Median ms per trial of each run, the runs interleaved (round after round), so that a
    busy machine slows them alike."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeat):
        for name, run in runs.items():
            started = time.perf_counter()
            run(trials)
            times[name].append((time.perf_counter() - started) / trials * 1e3)
    return {name: statistics.median(t) for name, t in times.items()}


def overhead(trials: int, repeat: int) -> dict[str, float]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)

    def symbolic(n: int) -> None:
        sb.tune(lambda p: p.f0 + p.f1, flat_space(), sb.algorithms.Random(seed=0), num_trials=n)

    def discovered(n: int) -> None:
        sb.tune(flat_trial, algorithm=sb.algorithms.Random(seed=0), num_trials=n)

    def discovered_inline(n: int) -> None:
        sb.tune(flat_inline, algorithm=sb.algorithms.Random(seed=0), num_trials=n)

    def with_optuna(n: int) -> None:
        study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
        study.optimize(flat_trial, n_trials=n)

    runs = {
        "symbo, symbolic loop (sb.tune(objective, space))": symbolic,
        "symbo, discovered-space loop (objective(trial), suggest_*)": discovered,
        "symbo, discovered-space loop (inline markers)": discovered_inline,
        "Optuna study.optimize (RandomSampler, suggest_*)": with_optuna,
    }
    results = timed(runs, trials, repeat)
    base = results["symbo, symbolic loop (sb.tune(objective, space))"]
    optuna_ms = results["Optuna study.optimize (RandomSampler, suggest_*)"]
    rows = [[name, f"{ms:.3f}", f"{ms / base:.2f}x", f"{ms / optuna_ms:.2f}x"]
            for name, ms in results.items()]
    print(f"\n(b) overhead per trial, {trials} trials in memory, 10 decisions, random search, "
          f"median of {repeat} runs\n")
    print(markdown_table(["loop", "ms per trial", "vs symbolic", "vs Optuna"], rows))
    return results


def sqlite_overhead(trials: int, repeat: int) -> dict[str, float]:
    """The same loops with a SQLite file (a fresh one per run, in a temporary folder)."""
    import optuna

    folder = tempfile.mkdtemp()
    counter = iter(range(10**6))

    def url() -> str:
        return f"sqlite:///{os.path.join(folder, f'{next(counter)}.db')}"

    def symbolic(n: int) -> None:
        sb.tune(lambda p: p.f0 + p.f1, flat_space(), sb.algorithms.Random(seed=0), num_trials=n,
                storage=url(), study_name="s")

    def discovered(n: int) -> None:
        sb.tune(flat_trial, algorithm=sb.algorithms.Random(seed=0), num_trials=n, storage=url(),
                study_name="s")

    def with_optuna(n: int) -> None:
        study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0), storage=url())
        study.optimize(flat_trial, n_trials=n)

    runs = {
        "symbo, symbolic loop, SQLite": symbolic,
        "symbo, discovered-space loop (suggest_*), SQLite": discovered,
        "Optuna study.optimize (RandomSampler), SQLite": with_optuna,
    }
    results = timed(runs, trials, repeat)
    optuna_ms = results["Optuna study.optimize (RandomSampler), SQLite"]
    rows = [[name, f"{ms:.3f}", f"{ms / optuna_ms:.2f}x"] for name, ms in results.items()]
    print(f"\n(b') the same with a SQLite file per run, {trials} trials, median of {repeat} runs\n")
    print(markdown_table(["loop", "ms per trial", "vs Optuna"], rows))
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=["quality", "overhead", "all"], default="all")
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--overhead-trials", type=int, default=1000)
    parser.add_argument("--sqlite-trials", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", metavar="PATH")
    args = parser.parse_args()
    import optuna

    for key, value in environment(optuna=optuna.__version__).items():
        print(f"{key + ':':10} {value}")
    started = time.perf_counter()
    results: dict[str, Any] = {}
    if args.part in ("quality", "all"):
        results["quality"] = quality(args.seeds, args.trials)
    if args.part in ("overhead", "all"):
        results["overhead"] = overhead(args.overhead_trials, args.repeat)
        results["sqlite_overhead"] = sqlite_overhead(args.sqlite_trials, args.repeat)
    print(f"\ntook {time.perf_counter() - started:.1f} s")
    if args.json:
        import json

        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(results, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
