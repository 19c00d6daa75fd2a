"""backend="ray": trials as Ray tasks on a local Ray instance, with the same study semantics."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import symbo as sb
from symbo.algorithms import Grid, Random

ray = pytest.importorskip("ray")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", autouse=True)
def local_ray() -> Iterator[None]:
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
                 configure_logging=False)
    yield
    if started:
        ray.shutdown()


def _space() -> sb.Dict:
    return sb.Dict(x=sb.int_range(0, 99, name="x"), k=sb.one_of([1, 2, 3], name="k"))


def test_ray_evaluates_every_trial_correctly(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'study.db'}"
    space = sb.Dict(a=sb.one_of([1, 2, 3]), b=sb.int_range(0, 3))

    def objective(p: sb.Dict) -> tuple[float, float]:
        return float(p.a * 10 + p.b), float(os.getpid())

    study = sb.tune(objective, space, Grid(), num_trials=None, workers=2, backend="ray",
                    storage=url, study_name="ray", objectives=("max", "max"))
    trials = sb.load_study(url, "ray").trials
    assert [t.id for t in trials] == list(range(12))
    assert all(t.status == "completed" for t in trials)
    assert sorted((t.program.a, t.program.b) for t in trials) == [
        (a, b) for a in (1, 2, 3) for b in range(4)]
    assert all(t.reward[0] == t.program.a * 10 + t.program.b for t in trials)
    assert os.getpid() not in {int(t.reward[1]) for t in trials}  # ran in Ray workers
    assert all(t.worker.endswith(f":{os.getpid()}") for t in trials)  # recorded by us
    assert len(study.trials) == 12


def test_ray_stops_at_the_budget_and_tells_the_algorithm() -> None:
    algo = Random(seed=3)
    study = sb.tune(lambda p: p.x * p.k, _space(), algo, num_trials=10, workers=2, backend="ray")
    trials = study.trials
    assert [t.id for t in trials] == list(range(10))
    assert all(t.reward == t.program.x * t.program.k for t in trials)
    assert sorted(r for _, r in algo.history) == sorted(t.reward for t in trials)


def test_a_raising_objective_is_recorded_as_failed() -> None:
    def objective(p: sb.Dict) -> float:
        if p.k == 2:
            raise ValueError(f"no k=2 (x={p.x})")
        return float(p.x)

    study = sb.tune(objective, _space(), Random(seed=4), num_trials=12, workers=2, backend="ray")
    trials = study.trials
    assert len(trials) == 12
    failed = [t for t in trials if t.status == "failed"]
    assert failed and all(t.program.k == 2 for t in failed)
    assert all(f"ValueError: no k=2 (x={t.program.x})" in t.error for t in failed)
    assert all(t.status == "completed" and t.reward == t.program.x
               for t in trials if t.program.k != 2)


def test_reports_and_feedback_calls_are_recorded() -> None:
    def objective(p: sb.Dict, feedback: sb.Feedback) -> float | None:
        for step in (1, 2, 3):
            feedback.report(step, p.x * step)
        if p.k == 1:
            feedback.skip("k=1 is not allowed")
            return None
        return None  # completes with the last report

    study = sb.tune(objective, _space(), Random(seed=5), num_trials=8, workers=2, backend="ray")
    for t in study.trials:
        assert t.reports == [(1, t.program.x), (2, t.program.x * 2), (3, t.program.x * 3)]
        if t.program.k == 1:
            assert t.status == "failed" and "skipped: k=1 is not allowed" in t.error
        else:
            assert t.status == "completed" and t.reward == t.program.x * 3


def test_timeout_cancels_a_hanging_trial_and_the_search_goes_on(tmp_path: Path) -> None:
    def objective(p: sb.Dict, feedback: sb.Feedback) -> float:
        if feedback.trial_id == 1:
            time.sleep(600)
            (tmp_path / "woke").touch()  # (never: the task is cancelled first)
        return float(p.x)

    # (a timeout no instant trial reaches on a busy machine, Ray's scheduling included)
    study = sb.tune(objective, _space(), Random(seed=6), num_trials=5, workers=2, backend="ray",
                    timeout=15.0)
    assert not (tmp_path / "woke").exists()  # cancelled, not waited for
    trials = study.trials
    assert [t.id for t in trials] == list(range(5))
    assert trials[1].status == "failed" and "timeout of 15 s" in trials[1].error
    assert all(t.status == "completed" and t.reward == t.program.x
               for t in trials if t.id != 1)


def test_closures_work_as_objectives() -> None:
    offsets = {1: 100, 2: 200, 3: 300}

    def make(scale: float):
        return lambda p: scale * p.x + offsets[p.k]

    study = sb.tune(make(0.5), _space(), Random(seed=7), num_trials=6, workers=2, backend="ray")
    assert all(t.status == "completed" and t.reward == 0.5 * t.program.x + offsets[t.program.k]
               for t in study.trials)


def test_a_ray_worker_that_dies_fails_only_its_trial() -> None:
    def objective(p: sb.Dict, feedback: sb.Feedback) -> float:
        if feedback.trial_id == 2:
            os._exit(1)
        return float(p.x)

    study = sb.tune(objective, _space(), Random(seed=8), num_trials=6, workers=2, backend="ray")
    trials = study.trials
    assert [t.id for t in trials] == list(range(6))
    assert [t.id for t in trials if t.status == "failed"] == [2]
    assert "the Ray task failed" in trials[2].error
    assert all(t.reward == t.program.x for t in trials if t.id != 2)
