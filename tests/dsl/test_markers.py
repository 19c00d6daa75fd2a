"""Tests of ``symbo.dsl.markers``: markers as symbolic values accepted by field validation."""

from __future__ import annotations

import math
from typing import Literal

import pytest

import symbo as sb


class MkHead(sb.Object):
    units: int = 8


class MkConv(sb.Object):
    filters: int = 32
    rate: float = 0.5
    act: str = "relu"
    mode: Literal["fast", "slow"] = "fast"
    sizes: list[int] = [3]
    maybe: list[int] | None = None
    shape: tuple[int, ...] = (1,)
    table: dict[str, int] = {}
    head: MkHead | None = None


# ---- accepted when the candidates fit ------------------------------------------------------------
@pytest.mark.parametrize("field, marker", [
    ("filters", sb.one_of([16, 32, 64])),
    ("filters", sb.int_range(1, 8)),
    ("filters", sb.one_of([1, sb.one_of([2, 3])])),
    ("filters", sb.one_of([1, sb.int_range(2, 5)])),
    ("rate", sb.float_range(0.0, 1.0)),
    ("rate", sb.one_of([0.1, 1])),
    ("rate", sb.int_range(0, 3)),
    ("act", sb.one_of(["relu", "gelu"])),
    ("mode", sb.one_of(["fast", "slow"])),
    ("sizes", sb.many_of(2, [1, 3, 5])),
    ("sizes", sb.many_of(3, [1, 3], distinct=False)),
    ("sizes", sb.permutate([1, 2, 3])),
    ("sizes", sb.one_of([[1, 2], [3]])),
    ("maybe", sb.many_of(2, [1, 2, 3])),
    ("maybe", sb.one_of([None, [1]])),
    ("shape", sb.permutate([4, 5])),
    ("head", sb.one_of([None, MkHead(), MkHead(units=sb.int_range(1, 4))])),
])
def test_markers_are_accepted_when_every_candidate_fits(field, marker):
    conv = MkConv(**{field: marker})
    assert sb.eq(getattr(conv, field), marker)
    assert isinstance(getattr(conv, field), sb.Marker)
    assert str(getattr(conv, field).sym_path) == field


def test_markers_inside_lists_and_dicts_of_a_field_are_accepted():
    conv = MkConv(sizes=[3, sb.one_of([5, 7])], table={"a": sb.int_range(0, 4)})
    assert str(conv.sizes[1].sym_path) == "sizes[1]"
    assert str(conv.table["a"].sym_path) == "table.a"


def test_markers_inside_symbolic_containers():
    space = sb.Dict(a=sb.one_of([1, 2]), b=sb.List([sb.int_range(0, 3), 5]),
                    c=sb.Dict(d=sb.many_of(2, ["x", "y", "z"])))
    assert isinstance(space.a, sb.OneOf)
    assert isinstance(space.b[0], sb.IntRange)
    assert str(space.c.d.sym_path) == "c.d"
    assert [d.id for d in sb.dna_spec(space)] == ["a", "b[0]", "c.d"]


# ---- rejected when a candidate does not fit, naming the path -------------------------------------
@pytest.mark.parametrize("kwargs, message", [
    ({"filters": sb.one_of(["wide", 64])}, "filters: expected int, got str 'wide'"),
    ({"filters": sb.one_of([1, sb.one_of([2, "x"])])}, "filters: expected int, got str 'x'"),
    ({"filters": sb.float_range(0.0, 1.0)}, "filters: expected int, got float"),
    ({"filters": sb.one_of([1, sb.float_range(0.5, 1.5)])}, "filters: expected int, got float"),
    ({"filters": sb.many_of(2, [1, 2])}, "filters: expected int, got list"),
    ({"act": sb.int_range(0, 3)}, "act: expected str, got int"),
    ({"sizes": sb.many_of(2, [1, "x", 3])}, "expected int, got str 'x'"),
    ({"sizes": sb.permutate(["a", "b"])}, "expected int, got str 'a'"),
    ({"sizes": sb.one_of([[1, 2], [3, "x"]])}, "expected int, got str 'x'"),
    ({"sizes": [64, sb.one_of([1, "x"])]}, "sizes[1]: expected int, got str 'x'"),
    ({"table": {"k": sb.one_of([1, "x"])}}, "table.k: expected int, got str 'x'"),
    ({"maybe": sb.many_of(1, ["x"])}, "expected int, got str 'x'"),
    ({"head": sb.one_of([MkHead(), 3])}, "head: expected MkHead or None, got int 3"),
])
def test_markers_whose_candidates_do_not_fit_are_type_errors(kwargs, message):
    with pytest.raises(sb.SymbolicTypeError) as info:
        MkConv(**kwargs)
    assert message in str(info.value)


def test_a_literal_field_rejects_options_it_does_not_allow():
    with pytest.raises(sb.SymbolicValueError, match="mode: expected one of"):
        MkConv(mode=sb.one_of(["fast", "medium"]))


