"""Markers inside tuples: ``sb.Tuple`` makes them decisions; tuple fields check item by item."""

from __future__ import annotations

import pytest

import symbo as sb
from symbo.core.tuples import Tuple


class TupleOpt(sb.Object):
    lr: float = 1e-3
    betas: tuple[float, float] = (0.9, 0.999)


class TupleConv(sb.Object):
    kernel: int | tuple[int, int] = 3
    sizes: tuple[int, ...] = ()


def test_a_marker_in_a_tuple_argument_is_a_decision():
    space = TupleOpt(betas=(sb.float_range(0.8, 0.95, name="b1"), 0.999))
    assert type(space.betas) is Tuple and str(space.betas[0].sym_path) == "betas[0]"
    spec = sb.dna_spec(space)
    assert [(d.id, d.name) for d in spec] == [("betas[0]", "b1")]
    program = sb.materialize(space, sb.DNA.from_params(spec, {"b1": 0.9}))
    assert program.betas == (0.9, 0.999) and type(program.betas) is tuple
    assert type(space.betas) is Tuple  # the space is unchanged


def test_tuple_fields_check_every_item_markers_included():
    with pytest.raises(sb.SymbolicTypeError, match=r"betas\[0\]: expected float, got str 'a'"):
        TupleOpt(betas=(sb.one_of(["a", 0.5]), 0.999))
    with pytest.raises(sb.SymbolicTypeError, match=r"betas: expected tuple\[float, float\] with "
                       r"2 items, got 3"):
        TupleOpt(betas=(sb.float_range(0.8, 0.9), 0.9, 0.9))
    with pytest.raises(sb.SymbolicTypeError, match=r"sizes\[1\]: expected int, got str"):
        TupleConv(sizes=(sb.int_range(1, 3), sb.one_of(["x"])))
    conv = TupleConv(kernel=(sb.one_of([1, 3]), 3), sizes=(1, sb.int_range(2, 4)))
    assert [d.id for d in sb.dna_spec(conv)] == ["kernel[0]", "sizes[1]"]
    assert all(isinstance(p.kernel, tuple) and p.kernel[1] == 3 for p in sb.iterate(conv))


def test_tuples_without_markers_stay_plain():
    assert type(TupleOpt(betas=(0.8, 0.9)).betas) is tuple
    assert type(sb.Dict(k=(1, 2)).k) is tuple and type(sb.List([(1, 2)])[0]) is tuple


def test_tuples_in_untyped_containers_and_nested_values():
    space = sb.Dict(k=(sb.one_of([1, 3], name="k"), sb.Dict(a=sb.int_range(0, 2))),
                    nested=[((sb.one_of(["x", "y"]),), 1)])
    spec = sb.dna_spec(space)
    assert [d.id for d in spec] == ["k[0]", "k[1].a", "nested[0][0][0]"]
    for program in sb.iterate(space, limit=5):
        assert type(program.k) is tuple and program.k[1].a in (0, 1, 2)
        assert type(program.nested[0]) is tuple and type(program.nested[0][0]) is tuple
        assert program.nested[0][0][0] in ("x", "y")


def test_a_shared_name_inside_a_tuple_and_outside_it():
    space = sb.Dict(kernel=(sb.one_of([3, 5], name="k"), sb.one_of([3, 5], name="k")),
                    pool=sb.one_of([3, 5], name="k"))
    spec = sb.dna_spec(space)
    assert len(spec) == 1 and spec["k"].occurrences == ("kernel[0]", "kernel[1]", "pool")
    assert [(p.kernel, p.pool) for p in sb.iterate(space)] == [((3, 3), 3), ((5, 5), 5)]


def test_text_json_equality_and_hashing():
    space = TupleOpt(betas=(sb.float_range(0.8, 0.95), 0.999))
    assert sb.format(space) == "TupleOpt(lr=0.001, betas=(float_range(0.8, 0.95), 0.999))"
    for again in (sb.parse(sb.format(space)), sb.from_json(sb.to_json(space)),
                  sb.from_json_str(sb.to_json_str(space))):
        assert type(again.betas) is Tuple and sb.eq(again, space)
        assert sb.hash(again) == sb.hash(space)
    assert sb.to_json(space)["betas"]["_type"] == "tuple"
    single = sb.Dict(t=(sb.int_range(0, 1),))
    assert sb.format(single) == "{'t': (int_range(0, 1),)}"
    assert sb.eq(sb.parse(sb.format(single)), single)
    assert sb.eq(Tuple((1, 2)), (1, 2)) and sb.hash(Tuple((1, 2))) == sb.hash((1, 2))
    assert Tuple((1, 2)) == (1, 2) and Tuple((1, 2)) != (1, 3)


def test_items_of_a_tuple_can_be_rebound_not_removed():
    space = TupleOpt(betas=(sb.float_range(0.8, 0.95), 0.999))
    space.rebind({"betas[1]": 0.99})
    assert space.betas[1] == 0.99
    space.rebind({"betas[0]": 0.85})
    assert space.betas.to_tuple() == (0.85, 0.99)
    with pytest.raises(sb.SymbolicTypeError, match=r"betas\[1\]: expected float, got str"):
        space.rebind({"betas[1]": "high"})
    assert space.betas[1] == 0.99
    with pytest.raises(sb.SymbolicError, match=r"betas\[1\]: a tuple's items cannot be deleted"):
        space.rebind({"betas[1]": sb.MISSING})
    with pytest.raises(sb.SymbolicKeyError, match="no index 2 in a tuple of 2"):
        space.sym_get("betas[2]")


def test_clone_and_query_see_the_items():
    space = sb.Dict(t=(sb.one_of([1, 2]), [sb.int_range(0, 3)]))
    copy = sb.clone(space)
    assert type(copy.t) is Tuple and copy.t is not space.t and sb.eq(copy, space)
    assert copy.t[1].sym_parent is copy.t
    found = sb.query(space, where=lambda v: isinstance(v, sb.Marker))
    assert [str(k) for k in found] == ["t[0]", "t[1][0]"]
