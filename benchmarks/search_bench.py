"""Search loop and algorithms: symbo vs PyGlove 0.4.5 and Optuna 4.6.0, side by side in one run.

Run it with ``make bench`` (which builds ``.venv-bench``) or directly::

    .venv-bench/bin/python benchmarks/search_bench.py [--part overhead|quality|all]
        [--trials 1000] [--repeat 5] [--slow-repeat 1] [--seeds 20] [--jobs 2] [--json out.json]

**(a) Overhead per trial** (``--part overhead``): the cost of the search loop itself, i.e.
propose + materialize + feedback, on the issue's 20-decision reference space (the space of
``dsl_bench.py``: a ``Model`` with 4 ``Block``s of three four-way ``one_of`` and a
``float_range`` each, plus optimizer ``one_of``, log-scale learning rate, batch size and epochs
``one_of``) for ``--trials`` (1,000) trials with an instant objective (the program's ``lr``):

- symbo ``Random``, ``RegularizedEvolution`` (population 20, tournament 5) and ``TPE`` through
  ``sb.sample`` with the default in-memory storage, ``objectives=("min",)``;
- PyGlove ``pg.geno.Random`` and ``pg.evolution.regularized_evolution`` (the same population
  and tournament sizes) through ``pg.sample`` (its in-memory backend);
- Optuna ``RandomSampler`` and ``TPESampler`` (defaults) on an in-memory study, the same space
  written as ``suggest_*`` calls in the objective (the reference space has no conditional
  parts, so there is nothing conditional to express).

Each figure is the wall time of a whole run (study creation to the end of the loop, garbage
collector on, as in a real search) divided by the number of trials: the median over
``--repeat`` runs for the fast ones and over ``--slow-repeat`` runs for the slow ones (PyGlove,
Optuna TPE: half a minute or more per run). "last 100" is the time per trial over the last 100
trials (median over the runs), which shows whether the cost grows with the history.
Targets: symbo <= 0.3 ms per trial for random search and evolution; symbo TPE cheaper per trial
than Optuna's TPE at 1,000 trials.

**(b) Search quality** (``--part quality``): the best value found (minimizing) after 25, 50,
100 and 200 trials, as prefixes of one 200-trial run per seed, over ``--seeds`` (20) seeds, on

- Branin (2-d, x1 in [-5, 10], x2 in [0, 15]; optimum 0.397887),
- Hartmann-6 (6-d, [0, 1]^6; optimum -3.32237),
- Levy-10 (10-d, [-10, 10]^10; optimum 0 at x = 1),
- NAS-like: a conditional categorical space made up for this benchmark: a cell type among 3
  (conv, attention, mlp) with 5, 4 and 3 four-way sub-decisions of its own, plus a four-way
  learning-rate choice; 5,376 architectures. The error of an architecture is a fixed made-up
  table (drawn once from ``random.Random(2024)``): per-cell base error, main effects of every
  sub-decision, pairwise interactions of consecutive sub-decisions, and learning rate effects
  that depend on the cell and its first sub-decision. The optimum is found by enumeration.

Algorithms: symbo ``Random``, ``RegularizedEvolution`` (20/5), ``TPE``, ``TPE(multivariate=
True)``, ``MCTS`` (all defaults otherwise) via ``sb.sample(..., objectives=("min",))``; Optuna
``TPESampler()`` (defaults) and ``TPESampler(multivariate=True, group=True)``; PyGlove
``regularized_evolution`` (20/5, uniform mutator). Every run is seeded with its seed number.
Tables give the mean simple regret (best found - optimum) with its standard error, the mean
number of distinct points among the 200 evaluated (re-evaluations waste budget on the finite
NAS-like space), and the mean wall time of a run. Target: on every problem, symbo's best
algorithm reaches a mean regret at 100 trials at most 0.7x that of the best peer (the best of
the two Optuna TPEs and PyGlove evolution); the same comparison against the peers' default
configurations only (Optuna ``TPESampler()``, PyGlove evolution) is printed for information.
Runs are spread over ``--jobs`` processes (the results do not depend on timing).

Random search is also checked against uniform sampling: Kolmogorov-Smirnov statistics of 4,000
symbo ``Random`` samples of Branin's x1 and x2 (against 4,000 ``numpy`` uniform samples, and
against the exact uniform CDF), and chi-square tests of the NAS space's choices (the cell type,
the learning rate, and a sub-decision under one cell).

The script prints PASS/MISS per target for information and exits 0 either way.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import gc
import itertools
import math
import multiprocessing as mp
import random
import statistics
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import optuna
import pyglove as pg
from _timing import environment, finish, fmt_us, markdown_table
from dsl_bench import (
    ACTIVATIONS,
    BATCH_SIZES,
    DROPOUT,
    EPOCHS,
    FILTERS,
    KERNELS,
    LEARNING_RATE,
    NUM_BLOCKS,
    NUM_DECISIONS,
    OPTIMIZERS,
    pg_space,
    sb_space,
)

import symbo as sb
from symbo.algorithms.mcts import MCTS
from symbo.algorithms.tpe import TPE  # not exported as sb.algorithms.TPE at the time of writing

optuna.logging.set_verbosity(optuna.logging.WARNING)
warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)

OVERHEAD_TARGET_US = 300.0  # symbo random / evolution, per trial, at most
QUALITY_TARGET = 0.7  # symbo's best mean regret at 100 trials / the best peer's, at most
BUDGETS = (25, 50, 100, 200)
TARGET_BUDGET = 100
POPULATION, TOURNAMENT = 20, 5  # regularized evolution, both libraries
P_MIN = 0.01  # uniformity checks pass when p >= this


# ---- (a) overhead on the reference space ---------------------------------------------------------
def suggest_reference(trial: optuna.Trial) -> dict[str, Any]:
    """The reference space as Optuna ``suggest_*`` calls (parameter names = symbo decision ids)."""
    blocks = [
        {
            "kernel": trial.suggest_categorical(f"blocks[{i}].kernel", KERNELS),
            "act": trial.suggest_categorical(f"blocks[{i}].act", ACTIVATIONS),
            "filters": trial.suggest_categorical(f"blocks[{i}].filters", FILTERS),
            "dropout": trial.suggest_float(f"blocks[{i}].dropout", *DROPOUT),
        }
        for i in range(NUM_BLOCKS)
    ]
    return {
        "blocks": blocks,
        "optimizer": trial.suggest_categorical("optimizer", OPTIMIZERS),
        "lr": trial.suggest_float("lr", *LEARNING_RATE, log=True),
        "batch_size": trial.suggest_categorical("batch_size", BATCH_SIZES),
        "epochs": trial.suggest_categorical("epochs", EPOCHS),
    }


Stamps = tuple[float, list[float], float]  # start, time after each trial, end


def loop_symbo(algorithm: sb.algorithms.Algorithm, trials: int) -> Stamps:
    space = sb_space()
    stamps: list[float] = []
    start = time.perf_counter()
    for program, feedback in sb.sample(space, algorithm, num_trials=trials, objectives=("min",)):
        feedback(program.lr)
        stamps.append(time.perf_counter())
    return start, stamps, time.perf_counter()


def loop_pyglove(algorithm: Any, trials: int) -> Stamps:
    space = pg_space()
    stamps: list[float] = []
    start = time.perf_counter()
    for program, feedback in pg.sample(space, algorithm, num_examples=trials):
        feedback(-program.lr)  # PyGlove maximizes
        stamps.append(time.perf_counter())
    return start, stamps, time.perf_counter()


def loop_optuna(sampler: optuna.samplers.BaseSampler, trials: int) -> Stamps:
    stamps: list[float] = []

    def objective(trial: optuna.Trial) -> float:
        return suggest_reference(trial)["lr"]

    def stamp(_study: optuna.Study, _trial: optuna.trial.FrozenTrial) -> None:
        stamps.append(time.perf_counter())  # called after the trial's value is recorded

    start = time.perf_counter()
    study = optuna.create_study(direction="minimize", sampler=sampler)
    study.optimize(objective, n_trials=trials, callbacks=[stamp])
    return start, stamps, time.perf_counter()


@dataclass
class OverheadRow:
    """One algorithm family: µs per trial for symbo and each peer (None: no such peer)."""

    algorithm: str
    symbo_us: float
    symbo_last100_us: float
    pyglove_us: float | None = None
    pyglove_last100_us: float | None = None
    optuna_us: float | None = None
    optuna_last100_us: float | None = None
    runs: dict[str, list[float]] = field(default_factory=dict)


def measure(make_run: Callable[[], Stamps], repeat: int, trials: int) -> tuple[float, float,
                                                                               list[float]]:
    """(median µs per trial, median µs per trial over the last 100 trials, every run's µs)."""
    totals, lasts = [], []
    for _ in range(repeat):
        gc.collect()
        start, stamps, end = make_run()
        if len(stamps) != trials:
            raise SystemExit(f"search_bench: a run made {len(stamps)} trials, not {trials}")
        last = min(100, trials - 1)
        totals.append((end - start) / trials * 1e6)
        lasts.append((stamps[-1] - stamps[-1 - last]) / last * 1e6)
    return statistics.median(totals), statistics.median(lasts), totals


def run_overhead(trials: int, repeat: int, slow_repeat: int) -> list[OverheadRow]:
    """Times every loop; returns one row per algorithm family."""
    seeds = itertools.count()
    print(f"(a) overhead: {trials} trials per run; {repeat} runs each (symbo, Optuna random), "
          f"{slow_repeat} (PyGlove, Optuna TPE)", flush=True)

    def step(label: str, fn: Callable[[], Stamps], n: int) -> tuple[float, float, list[float]]:
        t0 = time.perf_counter()
        out = measure(fn, n, trials)
        print(f"  {label:28} {fmt_us(out[0]):>9} µs/trial  ({time.perf_counter() - t0:.1f} s)",
              flush=True)
        return out

    rows = []
    s = step("symbo Random", lambda: loop_symbo(sb.algorithms.Random(seed=next(seeds)), trials),
             repeat)
    p = step("PyGlove Random", lambda: loop_pyglove(pg.geno.Random(seed=next(seeds)), trials),
             slow_repeat)
    o = step("Optuna RandomSampler",
             lambda: loop_optuna(optuna.samplers.RandomSampler(seed=next(seeds)), trials), repeat)
    rows.append(OverheadRow("random", s[0], s[1], p[0], p[1], o[0], o[1],
                            {"symbo": s[2], "pyglove": p[2], "optuna": o[2]}))

    def pg_evolution() -> Any:
        seed = next(seeds)
        return pg.evolution.regularized_evolution(
            mutator=pg.evolution.mutators.Uniform(seed=seed), population_size=POPULATION,
            tournament_size=TOURNAMENT, seed=seed)

    s = step("symbo RegularizedEvolution",
             lambda: loop_symbo(sb.algorithms.RegularizedEvolution(
                 population_size=POPULATION, tournament_size=TOURNAMENT, seed=next(seeds)),
                 trials), repeat)
    p = step("PyGlove regularized_evolution", lambda: loop_pyglove(pg_evolution(), trials),
             slow_repeat)
    rows.append(OverheadRow("regularized evolution", s[0], s[1], p[0], p[1],
                            runs={"symbo": s[2], "pyglove": p[2]}))

    s = step("symbo TPE", lambda: loop_symbo(TPE(seed=next(seeds)), trials), repeat)
    o = step("Optuna TPESampler",
             lambda: loop_optuna(optuna.samplers.TPESampler(seed=next(seeds)), trials),
             slow_repeat)
    rows.append(OverheadRow("TPE", s[0], s[1], optuna_us=o[0], optuna_last100_us=o[1],
                            runs={"symbo": s[2], "optuna": o[2]}))
    return rows


def overhead_verdict(row: OverheadRow) -> tuple[str, bool]:
    if row.algorithm == "TPE":
        assert row.optuna_us is not None
        return "< Optuna TPE", row.symbo_us < row.optuna_us
    return f"<= {OVERHEAD_TARGET_US:g} µs", row.symbo_us <= OVERHEAD_TARGET_US


def format_overhead(rows: list[OverheadRow]) -> str:
    header = ["algorithm", "symbo µs/trial", "symbo last 100", "PyGlove µs/trial",
              "PyGlove/symbo", "Optuna µs/trial", "Optuna/symbo", "target", "result"]
    body = []
    for r in rows:
        target, ok = overhead_verdict(r)
        body.append([
            r.algorithm, fmt_us(r.symbo_us), fmt_us(r.symbo_last100_us), fmt_us(r.pyglove_us),
            "-" if r.pyglove_us is None else f"{r.pyglove_us / r.symbo_us:,.1f}x",
            fmt_us(r.optuna_us),
            "-" if r.optuna_us is None else f"{r.optuna_us / r.symbo_us:,.1f}x",
            target, "PASS" if ok else "MISS",
        ])
    return markdown_table(header, body)


# ---- (b) the quality problems --------------------------------------------------------------------
def branin(x: Sequence[float]) -> float:
    x1, x2 = x
    b, c, t = 5.1 / (4 * math.pi ** 2), 5 / math.pi, 1 / (8 * math.pi)
    return (x2 - b * x1 ** 2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


HARTMANN_ALPHA = (1.0, 1.2, 3.0, 3.2)
HARTMANN_A = ((10, 3, 17, 3.5, 1.7, 8), (0.05, 10, 17, 0.1, 8, 14),
              (3, 3.5, 1.7, 10, 17, 8), (17, 8, 0.05, 10, 0.1, 14))
HARTMANN_P = tuple(tuple(v * 1e-4 for v in row) for row in (
    (1312, 1696, 5569, 124, 8283, 5886), (2329, 4135, 8307, 3736, 1004, 9991),
    (2348, 1451, 3522, 2883, 3047, 6650), (4047, 8828, 8732, 5743, 1091, 381)))


def hartmann6(x: Sequence[float]) -> float:
    return -sum(
        alpha * math.exp(-sum(a * (xj - p) ** 2 for a, xj, p in zip(a_row, x, p_row)))
        for alpha, a_row, p_row in zip(HARTMANN_ALPHA, HARTMANN_A, HARTMANN_P)
    )


def levy(x: Sequence[float]) -> float:
    w = [1 + (xi - 1) / 4 for xi in x]
    total = math.sin(math.pi * w[0]) ** 2
    for wi in w[:-1]:
        total += (wi - 1) ** 2 * (1 + 10 * math.sin(math.pi * wi + 1) ** 2)
    return total + (w[-1] - 1) ** 2 * (1 + math.sin(2 * math.pi * w[-1]) ** 2)


# NAS-like: cell type -> number of four-way sub-decisions; plus a four-way learning rate.
NAS_CELLS = (("conv", 5), ("attention", 4), ("mlp", 3))
NAS_OPTIONS = 4
NAS_BASE = {"conv": 0.10, "attention": 0.08, "mlp": 0.14}


def _nas_tables() -> dict[str, Any]:
    """The made-up error table, drawn once from a seeded ``random.Random`` (stable across
    Python versions)."""
    rng = random.Random(2024)

    def table(*shape: int, scale: float) -> Any:
        if len(shape) == 1:
            return [round(scale * rng.random(), 4) for _ in range(shape[0])]
        return [table(*shape[1:], scale=scale) for _ in range(shape[0])]

    tables: dict[str, Any] = {}
    for cell, k in NAS_CELLS:
        tables[cell] = {
            "main": table(k, NAS_OPTIONS, scale=0.05),  # main effect of each sub-decision
            "pair": table(k - 1, NAS_OPTIONS, NAS_OPTIONS, scale=0.04),  # d_i x d_{i+1}
            "lr": table(NAS_OPTIONS, scale=0.06),  # learning rate, per cell
            "lr_first": table(NAS_OPTIONS, NAS_OPTIONS, scale=0.04),  # d_0 x learning rate
        }
    return tables


NAS_TABLES = _nas_tables()
NasPoint = tuple[str, tuple[int, ...], int]


def nas_error(point: NasPoint) -> float:
    cell, subs, lr = point
    t = NAS_TABLES[cell]
    error = NAS_BASE[cell] + t["lr"][lr] + t["lr_first"][subs[0]][lr]
    error += sum(t["main"][i][c] for i, c in enumerate(subs))
    error += sum(t["pair"][i][subs[i]][subs[i + 1]] for i in range(len(subs) - 1))
    return error


def nas_points() -> list[NasPoint]:
    return [(cell, subs, lr) for cell, k in NAS_CELLS
            for subs in itertools.product(range(NAS_OPTIONS), repeat=k)
            for lr in range(NAS_OPTIONS)]


@dataclass(frozen=True)
class Problem:
    """A minimization problem in the three libraries' terms."""

    name: str
    optimum: float
    value: Callable[[Any], float]
    bounds: tuple[tuple[float, float], ...] = ()  # continuous problems: one (low, high) per x_i

    @property
    def is_nas(self) -> bool:
        return not self.bounds

    def sb_space(self) -> sb.Dict:
        if self.is_nas:
            cells = [sb.Dict(type=cell, **{f"d{i}": sb.one_of(list(range(NAS_OPTIONS)))
                                           for i in range(k)}) for cell, k in NAS_CELLS]
            return sb.Dict(cell=sb.one_of(cells), lr=sb.one_of(list(range(NAS_OPTIONS))))
        return sb.Dict(**{f"x{i}": sb.float_range(lo, hi) for i, (lo, hi) in
                          enumerate(self.bounds)})

    def pg_space(self) -> pg.Dict:
        if self.is_nas:
            cells = [pg.Dict(type=cell, **{f"d{i}": pg.oneof(list(range(NAS_OPTIONS)))
                                           for i in range(k)}) for cell, k in NAS_CELLS]
            return pg.Dict(cell=pg.oneof(cells), lr=pg.oneof(list(range(NAS_OPTIONS))))
        return pg.Dict(**{f"x{i}": pg.floatv(lo, hi) for i, (lo, hi) in enumerate(self.bounds)})

    def point(self, program: Any) -> Any:
        """The point of a materialized symbo or PyGlove program (both are dict-like)."""
        if self.is_nas:
            cell = program["cell"]
            k = dict(NAS_CELLS)[cell["type"]]
            return cell["type"], tuple(cell[f"d{i}"] for i in range(k)), program["lr"]
        return tuple(program[f"x{i}"] for i in range(len(self.bounds)))

    def suggest(self, trial: optuna.Trial) -> Any:
        """The point of an Optuna trial; the NAS sub-decisions are asked only under their cell
        (define-by-run conditionals), named by cell so that each cell has its own."""
        if self.is_nas:
            cell = trial.suggest_categorical("cell", [c for c, _ in NAS_CELLS])
            k = dict(NAS_CELLS)[cell]
            subs = tuple(trial.suggest_categorical(f"{cell}.d{i}", list(range(NAS_OPTIONS)))
                         for i in range(k))
            return cell, subs, trial.suggest_categorical("lr", list(range(NAS_OPTIONS)))
        return tuple(trial.suggest_float(f"x{i}", lo, hi) for i, (lo, hi) in
                     enumerate(self.bounds))


def _nas_optimum() -> tuple[float, NasPoint]:
    return min((nas_error(p), p) for p in nas_points())


NAS_OPTIMUM, NAS_BEST_POINT = _nas_optimum()
PROBLEMS = {
    p.name: p for p in (
        Problem("Branin", 0.397887357729739, branin, ((-5.0, 10.0), (0.0, 15.0))),
        Problem("Hartmann-6", -3.32236801141551, hartmann6, ((0.0, 1.0),) * 6),
        Problem("Levy-10", 0.0, levy, ((-10.0, 10.0),) * 10),
        Problem("NAS-like", NAS_OPTIMUM, nas_error),
    )
}


# ---- (b) the algorithms ----------------------------------------------------------------------
Run = tuple[list[float], list[Any]]  # the values, in order, and the points evaluated


def _symbo(make: Callable[[int], sb.algorithms.Algorithm]) -> Callable[[Problem, int, int], Run]:
    def run(problem: Problem, seed: int, budget: int) -> Run:
        values, points = [], []
        for program, feedback in sb.sample(problem.sb_space(), make(seed), num_trials=budget,
                                           objectives=("min",)):
            point = problem.point(program)
            value = problem.value(point)
            values.append(value)
            points.append(point)
            feedback(value)
        return values, points
    return run


def _optuna(make: Callable[[int], optuna.samplers.BaseSampler]) -> Callable[[Problem, int, int],
                                                                              Run]:
    def run(problem: Problem, seed: int, budget: int) -> Run:
        points: list[Any] = []

        def objective(trial: optuna.Trial) -> float:
            points.append(problem.suggest(trial))
            return problem.value(points[-1])

        study = optuna.create_study(direction="minimize", sampler=make(seed))
        study.optimize(objective, n_trials=budget)
        return [float(t.value) for t in study.trials], points
    return run


def _pyglove_evolution(problem: Problem, seed: int, budget: int) -> Run:
    algorithm = pg.evolution.regularized_evolution(
        mutator=pg.evolution.mutators.Uniform(seed=seed), population_size=POPULATION,
        tournament_size=TOURNAMENT, seed=seed)
    values, points = [], []
    for program, feedback in pg.sample(problem.pg_space(), algorithm, num_examples=budget):
        point = problem.point(program)
        value = problem.value(point)
        values.append(value)
        points.append(point)
        feedback(-value)  # PyGlove maximizes
    return values, points


ALGORITHMS: dict[str, Callable[[Problem, int, int], Run]] = {
    "symbo Random": _symbo(lambda s: sb.algorithms.Random(seed=s)),
    "symbo RegularizedEvolution": _symbo(lambda s: sb.algorithms.RegularizedEvolution(
        population_size=POPULATION, tournament_size=TOURNAMENT, seed=s)),
    "symbo TPE": _symbo(lambda s: TPE(seed=s)),
    "symbo TPE multivariate": _symbo(lambda s: TPE(multivariate=True, seed=s)),
    "symbo MCTS": _symbo(lambda s: MCTS(seed=s)),
    "symbo GaussianProcessBO": _symbo(lambda s: sb.algorithms.GaussianProcessBO(seed=s)),
    "Optuna TPE": _optuna(lambda s: optuna.samplers.TPESampler(seed=s)),
    "Optuna TPE multivariate+group": _optuna(
        lambda s: optuna.samplers.TPESampler(multivariate=True, group=True, seed=s)),
    "PyGlove regularized evolution": _pyglove_evolution,
}
SYMBO = [a for a in ALGORITHMS if a.startswith("symbo")]
PEERS = [a for a in ALGORITHMS if not a.startswith("symbo")]
DEFAULT_PEERS = ["Optuna TPE", "PyGlove regularized evolution"]


def _task(problem: str, algorithm: str, seed: int, budget: int) -> tuple[
        str, str, int, list[float], int, str | None, float]:
    """One run (in a worker process): (problem, algorithm, seed, values, number of distinct
    points, error, seconds)."""
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    start = time.perf_counter()
    try:
        values, points = ALGORITHMS[algorithm](PROBLEMS[problem], seed, budget)
    except Exception as e:  # noqa: BLE001 - reported in the table, the benchmark goes on
        return problem, algorithm, seed, [], 0, f"{type(e).__name__}: {e}", 0.0
    seconds = time.perf_counter() - start
    return problem, algorithm, seed, values, len(set(points)), None, seconds


@dataclass
class Cell:
    """One (problem, algorithm): regrets per budget over the seeds."""

    regrets: dict[int, list[float]] = field(default_factory=dict)
    seconds: list[float] = field(default_factory=list)
    distinct: list[int] = field(default_factory=list)
    error: str | None = None

    def mean(self, budget: int) -> float:
        return statistics.fmean(self.regrets[budget])

    def se(self, budget: int) -> float:
        values = self.regrets[budget]
        return statistics.stdev(values) / math.sqrt(len(values)) if len(values) > 1 else 0.0


def run_quality(seeds: int, jobs: int) -> dict[str, dict[str, Cell]]:
    """Every (problem, algorithm, seed) run; returns cells[problem][algorithm]."""
    budget = max(BUDGETS)
    tasks = [(p, a, s) for p in PROBLEMS for a in ALGORITHMS for s in range(seeds)]
    # the slow ones first, so that the processes finish together
    slow = ("Optuna", "PyGlove", "TPE")
    tasks.sort(key=lambda t: not any(word in t[1] for word in slow))
    cells: dict[str, dict[str, Cell]] = {p: {a: Cell() for a in ALGORITHMS} for p in PROBLEMS}
    print(f"(b) quality: {len(PROBLEMS)} problems x {len(ALGORITHMS)} algorithms x {seeds} seeds "
          f"x {budget} trials, in {jobs} process(es)", flush=True)
    started = time.perf_counter()
    ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
    with cf.ProcessPoolExecutor(max_workers=jobs, mp_context=ctx) as pool:
        futures = [pool.submit(_task, p, a, s, budget) for p, a, s in tasks]
        for done, future in enumerate(cf.as_completed(futures), 1):
            problem, algorithm, _seed, values, distinct, error, seconds = future.result()
            cell = cells[problem][algorithm]
            if error is not None:
                cell.error = error
                continue
            if len(values) != budget:
                cell.error = f"made {len(values)} trials, not {budget}"
                continue
            optimum = PROBLEMS[problem].optimum
            for b in BUDGETS:
                cell.regrets.setdefault(b, []).append(min(values[:b]) - optimum)
            cell.seconds.append(seconds)
            cell.distinct.append(distinct)
            if done % 80 == 0 or done == len(futures):
                print(f"  {done}/{len(futures)} runs ({time.perf_counter() - started:.0f} s)",
                      flush=True)
    return cells


def _fmt_regret(mean: float, se: float) -> str:
    return f"{mean:.3g} ± {se:.2g}"


def format_quality(problem: str, row: dict[str, Cell]) -> str:
    header = ["algorithm", *(f"regret @{b}" for b in BUDGETS), "distinct", "s/run"]
    body = []
    for algorithm, cell in row.items():
        if cell.error is not None or not cell.regrets:
            body.append([algorithm, *(["n/a"] * len(BUDGETS)), "-",
                         (cell.error or "no runs")[:60]])
            continue
        body.append([algorithm, *(_fmt_regret(cell.mean(b), cell.se(b)) for b in BUDGETS),
                     f"{statistics.fmean(cell.distinct):.0f}",
                     f"{statistics.fmean(cell.seconds):.2f}"])
    return markdown_table(header, body)


@dataclass
class QualityVerdict:
    """The 0.7x target for one problem."""

    problem: str
    symbo_algorithm: str
    symbo_regret: float
    peer_algorithm: str
    peer_regret: float

    @property
    def ratio(self) -> float:
        if self.peer_regret == 0:
            return 1.0 if self.symbo_regret == 0 else math.inf
        return self.symbo_regret / self.peer_regret

    @property
    def ok(self) -> bool:
        return self.symbo_regret <= QUALITY_TARGET * self.peer_regret or self.symbo_regret == 0


def quality_verdicts(cells: dict[str, dict[str, Cell]],
                     peers: Sequence[str]) -> list[QualityVerdict]:
    """Per problem: symbo's best algorithm at 100 trials against the best of ``peers``."""
    out = []
    for problem, row in cells.items():
        ok = {a: c for a, c in row.items() if c.error is None and c.regrets}
        best_symbo = min((a for a in SYMBO if a in ok), key=lambda a: ok[a].mean(TARGET_BUDGET))
        best_peer = min((a for a in peers if a in ok), key=lambda a: ok[a].mean(TARGET_BUDGET))
        out.append(QualityVerdict(problem, best_symbo, ok[best_symbo].mean(TARGET_BUDGET),
                                  best_peer, ok[best_peer].mean(TARGET_BUDGET)))
    return out


def format_verdicts(verdicts: list[QualityVerdict]) -> str:
    header = ["problem", "best symbo @100", "regret", "best peer @100", "regret", "symbo/peer",
              f"<= {QUALITY_TARGET:g}x"]
    body = [[v.problem, v.symbo_algorithm, f"{v.symbo_regret:.3g}", v.peer_algorithm,
             f"{v.peer_regret:.3g}", f"{v.ratio:.2f}x" if math.isfinite(v.ratio) else "peer at 0",
             "PASS" if v.ok else "MISS"]
            for v in verdicts]
    return markdown_table(header, body)


# ---- (b) random search is uniform ---------------------------------------------------------------
def _kolmogorov_sf(lam: float) -> float:
    """P(K > lam) for the Kolmogorov distribution (the asymptotic KS p-value)."""
    if lam < 0.2:
        return 1.0
    return max(0.0, min(1.0, 2 * sum((-1) ** (k - 1) * math.exp(-2 * k * k * lam * lam)
                                     for k in range(1, 101))))


def ks_two_sample(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Two-sample Kolmogorov-Smirnov statistic and asymptotic p-value."""
    a, b = np.sort(a), np.sort(b)
    grid = np.concatenate([a, b])
    d = float(np.max(np.abs(np.searchsorted(a, grid, side="right") / len(a)
                            - np.searchsorted(b, grid, side="right") / len(b))))
    en = math.sqrt(len(a) * len(b) / (len(a) + len(b)))
    return d, _kolmogorov_sf((en + 0.12 + 0.11 / en) * d)


def ks_uniform(a: np.ndarray, low: float, high: float) -> tuple[float, float]:
    """One-sample Kolmogorov-Smirnov statistic and p-value against uniform(low, high)."""
    u = np.sort((a - low) / (high - low))
    n = len(u)
    i = np.arange(1, n + 1)
    d = float(max(np.max(i / n - u), np.max(u - (i - 1) / n)))
    en = math.sqrt(n)
    return d, _kolmogorov_sf((en + 0.12 + 0.11 / en) * d)


def chi2_uniform(counts: Sequence[int]) -> tuple[float, float]:
    """Chi-square statistic against equal frequencies, and its p-value (2 or 3 degrees of
    freedom: closed forms)."""
    n, k = sum(counts), len(counts)
    stat = sum((c - n / k) ** 2 / (n / k) for c in counts)
    if k == 3:
        return stat, math.exp(-stat / 2)
    if k == 4:
        return stat, math.erfc(math.sqrt(stat / 2)) + math.sqrt(2 * stat / math.pi) * math.exp(
            -stat / 2)
    raise ValueError("closed-form p-values for 3 or 4 categories only")


@dataclass
class UniformityRow:
    check: str
    n: int
    statistic: float
    p_value: float


def run_uniformity(n: int = 4000) -> list[UniformityRow]:
    rows = []
    branin_problem = PROBLEMS["Branin"]
    xs = [branin_problem.point(p) for p in
          itertools.islice(_random_programs(branin_problem, n), n)]
    reference = np.random.default_rng(0)
    for i, (lo, hi) in enumerate(branin_problem.bounds):
        sample = np.array([x[i] for x in xs])
        rows.append(UniformityRow(f"Branin x{i + 1}: KS vs numpy uniform", n,
                                  *ks_two_sample(sample, reference.uniform(lo, hi, n))))
        rows.append(UniformityRow(f"Branin x{i + 1}: KS vs uniform CDF", n,
                                  *ks_uniform(sample, lo, hi)))
    nas = PROBLEMS["NAS-like"]
    points = [nas.point(p) for p in itertools.islice(_random_programs(nas, n), n)]
    cells = [c for c, _ in NAS_CELLS]
    rows.append(UniformityRow("NAS cell type: chi-square", n,
                              *chi2_uniform([sum(p[0] == c for p in points) for c in cells])))
    rows.append(UniformityRow("NAS lr: chi-square", n,
                              *chi2_uniform([sum(p[2] == v for p in points)
                                             for v in range(NAS_OPTIONS)])))
    conv = [p for p in points if p[0] == "conv"]
    rows.append(UniformityRow("NAS conv.d0 under conv: chi-square", len(conv),
                              *chi2_uniform([sum(p[1][0] == v for p in conv)
                                             for v in range(NAS_OPTIONS)])))
    return rows


def _random_programs(problem: Problem, n: int) -> Any:
    for program, feedback in sb.sample(problem.sb_space(), sb.algorithms.Random(seed=12345),
                                       num_trials=n):
        feedback(0.0)
        yield program


def format_uniformity(rows: list[UniformityRow]) -> str:
    header = ["symbo Random samples", "n", "statistic", "p-value", f"p >= {P_MIN:g}"]
    body = [[r.check, str(r.n), f"{r.statistic:.4f}", f"{r.p_value:.3f}",
             "PASS" if r.p_value >= P_MIN else "MISS"] for r in rows]
    return markdown_table(header, body)


# ---- main ---------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("overhead", "quality", "all"), default="all")
    parser.add_argument("--trials", type=int, default=1000, help="trials per overhead run")
    parser.add_argument("--repeat", type=int, default=5,
                        help="overhead runs of symbo and Optuna random (median)")
    parser.add_argument("--slow-repeat", type=int, default=1,
                        help="overhead runs of PyGlove and Optuna TPE (about a minute each)")
    parser.add_argument("--seeds", type=int, default=20, help="seeds per quality cell")
    parser.add_argument("--jobs", type=int, default=2, help="processes for the quality runs")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON here")
    args = parser.parse_args(argv)
    if args.trials < 101:
        parser.error("--trials must be at least 101")

    env = environment(pyglove=pg.__version__, optuna=optuna.__version__)
    env["space"] = (f"(a) Model of {NUM_BLOCKS} Blocks, {NUM_DECISIONS} decisions; "
                    f"(b) {', '.join(PROBLEMS)}")
    for key, value in env.items():
        print(f"{key + ':':10} {value}")
    print(flush=True)
    started = time.perf_counter()
    out: dict[str, Any] = {"environment": env}
    misses = 0

    if args.part in ("overhead", "all"):
        rows = run_overhead(args.trials, args.repeat, args.slow_repeat)
        print("\nOverhead per trial (propose + materialize + feedback), µs, "
              f"{args.trials} trials, instant objective\n")
        print(format_overhead(rows))
        misses += sum(not overhead_verdict(r)[1] for r in rows)
        out["overhead"] = [asdict(r) for r in rows]
        print(flush=True)

    if args.part in ("quality", "all"):
        print(f"NAS-like optimum: error {NAS_OPTIMUM:.4f} at {NAS_BEST_POINT}; "
              f"{len(nas_points())} architectures, mean error "
              f"{statistics.fmean(nas_error(p) for p in nas_points()):.4f}\n", flush=True)
        cells = run_quality(args.seeds, args.jobs)
        for problem, row in cells.items():
            print(f"\n{problem}: mean simple regret ± standard error over {args.seeds} seeds "
                  f"(optimum {PROBLEMS[problem].optimum:.6g}); s/run is the mean wall time of one "
                  f"{max(BUDGETS)}-trial run with {args.jobs} process(es) at once\n")
            print(format_quality(problem, row))
        verdicts = quality_verdicts(cells, PEERS)
        print(f"\nTarget: symbo's best mean regret at {TARGET_BUDGET} trials <= "
              f"{QUALITY_TARGET:g}x the best peer's (every peer configuration above)\n")
        print(format_verdicts(verdicts))
        misses += sum(not v.ok for v in verdicts)
        default_verdicts = quality_verdicts(cells, DEFAULT_PEERS)
        print(f"\nFor information: the same against the peers' default configurations only "
              f"({' and '.join(DEFAULT_PEERS)})\n")
        print(format_verdicts(default_verdicts))
        uniformity = run_uniformity()
        print("\nRandom search vs uniform sampling\n")
        print(format_uniformity(uniformity))
        out["quality"] = {
            p: {a: {"regrets": c.regrets, "seconds": c.seconds, "distinct": c.distinct,
                    "error": c.error}
                for a, c in row.items()} for p, row in cells.items()}
        out["verdicts"] = [asdict(v) for v in verdicts]
        out["verdicts_default_peers"] = [asdict(v) for v in default_verdicts]
        out["uniformity"] = [asdict(r) for r in uniformity]

    return finish(misses, started, out, args.json)


if __name__ == "__main__":
    sys.exit(main())
