"""Grid search: every point of a finite space, in a fixed order; ranges on a grid.

>>> import symbo as sb
>>> algo = sb.algorithms.Grid(grid_size=3)
>>> algo.setup(sb.dna_spec(sb.Dict(a=sb.one_of(["x", "y"]), lr=sb.float_range(0.0, 1.0))))
>>> [algo.propose().to_numbers() for _ in range(6)]
[[0, 0.0], [0, 0.5], [0, 1.0], [1, 0.0], [1, 0.5], [1, 1.0]]
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from symbo.algorithms.base import Algorithm, AlgorithmError
from symbo.core import field
from symbo.dsl import DNA, DNASpec
from symbo.dsl.encoding import from_unit
from symbo.dsl.materialize import iterate_dna
from symbo.dsl.spec import Candidate, Choice, FloatDecision, IntDecision, Space


class Grid(Algorithm, type_name="symbo.algorithms.Grid"):
    """Exhaustive search. A finite space is enumerated as is; with ``grid_size``, each
    ``float_range`` (and each ``int_range`` wider than the grid) is discretized to that many
    evenly spaced values (in log space for log scales). Proposing past the last point raises
    ``StopIteration``-like ``AlgorithmError`` unless ``cycle=True``.
    """

    proposes_valid_dna = True

    grid_size: int | None = field(None, check=lambda v: v is None or v >= 2,
                                  message="grid_size must be >= 2 (or None)")
    cycle: bool = False
    supports_multi_objective = True

    def _setup(self, spec: DNASpec) -> None:
        if not spec.is_finite and self.grid_size is None:
            ranges = [d.id for d in spec.decision_points if isinstance(d, FloatDecision)]
            raise AlgorithmError(
                f"Grid needs a finite space or grid_size=N to discretize continuous decisions "
                f"({', '.join(ranges)})"
            )
        self._grid_spec = _discretize(spec, self.grid_size) if self.grid_size else spec
        self._points: Iterator[DNA] = iterate_dna(self._grid_spec)
        self._exhausted = False
        self._skip: Counter[DNA] = Counter()  # stored points (a resumed study): not again

    @property
    def size(self) -> int:
        """The number of grid points."""
        return int(self._grid_spec.space_size)

    @property
    def exhausted(self) -> bool:
        return self._exhausted

    def _propose(self) -> DNA:
        while True:
            try:
                grid_dna = next(self._points)
            except StopIteration:
                if not self.cycle:
                    self._exhausted = True
                    raise AlgorithmError(f"Grid: all {self.size} points have been proposed") from None
                self._points = iterate_dna(self._grid_spec)
                grid_dna = next(self._points)
            if self.grid_size:
                grid_dna = _undiscretize(self.spec.space, grid_dna, self.grid_size)
            dna = DNA(None, grid_dna.children, self.spec)
            if self._skip[dna] > 0:  # run already (a resumed study): each skipped once
                self._skip[dna] -= 1
                continue
            return dna

    def _restore_proposed(self, dna: DNA) -> None:
        """A stored trial's point: the grid goes on past it, whatever became of it (a point
        that failed fails again)."""
        self._skip[DNA(dna.value, dna.children)] += 1


def _values(d: FloatDecision | IntDecision, n: int) -> list[float | int]:
    if isinstance(d, IntDecision) and d.size <= n:
        return list(range(d.low, d.high + 1))
    values = [from_unit(d, i / (n - 1)) for i in range(n)]
    return sorted(set(values))


def _discretize(spec: DNASpec, n: int) -> DNASpec:
    """The spec with every wide range replaced by a choice among ``n`` grid values."""

    def space(s: Space) -> Space:
        out = []
        for d in s.decisions:
            if isinstance(d, Choice):
                cands = tuple(Candidate(c.literal, space(c.space)) for c in d.candidates)
                out.append(Choice(d.id, d.location, d.name, cands, d.num_choices, d.distinct,
                                  d.sorted))
            elif isinstance(d, IntDecision) and d.size <= n:
                out.append(d)
            else:
                cands = tuple(Candidate(repr(v), Space(())) for v in _values(d, n))
                out.append(Choice(d.id, d.location, d.name, cands))
        return Space(tuple(out))

    return DNASpec(space(spec.space))


def _undiscretize(s: Space, grid: DNA, n: int) -> DNA:
    """Maps a DNA of the discretized spec back to the original spec."""
    children = []
    for d, child in zip(s.decisions, grid.children):
        if isinstance(d, Choice):
            picks = [child] if d.num_choices == 1 else list(child.children)
            mapped = [DNA(p.value, _undiscretize(d.candidates[p.value].space,  # type: ignore[index]
                                                 DNA(None, p.children), n).children)
                      for p in picks]
            children.append(mapped[0] if d.num_choices == 1 else DNA(None, tuple(mapped)))
        elif isinstance(d, IntDecision) and d.size <= n:
            children.append(child)
        else:
            children.append(DNA(_values(d, n)[child.value]))  # type: ignore[index]
    return DNA(None, tuple(children))
