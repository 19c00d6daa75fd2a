"""Studies and scale: parallel throughput (local processes, Ray) and storage overhead vs Optuna.

Run it with ``make bench`` (which builds ``.venv-bench``) or directly::

    .venv-bench/bin/python benchmarks/scale_bench.py [--part throughput|storage|all]
        [--trials-per-worker 40] [--repeat 3] [--storage-trials 1000] [--slow-repeat 1]
        [--dirs DIR ...] [--no-ray] [--json out.json]

**Throughput** (``--part throughput``): ``sb.tune`` with ``Random`` on the reference space of
``dsl_bench.py`` (20 decisions), every trial sleeping 50 ms, with 1, 2 and 4 workers:

- local: ``sb.tune(..., workers=N)``: worker processes on this machine (``workers=1`` is the
  plain in-process loop, the serial baseline);
- Ray: ``sb.tune(..., workers=N, backend="ray")`` on a local Ray instance started once by this
  script with 4 CPUs (``ray.init`` is not timed; a short run first starts Ray's worker
  processes, also not timed).

A run makes ``--trials-per-worker`` x N trials (about 2 s of sleeping whatever N is), and is
timed whole: ``sb.tune`` from call to return, worker start-up included. The figure is the
median trials/s over ``--repeat`` runs. Parallel efficiency is throughput_N / (N x
throughput_1), each backend against its own 1-worker run; "of ideal" is throughput_N / (N x 20
trials/s), the share of the sleeping time that is not overhead. Target: efficiency >= 0.85
at 2 workers. Sleeping needs no CPU, so 4 workers on 2 cores can still scale.

**Storage overhead** (``--part storage``): ``--storage-trials`` (1,000) instant trials (the
objective returns the program's ``lr``) with random search on the reference space, each
library in memory and on SQLite:

- symbo: ``sb.tune(objective, space, Random(seed), num_trials=1000, storage=URL)`` with
  URL None (in memory, the default) or ``"sqlite:///DIR/symbo.db"`` (WAL, one transaction per
  change, ``synchronous=NORMAL``);
- Optuna: ``study.optimize`` with ``RandomSampler`` on ``optuna.create_study()`` (in memory)
  or on ``optuna.storages.RDBStorage("sqlite:///DIR/optuna.db")`` (its defaults), the space
  written as ``suggest_*`` calls.

Overhead per trial = (SQLite time - memory time) / trials. Every SQLite run uses a fresh file
and is checked afterwards: the file, opened again, holds all the trials, completed. The
SQLite files go in each of ``--dirs``: by default the temporary directory (a disk here, where
a commit waits for the disk) and ``/dev/shm`` when it exists (memory-backed, so the figure is
the CPU cost of storing alone). Medians over ``--repeat`` runs; Optuna on SQLite runs
``--slow-repeat`` times (a minute or more per run). Target: symbo's storage overhead per trial
<= 0.5x Optuna's.

The crash/resume behaviour of studies is tested in ``tests/backends``, not here. The script
prints PASS/MISS per target for information and exits 0 either way.
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import optuna
from _timing import environment, finish, fmt_us, markdown_table
from dsl_bench import NUM_BLOCKS, NUM_DECISIONS, sb_space
from search_bench import suggest_reference

import symbo as sb

optuna.logging.set_verbosity(optuna.logging.WARNING)

SLEEP = 0.05  # seconds per trial in the throughput runs
WORKERS = (1, 2, 4)
EFFICIENCY_TARGET = 0.85  # at 2 workers, at least
STORAGE_TARGET = 0.5  # symbo's overhead per trial / Optuna's, at most
RAY_CPUS = max(WORKERS)


# ---- throughput ---------------------------------------------------------------------------------
def sleepy(program: Any) -> float:
    """The throughput objective: 50 ms of sleep (module level, so Ray can ship it)."""
    time.sleep(SLEEP)
    return program.lr


@dataclass
class ThroughputRow:
    backend: str
    workers: int
    trials: int
    trials_per_s: float
    runs: list[float]
    efficiency: float = 0.0
    of_ideal: float = 0.0


def tune_rate(workers: int, trials: int, backend: str, seed: int) -> float:
    """Trials per second of one ``sb.tune`` run (checked: every trial completed)."""
    gc.collect()
    start = time.perf_counter()
    study = sb.tune(sleepy, sb_space(), sb.algorithms.Random(seed=seed), num_trials=trials,
                    workers=workers, backend=backend, objectives=("min",))
    elapsed = time.perf_counter() - start
    completed = sum(t.status == "completed" for t in study.trials)
    if completed != trials:
        raise SystemExit(f"scale_bench: {backend} with {workers} workers completed {completed} "
                         f"of {trials} trials")
    return trials / elapsed


def run_throughput(per_worker: int, repeat: int, ray: bool) -> list[ThroughputRow]:
    rows: list[ThroughputRow] = []
    backends = ["local"]
    if ray:
        try:
            import ray as ray_module
        except ImportError:
            print("  ray is not installed: the Ray rows are left out", flush=True)
        else:
            t0 = time.perf_counter()
            ray_module.init(num_cpus=RAY_CPUS, include_dashboard=False, log_to_driver=False,
                            configure_logging=False)
            tune_rate(RAY_CPUS, 2 * RAY_CPUS, "ray", seed=10_000)  # start Ray's workers
            print(f"  ray.init(num_cpus={RAY_CPUS}) and a warm-up run: "
                  f"{time.perf_counter() - t0:.1f} s (not timed)", flush=True)
            backends.append("ray")
    seed = 0
    for backend in backends:
        for n in WORKERS:
            trials = per_worker * n
            rates = []
            for _ in range(repeat):
                rates.append(tune_rate(n, trials, backend, seed))
                seed += 1
            rows.append(ThroughputRow(backend, n, trials, statistics.median(rates), rates))
            print(f"  {backend:5} {n} worker(s): {statistics.median(rates):6.1f} trials/s "
                  f"(runs: {', '.join(f'{r:.1f}' for r in rates)})", flush=True)
        base = next(r for r in rows if r.backend == backend and r.workers == 1).trials_per_s
        for r in rows:
            if r.backend == backend:
                r.efficiency = r.trials_per_s / (r.workers * base)
                r.of_ideal = r.trials_per_s * SLEEP / r.workers
    if "ray" in backends:
        import ray as ray_module

        ray_module.shutdown()
    return rows


def format_throughput(rows: list[ThroughputRow]) -> str:
    header = ["backend", "workers", "trials/run", "trials/s", "ideal trials/s", "efficiency",
              "of ideal", f">= {EFFICIENCY_TARGET:g} at 2"]
    body = []
    for r in rows:
        verdict = "-"
        if r.workers == 2:
            verdict = "PASS" if r.efficiency >= EFFICIENCY_TARGET else "MISS"
        body.append([r.backend, str(r.workers), str(r.trials), f"{r.trials_per_s:.1f}",
                     f"{r.workers / SLEEP:.0f}", f"{r.efficiency:.2f}", f"{r.of_ideal:.2f}",
                     verdict])
    return markdown_table(header, body)


# ---- storage overhead ---------------------------------------------------------------------------
def _instant(program: Any) -> float:
    return program.lr


def symbo_run(trials: int, url: str | None, seed: int) -> float:
    """Seconds for ``trials`` instant trials; a SQLite study is reopened and checked."""
    gc.collect()
    start = time.perf_counter()
    study = sb.tune(_instant, sb_space(), sb.algorithms.Random(seed=seed), num_trials=trials,
                    storage=url, objectives=("min",))
    elapsed = time.perf_counter() - start
    if url is not None:
        study = sb.load_study(url, study.name, space=sb_space())
    completed = sum(t.status == "completed" for t in study.trials)
    if completed != trials:
        raise SystemExit(f"scale_bench: symbo stored {completed} completed trials of {trials}")
    return elapsed


def optuna_run(trials: int, url: str | None, seed: int) -> float:
    """Seconds for ``trials`` instant Optuna trials; a SQLite study is reopened and checked."""
    gc.collect()

    def objective(trial: optuna.Trial) -> float:
        return suggest_reference(trial)["lr"]

    start = time.perf_counter()
    storage = optuna.storages.RDBStorage(url) if url is not None else None
    study = optuna.create_study(direction="minimize", storage=storage,
                                sampler=optuna.samplers.RandomSampler(seed=seed))
    study.optimize(objective, n_trials=trials)
    elapsed = time.perf_counter() - start
    if url is not None:
        study = optuna.load_study(study_name=study.study_name,
                                  storage=optuna.storages.RDBStorage(url))
    complete = optuna.trial.TrialState.COMPLETE
    completed = len(study.get_trials(deepcopy=False, states=(complete,)))
    if completed != trials:
        raise SystemExit(f"scale_bench: Optuna stored {completed} completed trials of {trials}")
    return elapsed


@dataclass
class StorageRow:
    library: str
    where: str  # "memory" or the directory of the SQLite file
    us_per_trial: float
    runs: list[float]


def run_storage(trials: int, repeat: int, slow_repeat: int, dirs: list[str]) -> list[StorageRow]:
    rows: list[StorageRow] = []
    seed = 0

    def measure(library: str, where: str, fn: Callable[[str | None, int], float], n: int,
                url: str | None = None, folder: str | None = None) -> None:
        nonlocal seed
        times = []
        for _ in range(n):
            if folder is not None:  # a fresh file for every run
                run_dir = tempfile.mkdtemp(dir=folder, prefix="scale_bench_")
                url = f"sqlite:///{os.path.join(run_dir, library.lower() + '.db')}"
            try:
                times.append(fn(url, seed) / trials * 1e6)
            finally:
                if folder is not None:
                    shutil.rmtree(run_dir, ignore_errors=True)
            seed += 1
        rows.append(StorageRow(library, where, statistics.median(times), times))
        print(f"  {library:6} {where:22} {fmt_us(statistics.median(times)):>9} µs/trial "
              f"(runs: {', '.join(fmt_us(t) for t in times)})", flush=True)

    measure("symbo", "memory", lambda url, s: symbo_run(trials, url, s), repeat)
    measure("Optuna", "memory", lambda url, s: optuna_run(trials, url, s), repeat)
    for folder in dirs:
        measure("symbo", folder, lambda url, s: symbo_run(trials, url, s), repeat, folder=folder)
        measure("Optuna", folder, lambda url, s: optuna_run(trials, url, s), slow_repeat,
                folder=folder)
    return rows


def _fs_type(folder: str) -> str:
    """The file system type of ``folder`` from /proc/mounts (Linux), or '?'."""
    try:
        with open("/proc/mounts", encoding="utf-8") as f:
            mounts = [line.split()[1:3] for line in f]
    except OSError:
        return "?"
    path = os.path.realpath(folder)
    best = max((m for m in mounts if path == m[0] or path.startswith(m[0].rstrip("/") + "/")),
               key=lambda m: len(m[0]), default=None)
    return best[1] if best else "?"


def format_storage(rows: list[StorageRow], dirs: list[str]) -> str:
    memory = {r.library: r.us_per_trial for r in rows if r.where == "memory"}
    header = ["SQLite file in", "symbo memory", "symbo SQLite", "symbo overhead",
              "Optuna memory", "Optuna SQLite", "Optuna overhead", "symbo/Optuna overhead",
              f"<= {STORAGE_TARGET:g}x"]
    body = []
    for folder in dirs:
        sqlite = {r.library: r.us_per_trial for r in rows if r.where == folder}
        s_over = sqlite["symbo"] - memory["symbo"]
        o_over = sqlite["Optuna"] - memory["Optuna"]
        ratio = s_over / o_over
        body.append([f"{folder} ({_fs_type(folder)})", fmt_us(memory["symbo"]),
                     fmt_us(sqlite["symbo"]), fmt_us(s_over), fmt_us(memory["Optuna"]),
                     fmt_us(sqlite["Optuna"]), fmt_us(o_over), f"{ratio:.4f}x",
                     "PASS" if ratio <= STORAGE_TARGET else "MISS"])
    return markdown_table(header, body)


def storage_misses(rows: list[StorageRow], dirs: list[str]) -> int:
    memory = {r.library: r.us_per_trial for r in rows if r.where == "memory"}
    misses = 0
    for folder in dirs:
        sqlite = {r.library: r.us_per_trial for r in rows if r.where == folder}
        s_over = sqlite["symbo"] - memory["symbo"]
        o_over = sqlite["Optuna"] - memory["Optuna"]
        misses += s_over > STORAGE_TARGET * o_over
    return misses


# ---- main ---------------------------------------------------------------------------------------
def default_dirs() -> list[str]:
    dirs = [tempfile.gettempdir()]
    if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK):
        dirs.append("/dev/shm")
    return dirs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("throughput", "storage", "all"), default="all")
    parser.add_argument("--trials-per-worker", type=int, default=40,
                        help="trials per worker in a throughput run (default 40: about 2 s)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (median)")
    parser.add_argument("--storage-trials", type=int, default=1000)
    parser.add_argument("--slow-repeat", type=int, default=1,
                        help="runs of Optuna on SQLite (a minute or more each)")
    parser.add_argument("--dirs", nargs="+", default=None,
                        help="folders for the SQLite files (default: the temporary directory, "
                             "and /dev/shm when it exists)")
    parser.add_argument("--no-ray", action="store_true", help="leave out the Ray rows")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON here")
    args = parser.parse_args(argv)
    dirs = args.dirs or default_dirs()

    peers = {"optuna": optuna.__version__}
    try:
        from importlib import metadata

        peers["ray"] = metadata.version("ray")
    except Exception:  # noqa: BLE001 - Ray is optional
        peers["ray"] = "not installed"
    env = environment(**peers)
    env["space"] = f"Model of {NUM_BLOCKS} Blocks, {NUM_DECISIONS} decisions"
    for key, value in env.items():
        print(f"{key + ':':10} {value}")
    print(flush=True)
    started = time.perf_counter()
    out: dict[str, Any] = {"environment": env}
    misses = 0

    if args.part in ("throughput", "all"):
        print(f"Throughput: trials sleep {SLEEP * 1000:g} ms; {args.trials_per_worker} trials "
              f"per worker per run; median of {args.repeat} runs", flush=True)
        rows = run_throughput(args.trials_per_worker, args.repeat, not args.no_ray)
        print()
        print(format_throughput(rows))
        misses += sum(r.workers == 2 and r.efficiency < EFFICIENCY_TARGET for r in rows)
        out["throughput"] = [asdict(r) for r in rows]
        print(flush=True)

    if args.part in ("storage", "all"):
        print(f"Storage: {args.storage_trials} instant trials, random search; median of "
              f"{args.repeat} runs ({args.slow_repeat} for Optuna on SQLite)", flush=True)
        srows = run_storage(args.storage_trials, args.repeat, args.slow_repeat, dirs)
        print("\nµs per trial; overhead = SQLite - memory\n")
        print(format_storage(srows, dirs))
        misses += storage_misses(srows, dirs)
        out["storage"] = [asdict(r) for r in srows]

    return finish(misses, started, out, args.json)


if __name__ == "__main__":
    sys.exit(main())
