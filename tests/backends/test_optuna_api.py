"""Optuna's conveniences, spelled as Optuna spells them: create_study + optimize, best_params,
best_value, trials_dataframe, enqueue_trial, and a time budget for the whole study."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import symbo as sb
from symbo.backends import loop

ROOT = Path(__file__).resolve().parents[2]


SGD = sb.Dict(name="sgd", momentum=sb.float_range(0.0, 0.9, name="momentum"))


def _space() -> sb.Dict:
    return sb.Dict(lr=sb.float_range(1e-4, 1e-1, scale="log", name="lr"),
                   opt=sb.one_of(["adam", SGD], name="opt"),
                   width=sb.one_of([32, 64, 128], name="width"))


def _objective(p: sb.Dict) -> float:
    return -abs(p.lr - 0.01) + p.width / 1000


def test_create_study_then_optimize_adds_num_trials_each_time(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    study = sb.create_study(url, "s", _space())
    assert isinstance(study, sb.Study) and study.name == "s" and study.objectives == ("max",)
    study.optimize(_objective, sb.algorithms.Random(seed=0), num_trials=5)
    study.optimize(_objective, sb.algorithms.Random(seed=1), num_trials=4, workers=2)
    assert len(study.trials) == 9
    with pytest.raises(sb.StorageError, match="already exists"):
        sb.create_study(url, "s", _space())
    again = sb.create_study(url, "s", _space(), load_if_exists=True)
    assert len(again.trials) == 9
    with pytest.raises(sb.StudyMismatchError):
        sb.create_study(url, "s", sb.Dict(x=sb.int_range(0, 3)), load_if_exists=True)
    minimize = sb.create_study(url, "m", _space(), objectives=("min",))
    minimize.optimize(_objective, sb.algorithms.Random(seed=0), num_trials=6)
    assert minimize.best_value == min(t.reward for t in minimize.trials)


def test_best_params_and_best_value_are_the_best_trials(tmp_path: Path) -> None:
    study = sb.create_study(f"sqlite:///{tmp_path / 's.db'}", "s", _space())
    with pytest.raises(sb.SymbolicValueError, match="no completed trial"):
        _ = study.best_params
    study.optimize(_objective, sb.algorithms.Random(seed=2), num_trials=12)
    best = study.best_trial
    assert study.best_params == best.params and study.best_value == best.reward
    assert set(study.best_params) >= {"lr", "opt", "width"}
    assert isinstance(study.best_params["width"], int)  # literal values, not indices
    # read back by another process, without the user's code
    code = ("import symbo as sb, sys; s = sb.load_study(sys.argv[1], 's'); "
            "print(repr((s.best_params, s.best_value)))")
    out = subprocess.run([sys.executable, "-c", code, f"sqlite:///{tmp_path / 's.db'}"],
                         capture_output=True, text=True, env=_env(), check=True).stdout
    assert out.strip() == repr((study.best_params, study.best_value))


def _env() -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))


def test_trials_dataframe_has_a_row_per_trial(tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")

    def objective(p: sb.Dict, feedback: sb.Feedback) -> float:
        feedback.report(1, 0.5)
        if p.width == 128:
            raise ValueError("too wide")
        return _objective(p)

    study = sb.create_study(f"sqlite:///{tmp_path / 's.db'}", "s", _space())
    study.optimize(objective, sb.algorithms.Random(seed=3), num_trials=10)
    df = study.trials_dataframe()
    assert isinstance(df, pd.DataFrame) and len(df) == 10
    assert list(df["number"]) == list(range(10))
    for column in ("status", "state", "reward", "value", "params_lr", "params_opt", "params_width",
                   "datetime_start", "datetime_complete", "duration", "reports", "error"):
        assert column in df.columns, column
    for t, (_, row) in zip(study.trials, df.iterrows()):
        assert row["status"] == t.status
        assert row["state"] == {"completed": "COMPLETE", "failed": "FAIL"}[t.status]
        assert row["params_width"] == t.params["width"] and row["params_lr"] == t.params["lr"]
        if "momentum" in t.params:
            assert row["params_momentum"] == t.params["momentum"]
        else:  # the decision was not active in this trial
            assert row["params_momentum"] is None or pd.isna(row["params_momentum"])
        assert row["reports"] == [(1, 0.5)]
        if t.status == "completed":
            assert row["reward"] == row["value"] == t.reward
        else:
            assert pd.isna(row["reward"]) and row["error"] == "ValueError: too wide"
    two = sb.create_study("memory:", "two", _space(), objectives=("max", "min"))
    two.optimize(lambda p: (p.lr, p.width), sb.algorithms.Random(seed=0), num_trials=3)
    df = two.trials_dataframe()
    assert {"reward_0", "reward_1", "values_0", "values_1"} <= set(df.columns)
    assert list(df["reward_1"]) == [t.reward[1] for t in two.trials]


def test_enqueued_params_run_next_and_are_checked(tmp_path: Path) -> None:
    study = sb.create_study(f"sqlite:///{tmp_path / 's.db'}", "s", _space())
    sgd = sb.format(SGD, compact=True)  # a candidate that is not plain data: its text
    chosen = {"lr": 0.01, "opt": sgd, "momentum": 0.5, "width": 64}
    with pytest.raises(sb.DNAError, match="momentum"):
        study.enqueue_trial({"lr": 0.01, "opt": "adam", "momentum": 0.5, "width": 64})
    with pytest.raises(sb.DNAError, match="width"):
        study.enqueue_trial({"lr": 0.01, "opt": "adam", "width": 65})
    with pytest.raises(sb.DNAError, match="lr"):
        study.enqueue_trial({"lr": 5.0, "opt": "adam", "width": 64})
    assert len(study.trials) == 0  # nothing recorded for refused params
    assert study.enqueue_trial(chosen) == 0
    assert study.trials[0].status == "pending" and study.trials[0].params == chosen
    seen = []
    study.optimize(lambda p: seen.append(p) or _objective(p), sb.algorithms.Random(seed=0),
                   num_trials=3)
    assert seen[0].opt.momentum == 0.5 and seen[0].width == 64
    assert [t.status for t in study.trials] == ["completed"] * 3
    assert study.trials[0].params == chosen


ENQUEUE = '''
import sys
import symbo as sb
from symbo.backends import loop
study = sb.load_study(sys.argv[1], "s")
for width in (32, 128):
    study.enqueue_trial({"lr": 0.001, "opt": "adam", "width": width})
'''


def test_trials_enqueued_by_another_process_run_with_workers(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    study = sb.create_study(url, "s", _space(), algorithm=sb.algorithms.Random(seed=0))
    study.optimize(_objective, num_trials=2)
    subprocess.run([sys.executable, "-c", ENQUEUE, url], env=_env(), check=True)
    study.optimize(_objective, num_trials=4, workers=2)
    trials = sb.load_study(url, "s").trials
    assert len(trials) == 6 and all(t.status == "completed" for t in trials)
    assert [t.params for t in trials[2:4]] == [{"lr": 0.001, "opt": "adam", "width": w}
                                               for w in (32, 128)]
    assert all(t.reward == pytest.approx(-0.009 + t.params["width"] / 1000) for t in trials[2:4])


class _Clock:
    """The search loop's clock, moved by the objective (the loop's ``time`` module otherwise)."""

    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now

    def __getattr__(self, name: str) -> object:
        return getattr(time, name)


def test_a_time_budget_ends_the_search_and_timeout_stays_per_trial(
        monkeypatch: pytest.MonkeyPatch) -> None:
    clock = _Clock()
    monkeypatch.setattr(loop, "time", clock)

    def tick(p: sb.Dict) -> float:
        clock.now += 0.1  # each trial takes 0.1 s of the loop's clock
        return 1.0

    study = sb.tune(tick, _space(), sb.algorithms.Random(seed=0), num_trials=10 ** 6,
                    time_budget=0.35)
    # trials start at 0, 0.1, 0.2 and 0.3 s; none after the budget, the running one finishes
    assert [t.status for t in study.trials] == ["completed"] * 4
    monkeypatch.undo()

    def slow(p: sb.Dict) -> float:
        time.sleep(0.02)
        return 1.0

    for bad in (0, -1.0):
        with pytest.raises(sb.SymbolicValueError, match="time_budget must be"):
            sb.tune(slow, _space(), sb.algorithms.Random(seed=0), num_trials=3, time_budget=bad)
    study = sb.create_study("memory:", "budget", _space())
    study.optimize(slow, sb.algorithms.Random(seed=0), num_trials=None, time_budget=2.0,
                   workers=2)  # (a budget that outlasts starting the workers on a busy machine)
    assert study.trials and all(t.status == "completed" for t in study.trials)
