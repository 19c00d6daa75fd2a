"""study.enqueue_trial on a define-by-run study (no space: the objective's suggest calls make
it), as Optuna's: params may name decisions no trial has met yet; the trial that runs them
takes each value when its objective suggests that name (in this process, with workers, and
when another process enqueued them). A value the space knows is checked when enqueued; one it
does not know yet is checked when met, and a value that does not fit fails that trial with an
error naming the decision and the value (Optuna warns and samples instead; we lose nothing
silently)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import symbo as sb
from symbo.dsl.dna import DNAError

ROOT = Path(__file__).resolve().parents[2]


def objective(trial) -> float:
    x = trial.suggest_float("x", 0.0, 1.0)
    opt = trial.suggest_categorical("opt", ["adam", "sgd"])
    if opt == "sgd":
        trial.suggest_float("momentum", 0.0, 0.9)
    n = trial.suggest_int("n", 1, 5)
    return x + (opt == "adam") + n


def _study(url: str) -> sb.Study:
    return sb.create_study(url, "s", algorithm=sb.algorithms.Random(seed=0))


@pytest.mark.parametrize("workers", [1, 2])
def test_params_enqueued_before_any_trial_run_when_suggested(tmp_path: Path,
                                                             workers: int) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    study = _study(url)
    assert study.enqueue_trial({"x": 0.5, "opt": "adam"}) == 0
    assert study.enqueue_trial({"opt": "sgd", "momentum": 0.25, "n": 4}) == 1
    study.optimize(objective, num_trials=4, workers=workers)
    trials = sb.load_study(url, "s").trials
    assert [t.status for t in trials] == ["completed"] * 4
    assert trials[0].params["x"] == 0.5 and trials[0].params["opt"] == "adam"
    assert {k: trials[1].params[k] for k in ("opt", "momentum", "n")} == \
        {"opt": "sgd", "momentum": 0.25, "n": 4}
    assert trials[0].reward == pytest.approx(1.5 + trials[0].params["n"])


def test_a_known_decision_is_checked_when_enqueued(tmp_path: Path) -> None:
    study = _study(f"sqlite:///{tmp_path / 's.db'}")
    study.optimize(objective, num_trials=2)
    with pytest.raises(DNAError, match=r"5\.0 is not a value of decision 'x'"):
        study.enqueue_trial({"x": 5.0})
    with pytest.raises(DNAError, match="'opt'"):
        study.enqueue_trial({"opt": "rmsprop"})
    assert len(study.trials) == 2
    study.enqueue_trial({"x": 0.125, "n": 2})
    study.optimize(objective, num_trials=1)
    assert study.trials[2].params["x"] == 0.125 and study.trials[2].params["n"] == 2


def test_a_value_that_does_not_fit_when_met_fails_that_trial_naming_it() -> None:
    study = _study("memory:")
    study.enqueue_trial({"x": 7.0, "opt": "adam"})
    study.optimize(objective, num_trials=3)
    trials = study.trials
    assert trials[0].status == "failed"
    assert "decision 'x'" in trials[0].error and "7.0" in trials[0].error
    assert [t.status for t in trials[1:]] == ["completed"] * 2


ENQUEUE = '''
import sys
import symbo as sb
study = sb.load_study(sys.argv[1], "s")
study.enqueue_trial({"x": 0.75, "opt": "sgd", "momentum": 0.5})
study.enqueue_trial({"n": 3})
'''


@pytest.mark.parametrize("workers", [1, 2])
def test_params_enqueued_by_another_process_run(tmp_path: Path, workers: int) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    _study(url)
    subprocess.run([sys.executable, "-c", ENQUEUE, url], check=True,
                   env=dict(os.environ, PYTHONPATH=str(ROOT)))
    sb.load_study(url, "s", algorithm=sb.algorithms.Random(seed=0)).optimize(
        objective, num_trials=3, workers=workers)
    trials = sb.load_study(url, "s").trials
    assert [t.status for t in trials] == ["completed"] * 3
    assert {k: trials[0].params[k] for k in ("x", "opt", "momentum")} == \
        {"x": 0.75, "opt": "sgd", "momentum": 0.5}
    assert trials[1].params["n"] == 3


def test_tune_with_no_space_runs_enqueued_params(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    _study(url).enqueue_trial({"x": 0.5, "opt": "adam", "n": 1})
    study = sb.tune(objective, None, sb.algorithms.TPE(seed=0), num_trials=3, storage=url,
                    study_name="s", load_if_exists=True)
    assert study.trials[0].params == {"x": 0.5, "opt": "adam", "n": 1}
    assert study.trials[0].reward == pytest.approx(2.5)
