"""Early-stopping policies: median stopping and ASHA."""

from __future__ import annotations

import attrs
import pytest

import symbo as sb
from symbo.algorithms import ASHA, MedianStopping


@attrs.define
class T:
    id: int
    reports: list[tuple[int, float]]
    status: str = "completed"


def test_median_stopping_compares_with_the_median_of_finished_trials() -> None:
    policy = MedianStopping(min_trials=3)
    policy.setup("max")
    done = [T(i, [(1, v), (2, v + 1)]) for i, v in enumerate([1.0, 2.0, 3.0, 4.0])]
    assert policy.should_stop(T(9, [(1, 1.5)], "running"), done)  # median at step 1 is 2.5
    assert not policy.should_stop(T(9, [(1, 2.6)], "running"), done)
    # best value so far counts, not the last one
    assert not policy.should_stop(T(9, [(1, 4.0), (2, 0.0)], "running"), done)  # 4.0 > 3.5


def test_median_stopping_waits_for_min_trials_and_warmup() -> None:
    policy = MedianStopping(min_trials=3, warmup_steps=2)
    policy.setup("max")
    done = [T(i, [(1, 10.0), (2, 10.0)]) for i in range(3)]
    assert not policy.should_stop(T(9, [(1, 0.0)], "running"), done)  # before warm-up
    assert policy.should_stop(T(9, [(1, 0.0), (2, 0.0)], "running"), done)
    assert not policy.should_stop(T(9, [(1, 0.0), (2, 0.0)], "running"), done[:2])
    # running trials do not count
    assert not policy.should_stop(T(9, [(1, 0.0), (2, 0.0)], "running"),
                                  [T(i, [(1, 10.0), (2, 10.0)], "running") for i in range(5)])


def test_median_stopping_minimizes_too() -> None:
    policy = MedianStopping(min_trials=2)
    policy.setup("min")
    done = [T(0, [(1, 1.0)]), T(1, [(1, 2.0)]), T(2, [(1, 3.0)])]
    assert policy.should_stop(T(9, [(1, 2.5)], "running"), done)
    assert not policy.should_stop(T(9, [(1, 1.5)], "running"), done)


def test_asha_rungs_and_promotion() -> None:
    policy = ASHA(min_resource=1, reduction_factor=3)
    policy.setup("max")
    assert policy.rung_steps(30) == [1, 3, 9, 27]
    trials: list[T] = []
    decisions = []
    for i, v in enumerate([5.0, 1.0, 2.0, 6.0, 0.5, 7.0]):
        t = T(i, [(1, v)], "running")
        trials.append(t)
        decisions.append(policy.should_stop(t, trials))
    # first trial alone: promoted; 1.0 < 5.0 stops; 2.0 < 5.0 stops; 6.0 best: promoted;
    # 0.5: top 1/3 of 5 values is the best only -> stop; 7.0 best: promoted
    assert decisions == [False, True, True, False, True, False]
    # a decision at a rung is final: later arrivals do not stop trial 0 again at rung 0
    assert not policy.should_stop(trials[0], trials)


def test_asha_never_stops_at_max_resource() -> None:
    policy = ASHA(min_resource=1, reduction_factor=2, max_resource=4)
    policy.setup("max")
    trials = [T(0, [(1, 10.0), (2, 10.0), (4, 10.0)]), T(1, [(1, 0.0), (2, 0.0), (4, 0.0)])]
    assert not policy.should_stop(trials[1], trials)


def test_asha_in_a_search_stops_bad_trials_early() -> None:
    def objective(program: sb.Dict, feedback: sb.Feedback) -> float | None:
        for epoch in range(1, 28):
            feedback.report(epoch, program.q * epoch)
            if feedback.should_stop():
                return None
        return program.q * 27

    study = sb.tune(objective, sb.Dict(q=sb.float_range(0.0, 1.0)), sb.algorithms.Random(seed=2),
                    num_trials=40, early_stopping=ASHA(min_resource=1, reduction_factor=3))
    stopped = [t for t in study.trials if t.status == "stopped"]
    completed = [t for t in study.trials if t.status == "completed"]
    assert stopped and completed
    assert sum(len(t.reports) for t in study.trials) < 0.5 * 40 * 27  # most budget saved
    best = max(t.program.q for t in study.trials)
    assert study.best_trial.program.q == best  # the best trial ran to the end


def test_bad_policy_settings() -> None:
    with pytest.raises(sb.SymbolicValueError):
        MedianStopping(min_trials=0)
    with pytest.raises(sb.SymbolicValueError):
        ASHA(reduction_factor=1)
    with pytest.raises(sb.SymbolicValueError):
        MedianStopping().setup("up")
