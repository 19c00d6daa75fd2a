"""Range decisions: ``float_range`` and ``int_range`` (see ``symbo.dsl.points``).

>>> import symbo as sb
>>> d = sb.dna_spec(sb.int_range(1, 8, scale="log")).decisions[0]
>>> d.size, d.to_unit(1), d.from_unit(1.0)
(8, 0.0, 8)
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from typing import Any

import attrs

from symbo.dsl.dna import DNA, DNAError
from symbo.dsl.points import DecisionPoint, plain_number


# ---- ranges ----------------------------------------------------------------------------------
@attrs.frozen(slots=True)
class _Range(DecisionPoint):
    """What float and int ranges share: bounds, a scale, a unit interval for vectors."""

    low: Any = 0
    high: Any = 1
    scale: str = "linear"

    def to_unit(self, value: float) -> float:
        """``value`` mapped to ``[0, 1]`` (log ranges in log space)."""
        low, high = float(self.low), float(self.high)
        if self.scale == "log":
            return (math.log(value) - math.log(low)) / (math.log(high) - math.log(low))
        return (value - low) / (high - low)

    def from_unit(self, u: float) -> Any:
        """The inverse of :meth:`to_unit` (``nan`` maps to the middle)."""
        u = 0.5 if math.isnan(u) else min(max(u, 0.0), 1.0)
        low, high = float(self.low), float(self.high)
        if self.scale == "log":
            return math.exp(math.log(low) + u * (math.log(high) - math.log(low)))
        return low + u * (high - low)

    @property
    def can_change(self) -> bool:
        return self.high > self.low

    def validate(self, dna: DNA) -> None:
        if dna.children:
            raise DNAError(f"{self.id}: a range decision has no children")
        self.check(dna.value)

    def read_numbers(self, it: Iterator[Any]) -> DNA:
        return DNA(plain_number(next(it)))

    def encode(self, value: Any, out: Any, start: int, onehot: bool) -> None:
        out[start] = self.to_unit(value)

    def decode(self, v: Any, start: int, onehot: bool, exclude: set[Any] | None) -> Any:
        return self.from_unit(float(v[start]))


@attrs.frozen(slots=True)
class FloatDecision(_Range):
    """A ``float_range`` decision."""

    @property
    def size(self) -> float:
        return math.inf

    def check(self, value: Any) -> float:
        v = value
        if not isinstance(v, float) or math.isnan(v) or not (self.low <= v <= self.high):
            shown = f"{type(v).__name__} {v!r}" if not isinstance(v, float) else repr(v)
            raise DNAError(f"{self.id}: expected a float in [{self.low}, {self.high}], got "
                           f"{shown}")
        return v

    def from_param(self, param: Any, key: str) -> float:
        v = plain_number(param)
        if type(v) not in (int, float) or math.isnan(v) or not self.low <= v <= self.high:
            raise DNAError(f"{key}: expected a float in [{self.low}, {self.high}], got {v!r}")
        return float(v)

    def from_unit(self, u: float) -> float:
        return min(max(_Range.from_unit(self, u), self.low), self.high)

    def random(self, rng: random.Random) -> DNA:
        if self.scale == "log":
            value = math.exp(rng.uniform(math.log(self.low), math.log(self.high)))
            return DNA(min(max(value, self.low), self.high))
        return DNA(rng.uniform(self.low, self.high))

    def mutate(self, dna: DNA, rng: random.Random, mutator: Any) -> DNA:
        """A Gaussian step of ``mutator.sigma`` in unit space (log space for log scales),
        clipped to the range; with probability ``mutator.reset_prob`` a fresh value."""
        value = dna.value
        for _ in range(20):
            if rng.random() < mutator.reset_prob:
                new = self.random(rng).value
            else:
                new = self.from_unit(min(max(self.to_unit(value) + rng.gauss(0.0, mutator.sigma),
                                             0.0), 1.0))
            if new != value:
                return DNA(new)
        return DNA(self.high if value != self.high else self.low)


@attrs.frozen(slots=True)
class IntDecision(_Range):
    """An ``int_range`` decision (both ends included)."""

    @property
    def size(self) -> int:
        return self.high - self.low + 1

    def check(self, value: Any) -> int:
        if type(value) is not int or not self.low <= value <= self.high:
            raise DNAError(f"{self.id}: expected an int in [{self.low}, {self.high}], "
                           f"got {value!r}")
        return value

    def from_param(self, param: Any, key: str) -> int:
        v = plain_number(param)
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        if type(v) is not int or not self.low <= v <= self.high:
            raise DNAError(f"{key}: expected an int in [{self.low}, {self.high}], got {v!r}")
        return v

    def from_unit(self, u: float) -> int:
        return min(max(int(round(_Range.from_unit(self, u))), self.low), self.high)

    def random(self, rng: random.Random) -> DNA:
        if self.scale == "log":
            value = math.exp(rng.uniform(math.log(self.low), math.log(self.high + 1)))
            return DNA(min(max(int(value), self.low), self.high))  # exp(log(n)) may be < n
        return DNA(rng.randint(self.low, self.high))

    def iterate(self) -> Iterator[DNA]:
        for v in range(self.low, self.high + 1):
            yield DNA(v)

    def first_dna(self) -> DNA:
        return DNA(self.low)

    def next_dna(self, dna: DNA) -> DNA | None:
        return DNA(dna.value + 1) if dna.value < self.high else None  # type: ignore[operator]

    def mutate(self, dna: DNA, rng: random.Random, mutator: Any) -> DNA:
        """A step of at most ``mutator.int_step`` either way (log scales: a Gaussian step in
        log space, rounded); with probability ``mutator.reset_prob`` a fresh value."""
        value = dna.value
        if rng.random() < mutator.reset_prob:
            new = rng.randint(self.low, self.high - 1)
            return DNA(new + 1 if new >= value else new)
        if self.scale == "log":
            new = int(self.from_unit(min(max(self.to_unit(value) + rng.gauss(0.0, mutator.sigma),
                                             0.0), 1.0)))
            if new != value:
                return DNA(new)
            steps = [s for s in (-1, 1) if self.low <= value + s <= self.high]
        else:
            steps = [s for s in range(-mutator.int_step, mutator.int_step + 1)
                     if s != 0 and self.low <= value + s <= self.high]
        return DNA(value + steps[rng.randrange(len(steps))])
