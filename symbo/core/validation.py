"""Field validation: a type annotation compiled once into a fast ``Check``.

Supported: ``int``, ``float`` (ints accepted), ``str``, ``bool``, ``None``, ``list[T]``,
``dict[str, T]``, ``tuple[...]``, ``Optional``/``X | None``, ``Union``, ``Literal``,
``Callable``, ``Any``, symbolic classes and any other class (isinstance). Plain lists and dicts
become ``sb.List``/``sb.Dict`` children that keep checking their elements.

>>> from symbo.core.validation import compile_check
>>> check = compile_check(list[int])
>>> check([1, 2])
List([1, 2])
"""

from __future__ import annotations

import functools
import types
import typing
from collections import abc
from typing import Any

from symbo.core.errors import SymbolicTypeError, SymbolicValueError, error_at
from symbo.core.keypath import Key, KeyPath
from symbo.core.node import MISSING, DeferredValue, Symbolic


class CheckFailure(Exception):
    """A value that does not fit a check; ``keys`` is the path inside the value (reversed)."""

    def __init__(self, reason: str, *, value_error: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.keys: list[Key] = []
        self.value_error = value_error

    def to_error(self, path: KeyPath) -> Exception:
        full = path + KeyPath._from_keys(tuple(reversed(self.keys)))
        cls = SymbolicValueError if self.value_error else SymbolicTypeError
        return error_at(cls, full, self.reason)


def describe_value(value: Any) -> str:
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(value).__name__} {text}"


