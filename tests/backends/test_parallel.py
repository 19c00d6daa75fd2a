"""Parallel execution: worker processes (workers=N), and N processes sharing one SQLite study."""

from __future__ import annotations

import json
import math
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

import symbo as sb
from symbo.algorithms import ASHA, Grid, MedianStopping, Random

ROOT = Path(__file__).resolve().parents[2]


def _space() -> sb.Dict:
    return sb.Dict(x=sb.int_range(0, 99, name="x"), k=sb.one_of([1, 2, 3], name="k"))


# ---- results -----------------------------------------------------------------------------------
@pytest.mark.parametrize("workers", [2, 3])
def test_workers_evaluate_every_trial_correctly(workers: int) -> None:
    space = sb.Dict(a=sb.one_of([1, 2, 3]), b=sb.int_range(0, 4))
    study = sb.tune(lambda p: p.a * 10 + p.b, space, Grid(), num_trials=None, workers=workers)
    trials = study.trials
    assert [t.id for t in trials] == list(range(15))
    assert all(t.status == "completed" for t in trials)
    assert sorted((t.program.a, t.program.b) for t in trials) == [
        (a, b) for a in (1, 2, 3) for b in range(5)]
    assert all(t.reward == t.program.a * 10 + t.program.b for t in trials)
    assert study.best_trial.reward == 34.0
    assert all(t.worker.endswith(f":{os.getpid()}") for t in trials)  # the coordinator's id


def test_workers_stop_at_the_budget_and_tell_the_algorithm() -> None:
    algo = Random(seed=5)
    study = sb.tune(lambda p: p.x * p.k, _space(), algo, num_trials=25, workers=3,
                    storage="memory:")
    trials = study.trials
    assert [t.id for t in trials] == list(range(25))
    assert all(t.status == "completed" and t.reward == t.program.x * t.program.k for t in trials)
    assert sorted(r for _, r in algo.history) == sorted(t.reward for t in trials)
    assert algo.num_proposed == 25


def test_workers_run_in_other_processes_at_the_same_time(tmp_path: Path) -> None:
    """A sanity check of parallelism (states, no timing): the objective runs in several worker
    processes, and trials 0 and 1 run at once: each waits until the other has started (run
    one after the other, neither would see the other start while it runs)."""
    def objective(p: sb.Dict, feedback: sb.Feedback) -> tuple[float, float]:
        (tmp_path / f"started-{feedback.trial_id}").touch()
        other = {0: 1, 1: 0}.get(feedback.trial_id)
        deadline = time.monotonic() + 60  # (a bound on the wait, not a measure)
        while other is not None and not (tmp_path / f"started-{other}").exists() \
                and time.monotonic() < deadline:
            time.sleep(0.01)
        seen = other is not None and (tmp_path / f"started-{other}").exists()
        return float(os.getpid()), float(seen)  # through the reward of a 2-objective study

    study = sb.tune(objective, _space(), Random(seed=0), num_trials=9, workers=3,
                    objectives=("max", "max"))
    pids = {int(t.reward[0]) for t in study.trials}
    assert os.getpid() not in pids
    assert len(pids) >= 2
    first, second = study.trials[:2]
    assert first.reward[1] == second.reward[1] == 1.0  # each saw the other running
    assert first.reward[0] != second.reward[0]


def test_closures_and_unpicklable_state_work_as_objectives() -> None:
    lock = threading.Lock()  # not picklable; fine with fork
    offsets = {1: 100, 2: 200, 3: 300}
    generator = (i for i in range(3))

    def make(scale: float):
        def objective(p: sb.Dict) -> float:
            with lock:
                return scale * p.x + offsets[p.k] + (generator is not None)
        return objective

    study = sb.tune(make(0.5), _space(), Random(seed=1), num_trials=12, workers=2)
    assert all(t.reward == 0.5 * t.program.x + offsets[t.program.k] + 1 for t in study.trials)
    study = sb.tune(lambda p: -p.x, _space(), Random(seed=1), num_trials=6, workers=2)
    assert all(t.reward == -t.program.x for t in study.trials)


