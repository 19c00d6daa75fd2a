"""Tests of ``symbo.dsl.materialize``: materialize, random points, iterate, is_deterministic."""

from __future__ import annotations

import importlib
import math
import random
from collections.abc import Iterator

import pytest

import symbo as sb
from symbo.dsl.dna import validate

D = sb.DNA


class MtModel(sb.Object):
    lr: float = 0.1
    act: str = "relu"
    sizes: list[int] = [8]
    head: sb.Object | None = None


def _space() -> sb.Dict:
    return sb.Dict(
        model=MtModel(lr=sb.float_range(1e-4, 0.1, scale="log"),
                      act=sb.one_of(["relu", "gelu"]),
                      sizes=sb.many_of(2, [8, 16, 32], sorted=True)),
        opt=sb.one_of(["sgd", sb.Dict(name="adam", beta=sb.one_of([0.9, 0.99]))]),
        depth=sb.int_range(1, 4),
        order=sb.permutate(["a", "b", "c"]),
    )


# ---- materialize -----------------------------------------------------------------------------
def test_materialize_replaces_every_marker():
    space = _space()
    dna = D.from_numbers(sb.dna_spec(space), [0.01, 1, 0, 2, 1, 1, 3, 2, 0, 1])
    program = sb.materialize(space, dna)
    expected = sb.Dict(
        model=MtModel(lr=0.01, act="gelu", sizes=[8, 32]),
        opt=sb.Dict(name="adam", beta=0.99),
        depth=3,
        order=["c", "a", "b"],
    )
    assert sb.eq(program, expected), sb.diff(program, expected)
    assert sb.is_deterministic(program)


def test_materialize_is_deterministic_and_leaves_the_space_untouched():
    space = _space()
    before = sb.clone(space)
    marker = space.model.act
    dna = sb.random_dna(sb.dna_spec(space), seed=7)
    a, b = sb.materialize(space, dna), sb.materialize(space, dna)
    assert sb.eq(a, b) and a is not b
    assert sb.eq(space, before)
    assert space.model.act is marker
    assert not sb.is_deterministic(space)


def test_programs_share_no_nodes_with_the_space():
    space = sb.Dict(opt=sb.one_of([sb.Dict(name="adam", beta=0.9), "sgd"]))
    program = sb.materialize(space, D(None, (D(0),)))
    program.opt.rebind(beta=0.5)
    assert space.opt.candidates[0].beta == 0.9
    assert program.opt.sym_parent is program
    assert str(program.opt.sym_path) == "opt"
    assert program.sym_parent is None


def test_decided_values_are_checked_by_their_field():
    space = MtModel(lr=sb.one_of([1, 2]), sizes=sb.many_of(2, [1, 2, 3]))
    program = sb.materialize(space, D(None, (D(0), D(None, (D(2), D(0))))))
    assert sb.eq(program, MtModel(lr=1, sizes=[3, 1]))
    assert type(program.lr) is float
    assert isinstance(program.sizes, sb.List)
    assert str(program.sizes.sym_path) == "sizes"
    with pytest.raises(sb.SymbolicTypeError, match=r"sizes\[0\]: expected int"):
        program.rebind({"sizes[0]": "x"})


def test_materialize_a_space_that_is_a_marker():
    assert sb.materialize(sb.one_of(["a", "b"]), D(None, (D(1),))) == "b"
    assert sb.materialize(sb.int_range(0, 9), D(None, (D(4),))) == 4
    picked = sb.materialize(sb.many_of(2, ["a", "b", "c"]), D(None, (D(None, (D(2), D(0))),)))
    assert isinstance(picked, sb.List) and picked == ["c", "a"]
    nested = sb.one_of([1, sb.Dict(x=sb.one_of(["p", "q"]))])
    assert sb.eq(sb.materialize(nested, D(None, (D(1, (D(1),)),))), sb.Dict(x="q"))


def test_many_of_and_permutate_with_a_single_choice_give_a_list():
    space = sb.Dict(m=sb.many_of(1, ["a", "b"]), p=sb.permutate(["z"]),
                    q=sb.permutate([sb.int_range(1, 2)]))
    spec = sb.dna_spec(space)
    program = sb.materialize(space, sb.DNA.from_numbers(spec, [1, 0, 0, 2]))
    assert sb.eq(program, sb.Dict(m=["b"], p=["z"], q=[2]))
    assert [list(p.m) for p in sb.iterate(space)] == [["a"], ["a"], ["b"], ["b"]]
    assert sb.materialize(sb.many_of(1, ["a", "b"]), D(None, (D(0),))) == ["a"]


