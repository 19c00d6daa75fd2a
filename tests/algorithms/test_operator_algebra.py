"""The evolution operator algebra (issue 14): operations and their composition, selectors,
recombinators, the Swap mutator, Evolution, NSGA-II and Deduping."""

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symbo as sb
from symbo.algorithms import selectors
from symbo.algorithms.operations import Context, Identity, Lambda
from symbo.algorithms.recombinators import (
    PMX,
    Average,
    Cycle,
    KPoint,
    Order,
    Segmented,
    UniformCrossover,
)
from symbo.dsl.dna import validate

BITS = sb.List([sb.one_of([0, 1]) for _ in range(6)])


def _population(spec, n, seed=0):
    rng = random.Random(seed)
    return [sb.random_dna(spec, rng) for _ in range(n)]


def _context(spec, dnas, seed=0, reward=lambda d: float(sum(d.to_numbers()))):
    return Context(spec, random.Random(seed), fitness={d: reward(d) for d in dnas})


# ---- composition ---------------------------------------------------------------------------------
def test_operators_compose():
    spec = sb.dna_spec(BITS)
    pop = list(dict.fromkeys(_population(spec, 12)))
    ctx = _context(spec, pop)
    top2, first3 = selectors.Top(2), selectors.First(3)
    assert (top2 >> selectors.Last(1))(pop, ctx) == top2(pop, ctx)[1:]
    assert (top2 + first3)(pop, ctx) == top2(pop, ctx) + first3(pop, ctx)
    union = (top2 | first3)(pop, ctx)
    assert len(union) == len(set(union)) and set(union) == set(top2(pop, ctx)) | set(first3(pop, ctx))
    assert set((top2 & first3)(pop, ctx)) == set(top2(pop, ctx)) & set(first3(pop, ctx))
    assert set((first3 - top2)(pop, ctx)) == set(first3(pop, ctx)) - set(top2(pop, ctx))
    assert len((selectors.Random(2) * 3)(pop, ctx)) == 6
    assert (selectors.First(4) ** 2)(pop, ctx) == pop[:4]
    assert selectors.Top(5)[1:3](pop, ctx) == selectors.Top(5)(pop, ctx)[1:3]
    assert (top2 >> (lambda xs: xs[::-1]))(pop, ctx) == top2(pop, ctx)[::-1]
    assert ((lambda xs, c: xs[:1]) >> Identity())(pop, ctx) == pop[:1]
    assert top2.with_prob(0.0)(pop, ctx) == pop and top2.with_prob(1.0)(pop, ctx) == top2(pop, ctx)
    with pytest.raises(sb.SymbolicTypeError, match="operations compose with operations"):
        top2 >> 3  # noqa: B015


def test_operations_are_symbolic():
    op = selectors.Random(3, seed=1) >> selectors.Top(1) >> sb.algorithms.Uniform(sigma=0.2)
    back = sb.from_json(sb.to_json(op))
    assert sb.eq(back, op) and len(op.ops) == 3  # a >> b >> c stays one flat pipeline
    assert sb.format(selectors.Random(2)).startswith("RandomSelector(")
    assert isinstance(Lambda(lambda xs: xs), sb.algorithms.Operation)


