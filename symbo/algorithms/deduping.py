"""``sb.algorithms.Deduping``: any algorithm, without proposing the same point twice
(PyGlove's ``pg.geno.Deduping``).

The wrapped algorithm proposes as usual; a proposal already made (compared by ``key(dna)``,
default the DNA itself) is asked for again, up to ``max_attempts`` times, then replaced by a
random unseen point, and, in a small finite space, by one found by enumeration. When every
point of a finite space has been proposed, ``exhausted`` is True and a further proposal is an
``AlgorithmError`` that says so (the search loop ends there, as with ``Grid``). Every result
reaches the wrapped algorithm, that of a replacement included, so its model learns from all
trials.

>>> import symbo as sb
>>> space = sb.Dict(a=sb.one_of([1, 2, 3]), b=sb.one_of(["x", "y"]))
>>> algo = sb.algorithms.Deduping(sb.algorithms.Random(seed=0))
>>> study = sb.tune(lambda p: float(p.a), space, algo, num_trials=6)
>>> len({t.dna for t in study.trials}), algo.exhausted
(6, True)
"""

from __future__ import annotations

import random
from collections.abc import Callable, Hashable, Sequence
from typing import Any

from symbo.algorithms.base import Algorithm, AlgorithmError, PastTrial, Reward, make_rng
from symbo.core import field
from symbo.dsl import DNA, DNASpec
from symbo.dsl.materialize import iterate_dna, random_dna

__all__ = ["Deduping"]

_ENUMERATE_LIMIT = 10_000


class Deduping(Algorithm, type_name="symbo.algorithms.Deduping"):
    """``algorithm`` with duplicates avoided (see the module docstring)."""

    algorithm: Algorithm
    key: Callable[[DNA], Hashable] | None = None
    max_attempts: int = field(100, check=lambda v: v >= 0, message="max_attempts must be >= 0")
    seed: int | None = None

    @property
    def supports_multi_objective(self) -> bool:  # type: ignore[override]
        return self.algorithm.supports_multi_objective

    @property
    def supports_custom_decisions(self) -> bool:  # type: ignore[override]
        return self.algorithm.supports_custom_decisions

    @property
    def needs_finite_space(self) -> bool:  # type: ignore[override]
        return self.algorithm.needs_finite_space

    @property
    def proposes_valid_dna(self) -> bool:
        return getattr(self.algorithm, "proposes_valid_dna", False)

    def _setup(self, spec: DNASpec) -> None:
        self.algorithm.setup(spec, num_objectives=self._num_objectives)
        self._rng: random.Random = make_rng(self.seed)
        self._seen: set[Hashable] = set()
        self._unseen: list[DNA] | None = None
        self._exhausted = False

    @property
    def exhausted(self) -> bool:
        return self._exhausted or self.algorithm.exhausted

    def _key(self, dna: DNA) -> Hashable:
        return dna if self.key is None else self.key(dna)

    def _propose(self) -> DNA:
        if self._exhausted:
            raise AlgorithmError(
                f"Deduping: every point of the space ({self.spec.space_size}) has been proposed")
        dna = self.algorithm.propose()
        if self._key(dna) in self._seen:
            dna = self._replacement(dna)
        self._seen.add(self._key(dna))
        spec = self.spec
        if self.key is None and spec.is_finite and len(self._seen) >= spec.space_size:
            self._exhausted = True  # every point proposed: a search loop stops here
        return dna

    def _replacement(self, duplicate: DNA) -> DNA:
        spec = self.spec
        if self.key is None and spec.is_finite and len(self._seen) >= spec.space_size:
            self._exhausted = True
            raise AlgorithmError(
                f"Deduping: every point of the space ({spec.space_size}) has been proposed")
        for _ in range(self.max_attempts):
            dna = self.algorithm.propose()
            if self._key(dna) not in self._seen:
                return dna
        for _ in range(self.max_attempts):
            dna = random_dna(spec, self._rng)
            if self._key(dna) not in self._seen:
                return dna
        if not spec.is_finite or spec.space_size > _ENUMERATE_LIMIT:
            return duplicate
        if self._unseen is None:
            self._unseen = list(iterate_dna(spec))
        self._unseen = [d for d in self._unseen if self._key(d) not in self._seen]
        if not self._unseen:
            self._exhausted = True
            raise AlgorithmError("Deduping: every point of the space has been proposed")
        return self._unseen[self._rng.randrange(len(self._unseen))]

    def _feedback(self, dna: DNA, reward: Reward) -> None:
        self._seen.add(self._key(dna))
        self.algorithm.feedback(dna, reward)

    def _on_failure(self, dna: DNA, error: str) -> None:
        self.algorithm.on_failure(dna, error)

    def restore(self, trials: Sequence[PastTrial]) -> None:
        """Every stored trial counts as seen; the wrapped algorithm restores from them all."""
        for t in trials:
            self._seen.add(self._key(t.dna))
            self._num_proposed += 1
            if t.reward is not None and t.status in ("completed", "stopped"):
                self._history.append((t.dna, t.reward))
        self.algorithm.restore(trials)
        spec = self.spec
        if self.key is None and spec.is_finite and len(self._seen) >= spec.space_size:
            self._exhausted = True

    @property
    def state(self) -> dict[str, Any]:
        return {"inner": self.algorithm.state, **super().state}

    def load_state(self, state: dict[str, Any]) -> None:
        super().load_state({k: v for k, v in state.items() if k != "inner"})
        self.algorithm.load_state(state.get("inner", {}))
