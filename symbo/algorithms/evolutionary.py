"""``sb.algorithms.Evolution``: an evolutionary algorithm assembled from operations
(PyGlove's ``pg.evolution.Evolution``).

Three parts say it all: ``reproduction`` makes children from the population (selectors,
recombinators, mutators composed with ``>>``, ``+``, ``|``, ...), the first
``population_size`` proposals are random, and ``population_update`` keeps the population
in shape after each new member (e.g. ``Last(n)``: aging; ``Top(n)``: elitism; None: keep all).
Children are proposed one at a time; extra children of one reproduction wait their turn.
De-duplication works as in :class:`~symbo.algorithms.evolution.RegularizedEvolution`.

>>> import symbo as sb
>>> from symbo.algorithms import Evolution, Uniform, selectors
>>> algo = Evolution(selectors.Random(4) >> selectors.Top(1) >> Uniform(),
...                  population_size=8, population_update=selectors.Last(8), seed=0)
>>> study = sb.tune(lambda bits: sum(bits), sb.List([sb.one_of([0, 1]) for _ in range(6)]),
...                 algo, num_trials=40)
>>> study.best_trial.reward, len(algo.population)
(6.0, 8)
"""

from __future__ import annotations

from collections import deque

from symbo.algorithms.base import AlgorithmError, Reward
from symbo.algorithms.evolution import _Deduplicating
from symbo.algorithms.operations import Context, Operation
from symbo.core import field
from symbo.dsl import DNA
from symbo.dsl.materialize import random_dna

__all__ = ["Evolution"]


class Evolution(_Deduplicating, type_name="symbo.algorithms.Evolution"):
    """See the module docstring. ``population`` is the current population, oldest first,
    as (DNA, reward)."""

    reproduction: Operation
    population_size: int = field(20, check=lambda v: v >= 1,
                                 message="population_size must be >= 1")
    population_update: Operation | None = None
    dedup: bool = True
    max_dedup_tries: int = field(100, check=lambda v: v >= 0,
                                 message="max_dedup_tries must be >= 0")
    seed: int | None = None
    supports_multi_objective = True

    def _reset(self) -> None:
        self._members: list[DNA] = []
        self._fitness: dict[DNA, Reward] = {}
        self._queue: deque[DNA] = deque()

    @property
    def population(self) -> list[tuple[DNA, Reward]]:
        return [(d, self._fitness[d]) for d in self._members]

    def context(self) -> Context:
        """The context the operations run with (the population's rewards included)."""
        return Context(self.spec, self._rng, self.num_proposed, self._fitness,
                       self._num_objectives)

    def _candidate(self) -> DNA:
        if not self._members or len(self._members) + self._num_pending < self.population_size:
            return random_dna(self.spec, self._rng)
        if not self._queue:
            children = self.reproduction(list(self._members), self.context())
            if not children:
                raise AlgorithmError(
                    f"Evolution: reproduction {self.reproduction!r:.80} made no children")
            for child in children:
                if not isinstance(child, DNA):
                    raise AlgorithmError(
                        f"Evolution: reproduction made a {type(child).__name__}, not a DNA")
            self._queue.extend(children)
        child = self._queue.popleft()
        return DNA(None, child.children, self.spec) if child.spec is not self.spec else child

    def _learn(self, dna: DNA, reward: Reward) -> None:
        """Adds the member, then applies ``population_update``."""
        self._fitness[dna] = reward
        self._members.append(dna)
        if self.population_update is not None:
            kept = self.population_update(list(self._members), self.context())
            self._members = list(kept)
            alive = set(self._members)
            self._fitness = {d: r for d, r in self._fitness.items() if d in alive}