# ---- selectors -----------------------------------------------------------------------------------
def test_selectors_pick_as_documented():
    spec = sb.dna_spec(sb.Dict(x=sb.int_range(0, 9)))
    dnas = [sb.DNA.from_numbers(spec, [v]) for v in (3, 7, 1, 9, 7)]
    ctx = _context(spec, dnas)
    values = lambda xs: [d.to_numbers()[0] for d in xs]  # noqa: E731
    assert values(selectors.Top(2)(dnas, ctx)) == [9, 7]
    assert values(selectors.Top(2, cluster=True)(dnas, ctx)) == [9, 7, 7]
    assert values(selectors.Bottom(2)(dnas, ctx)) == [1, 3]
    assert values(selectors.Top(0.4)(dnas, ctx)) == [9, 7]
    assert values(selectors.First(2)(dnas, ctx)) == [3, 7] and values(selectors.Last(2)(dnas, ctx)) == [9, 7]
    assert values(selectors.Top(10)(dnas, ctx)) == [9, 7, 7, 3, 1]  # at most n
    assert values(selectors.Top(1, key=lambda d: -d.to_numbers()[0])(dnas, ctx)) == [1]
    drawn = selectors.Random(3, seed=5)(dnas, ctx)
    assert len(drawn) == 3 and len({id(d) for d in drawn}) == 3
    assert selectors.Random(3, seed=5)(dnas, ctx) == selectors.Random(3, seed=5)(dnas, ctx)
    assert len(selectors.Random(8, replacement=True)(dnas, ctx)) == 8
    sample = selectors.Sample(200, seed=0)(dnas, ctx)
    assert values(sample).count(9) > values(sample).count(1)
    prop = selectors.Proportional(10)(dnas, ctx)
    assert len(prop) == 10 and values(prop).count(9) >= values(prop).count(1)


def test_selectors_refuse_bad_requests():
    spec = sb.dna_spec(sb.Dict(x=sb.int_range(0, 9)))
    dnas = [sb.DNA.from_numbers(spec, [v]) for v in (3, 7)]
    ctx = _context(spec, dnas)
    with pytest.raises(sb.SymbolicValueError, match=r"Random\(5\): cannot select 5 of 2 inputs"):
        selectors.Random(5)(dnas, ctx)
    with pytest.raises(sb.SymbolicValueError, match="n must be an int >= 0"):
        selectors.Top(-1)
    with pytest.raises(sb.SymbolicValueError, match="no reward for"):
        selectors.Top(1)([sb.DNA.from_numbers(spec, [0])], ctx)
    negative = Context(spec, random.Random(0), fitness={d: -1.0 for d in dnas})
    with pytest.raises(sb.SymbolicValueError, match="weights must be one non-negative number"):
        selectors.Sample(1)(dnas, negative)


def test_top_ranks_by_pareto_rank_with_several_objectives():
    spec = sb.dna_spec(sb.Dict(x=sb.int_range(0, 9)))
    dnas = [sb.DNA.from_numbers(spec, [v]) for v in range(4)]
    rewards = {dnas[0]: (1.0, 1.0), dnas[1]: (2.0, 0.0), dnas[2]: (0.0, 0.0), dnas[3]: (0.5, 2.0)}
    ctx = Context(spec, random.Random(0), fitness=rewards, num_objectives=2)
    assert set(selectors.Top(3)(dnas, ctx)) == {dnas[0], dnas[1], dnas[3]}
    assert selectors.Bottom(1)(dnas, ctx) == [dnas[2]]


