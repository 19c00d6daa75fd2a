"""Crash and resume: kill -9 the process running a SQLite study, resume it, check the record.

The search runs in a separate process (a small script written to ``tmp_path``), which the test
kills with SIGKILL once the database shows it got far enough; the study is then resumed, in this
process (``study.resume``) or by running the script again (``load_if_exists=True``).
"""

from __future__ import annotations

import importlib.util
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import symbo as sb
from symbo.backends.storage import dna_to_json, open_storage

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = '''
"""A search that the tests kill and resume: script.py URL NAME N HANG_AT SLEEP DEAD ALGO [TOKENS].

With TOKENS (a folder), trial n runs only once the file TOKENS/n exists: the test decides how
far the search gets, so it can never run ahead of the test on a busy machine."""
import os
import sys
import time

import symbo as sb

NUM_BITS = 12


def make_space():
    return sb.Dict(bits=sb.List([sb.one_of([0, 1]) for _ in range(NUM_BITS)]),
                   scale=sb.one_of([1, 2], name="scale"))


def reward(program):
    # distinct for every point of the space, so a reward identifies its DNA
    return float(sum(b << i for i, b in enumerate(program.bits)) * program.scale)


def make_objective(hang_at=-1, sleep=0.005, tokens=None):
    def objective(program, feedback):
        if feedback.trial_id == hang_at:
            time.sleep(600)  # killed here
        if tokens is not None:
            while not os.path.exists(os.path.join(tokens, str(feedback.trial_id))):
                time.sleep(0.001)
        time.sleep(sleep)
        return reward(program)
    return objective


def make_algorithm(kind="evolution"):
    if kind == "random":
        return sb.algorithms.Random(seed=7)
    return sb.algorithms.RegularizedEvolution(population_size=40, tournament_size=5, seed=7)


if __name__ == "__main__":
    url, name, n, hang_at, sleep, dead, kind = sys.argv[1:8]
    tokens = sys.argv[8] if len(sys.argv) > 8 else None
    sb.tune(make_objective(int(hang_at), float(sleep), tokens), make_space(), make_algorithm(kind),
            num_trials=int(n), storage=url, study_name=name, load_if_exists=True,
            dead_trials=dead)
    print("finished")
'''


