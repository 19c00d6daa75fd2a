"""Tests of ``symbo.dsl.spec``: decision points, ids, names and space sizes."""

from __future__ import annotations

import itertools
import math

import pytest

import symbo as sb
from symbo.dsl.spec import Choice, FloatDecision, IntDecision


class SpModel(sb.Object):
    width: int = 8
    act: str = "relu"
    layers: list[int] = []


def ids(space) -> list[str]:
    return [d.id for d in sb.dna_spec(space)]


# ---- ids -----------------------------------------------------------------------------------------
def test_ids_are_key_paths_in_preorder():
    space = sb.Dict(
        model=SpModel(width=sb.int_range(1, 4), layers=[8, sb.one_of([16, 32])]),
        lr=sb.float_range(0.1, 1.0),
        blocks=sb.List([sb.Dict(op=sb.one_of(["a", "b"])), sb.Dict(op=sb.one_of(["c"]))]),
    )
    assert ids(space) == ["model.width", "model.layers[1]", "lr", "blocks[0].op", "blocks[1].op"]


def test_ids_under_a_candidate_carry_the_candidate_index():
    space = sb.Dict(opt=sb.one_of([
        "sgd",
        sb.Dict(momentum=sb.float_range(0.0, 0.99), nesterov=sb.one_of([True, False])),
        sb.Dict(beta=sb.one_of([0.9, sb.Dict(b1=sb.int_range(1, 3))])),
    ]))
    assert ids(space) == [
        "opt", "opt[=1].momentum", "opt[=1].nesterov", "opt[=2].beta", "opt[=2].beta[=1].b1",
    ]


def test_ids_of_markers_directly_in_candidates_and_many_of():
    space = sb.Dict(x=sb.one_of([sb.one_of([1, 2]), sb.int_range(0, 3)]),
                    m=sb.many_of(2, [sb.Dict(k=sb.int_range(0, 1)), "b", sb.one_of([5, 6])]))
    assert ids(space) == ["x", "x[=0]", "x[=1]", "m", "m[=0].k", "m[=2]"]


def test_a_space_that_is_a_marker_has_the_empty_id():
    spec = sb.dna_spec(sb.one_of([1, sb.Dict(a=sb.one_of(["x", "y"]))]))
    assert [d.id for d in spec] == ["", "[=1].a"]


def test_locations_are_relative_to_the_candidate():
    spec = sb.dna_spec(sb.Dict(opt=sb.one_of([1, sb.Dict(m=sb.Dict(n=sb.int_range(0, 2)))])))
    d = spec["opt[=1].m.n"]
    assert str(d.location) == "m.n"
    assert str(spec["opt"].location) == "opt"


def test_spaces_without_markers_have_no_decisions():
    for value in (sb.Dict(a=1, b=[2]), 5, "text", None, SpModel()):
        spec = sb.dna_spec(value)
        assert len(spec) == 0 and spec.space_size == 1 and spec.is_finite


# ---- names ---------------------------------------------------------------------------------------
def test_decisions_are_found_by_name_and_by_id():
    space = sb.Dict(lr=sb.float_range(0.1, 1.0, name="learning_rate"),
                    opt=sb.one_of(["sgd", sb.Dict(m=sb.int_range(0, 3, name="m"))], name="opt"))
    spec = sb.dna_spec(space)
    assert spec["learning_rate"] is spec["lr"]
    assert spec["m"].id == "opt[=1].m"
    assert spec["opt[=1].m"].name == "m"
    assert set(spec.by_name) == {"learning_rate", "opt", "m"}
    assert spec["learning_rate"].name == "learning_rate"
    with pytest.raises(sb.SymbolicValueError, match="no decision named 'nope'"):
        spec["nope"]


def test_one_name_with_two_definitions_is_an_error_naming_both_places():
    space = sb.Dict(a=sb.one_of([1, 2], name="x"), b=sb.Dict(c=sb.int_range(0, 3, name="x")))
    with pytest.raises(sb.SymbolicValueError, match=r"'x'.*defined differently.*'a'.*'b\.c'"):
        sb.dna_spec(space)


def test_one_name_with_two_definitions_in_different_branches_is_an_error_too():
    space = sb.one_of([sb.Dict(v=sb.int_range(0, 1, name="v")),
                       sb.Dict(v=sb.int_range(0, 2, name="v"))])
    with pytest.raises(sb.SymbolicValueError, match=r"'v' are one decision but are defined "
                       r"differently: int_range\(0, 1, name='v'\) at '\[=0\]\.v' and "
                       r"int_range\(0, 2, name='v'\) at '\[=1\]\.v'"):
        sb.dna_spec(space)


def test_a_name_may_not_be_the_id_of_another_decision():
    assert sb.dna_spec(sb.Dict(lr=sb.float_range(0.1, 1.0, name="lr")))["lr"].id == "lr"
    space = sb.Dict(lr=sb.one_of([1, 2]), x=sb.float_range(0.1, 1.0, name="lr"))
    with pytest.raises(sb.SymbolicValueError, match="'x' is named 'lr', the id of another"):
        sb.dna_spec(space)


# ---- decision points -----------------------------------------------------------------------------
def test_decision_point_types_and_attributes():
    space = sb.Dict(
        a=sb.one_of(["x", 2, sb.Dict(k=1)]),
        b=sb.many_of(2, [1, 2, 3], distinct=False, sorted=True),
        c=sb.permutate(["p", "q"]),
        d=sb.float_range(0.001, 0.1, scale="log"),
        e=sb.int_range(2, 9),
    )
    a, b, c, d, e = sb.dna_spec(space).decisions
    assert isinstance(a, Choice) and a.num_choices == 1 and a.num_candidates == 3
    assert [cand.literal for cand in a.candidates] == ["'x'", "2", "{'k': 1}"]
    assert not a.is_conditional
    assert isinstance(b, Choice) and (b.num_choices, b.distinct, b.sorted) == (2, False, True)
    assert isinstance(c, Choice) and (c.num_choices, c.distinct, c.sorted) == (2, True, False)
    assert isinstance(d, FloatDecision) and (d.low, d.high, d.scale) == (0.001, 0.1, "log")
    assert isinstance(e, IntDecision) and (e.low, e.high, e.scale) == (2, 9, "linear")


