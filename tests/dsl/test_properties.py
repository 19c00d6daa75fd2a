"""Property tests over random search spaces (hypothesis).

Spaces nest ``sb.Dict``, ``sb.List`` and a symbolic class with leaves and markers: ``one_of``
(whose candidates may hold markers), ``many_of`` with various ``k``/``distinct``/``sorted``,
``permutate``, ``int_range`` and ``float_range`` on linear and log scales. Some markers get
names.
"""

from __future__ import annotations

import math
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import symbo as sb
from symbo.dsl.dna import validate

SETTINGS = settings(max_examples=100, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


class PrNode(sb.Object):
    a: Any = None
    b: Any = None


keys = st.one_of(st.from_regex(r"[a-c][a-c0-9_]{0,2}", fullmatch=True),
                 st.text(max_size=3)).filter(lambda k: k not in ("_type", "_ref"))
leaves = st.one_of(
    st.integers(-10**6, 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=6),
    st.booleans(),
    st.none(),
)


@st.composite
def float_ranges(draw: st.DrawFn) -> sb.FloatRange:
    if draw(st.booleans()):
        low = draw(st.floats(1e-6, 1e3))
        return sb.float_range(low, low * draw(st.floats(1.01, 1e6)), scale="log")
    low = draw(st.floats(-1e6, 1e6))
    return sb.float_range(low, low + draw(st.floats(1e-3, 1e6)))


@st.composite
def int_ranges(draw: st.DrawFn) -> sb.IntRange:
    if draw(st.booleans()):
        low = draw(st.integers(1, 50))
        return sb.int_range(low, low + draw(st.integers(1, 4)), scale="log")
    low = draw(st.integers(-50, 50))
    return sb.int_range(low, low + draw(st.integers(1, 4)))


@st.composite
def many_ofs(draw: st.DrawFn, children: st.SearchStrategy) -> sb.ManyOf:
    candidates = draw(st.lists(children, min_size=1, max_size=3))
    distinct = draw(st.booleans())
    k = draw(st.integers(1, len(candidates) if distinct else 3))
    return sb.many_of(k, candidates, distinct=distinct, sorted=draw(st.booleans()))


def extend(children: st.SearchStrategy) -> st.SearchStrategy:
    candidates = st.lists(children, min_size=1, max_size=3)
    return st.one_of(
        st.lists(children, max_size=3).map(sb.List),
        st.dictionaries(keys, children, max_size=3).map(sb.Dict),
        st.builds(PrNode, a=children, b=children),
        candidates.map(sb.one_of),
        many_ofs(children),
        candidates.map(sb.permutate),
    )


@st.composite
def spaces(draw: st.DrawFn) -> Any:
    space = draw(st.recursive(st.one_of(leaves, float_ranges(), int_ranges()), extend,
                              max_leaves=8))
    # Give some markers (unique) names.
    markers = [space] if isinstance(space, sb.Marker) else []
    if isinstance(space, sb.Symbolic):
        markers += list(sb.query(space, where=lambda v: isinstance(v, sb.Marker)).values())
    for i, marker in enumerate(markers):
        if draw(st.booleans()):
            marker.rebind(name=f"d{i}")
    return space


def _eq_dna(a: sb.DNA, b: sb.DNA) -> bool:
    """Equal DNA whose numbers also have the same types (DNA(1) == DNA(1.0) otherwise)."""
    def typed(dna: sb.DNA) -> list:
        return [(type(n), n) for n in dna.to_numbers()]

    return a == b and typed(a) == typed(b)


@SETTINGS
@given(space=spaces(), seed=st.integers(0, 2**32))
def test_materialize_is_deterministic_and_leaves_the_space_alone(space, seed):
    spec = sb.dna_spec(space)
    before = sb.clone(space)
    dna = sb.random_dna(spec, seed=seed)
    validate(spec, dna)
    a = sb.materialize(space, dna)
    b = sb.materialize(space, sb.random_dna(spec, seed=seed))
    assert sb.eq(a, b)
    assert sb.is_deterministic(a)
    assert sb.eq(space, before)
    assert sb.eq(sb.random_sample(space, seed=seed), a)


@SETTINGS
@given(space=spaces(), seed=st.integers(0, 2**32))
def test_numbers_round_trip(space, seed):
    spec = sb.dna_spec(space)
    dna = sb.random_dna(spec, seed=seed)
    numbers = dna.to_numbers()
    back = sb.DNA.from_numbers(spec, numbers)
    assert _eq_dna(back, dna)
    assert back.to_numbers() == numbers
    assert len(numbers) >= len(spec.decisions)


@SETTINGS
@given(space=spaces(), seed=st.integers(0, 2**32))
def test_dict_round_trip(space, seed):
    spec = sb.dna_spec(space)
    dna = sb.random_dna(spec, seed=seed)
    for key_type in ("name_or_id", "id"):
        values = dna.to_dict(key_type=key_type)
        assert _eq_dna(sb.DNA.from_dict(spec, values), dna)
    by_name = dna.to_dict()
    for d in spec.decision_points:
        if d.name is not None and d.id in dna.to_dict(key_type="id"):
            assert d.name in by_name  # an active, named decision outside many_of positions


@SETTINGS
@given(space=spaces())
def test_iterate_dna_enumerates_finite_spaces(space):
    spec = sb.dna_spec(space)
    assume(spec.is_finite and spec.space_size <= 400)
    dnas = list(sb.iterate_dna(spec))
    assert len(dnas) == spec.space_size
    assert len(set(dnas)) == len(dnas)
    for dna in dnas:
        validate(spec, dna)
    programs = list(sb.iterate(space, limit=5))
    assert len(programs) == min(5, len(dnas))
    for dna, program in zip(dnas, programs):
        assert sb.eq(program, sb.materialize(space, dna))


@SETTINGS
@given(space=spaces())
def test_infinite_spaces_have_a_float_range(space):
    spec = sb.dna_spec(space)
    has_float = any(isinstance(d, sb.FloatDecision) for d in spec.decision_points)
    if not has_float:
        assert spec.is_finite and isinstance(spec.space_size, int)
    elif math.isinf(spec.space_size):
        assert not spec.is_finite


@SETTINGS
@given(space=spaces())
def test_parse_of_format_is_the_identity(space):
    assert sb.eq(sb.parse(sb.format(space)), space)
    assert sb.eq(sb.parse(sb.format(space, compact=True)), space)


@SETTINGS
@given(space=spaces())
def test_json_and_clone_keep_the_spec(space):
    spec = sb.dna_spec(space)
    assert sb.dna_spec(sb.clone(space)) == spec
    back = sb.from_json(sb.to_json(space))
    assert sb.eq(back, space)
    assert sb.dna_spec(back) == spec