class Check:
    """Validates and converts one value. Subclasses implement ``_check``.

    ``check(value)`` runs ``_check`` directly (one call on the fast path); a value that fails the
    fast path goes to ``other``, which accepts a ``DeferredValue`` whose possible values fit.
    """

    __slots__ = ()

    def __init_subclass__(cls, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        if "_check" in cls.__dict__ and "__call__" not in cls.__dict__:
            cls.__call__ = cls.__dict__["_check"]  # type: ignore[method-assign]

    def __call__(self, value: Any) -> Any:
        return self._check(value)

    def _check(self, value: Any) -> Any:
        raise NotImplementedError

    def other(self, value: Any) -> Any:
        """The slow path: a deferred value is asked whether it fits; anything else fails."""
        if isinstance(value, DeferredValue):
            value.sym_check_against(self)
            return value
        raise self.fail(value)

    def describe(self) -> str:
        raise NotImplementedError

    def fail(self, value: Any) -> CheckFailure:
        return CheckFailure(f"expected {self.describe()}, got {describe_value(value)}")

    def __repr__(self) -> str:
        return f"<check {self.describe()}>"


class AnyCheck(Check):
    __slots__ = ()

    def _check(self, value: Any) -> Any:
        return _convert_containers(value, None, None)

    def describe(self) -> str:
        return "any value"


class InstanceCheck(Check):
    """An instance of a class, or a symbolic recipe (``sb.symbolize``) that builds one."""

    __slots__ = ("cls",)

    def __init__(self, cls: type) -> None:
        self.cls = cls

    def _check(self, value: Any) -> Any:
        if isinstance(value, self.cls):
            return value
        wrapped = getattr(type(value), "_sym_wrapped", None)
        if isinstance(wrapped, type) and issubclass(wrapped, self.cls):
            return value
        return self.other(value)

    def describe(self) -> str:
        return _type_name(self.cls)


class IntCheck(Check):
    __slots__ = ()

    def _check(self, value: Any) -> Any:
        if type(value) is int or (isinstance(value, int) and not isinstance(value, bool)):
            return value
        return self.other(value)

    def describe(self) -> str:
        return "int"


class FloatCheck(Check):
    __slots__ = ()

    def _check(self, value: Any) -> Any:
        t = type(value)
        if t is float:
            return value
        if t is int or (isinstance(value, (int, float)) and not isinstance(value, bool)):
            return float(value)
        return self.other(value)

    def describe(self) -> str:
        return "float"


class ExactCheck(Check):
    """str, bool, None: the value's type must be exactly (or a subclass of) the class."""

    __slots__ = ("cls",)

    def __init__(self, cls: type) -> None:
        self.cls = cls

    def _check(self, value: Any) -> Any:
        if type(value) is self.cls or isinstance(value, self.cls):
            return value
        return self.other(value)

    def describe(self) -> str:
        return "None" if self.cls is type(None) else self.cls.__name__


class ListCheck(Check):
    __slots__ = ("element",)

    def __init__(self, element: Check | None) -> None:
        self.element = element

    def _check(self, value: Any) -> Any:
        if isinstance(value, (list, tuple)):
            return _make_list(value, self.element)
        if _is_tuple_node(value):
            return _make_list(value.to_tuple(), self.element)
        return self.other(value)

    def describe(self) -> str:
        return f"list[{self.element.describe() if self.element else 'Any'}]"


class DictCheck(Check):
    __slots__ = ("value",)

    def __init__(self, value: Check | None) -> None:
        self.value = value

    def _check(self, value: Any) -> Any:
        if isinstance(value, dict):
            return _make_dict(value, self.value)
        return self.other(value)

    def describe(self) -> str:
        return f"dict[str, {self.value.describe() if self.value else 'Any'}]"


class TupleCheck(Check):
    """``tuple[int, str]`` (fixed) or ``tuple[int, ...]`` (variadic), checked item by item.
    Tuples stay tuples; one holding a marker becomes an ``sb.Tuple`` (its items are children,
    each checked, so the marker is a decision)."""

    __slots__ = ("elements", "variadic")

    def __init__(self, elements: tuple[Check, ...], variadic: bool) -> None:
        self.elements = elements
        self.variadic = variadic

    def item(self, i: int) -> Check | None:
        """The check of item ``i``."""
        if self.variadic:
            return self.elements[0]
        return self.elements[i] if i < len(self.elements) else None

    def _check(self, value: Any) -> Any:
        if _is_tuple_node(value):
            value = value.to_tuple()
        elif not isinstance(value, (tuple, list)):
            return self.other(value)
        if not self.variadic and self.elements and len(value) != len(self.elements):
            raise CheckFailure(
                f"expected {self.describe()} with {len(self.elements)} items, got {len(value)}"
            )
        from symbo.core.tuples import Tuple, holds_deferred

        if holds_deferred(value):
            return Tuple(value, item_check=self.item)
        out = []
        for i, item in enumerate(value):
            check = self.item(i)
            if check is not None:
                try:
                    item = check(item)
                except CheckFailure as e:
                    e.keys.append(i)
                    raise
            out.append(item)
        return tuple(out)

    def describe(self) -> str:
        if self.variadic:
            return f"tuple[{self.elements[0].describe()}, ...]"
        if not self.elements:
            return "tuple"
        return f"tuple[{', '.join(c.describe() for c in self.elements)}]"


class UnionCheck(Check):
    __slots__ = ("options",)

    def __init__(self, options: tuple[Check, ...]) -> None:
        self.options = options

    def _check(self, value: Any) -> Any:
        if isinstance(value, DeferredValue):
            value.sym_check_against(self)
            return value
        deepest: CheckFailure | None = None
        for option in self.options:
            try:
                return option._check(value)
            except CheckFailure as e:
                if e.keys and (deepest is None or len(e.keys) > len(deepest.keys)):
                    deepest = e
        if deepest is not None:  # the value matched an option's shape but failed inside
            raise deepest
        raise self.fail(value)

    def describe(self) -> str:
        names = [o.describe() for o in self.options]
        return " or ".join(names)


class LiteralCheck(Check):
    __slots__ = ("values",)

    def __init__(self, values: tuple[Any, ...]) -> None:
        self.values = values

    def _check(self, value: Any) -> Any:
        for allowed in self.values:
            if value == allowed and type(value) is type(allowed):
                return value
        if isinstance(value, DeferredValue):
            return self.other(value)
        raise CheckFailure(
            f"expected one of {list(self.values)!r}, got {value!r}", value_error=True
        )

    def describe(self) -> str:
        return f"one of {list(self.values)!r}"


class CallableCheck(Check):
    __slots__ = ()

    def _check(self, value: Any) -> Any:
        if type(value) is functools.partial:  # markers in its arguments: a Partial node
            from symbo.core.tuples import as_value_node

            return as_value_node(value)
        if callable(value):
            return value
        wrapped = getattr(type(value), "_sym_wrapped", None)  # a recipe of a callable class
        if wrapped is not None and any("__call__" in vars(k) for k in wrapped.__mro__[:-1]):
            return value
        return self.other(value)

    def describe(self) -> str:
        return "callable"


class TypeObjectCheck(Check):
    """``type[Base]``: a class that is Base or a subclass of it."""

    __slots__ = ("base",)

    def __init__(self, base: type | None) -> None:
        self.base = base

    def _check(self, value: Any) -> Any:
        if isinstance(value, type) and (self.base is None or issubclass(value, self.base)):
            return value
        return self.other(value)

    def describe(self) -> str:
        return f"type[{_type_name(self.base) if self.base else 'Any'}]"


class PredicateCheck(Check):
    """A check followed by a user predicate (``sb.field(check=...)``)."""

    __slots__ = ("inner", "predicate", "message")

    def __init__(self, inner: Check, predicate: Any, message: str | None) -> None:
        self.inner = inner
        self.predicate = predicate
        self.message = message

    def _check(self, value: Any) -> Any:
        if isinstance(value, DeferredValue):
            value.sym_check_against(self)
            return value
        value = self.inner._check(value)
        if not self.predicate(value):
            name = getattr(self.predicate, "__name__", "check")
            reason = self.message or f"{value!r} rejected by {name}"
            raise CheckFailure(reason, value_error=True)
        return value

    def describe(self) -> str:
        return self.inner.describe()


ANY = AnyCheck()
_SIMPLE: dict[Any, Check] = {
    int: IntCheck(),
    float: FloatCheck(),
    str: ExactCheck(str),
    bool: ExactCheck(bool),
    type(None): ExactCheck(type(None)),
    None: ExactCheck(type(None)),
}


def _type_name(cls: Any) -> str:
    return getattr(cls, "__name__", repr(cls))


def compile_check(annotation: Any) -> Check:
    """Compiles a type annotation (already resolved, no strings) into a Check."""
    try:
        return _compile(annotation)
    except TypeError:  # unhashable annotation objects: compile without the cache
        return _compile.__wrapped__(annotation)


@functools.lru_cache(maxsize=1024)
def _compile(annotation: Any) -> Check:
    if annotation is Any or annotation is object or annotation is MISSING:
        return ANY
    simple = _SIMPLE.get(annotation)
    if simple is not None:
        return simple
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _compile(args[0])
    if origin is typing.Union or origin is types.UnionType:
        options = tuple(compile_check(a) for a in args)
        return options[0] if len(options) == 1 else UnionCheck(options)
    if origin is typing.Literal:
        return LiteralCheck(args)
    if annotation is list or origin in (list, abc.Sequence, abc.MutableSequence):
        return ListCheck(compile_check(args[0]) if args and args[0] is not Any else None)
    if annotation is dict or origin in (dict, abc.Mapping, abc.MutableMapping):
        if args and args[0] not in (str, Any):
            raise SymbolicTypeError(f"dict keys must be str, got annotation {annotation!r}")
        return DictCheck(compile_check(args[1]) if len(args) == 2 and args[1] is not Any else None)
    if annotation is tuple or origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return TupleCheck((compile_check(args[0]),), True)
        return TupleCheck(tuple(compile_check(a) for a in args), False)
    if annotation is abc.Callable or origin is abc.Callable:
        return CallableCheck()
    if annotation is type or origin is type:
        return TypeObjectCheck(args[0] if args and isinstance(args[0], type) else None)
    if isinstance(annotation, typing.TypeVar):
        bound = annotation.__bound__
        return compile_check(bound) if bound is not None else ANY
    if isinstance(annotation, type):
        return InstanceCheck(annotation)
    if origin is not None and isinstance(origin, type):  # e.g. Iterator[int], Generic[...]
        return InstanceCheck(origin)
    raise SymbolicTypeError(f"unsupported type annotation {annotation!r}")


# ---- container conversion ------------------------------------------------------------------
def _make_list(value: Any, element: Check | None) -> Any:
    from symbo.core.containers import List

    return List._checked(value, element)


def _make_dict(value: Any, check: Check | None) -> Any:
    from symbo.core.containers import Dict

    return Dict._checked(value, check)


def _convert_containers(value: Any, element: Check | None, _unused: Any) -> Any:
    t = type(value)
    if t is list:
        return _make_list(value, element)
    if t is dict:
        return _make_dict(value, element)
    if t is tuple or t is functools.partial:
        from symbo.core.tuples import as_value_node

        return as_value_node(value)
    return value


def _is_tuple_node(value: Any) -> bool:
    return type(value).__name__ == "Tuple" and isinstance(value, Symbolic) and \
        getattr(type(value), "_sym_plain", None) is tuple


def check_value(check: Check | None, value: Any, path: KeyPath) -> Any:
    """Runs ``check`` on ``value`` and turns a failure into an error naming ``path``."""
    try:
        if check is None:
            return _convert_containers(value, None, None)
        return check(value)
    except CheckFailure as e:
        raise e.to_error(path) from None


__all__ = ["Check", "CheckFailure", "compile_check", "check_value", "ANY", "MISSING", "Symbolic"]