def test_materialize_with_markers_in_nested_candidates():
    space = sb.Dict(x=sb.one_of([
        sb.one_of([1, 2]),
        sb.Dict(y=sb.many_of(2, [sb.Dict(z=sb.int_range(0, 5)), "w"])),
    ]))
    spec = sb.dna_spec(space)
    assert sb.materialize(space, D.from_numbers(spec, [0, 1])) == sb.Dict(x=2)
    program = sb.materialize(space, D.from_numbers(spec, [1, 1, 0, 4]))
    assert sb.eq(program, sb.Dict(x=sb.Dict(y=["w", sb.Dict(z=4)])))


def test_materialize_a_value_without_markers_copies_it():
    value = sb.Dict(a=[1, 2])
    program = sb.materialize(value, D(None, ()))
    assert sb.eq(program, value) and program is not value


def test_materialize_validates_the_dna():
    space = _space()
    with pytest.raises(sb.DNAError, match="materialize needs a DNA, got list"):
        sb.materialize(space, [0, 1])
    with pytest.raises(sb.DNAError, match="DNA: expected 6 decisions, got 1"):
        sb.materialize(space, D(None, (D(0),)))
    good = D.from_numbers(sb.dna_spec(space), [0.01, 1, 0, 2, 1, 1, 3, 2, 0, 1])
    with pytest.raises(sb.DNAError, match=r"depth: expected an int in \[1, 4\], got 7"):
        sb.materialize(space, D(None, good.children[:4] + (D(7),) + good.children[5:]))


def test_materialize_without_checking_still_reports_a_shape_mismatch():
    with pytest.raises(sb.DNAError, match="more decisions"):
        sb.materialize(sb.Dict(a=sb.one_of([1, 2])), D(None, (D(0), D(1))), check=False)
    with pytest.raises(sb.DNAError, match="fewer decisions"):
        sb.materialize(sb.Dict(a=sb.one_of([1, 2]), b=sb.one_of([1])), D(None, (D(0),)),
                       check=False)


# ---- random points ---------------------------------------------------------------------------
def test_random_dna_is_reproducible_with_a_seed_and_valid():
    spec = sb.dna_spec(_space())
    for seed in range(20):
        dna = sb.random_dna(spec, seed=seed)
        assert dna == sb.random_dna(spec, seed=seed)
        validate(spec, dna)
        assert dna.spec is spec
    assert len({sb.random_dna(spec, seed=s) for s in range(20)}) > 10


def test_random_dna_accepts_a_random_instance():
    spec = sb.dna_spec(_space())
    a = [sb.random_dna(spec, random.Random(3)) for _ in range(2)]
    rng = random.Random(3)
    b = [sb.random_dna(spec, rng), sb.random_dna(spec, rng)]
    assert a[0] == a[1] == b[0]
    assert b[0] != b[1]


def test_random_sample_is_reproducible_and_deterministic():
    space = _space()
    a, b = sb.random_sample(space, seed=11), sb.random_sample(space, seed=11)
    assert sb.eq(a, b)
    assert sb.is_deterministic(a)
    assert isinstance(a.model, MtModel)
    assert a.model.act in ("relu", "gelu")
    assert 1e-4 <= a.model.lr <= 0.1
    assert sorted(a.order) == ["a", "b", "c"]
    assert a.model.sizes == sorted(a.model.sizes) and len(set(a.model.sizes)) == 2


def test_random_values_stay_in_range_on_log_scales():
    spec = sb.dna_spec(sb.Dict(f=sb.float_range(1e-6, 1e-5, scale="log"),
                               i=sb.int_range(1, 3, scale="log"),
                               j=sb.int_range(-3, 3)))
    seen_i, seen_j = set(), set()
    for seed in range(300):
        f, i, j = sb.random_dna(spec, seed=seed).to_numbers()
        assert 1e-6 <= f <= 1e-5
        seen_i.add(i)
        seen_j.add(j)
    assert seen_i == {1, 2, 3}
    assert seen_j == set(range(-3, 4))


def test_random_sample_covers_every_candidate():
    space = sb.one_of(["a", "b", sb.Dict(c=sb.one_of([1, 2]))])
    seen = {sb.format(sb.random_sample(space, seed=s)) for s in range(200)}
    assert seen == {"'a'", "'b'", "{'c': 1}", "{'c': 2}"}


# ---- iterate ---------------------------------------------------------------------------------
def _finite() -> sb.Dict:
    return sb.Dict(
        a=sb.one_of([1, sb.Dict(b=sb.one_of(["x", "y"]))]),
        m=sb.many_of(2, [1, 2, 3], sorted=True),
        p=sb.permutate([0, 1]),
        n=sb.int_range(0, 1),
    )


def test_iterate_yields_every_point_once():
    space = _finite()
    spec = sb.dna_spec(space)
    programs = list(sb.iterate(space))
    assert spec.space_size == 3 * 3 * 2 * 2
    assert len(programs) == spec.space_size
    assert len({sb.format(p, compact=True) for p in programs}) == len(programs)
    assert all(sb.is_deterministic(p) for p in programs)
    dnas = list(sb.iterate_dna(spec))
    assert len(set(dnas)) == len(dnas) == spec.space_size
    for dna in dnas:
        validate(spec, dna)
    assert [sb.materialize(space, d) for d in dnas] == programs


