"""Property tests of ``sb.trace`` over random branchy functions (see ``tests/branchy.py``)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symbo as sb
from tests.branchy import build, names, programs

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(programs(), st.integers(0, 2**16))
def test_the_trace_finds_every_marker_and_every_point_runs_with_the_markers_it_meets(program, seed):
    fn, met = build(program)
    space = sb.trace(fn, max_runs=1000)
    assert sorted(space.decisions) == sorted(names(program))
    spec = sb.dna_spec(space)
    for i in range(5):
        point = sb.random_sample(space, seed=seed + i, spec=spec)
        point()
        assert list(point.params) == met


@SETTINGS
@given(programs(), st.integers(1, 3), st.integers(0, 2**16))
def test_a_bounded_trace_never_fails_a_run_that_decides_new_markers(program, max_runs, seed):
    fn, met = build(program)
    space = sb.trace(fn, max_runs=max_runs)
    spec = sb.dna_spec(space)
    for i in range(5):
        point = sb.random_sample(space, seed=seed + i, spec=spec).rebind(
            {"new_markers": "decide", "seed": seed + i})
        point()
        assert list(point.params) == met
        assert all(m.new == (m.key not in space.decisions or m.key not in point.nodes)
                   for m in point.met)
