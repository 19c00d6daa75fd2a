"""Numeric encodings of DNA for algorithms that need vectors (TPE, GP, evolution mutators).

``VectorEncoder(spec)`` lays every decision point of the spec tree out as slots of a flat
vector: a one-hot block (or one index slot) per choice position, one slot in ``[0, 1]`` per
range (log ranges in log space), and the slots of each candidate's sub-decisions after it.
Slots of decisions that are not active in a DNA (under candidates not chosen) hold ``nan``
(or ``fill``). ``decode`` is the inverse for any vector: it takes the arg-max of each one-hot
block (respecting ``distinct``/``sorted``), rounds indices and clips ranges.

>>> import symbo as sb
>>> space = sb.Dict(opt=sb.one_of(["sgd", "adam"]), lr=sb.float_range(1e-3, 1e-1, scale="log"))
>>> enc = sb.VectorEncoder(sb.dna_spec(space))
>>> v = enc.encode(sb.DNA(None, (sb.DNA(1), sb.DNA(0.01))))
>>> v.round(3).tolist(), [round(x, 9) for x in enc.decode(v).to_numbers()]
([0.0, 1.0, 0.5], [1, 0.01])
"""

from __future__ import annotations

import math
from typing import Any

import attrs
import numpy as np

from symbo.core import SymbolicValueError
from symbo.dsl.dna import DNA, DNAError
from symbo.dsl.points import DecisionPoint, Decisions
from symbo.dsl.spec import DNASpec


@attrs.frozen(slots=True)
class Slot:
    """Where one decision point (at one many_of position) lives in the vector: ``width``
    slots from ``start``, and per candidate (branch) the slots of its decisions."""

    decision: DecisionPoint
    start: int
    width: int
    candidates: tuple[tuple[Slot, ...], ...] = ()  # per branch: the slots of its decisions


class VectorEncoder:
    """Encodes DNA of one spec as float vectors of fixed length ``size``, and back.

    ``layout`` holds the :class:`Slot` of each top-level decision position, and ``names`` a
    readable label per vector entry. Each decision point writes and reads its own slots
    (``width``, ``encode``, ``decode``); the encoder walks the tree.
    """

    def __init__(self, spec: DNASpec, *, onehot: bool = True, fill: float = math.nan) -> None:
        self.spec = spec
        self.onehot = onehot
        self.fill = fill
        self._next = 0
        self.layout: tuple[Slot, ...] = self._lay_space(spec.space)
        self.size: int = self._next
        self.names: list[str] = [""] * self.size
        self._name(self.layout, "")

    # ---- layout --------------------------------------------------------------------------
    def _lay_space(self, space: Decisions) -> tuple[Slot, ...]:
        slots: list[Slot] = []
        for d in space.decisions:
            for _ in range(d.positions):
                slots.append(self._lay(d))
        return tuple(slots)

    def _lay(self, d: DecisionPoint) -> Slot:
        start = self._next
        width = d.width(self.onehot)
        self._next += width
        subs = tuple(self._lay_space(b) for b in d.branches())
        return Slot(d, start, width, subs)

    def _name(self, slots: tuple[Slot, ...], prefix: str) -> None:
        counts: dict[str, int] = {}
        for slot in slots:
            d = slot.decision
            base = d.name or d.id
            pos = counts.get(d.id, 0)
            counts[d.id] = pos + 1
            label = base if d.positions == 1 else f"{base}[{pos}]"
            if slot.candidates:  # a choice: one-hot entries, then each candidate's slots
                for i, sub in enumerate(slot.candidates):
                    if self.onehot:
                        self.names[slot.start + i] = f"{label}=={i}"
                    self._name(sub, f"{label}=={i}:")
                if not self.onehot:
                    self.names[slot.start] = label
            else:
                for j in range(slot.width):
                    self.names[slot.start + j] = label if slot.width == 1 else f"{label}[{j}]"

    # ---- encode --------------------------------------------------------------------------
    def encode(self, dna: DNA) -> np.ndarray:
        """The vector of ``dna`` (inactive slots hold ``fill``)."""
        out = np.full(self.size, self.fill, dtype=float)
        self._enc_space(self.layout, dna.children, out)
        return out

    def _enc_space(self, slots: tuple[Slot, ...], children: tuple[DNA, ...], out: np.ndarray) -> None:
        k = 0
        for child in children:
            if k >= len(slots):
                raise DNAError(f"the DNA does not fit the encoder's spec ({k} of {len(slots)} slots)")
            d = slots[k].decision
            picks = child.children if d.positions > 1 else (child,)
            for pick in picks:
                self._enc(slots[k], pick, out)
                k += 1
        if k != len(slots):
            raise DNAError(f"the DNA does not fit the encoder's spec ({k} of {len(slots)} slots)")

    def _enc(self, slot: Slot, dna: DNA, out: np.ndarray) -> None:
        slot.decision.encode(dna.value, out, slot.start, self.onehot)
        if slot.candidates:
            self._enc_space(slot.candidates[dna.value], dna.children, out)  # type: ignore[index]

    # ---- decode --------------------------------------------------------------------------
    def decode(self, vector: Any) -> DNA:
        """The DNA nearest to ``vector`` (any real vector of length ``size``)."""
        v = np.asarray(vector, dtype=float)
        if v.shape != (self.size,):
            raise SymbolicValueError(f"expected a vector of length {self.size}, got shape {v.shape}")
        return DNA(None, self._dec_space(self.layout, v), self.spec)

    def _dec_space(self, slots: tuple[Slot, ...], v: np.ndarray) -> tuple[DNA, ...]:
        children: list[DNA] = []
        k = 0
        while k < len(slots):
            d = slots[k].decision
            if d.positions > 1:
                group = slots[k: k + d.positions]
                k += d.positions
                children.append(self._dec_many(d, group, v))
            else:
                children.append(self._dec(slots[k], v, None))
                k += 1
        return tuple(children)

    def _dec_many(self, d: DecisionPoint, group: tuple[Slot, ...], v: np.ndarray) -> DNA:
        used: set[Any] = set()
        picks = []
        for slot in group:
            pick = self._dec(slot, v, used if d.distinct else None)
            used.add(pick.value)
            picks.append(pick)
        if d.sorted:
            picks.sort(key=lambda p: p.value)  # type: ignore[arg-type,return-value]
        return DNA(None, tuple(picks))

    def _dec(self, slot: Slot, v: np.ndarray, exclude: set[Any] | None) -> DNA:
        value = slot.decision.decode(v, slot.start, self.onehot, exclude)
        if slot.candidates:
            return DNA(value, self._dec_space(slot.candidates[value], v))
        return DNA(value)


def to_unit(d: Any, value: float) -> float:
    """A range decision's value mapped to ``[0, 1]`` (log ranges in log space)."""
    return d.to_unit(value)


def from_unit(d: Any, u: float) -> float | int:
    """The inverse of :func:`to_unit` (``nan`` maps to the middle; ints are rounded)."""
    return d.from_unit(u)