def test_iterate_has_a_fixed_order():
    space = sb.Dict(a=sb.one_of([1, sb.Dict(b=sb.one_of(["x", "y"]))]), c=sb.one_of([True, False]))
    texts = [sb.format(p, compact=True) for p in sb.iterate(space)]
    assert texts == [
        "{'a': 1, 'c': True}",
        "{'a': 1, 'c': False}",
        "{'a': {'b': 'x'}, 'c': True}",
        "{'a': {'b': 'x'}, 'c': False}",
        "{'a': {'b': 'y'}, 'c': True}",
        "{'a': {'b': 'y'}, 'c': False}",
    ]
    assert texts == [sb.format(p, compact=True) for p in sb.iterate(sb.clone(space))]
    assert [list(p) for p in sb.iterate(sb.many_of(2, ["a", "b", "c"], sorted=True))] == \
        [["a", "b"], ["a", "c"], ["b", "c"]]
    assert [list(p) for p in sb.iterate(sb.permutate([1, 2, 3]))] == \
        [[1, 2, 3], [1, 3, 2], [2, 1, 3], [2, 3, 1], [3, 1, 2], [3, 2, 1]]


def test_iterate_with_a_limit():
    space = _finite()
    everything = list(sb.iterate(space))
    first = list(sb.iterate(space, limit=5))
    assert len(first) == 5 and first == everything[:5]
    assert list(sb.iterate(space, limit=0)) == []
    assert len(list(sb.iterate(space, limit=10_000))) == len(everything)


def test_iterate_is_lazy(monkeypatch: pytest.MonkeyPatch):
    """Points are made as they are read (counted, not timed): a space of 10**9 * 200**3
    points gives its first ones at once."""
    module = importlib.import_module("symbo.dsl.materialize")  # (the package's name: the function)
    made = []
    materialize = module.materialize
    monkeypatch.setattr(module, "materialize", lambda *a, **k: made.append(1) or
                        materialize(*a, **k))
    space = sb.Dict(a=sb.int_range(0, 10**9), b=sb.many_of(3, list(range(200))))
    points = sb.iterate(space)
    assert isinstance(points, Iterator) and made == []
    first = [next(points) for _ in range(3)]
    assert len(made) == 3
    assert [p.a for p in first] == [0, 0, 0]
    assert [list(p.b) for p in first] == [[0, 1, 2], [0, 1, 3], [0, 1, 4]]
    assert [list(p.b) for p in sb.iterate(space, limit=3)] == [[0, 1, 2], [0, 1, 3], [0, 1, 4]]
    assert len(made) == 6


def test_iterate_refuses_infinite_spaces_at_once():
    space = sb.Dict(a=sb.one_of([1, 2]), lr=sb.float_range(0.0, 1.0))
    with pytest.raises(sb.SymbolicValueError, match=r"continuous decisions \(lr\)"):
        sb.iterate(space)
    with pytest.raises(sb.SymbolicValueError, match="continuous"):
        sb.iterate_dna(sb.dna_spec(space))


def test_iterate_a_space_without_markers_yields_it_once():
    assert [sb.format(p) for p in sb.iterate(sb.Dict(a=1))] == ["{'a': 1}"]
    assert list(sb.iterate(5)) == [5]


# ---- is_deterministic ------------------------------------------------------------------------
@pytest.mark.parametrize("value, expected", [
    (5, True),
    ("x", True),
    (sb.Dict(a=1, b=[2, sb.Dict(c=3)]), True),
    (MtModel(), True),
    (sb.one_of([1]), False),
    (sb.Dict(a=[1, sb.int_range(0, 1)]), False),
    (MtModel(head=MtModel(act=sb.one_of(["a"]))), False),
    (sb.List([sb.Dict(x=sb.float_range(0.0, 1.0))]), False),
])
def test_is_deterministic(value, expected):
    assert sb.is_deterministic(value) is expected


def test_random_float_values_are_floats():
    dna = sb.random_dna(sb.dna_spec(sb.float_range(0.0, 1.0)), seed=0)
    assert isinstance(dna.to_numbers()[0], float) and not math.isnan(dna.to_numbers()[0])


def test_a_dna_of_another_space_is_checked_against_this_one():
    other = sb.DNA.from_numbers(sb.dna_spec(sb.Dict(x=sb.one_of([1, 2, 3]))), [2])
    with pytest.raises(sb.DNAError, match=r"x: expected a candidate index in \[0, 1\], got 2"):
        sb.materialize(sb.Dict(x=sb.one_of([1, 2])), other)
    with pytest.raises(sb.DNAError, match=r"x: expected an int in \[0, 1\], got 2"):
        sb.materialize(sb.Dict(x=sb.int_range(0, 1)), other)
