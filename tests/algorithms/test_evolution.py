"""Regularized evolution and hill climbing (symbo/algorithms/evolution.py)."""

from __future__ import annotations

import json
import random
import statistics
from collections import Counter
from typing import Any

import pytest

import symbo as sb
from symbo.algorithms import PastTrial
from symbo.algorithms.base import AlgorithmError, Reward
from symbo.algorithms.evolution import HillClimb, RegularizedEvolution
from symbo.algorithms.mutation import Uniform, UniformCrossover
from symbo.dsl.dna import DNA, validate
from symbo.dsl.materialize import random_dna

from .replay import Log, resumed


class Spy(Uniform):
    """Uniform mutation that records the parents it is given (not a field: no effect on eq)."""

    def mutate(self, dna: DNA, spec: sb.DNASpec, rng: Any = None) -> DNA:
        self.__dict__.setdefault("_parents", []).append(dna)
        return super().mutate(dna, spec, rng)


class SpyCrossover(UniformCrossover):
    def cross(self, a: DNA, b: DNA, spec: sb.DNASpec, rng: Any = None) -> DNA:
        self.__dict__.setdefault("_pairs", []).append((a, b))
        return super().cross(a, b, spec, rng)


def parents(algo: Any) -> list[DNA]:
    return algo.mutator.__dict__.get("_parents", [])


def bits(n: int, k: int = 2) -> sb.List:
    return sb.List([sb.one_of(list(range(k))) for _ in range(n)])


def _mixed_space() -> sb.Dict:
    return sb.Dict(
        opt=sb.one_of(["adam", sb.Dict(momentum=sb.float_range(0.0, 0.9),
                                       nesterov=sb.one_of([True, False]))]),
        blocks=sb.many_of(2, ["conv", "pool", "skip"], sorted=True),
        order=sb.permutate([1, 2, 3]),
        lr=sb.float_range(1e-4, 1e-1, scale="log"),
        depth=sb.int_range(1, 5),
    )


def _setup(algo: Any, space: Any, num_objectives: int = 1) -> sb.DNASpec:
    spec = sb.dna_spec(space)
    algo.setup(spec, num_objectives=num_objectives)
    return spec


# ---- the method ----------------------------------------------------------------------------
def test_first_population_size_proposals_are_random_then_mutations() -> None:
    algo = RegularizedEvolution(population_size=5, tournament_size=2, mutator=Spy(), seed=0)
    spec = _setup(algo, bits(10))
    random_alg = sb.algorithms.Random(seed=0)
    random_alg.setup(spec)
    for i in range(5):
        dna = algo.propose()
        assert dna == random_alg.propose()  # same generator, same draws: random proposals
        algo.feedback(dna, float(i))
    assert parents(algo) == []
    for i in range(10):
        dna = algo.propose()
        validate(spec, dna)
        assert dna.spec is spec
        algo.feedback(dna, float(i))
    assert len(parents(algo)) >= 10  # more when a child was a duplicate and was redrawn


def test_population_ages_out_the_oldest_not_the_worst() -> None:
    algo = RegularizedEvolution(population_size=3, tournament_size=3, seed=1)
    _setup(algo, bits(8))
    rewards = [10.0, 0.0, 1.0, 0.5, 0.2]
    done = []
    for r in rewards:
        dna = algo.propose()
        algo.feedback(dna, r)
        done.append((dna, r))
        assert algo.population == done[-3:]
    assert 10.0 not in [r for _, r in algo.population]  # the best left by age


def test_tournament_over_the_whole_population_picks_the_best() -> None:
    algo = RegularizedEvolution(population_size=6, tournament_size=6, mutator=Spy(), seed=2)
    _setup(algo, bits(12))
    rng = random.Random(0)
    for _ in range(60):
        dna = algo.propose()
        if len(algo.population) == 6:
            best = max(algo.population, key=lambda m: m[1])[0]
            assert parents(algo)[-1] == best
        algo.feedback(dna, rng.random())


def test_tournament_picks_the_best_of_its_sample() -> None:
    # With S=2 of P=4 members rewarded 0..3, the parent is the best of a uniform pair:
    # P(member i wins) = i / 6 for rewards i = 0, 1, 2, 3.
    algo = RegularizedEvolution(population_size=4, tournament_size=2, mutator=Spy(),
                                dedup=False, seed=3)
    _setup(algo, bits(12))
    for i in range(4):
        algo.feedback(algo.propose(), float(i))
    members = [d for d, _ in algo.population]
    wins: Counter[int] = Counter()
    for _ in range(3000):
        algo.on_failure(algo.propose(), "ignored")
        wins[members.index(parents(algo)[-1])] += 1
    assert wins[0] == 0
    for i in (1, 2, 3):
        assert abs(wins[i] / 3000 - i / 6) < 0.04, wins