def test_workers_record_to_sqlite_and_the_study_reloads(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'study.db'}"
    sb.tune(lambda p: p.x + p.k, _space(), Random(seed=2), num_trials=14, workers=3, storage=url,
            study_name="par")
    loaded = sb.load_study(url, "par")
    assert [t.id for t in loaded.trials] == list(range(14))
    assert all(t.status == "completed" and t.reward == t.program.x + t.program.k
               for t in loaded.trials)


# ---- failures ----------------------------------------------------------------------------------
def test_a_raising_objective_fails_only_its_trials() -> None:
    def objective(p: sb.Dict) -> float:
        if p.k == 2:
            raise ValueError(f"no k=2 (x={p.x})")
        return float(p.x)

    study = sb.tune(objective, _space(), Random(seed=3), num_trials=20, workers=2)
    trials = study.trials
    assert len(trials) == 20
    failed = [t for t in trials if t.status == "failed"]
    assert failed and all(t.program.k == 2 for t in failed)
    assert all(f"ValueError: no k=2 (x={t.program.x})" in t.error for t in failed)
    assert all("Traceback" in t.error for t in failed)
    assert all(t.status == "completed" and t.reward == t.program.x
               for t in trials if t.program.k != 2)


def test_a_worker_that_exits_or_is_killed_fails_only_its_trial() -> None:
    def objective(p: sb.Dict, feedback: sb.Feedback) -> float:
        if feedback.trial_id == 3:
            os._exit(3)
        if feedback.trial_id == 7:
            os.kill(os.getpid(), signal.SIGKILL)
        return float(p.x)

    study = sb.tune(objective, _space(), Random(seed=4), num_trials=12, workers=2)
    trials = study.trials
    assert [t.id for t in trials] == list(range(12))
    assert [t.id for t in trials if t.status == "failed"] == [3, 7]
    assert "worker process died (exit code 3)" in trials[3].error
    assert "worker process died (exit code -9)" in trials[7].error
    assert all(t.reward == t.program.x for t in trials if t.status == "completed")


def test_a_trial_past_its_timeout_is_killed_and_the_search_goes_on(tmp_path: Path) -> None:
    def objective(p: sb.Dict, feedback: sb.Feedback) -> float:
        if feedback.trial_id in (1, 4):
            time.sleep(60)
            (tmp_path / f"woke-{feedback.trial_id}").touch()  # (never: it is killed first)
        return float(p.x)

    # (a timeout no instant trial reaches on a busy machine, the fork included)
    study = sb.tune(objective, _space(), Random(seed=5), num_trials=8, workers=2, timeout=3.0)
    assert list(tmp_path.glob("woke-*")) == []  # killed, not waited for
    trials = study.trials
    assert [t.id for t in trials] == list(range(8))
    assert [t.id for t in trials if t.status == "failed"] == [1, 4]
    assert all("ran past its timeout of 3 s" in trials[i].error for i in (1, 4))
    assert all(t.status == "completed" for t in trials if t.id not in (1, 4))


def test_timeout_with_one_worker_runs_trials_in_a_process() -> None:
    def objective(p: sb.Dict) -> float:
        if p.k == 3:
            while True:  # busy, not sleeping
                pass
        return float(p.k)

    # (a timeout no instant trial reaches on a busy machine, the fork included)
    study = sb.tune(objective, _space(), Random(seed=6), num_trials=6, timeout=3.0)
    trials = study.trials
    assert len(trials) == 6 and any(t.program.k == 3 for t in trials)
    for t in trials:
        if t.program.k == 3:
            assert t.status == "failed" and "timeout" in t.error
        else:
            assert t.status == "completed" and t.reward == t.program.k


@pytest.mark.parametrize("bad", [math.nan, "high", None])
def test_bad_rewards_from_a_worker_fail_the_trial(bad: object) -> None:
    study = sb.tune(lambda p: bad if p.k == 1 else 1.0, _space(), Random(seed=7), num_trials=10,
                    workers=2)
    for t in study.trials:
        if t.program.k == 1:
            assert t.status == "failed" and t.error
        else:
            assert t.status == "completed"


