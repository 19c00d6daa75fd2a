"""Markers inside ``functools.partial`` arguments are decisions (a ``Partial`` node)."""

from __future__ import annotations

import functools
import json

import pytest

import symbo as sb
from symbo.core.partials import Partial


def scale(x: float, factor: float = 1.0, offset: float = 0.0) -> float:
    return x * factor + offset


class PartialHolder(sb.Object):
    fn: object = None


def test_a_marker_in_a_partials_keywords_is_decided():
    space = sb.Dict(fn=functools.partial(scale, factor=sb.float_range(1.0, 3.0, name="factor")))
    assert type(space.fn) is Partial
    spec = sb.dna_spec(space)
    assert [(d.id, d.name) for d in spec] == [("fn.keywords.factor", "factor")]
    program = sb.materialize(space, sb.DNA.from_params(spec, {"factor": 2.0}))
    assert type(program.fn) is functools.partial and program.fn(5) == 10.0


def test_markers_in_positional_args_in_fields_and_candidates():
    space = PartialHolder(fn=sb.one_of([
        functools.partial(scale, sb.int_range(1, 3), offset=sb.one_of([0.0, 1.0])),
        functools.partial(scale, factor=2.0),
        abs,
    ], name="fn"))
    spec = sb.dna_spec(space)
    assert [d.id for d in spec] == ["fn", "fn[=0].args[0]", "fn[=0].keywords.offset"]
    programs = list(sb.iterate(space))
    assert len(programs) == 3 * 2 + 2
    assert sorted(p.fn() for p in programs[:6]) == [1.0, 2.0, 2.0, 3.0, 3.0, 4.0]
    assert programs[6].fn(4) == 8.0 and programs[7].fn is abs


def test_partials_without_markers_stay_plain_and_print_by_reference():
    plain = functools.partial(scale, factor=2.0)
    assert sb.Dict(fn=plain).fn is plain
    assert sb.format(sb.Dict(fn=plain)) == f"{{'fn': partial({__name__}.scale, factor=2.0)}}"


def test_json_text_equality_and_hash():
    space = sb.Dict(fn=functools.partial(scale, sb.int_range(1, 3), factor=sb.one_of([2.0, 3.0])))
    data = sb.to_json(space)
    assert data["fn"]["_type"] == "partial" and data["fn"]["func"] == {"_ref": f"{__name__}.scale"}
    for again in (sb.from_json(json.loads(json.dumps(data))), sb.parse(sb.format(space))):
        assert type(again.fn) is Partial and sb.eq(again, space)
        assert sb.hash(again) == sb.hash(space)
    assert sb.fingerprint(sb.from_json(data)) == sb.fingerprint(space)


def test_a_partials_parts_can_be_rebound_and_are_checked():
    space = sb.Dict(fn=functools.partial(scale, factor=sb.float_range(1.0, 3.0)))
    space.rebind({"fn.keywords.offset": 1.0})
    assert dict(space.fn.keywords)["offset"] == 1.0
    with pytest.raises(sb.SymbolicTypeError, match="fn.func: expected callable"):
        space.rebind({"fn.func": 3})
    with pytest.raises(sb.SymbolicKeyError, match="a partial has func, args and keywords"):
        space.sym_get("fn.nope")


def test_the_issue_form_partial_of_a_class_with_a_choice():
    class Act:
        def __init__(self, approximate: str = "none") -> None:
            self.approximate = approximate

    space = sb.Dict(act=functools.partial(Act, approximate=sb.one_of(["none", "tanh"], name="a")))
    made = [p.act().approximate for p in sb.iterate(space)]
    assert made == ["none", "tanh"]