def test_ties_are_broken_at_random() -> None:
    algo = RegularizedEvolution(population_size=4, tournament_size=4, mutator=Spy(),
                                dedup=False, seed=4)
    _setup(algo, bits(12))
    for _ in range(4):
        algo.feedback(algo.propose(), 1.0)
    for _ in range(200):
        dna = algo.propose()
        algo.on_failure(dna, "ignored")
    members = [d for d, _ in algo.population]
    assert {members.index(p) for p in parents(algo)} == {0, 1, 2, 3}


def test_crossover_with_a_second_tournament_winner() -> None:
    algo = RegularizedEvolution(population_size=4, tournament_size=2, mutator=Spy(),
                                crossover=SpyCrossover(), crossover_prob=1.0, seed=5)
    spec = _setup(algo, bits(12))
    for i in range(30):
        dna = algo.propose()
        validate(spec, dna)
        algo.feedback(dna, float(i % 7))
    assert len(algo.crossover.__dict__["_pairs"]) >= 26  # one per child (and per redraw)
    algo = RegularizedEvolution(population_size=4, tournament_size=2,
                                crossover=SpyCrossover(), crossover_prob=0.0, seed=5)
    _setup(algo, bits(12))
    for i in range(30):
        algo.feedback(algo.propose(), float(i))
    assert "_pairs" not in algo.crossover.__dict__


def test_settings_are_checked() -> None:
    with pytest.raises(AlgorithmError, match=r"tournament_size \(5\) must be <= population_size"):
        RegularizedEvolution(population_size=3, tournament_size=5)  # at construction
    algo = RegularizedEvolution(population_size=3, tournament_size=2)
    with pytest.raises(AlgorithmError, match="tournament_size"):
        algo.rebind(tournament_size=4)
    assert algo.tournament_size == 2
    with pytest.raises(sb.SymbolicValueError, match="population_size"):
        RegularizedEvolution(population_size=0)
    with pytest.raises(sb.SymbolicValueError, match="crossover_prob"):
        RegularizedEvolution(crossover_prob=2.0)
    with pytest.raises(sb.SymbolicValueError, match="neighbors"):
        HillClimb(neighbors=0)
    with pytest.raises(AlgorithmError, match="objective"):
        _setup(HillClimb(), bits(3), num_objectives=2)


def test_algorithms_are_symbolic() -> None:
    algo = RegularizedEvolution(population_size=8, tournament_size=3,
                                mutator=Uniform(sigma=0.3), crossover=UniformCrossover(),
                                crossover_prob=0.5, seed=3)
    data = sb.to_json(algo)
    assert data["_type"] == "symbo.algorithms.RegularizedEvolution"
    assert sb.eq(sb.from_json(json.loads(json.dumps(data))), algo)
    hc = HillClimb(neighbors=4, seed=1)
    assert sb.eq(sb.from_json(sb.to_json(hc)), hc)
    # positional order follows the documented signature
    assert RegularizedEvolution(30, 7).tournament_size == 7


# ---- de-duplication --------------------------------------------------------------------------
@pytest.mark.parametrize("make", [
    lambda: RegularizedEvolution(population_size=4, tournament_size=2, seed=6),
    lambda: HillClimb(seed=6),
])
def test_never_proposes_a_duplicate_until_the_space_is_exhausted(make: Any) -> None:
    space = sb.Dict(a=bits(3), i=sb.int_range(0, 2), m=sb.many_of(2, list("abc"), sorted=True))
    spec = sb.dna_spec(space)
    assert spec.space_size == 72
    algo = make()
    algo.setup(spec)
    seen = set()
    for _ in range(72):
        dna = algo.propose()
        assert dna not in seen
        seen.add(dna)
        algo.feedback(dna, float(sum(dna.to_numbers())))
    assert not algo.exhausted
    dna = algo.propose()  # all 72 seen: a duplicate is allowed now
    assert dna in seen and algo.exhausted


def test_no_duplicates_among_parallel_proposals() -> None:
    algo = RegularizedEvolution(population_size=4, tournament_size=2, seed=7)
    spec = _setup(algo, bits(5))
    proposed = [algo.propose() for _ in range(3)]
    for dna in proposed[:2]:
        algo.feedback(dna, 1.0)
    proposed += [algo.propose() for _ in range(29)]
    assert len(set(proposed)) == 32 == spec.space_size


def test_failed_dna_is_not_proposed_again() -> None:
    algo = RegularizedEvolution(population_size=2, tournament_size=2, seed=8)
    _setup(algo, bits(3))
    failed = algo.propose()
    algo.on_failure(failed, "boom")
    others = [algo.propose() for _ in range(7)]
    assert failed not in others and len(set(others)) == 7