def test_a_choice_with_markers_in_candidates_is_conditional():
    spec = sb.dna_spec(sb.one_of([1, sb.Dict(x=sb.int_range(0, 2))]))
    choice = spec.decisions[0]
    assert choice.is_conditional
    assert len(choice.candidates[0].space) == 0
    assert [d.id for d in choice.candidates[1].space.decisions] == ["[=1].x"]
    assert choice.candidate_ids(1) == "[=1]"
    assert len(spec) == 2 and len(spec.decisions) == 1


def test_specs_of_equal_spaces_are_equal_and_hash_alike():
    space = sb.Dict(a=sb.one_of([1, sb.Dict(b=sb.int_range(0, 3))]), c=sb.float_range(0.0, 1.0))
    s1, s2 = sb.dna_spec(space), sb.dna_spec(sb.clone(space))
    assert s1 == s2 and hash(s1) == hash(s2)
    assert s1 != sb.dna_spec(sb.Dict(a=sb.one_of([1, 2])))
    assert "3 decisions" in repr(s1)


# ---- space sizes ---------------------------------------------------------------------------------
def test_space_size_of_one_of_and_products():
    assert sb.dna_spec(sb.one_of([1, 2, 3])).space_size == 3
    space = sb.Dict(a=sb.one_of([1, 2, 3]), b=sb.one_of(["x", "y"]), c=sb.int_range(1, 5))
    assert sb.dna_spec(space).space_size == 3 * 2 * 5


def test_space_size_of_a_conditional_one_of_is_the_sum_of_its_subspaces():
    space = sb.one_of([
        "plain",                                                      # 1
        sb.Dict(a=sb.one_of([1, 2, 3])),                              # 3
        sb.Dict(a=sb.one_of([1, 2]), b=sb.int_range(0, 3)),           # 2 * 4
        sb.one_of([sb.Dict(c=sb.one_of([1, 2])), 7]),                 # 2 + 1
    ])
    assert sb.dna_spec(space).space_size == 1 + 3 + 8 + 3


@pytest.mark.parametrize("n, k", [(1, 1), (3, 1), (3, 2), (4, 3), (5, 5), (2, 3)])
@pytest.mark.parametrize("distinct", [True, False])
@pytest.mark.parametrize("sorted_", [True, False])
def test_space_size_of_many_of_matches_itertools(n, k, distinct, sorted_):
    if distinct and k > n:
        return
    if distinct:
        points = itertools.combinations(range(n), k) if sorted_ else \
            itertools.permutations(range(n), k)
    else:
        points = itertools.combinations_with_replacement(range(n), k) if sorted_ else \
            itertools.product(range(n), repeat=k)
    spec = sb.dna_spec(sb.many_of(k, list(range(n)), distinct=distinct, sorted=sorted_))
    assert spec.space_size == len(list(points))
    assert isinstance(spec.space_size, int)


@pytest.mark.parametrize("distinct, sorted_", list(itertools.product([True, False], repeat=2)))
def test_space_size_of_many_of_with_conditional_candidates(distinct, sorted_):
    candidates = [sb.Dict(a=sb.one_of([1, 2])), "b", sb.Dict(c=sb.int_range(0, 2))]  # 2, 1, 3
    space = sb.many_of(2, candidates, distinct=distinct, sorted=sorted_)
    sizes = [2, 1, 3]
    if distinct:
        pairs = itertools.combinations(range(3), 2) if sorted_ else itertools.permutations(range(3), 2)
    else:
        pairs = itertools.combinations_with_replacement(range(3), 2) if sorted_ else \
            itertools.product(range(3), repeat=2)
    expected = sum(sizes[i] * sizes[j] for i, j in pairs)
    spec = sb.dna_spec(space)
    assert spec.space_size == expected
    assert len(list(sb.iterate_dna(spec))) == expected


@pytest.mark.parametrize("n", [1, 2, 3, 4, 6])
def test_space_size_of_permutate_is_n_factorial(n):
    assert sb.dna_spec(sb.permutate(list(range(n)))).space_size == math.factorial(n)


def test_space_size_of_int_range_counts_both_ends():
    assert sb.dna_spec(sb.int_range(3, 10)).space_size == 8
    assert sb.dna_spec(sb.int_range(-2, -1)).space_size == 2
    assert sb.dna_spec(sb.int_range(1, 1000, scale="log")).space_size == 1000


def test_space_size_is_infinite_with_a_float_range():
    spec = sb.dna_spec(sb.Dict(a=sb.one_of([1, 2]), b=sb.float_range(0.0, 1.0)))
    assert math.isinf(spec.space_size) and not spec.is_finite
    conditional = sb.dna_spec(sb.one_of([1, sb.Dict(b=sb.float_range(0.0, 1.0))]))
    assert math.isinf(conditional.space_size)
    many = sb.dna_spec(sb.many_of(2, [1, sb.float_range(0.0, 1.0)]))
    assert math.isinf(many.space_size)


def test_space_size_is_exact_for_huge_spaces():
    space = sb.List([sb.int_range(0, 999) for _ in range(10)])
    assert sb.dna_spec(space).space_size == 1000 ** 10

