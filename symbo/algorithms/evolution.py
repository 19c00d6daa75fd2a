"""Regularized evolution (Real et al., AmoebaNet, 2019) and hill climbing, with de-duplication.

Both propose mutations (``symbo.algorithms.mutation``) of good DNA seen so far and never
propose the same DNA twice while an unseen one can be found.

De-duplication compares DNA by default. Set the ``dna_key`` attribute of the algorithm (before
the search starts) to compare by something coarser: a function from DNA (with its spec
attached) to any hashable value, e.g. the graph hash of the materialized cell, so that
isomorphic cells count as one. The algorithm never sees the program; the caller writes the
function, which is not a field (it is neither serialized nor cloned):

>>> import symbo as sb
>>> from symbo.algorithms.evolution import RegularizedEvolution
>>> space = sb.dag_cell(num_nodes=2, ops=["conv", "pool"])
>>> algo = RegularizedEvolution(population_size=4, tournament_size=2, seed=0)
>>> algo.dna_key = lambda dna: sb.graph_hash(sb.materialize(space, dna))
>>> study = sb.tune(lambda cell: len(cell.nodes), space, algo, num_trials=10)
>>> len({algo.dna_key(t.dna) for t in study.trials})
10
"""

from __future__ import annotations

import random
from collections import Counter, deque
from collections.abc import Callable, Hashable, Mapping
from typing import Any, ClassVar

from symbo.algorithms import selectors
from symbo.algorithms.base import (
    Algorithm,
    AlgorithmError,
    Reward,
    make_rng,
    pareto_ranks,
    scalar,
)
from symbo.algorithms.mutation import Crossover, Mutator, Uniform
from symbo.algorithms.operations import Context
from symbo.core import field
from symbo.dsl import DNA, DNASpec
from symbo.dsl.materialize import iterate_dna, random_dna

# Past the random retries, a finite space up to this size is enumerated to find an unseen point.
_ENUMERATE_LIMIT = 10_000


