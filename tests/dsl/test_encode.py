"""Tests of ``sb.encode``: a program back to its DNA (the inverse of ``materialize``)."""

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symbo as sb


class Head(sb.Object):
    units: int = 8
    act: str = "relu"


class Model(sb.Object):
    width: int = 32
    lr: float = 0.1
    head: Any = None
    tags: list[str] = []


SPACE = Model(
    width=sb.int_range(16, 256, scale="log"),
    lr=sb.float_range(1e-4, 1e-1, scale="log", name="lr"),
    head=sb.one_of([None, Head(units=sb.one_of([8, 16, 32]), act=sb.one_of(["relu", "gelu"])),
                    Head(units=64)]),
    tags=sb.many_of(2, ["a", "b", "c"], sorted=True),
)


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 10_000))
def test_encode_is_materializes_inverse(seed):
    program = sb.random_sample(SPACE, seed)
    dna = sb.encode(SPACE, program)
    assert sb.eq(sb.materialize(SPACE, dna), program)
    assert dna.spec is not None and sb.DNA.from_numbers(dna.spec, dna.to_numbers()) == dna


def test_encode_shared_names_permutations_and_many_of_repeats():
    space = sb.Dict(enc=sb.one_of(["relu", "gelu"], name="act"),
                    dec=sb.one_of(["relu", "gelu"], name="act"),
                    order=sb.permutate([1, 2, 3]),
                    picks=sb.many_of(3, ["x", "y"], distinct=False))
    program = sb.Dict(enc="gelu", dec="gelu", order=[3, 1, 2], picks=["y", "y", "x"])
    dna = sb.encode(space, program)
    assert sb.eq(sb.materialize(space, dna), program)
    with pytest.raises(sb.DNAError, match="dec: the markers named 'act' are one decision"):
        sb.encode(space, sb.Dict(enc="gelu", dec="relu", order=[3, 1, 2], picks=["y"] * 3))


def test_encode_int_candidates_in_a_float_field_and_nested_candidates():
    space = Model(lr=sb.one_of([1, 2]), head=sb.one_of([Head(units=sb.int_range(1, 4))]))
    program = sb.materialize(space, sb.DNA([1, (0, 3)]))
    assert program.lr == 2.0 and type(program.lr) is float
    assert sb.encode(space, program) == sb.DNA([1, (0, 3)])


@pytest.mark.parametrize("change, message", [
    ({"width": 300}, r"^width: 300 is not in int_range\(16, 256, scale='log'\)"),
    ({"width": 20.0}, "^width: expected int, got float"),
    ({"lr": 0.5}, r"^lr: 0.5 is not in float_range"),
    ({"head": Head(units=48)}, r"^head.units: 48 is none of the candidates of one_of\(\[8, 16, "
                               r"32\]\) \(in the closest candidate of head: \S*Head\(units=48"),
    ({"head": "dense"}, r"^head: 'dense' is none of the candidates"),
    ({"tags": ["c", "a"]}, "^tags: many_of.* keeps its picks in candidate order"),
    ({"tags": ["a"]}, "^tags: expected a list of 2"),
    ({"tags": ["a", "a"]}, "^tags: item 1 .'a'. repeats a pick, and the picks of many_of.* are "
                           "distinct"),
])
def test_encode_names_the_first_path_that_does_not_fit(change, message):
    program = sb.random_sample(SPACE, 0)
    try:
        program.rebind(change)
    except sb.SymbolicError as e:  # the program type refuses it: encode never sees it
        assert message.startswith("^width: expected int")
        assert "expected int" in str(e)
        return
    with pytest.raises(sb.DNAError, match=message):
        sb.encode(SPACE, program)


def test_encode_structure_that_differs_from_the_space():
    space = sb.Dict(a=[1, sb.one_of([2, 3])], b=sb.Dict(c=1))
    with pytest.raises(sb.DNAError, match=r"^a: expected a list of 2"):
        sb.encode(space, sb.Dict(a=[1], b={"c": 1}))
    with pytest.raises(sb.DNAError, match=r"^a\[0\]: expected 1, got 5"):
        sb.encode(space, sb.Dict(a=[5, 2], b={"c": 1}))
    with pytest.raises(sb.DNAError, match=r"^b: expected a dict with keys \['c'\]"):
        sb.encode(space, sb.Dict(a=[1, 2], b={"d": 1}))
    with pytest.raises(sb.DNAError, match="expected a Head, got Dict"):
        sb.encode(sb.Dict(h=Head(units=sb.int_range(1, 3))), sb.Dict(h={"units": 2}))


def test_encode_gives_params_for_enqueue_and_warm_starts():
    program = Model(width=64, lr=0.01, head=None, tags=["a", "c"])
    dna = sb.encode(SPACE, program)
    params = dna.to_params()
    assert params["lr"] == 0.01 and sb.DNA.from_params(dna.spec, params) == dna


def test_encode_refuses_traced_spaces():
    def fn():
        return sb.one_of([1, 2], name="a")

    with pytest.raises(sb.DNAError, match="encode works on spaces written with markers"):
        sb.encode(sb.trace(fn), 1)


def test_a_marker_encodes_a_value_on_its_own_as_pyglove_hyper_encode():
    assert sb.one_of([16, 32, 64]).encode(32) == sb.DNA(1)
    assert sb.many_of(2, ["a", "b", "c"]).encode(["c", "a"]) == sb.DNA([2, 0])
    assert sb.int_range(0, 9).encode(4) == sb.DNA(4)
    assert sb.one_of([sb.Dict(k=sb.one_of([3, 5])), None]).encode({"k": 5}) == sb.DNA((0, 1))
    with pytest.raises(sb.DNAError, match=r"7 is none of the candidates of one_of\(\[1, 2\]\)"):
        sb.one_of([1, 2]).encode(7)
