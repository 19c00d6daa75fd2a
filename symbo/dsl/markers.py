"""Markers: the values a user writes where a concrete value would be.

``one_of``, ``many_of``, ``permutate``, ``float_range`` and ``int_range`` return symbolic
objects (they clone, rebind, print and serialize like any other), accepted by field validation
when every value they may become fits the field. Inside ``sb.trace`` (define-by-run) the same
calls return the decided value instead.

>>> import symbo as sb
>>> class Conv(sb.Object):
...     filters: int = 32
>>> Conv(filters=sb.one_of([16, 32, 64]))
Conv(filters=one_of([16, 32, 64]))
>>> Conv(filters=sb.one_of(["wide", 64]))
Traceback (most recent call last):
...
symbo.core.errors.SymbolicTypeError: filters: expected int, got str 'wide'
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, Literal

from symbo.core import DeferredValue, FieldUpdate, KeyPath, Object, SymbolicValueError
from symbo.core.formatting import format as sym_format
from symbo.core.validation import (
    ANY,
    Check,
    CheckFailure,
    ListCheck,
    TupleCheck,
    UnionCheck,
)
from symbo.dsl.dna import DNA
from symbo.dsl.points import (
    Candidate,
    Choice,
    DecisionPoint,
    Decisions,
    FloatDecision,
    IntDecision,
    param_value,
)


class Marker(Object, DeferredValue):
    """Base of all markers: a value decided later, by a search. ``name`` (optional) names the
    decision; markers with one name and equal definitions are one decision.

    **The marker protocol.** A marker class owns its behaviour, so a new kind of marker is one
    class (plus, when its decisions are of a new kind, a
    :class:`~symbo.dsl.points.DecisionPoint` subclass that owns their sampling, encoding and
    mutation):

    * ``function_name``, ``positional`` (class attributes): the function the text language
      reads and prints it as (``one_of``), and its positional arguments, in order. Defining
      the class registers the function name with the parser.
    * :meth:`branches`: the values inside it that may hold markers of their own (a choice's
      candidates); their markers become sub-decisions, decided once per position.
    * :attr:`positions`: how many picks its DNA holds (a many_of's ``k``; else 1).
    * :meth:`decision_point`: the decision point algorithms see.
    * :meth:`decode`: the value it stands for in a program, given its DNA.
    * :meth:`encode`: the inverse: the DNA of a value it stands for (``sb.encode``).
    * :meth:`default`: the value it takes while ``sb.trace`` runs a function once.
    * ``sym_check_against(check)``: whether every value it may become fits a typed field.

    >>> import symbo as sb
    >>> class Coin(sb.Marker, type_name="examples.coin"):
    ...     '''Heads or tails, as a bool.'''
    ...     function_name = "coin"
    ...     positional = ()
    ...     def decision_point(self, id, location, branches, occurrences):
    ...         return sb.Choice(id, location, self.name, candidates=(
    ...             sb.Candidate("False", sb.Decisions(), False),
    ...             sb.Candidate("True", sb.Decisions(), True)), occurrences=occurrences)
    ...     def decode(self, dna, branch):
    ...         return bool(dna.value)
    ...     def default(self, default_of):
    ...         return False
    ...     def sym_check_against(self, check):
    ...         check(True)
    >>> space = sb.Dict(flip=Coin(name="flip"))
    >>> [sb.materialize(space, dna).flip for dna in sb.iterate_dna(sb.dna_spec(space))]
    [False, True]
    >>> sb.parse("{'flip': coin(name='flip')}")
    Dict({'flip': coin(name='flip')})
    """

    name: str | None = None

    function_name: ClassVar[str] = ""
    positional: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        fname = cls.__dict__.get("function_name")
        if fname:
            MARKER_CLASSES[fname] = cls

    def _on_change(self, updates: dict[KeyPath, FieldUpdate]) -> None:
        """An edit of this marker (its candidates, its bounds) must still fit where it stands."""
        parent = self.sym_parent
        if parent is not None:
            parent._sym_check(self.sym_path.key, self)  # raises naming the path

    # ---- the protocol ----------------------------------------------------------------------
    def branches(self) -> Sequence[Any]:
        """The values whose markers are sub-decisions of this one (none by default)."""
        return ()

    @property
    def positions(self) -> int:
        """How many picks this marker's DNA holds (its branches are decided once per pick)."""
        return 1

    def decision_point(self, id: str, location: KeyPath, branches: tuple[Decisions, ...],  # noqa: A002
                       occurrences: tuple[str, ...]) -> DecisionPoint:
        """The decision point of this marker. ``branches`` are the decisions found in each of
        :meth:`branches`; ``occurrences`` the ids of every marker it decides (shared names)."""
        raise NotImplementedError

    def decode(self, dna: DNA, branch: Callable[[int, DNA], Any]) -> Any:
        """The value this marker stands for, given its DNA; ``branch(i, pick)`` materializes
        ``branches()[i]`` with the sub-decisions of ``pick``."""
        raise NotImplementedError

    def default(self, default_of: Callable[[Any], Any]) -> Any:
        """The value this marker takes while ``sb.trace`` runs a function once (before any
        search); ``default_of(value)`` gives a branch's default (nested markers decided)."""
        raise NotImplementedError

    def encode(self, value: Any,
               fits: Callable[[int, Any], tuple[DNA, ...] | None] | None = None) -> DNA:
        """The DNA that makes this marker stand for ``value`` (the inverse of :meth:`decode`);
        ``fits(i, v)`` gives the DNA of ``branches()[i]``'s decisions if it can stand for
        ``v``, else None. Raises :class:`NoFit` (with the reason) when no DNA gives ``value``."""
        if fits is None:  # PyGlove's hyper.encode(value)
            return encode_alone(self, value)
        raise NoFit(f"{type(self).__name__} cannot encode values (define encode())")

    # ---- text form ------------------------------------------------------------------------
    def sym_format(self, fmt: Callable[[Any], str]) -> str:
        """The text-language form, e.g. ``one_of([16, 32], name='width')``."""
        args = [fmt(getattr(self, n)) for n in self.positional]
        schema = type(self).sym_schema().by_name
        items = [(k, v) for k, v in self.sym_items() if k != "name"] + [("name", self.name)]
        for key, value in items:
            if key in self.positional or value == schema[key].default:
                continue
            args.append(f"{key}={fmt(value)}")
        return f"{self.function_name}({', '.join(args)})"

    def __str__(self) -> str:
        return sym_format(self)

    def _on_bound(self) -> None:
        super()._on_bound()
        if type(self).__module__ != __name__:
            _refuse_in_trace(self)


def _refuse_in_trace(marker: Marker) -> None:
    """A marker class of the user's made while ``sb.trace`` or a define-by-run trial runs:
    refused, naming it, instead of being handed on undecided."""
    from symbo.dsl.trace import current_context

    if current_context() is not None:
        raise SymbolicValueError(
            f"{type(marker).__qualname__} ({marker.function_name}(...)) is a custom marker: it "
            "cannot be decided inside sb.trace or a define-by-run run, where only one_of, "
            "many_of, permutate, float_range and int_range are decided as the code meets them. "
            "Put it in a symbolic space instead (sb.tune(objective, space)), or use a built-in "
            "marker here.")


MARKER_CLASSES: dict[str, type[Marker]] = {}
"""The marker classes by the function name the text language knows them by."""


def encode_alone(marker: Marker, value: Any) -> DNA:
    """``marker.encode(value)`` without a space around it: the DNA of the marker as a space
    of its own (PyGlove's ``hyper.encode(value)``); DNAError when ``value`` does not fit.

    >>> import symbo as sb
    >>> sb.one_of([16, 32, 64]).encode(32), sb.many_of(2, ["a", "b", "c"]).encode(["c", "a"])
    (DNA(1), DNA([2, 0]))
    """
    from symbo.dsl.encode import encode

    dna = encode(marker, value)
    return dna.children[0] if dna.value is None and len(dna.children) == 1 else dna


class NoFit(Exception):
    """A value a marker (or a part of a space) cannot stand for; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class _Choice(Marker):
    """Shared by one_of, many_of and permutate: a choice among candidates."""

    candidates: list[Any] = []

    def _on_bound(self) -> None:
        if len(self.candidates) == 0:
            raise SymbolicValueError(f"{self.function_name}: candidates must not be empty")

    @property
    def num_choices(self) -> int:
        raise NotImplementedError

    @property
    def positions(self) -> int:
        return self.num_choices

    def branches(self) -> Sequence[Any]:
        return self.candidates

    def decision_point(self, id: str, location: KeyPath, branches: tuple[Decisions, ...],  # noqa: A002
                       occurrences: tuple[str, ...]) -> DecisionPoint:
        candidates = tuple(Candidate(sym_format(c, compact=True), branches[i], param_value(c))
                           for i, c in enumerate(list.__iter__(self.candidates)))
        return Choice(id, location, self.name, candidates, self.num_choices,
                      self.distinct, self.sorted, occurrences=occurrences)  # type: ignore[attr-defined]

    def decode(self, dna: DNA, branch: Callable[[int, DNA], Any]) -> Any:
        """A list of the picked candidates (materialized)."""
        # A many_of/permutate of one choice has a one_of's DNA (as its decision point says).
        picks = [dna] if self.num_choices == 1 else dna.children
        return [branch(pick.value, pick) for pick in picks]  # type: ignore[arg-type]

    def encode(self, value: Any,
               fits: Callable[[int, Any], tuple[DNA, ...] | None] | None = None) -> DNA:
        """The picks of a list of ``k`` candidates (each the first candidate that fits, and
        not picked before when ``distinct``)."""
        if fits is None:  # PyGlove's hyper.encode(value)
            return encode_alone(self, value)
        k = self.num_choices
        if not isinstance(value, (list, tuple)) or len(value) != k:
            raise NoFit(f"expected a list of {k} for {sym_format(self, compact=True)}, got "
                        f"{value!r:.80}")
        picks: list[DNA] = []
        used: set[int] = set()
        for j, item in enumerate(value):
            for i in range(len(self.candidates)):
                if self.distinct and i in used:
                    continue
                sub = fits(i, item)
                if sub is not None:
                    picks.append(DNA(i, sub))
                    used.add(i)
                    break
            else:
                again = self.distinct and any(fits(i, item) is not None for i in used)
                raise NoFit(f"item {j} ({item!r:.60}) "
                            + ("repeats a pick, and the picks of " if again else
                               "is none of the candidates of ")
                            + f"{sym_format(self, compact=True)}"
                            + (" are distinct" if again else ""))
        if self.sorted and [p.value for p in picks] != sorted(p.value for p in picks):
            raise NoFit(f"{sym_format(self, compact=True)} keeps its picks in candidate order; "
                        f"{value!r:.60} is not")
        return picks[0] if k == 1 else DNA(None, tuple(picks))


class OneOf(_Choice, type_name="symbo.one_of"):
    """Chooses one of ``candidates`` (which may hold markers: a conditional space)."""

    function_name = "one_of"
    positional = ("candidates",)
    distinct = True
    sorted = False

    @property
    def num_choices(self) -> int:
        return 1

    def sym_check_against(self, check: Check) -> None:
        for candidate in self.candidates:
            check(candidate)

    def decode(self, dna: DNA, branch: Callable[[int, DNA], Any]) -> Any:
        """The picked candidate (materialized)."""
        return branch(dna.value, dna)  # type: ignore[arg-type]

    def default(self, default_of: Callable[[Any], Any]) -> Any:
        """The first candidate."""
        return default_of(self.candidates[0])

    def encode(self, value: Any,
               fits: Callable[[int, Any], tuple[DNA, ...] | None] | None = None) -> DNA:
        """The first candidate that can stand for ``value``."""
        if fits is None:  # PyGlove's hyper.encode(value)
            return encode_alone(self, value)
        for i in range(len(self.candidates)):
            sub = fits(i, value)
            if sub is not None:
                return DNA(i, sub)
        raise NoFit(f"{value!r:.60} is none of the candidates of {sym_format(self, compact=True)}")


class ManyOf(_Choice, type_name="symbo.many_of"):
    """Chooses ``k`` of ``candidates`` as a list (distinct and/or sorted by index if asked)."""

    function_name = "many_of"
    positional = ("k", "candidates")

    k: int = 1
    distinct: bool = True
    sorted: bool = False

    def _on_bound(self) -> None:
        super()._on_bound()
        if self.k < 1:
            raise SymbolicValueError(f"many_of: k must be >= 1, got {self.k}")
        if self.distinct and self.k > len(self.candidates):
            raise SymbolicValueError(
                f"many_of: cannot choose {self.k} distinct values from {len(self.candidates)} "
                "candidates"
            )

    @property
    def num_choices(self) -> int:
        return self.k

    def sym_check_against(self, check: Check) -> None:
        _check_list_of(check, list(self.candidates))

    def default(self, default_of: Callable[[Any], Any]) -> Any:
        """The first ``k`` candidates (cycling when repeats are allowed and k is larger)."""
        candidates = list(self.candidates)
        return [default_of(candidates[i % len(candidates)]) for i in range(self.k)]


class Permutate(_Choice, type_name="symbo.permutate"):
    """A permutation of all ``candidates`` (a list of the same length)."""

    function_name = "permutate"
    positional = ("candidates",)
    distinct = True
    sorted = False

    @property
    def num_choices(self) -> int:
        return len(self.candidates)

    def sym_check_against(self, check: Check) -> None:
        _check_list_of(check, list(self.candidates))

    def default(self, default_of: Callable[[Any], Any]) -> Any:
        """The candidates in their order."""
        return [default_of(c) for c in self.candidates]


class FloatRange(Marker, type_name="symbo.float_range"):
    """A float in ``[low, high]``; ``scale='log'`` samples the exponent uniformly."""

    function_name = "float_range"
    positional = ("low", "high")

    low: float = 0.0
    high: float = 1.0
    scale: Literal["linear", "log"] = "linear"

    def _on_bound(self) -> None:
        if not (math.isfinite(self.low) and math.isfinite(self.high)):
            raise SymbolicValueError(f"float_range: bounds must be finite, got [{self.low}, {self.high}]")
        if self.low >= self.high:
            raise SymbolicValueError(f"float_range: low must be < high, got [{self.low}, {self.high}]")
        if self.scale == "log" and self.low <= 0:
            raise SymbolicValueError(f"float_range: a log scale needs low > 0, got {self.low}")

    def sym_check_against(self, check: Check) -> None:
        check(self.low)
        check(self.high)

    def decision_point(self, id: str, location: KeyPath, branches: tuple[Decisions, ...],  # noqa: A002
                       occurrences: tuple[str, ...]) -> DecisionPoint:
        return FloatDecision(id, location, self.name, self.low, self.high, self.scale,
                             occurrences=occurrences)

    def decode(self, dna: DNA, branch: Callable[[int, DNA], Any]) -> Any:
        return dna.value

    def encode(self, value: Any,
               fits: Callable[[int, Any], tuple[DNA, ...] | None] | None = None) -> DNA:
        if fits is None:  # PyGlove's hyper.encode(value)
            return encode_alone(self, value)
        if not _is_number(value) or not self.low <= value <= self.high:
            raise NoFit(f"{value!r:.60} is not in {sym_format(self, compact=True)}")
        return DNA(float(value))

    def default(self, default_of: Callable[[Any], Any]) -> float:
        """The middle of the range (the geometric middle on a log scale)."""
        if self.scale == "log":
            return math.sqrt(self.low * self.high)
        return (self.low + self.high) / 2


class IntRange(Marker, type_name="symbo.int_range"):
    """An int in ``[low, high]`` (both included); ``scale='log'`` for widths and sizes."""

    function_name = "int_range"
    positional = ("low", "high")

    low: int = 0
    high: int = 1
    scale: Literal["linear", "log"] = "linear"

    def _on_bound(self) -> None:
        if self.low >= self.high:
            raise SymbolicValueError(f"int_range: low must be < high, got [{self.low}, {self.high}]")
        if self.scale == "log" and self.low <= 0:
            raise SymbolicValueError(f"int_range: a log scale needs low > 0, got {self.low}")

    def sym_check_against(self, check: Check) -> None:
        check(self.low)
        check(self.high)

    def decision_point(self, id: str, location: KeyPath, branches: tuple[Decisions, ...],  # noqa: A002
                       occurrences: tuple[str, ...]) -> DecisionPoint:
        return IntDecision(id, location, self.name, self.low, self.high, self.scale,
                           occurrences=occurrences)

    def decode(self, dna: DNA, branch: Callable[[int, DNA], Any]) -> Any:
        return dna.value

    def encode(self, value: Any,
               fits: Callable[[int, Any], tuple[DNA, ...] | None] | None = None) -> DNA:
        if fits is None:  # PyGlove's hyper.encode(value)
            return encode_alone(self, value)
        if type(value) is not int or not self.low <= value <= self.high:
            raise NoFit(f"{value!r:.60} is not in {sym_format(self, compact=True)}")
        return DNA(value)

    def default(self, default_of: Callable[[Any], Any]) -> int:
        """The middle of the range (rounded down)."""
        return (self.low + self.high) // 2


def _check_list_of(check: Check, candidates: list[Any]) -> None:
    """Checks that a list made of ``candidates`` fits ``check`` (a list-typed field)."""
    if check is ANY:
        return
    if isinstance(check, ListCheck):
        if check.element is not None:
            for i, c in enumerate(candidates):
                try:
                    check.element(c)
                except CheckFailure as e:
                    e.keys.append(i)
                    raise
        return
    if isinstance(check, TupleCheck) and check.variadic:
        for c in candidates:
            check.elements[0](c)
        return
    if isinstance(check, UnionCheck):
        failure: CheckFailure | None = None
        for option in check.options:
            try:
                _check_list_of(option, candidates)
                return
            except CheckFailure as e:
                failure = failure or e
        assert failure is not None
        raise failure
    check(list(candidates))  # raises a type error naming the expected type


# ---- the functions users call ---------------------------------------------------------------
def _dynamic(marker: Marker) -> Any:
    from symbo.dsl.trace import current_context

    context = current_context()
    if context is None:
        return marker
    return context.decide(marker)


def one_of(candidates: Any, *, name: str | None = None) -> Any:
    """One of ``candidates``; candidates may contain markers (conditional space).

    >>> import symbo as sb
    >>> sb.one_of(["sgd", "adam"], name="optimizer")
    one_of(['sgd', 'adam'], name='optimizer')
    """
    return _dynamic(OneOf(candidates=list(candidates), name=name))


def many_of(k: int, candidates: Any, *, distinct: bool = True, sorted: bool = False,  # noqa: A002
            name: str | None = None) -> Any:
    """A list of ``k`` of ``candidates``; ``distinct`` forbids repeats, ``sorted`` keeps order.

    >>> import symbo as sb
    >>> sb.many_of(2, ["conv", "pool", "skip"], sorted=True)
    many_of(2, ['conv', 'pool', 'skip'], sorted=True)
    """
    return _dynamic(ManyOf(candidates=list(candidates), k=k, distinct=distinct, sorted=sorted, name=name))


def permutate(candidates: Any, *, name: str | None = None) -> Any:
    """A permutation of all ``candidates``.

    >>> import symbo as sb
    >>> sb.permutate([1, 2, 3])
    permutate([1, 2, 3])
    """
    return _dynamic(Permutate(candidates=list(candidates), name=name))


def float_range(low: float, high: float, *, scale: str = "linear", name: str | None = None) -> Any:
    """A float in ``[low, high]``; ``scale='log'`` for learning rates and the like.

    >>> import symbo as sb
    >>> sb.float_range(1e-4, 0.1, scale="log", name="lr")
    float_range(0.0001, 0.1, scale='log', name='lr')
    """
    return _dynamic(FloatRange(low=low, high=high, scale=scale, name=name))


def int_range(low: int, high: int, *, scale: str = "linear", name: str | None = None) -> Any:
    """An int in ``[low, high]``, both ends included.

    >>> import symbo as sb
    >>> sb.int_range(1, 8, name="layers")
    int_range(1, 8, name='layers')
    """
    return _dynamic(IntRange(low=low, high=high, scale=scale, name=name))


MARKER_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "one_of": one_of,
    "many_of": many_of,
    "permutate": permutate,
    "float_range": float_range,
    "int_range": int_range,
}
