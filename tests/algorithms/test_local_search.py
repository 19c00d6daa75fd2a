"""One-edit neighbourhoods and LocalSearch (White et al. 2021): first-improvement moves,
restarts at local optima, no point twice, parallel proposals, resuming."""

from __future__ import annotations

import random

import pytest

import symbo as sb
from symbo.algorithms import AlgorithmError, LocalSearch
from symbo.algorithms.neighbours import neighbours

from .replay import Log, resumed

GRID = sb.Dict(a=sb.one_of(list(range(6))), b=sb.one_of(list(range(6))))


def _differences(spec, a, b):
    return sum(x != y for x, y in zip(a.use_spec(spec).to_dict().values(),
                                      b.use_spec(spec).to_dict().values()))


def test_neighbours_differ_in_one_decision_and_are_valid():
    space = sb.Dict(cell=sb.dag_cell(3, ["conv", "pool", "skip"]), n=sb.int_range(0, 3),
                    opt=sb.one_of(["sgd", sb.Dict(m=sb.one_of([0.9, 0.99]))]))
    spec = sb.dna_spec(space)
    rng = random.Random(0)
    for seed in range(10):
        dna = sb.random_dna(spec, seed=seed)
        found = neighbours(spec, dna, rng)
        assert len(set(found)) == len(found) and dna not in found
        for d in found:
            sb.materialize(space, d)                   # a valid point of the space
            assert _differences(spec, dna, d) >= 1
    # a node of a DAG cell: one input edge moved or one op replaced
    cell = sb.dna_spec(sb.dag_cell(1, ["conv", "pool"], num_inputs=3))
    dna = sb.DNA.from_numbers(cell, [0, 1, 0, 0])     # inputs {0, 1}, ops conv, conv
    as_numbers = sorted(d.to_numbers() for d in neighbours(cell, dna, rng))
    assert as_numbers == [[0, 1, 0, 1], [0, 1, 1, 0], [0, 2, 0, 0], [1, 2, 0, 0]]


def test_neighbours_of_int_ranges_many_of_and_permutations():
    spec = sb.dna_spec(sb.Dict(n=sb.int_range(0, 9)))
    assert sorted(d.to_numbers() for d in neighbours(spec, sb.DNA([0]), random.Random(0))) == [[1]]
    perm = sb.dna_spec(sb.permutate([1, 2, 3]))
    assert len(neighbours(perm, sb.DNA([0, 1, 2]), random.Random(0))) == 3   # the swaps
    with pytest.raises(AlgorithmError, match="local search needs choices"):
        neighbours(sb.dna_spec(sb.Dict(x=sb.float_range(0.0, 1.0))), sb.DNA([0.5]),
                   random.Random(0))


def test_climbs_to_the_optimum_and_never_proposes_a_point_twice():
    study = sb.tune(lambda p: -abs(p.a - 4) - abs(p.b - 1), GRID,
                    LocalSearch(num_startup=2, seed=1), num_trials=25)
    assert study.best_trial.reward == 0
    dnas = [t.dna for t in study.trials]
    assert len(set(dnas)) == len(dnas)


def test_a_local_optimum_starts_it_afresh():
    # two basins: (0, 0) is a local optimum of the one-edit graph, (5, 5) the global one
    def value(a, b):
        return 10.0 if (a, b) == (5, 5) else (3.0 if (a, b) == (0, 0) else -(a + b) / 10.0)

    algo = LocalSearch(num_startup=1, seed=0)
    algo.setup(sb.dna_spec(GRID))
    start = sb.DNA.from_numbers(algo.spec, [0, 0])
    algo.restore([sb.algorithms.PastTrial(start, "completed", 3.0)])
    assert algo.current == start
    for _ in range(10):                               # its 10 neighbours, none better
        dna = algo.propose()
        assert dna in algo.neighbours(start)
        a, b = dna.to_numbers()
        algo.feedback(dna, value(a, b))
    restart = algo.propose()
    assert algo.current is None and restart not in algo.neighbours(start)


def test_parallel_proposals_are_distinct_and_a_small_space_is_exhausted():
    algo = LocalSearch(num_startup=3, seed=2)
    algo.setup(sb.dna_spec(GRID))
    pending = [algo.propose() for _ in range(8)]      # 3 random, then more random: no results
    assert len(set(pending)) == 8
    for dna in pending:
        algo.feedback(dna, float(sum(dna.to_numbers())))
    study = sb.tune(lambda p: float(p.a), sb.Dict(a=sb.one_of([1, 2, 3])),
                    LocalSearch(num_startup=1, seed=0), num_trials=10)
    assert sorted(t.program.a for t in study.trials) == [1, 2, 3]   # then the search ends


def test_failures_are_not_proposed_again_and_refusals_are_clear():
    def objective(p):
        if p.a == 0:
            raise ValueError("a=0 breaks")
        return float(p.a + p.b)

    study = sb.tune(objective, GRID, LocalSearch(seed=3), num_trials=36)
    assert len({t.dna for t in study.trials}) == 36
    with pytest.raises(AlgorithmError, match="finite space"):
        LocalSearch().setup(sb.dna_spec(sb.Dict(x=sb.float_range(0.0, 1.0))))
    with pytest.raises(sb.SymbolicValueError, match="num_startup"):
        LocalSearch(num_startup=0)


def test_resumed_from_its_trials_it_goes_on_without_repeating():
    spec = sb.dna_spec(GRID)
    algo = LocalSearch(num_startup=2, seed=4)
    algo.setup(spec)
    log = Log(algo)
    for _ in range(12):
        dna = log.propose()
        log.feedback(dna, -float(sum(dna.to_numbers())))
    back = resumed(LocalSearch(num_startup=2, seed=4), spec, log)
    assert back.current == algo.current
    seen = {t[0] for t in log.trials}
    for _ in range(10):
        dna = back.propose()
        assert dna not in seen
        seen.add(dna)
        back.feedback(dna, -float(sum(dna.to_numbers())))