class _Deduplicating(Algorithm, register=False):
    """Shared by the algorithms here: pending proposals and de-duplication (restored from the
    stored trials when a study resumes).

    Subclasses declare the fields ``dedup``, ``max_dedup_tries`` and ``seed``, implement
    ``_candidate()`` (one proposal before de-duplication), ``_reset()`` (their own state) and
    ``_learn(dna, reward)`` (a completed trial).
    """

    proposes_valid_dna = True

    dna_key: ClassVar[Callable[[DNA], Hashable] | None] = None
    supports_custom_decisions = True

    def _setup(self, spec: DNASpec) -> None:
        self._rng: random.Random = make_rng(self.seed)
        self._clear()

    def _clear(self) -> None:
        self._seen: set[Hashable] = set()
        self._keys: dict[DNA, Hashable] = {}
        self._pending: Counter[DNA] = Counter()
        self._num_pending = 0
        self._failed: list[DNA] = []
        self._unseen: list[tuple[Hashable, DNA]] | None = None
        self._exhausted = False
        self._reset()

    def _reset(self) -> None:
        """Hook: clears the subclass's search state."""

    def _candidate(self) -> DNA:
        raise NotImplementedError

    def _learn(self, dna: DNA, reward: Reward) -> None:
        """Hook: a completed trial (already in ``history``)."""

    # ---- proposing -------------------------------------------------------------------------
    def _propose(self) -> DNA:
        dna = self._candidate()
        if self.dedup and not self._exhausted and not self._is_new(dna):
            dna = self._find_new(dna)
        self._pending[dna] += 1
        self._num_pending += 1
        self._mark_seen(dna)
        return dna

    @property
    def num_pending(self) -> int:
        """Proposals not yet answered by ``feedback`` or ``on_failure``."""
        return self._num_pending

    @property
    def exhausted(self) -> bool:
        """Whether every point of the (finite) space has been proposed (then duplicates come)."""
        return self._exhausted

    def _key(self, dna: DNA) -> Hashable:
        fn = self.dna_key
        if fn is None:
            return dna
        key = self._keys.get(dna)
        if key is None:
            key = self._keys[dna] = fn(dna if dna.spec is not None else
                                       DNA(dna.value, dna.children, self.spec))
        return key

    def _mark_seen(self, dna: DNA) -> None:
        if self.dedup:
            self._seen.add(self._key(dna))

    def _is_new(self, dna: DNA) -> bool:
        return self._key(dna) not in self._seen

    def _find_new(self, duplicate: DNA) -> DNA:
        """More candidates, then random DNA, then an enumeration; else the duplicate."""
        if self.dna_key is None and self.spec.is_finite and len(self._seen) >= self.spec.space_size:
            self._exhausted = True
            return duplicate
        for _ in range(self.max_dedup_tries):
            dna = self._candidate()
            if self._is_new(dna):
                return dna
        for _ in range(self.max_dedup_tries):
            dna = random_dna(self.spec, self._rng)
            if self._is_new(dna):
                return dna
        if not self.spec.is_finite or self.spec.space_size > _ENUMERATE_LIMIT:
            return duplicate
        if self._unseen is None:
            self._unseen = [(self._key(d), d) for d in iterate_dna(self.spec)]
        self._unseen = [(k, d) for k, d in self._unseen if k not in self._seen]
        if not self._unseen:
            self._exhausted = True
            return duplicate
        return self._unseen[self._rng.randrange(len(self._unseen))][1]

    # ---- results ---------------------------------------------------------------------------
    def _feedback(self, dna: DNA, reward: Reward) -> None:
        self._answered(dna)
        self._mark_seen(dna)
        self._learn(dna, reward)

    def _on_failure(self, dna: DNA, error: str) -> None:
        """Drops the pending proposal; a failed DNA is not proposed again."""
        if self._answered(dna):
            self._failed.append(dna)

    def _answered(self, dna: DNA) -> bool:
        if self._pending[dna] <= 0:
            return False
        self._pending[dna] -= 1
        self._num_pending -= 1
        if not self._pending[dna]:
            del self._pending[dna]
        return True

    # ---- resuming --------------------------------------------------------------------------
    def _restore_proposed(self, dna: DNA) -> None:
        """A stored trial's DNA: pending until its result comes, and seen (de-duplication)."""
        self._pending[dna] += 1
        self._num_pending += 1
        self._mark_seen(dna)


def _positive(v: int) -> bool:
    return v >= 1