# ---- feedback from inside workers --------------------------------------------------------------
def _curve(p: sb.Dict, feedback: sb.Feedback) -> float | None:
    quality = p.x / 100
    for step in range(1, 10):
        feedback.report(step, quality * step)
        if feedback.should_stop():
            return None
    return quality * 9


@pytest.mark.parametrize("policy", [MedianStopping(min_trials=3), ASHA(min_resource=1,
                                                                        reduction_factor=2)])
def test_reports_and_early_stopping_work_from_worker_processes(policy: object) -> None:
    study = sb.tune(_curve, _space(), Random(seed=8), num_trials=24, workers=3,
                    early_stopping=policy)
    trials = study.trials
    assert len(trials) == 24
    stopped = [t for t in trials if t.status == "stopped"]
    completed = [t for t in trials if t.status == "completed"]
    assert stopped and completed
    for t in trials:
        q = t.program.x / 100
        assert t.reports == [(s, q * s) for s in range(1, len(t.reports) + 1)]
    for t in stopped:  # stopped at the step where the policy said so
        assert t.reward == t.reports[-1][1]
    assert any(len(t.reports) < 9 for t in stopped)
    for t in completed:
        assert len(t.reports) == 9 and t.reward == pytest.approx(t.program.x / 100 * 9)


def test_feedback_calls_inside_a_worker() -> None:
    def objective(p: sb.Dict, feedback: sb.Feedback) -> float | None:
        feedback.report(1, 0.5)
        if p.k == 1:
            feedback.skip("k=1 is not allowed")
        elif p.k == 2:
            feedback.report(1, 0.7)  # steps must increase: raises inside the worker
        else:
            feedback.done(float(p.x))
        return None

    study = sb.tune(objective, _space(), Random(seed=9), num_trials=15, workers=2)
    for t in study.trials:
        if t.program.k == 1:
            assert t.status == "failed" and "skipped: k=1 is not allowed" in t.error
        elif t.program.k == 2:
            assert t.status == "failed" and "report steps must increase" in t.error
            assert t.reports == [(1, 0.5)]
        else:
            assert (t.status, t.reward, t.reports) == ("completed", float(t.program.x), [(1, 0.5)])


# ---- several processes, one SQLite study -------------------------------------------------------
CONCURRENT = '''
"""One of several processes searching one study: python script.py URL N SEED OUT BARRIER K."""
import json
import os
import sys
import time

import symbo as sb
from symbo.algorithms import RegularizedEvolution
from symbo.backends.storage import worker_id


class Recording(RegularizedEvolution, type_name="concurrency.Recording"):
    """Logs, for every proposal, whether the DNA was among the results it had heard of."""

    def _setup(self, spec):
        super()._setup(spec)
        self._log = []

    def propose(self):
        known = {dna for dna, _ in self.history}
        dna = super().propose()
        self._log.append([dna.to_numbers(), dna in known, len(known)])
        return dna


def barrier(folder, name, count):
    open(os.path.join(folder, name + "." + str(os.getpid())), "w").close()
    while sum(f.startswith(name + ".") for f in os.listdir(folder)) < count:
        time.sleep(0.002)


def objective(program):
    time.sleep(0.01)
    return float(sum(program.bits))


url, n, seed, out, folder, count = sys.argv[1:7]
space = sb.Dict(bits=sb.List([sb.one_of([0, 1]) for _ in range(20)]))
algo = Recording(population_size=10, tournament_size=3, seed=int(seed))
barrier(folder, "start", int(count))
study = sb.tune(objective, space, algo, num_trials=int(n), storage=url, study_name="shared",
                load_if_exists=True)
barrier(folder, "done", int(count))
json.dump({
    "worker": worker_id(),
    "history": [[dna.to_numbers(), reward] for dna, reward in algo.history],
    "log": algo._log,
    "view": [[t.id, t.status] for t in study.trials],
}, open(out, "w"))
'''


