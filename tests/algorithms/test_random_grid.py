"""Random and Grid search, and the Algorithm base."""

from __future__ import annotations

import math
import random
from collections import Counter

import pytest

import symbo as sb
from symbo.algorithms import AlgorithmError, Grid, Random
from symbo.dsl.dna import validate

from .replay import Log, resumed


def _mixed_space() -> sb.Dict:
    return sb.Dict(
        opt=sb.one_of(["adam", sb.Dict(momentum=sb.float_range(0.0, 0.9))]),
        blocks=sb.many_of(2, ["conv", "pool", "skip"], sorted=True),
        order=sb.permutate([1, 2, 3]),
        lr=sb.float_range(1e-4, 1e-1, scale="log"),
        depth=sb.int_range(1, 5),
    )


def test_random_proposes_valid_dna_and_is_reproducible() -> None:
    spec = sb.dna_spec(_mixed_space())
    a, b = Random(seed=7), Random(seed=7)
    a.setup(spec)
    b.setup(spec)
    for _ in range(200):
        x, y = a.propose(), b.propose()
        validate(spec, x)
        assert x == y
    assert a.num_proposed == 200


def test_random_matches_uniform_in_distribution() -> None:
    spec = sb.dna_spec(sb.Dict(c=sb.one_of(list(range(5))), u=sb.float_range(0.0, 1.0),
                               g=sb.float_range(1e-3, 1.0, scale="log")))
    algo = Random(seed=0)
    algo.setup(spec)
    n = 5000
    dnas = [algo.propose() for _ in range(n)]
    counts = Counter(d.children[0].value for d in dnas)
    chi2 = sum((counts[i] - n / 5) ** 2 / (n / 5) for i in range(5))
    assert chi2 < 18.5  # p = 0.001 for 4 degrees of freedom
    for child, transform in ((1, lambda v: v), (2, lambda v: (math.log10(v) + 3) / 3)):
        values = sorted(transform(d.children[child].value) for d in dnas)
        ks = max(max(abs((i + 1) / n - v), abs(i / n - v)) for i, v in enumerate(values))
        assert ks < 1.95 / math.sqrt(n)  # Kolmogorov-Smirnov at p = 0.001


def test_random_restored_from_the_trials_continues_identically() -> None:
    spec = sb.dna_spec(_mixed_space())
    a = Random(seed=1)
    a.setup(spec)
    log = Log(a)
    for _ in range(5):
        log.feedback(log.propose(), 1.0)
    b = resumed(Random(seed=99), spec, log)
    assert [a.propose() for _ in range(5)] == [b.propose() for _ in range(5)]
    assert b.history == a.history[:5]


def test_a_reseeded_random_search_neither_starts_over_nor_repeats() -> None:
    spec = sb.dna_spec(sb.Dict(x=sb.int_range(0, 10 ** 9)))
    a = Random(seed=1)
    a.setup(spec)
    first = [a.propose() for _ in range(20)]
    b = Random(seed=1)
    b.setup(spec)
    b.reseed("20")  # a stale saved state: a fresh stream from the seed and the trial count
    assert not set(first) & {b.propose() for _ in range(20)}


def test_a_restored_grid_goes_on_past_the_stored_points() -> None:
    space = sb.Dict(a=sb.one_of([1, 2, 3]), b=sb.int_range(0, 1))
    spec = sb.dna_spec(space)
    a = Grid()
    a.setup(spec)
    log = Log(a)
    log.feedback(log.propose(), 1.0)
    log.on_failure(log.propose(), "crashed")  # a point that failed is not proposed again
    log.propose()                              # one still running: not proposed again either
    b = resumed(Grid(), spec, log)
    rest = [b.propose() for _ in range(3)]
    assert rest == [a.propose() for _ in range(3)]
    with pytest.raises(AlgorithmError, match="all 6 points"):
        b.propose()


def test_grid_enumerates_a_finite_space_once() -> None:
    space = sb.Dict(a=sb.one_of([1, sb.Dict(b=sb.one_of([2, 3]))]), c=sb.many_of(2, "xyz"))
    spec = sb.dna_spec(space)
    algo = Grid()
    algo.setup(spec)
    seen = [algo.propose() for _ in range(int(spec.space_size))]
    assert len(set(seen)) == spec.space_size == 3 * 6  # 3 for a, 3*2 ordered pairs for c
    with pytest.raises(AlgorithmError, match="all 18 points"):
        algo.propose()
    assert algo.exhausted


def test_grid_discretizes_ranges_and_can_cycle() -> None:
    space = sb.Dict(lr=sb.float_range(1e-3, 1e-1, scale="log"), n=sb.int_range(0, 100),
                    k=sb.int_range(1, 2))
    algo = Grid(grid_size=3, cycle=True)
    algo.setup(sb.dna_spec(space))
    assert algo.size == 3 * 3 * 2
    points = [algo.propose() for _ in range(algo.size)]
    lrs = sorted({p.children[0].value for p in points})
    assert [round(v, 6) for v in lrs] == [0.001, 0.01, 0.1]
    assert sorted({p.children[1].value for p in points}) == [0, 50, 100]
    assert algo.propose() == points[0]  # cycles


def test_grid_refuses_continuous_spaces_without_grid_size() -> None:
    with pytest.raises(AlgorithmError, match="grid_size"):
        Grid().setup(sb.dna_spec(sb.Dict(x=sb.float_range(0.0, 1.0))))
    with pytest.raises(sb.SymbolicValueError, match=">= 2"):
        Grid(grid_size=1)  # refused when made, before any search


def test_algorithm_used_before_setup_says_so() -> None:
    with pytest.raises(AlgorithmError, match="setup"):
        Random().propose()


def test_algorithms_are_symbolic_and_serializable() -> None:
    algo = Grid(grid_size=4, cycle=True)
    assert sb.eq(sb.from_json(sb.to_json(algo)), algo)
    assert sb.format(algo) == "Grid(grid_size=4, cycle=True)"
    space = Random(seed=sb.one_of([1, 2]))
    assert sb.dna_spec(space).space_size == 2
    with pytest.raises(sb.SymbolicTypeError):
        Random(seed="x")


def test_random_search_over_a_seeded_python_rng() -> None:
    rng = random.Random(0)
    assert sb.random_dna(sb.dna_spec(_mixed_space()), rng) is not None