def test_dedup_off_allows_duplicates() -> None:
    algo = RegularizedEvolution(population_size=2, tournament_size=1, dedup=False, seed=9)
    _setup(algo, bits(2))
    proposed = []
    for _ in range(20):
        dna = algo.propose()
        proposed.append(dna)
        algo.feedback(dna, 0.0)
    assert len(set(proposed)) < 20


def test_dna_key_deduplicates_by_the_callers_key() -> None:
    space = sb.Dict(a=sb.one_of(["x", "y", "z"]), b=bits(4))
    algo = RegularizedEvolution(population_size=2, tournament_size=1, seed=10)
    calls = Counter()

    def key(dna: DNA) -> Any:
        assert dna.spec is not None  # the spec is attached, so the caller may materialize
        calls[dna] += 1
        return sb.materialize(space, dna).a

    algo.dna_key = key
    _setup(algo, space)
    firsts = []
    for _ in range(3):
        dna = algo.propose()
        firsts.append(dna.to_numbers()[0])
        algo.feedback(dna, 0.0)
    assert sorted(firsts) == [0, 1, 2]
    assert not algo.exhausted
    algo.propose()
    assert algo.exhausted
    assert max(calls.values()) == 1  # keys are memoized
    assert "dna_key" not in sb.to_json(algo)


def test_graph_hash_as_dna_key_skips_isomorphic_cells() -> None:
    space = sb.dag_cell(num_nodes=3, ops=["conv", "pool"])
    spec = sb.dna_spec(space)
    keys = {sb.graph_hash(sb.materialize(space, d)) for d in sb.iterate_dna(spec)}
    assert len(keys) < spec.space_size  # some cells are isomorphic
    algo = RegularizedEvolution(population_size=5, tournament_size=2, seed=11)
    algo.dna_key = lambda dna: sb.graph_hash(sb.materialize(space, dna))
    study = sb.tune(lambda cell: 0.0, space, algo, num_trials=len(keys))
    assert {algo.dna_key(t.dna) for t in study.trials} == keys


# ---- parallel proposals and failures ---------------------------------------------------------
def test_pending_proposals_count_towards_the_first_population() -> None:
    algo = RegularizedEvolution(population_size=4, tournament_size=2, mutator=Spy(), seed=12)
    _setup(algo, bits(10))
    first = [algo.propose() for _ in range(4)]
    assert algo.num_pending == 4 and parents(algo) == []
    algo.propose()  # nothing came back yet: still random (nothing to mutate)
    assert parents(algo) == []
    algo.feedback(first[2], 5.0)
    algo.propose()  # 1 member + 4 pending >= 4: a mutation of the only member
    assert parents(algo) == [first[2]]
    assert algo.num_pending == 5
    for dna in (first[0], first[3]):
        algo.feedback(dna, 1.0)
    assert algo.population == [(first[2], 5.0), (first[0], 1.0), (first[3], 1.0)]


def test_failures_drop_pending_proposals() -> None:
    algo = RegularizedEvolution(population_size=3, tournament_size=2, mutator=Spy(), seed=13)
    _setup(algo, bits(10))
    a, b, c = (algo.propose() for _ in range(3))
    algo.on_failure(b, "out of memory")
    assert algo.num_pending == 2
    algo.feedback(a, 1.0)
    algo.feedback(c, 2.0)
    algo.propose()  # 2 members + 0 pending < 3: random again, to fill the population
    assert parents(algo) == []
    assert [r for _, r in algo.population] == [1.0, 2.0]
    algo.on_failure(random_dna(algo.spec, 0), "never proposed")  # ignored
    assert algo.num_pending == 1


def test_end_to_end_with_failures_and_a_mixed_space() -> None:
    space = _mixed_space()
    spec = sb.dna_spec(space)
    algo = RegularizedEvolution(population_size=10, tournament_size=3,
                                crossover=UniformCrossover(), crossover_prob=0.3, seed=14)

    def objective(p: Any) -> float:
        if p.depth == 5:
            raise RuntimeError("too deep")
        return p.lr * 100 + p.depth + (p.opt != "adam")

    study = sb.tune(objective, space, algo, num_trials=150)
    assert len(study.trials) == 150
    assert len({t.dna for t in study.trials}) == 150
    assert any(t.status == "failed" for t in study.trials)
    for t in study.trials:
        validate(spec, t.dna)
    assert len(algo.population) == 10 and algo.num_pending == 0


def test_sample_loop_drives_hill_climb() -> None:
    space = bits(10)
    algo = HillClimb(seed=15)
    for program, feedback in sb.sample(space, algo, num_trials=80):
        feedback(sum(program))
    assert algo.best is not None and algo.best[1] == 10.0


