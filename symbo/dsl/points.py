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

import math
import numbers
import random
from collections.abc import Callable, Iterator
from typing import Any

import attrs

from symbo.core import Dict, KeyPath, List
from symbo.dsl.dna import DNA, DNAError


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


def validate_decisions(space: Decisions, children: tuple[DNA, ...], where: str) -> None:
    """Raises DNAError when ``children`` are not the DNA of ``space`` (``where`` names it)."""
    if len(children) != len(space.decisions):
        raise DNAError(f"{where}: expected {len(space.decisions)} decisions, got {len(children)}")
    for d, child in zip(space.decisions, children):
        d.validate(child)


# The kinds, defined in their own modules (which import this one first).
from symbo.dsl.choices import Candidate, Choice  # noqa: E402
from symbo.dsl.ranges import FloatDecision, IntDecision  # noqa: E402

__all__ = ["EMPTY", "NOT_PLAIN", "Candidate", "Choice", "DecisionPoint", "Decisions",
           "FloatDecision", "IntDecision", "param_value", "plain_data", "plain_number",
           "validate_decisions"]
