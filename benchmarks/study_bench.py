"""Studies you can trust, measured: resume time of a large study, per-trial SQLite overhead
beside Optuna's, coordinator kills that must leave no worker behind, and kills inside
transactions that must lose and duplicate no completed trial.

Run (one thread, niced; each part alone with ``--only``)::

    nice -n 10 python benchmarks/study_bench.py [--only resume,overhead,orphans,transactions]
        [--trials 10000] [--repeat 3] [--quick]

``resume`` builds a study of ``--trials`` completed trials in SQLite (RegularizedEvolution, a
trivial objective), then times, in a fresh process, ``sb.load_study(...).resume(objective,
num_trials=n + 1)``: opening the study, restoring the algorithm from the record and running one
trial (the median of ``--repeat`` resumes: wall-clock seconds, and the CPU seconds of that
process, the steadier figure on a loaded machine). Point ``--code`` at another checkout to time
its code the same way (the figure "before" in BENCHMARKS.md used the commit before issue 10).
``overhead`` times 1,000 trivial trials with ``sb.tune`` and with Optuna's ``study.optimize``
(RandomSampler), in memory and in SQLite. ``orphans`` starts a search with two worker processes
(each starting a child of its own), kills the coordinator (SIGKILL, SIGTERM alternately) 20
times at random moments, and counts the processes still alive 10 s later. ``transactions``
kills a search of instant trials 20 times at random moments (most fall inside a write) and
checks the record.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

BUILD = '''
import sys, time
import symbo as sb
url, n = sys.argv[1], int(sys.argv[2])
space = sb.Dict(bits=sb.List([sb.one_of([0, 1]) for _ in range(16)]),
                lr=sb.float_range(1e-4, 1e-1, scale="log"))
algo = sb.algorithms.RegularizedEvolution(population_size=50, tournament_size=10, seed=0)
start, cpu = time.perf_counter(), time.process_time()
sb.tune(lambda p: float(sum(p.bits)) + p.lr, space, algo, num_trials=n, storage=url, study_name="big")
print(time.perf_counter() - start, time.process_time() - cpu)
'''

RESUME = '''
import sys, time
import symbo as sb
imported, cpu = time.perf_counter(), time.process_time()
url, n = sys.argv[1], int(sys.argv[2])
study = sb.load_study(url, "big")
study.resume(lambda p: float(sum(p.bits)) + p.lr, num_trials=n + 1)
end, cpu_end = time.perf_counter(), time.process_time()
assert len(study.trials) == n + 1
print(end - imported, cpu_end - cpu, sb.__file__)
'''


def _env(code: Path) -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=str(code), OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")


def resume(trials: int, code: Path, repeat: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/big.db"
        # (run in the temporary folder: ``python -c`` puts the working directory first on
        # sys.path, and a checkout there would shadow ``--code``)
        built = subprocess.run([sys.executable, "-c", BUILD, url, str(trials)], env=_env(code),
                               capture_output=True, text=True, check=True, cwd=folder)
        times, cpu = [], []
        for _ in range(repeat):  # each resume adds a trial: the study grows by `repeat`
            done = subprocess.run([sys.executable, "-c", RESUME, url, str(trials + len(times))],
                                  env=_env(code), capture_output=True, text=True, cwd=folder)
            if done.returncode != 0:
                raise SystemExit(done.stderr[-3000:])
            wall, used, where = done.stdout.strip().splitlines()[-1].split()
            if not Path(where).resolve().is_relative_to(code.resolve()):
                raise SystemExit(f"the resume imported symbo from {where}, not from {code}")
            times.append(float(wall))
            cpu.append(float(used))
        build_s, build_cpu_s = built.stdout.strip().splitlines()[-1].split()
        conn = sqlite3.connect(f"{folder}/big.db")
        try:
            (state,), = conn.execute("SELECT algorithm_state FROM studies").fetchall()
        finally:
            conn.close()
        return {"build_s": float(build_s), "build_cpu_s": float(build_cpu_s),
                "saved_state_bytes": len(state or ""),
                "resume_s": statistics.median(times), "resume_cpu_s": statistics.median(cpu)}


def overhead(n: int) -> dict[str, float]:
    import optuna

    import symbo as sb

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    out = {}
    space = sb.Dict(x=sb.float_range(0.0, 1.0), y=sb.float_range(0.0, 1.0))
    with tempfile.TemporaryDirectory() as folder:
        for where, url in (("memory", None), ("sqlite", f"sqlite:///{folder}/sb.db")):
            start = time.perf_counter()
            sb.tune(lambda p: p.x + p.y, space, sb.algorithms.Random(seed=0), num_trials=n,
                    storage=url, study_name="o")
            out[f"symbo_{where}_ms"] = (time.perf_counter() - start) / n * 1e3

        def objective(trial: optuna.Trial) -> float:
            return trial.suggest_float("x", 0.0, 1.0) + trial.suggest_float("y", 0.0, 1.0)

        for where, url in (("memory", None), ("sqlite", f"sqlite:///{folder}/optuna.db")):
            study = optuna.create_study(storage=url, sampler=optuna.samplers.RandomSampler(seed=0))
            start = time.perf_counter()
            study.optimize(objective, n_trials=n)
            out[f"optuna_{where}_ms"] = (time.perf_counter() - start) / n * 1e3
    return out


ORPHANS = '''
import os, subprocess, sys, time
import symbo as sb

def objective(program, feedback):
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    with open(sys.argv[2], "a") as f:
        f.write(f"{os.getpid()} {child.pid}\\n")
    time.sleep(600)
    return 1.0

sb.tune(objective, sb.Dict(x=sb.int_range(0, 10 ** 6)), sb.algorithms.Random(seed=0),
        num_trials=10 ** 6, workers=2, storage=sys.argv[1], study_name="s", load_if_exists=True)
'''


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().rsplit(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return False


def orphans(kills: int, code: Path, seed: int = 0) -> dict[str, int]:
    rng = random.Random(seed)
    left = started = 0
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "coordinator.py"
        script.write_text(ORPHANS)
        for i in range(kills):
            pids = Path(folder) / f"pids{i}.txt"
            proc = subprocess.Popen([sys.executable, str(script), f"sqlite:///{folder}/s.db",
                                     str(pids)], env=_env(code), stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and (not pids.exists() or
                                                  len(pids.read_text().split()) < 4):
                time.sleep(0.01)
            time.sleep(rng.uniform(0.0, 0.5))
            os.kill(proc.pid, signal.SIGKILL if i % 2 == 0 else signal.SIGTERM)
            proc.wait()
            seen = [int(p) for p in pids.read_text().split()] if pids.exists() else []
            started += len(seen)
            time.sleep(10)
            alive = [p for p in seen if _alive(p)]
            left += len(alive)
            for p in alive:  # never leave them behind, whatever the code measured did
                os.kill(p, signal.SIGKILL)
    return {"kills": kills, "processes_started": started, "left_after_10s": left}


TRANSACTIONS = '''
import sys
import symbo as sb
space = sb.Dict(bits=sb.List([sb.one_of([0, 1]) for _ in range(20)]))
def reward(p):
    return float(sum(b << i for i, b in enumerate(p.bits)))
sb.tune(reward, space, sb.algorithms.RegularizedEvolution(population_size=30, seed=1),
        num_trials=int(sys.argv[2]), storage=sys.argv[1], study_name="t", load_if_exists=True)
'''


def _rows(db: Path) -> list[tuple]:
    if not db.exists():
        return []
    conn = sqlite3.connect(db, timeout=60)
    try:
        return conn.execute("SELECT number, status, reward, dna FROM trials ORDER BY number").fetchall()
    except sqlite3.OperationalError:
        return []
    finally:
        conn.close()


def transactions(kills: int, code: Path, n: int = 50_000, seed: int = 0) -> dict[str, int]:
    rng = random.Random(seed)
    completed: dict[int, tuple] = {}
    lost = gaps = mid_search = 0
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "search.py"
        script.write_text(TRANSACTIONS)
        db = Path(folder) / "t.db"
        for _ in range(kills):
            proc = subprocess.Popen([sys.executable, str(script), f"sqlite:///{db}", str(n)],
                                    env=_env(code), stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(1.0, 2.5))  # start-up, restore, then instant trials: writes
            mid_search += proc.poll() is None
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            rows = _rows(db)
            gaps += [r[0] for r in rows] != list(range(len(rows)))
            now = {r[0]: (r[2], r[3]) for r in rows if r[1] == "completed"}
            lost += sum(1 for k, v in completed.items() if now.get(k) != v)
            completed.update(now)
        target = len(_rows(db)) + 100  # resume to a little past where the kills left it
        done = subprocess.run([sys.executable, str(script), f"sqlite:///{db}", str(target)],
                              env=_env(code), capture_output=True, text=True)
        rows = _rows(db)
        final = {r[0]: (r[2], r[3]) for r in rows if r[1] == "completed"}
        lost += sum(1 for k, v in completed.items() if final.get(k) != v)
        dnas = [r[3] for r in rows]
    return {"kills": kills, "kills_mid_search": mid_search,
            "completed_before_the_end": len(completed), "lost": lost,
            "numbering_gaps": gaps, "final_trials": len(rows), "final_ok": done.returncode == 0,
            "duplicated_dna": len(dnas) - len(set(dnas))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="resume,overhead,orphans,transactions")
    parser.add_argument("--trials", type=int, default=10_000)
    parser.add_argument("--code", type=Path, default=ROOT, help="the checkout whose symbo runs")
    parser.add_argument("--quick", action="store_true", help="fewer repeats and kills")
    parser.add_argument("--repeat", type=int, default=3, help="resumes timed (the median)")
    args = parser.parse_args()
    parts = args.only.split(",")
    results: dict[str, object] = {"code": str(args.code)}
    if "resume" in parts:
        results["resume"] = resume(args.trials, args.code, 1 if args.quick else args.repeat)
    if "overhead" in parts:
        results["overhead"] = overhead(200 if args.quick else 1000)
    if "orphans" in parts:
        results["orphans"] = orphans(4 if args.quick else 20, args.code)
    if "transactions" in parts:
        results["transactions"] = transactions(4 if args.quick else 20, args.code)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
