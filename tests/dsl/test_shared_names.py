"""A name is a decision: markers with one name and equal definitions are one decision point."""

from __future__ import annotations

import itertools

import pytest

import symbo as sb
from symbo.dsl.spec import pair_markers

D = sb.DNA


class Block(sb.Object):
    act: str = "relu"
    width: int = 8


def _two_blocks() -> sb.Dict:
    act = sb.one_of(["relu", "gelu", "tanh"], name="act")
    return sb.Dict(enc=Block(act=act, width=sb.int_range(4, 8)),
                   dec=Block(act=sb.clone(act), width=sb.int_range(4, 8)))


def test_equal_markers_under_one_name_are_one_decision():
    spec = sb.dna_spec(_two_blocks())
    assert [d.id for d in spec] == ["enc.act", "enc.width", "dec.width"]
    act = spec["act"]
    assert act.occurrences == ("enc.act", "dec.act")
    assert spec.space_size == 3 * 5 * 5
    dna = D.from_numbers(spec, [2, 5, 6])
    assert dna.to_dict() == {"act": 2, "enc.width": 5, "dec.width": 6}
    assert dna.to_params() == {"act": "tanh", "enc.width": 5, "dec.width": 6}
    program = sb.materialize(_two_blocks(), dna)
    assert program.enc.act == program.dec.act == "tanh"
    assert (program.enc.width, program.dec.width) == (5, 6)


def test_every_point_sets_every_place_alike():
    space = _two_blocks()
    programs = list(sb.iterate(space))
    assert len(programs) == 75
    assert all(p.enc.act == p.dec.act for p in programs)
    assert {p.enc.act for p in programs} == {"relu", "gelu", "tanh"}


def test_a_shared_choice_shares_its_sub_decisions():
    opt = sb.one_of(["sgd", sb.Dict(kind="adam", lr=sb.float_range(1e-4, 1e-2))], name="opt")
    space = sb.Dict(a=opt, b=sb.clone(opt))
    spec = sb.dna_spec(space)
    assert [d.id for d in spec] == ["a", "a[=1].lr"]
    program = sb.materialize(space, D.from_numbers(spec, [1, 0.005]))
    assert sb.eq(program.a, program.b) and program.a.lr == 0.005
    assert program.a is not program.b


def test_a_name_under_different_candidates_is_decided_before_the_choice():
    act = sb.one_of(["relu", "gelu"], name="act")
    space = sb.Dict(
        lr=sb.float_range(0.1, 1.0),
        block=sb.one_of([Block(act=act), sb.Dict(inner=Block(act=sb.clone(act))), "none"],
                        name="block"),
    )
    spec = sb.dna_spec(space)
    assert [d.id for d in spec.decisions] == ["lr", "block[=0].act", "block"]
    assert spec["act"].occurrences == ("block[=0].act", "block[=1].inner.act")
    assert all(not c.space.decisions for c in spec["block"].candidates)
    assert spec.space_size == float("inf")
    for i, expected in [(0, "gelu"), (1, "gelu")]:
        program = sb.materialize(space, D.from_dict(spec, {"lr": 0.5, "act": 1, "block": i}))
        got = program.block.act if i == 0 else program.block.inner.act
        assert got == expected
    assert sb.materialize(space, D.from_dict(spec, {"lr": 0.5, "act": 0, "block": 2})).block \
        == "none"


def test_a_name_inside_a_many_of_is_one_decision_for_every_position():
    k = sb.one_of([3, 5], name="k")
    space = sb.Dict(ops=sb.many_of(2, [sb.Dict(conv=k), sb.Dict(pool=sb.clone(k)), "skip"],
                                   distinct=False))
    spec = sb.dna_spec(space)
    assert [d.id for d in spec.decisions] == ["ops[=0].conv", "ops"]
    program = sb.materialize(space, D.from_dict(spec, {"k": 1, "ops": [0, 1]}))
    assert [dict(o) for o in program.ops] == [{"conv": 5}, {"pool": 5}]
    assert spec.space_size == 2 * 9


def test_a_single_named_marker_inside_a_many_of_is_shared_by_the_positions():
    space = sb.many_of(2, [sb.Dict(k=sb.int_range(1, 3, name="k")), "x"], distinct=False)
    spec = sb.dna_spec(space)
    assert [d.id for d in spec] == ["[=0].k", ""]
    program = sb.materialize(space, D.from_dict(spec, {"k": 2, "": [0, 0]}))
    assert [p.k for p in program] == [2, 2]


def test_unnamed_markers_are_never_shared():
    space = sb.List([sb.one_of([1, 2]), sb.one_of([1, 2])])
    assert len(sb.dna_spec(space)) == 2


def test_pair_markers_gives_every_marker_its_decision():
    space = _two_blocks()
    spec = sb.dna_spec(space)
    pairs = pair_markers(space, spec.space, spec)
    assert [(str(m.sym_path), d.id) for m, d in pairs] == [
        ("enc.act", "enc.act"), ("enc.width", "enc.width"), ("dec.act", "enc.act"),
        ("dec.width", "dec.width")]


def test_shared_names_survive_the_text_language_and_json():
    space = _two_blocks()
    for again in (sb.parse(sb.format(space)), sb.from_json(sb.to_json(space))):
        assert sb.dna_spec(again) == sb.dna_spec(space)


@pytest.mark.parametrize("algorithm", [
    lambda: sb.algorithms.Random(seed=0),
    lambda: sb.algorithms.Grid(),
    lambda: sb.algorithms.RegularizedEvolution(population_size=4, tournament_size=2, seed=0),
    lambda: sb.algorithms.TPE(seed=0),
    lambda: sb.algorithms.MCTS(seed=0),
    lambda: sb.algorithms.GaussianProcessBO(seed=0, num_startup=3, num_candidates=50),
])
def test_every_algorithm_searches_one_decision_per_name(algorithm):
    act = sb.one_of(["relu", "gelu", "tanh"], name="act")
    space = sb.Dict(enc=Block(act=act, width=sb.one_of([4, 8])),
                    dec=Block(act=sb.clone(act), width=sb.one_of([4, 8])))
    study = sb.tune(lambda p: float(p.enc.width + p.dec.width + (p.enc.act == "gelu")), space,
                    algorithm(), num_trials=12)
    assert len(study.trials) == 12
    for t in study.trials:
        assert t.program.enc.act == t.program.dec.act
        assert set(t.params) == {"act", "enc.width", "dec.width"}


def test_grid_enumerates_a_shared_name_once():
    space = _two_blocks()
    algo = sb.algorithms.Grid()
    algo.setup(sb.dna_spec(space))
    assert algo.size == 75
    seen = {tuple(algo.propose().to_numbers()) for _ in range(75)}
    assert len(seen) == 75 and set(seen) == set(itertools.product(range(3), range(4, 9),
                                                                  range(4, 9)))
