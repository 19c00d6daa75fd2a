"""Studies: queries on the record, export, load_study, and refusing to mix spaces."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

import symbo as sb
from symbo.algorithms import Grid, Random
from symbo.backends.storage import open_storage


def _space() -> sb.Dict:
    return sb.Dict(lr=sb.float_range(1e-3, 1.0, scale="log", name="lr"),
                   act=sb.one_of(["relu", "tanh", "gelu"], name="act"),
                   layers=sb.many_of(2, [8, 16, 32], name="layers"),
                   depth=sb.int_range(1, 4))


def _objective(p: sb.Dict) -> float:
    return p.lr * p.depth + (0.5 if p.act == "gelu" else 0.0)


@pytest.fixture(params=["memory", "sqlite"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return "memory:" if request.param == "memory" else f"sqlite:///{tmp_path / 'study.db'}"


def _scripted(rewards: list[object], **kwargs: object) -> sb.Study:
    """A study whose trial i gets rewards[i] (an exception instance fails it)."""
    it = iter(rewards)

    def objective(p: sb.Dict) -> object:
        r = next(it)
        if isinstance(r, Exception):
            raise r
        return r

    return sb.tune(objective, _space(), Random(seed=0), num_trials=len(rewards), **kwargs)


# ---- queries -----------------------------------------------------------------------------------
def test_best_trial_best_trials_and_summary(url: str) -> None:
    study = _scripted([0.3, ValueError("bad"), 0.9, 0.1, 0.9, 0.5], storage=url, study_name="q")
    assert study.best_trial.id == 2 and study.best_trial.reward == 0.9  # the first of a tie
    assert [t.id for t in study.best_trials(3)] == [2, 4, 5]
    assert [t.reward for t in study.best_trials(10)] == [0.9, 0.9, 0.5, 0.3, 0.1]
    assert study.best_trials(0) == []
    assert study.summary() == {"name": "q", "trials": 6, "pending": 0, "running": 0,
                               "completed": 5, "failed": 1, "stopped": 0}
    assert len(study) == 6 and [t.id for t in study] == list(range(6))
    assert "6 trials: 5 completed, 1 failed" in repr(study) and "best=0.9" in repr(study)


def test_minimized_objective_queries(url: str) -> None:
    study = _scripted([3.0, 1.0, 2.0, 0.5, 4.0], storage=url, study_name="m", objectives=("min",))
    assert study.best_trial.reward == 0.5
    assert [t.reward for t in study.best_trials(3)] == [0.5, 1.0, 2.0]
    assert study.history == [(0, 3.0, 3.0), (1, 1.0, 1.0), (2, 2.0, 1.0), (3, 0.5, 0.5),
                             (4, 4.0, 0.5)]


def test_history_skips_unfinished_trials_and_keeps_failed_ones() -> None:
    study = _scripted([1.0, RuntimeError("x"), 2.0, 0.5])
    assert study.history == [(0, 1.0, 1.0), (1, None, 1.0), (2, 2.0, 2.0), (3, 0.5, 2.0)]
    gen = sb.sample(_space(), Random(seed=0), num_trials=3)
    _, fb = next(gen)
    fb(1.0)
    _, fb = next(gen)  # left running while we look
    assert fb.study.history == [(0, 1.0, 1.0)]
    assert fb.study.summary()["running"] == 1
    gen.close()


def test_a_study_without_completed_trials() -> None:
    study = _scripted([ValueError("a"), ValueError("b")])
    assert study.best_trial is None
    assert study.best_trials(3) == [] and study.pareto_front == []
    assert [t.status for t in study.trials] == ["failed", "failed"]
    assert "ValueError: a" in study.trials[0].error


def test_pareto_front_with_mixed_directions(url: str) -> None:
    # objectives: accuracy (max), latency (min)
    results = [(0.90, 10.0), (0.80, 5.0), (0.85, 12.0), (0.95, 20.0), (0.80, 6.0), (0.70, 5.0)]
    study = _scripted(list(results), storage=url, study_name="p", objectives=("max", "min"))
    front = sorted(t.id for t in study.pareto_front)
    # (0.85, 12) is dominated by (0.90, 10); (0.80, 6) by (0.80, 5); (0.70, 5) by (0.80, 5)
    assert front == [0, 1, 3]
    assert all(isinstance(t.reward, tuple) and len(t.reward) == 2 for t in study.trials)
    assert study.signed((0.9, 10.0)) == (0.9, -10.0)
    assert [h[2] for h in study.history] == [None] * 6  # no single "best so far"


def test_trial_fields_and_repr(url: str) -> None:
    def objective(p: sb.Dict, feedback: sb.Feedback) -> float:
        for step in (1, 2, 3):
            feedback.report(step, p.lr * step)
        return p.lr * 3

    study = sb.tune(objective, _space(), Random(seed=1), num_trials=2, storage=url, study_name="f")
    t = study.trials[1]
    assert t.id == 1 and t.status == "completed" and t.is_finished
    assert t.reports == [(1, t.program.lr), (2, t.program.lr * 2), (3, t.program.lr * 3)]
    assert t.last_report == t.reports[-1]
    assert t.duration is not None and t.duration >= 0
    assert t.worker and t.worker.endswith(f":{__import__('os').getpid()}")
    assert sb.eq(t.program, sb.materialize(_space(), t.dna))
    assert repr(t).startswith("Trial(id=1, status='completed', reward=")


# ---- export ------------------------------------------------------------------------------------
def test_export_csv_has_a_column_per_named_decision(tmp_path: Path, url: str) -> None:
    study = _scripted([0.25, ValueError("diverged\nfor real"), 0.75], storage=url, study_name="e")
    path = tmp_path / "trials.csv"
    study.export(path)
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["id", "status", "reward", "lr", "act", "layers", "depth", "duration",
                             "worker", "error", "program"]
    assert [r["id"] for r in rows] == ["0", "1", "2"]
    assert [r["status"] for r in rows] == ["completed", "failed", "completed"]
    assert rows[0]["reward"] == "0.25" and rows[1]["reward"] == "" and rows[2]["reward"] == "0.75"
    trials = study.trials
    for row, t in zip(rows, trials):
        assert float(row["lr"]) == t.program.lr
        assert row["act"] == t.program.act  # literal values, not indices
        assert json.loads(row["layers"]) == list(t.program.layers)
        assert int(row["depth"]) == t.program.depth
    assert rows[1]["error"] == "for real"  # the last line of the traceback
    assert "'act'" in rows[0]["program"]


def test_export_json(tmp_path: Path) -> None:
    def objective(p: sb.Dict, feedback: sb.Feedback) -> float:
        feedback.report(1, 0.5)
        return p.depth

    study = sb.tune(objective, _space(), Random(seed=2), num_trials=3, study_name="j",
                    storage=f"sqlite:///{tmp_path / 's.db'}")
    study.export(tmp_path / "trials.json")
    data = json.loads((tmp_path / "trials.json").read_text())
    assert data["study"] == "j" and data["objectives"] == ["max"]
    assert [r["id"] for r in data["trials"]] == [0, 1, 2]
    for record, t in zip(data["trials"], study.trials):
        assert record["status"] == "completed" and record["reward"] == t.reward
        assert record["params"] == t.params == t.dna.to_params()
        assert set(record["params"]) == {"lr", "act", "layers", "depth"}
        assert record["params"]["act"] == t.program.act
        assert record["dna"] == t.dna.to_numbers()
        assert record["reports"] == [[1, 0.5]]
        assert record["worker"] == t.worker and record["duration"] == pytest.approx(t.duration)
    # the format can be forced whatever the file is called
    study.export(tmp_path / "trials.txt", fmt="json")
    assert json.loads((tmp_path / "trials.txt").read_text()) == data
    with pytest.raises(sb.SymbolicValueError, match="'csv' or 'json'"):
        study.export(tmp_path / "trials.xml", fmt="xml")


def test_export_of_several_objectives_writes_lists(tmp_path: Path) -> None:
    study = _scripted([(1.0, 2.0), (3.0, 0.5)], objectives=("max", "min"))
    study.export(tmp_path / "t.csv")
    with open(tmp_path / "t.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [json.loads(r["reward"]) for r in rows] == [[1.0, 2.0], [3.0, 0.5]]


# ---- load_study --------------------------------------------------------------------------------
def test_load_study_rematerializes_programs_from_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'study.db'}"
    original = sb.tune(_objective, _space(), Random(seed=4), num_trials=6, storage=url,
                       study_name="kept")
    store = open_storage(url)  # a fresh storage, as another process would open it
    loaded = sb.load_study(store, "kept")
    assert loaded.name == "kept" and loaded.objectives == ("max",)
    assert sb.eq(loaded.space, _space())
    assert isinstance(loaded.algorithm, Random) and loaded.algorithm.seed == 4
    assert loaded.info.metadata["num_trials"] == 6
    assert len(loaded.trials) == 6
    for a, b in zip(original.trials, loaded.trials):
        assert (a.id, a.status, a.reward, a.worker) == (b.id, b.status, b.reward, b.worker)
        assert a.dna == b.dna and b.dna.spec is not None
        assert sb.eq(b.program, sb.materialize(_space(), b.dna))
        assert sb.is_deterministic(b.program)
    assert loaded.best_trial.id == original.best_trial.id


def test_load_study_given_the_same_space_or_a_different_one(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'study.db'}"
    sb.tune(_objective, _space(), Random(seed=0), num_trials=2, storage=url, study_name="s")
    assert len(sb.load_study(url, "s", space=_space()).trials) == 2
    other = _space()
    other.rebind({"depth": sb.int_range(1, 8)})
    with pytest.raises(sb.StudyMismatchError, match=r"'s' was started with another space"):
        sb.load_study(url, "s", space=other)


def test_a_study_whose_classes_are_not_importable_loads_without_its_space(tmp_path: Path) -> None:
    class Net(sb.Object, type_name="tests.backends.LocalNet"):
        width: int = 8

    url = f"sqlite:///{tmp_path / 'study.db'}"
    space = sb.Dict(net=Net(width=sb.one_of([8, 16])))
    sb.tune(lambda p: p.net.width, space, Grid(), num_trials=None, storage=url, study_name="n")
    from symbo.core import registry

    registry._BY_NAME.pop("tests.backends.LocalNet")  # as in a process that never defined Net
    loaded = sb.load_study(url, "n")
    assert loaded.space is None
    assert [t.reward for t in loaded.trials] == [8.0, 16.0]
    with pytest.raises(sb.SymbolicValueError, match="space could not be loaded"):
        loaded.resume(lambda p: 1.0)


# ---- mismatches ---------------------------------------------------------------------------------
def test_continuing_a_study_with_another_space_shows_the_difference(url: str) -> None:
    storage = open_storage(url)
    first = sb.tune(_objective, _space(), Random(seed=0), num_trials=3, storage=storage,
                    study_name="s")
    before = [(t.id, t.reward, t.dna) for t in first.trials]
    changed = _space()
    changed.rebind({"act": sb.one_of(["relu", "tanh", "silu"], name="act")})
    calls = []
    with pytest.raises(sb.StudyMismatchError) as err:
        sb.tune(lambda p: calls.append(p) or 1.0, changed, Random(seed=0), num_trials=6,
                storage=storage, study_name="s", load_if_exists=True)
    message = str(err.value)
    assert "'s' was started with another space" in message
    assert "--- stored space" in message and "+++ given space" in message
    assert "-  'act': one_of(['relu', 'tanh', 'gelu'], name='act')," in message
    assert "+  'act': one_of(['relu', 'tanh', 'silu'], name='act')," in message
    assert "'depth'" not in message  # only the difference and a line of context
    assert isinstance(err.value, sb.StorageError)
    assert calls == []
    again = sb.load_study(storage, "s")
    assert [(t.id, t.reward, t.dna) for t in again.trials] == before


def test_continuing_a_study_with_other_objectives_is_refused(url: str) -> None:
    storage = open_storage(url)
    sb.tune(_objective, _space(), Random(seed=0), num_trials=2, storage=storage, study_name="s")
    with pytest.raises(sb.StudyMismatchError, match=r"objectives \('max',\), not \('min',\)"):
        sb.tune(_objective, _space(), Random(seed=0), num_trials=4, storage=storage,
                study_name="s", load_if_exists=True, objectives=("min",))
    with pytest.raises(sb.StudyMismatchError, match=r"not \('max', 'max'\)"):
        sb.tune(_objective, _space(), Random(seed=0), num_trials=4, storage=storage,
                study_name="s", load_if_exists=True, objectives=("max", "max"))
    assert len(sb.load_study(storage, "s").trials) == 2


def test_a_new_study_with_an_existing_name_is_refused(url: str) -> None:
    storage = open_storage(url)
    sb.tune(_objective, _space(), Random(seed=0), num_trials=2, storage=storage, study_name="s")
    with pytest.raises(sb.StorageError, match="already exists.*load_if_exists=True"):
        sb.tune(_objective, _space(), Random(seed=0), num_trials=2, storage=storage,
                study_name="s")
    assert len(sb.load_study(storage, "s").trials) == 2


def test_continuing_with_the_same_space_adds_trials(url: str) -> None:
    storage = open_storage(url)
    first = sb.tune(_objective, _space(), Random(seed=0), num_trials=3, storage=storage,
                    study_name="s")
    kept = [(t.id, t.reward, t.dna) for t in first.trials]
    study = sb.tune(_objective, _space(), Random(seed=1), num_trials=5, storage=storage,
                    study_name="s", load_if_exists=True)
    assert [t.id for t in study.trials] == [0, 1, 2, 3, 4]
    assert [(t.id, t.reward, t.dna) for t in study.trials[:3]] == kept
    assert all(t.status == "completed" for t in study.trials)