# ---- recombinators -------------------------------------------------------------------------------
SPACE = sb.Dict(
    a=sb.one_of([sb.Dict(u=sb.int_range(0, 5), v=sb.float_range(0.0, 1.0)), "none"]),
    m=sb.many_of(3, list(range(6)), distinct=True),
    s=sb.many_of(2, list(range(4)), sorted=True),
    p=sb.permutate(list(range(5))),
    f=sb.float_range(-1.0, 1.0),
    bits=[sb.one_of([0, 1]) for _ in range(4)],
)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 1000))
def test_every_recombinator_gives_valid_children(seed):
    spec = sb.dna_spec(SPACE)
    rng = random.Random(seed)
    parents = _population(spec, 3, seed)
    for op in (UniformCrossover(), UniformCrossover(deep=False), Average(), KPoint(k=2),
               Segmented(lambda n, r: [n // 2]), PMX(), Order(), Cycle()):
        chosen = parents if op.num_parents is None else parents[:op.num_parents]
        for child in op.children(chosen, spec, rng):
            validate(spec, child)
            assert child.spec is spec


def test_uniform_crossover_mixes_many_of_positions_from_three_parents():
    spec = sb.dna_spec(sb.Dict(m=sb.many_of(3, list(range(9)), distinct=True)))
    parents = [sb.DNA.from_numbers(spec, [0, 1, 2]), sb.DNA.from_numbers(spec, [3, 4, 5]),
               sb.DNA.from_numbers(spec, [6, 7, 8])]
    seen = set()
    rng = random.Random(0)
    for _ in range(50):
        child = UniformCrossover().cross(*parents, spec, rng)
        picks = child.to_numbers()
        assert [p // 3 for p in picks] != [0, 0, 0] or picks == [0, 1, 2]
        seen.update((j, v) for j, v in enumerate(picks))
    assert {v for j, v in seen if j == 0} == {0, 3, 6}  # position 0 from every parent


def test_kpoint_and_segmented_alternate_segments():
    spec = sb.dna_spec(sb.List([sb.int_range(0, 9) for _ in range(6)]))
    a, b = sb.DNA.from_numbers(spec, [0] * 6), sb.DNA.from_numbers(spec, [9] * 6)
    first, second = Segmented(lambda n, rng: [2, 4]).children([a, b], spec, random.Random(0))
    assert first.to_numbers() == [0, 0, 9, 9, 0, 0] and second.to_numbers() == [9, 9, 0, 0, 9, 9]
    child = KPoint(k=3).cross(a, b, spec, random.Random(1))
    numbers = child.to_numbers()
    assert numbers[0] == 0 and sum(1 for x, y in zip(numbers, numbers[1:]) if x != y) == 3
    with pytest.raises(sb.SymbolicValueError, match="cutting indices must be in"):
        Segmented(lambda n, rng: [6]).cross(a, b, spec, random.Random(0))
    with pytest.raises(sb.SymbolicValueError, match="crosses exactly 2 parents"):
        KPoint().cross(a, b, a, spec, random.Random(0))


@settings(max_examples=60, deadline=None)
@given(st.permutations(list(range(7))), st.permutations(list(range(7))), st.integers(0, 99))
def test_permutation_crossovers_give_permutations(a, b, seed):
    spec = sb.dna_spec(sb.Dict(tour=sb.permutate(list("abcdefg"))))
    pa, pb = sb.DNA.from_numbers(spec, list(a)), sb.DNA.from_numbers(spec, list(b))
    for op in (PMX(), Order(), Cycle()):
        for child in op.children([pa, pb], spec, random.Random(seed)):
            assert sorted(child.to_numbers()) == list(range(7))
    # Cycle crossover keeps every value at a position it had in a parent.
    for child in Cycle().children([pa, pb], spec, random.Random(seed)):
        assert all(v in (x, y) for v, x, y in zip(child.to_numbers(), a, b))


def test_order_crossover_keeps_a_segment_and_the_other_parents_order():
    from symbo.algorithms.recombinators import _ox, _pmx

    assert _ox([1, 2, 3, 4, 5, 6, 7, 8], [8, 6, 4, 2, 7, 5, 3, 1], 2, 5) == [2, 7, 3, 4, 5, 1, 8, 6]
    assert _pmx([1, 2, 3, 4, 5, 6, 7, 8], [3, 7, 5, 1, 6, 8, 2, 4], 3, 6) == [3, 7, 8, 4, 5, 6, 2, 1]


def test_permutation_crossover_needs_a_permutation():
    spec = sb.dna_spec(BITS)
    a, b = _population(spec, 2)
    with pytest.raises(sb.SymbolicValueError, match="PMX crosses permutations"):
        PMX().cross(a, b, spec, random.Random(0))


def test_average_and_cross_argument_forms():
    spec = sb.dna_spec(sb.Dict(lr=sb.float_range(0.0, 1.0), depth=sb.int_range(1, 9)))
    a, b = sb.DNA.from_numbers(spec, [0.2, 2]), sb.DNA.from_numbers(spec, [0.6, 5])
    child = Average().cross(a, b, spec=spec, rng=0)
    assert child.to_numbers() == [pytest.approx(0.4), 4] or child.to_numbers() == [
        pytest.approx(0.4), 3]
    with pytest.raises(sb.SymbolicTypeError, match="the spec is missing"):
        Average().cross(a, b)
    with pytest.raises(sb.SymbolicValueError, match="two or more parents"):
        UniformCrossover().cross(a, spec, 0)


# ---- Swap ----------------------------------------------------------------------------------------
def test_swap_mutates_permutations_only():
    spec = sb.dna_spec(sb.Dict(p=sb.permutate(list(range(6))), x=sb.one_of([0, 1])))
    rng = random.Random(0)
    dna = sb.DNA.from_numbers(spec, [0, 1, 2, 3, 4, 5, 0])
    for _ in range(20):
        child = sb.algorithms.Swap().mutate(dna, spec, rng)
        numbers = child.to_numbers()
        assert sorted(numbers[:6]) == list(range(6)) and numbers[6] == 0
        assert sum(1 for x, y in zip(numbers, dna.to_numbers()) if x != y) == 2
    with pytest.raises(sb.SymbolicValueError, match="Swap mutates permutations"):
        sb.algorithms.Swap().mutate(_population(sb.dna_spec(BITS), 1)[0], sb.dna_spec(BITS), 0)


# ---- algorithms ----------------------------------------------------------------------------------
def test_evolution_with_crossover_and_elitism_solves_onemax():
    reproduction = (selectors.Random(4) >> selectors.Top(2) >> UniformCrossover()
                    >> sb.algorithms.Uniform())
    algo = sb.algorithms.Evolution(reproduction, population_size=10,
                                   population_update=selectors.Top(10), seed=0)
    space = sb.List([sb.one_of([0, 1]) for _ in range(12)])
    study = sb.tune(lambda bits: float(sum(bits)), space, algo, num_trials=150)
    assert study.best_trial.reward == 12.0 and len(algo.population) == 10
    assert sb.eq(sb.from_json(sb.to_json(algo)), algo)


def test_evolution_refuses_reproduction_without_children():
    algo = sb.algorithms.Evolution(Lambda(lambda xs: []), population_size=2, seed=0)
    with pytest.raises(sb.algorithms.AlgorithmError, match="made no children"):
        sb.tune(lambda p: 1.0, BITS, algo, num_trials=5)


def _zdt1(p):
    x = list(p)
    g = 1 + 9 * sum(x[1:]) / (len(x) - 1)
    f1 = x[0]
    return (-f1, -(g * (1 - (f1 / g) ** 0.5)))  # both maximized (negated minimization)


def test_nsga2_finds_a_spread_pareto_front():
    space = sb.List([sb.float_range(0.0, 1.0) for _ in range(4)])
    algo = sb.algorithms.NSGA2(population_size=20, seed=0)
    sb.tune(_zdt1, space, algo, num_trials=400, objectives=("max", "max"))
    front = algo.pareto_front
    f1 = sorted(-r[0] for _, r in front)
    assert len(front) >= 8 and f1[-1] - f1[0] > 0.5  # spread along the front
    assert all(-r[1] < 1.6 for _, r in front)  # near the true front f2 = 1 - sqrt(f1)
    rand = sb.algorithms.Random(seed=0)
    random_study = sb.tune(_zdt1, space, rand, num_trials=400, objectives=("max", "max"))
    best_random = min(-t.reward[1] for t in random_study.trials if -t.reward[0] < 0.3)
    assert min(-r[1] for _, r in front if -r[0] < 0.3) <= best_random


def test_nsga2_crowding_and_order():
    from symbo.algorithms.nsga2 import crowding_distances, nsga2_order

    rewards = [(0.0, 1.0), (0.5, 0.5), (1.0, 0.0), (0.4, 0.4), (0.6, 0.45)]
    ranks = [0, 0, 0, 1, 1]
    crowd = crowding_distances(rewards, ranks)
    assert crowd[0] == crowd[2] == float("inf") and 0 < crowd[1] < float("inf")
    assert nsga2_order(rewards)[:3] in ([0, 2, 1], [2, 0, 1])


def test_deduping_wraps_any_algorithm():
    space = sb.Dict(a=sb.one_of([1, 2, 3]), b=sb.int_range(0, 3))
    algo = sb.algorithms.Deduping(sb.algorithms.TPE(seed=0))
    study = sb.tune(lambda p: float(p.a + p.b), space, algo, num_trials=12)
    assert len({t.dna for t in study.trials}) == 12 == len(algo.algorithm.history)
    small = sb.algorithms.Deduping(sb.algorithms.Random(seed=1))
    study = sb.tune(lambda p: 1.0, sb.Dict(x=sb.one_of([1, 2, 3])), small, num_trials=10)
    assert len(study.trials) == 3 and small.exhausted
    with pytest.raises(sb.algorithms.AlgorithmError, match="optimizes one objective"):
        sb.algorithms.Deduping(sb.algorithms.TPE()).setup(sb.dna_spec(space), num_objectives=2)


def test_deduping_restores_what_was_seen():
    from symbo.algorithms.base import PastTrial

    spec = sb.dna_spec(sb.Dict(x=sb.one_of([1, 2, 3, 4])))
    inner = sb.algorithms.RegularizedEvolution(population_size=2, tournament_size=2, seed=0)
    algo = sb.algorithms.Deduping(inner)
    algo.setup(spec)
    past = [PastTrial(sb.DNA.from_numbers(spec, [i]), "completed", float(i)) for i in range(3)]
    algo.restore(past)
    assert algo.num_proposed == 3 and len(algo.history) == 3
    assert len(algo.algorithm.history) == 3 and algo.algorithm.num_proposed == 3
    assert algo.propose() == sb.DNA.from_numbers(spec, [3]) and algo.exhausted


def test_operations_run_without_a_context_as_in_pyglove():
    spec = sb.dna_spec(sb.List([sb.int_range(0, 9) for _ in range(4)]))
    dnas = _population(spec, 5)
    assert selectors.Last(2)(dnas) == dnas[3:] and selectors.First(1)(dnas) == dnas[:1]
    assert selectors.Random(3, seed=1)(dnas) == selectors.Random(3, seed=1)(dnas)
    assert selectors.Top(1, key=lambda d: d.to_numbers()[0])(dnas) == \
        [max(dnas, key=lambda d: d.to_numbers()[0])]
    with pytest.raises(sb.SymbolicValueError, match=r"give the rewards as op\(inputs, Context"):
        selectors.Top(1)(dnas)
    assert selectors.Last(2)([1, 2, 3]) == [2, 3]  # any values, not only DNA
    # Segmented's cutting function as PyGlove's: fn(decision_points)
    a, b = sb.DNA.from_numbers(spec, [0] * 4), sb.DNA.from_numbers(spec, [9] * 4)
    child = Segmented(lambda xs: [len(xs) // 2]).cross(a, b, spec, random.Random(0))
    assert child.to_numbers() == [0, 0, 9, 9]


def test_top_one_and_bottom_one_take_the_first_best_as_the_sorted_ranking_does():
    spec = sb.dna_spec(sb.List([sb.int_range(0, 9) for _ in range(2)]))
    dnas = [sb.DNA.from_numbers(spec, [i, 0]) for i in range(6)]
    rewards = [1.0, 3.0, 0.0, 3.0, (0.0,), 2.0]  # a 1-tuple is a single objective too
    context = Context(spec, random.Random(0), fitness=dict(zip(dnas, rewards)))
    assert selectors.Top(1)(dnas, context) == [dnas[1]] == selectors.Top(2)(dnas, context)[:1]
    assert selectors.Bottom(1)(dnas, context) == [dnas[2]] == selectors.Bottom(6)(dnas, context)[:1]
    several = Context(spec, random.Random(0), fitness={d: (float(i % 3), float(-i)) for i, d in
                                                       enumerate(dnas)})
    assert selectors.Top(1)(dnas, several) == selectors.Top(6)(dnas, several)[:1]
