"""Weisfeiler-Lehman subtree features of the cells a DNA makes (and of its other decisions).

The Weisfeiler-Lehman (WL) subtree kernel (Shervashidze et al. 2011) compares graphs by the
rooted subtrees they contain: at iteration 0 a vertex's feature is its label; at iteration
``t`` it is its label at ``t - 1`` joined with the sorted multiset of ``(edge op, label at
t - 1)`` of its predecessors (information flows from the cell's inputs towards its output).
A graph's feature vector counts each feature; NAS-BOWL (Ru et al. 2021) models architectures
with a GP over this kernel. For cells with one op per edge, iteration 0 also counts the ops
on the edges (the vertices there are all alike).

:class:`Featurizer` turns DNA into sparse count vectors through the DNA spec only: the cells'
graphs come from ``spec.cells`` (:mod:`symbo.dsl.cell_layout`); every other decision on the
DNA's path adds one feature ``(decision id, value)`` (an overlap kernel for them).

>>> import symbo as sb
>>> from symbo.algorithms.wl_features import Featurizer
>>> spec = sb.dna_spec(sb.dag_cell(num_nodes=2, ops=["conv", "pool"], name="c"))
>>> f = Featurizer(spec, iterations=1)
>>> a, b = sb.random_dna(spec, seed=0), sb.random_dna(spec, seed=1)
>>> fa = f.features(a)
>>> sorted(fa) == sorted(f.features(a)) and all(t in (0, 1) for t, _ in fa)
True
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from symbo.dsl import DNA, DNASpec

_MEMO_LIMIT = 50_000      # memoized DNA (candidates come and go; trials are few)
Feature = tuple[int, Any]   # (iteration, or -1 for the other decisions; an interned label)


class Featurizer:
    """WL features of the cells plus one feature per other decision, memoized per DNA.

    ``features(dna)`` is a ``{feature: count}`` dict; a feature is ``(t, key)``: ``t`` the
    WL iteration (``-1`` for the decisions outside cells), ``key`` an int interned per
    distinct label (stable within this featurizer).
    """

    def __init__(self, spec: DNASpec, iterations: int = 2) -> None:
        self.spec = spec
        self.iterations = iterations
        self.cells = spec.cells
        in_cells = {d for layout in self.cells for d in layout.decisions}
        self.others = [d for d in spec.decision_points if d.id not in in_cells]
        self._intern: dict[Any, int] = {}
        self._memo: dict[DNA, dict[Feature, int]] = {}

    def _key(self, label: Any) -> int:
        key = self._intern.get(label)
        if key is None:
            key = self._intern[label] = len(self._intern)
        return key

    def features(self, dna: DNA) -> dict[Feature, int]:
        """The feature counts of ``dna``."""
        found = self._memo.get(dna)
        if found is not None:
            return found
        dna = dna if dna.spec is self.spec else dna.use_spec(self.spec)
        counts: Counter[Feature] = Counter()
        for c, layout in enumerate(self.cells):
            graph = layout.edges(dna)
            if graph is not None:
                self._wl(c, *graph, counts)
        for d in self.others:
            value = dna[d.id]
            if value is None:
                continue
            if isinstance(value, list):        # a many_of: one feature per pick
                for j, pick in enumerate(value):
                    counts[(-1, self._key((d.id, j, pick.value)))] += 1
            else:
                counts[(-1, self._key((d.id, value.value)))] += 1
        out = dict(counts)
        if len(self._memo) >= _MEMO_LIMIT:
            self._memo.clear()
        self._memo[dna] = out
        return out

    def _wl(self, cell: int, labels: list[str], edges: list[tuple[int, int, str | None]],
            counts: Counter[Feature]) -> None:
        preds: list[list[tuple[str | None, int]]] = [[] for _ in labels]
        for j, k, op in edges:
            preds[k].append((op, j))
            if op is not None:
                counts[(0, self._key((cell, "edge", op)))] += 1
        current = [self._key((cell, label)) for label in labels]
        for v in current:
            counts[(0, v)] += 1
        for t in range(1, self.iterations + 1):
            current = [self._key((t, current[v], tuple(sorted((op or "", current[u])
                                                               for op, u in preds[v]))))
                       for v in range(len(labels))]
            for v in current:
                counts[(t, v)] += 1