# ---- helpers -----------------------------------------------------------------------------------
@pytest.fixture
def script(tmp_path: Path) -> tuple[Path, ModuleType]:
    path = tmp_path / "search_script.py"
    path.write_text(SCRIPT)
    spec = importlib.util.spec_from_file_location("search_script", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return path, module


def _start(path: Path, db: Path, n: int, *, hang_at: int = -1, sleep: float = 0.005,
           dead: str = "retry", name: str = "crashy", algo: str = "evolution",
           tokens: Path | None = None) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    return subprocess.Popen(
        [sys.executable, str(path), f"sqlite:///{db}", name, str(n), str(hang_at), str(sleep), dead,
         algo, *([str(tokens)] if tokens is not None else [])],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _rows(db: Path) -> list[tuple[int, str, Any, Any, str | None]]:
    """(number, status, reward, dna, worker) of every trial, read with a fresh connection."""
    if not db.exists():
        return []
    conn = sqlite3.connect(db, timeout=30)
    try:
        rows = conn.execute("SELECT number, status, reward, dna, worker FROM trials "
                            "ORDER BY number").fetchall()
    except sqlite3.OperationalError:  # the tables are not created yet
        return []
    finally:
        conn.close()
    return [(n, s, None if r is None else json.loads(r), json.loads(d), w) for n, s, r, d, w in rows]


def _wait_for(proc: subprocess.Popen, db: Path, until: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if until(_rows(db)):
            return
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"the search ended early (exit {proc.returncode}):\n{err.decode()[-3000:]}")
        time.sleep(0.002)
    proc.kill()
    proc.wait()
    pytest.fail(f"timed out waiting; the study has {_rows(db)}")


def _kill(proc: subprocess.Popen) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stdout.close()  # type: ignore[union-attr]
    proc.stderr.close()  # type: ignore[union-attr]
    assert proc.returncode == -signal.SIGKILL


def _completed(rows: list) -> dict[int, tuple]:
    return {n: (r, json.dumps(d)) for n, s, r, d, _w in rows if s == "completed"}


def _running_on(rows: list, number: int) -> bool:
    return any(n == number and s == "running" for n, s, *_ in rows)


# ---- single kills ------------------------------------------------------------------------------
def test_kill_mid_trial_then_resume_retries_the_running_trial(
        tmp_path: Path, script: tuple[Path, ModuleType]) -> None:
    path, mod = script
    db = tmp_path / "study.db"
    n, hang_at = 30, 12
    proc = _start(path, db, n, hang_at=hang_at)
    _wait_for(proc, db, lambda rows: _running_on(rows, hang_at))
    _kill(proc)

    before = _rows(db)
    assert [r[0] for r in before] == list(range(hang_at + 1))
    assert [r[1] for r in before] == ["completed"] * hang_at + ["running"]
    dead_worker = before[-1][4]
    kept = _completed(before)

    study = sb.load_study(f"sqlite:///{db}", "crashy")
    assert study.info.metadata["num_trials"] == n
    resumed = study.resume(mod.make_objective())
    assert resumed is study

    after = _rows(db)
    trials = study.trials
    assert [t.id for t in trials] == list(range(n))  # exactly n, numbered 0..n-1
    assert all(t.status == "completed" for t in trials)
    assert {k: v for k, v in _completed(after).items() if k in kept} == kept  # none lost
    # the trial that was running ran again, under its number, with its DNA, in this process
    again = trials[hang_at]
    assert json.dumps(dna_to_json(again.dna)) == json.dumps(before[-1][3])
    assert again.worker != dead_worker and again.worker.endswith(f":{os.getpid()}")
    assert again.reward == mod.reward(again.program)
    # the algorithm heard every result once, and proposed no DNA twice
    assert len(study.algorithm.history) == n
    assert len({t.dna for t in trials}) == n
    assert all(t.reward == mod.reward(t.program) for t in trials)


def test_kill_mid_trial_then_resume_with_dead_trials_fail(
        tmp_path: Path, script: tuple[Path, ModuleType]) -> None:
    path, mod = script
    db = tmp_path / "study.db"
    n, hang_at = 20, 6
    proc = _start(path, db, n, hang_at=hang_at)
    _wait_for(proc, db, lambda rows: _running_on(rows, hang_at))
    _kill(proc)
    kept = _completed(_rows(db))

    study = sb.load_study(f"sqlite:///{db}", "crashy").resume(mod.make_objective(),
                                                              dead_trials="fail")
    trials = study.trials
    assert [t.id for t in trials] == list(range(n))
    assert [t.id for t in trials if t.status != "completed"] == [hang_at]
    assert trials[hang_at].status == "failed"
    assert "worker died" in trials[hang_at].error
    assert trials[hang_at].reward is None
    assert {k: v for k, v in _completed(_rows(db)).items() if k in kept} == kept
    assert len({t.dna for t in trials}) == n  # the failed DNA is not proposed again either
    assert len(study.algorithm.history) == n - 1


def test_resume_by_running_the_script_again(tmp_path: Path,
                                            script: tuple[Path, ModuleType]) -> None:
    path, mod = script
    db = tmp_path / "study.db"
    n, hang_at = 16, 5
    proc = _start(path, db, n, hang_at=hang_at)
    _wait_for(proc, db, lambda rows: _running_on(rows, hang_at))
    _kill(proc)
    kept = _completed(_rows(db))

    again = _start(path, db, n)
    out, err = again.communicate(timeout=60)
    assert again.returncode == 0, err.decode()[-3000:]
    assert b"finished" in out
    rows = _rows(db)
    assert [r[0] for r in rows] == list(range(n))
    assert all(r[1] == "completed" for r in rows)
    assert {k: v for k, v in _completed(rows).items() if k in kept} == kept
    assert len({json.dumps(r[3]) for r in rows}) == n
    assert rows[hang_at][4].endswith(f":{again.pid}")
    study = sb.load_study(f"sqlite:///{db}", "crashy")
    assert all(t.reward == mod.reward(t.program) for t in study.trials)


def test_kill_before_any_trial_finished_still_resumes_to_the_budget(
        tmp_path: Path, script: tuple[Path, ModuleType]) -> None:
    path, mod = script
    db = tmp_path / "study.db"
    proc = _start(path, db, 8, hang_at=0)
    _wait_for(proc, db, lambda rows: _running_on(rows, 0))
    _kill(proc)
    study = sb.load_study(f"sqlite:///{db}", "crashy")
    assert study.info.metadata.get("num_trials") == 8  # the budget was recorded at the start
    study.resume(mod.make_objective())
    assert [(t.id, t.status) for t in study.trials] == [(i, "completed") for i in range(8)]


def test_the_algorithm_state_is_restored_from_the_record(
        tmp_path: Path, script: tuple[Path, ModuleType]) -> None:
    """An uninterrupted search and one resumed from a clean stop propose the same DNA."""
    _path, mod = script
    url = f"sqlite:///{tmp_path / 'study.db'}"
    whole = sb.tune(mod.make_objective(sleep=0), mod.make_space(), mod.make_algorithm(),
                    num_trials=60)
    sb.tune(mod.make_objective(sleep=0), mod.make_space(), mod.make_algorithm(), num_trials=45,
            storage=url, study_name="s")
    stored = open_storage(url).load_algorithm_state(sb.load_study(url, "s").info.id)
    # beside the trials, only what they cannot give back: small, bounded, marked with the
    # number of trials it goes with
    assert stored["trials"] == 45 and stored["state"]["rng"] is not None
    assert set(stored["state"]) == {"rng"} and len(json.dumps(stored)) < 20_000
    resumed = sb.load_study(url, "s").resume(mod.make_objective(sleep=0), num_trials=60)
    assert [t.dna for t in resumed.trials] == [t.dna for t in whole.trials]
    assert [t.reward for t in resumed.trials] == [t.reward for t in whole.trials]


def test_a_seeded_random_search_does_not_start_over_after_a_crash(
        tmp_path: Path, script: tuple[Path, ModuleType]) -> None:
    path, mod = script
    db = tmp_path / "study.db"
    n, hang_at = 16, 6
    proc = _start(path, db, n, hang_at=hang_at, algo="random")
    _wait_for(proc, db, lambda rows: _running_on(rows, hang_at))
    _kill(proc)
    study = sb.load_study(f"sqlite:///{db}", "crashy")
    assert isinstance(study.algorithm, sb.algorithms.Random) and study.algorithm.seed == 7
    study.resume(mod.make_objective())
    trials = study.trials
    assert [(t.id, t.status) for t in trials] == [(i, "completed") for i in range(n)]
    before = [t.dna for t in trials[:hang_at + 1]]
    after = [t.dna for t in trials[hang_at + 1:]]
    # starting the seed over would propose trials 0, 1, 2, ... again
    assert sum(dna in before for dna in after[:5]) <= 1


def test_stopped_trials_are_heard_again_after_a_resume(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'study.db'}"
    space = sb.Dict(q=sb.float_range(0.0, 1.0))

    def objective(p: sb.Dict, feedback: sb.Feedback) -> float | None:
        for step in range(1, 6):
            feedback.report(step, p.q * step)
            if feedback.should_stop():
                return None
        return p.q * 5

    def policy() -> sb.algorithms.MedianStopping:
        return sb.algorithms.MedianStopping(min_trials=2)

    first = sb.tune(objective, space, sb.algorithms.RegularizedEvolution(
        population_size=5, tournament_size=2, seed=0), num_trials=15, storage=url,
        study_name="s", early_stopping=policy())
    assert any(t.status == "stopped" for t in first.trials)
    study = sb.load_study(url, "s").resume(objective, num_trials=20, early_stopping=policy())
    heard = [t for t in study.trials if t.status in ("completed", "stopped")]
    assert len(study.trials) == 20
    assert len(study.algorithm.history) == len(heard)  # stopped trials' rewards included
    assert sorted(r for _, r in study.algorithm.history) == sorted(t.reward for t in heard)


def test_resume_needs_the_objective(tmp_path: Path, script: tuple[Path, ModuleType]) -> None:
    _path, mod = script
    url = f"sqlite:///{tmp_path / 'study.db'}"
    sb.tune(mod.make_objective(sleep=0), mod.make_space(), mod.make_algorithm(), num_trials=3,
            storage=url, study_name="s")
    with pytest.raises(sb.SymbolicValueError, match="objective"):
        sb.load_study(url, "s").resume()
    # a finished study resumed to its own budget runs nothing more
    calls = []
    study = sb.load_study(url, "s").resume(lambda p: calls.append(p) or 1.0)
    assert calls == [] and len(study.trials) == 3


def test_a_worker_of_another_host_is_dead_only_after_the_heartbeat_timeout(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'study.db'}"
    space = sb.Dict(x=sb.int_range(0, 100))
    store = open_storage(url)
    study = sb.backends.Study.create(space, sb.algorithms.Random(seed=0), storage=store,
                                     study_name="s")
    dna = sb.random_dna(study.spec, random.Random(0))
    trial = study.new_trial(dna, sb.materialize(space, dna), "elsewhere.example:123", None)
    assert trial is not None
    assert study.dead_trials(heartbeat_timeout=60.0) == []  # heartbeat is fresh
    time.sleep(0.05)
    assert [t.id for t in study.dead_trials(heartbeat_timeout=0.01)] == [trial.id]
    # resuming with a generous timeout leaves the other host's trial running and adds new ones
    calls = []
    sb.tune(lambda p: calls.append(p) or 1.0, space, sb.algorithms.Random(seed=0), num_trials=3,
            storage=url, study_name="s", load_if_exists=True, heartbeat_timeout=60.0)
    statuses = [t.status for t in sb.load_study(url, "s").trials]
    assert statuses == ["running", "completed", "completed"] and len(calls) == 2
    # with a short one it is re-run here
    time.sleep(0.05)
    sb.tune(lambda p: calls.append(p) or 1.0, space, sb.algorithms.Random(seed=0), num_trials=3,
            storage=url, study_name="s", load_if_exists=True, heartbeat_timeout=0.01)
    trials = sb.load_study(url, "s").trials
    assert [t.status for t in trials] == ["completed"] * 3 and len(calls) == 3
    assert trials[0].dna == dna and trials[0].worker != "elsewhere.example:123"


# ---- many kills --------------------------------------------------------------------------------
@pytest.mark.slow
def test_crash_and_resume_loses_zero_completed_trials_in_20_repeated_kill_tests(
        tmp_path: Path, script: tuple[Path, ModuleType]) -> None:
    """20 times: start (or resume) the search, let it complete a few more trials, kill -9 it
    at a random moment (mid-trial, mid-write, during start-up and restore), check the record.

    The search runs a trial only when the test has granted it (a token file), so however
    busy the machine, it never runs ahead of the test or ends before it is killed."""
    path, mod = script
    db = tmp_path / "study.db"
    tokens = tmp_path / "tokens"
    tokens.mkdir()
    n = 120
    rng = random.Random(1234)
    completed_ever: dict[int, tuple] = {}  # every completed trial seen in any snapshot
    interrupted: dict[int, str] = {}       # trials running when a process was killed -> DNA
    lost = 0
    granted = 0

    def grant(upto: int) -> None:
        nonlocal granted
        while granted < min(upto, n):
            (tokens / str(granted)).touch()
            granted += 1

    for repeat in range(20):
        proc = _start(path, db, n, sleep=0.0, tokens=tokens)
        done_before = len(_completed(_rows(db)))
        if repeat % 4 == 3:
            # an arbitrary moment: start-up and restore included, perhaps before any trial
            grant(done_before + 1)
            time.sleep(rng.uniform(0.0, 0.6))
        else:
            goal = done_before + rng.randint(1, 3)
            grant(goal)
            _wait_for(proc, db, lambda rows, goal=goal: len(_completed(rows)) >= goal)
            grant(goal + 1)  # one more may start (or even finish) before the kill
            time.sleep(rng.uniform(0.0, 0.01))
        assert proc.poll() is None, f"repeat {repeat}: the search ended before it was killed"
        _kill(proc)
        rows = _rows(db)
        assert [r[0] for r in rows] == list(range(len(rows))), f"repeat {repeat}: gaps"
        assert len(rows) <= n
        done = _completed(rows)
        lost += sum(1 for k, v in completed_ever.items() if done.get(k) != v)
        completed_ever.update(done)
        running = [r for r in rows if r[1] == "running"]
        assert len(running) <= 1, f"repeat {repeat}: {running}"  # one trial at a time
        for number, _s, _r, dna, _w in running:
            assert interrupted.setdefault(number, json.dumps(dna)) == json.dumps(dna)
        assert all(s in ("completed", "running") for _n, s, *_ in rows)
    assert lost == 0
    assert len(completed_ever) < n, "the kills came too late to test anything"
    assert interrupted, "no kill interrupted a running trial"

    study = sb.load_study(f"sqlite:///{db}", "crashy").resume(mod.make_objective(sleep=0))
    trials = study.trials
    assert [t.id for t in trials] == list(range(n))
    assert all(t.status == "completed" for t in trials)
    final = _completed(_rows(db))
    assert {k: final[k] for k in completed_ever} == completed_ever  # zero completed trials lost
    for number, dna in interrupted.items():  # every interrupted trial ran again, same DNA
        assert final[number][1] == dna
    assert len({t.dna for t in trials}) == n  # none proposed twice across 20 crashes
    assert len(study.algorithm.history) == n  # none counted twice
    assert all(t.reward == mod.reward(t.program) for t in trials)


def test_the_heartbeat_keeps_running_trials_alive_retried_ones_included(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from symbo.backends import loop

    monkeypatch.setattr(loop, "HEARTBEAT_INTERVAL", 0.02)
    url = f"sqlite:///{tmp_path / 'study.db'}"
    space = sb.Dict(x=sb.int_range(0, 10 ** 6))
    store = open_storage(url)
    study = sb.backends.Study.create(space, sb.algorithms.Random(seed=0), storage=store,
                                     study_name="s")
    dna = sb.random_dna(study.spec, random.Random(0))
    study.new_trial(dna, sb.materialize(space, dna), "elsewhere.example:1", None)
    time.sleep(0.05)
    beats = {}

    def objective(p: sb.Dict, feedback: sb.Feedback) -> float:
        time.sleep(0.2)
        record = open_storage(url).get_trials(study.info.id)[feedback.trial_id]
        beats[feedback.trial_id] = record.heartbeat_at - record.started_at
        return 1.0

    sb.tune(objective, space, sb.algorithms.Random(seed=0), num_trials=2, storage=url,
            study_name="s", load_if_exists=True, heartbeat_timeout=0.01)
    assert sorted(beats) == [0, 1]  # trial 0 (another host's, timed out) ran again here
    assert all(beat > 0.05 for beat in beats.values()), beats
