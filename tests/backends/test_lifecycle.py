"""Worker processes end with their coordinator, however it dies, and take their children along;
nested parallel studies work; exceptions in workers are reported as what they are.

The coordinator runs as a separate process (a script written to ``tmp_path``) that the test
kills once the objective has written the pids of the workers and of the children they started;
the test then waits (on states, with a generous deadline) until every one of them is gone.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import symbo as sb

ROOT = Path(__file__).resolve().parents[2]

COORDINATOR = '''
import os, subprocess, sys, time
import symbo as sb

def objective(program, feedback):
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    with open(sys.argv[2], "a") as f:   # one line per trial: worker pid, child pid
        f.write(f"{os.getpid()} {child.pid}\\n")
    time.sleep(600)
    return 1.0

sb.tune(objective, sb.Dict(x=sb.int_range(0, 10 ** 6)), sb.algorithms.Random(seed=0),
        num_trials=10, workers=2, storage=sys.argv[1], study_name="s")
'''


def _env() -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))


def _alive(pid: int) -> bool:
    """Whether a process exists and is not a zombie (an orphaned zombie may wait for a reaper
    that this container does not have)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().rsplit(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return False


def _wait_until(condition: object, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.02)
    pytest.fail(f"timed out waiting for {what}")


def _pids(path: Path) -> list[int]:
    if not path.exists():
        return []
    return [int(p) for line in path.read_text().splitlines() if line.count(" ") == 1
            for p in line.split()]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_workers_and_their_children_end_when_the_coordinator_dies(tmp_path: Path,
                                                                   sig: int) -> None:
    script = tmp_path / "coordinator.py"
    script.write_text(COORDINATOR)
    pids_file = tmp_path / "pids.txt"
    proc = subprocess.Popen([sys.executable, str(script), f"sqlite:///{tmp_path / 's.db'}",
                             str(pids_file)], env=_env(), stderr=subprocess.DEVNULL)
    try:
        _wait_until(lambda: len(_pids(pids_file)) == 4 or proc.poll() is not None,
                    "two trials to start")
        assert proc.poll() is None, "the coordinator ended before it was killed"
        started = _pids(pids_file)
        assert all(_alive(p) for p in started)
        os.kill(proc.pid, sig)
        proc.wait(timeout=60)
        _wait_until(lambda: not any(_alive(p) for p in started),
                    f"workers and children {started} to end")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for p in _pids(pids_file):  # never leave a process behind, even when the test fails
            if _alive(p):
                os.kill(p, signal.SIGKILL)


def test_nested_parallel_studies_work() -> None:
    def inner(p: sb.Dict) -> float:
        return float(p.y)

    def outer(p: sb.Dict) -> float:
        study = sb.tune(inner, sb.Dict(y=sb.int_range(0, 5)), sb.algorithms.Grid(),
                        num_trials=None, workers=2)
        assert all(t.status == "completed" for t in study.trials)
        return study.best_trial.reward + p.x

    study = sb.tune(outer, sb.Dict(x=sb.int_range(0, 3)), sb.algorithms.Grid(), num_trials=None,
                    workers=2)
    assert [(t.status, t.reward) for t in study.trials] == [
        ("completed", 5.0 + x) for x in range(4)], [t.error for t in study.trials]


@pytest.mark.parametrize("raised, named", [
    (KeyboardInterrupt, "KeyboardInterrupt"),
    (SystemExit(3), "SystemExit: 3"),
    (SystemExit, "SystemExit"),
])
def test_keyboard_interrupt_and_system_exit_in_a_worker_fail_only_their_trial(
        raised: BaseException, named: str) -> None:
    def objective(p: sb.Dict, feedback: sb.Feedback) -> float:
        if feedback.trial_id == 2:
            raise raised
        return float(p.x)

    study = sb.tune(objective, sb.Dict(x=sb.int_range(0, 100)), sb.algorithms.Random(seed=0),
                    num_trials=6, workers=2)
    trials = study.trials
    assert [t.id for t in trials if t.status == "failed"] == [2]
    assert named in trials[2].error and "Traceback" in trials[2].error
    assert "exit code" not in trials[2].error
    assert all(t.status == "completed" for t in trials if t.id != 2)


def test_a_worker_that_exits_is_named_by_its_exit_code() -> None:
    def objective(p: sb.Dict, feedback: sb.Feedback) -> float:
        if feedback.trial_id == 1:
            os._exit(7)
        return 1.0

    study = sb.tune(objective, sb.Dict(x=sb.int_range(0, 100)), sb.algorithms.Random(seed=0),
                    num_trials=4, workers=2)
    assert "its worker process died (exit code 7)" in study.trials[1].error
    assert [t.status for t in study.trials] == ["completed", "failed", "completed", "completed"]