def test_rebinding_a_field_to_a_marker_is_validated_and_atomic():
    conv = MkConv()
    conv.rebind(filters=sb.one_of([8, 16]))
    assert isinstance(conv.filters, sb.OneOf)
    with pytest.raises(sb.SymbolicTypeError, match="filters: expected int"):
        conv.rebind({"filters": sb.one_of(["a", "b"]), "rate": 0.25})
    assert sb.eq(conv.filters, sb.one_of([8, 16]))
    assert conv.rate == 0.5


@pytest.mark.parametrize("edit, message", [
    (lambda c: c.rebind({"filters.candidates[0]": "x"}), "filters: expected int, got str 'x'"),
    (lambda c: c.filters.candidates.append("y"), "filters: expected int, got str 'y'"),
    (lambda c: c.rebind({"filters.candidates[1].candidates[0]": "z"}),
     "filters: expected int, got str 'z'"),
    (lambda c: c.rebind({"sizes.candidates[0]": "w"}), "expected int, got str 'w'"),
    (lambda c: c.rebind({"rate.candidates[0]": "v"}), "rate: expected float, got str 'v'"),
])
def test_editing_a_marker_so_that_it_no_longer_fits_is_an_error(edit, message):
    conv = MkConv(filters=sb.one_of([1, sb.one_of([2, 3])]), sizes=sb.many_of(2, [1, 2]),
                  rate=sb.one_of([0.1, 0.2]))
    with pytest.raises(sb.SymbolicTypeError) as info:
        edit(conv)
    assert message in str(info.value)


def test_editing_a_marker_so_that_it_still_fits_is_fine():
    conv = MkConv(filters=sb.int_range(1, 2), sizes=[sb.one_of([1, 2])])
    conv.rebind({"filters.high": 5, "sizes[0].candidates[1]": 7})
    conv.sizes[0].candidates.append(9)
    assert sb.eq(conv.filters, sb.int_range(1, 5))
    assert list(conv.sizes[0].candidates) == [1, 7, 9]
    space = sb.Dict(a=sb.one_of([1, 2]))  # no field type: anything goes
    space.rebind({"a.candidates[0]": "x"})
    assert list(space.a.candidates) == ["x", 2]


def test_a_rejected_edit_of_a_marker_leaves_it_unchanged():
    conv = MkConv(filters=sb.one_of([1, 2]))
    with pytest.raises(sb.SymbolicTypeError):
        conv.rebind({"filters.candidates[0]": "x"})
    assert list(conv.filters.candidates) == [1, 2]


def test_an_error_deep_in_a_tree_names_the_full_path():
    class MkNet(sb.Object):
        convs: list[MkConv] = []

    net = MkNet(convs=[MkConv(), MkConv()])
    with pytest.raises(sb.SymbolicTypeError, match=r"convs\[1\]\.filters: expected int"):
        net.rebind({"convs[1].filters": sb.one_of(["x"])})


# ---- argument errors -----------------------------------------------------------------------------
@pytest.mark.parametrize("make, message", [
    (lambda: sb.one_of([]), "one_of: candidates must not be empty"),
    (lambda: sb.permutate([]), "permutate: candidates must not be empty"),
    (lambda: sb.many_of(1, []), "many_of: candidates must not be empty"),
    (lambda: sb.many_of(3, [1, 2]), "cannot choose 3 distinct values from 2 candidates"),
    (lambda: sb.many_of(0, [1, 2]), "k must be >= 1"),
    (lambda: sb.float_range(1.0, 1.0), "low must be < high"),
    (lambda: sb.float_range(2.0, 1.0), "low must be < high"),
    (lambda: sb.float_range(0.0, 1.0, scale="log"), "log scale needs low > 0"),
    (lambda: sb.float_range(-1.0, 1.0, scale="log"), "log scale needs low > 0"),
    (lambda: sb.float_range(0.0, math.inf), "bounds must be finite"),
    (lambda: sb.float_range(math.nan, 1.0), "bounds must be finite"),
    (lambda: sb.int_range(3, 3), "low must be < high"),
    (lambda: sb.int_range(5, 2), "low must be < high"),
    (lambda: sb.int_range(0, 8, scale="log"), "log scale needs low > 0"),
    (lambda: sb.float_range(0.1, 1.0, scale="cubic"), "scale: expected one of"),
])
def test_bad_marker_arguments_are_value_errors(make, message):
    with pytest.raises(sb.SymbolicValueError, match=message):
        make()


@pytest.mark.parametrize("make", [
    lambda: sb.one_of([1], name=3),
    lambda: sb.int_range(0.5, 2),
    lambda: sb.many_of("2", [1, 2]),
])
def test_badly_typed_marker_arguments_are_type_errors(make):
    with pytest.raises(sb.SymbolicTypeError):
        make()


def test_many_of_with_repeats_may_ask_for_more_than_there_are_candidates():
    m = sb.many_of(3, [1, 2], distinct=False)
    assert (m.k, m.distinct, m.sorted, m.num_choices) == (3, False, False, 3)