def test_three_processes_share_one_sqlite_study(tmp_path: Path) -> None:
    script = tmp_path / "concurrent.py"
    script.write_text(CONCURRENT)
    db = tmp_path / "shared.db"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    n, count = 60, 3
    procs = [subprocess.Popen([sys.executable, str(script), f"sqlite:///{db}", str(n), str(seed),
                               str(tmp_path / f"out{seed}.json"), str(tmp_path), str(count)],
                              env=env, stderr=subprocess.PIPE)
             for seed in range(count)]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err.decode()[-3000:]

    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT number, status, reward, dna, worker FROM trials "
                            "ORDER BY number").fetchall()
    assert [r[0] for r in rows] == list(range(n))  # exactly n, none lost, none twice
    assert all(r[1] == "completed" for r in rows)
    by_worker: dict[str, int] = {}
    for r in rows:
        by_worker[r[4]] = by_worker.get(r[4], 0) + 1
    outs = [json.loads((tmp_path / f"out{seed}.json").read_text()) for seed in range(count)]
    workers = [o["worker"] for o in outs]
    assert sorted(by_worker) == sorted(workers)  # all three recorded trials
    assert sum(by_worker.values()) == n

    workers_of: dict[str, set[str]] = {}  # DNA -> the workers that ran it
    for r in rows:
        workers_of.setdefault(json.dumps(json.loads(r[3])[1]), set()).add(r[4])
    for out in outs:
        mine = out["worker"]
        # every process ends with the full record, every trial completed
        assert out["view"] == [[i, "completed"] for i in range(n)]
        # its algorithm heard of the others' results, not only its own
        heard = [workers_of.get(json.dumps([[v, []] for v in numbers]))
                 for numbers, _ in out["history"]]
        assert None not in heard  # only results of the study
        assert any(mine not in w for w in heard), f"{mine} heard only its own results"  # type: ignore[operator]
        assert len(out["history"]) > by_worker[mine]
        # and never proposed a DNA whose result it had already heard (its own or another's)
        assert not any(seen for _numbers, seen, _known in out["log"])
        assert len(out["log"]) >= by_worker[mine]
    # results are heard once: no DNA more often than the study ran it
    runs = Counter(json.dumps(json.loads(r[3])[1]) for r in rows)
    for out in outs:
        heard_count = Counter(json.dumps([[v, []] for v in numbers]) for numbers, _ in out["history"])
        assert all(count <= runs[key] for key, count in heard_count.items())


# ---- kill -9 of the coordinating process of workers -----------------------------------------
PARALLEL_KILL = '''
import sys
import time

import symbo as sb


def objective(program, feedback):
    if feedback.trial_id >= 6:
        time.sleep(600)
    return float(program.x)


sb.tune(objective, sb.Dict(x=sb.int_range(0, 10 ** 9)), sb.algorithms.Random(seed=0),
        num_trials=12, workers=2, storage=sys.argv[1], study_name="par", load_if_exists=True)
'''


def test_kill_of_a_process_with_workers_then_resume(tmp_path: Path) -> None:
    script = tmp_path / "par.py"
    script.write_text(PARALLEL_KILL)
    db = tmp_path / "par.db"
    url = f"sqlite:///{db}"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.Popen([sys.executable, str(script), url], env=env,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 30
    running: list[int] = []
    while time.monotonic() < deadline and running != [6, 7]:
        time.sleep(0.01)
        if db.exists():
            try:
                with sqlite3.connect(db) as conn:
                    running = [r[0] for r in conn.execute(
                        "SELECT number FROM trials WHERE status = 'running'")]
            except sqlite3.OperationalError:
                running = []
    os.killpg(proc.pid, signal.SIGKILL)  # the coordinator and its workers, all at once
    proc.wait()
    assert running == [6, 7]
    study = sb.load_study(url, "par")
    before = {t.id: (t.reward, t.dna) for t in study.trials if t.status == "completed"}
    assert sorted(before) == list(range(6))

    study.resume(lambda p: float(p.x), workers=2)
    trials = study.trials
    assert [t.id for t in trials] == list(range(12))
    assert all(t.status == "completed" and t.reward == t.program.x for t in trials)
    assert {t.id: (t.reward, t.dna) for t in trials if t.id in before} == before
    assert len({t.dna for t in trials}) == 12
