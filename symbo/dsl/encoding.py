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
from symbo.dsl.spec import Choice, DecisionPoint, DNASpec, FloatDecision, IntDecision, Space


@attrs.frozen(slots=True)
class _Slot:
    """Where one decision point (at one many_of position) lives in the vector."""

    decision: DecisionPoint
    start: int
    width: int
    candidates: tuple[tuple[_Slot, ...], ...] = ()  # per candidate: the slots of its space


class VectorEncoder:
    """Encodes DNA of one spec as float vectors of fixed length ``size``, and back."""

    def __init__(self, spec: DNASpec, *, onehot: bool = True, fill: float = math.nan) -> None:
        self.spec = spec
        self.onehot = onehot
        self.fill = fill
        self._next = 0
        self.layout: tuple[_Slot, ...] = self._lay_space(spec.space)
        self.size: int = self._next
        self.names: list[str] = [""] * self.size
        self._name(self.layout, "")

    # ---- layout --------------------------------------------------------------------------
    def _lay_space(self, space: Space) -> tuple[_Slot, ...]:
        slots: list[_Slot] = []
        for d in space.decisions:
            positions = d.num_choices if isinstance(d, Choice) else 1
            for _ in range(positions):
                slots.append(self._lay(d))
        return tuple(slots)

    def _lay(self, d: DecisionPoint) -> _Slot:
        start = self._next
        if isinstance(d, Choice):
            width = len(d.candidates) if self.onehot else 1
            self._next += width
            subs = tuple(self._lay_space(c.space) for c in d.candidates)
            return _Slot(d, start, width, subs)
        self._next += 1
        return _Slot(d, start, 1)

    def _name(self, slots: tuple[_Slot, ...], prefix: str) -> None:
        counts: dict[str, int] = {}
        for slot in slots:
            d = slot.decision
            base = d.name or d.id
            pos = counts.get(d.id, 0)
            counts[d.id] = pos + 1
            label = base if not (isinstance(d, Choice) and d.num_choices > 1) else f"{base}[{pos}]"
            if isinstance(d, Choice):
                for i, sub in enumerate(slot.candidates):
                    if self.onehot:
                        self.names[slot.start + i] = f"{label}=={i}"
                    self._name(sub, f"{label}=={i}:")
                if not self.onehot:
                    self.names[slot.start] = label
            else:
                self.names[slot.start] = label

    # ---- encode --------------------------------------------------------------------------
    def encode(self, dna: DNA) -> np.ndarray:
        """The vector of ``dna`` (inactive slots hold ``fill``)."""
        out = np.full(self.size, self.fill, dtype=float)
        self._enc_space(self.layout, dna.children, out)
        return out

    def _enc_space(self, slots: tuple[_Slot, ...], children: tuple[DNA, ...], out: np.ndarray) -> None:
        k = 0
        for child in children:
            d = slots[k].decision
            if isinstance(d, Choice) and d.num_choices > 1:
                picks = child.children
            else:
                picks = (child,)
            for pick in picks:
                self._enc(slots[k], pick, out)
                k += 1
        if k != len(slots):
            raise DNAError(f"the DNA does not fit the encoder's spec ({k} of {len(slots)} slots)")

    def _enc(self, slot: _Slot, dna: DNA, out: np.ndarray) -> None:
        d = slot.decision
        if isinstance(d, Choice):
            i = dna.value
            if self.onehot:
                out[slot.start: slot.start + slot.width] = 0.0
                out[slot.start + i] = 1.0  # type: ignore[operator]
            else:
                out[slot.start] = float(i)  # type: ignore[arg-type]
            self._enc_space(slot.candidates[i], dna.children, out)  # type: ignore[index]
        else:
            out[slot.start] = to_unit(d, dna.value)  # type: ignore[arg-type]

    # ---- decode --------------------------------------------------------------------------
    def decode(self, vector: Any) -> DNA:
        """The DNA nearest to ``vector`` (any real vector of length ``size``)."""
        v = np.asarray(vector, dtype=float)
        if v.shape != (self.size,):
            raise SymbolicValueError(f"expected a vector of length {self.size}, got shape {v.shape}")
        return DNA(None, self._dec_space(self.layout, v), self.spec)

    def _dec_space(self, slots: tuple[_Slot, ...], v: np.ndarray) -> tuple[DNA, ...]:
        children: list[DNA] = []
        k = 0
        while k < len(slots):
            d = slots[k].decision
            if isinstance(d, Choice) and d.num_choices > 1:
                group = slots[k: k + d.num_choices]
                k += d.num_choices
                children.append(self._dec_many(d, group, v))
            else:
                children.append(self._dec(slots[k], v, None))
                k += 1
        return tuple(children)

    def _dec_many(self, d: Choice, group: tuple[_Slot, ...], v: np.ndarray) -> DNA:
        used: set[int] = set()
        picks = []
        for slot in group:
            pick = self._dec(slot, v, used if d.distinct else None)
            used.add(pick.value)  # type: ignore[arg-type]
            picks.append(pick)
        if d.sorted:
            picks.sort(key=lambda p: p.value)  # type: ignore[arg-type,return-value]
        return DNA(None, tuple(picks))

    def _dec(self, slot: _Slot, v: np.ndarray, exclude: set[int] | None) -> DNA:
        d = slot.decision
        if isinstance(d, Choice):
            n = len(d.candidates)
            if self.onehot:
                scores = np.nan_to_num(v[slot.start: slot.start + n].copy(), nan=-np.inf)
            else:
                x = v[slot.start]
                target = 0.0 if math.isnan(x) else min(max(x, 0.0), n - 1.0)
                scores = -np.abs(np.arange(n) - target)
            if exclude:
                scores[list(exclude)] = -np.inf
            i = int(np.argmax(scores))
            if exclude and i in exclude:  # all scores -inf: first free candidate
                i = next(j for j in range(n) if j not in exclude)
            return DNA(i, self._dec_space(slot.candidates[i], v))
        return DNA(from_unit(d, float(v[slot.start])))


def to_unit(d: FloatDecision | IntDecision, value: float) -> float:
    """A range decision's value mapped to ``[0, 1]`` (log ranges in log space)."""
    low, high = float(d.low), float(d.high)
    if d.scale == "log":
        return (math.log(value) - math.log(low)) / (math.log(high) - math.log(low))
    return (value - low) / (high - low)


def from_unit(d: FloatDecision | IntDecision, u: float) -> float | int:
    """The inverse of :func:`to_unit` (``nan`` maps to the middle; ints are rounded)."""
    u = 0.5 if math.isnan(u) else min(max(u, 0.0), 1.0)
    low, high = float(d.low), float(d.high)
    if d.scale == "log":
        value = math.exp(math.log(low) + u * (math.log(high) - math.log(low)))
    else:
        value = low + u * (high - low)
    if isinstance(d, IntDecision):
        return min(max(int(round(value)), d.low), d.high)
    return min(max(value, d.low), d.high)