def test_float_range_bounds_become_floats():
    r = sb.float_range(1, 2)
    assert (r.low, r.high) == (1.0, 2.0)
    assert type(r.low) is float


def test_rebinding_a_marker_into_an_invalid_one_is_an_error():
    m = sb.int_range(0, 4)
    with pytest.raises(sb.SymbolicValueError, match="low must be < high"):
        m.rebind(low=9)


# ---- markers are symbolic values -----------------------------------------------------------------
def _space() -> sb.Dict:
    return sb.Dict(
        conv=MkConv(filters=sb.one_of([16, 32], name="filters"),
                    sizes=sb.many_of(2, [1, 3, 5], sorted=True)),
        lr=sb.float_range(1e-4, 0.1, scale="log", name="lr"),
        depth=sb.int_range(1, 8),
        order=sb.permutate(["a", "b", "c"]),
        opt=sb.one_of(["sgd", sb.Dict(name="adam", beta=sb.float_range(0.8, 0.999))]),
    )


def test_markers_clone_and_compare_like_symbolic_values():
    space = _space()
    copy = sb.clone(space)
    assert sb.eq(copy, space) and copy == space
    assert sb.hash(copy) == sb.hash(space)
    assert copy.conv.filters is not space.conv.filters
    assert copy.opt.candidates[1].beta is not space.opt.candidates[1].beta
    assert sb.one_of([1, 2]) == sb.one_of([1, 2])
    assert sb.one_of([1, 2]) != sb.one_of([1, 2], name="x")
    assert sb.one_of([1, 2]) != sb.one_of([2, 1])
    assert sb.many_of(2, [1, 2]) != sb.many_of(2, [1, 2], sorted=True)
    assert sb.float_range(0.0, 1.0) != sb.int_range(0, 1)


def test_markers_rebind_like_symbolic_values():
    space = _space()
    space.rebind({"conv.filters.candidates[1]": 64, "lr.high": 0.5, "depth.name": "depth",
                  "opt.candidates[1].beta.low": 0.5})
    assert list(space.conv.filters.candidates) == [16, 64]
    assert space.lr.high == 0.5
    assert space.depth.name == "depth"
    assert space.opt.candidates[1].beta.low == 0.5
    assert sb.dna_spec(space)["depth"].id == "depth"


def test_markers_format_as_the_functions_that_build_them():
    assert sb.format(sb.one_of([16, 32], name="w")) == "one_of([16, 32], name='w')"
    assert sb.format(sb.many_of(2, ["a", "b"], distinct=False, sorted=True)) == \
        "many_of(2, ['a', 'b'], distinct=False, sorted=True)"
    assert sb.format(sb.permutate([1, 2])) == "permutate([1, 2])"
    assert sb.format(sb.float_range(0.001, 0.1, scale="log")) == \
        "float_range(0.001, 0.1, scale='log')"
    assert sb.format(sb.int_range(1, 8, name="n")) == "int_range(1, 8, name='n')"
    assert sb.format(MkConv(filters=sb.one_of([1, 2])), compact=True).startswith(
        "MkConv(filters=one_of([1, 2]), rate=0.5")
    assert repr(sb.one_of(["x"])) == "one_of(['x'])"
    assert str(sb.Dict(a=sb.int_range(0, 1))) == "{'a': int_range(0, 1)}"


def test_spaces_round_trip_through_json():
    space = _space()
    data = sb.to_json(space)
    assert data["conv"]["filters"]["_type"] == "symbo.one_of"
    back = sb.from_json_str(sb.to_json_str(space))
    assert sb.eq(back, space)
    assert isinstance(back.order, sb.Permutate)
    assert sb.dna_spec(back) == sb.dna_spec(space)


def test_json_with_a_bad_marker_is_rejected():
    data = {"_type": "symbo.int_range", "low": 5, "high": 1}
    with pytest.raises(sb.SymbolicValueError, match="low must be < high"):
        sb.from_json(data)


def test_markers_called_outside_a_trace_are_marker_objects():
    m = sb.one_of([1, 2], name="x")
    assert isinstance(m, sb.OneOf) and isinstance(m, sb.DeferredValue)
    assert isinstance(sb.many_of(1, [1]), sb.ManyOf)
    assert isinstance(sb.permutate([1]), sb.Permutate)
    assert isinstance(sb.float_range(0.0, 1.0), sb.FloatRange)
    assert isinstance(sb.int_range(0, 1), sb.IntRange)


def test_candidates_are_copied_not_shared():
    candidates = [1, 2]
    m = sb.one_of(candidates)
    candidates.append(3)
    assert list(m.candidates) == [1, 2]
    inner = sb.Dict(x=1)
    a, b = sb.one_of([inner]), sb.one_of([inner])
    a.candidates[0].rebind(x=2)
    assert b.candidates[0].x == 1  # the second marker got a copy: no node has two parents
    assert a.candidates[0].sym_parent is a.candidates
    assert b.candidates[0].sym_parent is b.candidates
