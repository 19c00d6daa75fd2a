"""Define-by-run studies with backend="ray": the space grows from Ray tasks, reports and
pruning reach the study live, and each trial's params are the markers its task met."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import symbo as sb

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


def objective(trial):
    opt = trial.suggest_categorical("opt", ["sgd", "adam"])
    lr = trial.suggest_float("lr", 1e-4, 1e-1, log=True)
    for step in range(3):
        trial.report(lr * (step + 1), step)
        if trial.should_prune():
            raise sb.TrialPruned()
    if opt == "sgd":
        return lr * trial.suggest_float("momentum", 0.0, 0.99)
    return lr


def test_a_discovered_space_grows_from_ray_tasks(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'study.db'}"
    sb.tune(objective, algorithm=sb.algorithms.TPE(num_startup=4, seed=0), num_trials=12,
            workers=2, backend="ray", storage=url, study_name="ray",
            early_stopping=sb.algorithms.MedianStopping(min_trials=3))
    study = sb.load_study(url, "ray")
    assert len(study.trials) == 12
    assert {t.status for t in study.trials} <= {"completed", "stopped"}
    for t in study.trials:
        if t.status == "completed":
            assert list(t.params) == (["opt", "lr", "momentum"] if t.params["opt"] == "sgd"
                                      else ["opt", "lr"])
        assert t.reports  # reported while the task ran
    assert list(study.space.decisions)[:2] == ["opt", "lr"]
