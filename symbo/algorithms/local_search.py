"""``sb.algorithms.LocalSearch``: hill climbing in the one-edit graph of a finite space.

White, Nolen, Ray, Siems, Hutter and Ramakrishnan (UAI 2021) found that this simple search is
at or near the state of the art on NAS benchmarks at small budgets: from the best point so
far, evaluate its one-edit neighbours (:mod:`symbo.algorithms.neighbours`: one op replaced,
one input edge moved, one choice changed) in random order, move as soon as one improves on
it, and, at a local optimum (every neighbour evaluated, none better), restart from the best
of ``restart_size`` fresh random points. The first start is the best of ``num_startup``
random points. No point is proposed twice.

With several workers, proposals keep coming while results are pending: the next unevaluated
neighbour, or, when every neighbour has been proposed and some results are still out, a
random unseen point (any result better than the current point moves the search there). In a
finite space the search ends (``exhausted``) once every point has been proposed.

>>> import symbo as sb
>>> space = sb.Dict(a=sb.one_of(list(range(8))), b=sb.one_of(list(range(8))))
>>> study = sb.tune(lambda p: -abs(p.a - 5) - abs(p.b - 2), space,
...                 sb.algorithms.LocalSearch(num_startup=3, seed=0), num_trials=30)
>>> study.best_trial.reward
0.0
"""

from __future__ import annotations

import random

from symbo.algorithms.base import Algorithm, AlgorithmError, Reward, make_rng, scalar
from symbo.algorithms.neighbours import neighbours
from symbo.core import field
from symbo.dsl import DNA, DNASpec
from symbo.dsl.materialize import iterate_dna, random_dna

__all__ = ["LocalSearch"]

_ENUMERATE_LIMIT = 100_000


class LocalSearch(Algorithm, type_name="symbo.algorithms.LocalSearch"):
    """Local search with first-improvement moves and random restarts (module docstring).

    ``num_startup`` random points make the first start (its best); ``restart_size`` random
    points each later start (their best). Needs a finite space (choices and int ranges).

    >>> import symbo as sb
    >>> algo = sb.algorithms.LocalSearch(num_startup=1, seed=0)
    >>> algo.setup(sb.dna_spec(sb.Dict(x=sb.one_of([0, 1, 2]), y=sb.one_of([0, 1]))))
    >>> start = algo.propose()
    >>> algo.feedback(start, 0.0)
    >>> sorted(algo.propose() for _ in range(3)) == sorted(algo.neighbours(start))
    True
    """

    needs_finite_space = True
    proposes_valid_dna = True

    num_startup: int = field(10, check=lambda v: v >= 1, message="num_startup must be >= 1")
    restart_size: int = field(1, check=lambda v: v >= 1, message="restart_size must be >= 1")
    seed: int | None = None

    def _setup(self, spec: DNASpec) -> None:
        self._rng: random.Random = make_rng(self.seed)
        self._seen: set[DNA] = set()
        self._rewards: dict[DNA, float] = {}
        self._current: DNA | None = None
        self._queue: list[DNA] = []
        self._waiting: set[DNA] = set()        # proposed neighbours without a result yet
        self._batch: list[DNA] = []            # the random points of the current (re)start
        self._batch_done = 0
        self._to_sample = self.num_startup     # random points still to propose for it
        self._unseen: list[DNA] | None = None
        self._neighbour_cache: dict[DNA, list[DNA]] = {}

    # ---- the algorithm interface ---------------------------------------------------------------
    @property
    def exhausted(self) -> bool:
        spec = self.spec
        return spec.is_finite and len(self._seen) >= spec.space_size

    @property
    def current(self) -> DNA | None:
        """The point the search climbs from (None while a start is being sampled)."""
        return self._current

    def neighbours(self, dna: DNA) -> list[DNA]:
        """The one-edit neighbours of ``dna`` (sub-decisions of a changed choice drawn once
        per point, then kept)."""
        found = self._neighbour_cache.get(dna)
        if found is None:
            found = neighbours(self.spec, dna, self._rng)
            self._neighbour_cache[dna] = found
        return found

    def _propose(self) -> DNA:
        if self.exhausted:
            raise AlgorithmError(
                f"LocalSearch: all {self.spec.space_size} points have been proposed")
        dna = None
        if self._current is None:
            if self._to_sample > 0:
                self._to_sample -= 1
                dna = self._random_unseen()
                self._batch.append(dna)
        else:
            while self._queue and dna is None:
                candidate = self._queue.pop()
                if candidate not in self._seen:
                    dna = candidate
                    self._waiting.add(dna)
            if dna is None and not self._waiting:       # a local optimum: start afresh
                self._restart()
                return self._propose()
        if dna is None:  # results pending, nothing of the start or neighbourhood left to ask
            dna = self._random_unseen()
        self._seen.add(dna)
        return dna

    def _feedback(self, dna: DNA, reward: Reward) -> None:
        value = scalar(reward)
        self._seen.add(dna)
        self._rewards[dna] = value
        self._waiting.discard(dna)
        if self._current is None:
            if dna in self._batch:
                self._batch_done += 1
                self._maybe_start()
            return
        if value > self._rewards[self._current]:
            self._move(dna)

    def _on_failure(self, dna: DNA, error: str) -> None:
        self._seen.add(dna)
        self._waiting.discard(dna)
        if self._current is None and dna in self._batch:
            self._batch_done += 1
            self._maybe_start()

    def _restore_proposed(self, dna: DNA) -> None:
        """A stored trial: seen; while a start is being sampled, one of its random points."""
        self._seen.add(dna)
        if self._current is None and self._to_sample > 0:
            self._to_sample -= 1
            self._batch.append(dna)
        elif self._current is not None:
            self._waiting.add(dna)

    # ---- internals -------------------------------------------------------------------------------
    def _maybe_start(self) -> None:
        if self._batch_done < len(self._batch) or self._to_sample > 0:
            return
        scored = [d for d in self._batch if d in self._rewards]
        if not scored:           # every point of the start failed: sample another start
            self._batch, self._batch_done, self._to_sample = [], 0, self.restart_size
            return
        self._move(max(scored, key=self._rewards.__getitem__))

    def _move(self, dna: DNA) -> None:
        self._current = dna
        self._batch, self._batch_done = [], 0
        queue = [d for d in self.neighbours(dna) if d not in self._seen]
        self._rng.shuffle(queue)
        self._queue = queue                     # popped from the end

    def _restart(self) -> None:
        self._current = None
        self._queue = []
        self._batch, self._batch_done, self._to_sample = [], 0, self.restart_size

    def _random_unseen(self) -> DNA:
        spec = self.spec
        for _ in range(100):
            dna = random_dna(spec, self._rng)
            if dna not in self._seen:
                return dna
        if spec.space_size > _ENUMERATE_LIMIT:
            return dna
        if self._unseen is None:
            self._unseen = list(iterate_dna(spec))
        self._unseen = [d for d in self._unseen if d not in self._seen]
        return self._unseen[self._rng.randrange(len(self._unseen))]