class RegularizedEvolution(_Deduplicating, type_name="symbo.algorithms.RegularizedEvolution"):
    """Aging evolution: tournament selection, mutation, and the oldest member dies; written with
    the operator algebra (``selectors.Random(tournament_size) >> selectors.Top(1)``, then the
    ``crossover`` and ``mutator``; see :class:`~symbo.algorithms.Evolution` to assemble others).

    The first ``population_size`` proposals are random. After that each proposal samples
    ``tournament_size`` members of the population, mutates the best (with probability
    ``crossover_prob``, first crosses it with a second tournament's winner), and proposes the
    child. When a child's reward arrives it joins the population and the OLDEST member leaves
    (aging, not the worst). Several proposals may be out at once (parallel workers); a failed
    one is dropped. With several objectives, a tournament is won by the lowest Pareto rank in
    the population. Ties are broken at random. See the module docstring for ``dna_key``.

    >>> import symbo as sb
    >>> from symbo.algorithms.evolution import RegularizedEvolution
    >>> space = sb.List([sb.one_of([0, 1]) for _ in range(8)])
    >>> algo = RegularizedEvolution(population_size=10, tournament_size=3, seed=1)
    >>> study = sb.tune(lambda bits: sum(bits), space, algo, num_trials=60)
    >>> study.best_trial.reward
    8.0
    >>> len(algo.population), len({t.dna for t in study.trials})
    (10, 60)
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

    def _on_bound(self) -> None:
        super()._on_bound()
        t, n = self.tournament_size, self.population_size
        if type(t) is int and type(n) is int and t > n:  # refused when built or rebound
            # (settings that are markers, in a space of algorithms, are checked once decided)
            raise AlgorithmError(
                f"RegularizedEvolution: tournament_size ({self.tournament_size}) must be <= "
                f"population_size ({self.population_size})"
            )

    def _reset(self) -> None:
        self._population: deque[tuple[DNA, Reward]] = deque(maxlen=self.population_size)
        self._ranks: list[int] | None = None
        self._selection = selectors.Random(self.tournament_size) >> selectors.Top(1)

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
        """``selectors.Random(tournament_size) >> selectors.Top(1)`` over the population (its
        members by position; with several objectives ranked by Pareto rank in the population)."""
        members = self._population
        selection = self._selection
        if len(members) < self.tournament_size:  # parallel workers: the population fills late
            selection = selectors.Random(len(members)) >> selectors.Top(1)
        context = Context(self.spec, self._rng, self.num_proposed, _Scores(self),
                          self._num_objectives)
        [winner] = selection(list(range(len(members))), context)
        return members[winner][0]

    def _learn(self, dna: DNA, reward: Reward) -> None:
        """Adds the child to the population; the oldest member leaves when it is full."""
        self._population.append((dna, reward))
        self._ranks = None


class _Scores(Mapping):
    """What tournaments rank population members (by position) by: the reward, or with several
    objectives minus the Pareto rank in the whole population (computed once per change)."""

    __slots__ = ("algo",)

    def __init__(self, algo: RegularizedEvolution) -> None:
        self.algo = algo

    def __getitem__(self, i: int) -> float:
        algo = self.algo
        if algo._num_objectives > 1:
            if algo._ranks is None:
                algo._ranks = pareto_ranks([r for _, r in algo._population])
            return -float(algo._ranks[i])
        return scalar(algo._population[i][1])

    def __iter__(self) -> Any:
        return iter(range(len(self.algo._population)))

    def __len__(self) -> int:
        return len(self.algo._population)


class HillClimb(_Deduplicating, type_name="symbo.algorithms.HillClimb"):
    """Proposes mutations of the best DNA found so far (the first proposal is random).

    The center moves to the best of each batch of ``neighbors`` completed trials when it is at
    least as good as the center (ties move, so the search drifts across plateaus). With
    ``neighbors=1`` (the default) every improvement is taken at once. Single objective.
    De-duplication (and ``dna_key``) work as in :class:`RegularizedEvolution`.

    >>> import symbo as sb
    >>> from symbo.algorithms.evolution import HillClimb
    >>> space = sb.List([sb.one_of([0, 1]) for _ in range(8)])
    >>> algo = HillClimb(seed=0)
    >>> study = sb.tune(lambda bits: sum(bits), space, algo, num_trials=40)
    >>> study.best_trial.reward, algo.best[1]
    (8.0, 8.0)
    """

    neighbors: int = field(1, check=_positive, message="neighbors must be >= 1")
    mutator: Mutator = Uniform()
    dedup: bool = True
    max_dedup_tries: int = field(100, check=lambda v: v >= 0,
                                 message="max_dedup_tries must be >= 0")
    seed: int | None = None

    def _reset(self) -> None:
        self._center: tuple[DNA, Reward] | None = None
        self._batch_best: tuple[DNA, Reward] | None = None
        self._batch_count = 0

    @property
    def best(self) -> tuple[DNA, Reward] | None:
        """The center: the best (DNA, reward) so far (None before any feedback)."""
        return self._center

    def _candidate(self) -> DNA:
        if self._center is None:
            return random_dna(self.spec, self._rng)
        return self.mutator.mutate(self._center[0], self.spec, self._rng)

    def _learn(self, dna: DNA, reward: Reward) -> None:
        """Counts the result in the current batch; moves the center when the batch is done."""
        if self._center is None:
            self._center = (dna, reward)
            return
        if self._batch_best is None or scalar(reward) >= scalar(self._batch_best[1]):
            self._batch_best = (dna, reward)
        self._batch_count += 1
        if self._batch_count >= self.neighbors:
            if scalar(self._batch_best[1]) >= scalar(self._center[1]):
                self._center = self._batch_best
            self._batch_best, self._batch_count = None, 0
