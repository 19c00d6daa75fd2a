"""Choice decisions: ``one_of`` (one pick), ``many_of`` (k picks) and ``permutate`` (all of
them), each pick a candidate that may hold decisions of its own (see ``symbo.dsl.points``).

>>> import symbo as sb
>>> spec = sb.dna_spec(sb.many_of(2, ["a", "b", "c"], sorted=True))
>>> choice = spec.decisions[0]
>>> choice.size, choice.positions, [c.value for c in choice.candidates]
(3, 2, ['a', 'b', 'c'])
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Iterator
from typing import Any

import attrs

from symbo.dsl.dna import DNA, DNAError
from symbo.dsl.order import _first_indices, _next_indices
from symbo.dsl.points import (
    DecisionPoint,
    Decisions,
    _product,
    param_value,
    plain_number,
    validate_decisions,
)


# ---- choices ---------------------------------------------------------------------------------
@attrs.frozen(slots=True)
class Candidate:
    """One candidate of a choice: its formatted text, its own decisions, and its param value
    (the candidate itself when it is plain data, else its text; see ``DNA.to_params``)."""

    literal: str
    space: Decisions
    value: Any = attrs.field(default=None, eq=False)


@attrs.frozen(slots=True)
class Choice(DecisionPoint):
    """A ``one_of`` (k=1), ``many_of`` (k choices) or ``permutate`` decision."""

    candidates: tuple[Candidate, ...] = ()
    num_choices: int = 1
    distinct: bool = True
    sorted: bool = False
    positions: int = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "positions", self.num_choices)

    @property
    def num_candidates(self) -> int:
        return len(self.candidates)

    @property
    def is_conditional(self) -> bool:
        return any(c.space.decisions for c in self.candidates)

    @property
    def size(self) -> float | int:
        sizes = [c.space.size for c in self.candidates]
        k = self.num_choices
        if k == 1:
            return sum(sizes)
        if any(math.isinf(s) for s in sizes):
            return math.inf
        if self.distinct:
            e = _elementary_symmetric(sizes, k)
            return e if self.sorted else math.factorial(k) * e
        if self.sorted:
            return _complete_homogeneous(sizes, k)
        return sum(sizes) ** k

    def candidate_ids(self, index: int, position: int | None = None) -> str:
        """The id prefix of decisions under candidate ``index`` (at a many_of position)."""
        pos = "" if position is None or self.num_choices == 1 else f"[{position}]"
        return f"{self.id}{pos}[={index}]"

    # ---- structure --------------------------------------------------------------------------
    def picks(self, dna: DNA) -> tuple[DNA, ...]:
        if self.num_choices == 1:
            return (dna,)
        if dna.value is not None or len(dna.children) != self.num_choices:
            raise DNAError(f"{self.id}: expected {self.num_choices} choices, got {dna!r}")
        return dna.children

    def branch(self, value: Any) -> Decisions:
        return self.candidates[value].space

    def branches(self) -> tuple[Decisions, ...]:
        return tuple(c.space for c in self.candidates)

    # ---- values -----------------------------------------------------------------------------
    def read(self, number: Any) -> int:
        return self.check(number)

    def check(self, value: Any) -> int:
        index = plain_number(value)
        if isinstance(index, float) and index.is_integer():
            index = int(index)
        if type(index) is not int or not 0 <= index < len(self.candidates):
            raise DNAError(f"{self.id}: expected a candidate index in "
                           f"[0, {len(self.candidates) - 1}], got {value!r}")
        return index

    def validate(self, dna: DNA) -> None:
        if self.num_choices > 1:
            DecisionPoint.validate(self, dna)
            return
        v = dna.value
        if type(v) is not int or not 0 <= v < len(self.candidates):  # the common case: no call
            v = self.check(v)
        sub = self.candidates[v].space
        if sub.decisions or dna.children:
            validate_decisions(sub, dna.children, f"{self.id}[={v}]")

    def read_numbers(self, it: Iterator[Any]) -> DNA:
        if self.num_choices > 1:
            return DecisionPoint.read_numbers(self, it)
        v = self.check(next(it))
        return DNA(v, tuple([d.read_numbers(it) for d in self.candidates[v].space.decisions]))

    def check_picks(self, values: list[Any]) -> None:
        if self.num_choices > 1:
            if self.distinct and len(set(values)) != len(values):
                raise DNAError(f"{self.id}: choices must be distinct, got {values}")
            if self.sorted and values != sorted(values):
                raise DNAError(f"{self.id}: choices must be sorted, got {values}")

    def literal(self, value: Any) -> str:
        return self.candidates[value].literal

    def param(self, value: Any) -> Any:
        return self.candidates[value].value

    def from_param(self, param: Any, key: str) -> int:
        param = plain_number(param)
        for i, c in enumerate(self.candidates):
            if _same(c.value, param):
                return i
        if isinstance(param, float) and param.is_integer():  # 64.0 (e.g. from a CSV) for 64
            for i, c in enumerate(self.candidates):
                if type(c.value) is int and c.value == param:
                    return i
        if not isinstance(param, str):  # the candidate itself (F.gelu, (3, 3)), not its text
            text = param_value(param)
            if isinstance(text, str):
                for i, c in enumerate(self.candidates):
                    if c.value == text and c.literal == text:  # a candidate shown as its text
                        return i
        shown = [c.value for c in self.candidates]
        raise DNAError(f"{key}: {param!r} is not one of the candidates "
                       f"{shown if len(shown) <= 10 else shown[:10] + ['...']}")

    def equivalents(self, value: Any) -> tuple[Any, ...]:
        target = self.candidates[value].value
        return (value, *(i for i, c in enumerate(self.candidates)
                         if i != value and _same(c.value, target)))

    # ---- search -----------------------------------------------------------------------------
    def fresh(self, index: int, rng: random.Random) -> DNA:
        """Candidate ``index`` with freshly sampled sub-decisions."""
        return DNA(index, self.candidates[index].space.random(rng))

    def random(self, rng: random.Random) -> DNA:
        n = len(self.candidates)
        k = self.num_choices
        if k == 1:
            return self.fresh(rng.randrange(n), rng)
        if self.distinct:
            indices = rng.sample(range(n), k)
        else:
            indices = [rng.randrange(n) for _ in range(k)]
        if self.sorted:
            indices.sort()
        return DNA(None, tuple([self.fresh(i, rng) for i in indices]))

    def iterate(self) -> Iterator[DNA]:
        n = len(self.candidates)
        if self.num_choices == 1:
            for i in range(n):
                for sub in self.candidates[i].space.iterate():
                    yield DNA(i, sub)
            return
        k = self.num_choices
        if self.distinct:
            index_lists = (itertools.combinations(range(n), k) if self.sorted
                           else itertools.permutations(range(n), k))
        else:
            index_lists = (itertools.combinations_with_replacement(range(n), k) if self.sorted
                           else itertools.product(range(n), repeat=k))
        for indices in index_lists:
            subs = [self.candidates[i].space.iterate for i in indices]
            for combo in _product(subs):
                yield DNA(None, tuple(DNA(i, s) for i, s in zip(indices, combo)))

    def first_dna(self) -> DNA:
        first = _first_indices(len(self.candidates), self.num_choices, self.distinct,
                               self.sorted)
        picks = [DNA(i, self.candidates[i].space.first()) for i in first]  # type: ignore[union-attr]
        return picks[0] if self.num_choices == 1 else DNA(None, tuple(picks))

    def next_dna(self, dna: DNA) -> DNA | None:
        picks = list(self.picks(dna))
        for j in range(len(picks) - 1, -1, -1):  # the sub-decisions of the picks, last first
            pick = picks[j]
            nxt = self.candidates[pick.value].space.successor(pick.children)  # type: ignore[index]
            if nxt is not None:
                picks[j] = DNA(pick.value, nxt)
                for m in range(j + 1, len(picks)):
                    v = picks[m].value
                    picks[m] = DNA(v, self.candidates[v].space.first())  # type: ignore[index]
                return self.join(picks)
        indices = _next_indices([p.value for p in picks], len(self.candidates),  # type: ignore[misc]
                                self.distinct, self.sorted)
        if indices is None:
            return None
        return self.join([DNA(i, self.candidates[i].space.first()) for i in indices])

    @property
    def can_change(self) -> bool:
        n, k = len(self.candidates), self.num_choices
        if k == 1 or not self.distinct:
            return n >= 2
        return n > k or not self.sorted  # replace with an unused candidate, or swap two

    def mutate(self, dna: DNA, rng: random.Random, mutator: Any) -> DNA:
        """One_of: another candidate (its sub-decisions sampled afresh). Many_of: one position
        gets another candidate (distinct and sorted respected), or two positions swap."""
        n, k = len(self.candidates), self.num_choices
        if k == 1:
            return self.fresh(_other(n, {dna.value}, rng), rng)
        picks = list(dna.children)
        indices = [p.value for p in picks]
        if self.distinct:
            can_replace, can_swap = n > k, not self.sorted
            if can_replace and (not can_swap or rng.random() < 0.5):
                j = rng.randrange(k)
                picks[j] = self.fresh(_other(n, set(indices), rng), rng)
            else:
                a, b = rng.sample(range(k), 2)
                picks[a], picks[b] = picks[b], picks[a]
        else:
            j = rng.randrange(k)
            picks[j] = self.fresh(_other(n, {indices[j]}, rng), rng)
        if self.sorted:
            picks.sort(key=lambda p: p.value)  # type: ignore[arg-type,return-value]
        return DNA(None, tuple(picks))

    # ---- vectors ----------------------------------------------------------------------------
    def width(self, onehot: bool) -> int:
        return len(self.candidates) if onehot else 1

    def encode(self, value: Any, out: Any, start: int, onehot: bool) -> None:
        if onehot:
            out[start: start + len(self.candidates)] = 0.0
            out[start + value] = 1.0
        else:
            out[start] = float(value)

    def decode(self, v: Any, start: int, onehot: bool, exclude: set[Any] | None) -> int:
        import numpy as np

        n = len(self.candidates)
        if onehot:
            scores = np.nan_to_num(v[start: start + n].copy(), nan=-np.inf)
        else:
            x = v[start]
            target = 0.0 if math.isnan(x) else min(max(x, 0.0), n - 1.0)
            scores = -np.abs(np.arange(n) - target)
        if exclude:
            scores[list(exclude)] = -np.inf
        i = int(np.argmax(scores))
        if exclude and i in exclude:  # all scores -inf: the first free candidate
            i = next(j for j in range(n) if j not in exclude)
        return i


def _other(n: int, exclude: set[Any], rng: random.Random) -> int:
    choices = [i for i in range(n) if i not in exclude]
    return choices[rng.randrange(len(choices))]


def _same(a: Any, b: Any) -> bool:
    """Equality of plain data that tells 1, 1.0 and True apart (a tuple matches a list)."""
    if isinstance(a, list) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return type(a) is type(plain_number(b)) and a == b


def _elementary_symmetric(values: list[int], k: int) -> int:
    e = [1] + [0] * k
    for v in values:
        for j in range(k, 0, -1):
            e[j] += e[j - 1] * v
    return e[k]


def _complete_homogeneous(values: list[int], k: int) -> int:
    h = [1] + [0] * k
    for v in values:
        for j in range(1, k + 1):
            h[j] += h[j - 1] * v
    return h[k]
