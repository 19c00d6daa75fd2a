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
from collections.abc import Callable
from typing import Any, Literal

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


class Marker(Object, DeferredValue):
    """Base of all markers. ``name`` (optional) identifies the decision in DNA dicts."""

    name: str | None = None

    def _on_change(self, updates: dict[KeyPath, FieldUpdate]) -> None:
        """An edit of this marker (its candidates, its bounds) must still fit where it stands."""
        parent = self.sym_parent
        if parent is not None:
            parent._sym_check(self.sym_path.key, self)  # raises naming the path

    def sym_format(self, fmt: Callable[[Any], str]) -> str:
        """The text-language form, e.g. ``one_of([16, 32], name='width')``."""
        args = [fmt(v) for v in self._positional()]
        schema = type(self).sym_schema().by_name
        items = [(k, v) for k, v in self.sym_items() if k != "name"] + [("name", self.name)]
        for key, value in items:
            if key in self._positional_names() or value == schema[key].default:
                continue
            args.append(f"{key}={fmt(value)}")
        return f"{self._function_name()}({', '.join(args)})"

    @classmethod
    def _function_name(cls) -> str:
        raise NotImplementedError

    @classmethod
    def _positional_names(cls) -> tuple[str, ...]:
        raise NotImplementedError

    def _positional(self) -> list[Any]:
        return [getattr(self, n) for n in self._positional_names()]

    def __str__(self) -> str:
        return sym_format(self)


class _Choice(Marker):
    """Shared by one_of, many_of and permutate: a choice among candidates."""

    candidates: list[Any] = []

    def _on_bound(self) -> None:
        if len(self.candidates) == 0:
            raise SymbolicValueError(f"{self._function_name()}: candidates must not be empty")

    @property
    def num_choices(self) -> int:
        raise NotImplementedError


class OneOf(_Choice, type_name="symbo.one_of"):
    """Chooses one of ``candidates`` (which may hold markers: a conditional space)."""

    @property
    def num_choices(self) -> int:
        return 1

    def sym_check_against(self, check: Check) -> None:
        for candidate in self.candidates:
            check(candidate)

    @classmethod
    def _function_name(cls) -> str:
        return "one_of"

    @classmethod
    def _positional_names(cls) -> tuple[str, ...]:
        return ("candidates",)


class ManyOf(_Choice, type_name="symbo.many_of"):
    """Chooses ``k`` of ``candidates`` as a list (distinct and/or sorted by index if asked)."""

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

    @classmethod
    def _function_name(cls) -> str:
        return "many_of"

    @classmethod
    def _positional_names(cls) -> tuple[str, ...]:
        return ("k", "candidates")


class Permutate(_Choice, type_name="symbo.permutate"):
    """A permutation of all ``candidates`` (a list of the same length)."""

    @property
    def num_choices(self) -> int:
        return len(self.candidates)

    def sym_check_against(self, check: Check) -> None:
        _check_list_of(check, list(self.candidates))

    @classmethod
    def _function_name(cls) -> str:
        return "permutate"

    @classmethod
    def _positional_names(cls) -> tuple[str, ...]:
        return ("candidates",)


class FloatRange(Marker, type_name="symbo.float_range"):
    """A float in ``[low, high]``; ``scale='log'`` samples the exponent uniformly."""

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

    @classmethod
    def _function_name(cls) -> str:
        return "float_range"

    @classmethod
    def _positional_names(cls) -> tuple[str, ...]:
        return ("low", "high")


class IntRange(Marker, type_name="symbo.int_range"):
    """An int in ``[low, high]`` (both included); ``scale='log'`` for widths and sizes."""

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

    @classmethod
    def _function_name(cls) -> str:
        return "int_range"

    @classmethod
    def _positional_names(cls) -> tuple[str, ...]:
        return ("low", "high")


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
