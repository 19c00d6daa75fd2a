"""RegularizedEvolution as it was before issue 14 rewrote it with the operator algebra
(symbo at d4ed5f1, ``symbo/algorithms/evolution.py``), kept verbatim for ``evolution_bench.py``
to measure the rewrite against. Not part of symbo.
"""

from __future__ import annotations

from collections import deque

from symbo.algorithms.base import AlgorithmError, Reward, pareto_ranks, scalar
from symbo.algorithms.evolution import _Deduplicating, _positive
from symbo.algorithms.mutation import Crossover, Mutator, Uniform
from symbo.core import field
from symbo.dsl import DNA, DNASpec
from symbo.dsl.materialize import random_dna


class LegacyRegularizedEvolution(_Deduplicating, type_name="benchmarks.LegacyRegularizedEvolution"):
    """Aging evolution: tournament selection, mutation, and the oldest member dies.

    The first ``population_size`` proposals are random. After that each proposal samples
    ``tournament_size`` members of the population, mutates the best (with probability
    ``crossover_prob``, first crosses it with a second tournament's winner), and proposes the
    child. When a child's reward arrives it joins the population and the OLDEST member leaves
    (aging, not the worst). Several proposals may be out at once (parallel workers); a failed
    one is dropped. With several objectives, a tournament is won by the lowest Pareto rank in
    the population. Ties are broken at random. See the module docstring for ``dna_key``.

    """

    population_size: int = field(20, check=_positive, message="population_size must be >= 1")
    tournament_size: int = field(5, check=_positive, message="tournament_size must be >= 1")
    mutator: Mutator = Uniform()
    crossover: Crossover | None = None
    crossover_prob: float = field(0.0, check=lambda v: 0.0 <= v <= 1.0,
                                  message="crossover_prob must be in [0, 1]")
    dedup: bool = True
    max_dedup_tries: int = field(100, check=lambda v: v >= 0,
                                 message="max_dedup_tries must be >= 0")
    seed: int | None = None
    supports_multi_objective = True

    def _setup(self, spec: DNASpec) -> None:
        if self.tournament_size > self.population_size:
            raise AlgorithmError(
                f"RegularizedEvolution: tournament_size ({self.tournament_size}) must be <= "
                f"population_size ({self.population_size})"
            )
        super()._setup(spec)

    def _reset(self) -> None:
        self._population: deque[tuple[DNA, Reward]] = deque(maxlen=self.population_size)
        self._ranks: list[int] | None = None

    @property
    def population(self) -> list[tuple[DNA, Reward]]:
        """The current population as (DNA, reward), oldest first."""
        return list(self._population)

    def _candidate(self) -> DNA:
        if not self._population or \
                len(self._population) + self._num_pending < self.population_size:
            return random_dna(self.spec, self._rng)
        parent = self._tournament()
        if self.crossover is not None and self._rng.random() < self.crossover_prob:
            parent = self.crossover.cross(parent, self._tournament(), self.spec, self._rng)
        return self.mutator.mutate(parent, self.spec, self._rng)

    def _tournament(self) -> DNA:
        """The best of ``tournament_size`` members sampled without replacement."""
        members = list(self._population)
        sample = self._rng.sample(range(len(members)), min(self.tournament_size, len(members)))
        if self._num_objectives > 1:
            if self._ranks is None:
                self._ranks = pareto_ranks([r for _, r in members])
            scores = {i: -self._ranks[i] for i in sample}
        else:
            scores = {i: scalar(members[i][1]) for i in sample}
        best = max(scores.values())
        ties = [i for i in sample if scores[i] == best]
        return members[ties[self._rng.randrange(len(ties))]][0]

    def _learn(self, dna: DNA, reward: Reward) -> None:
        """Adds the child to the population; the oldest member leaves when it is full."""
        self._population.append((dna, reward))
        self._ranks = None
