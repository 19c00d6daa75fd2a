"""study.enqueue_trial with some of a trial's decisions (as Optuna's): the given ones are
fixed and checked when enqueued, the algorithm fills the rest when the trial starts, in this
process or another one, with or without workers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import symbo as sb
from symbo.backends.storage import open_storage

ROOT = Path(__file__).resolve().parents[2]
SGD = sb.Dict(name="sgd", momentum=sb.float_range(0.0, 0.9, name="momentum"))


def _space() -> sb.Dict:
    return sb.Dict(lr=sb.float_range(1e-4, 1e-1, scale="log", name="lr"),
                   opt=sb.one_of(["adam", SGD], name="opt"),
                   width=sb.one_of([32, 64, 128], name="width"))


def _objective(p: sb.Dict) -> float:
    return -abs(p.lr - 0.01) + p.width / 1000


def _env() -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=str(ROOT))


def _fits(params: dict) -> bool:
    return sb.DNA.from_params(sb.dna_spec(_space()), params) is not None


def test_the_given_decisions_are_fixed_and_the_algorithm_fills_the_rest(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    study = sb.create_study(url, "s", _space())
    assert study.enqueue_trial({"width": 128}) == 0
    assert study.enqueue_trial({"momentum": 0.5, "lr": 0.02}) == 1  # opt: the one it lies under
    pending = study.trials
    assert [t.status for t in pending] == ["pending", "pending"]
    assert [t.params for t in pending] == [{"width": 128}, {"momentum": 0.5, "lr": 0.02}]
    seen = []
    study.optimize(lambda p: seen.append(p) or _objective(p), sb.algorithms.Random(seed=0),
                   num_trials=4)
    assert seen[0].width == 128
    assert seen[1].opt.momentum == 0.5 and seen[1].lr == 0.02
    trials = sb.load_study(url, "s").trials  # another reader: complete params and DNA
    assert [t.status for t in trials] == ["completed"] * 4
    assert trials[0].params["width"] == 128 and set(trials[0].params) >= {"lr", "opt", "width"}
    assert trials[1].params["momentum"] == 0.5 and trials[1].params["lr"] == 0.02
    assert all(_fits(t.params) for t in trials)
    assert trials[0].program.width == 128 and trials[1].program.opt.momentum == 0.5


def test_the_algorithms_own_proposal_fills_the_rest() -> None:
    study = sb.create_study("memory:", "g", sb.Dict(a=sb.one_of([1, 2, 3], name="a"),
                                                   b=sb.one_of(["x", "y"], name="b")))
    study.enqueue_trial({"b": "y"})
    study.optimize(lambda p: float(p.a), sb.algorithms.Grid(), num_trials=6)
    params = [t.params for t in study.trials]
    assert params[0] == {"a": 1, "b": "y"}  # the grid's first point, with b fixed
    # the grid's first point (a=1, b='x') was not run: it comes again, and the grid goes on
    assert sorted(map(str, params)) == sorted(map(str, [
        {"a": a, "b": b} for a in (1, 2, 3) for b in ("x", "y")]))


@pytest.mark.parametrize("params, match", [
    ({"depth": 3}, r"study 's': enqueue_trial: 'depth' is not a decision of its space "
                   r"\(its decisions: lr, opt, momentum, width\)"),
    ({"width": 65}, r"study 's': enqueue_trial: width: 65 is not one of the candidates"),
    ({"lr": 5.0}, r"study 's': enqueue_trial: lr"),
    ({"opt": "adam", "momentum": 0.5}, r"study 's': enqueue_trial: .*momentum"),
    ({"opt": "rmsprop"}, r"study 's': enqueue_trial: opt: 'rmsprop' is not one of"),
    ({1: 2}, r"decision names are strings"),
    ([("width", 64)], r"params are a dict"),
])
def test_a_bad_decision_is_named_and_nothing_is_recorded(tmp_path: Path, params: object,
                                                         match: str) -> None:
    study = sb.create_study(f"sqlite:///{tmp_path / 's.db'}", "s", _space())
    with pytest.raises(sb.DNAError, match=match):
        study.enqueue_trial(params)  # type: ignore[arg-type]
    assert study.trials == []


ENQUEUE = '''
import sys
import symbo as sb
study = sb.load_study(sys.argv[1], "s")
for width in (32, 128):
    study.enqueue_trial({"width": width})
'''


@pytest.mark.parametrize("workers", [1, 2])
def test_partial_params_enqueued_by_another_process_run_with_workers(
        tmp_path: Path, workers: int) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    study = sb.create_study(url, "s", _space(), algorithm=sb.algorithms.TPE(seed=0))
    study.optimize(_objective, num_trials=2)
    subprocess.run([sys.executable, "-c", ENQUEUE, url], env=_env(), check=True)
    study.optimize(_objective, num_trials=4, workers=workers)
    trials = sb.load_study(url, "s").trials
    assert len(trials) == 6 and all(t.status == "completed" for t in trials)
    assert [t.params["width"] for t in trials[2:4]] == [32, 128]
    assert all(_fits(t.params) for t in trials)
    assert all(t.reward == pytest.approx(_objective(t.program)) for t in trials)


@pytest.mark.parametrize("algorithm", [sb.algorithms.RegularizedEvolution(population_size=4,
                                                                       tournament_size=2, seed=0),
                                       sb.algorithms.GaussianProcessBO(seed=0),
                                       sb.algorithms.MCTS(seed=0), sb.algorithms.Auto(seed=0)])
def test_a_study_with_partial_trials_pending_resumes(tmp_path: Path,
                                                     algorithm: sb.algorithms.Algorithm) -> None:
    """A pending trial with some decisions is told to the algorithm when it starts, with its
    completed DNA (never the empty one it is stored with)."""
    url = f"sqlite:///{tmp_path / 's.db'}"
    sb.tune(_objective, _space(), algorithm, num_trials=3, storage=url, study_name="s")
    sb.load_study(url, "s").enqueue_trial({"opt": "adam"})
    study = sb.load_study(url, "s")
    study.resume(_objective, num_trials=6)
    trials = study.trials
    assert [t.status for t in trials] == ["completed"] * 6
    assert trials[3].params["opt"] == "adam" and _fits(trials[3].params)
    record = open_storage(url).get_trials(study.info.id)[3]
    assert record.dna_json != [None, []] and record.params == trials[3].params
