"""Decision points: what an algorithm sees of a marker, and everything a DNA is checked against.

A :class:`DecisionPoint` is a small immutable value (``attrs.frozen`` with slots) that owns
the behaviour of its kind, so that DNA conversion, validation, sampling, enumeration, vector
encoding and mutation work on any kind without ``isinstance`` chains:

==================  =========================================================================
structure           ``size``, ``positions`` (picks per DNA: a many_of's ``k``), ``picks(dna)``,
                    ``join(picks)``, ``branch(value)`` (the decisions under a pick),
                    ``branches()`` (all of them)
values              ``read(number)`` (from a flat list), ``check(value)`` (raises DNAError),
                    ``check_picks(values)``, ``literal(value)``, ``param(value)``,
                    ``from_param(param, key)``
search              ``random(rng)``, ``iterate()``, ``can_change``, ``mutate(dna, rng, m)``
vectors             ``width(onehot)``, ``encode(value, out, start, onehot)``,
                    ``decode(v, start, onehot, exclude)``
==================  =========================================================================

The kinds are :class:`Choice` (``one_of``, ``many_of``, ``permutate``), :class:`FloatDecision`
(``float_range``) and :class:`IntDecision` (``int_range``); a new kind of marker brings its own
subclass (see :class:`symbo.dsl.markers.Marker`). A DNA of one decision is ``DNA(value,
children)`` (the children are the decisions of ``branch(value)``), or, with several
``positions``, ``DNA(None, picks)``.

>>> import random
>>> import symbo as sb
>>> spec = sb.dna_spec(sb.Dict(act=sb.one_of(["relu", "gelu"]), lr=sb.float_range(0.0, 1.0)))
>>> act, lr = spec.decisions
>>> act.size, lr.size, act.param(1), act.random(random.Random(0)).value in (0, 1)
(2, inf, 'gelu', True)
"""

from __future__ import annotations

import itertools
import math
import numbers
import random
from collections.abc import Callable, Iterator
from typing import Any

import attrs

from symbo.core import Dict, KeyPath, List
from symbo.dsl.dna import DNA, DNAError
from symbo.dsl.order import _first_indices, _next_indices


# ---- plain data ------------------------------------------------------------------------------
class _NotPlain:
    __slots__ = ()

    def __repr__(self) -> str:
        return "NOT_PLAIN"


NOT_PLAIN: Any = _NotPlain()


def plain_data(value: Any) -> Any:
    """``value`` as JSON-compatible plain data (``sb.List``/``sb.Dict`` as list/dict), or
    ``NOT_PLAIN`` when it holds anything else (objects, markers, tuples, nan, inf)."""
    t = type(value)
    if t is int or t is str or t is bool or value is None:
        return value
    if t is float:
        return value if math.isfinite(value) else NOT_PLAIN
    if t is list or t is List:
        items = [plain_data(v) for v in list.__iter__(value)]
        return NOT_PLAIN if any(v is NOT_PLAIN for v in items) else items
    if t is dict or t is Dict:
        out = {}
        for k, v in dict.items(value):
            p = plain_data(v)
            if type(k) is not str or p is NOT_PLAIN:
                return NOT_PLAIN
            out[k] = p
        return out
    return NOT_PLAIN


def param_value(value: Any) -> Any:
    """What params show for a candidate: itself when plain data, else its formatted text.

    >>> import symbo as sb
    >>> from symbo.dsl.points import param_value
    >>> param_value(64), param_value(sb.Dict(lr=0.1)), param_value(sb.one_of([1, 2]))
    (64, {'lr': 0.1}, 'one_of([1, 2])')
    """
    plain = plain_data(value)
    if plain is NOT_PLAIN:
        from symbo.core.formatting import format as sym_format

        return sym_format(value, compact=True)
    return plain


def plain_number(value: Any) -> Any:
    """A numpy scalar (as algorithms produce) as the Python number it stands for."""
    if type(value) in (bool, int, float) or value is None:
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    return value


