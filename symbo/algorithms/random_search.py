"""Random search: every decision uniform (log ranges uniform in log space).

>>> import symbo as sb
>>> algo = sb.algorithms.Random(seed=0)
>>> algo.setup(sb.dna_spec(sb.Dict(x=sb.one_of([1, 2, 3]))))
>>> algo.propose() == sb.algorithms.Random(seed=0).setup_and_propose(algo.spec)
True
"""

from __future__ import annotations

from symbo.algorithms.base import Algorithm, make_rng
from symbo.dsl import DNA, DNASpec
from symbo.dsl.materialize import random_dna


class Random(Algorithm, type_name="symbo.algorithms.Random"):
    """Uniform random search. ``seed`` makes the sequence of proposals reproducible."""

    proposes_valid_dna = True

    seed: int | None = None
    supports_multi_objective = True
    supports_custom_decisions = True

    def _setup(self, spec: DNASpec) -> None:
        self._rng = make_rng(self.seed)

    def _propose(self) -> DNA:
        return random_dna(self.spec, self._rng)

    def setup_and_propose(self, spec: DNASpec) -> DNA:
        """``setup(spec)`` then ``propose()`` (a convenience for one-off samples)."""
        self.setup(spec)
        return self.propose()
