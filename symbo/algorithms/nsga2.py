"""``sb.algorithms.NSGA2``: NSGA-II (Deb et al., 2002) for several objectives.

The population is ranked by fast non-dominated sorting, and within a front by crowding
distance (larger: more isolated, preferred). Parents are chosen by binary tournaments on
(rank, crowding); children are crossed (``recombinator``, with probability
``crossover_prob``) and mutated. Trials arrive one by one, so the search is steady-state: the
first ``population_size`` proposals are random, and each new member joins the pool, from
which the best ``population_size`` by (rank, crowding) are kept (elitism, as NSGA-II's
environmental selection). Rewards are tuples, each higher is better (``sb.tune`` negates
minimized objectives). ``pareto_front`` is the current non-dominated set.

>>> import symbo as sb
>>> space = sb.Dict(x=sb.float_range(0.0, 1.0), y=sb.float_range(0.0, 1.0))
>>> def objectives(p):
...     return (p.x, 1.0 - p.x ** 0.5 + p.y)        # maximize both: a trade-off in x
>>> algo = sb.algorithms.NSGA2(population_size=12, seed=0)
>>> study = sb.tune(objectives, space, algo, num_trials=60, objectives=("max", "max"))
>>> front = algo.pareto_front
>>> len(front) > 1 and len(study.trials) == 60
True
"""

from __future__ import annotations

import math
import random

from symbo.algorithms.base import Algorithm, Reward, make_rng, pareto_ranks
from symbo.algorithms.mutation import Mutator, Uniform
from symbo.algorithms.recombinators import Recombinator, UniformCrossover
from symbo.core import field
from symbo.dsl import DNA, DNASpec
from symbo.dsl.materialize import random_dna

__all__ = ["NSGA2", "crowding_distances", "nsga2_order"]


class NSGA2(Algorithm, type_name="symbo.algorithms.NSGA2"):
    """Multi-objective evolution (see the module docstring)."""

    population_size: int = field(40, check=lambda v: v >= 2,
                                 message="population_size must be >= 2")
    mutator: Mutator = Uniform()
    recombinator: Recombinator | None = UniformCrossover()
    crossover_prob: float = field(0.9, check=lambda v: 0.0 <= v <= 1.0,
                                  message="crossover_prob must be in [0, 1]")
    seed: int | None = None
    supports_multi_objective = True
    supports_custom_decisions = True

    def _setup(self, spec: DNASpec) -> None:
        self._rng: random.Random = make_rng(self.seed)
        self._population: list[tuple[DNA, Reward]] = []
        self._pending = 0
        self._order: dict[int, tuple[int, float]] | None = None

    @property
    def population(self) -> list[tuple[DNA, Reward]]:
        return list(self._population)

    @property
    def pareto_front(self) -> list[tuple[DNA, Reward]]:
        """The members no other member dominates."""
        ranks = pareto_ranks([_tuple(r) for _, r in self._population])
        return [m for m, rank in zip(self._population, ranks) if rank == 0]

    def _propose(self) -> DNA:
        self._pending += 1
        if len(self._population) + self._pending - 1 < self.population_size \
                or len(self._population) < 2:
            return random_dna(self.spec, self._rng)
        first = self._tournament()
        if self.recombinator is not None and self._rng.random() < self.crossover_prob:
            second = self._tournament()
            child = self.recombinator.cross(first, second, self.spec, self._rng)
        else:
            child = first
        return self.mutator.mutate(child, self.spec, self._rng)

    def _tournament(self) -> DNA:
        order = self._ranking()
        i, j = self._rng.sample(range(len(self._population)), 2)
        best = i if order[i] < order[j] else j
        return self._population[best][0]

    def _ranking(self) -> dict[int, tuple[int, float]]:
        if self._order is None:
            rewards = [_tuple(r) for _, r in self._population]
            ranks = pareto_ranks(rewards)
            crowd = crowding_distances(rewards, ranks)
            self._order = {k: (ranks[k], -crowd[k]) for k in range(len(rewards))}
        return self._order

    def _feedback(self, dna: DNA, reward: Reward) -> None:
        self._pending = max(0, self._pending - 1)
        self._population.append((dna, reward))
        if len(self._population) > self.population_size:
            keep = nsga2_order([_tuple(r) for _, r in self._population])[:self.population_size]
            self._population = [self._population[k] for k in sorted(keep)]
        self._order = None

    def _on_failure(self, dna: DNA, error: str) -> None:
        self._pending = max(0, self._pending - 1)


def _tuple(reward: Reward) -> tuple[float, ...]:
    return tuple(reward) if isinstance(reward, tuple) else (float(reward),)


def crowding_distances(rewards: list[tuple[float, ...]], ranks: list[int]) -> list[float]:
    """NSGA-II's crowding distance of each point within its front (inf at a front's ends)."""
    out = [0.0] * len(rewards)
    fronts: dict[int, list[int]] = {}
    for k, r in enumerate(ranks):
        fronts.setdefault(r, []).append(k)
    m = len(rewards[0]) if rewards else 0
    for members in fronts.values():
        if len(members) <= 2:
            for k in members:
                out[k] = math.inf
            continue
        for obj in range(m):
            members.sort(key=lambda k: rewards[k][obj])
            low, high = rewards[members[0]][obj], rewards[members[-1]][obj]
            out[members[0]] = out[members[-1]] = math.inf
            if high == low:
                continue
            for a, k, b in zip(members, members[1:], members[2:]):
                out[k] += (rewards[b][obj] - rewards[a][obj]) / (high - low)
    return out


def nsga2_order(rewards: list[tuple[float, ...]]) -> list[int]:
    """Indices of ``rewards`` best first: by Pareto rank, then larger crowding distance."""
    ranks = pareto_ranks(rewards)
    crowd = crowding_distances(rewards, ranks)
    return sorted(range(len(rewards)), key=lambda k: (ranks[k], -crowd[k]))