# ---- decision lists --------------------------------------------------------------------------
@attrs.frozen(slots=True)
class Decisions:
    """An ordered tuple of decision points: those of a whole space, or of one candidate."""

    decisions: tuple[DecisionPoint, ...] = ()
    has_names: bool = attrs.field(init=False, eq=False, repr=False)  # any named decisions

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "has_names", any(d.name is not None for d in self.decisions))

    @property
    def size(self) -> float | int:
        total: int | float = 1
        for d in self.decisions:
            total *= d.size
        return total

    def random(self, rng: random.Random) -> tuple[DNA, ...]:
        """A random DNA per decision (uniform per decision; log ranges in log space)."""
        return tuple([d.random(rng) for d in self.decisions])

    def iterate(self) -> Iterator[tuple[DNA, ...]]:
        """Every combination of the decisions' DNA, lazily (the last decision fastest)."""
        return _product([d.iterate for d in self.decisions])

    def first(self) -> tuple[DNA, ...]:
        """The first combination of :meth:`iterate`."""
        return tuple([d.first_dna() for d in self.decisions])

    def successor(self, children: tuple[DNA, ...]) -> tuple[DNA, ...] | None:
        """The combination after ``children`` in the order of :meth:`iterate` (an odometer:
        the last decision advances first), or None after the last one."""
        out = list(children)
        for i in range(len(self.decisions) - 1, -1, -1):
            nxt = self.decisions[i].next_dna(out[i])
            if nxt is not None:
                out[i] = nxt
                for j in range(i + 1, len(out)):
                    out[j] = self.decisions[j].first_dna()
                return tuple(out)
        return None

    def __len__(self) -> int:
        return len(self.decisions)

    def __iter__(self) -> Iterator[DecisionPoint]:
        return iter(self.decisions)


EMPTY = Decisions(())


def _product(factories: list[Callable[[], Iterator[Any]]]) -> Iterator[tuple[Any, ...]]:
    """Like ``itertools.product`` (last factor fastest), without materializing any factor."""
    if not factories:
        yield ()
        return
    for head in factories[0]():
        for rest in _product(factories[1:]):
            yield (head, *rest)