# ---- multi-objective -------------------------------------------------------------------------
def test_multi_objective_tournament_uses_pareto_rank() -> None:
    algo = RegularizedEvolution(population_size=4, tournament_size=4, mutator=Spy(),
                                dedup=False, seed=16)
    _setup(algo, bits(12), num_objectives=2)
    rewards: list[Reward] = [(1.0, 0.0), (0.0, 0.0), (0.0, 1.0), (0.5, 0.5)]
    for r in rewards:
        algo.feedback(algo.propose(), r)
    members = [d for d, _ in algo.population]
    for _ in range(300):
        algo.on_failure(algo.propose(), "ignored")
    picked = Counter(members.index(p) for p in parents(algo))
    assert picked[1] == 0  # dominated
    assert all(picked[i] > 50 for i in (0, 2, 3))  # the front, ties broken at random


def test_multi_objective_end_to_end() -> None:
    space = sb.Dict(x=sb.float_range(0.0, 1.0), n=sb.int_range(0, 10))
    algo = RegularizedEvolution(population_size=8, tournament_size=3, seed=17)
    study = sb.tune(lambda p: (p.x, p.n * (1 - p.x)), space, algo, num_trials=60,
                    objectives=("max", "min"))
    assert len(study.completed()) == 60 and study.pareto_front


# ---- state -----------------------------------------------------------------------------------
def _reward(dna: DNA) -> float:
    return float(sum(dna.to_numbers()[:8]))


def _continue(algo: Any, steps: int, fail_every: int = 0) -> list[DNA]:
    out = []
    for i in range(steps):
        dna = algo.propose()
        out.append(dna)
        if fail_every and i % fail_every == 0:
            algo.on_failure(dna, "failed")
        else:
            algo.feedback(dna, _reward(dna))
    return out


@pytest.mark.parametrize("make", [
    lambda: RegularizedEvolution(population_size=6, tournament_size=3,
                                 crossover=UniformCrossover(), crossover_prob=0.3, seed=18),
    lambda: HillClimb(neighbors=3, seed=18),
])
def test_restored_from_the_trials_it_continues_identically(make: Any) -> None:
    space = sb.Dict(a=bits(8, 3), x=sb.float_range(0.0, 1.0), m=sb.many_of(2, list("abcd")))
    spec = sb.dna_spec(space)
    original = make()
    original.setup(spec)
    log = Log(original)
    _continue(log, 25, fail_every=7)
    pending = [log.propose() for _ in range(2)]
    assert set(original.state) == {"rng"}  # only what the trials cannot give back

    restored = resumed(make(), spec, log)
    assert restored.num_proposed == original.num_proposed
    assert restored.history == original.history
    assert restored.num_pending == original.num_pending == 2
    if isinstance(original, RegularizedEvolution):
        assert restored.population == original.population
    else:
        assert restored.best == original.best
    for algo in (original, restored):
        for dna in pending:
            algo.feedback(dna, _reward(dna))
    assert _continue(original, 40, fail_every=5) == _continue(restored, 40, fail_every=5)


def test_restored_trials_keep_failed_dna_out() -> None:
    algo = RegularizedEvolution(population_size=2, tournament_size=2, seed=19)
    spec = _setup(algo, bits(3))
    log = Log(algo)
    failed = log.propose()
    log.on_failure(failed, "boom")
    restored = resumed(RegularizedEvolution(population_size=2, tournament_size=2, seed=19), spec,
                       log)
    assert failed not in _continue(restored, 7)


def test_population_after_restore_is_the_last_completed_in_order() -> None:
    algo = RegularizedEvolution(population_size=3, tournament_size=2, seed=20)
    spec = _setup(algo, bits(8))
    history = [(random_dna(spec, i), float(i)) for i in range(7)]
    algo.restore([PastTrial(d, "completed", r) for d, r in history])
    assert algo.population == history[-3:]


# ---- quality ---------------------------------------------------------------------------------
def test_evolution_beats_random_search_on_a_toy_problem() -> None:
    # 12 four-way choices; the reward counts the choices of candidate 0 (optimum: 12).
    space = sb.List([sb.one_of([0, 1, 2, 3]) for _ in range(12)])

    def objective(p: Any) -> int:
        return sum(1 for v in p if v == 0)

    def best_mean(make: Any) -> float:
        return statistics.mean(
            sb.tune(objective, space, make(seed), num_trials=300).best_trial.reward
            for seed in range(5))

    rand = best_mean(lambda s: sb.algorithms.Random(seed=s))
    evo = best_mean(lambda s: RegularizedEvolution(population_size=20, tournament_size=5,
                                                   seed=s))
    climb = best_mean(lambda s: HillClimb(seed=s))
    assert evo >= rand + 2.5, (evo, rand)
    assert evo >= 11.0 and climb >= 11.0, (evo, climb)
