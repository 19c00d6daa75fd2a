"""A custom marker (the marker protocol's own kind) met while sb.trace or a define-by-run
trial runs is refused with a precise error, never handed on undecided."""

from __future__ import annotations

import pytest

import symbo as sb


class Coin(sb.Marker, type_name="tests.trace_custom_markers.coin"):
    function_name = "trace_test_coin"
    positional = ()

    def decision_point(self, id, location, branches, occurrences):  # noqa: A002
        return sb.Choice(id, location, self.name, candidates=(
            sb.Candidate("False", sb.Decisions(), False),
            sb.Candidate("True", sb.Decisions(), True)))


def objective() -> float:
    Coin(name="flip")
    return sb.float_range(0.0, 1.0, name="x")


def test_a_custom_marker_is_fine_outside_a_trace() -> None:
    assert Coin(name="flip").name == "flip"


def test_sb_trace_refuses_a_custom_marker_naming_it() -> None:
    expected = r"Coin \(trace_test_coin\(\.\.\.\)\) is a custom marker.*symbolic space"
    with pytest.raises(sb.SymbolicValueError, match=expected):
        sb.trace(objective)


def test_a_define_by_run_trial_meeting_a_custom_marker_fails_with_the_reason() -> None:
    study = sb.tune(objective, num_trials=2)
    assert study.trials and all(t.status == "failed" for t in study.trials)
    assert "Coin (trace_test_coin(...)) is a custom marker" in study.trials[0].error