# ---- the protocol ----------------------------------------------------------------------------
@attrs.frozen(slots=True)
class DecisionPoint:
    """Base of decision points (see the module docstring for the protocol).

    ``id`` is the key path of its (first) marker, with ``[=i]`` for "under candidate i";
    ``location`` that path relative to the candidate it stands in; ``name`` the user's name.
    ``occurrences`` lists the ids of every marker this decision decides (markers with one name
    and equal definitions are one decision), the first one first.
    """

    id: str
    location: KeyPath
    name: str | None
    occurrences: tuple[str, ...] = attrs.field(default=(), kw_only=True)

    positions = 1  # how many picks a DNA of this decision holds (a many_of's ``k``)
    distinct = False  # several positions must pick distinct values
    sorted = False  # several positions must pick increasing values

    # ---- structure --------------------------------------------------------------------------
    @property
    def size(self) -> int | float:
        """The number of distinct DNA of this decision (``math.inf`` when continuous)."""
        raise NotImplementedError

    @property
    def is_finite(self) -> bool:
        return not math.isinf(self.size)

    @property
    def enumerable(self) -> bool:
        """Whether :meth:`iterate`, :meth:`first_dna` and :meth:`next_dna` work."""
        return self.is_finite

    def picks(self, dna: DNA) -> tuple[DNA, ...]:
        """The picks of this decision's DNA (raises DNAError when its shape is wrong)."""
        if dna.children:
            raise DNAError(f"{self.id}: a range decision has no children")
        return (dna,)

    def join(self, picks: list[DNA] | tuple[DNA, ...]) -> DNA:
        """The DNA made of ``picks`` (the inverse of :meth:`picks`)."""
        return picks[0] if self.positions == 1 else DNA(None, tuple(picks))

    def branch(self, value: Any) -> Decisions:
        """The decisions under a pick of ``value`` (a candidate's own decisions)."""
        return EMPTY

    def branches(self) -> tuple[Decisions, ...]:
        """Every branch, by value index (a choice's candidates); empty for ranges."""
        return ()

    # ---- values -----------------------------------------------------------------------------
    def read(self, number: Any) -> Any:
        """A pick's value read from a flat list of numbers (checked enough to branch on)."""
        return plain_number(number)

    def check(self, value: Any) -> Any:
        """``value`` if it is a valid pick; else raises DNAError naming the decision."""
        raise NotImplementedError

    def check_picks(self, values: list[Any]) -> None:
        """Checks constraints across positions (distinct, sorted)."""

    def validate(self, dna: DNA) -> None:
        """Raises DNAError naming the decision when ``dna`` is not a DNA of this decision."""
        picks = self.picks(dna)
        values = []
        for pick in picks:
            v = self.check(pick.value)
            values.append(v)
            sub = self.branch(v)
            if sub.decisions or pick.children:
                validate_decisions(sub, pick.children, f"{self.id}[={v}]")
        self.check_picks(values)

    def read_numbers(self, it: Iterator[Any]) -> DNA:
        """This decision's DNA from an iterator over a flat list of numbers (preorder)."""
        picks = []
        for _ in range(self.positions):
            v = self.read(next(it))
            picks.append(DNA(v, tuple([d.read_numbers(it) for d in self.branch(v).decisions])))
        return self.join(picks)

    def literal(self, value: Any) -> Any:
        """A pick's readable form (a candidate's text; a range's number)."""
        return value

    def param(self, value: Any) -> Any:
        """A pick's param value (a candidate itself when plain data; a range's number)."""
        return value

    def from_param(self, param: Any, key: str) -> Any:
        """The pick value whose :meth:`param` is ``param``; DNAError naming ``key`` if none."""
        raise NotImplementedError

    def equivalents(self, value: Any) -> tuple[Any, ...]:
        """The pick values whose param equals that of ``value`` (``value`` first): equal
        candidates of a choice, which params cannot tell apart."""
        return (value,)

    # ---- search -----------------------------------------------------------------------------
    def random(self, rng: random.Random) -> DNA:
        """A uniformly random DNA of this decision (with random sub-decisions)."""
        raise NotImplementedError

    def iterate(self) -> Iterator[DNA]:
        """Every DNA of this decision, in a fixed order (finite decisions only)."""
        raise DNAError(f"{self.id}: a continuous decision cannot be enumerated")

    def first_dna(self) -> DNA:
        """The first DNA of :meth:`iterate`."""
        raise DNAError(f"{self.id}: a continuous decision cannot be enumerated")

    def next_dna(self, dna: DNA) -> DNA | None:
        """The DNA after ``dna`` in the order of :meth:`iterate`, or None after the last."""
        raise DNAError(f"{self.id}: a continuous decision cannot be enumerated")

    @property
    def can_change(self) -> bool:
        """Whether a mutation can give another DNA."""
        return self.size > 1

    def mutate(self, dna: DNA, rng: random.Random, mutator: Any) -> DNA:
        """A DNA near ``dna`` and different from it; ``mutator`` holds the settings
        (``sigma``, ``reset_prob``, ``int_step`` of ``symbo.algorithms.mutation.Uniform``)."""
        raise NotImplementedError

    # ---- vectors ----------------------------------------------------------------------------
    def width(self, onehot: bool) -> int:
        """Slots one pick takes in a vector (see ``VectorEncoder``)."""
        return 1

    def encode(self, value: Any, out: Any, start: int, onehot: bool) -> None:
        """Writes a pick's value into ``out[start:start + width]``."""
        raise NotImplementedError

    def decode(self, v: Any, start: int, onehot: bool, exclude: set[Any] | None) -> Any:
        """The pick value nearest to ``v[start:start + width]`` (not in ``exclude``)."""
        raise NotImplementedError


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
        v = self.check(dna.value)
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


def validate_decisions(space: Decisions, children: tuple[DNA, ...], where: str) -> None:
    """Raises DNAError when ``children`` are not the DNA of ``space`` (``where`` names it)."""
    if len(children) != len(space.decisions):
        raise DNAError(f"{where}: expected {len(space.decisions)} decisions, got {len(children)}")
    for d, child in zip(space.decisions, children):
        d.validate(child)


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
