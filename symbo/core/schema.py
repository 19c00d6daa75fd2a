"""Fields and schemas of symbolic classes: ``sb.field``, ``Field``, ``Schema``, and how a
class's annotations (and its bases') become its schema.

>>> import symbo as sb
>>> class Conv(sb.Object):
...     filters: int = sb.field(32, doc="output channels")
>>> f = Conv.sym_schema().by_name["filters"]
>>> f.default, f.doc, f.required
(32, 'output channels', False)
"""

from __future__ import annotations

import re
import sys
import typing
from collections.abc import Callable
from typing import Any, ClassVar

import attrs

from symbo.core import registry
from symbo.core.errors import SymbolicTypeError
from symbo.core.keypath import KeyPath
from symbo.core.node import MISSING, Symbolic
from symbo.core.validation import Check, CheckFailure, PredicateCheck, compile_check

_CONSTANTS = (int, float, str, bool, type(None))


@attrs.frozen(slots=True)
class FieldSpec:
    """What ``sb.field(...)`` puts in a class body: a default plus documentation and a check."""

    default: Any = MISSING
    doc: str | None = None
    check: Callable[[Any], bool] | None = None
    message: str | None = None
    frozen: bool = False


def field(
    default: Any = MISSING,
    *,
    doc: str | None = None,
    check: Callable[[Any], bool] | None = None,
    message: str | None = None,
    frozen: bool = False,
) -> Any:
    """Declares a field with a docstring and/or an extra value check.

    ``frozen=True`` fixes the field to its default: it is not an argument of the constructor
    and cannot be rebound (as ``x: typing.Final[int] = 1`` does).

    >>> import symbo as sb
    >>> class Conv(sb.Object):
    ...     filters: int = sb.field(32, doc="output channels", check=lambda v: v > 0)
    ...     kind: str = sb.field("conv", frozen=True)
    >>> Conv(filters=-1)
    Traceback (most recent call last):
    ...
    symbo.core.errors.SymbolicValueError: filters: -1 rejected by <lambda>
    >>> Conv(8).kind
    'conv'
    """
    return FieldSpec(default, doc, check, message, frozen)


@attrs.frozen(slots=True)
class Field:
    """One field of a symbolic class: name, annotation, compiled check, default."""

    name: str
    annotation: Any
    check: Check
    default: Any = MISSING
    doc: str | None = None
    frozen: bool = False

    @property
    def required(self) -> bool:
        return self.default is MISSING


@attrs.frozen(slots=True)
class Schema:
    """The fields of a symbolic class and how positional arguments bind to them.

    ``dynamic`` (from a ``__kwargs__: T`` annotation) is the check of the extra keyword fields
    an object may have beyond ``fields``; None when it may have none.
    """

    fields: tuple[Field, ...]
    positional: tuple[str, ...]
    var_positional: str | None = None
    var_keyword: str | None = None
    dynamic: Check | None = None
    by_name: dict[str, Field] = attrs.field(init=False)
    names: tuple[str, ...] = attrs.field(init=False)
    has_frozen: bool = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "by_name", {f.name: f for f in self.fields})
        object.__setattr__(self, "names", tuple(f.name for f in self.fields))
        object.__setattr__(self, "has_frozen", any(f.frozen for f in self.fields))


# ---- schema resolution -------------------------------------------------------------------------
def _resolve_schema(cls: type) -> Schema:
    """Builds the schema of an Object subclass from its (and its bases') annotations."""
    from symbo.core.object import Object

    fields: dict[str, Field] = {}
    dynamic: Check | None = None
    for klass in reversed(cls.__mro__):
        if not (isinstance(klass, type) and issubclass(klass, Object)) or klass is Object:
            continue
        given = klass.__dict__.get("_sym_schema_")
        if given is not None and klass is not cls:
            for f in given.fields:
                fields[f.name] = f
            dynamic = given.dynamic if given.dynamic is not None else dynamic
            continue
        own = klass.__dict__.get("__annotations__", {})
        for name, annotation in own.items():
            if name == "__kwargs__":
                dynamic = _compile_field(cls, name, _resolve_annotation(klass, name, annotation))
                continue
            if name.startswith("_"):
                continue
            resolved = _resolve_annotation(klass, name, annotation)
            if typing.get_origin(resolved) is ClassVar or resolved is ClassVar:
                continue
            frozen = False
            if resolved is typing.Final or typing.get_origin(resolved) is typing.Final:
                frozen = True
                args = typing.get_args(resolved)
                resolved = args[0] if args else Any
            raw_default = klass.__dict__.get(name, MISSING)
            if raw_default is MISSING and name in fields:
                raw_default = fields[name].default
            fields[name] = _make_field(cls, name, resolved, raw_default, frozen)
        for name, value in klass.__dict__.items():  # ``x = 2``: a new default, same annotation
            if name in own or name not in fields or _is_class_member(value):
                continue
            old = fields[name]
            fields[name] = _make_field(cls, name, old.annotation, value, old.frozen, old)
    ordered = tuple(fields.values())
    positional = tuple(f.name for f in ordered if not f.frozen)
    schema = Schema(ordered, positional, dynamic=dynamic)
    type.__setattr__(cls, "_sym_schema_", schema)
    type.__setattr__(cls, "_sym_dynamic_check", dynamic)
    return schema


_FINAL_TEXT = re.compile(r"\s*(typing\.)?Final\s*(\[|$)")


def _check_final_defaults(cls: type) -> None:
    """A ``Final`` field needs a default; says so when the class is defined (the rest of the
    schema is resolved on first use, so annotations may name classes defined later)."""
    for name, annotation in cls.__dict__.get("__annotations__", {}).items():
        final = _FINAL_TEXT.match(annotation) is not None if isinstance(annotation, str) else (
            annotation is typing.Final or typing.get_origin(annotation) is typing.Final)
        if final and name not in cls.__dict__:
            raise SymbolicTypeError(
                f"{cls.__name__}: field {name} is marked as final but has no default value"
            )


def _is_class_member(value: Any) -> bool:
    """Methods, properties and the like in a class body, which never override a field."""
    import inspect

    return inspect.isfunction(value) or isinstance(value, (property, classmethod, staticmethod))


def _compile_field(cls: type, name: str, annotation: Any) -> Check:
    try:
        return compile_check(annotation)
    except SymbolicTypeError as e:
        raise SymbolicTypeError(f"{cls.__name__}.{name}: {e}") from None


def _make_field(cls: type, name: str, resolved: Any, raw_default: Any, frozen: bool,
                inherited: Field | None = None) -> Field:
    """One field from its (resolved) annotation and class-body value."""
    doc, extra = (inherited.doc, None) if inherited is not None else (None, None)
    if isinstance(raw_default, FieldSpec):
        doc, extra = raw_default.doc, raw_default
        frozen = frozen or raw_default.frozen
        raw_default = raw_default.default
    if inherited is not None and extra is None:
        check = inherited.check
    else:
        check = _compile_field(cls, name, resolved)
        if extra is not None and extra.check is not None:
            check = PredicateCheck(check, extra.check, extra.message)
    if frozen and raw_default is MISSING:
        raise SymbolicTypeError(
            f"{cls.__name__}: field {name} is marked as final (frozen) but has no default value"
        )
    if raw_default is not MISSING and not isinstance(raw_default, Symbolic):
        try:
            checked = check(raw_default)
        except CheckFailure as e:
            raise SymbolicTypeError(
                f"{cls.__name__}: default of field {e.to_error(KeyPath((name,)))}"
            ) from None
        if type(raw_default) in _CONSTANTS:  # keep the converted form (1 -> 1.0)
            raw_default = checked
    return Field(name, resolved, check, raw_default, doc, frozen)


def _resolve_annotation(klass: type, name: str, annotation: Any) -> Any:
    if not isinstance(annotation, str):
        return annotation
    try:
        return eval(annotation, _annotation_namespace(klass))  # noqa: S307 - the user's own
    except Exception as e:  # NameError for undefined names, TypeError for bad unions
        raise SymbolicTypeError(
            f"{klass.__name__}.{name}: cannot resolve annotation {annotation!r} ({e})"
        ) from None


def _annotation_namespace(klass: type) -> dict[str, Any]:
    """The names an annotation of ``klass`` sees, resolved as Python would resolve them.

    A class defined in a function cannot see that function's locals once it has run, so the
    symbolic classes registered from each enclosing function stand in for them. Lowest
    priority first: symbolic classes registered anywhere (by short name, when unambiguous),
    those registered from the class's module, the module's globals, those of each enclosing
    function (innermost last), the class body and the class itself.
    """
    module_name = klass.__module__
    by_short: dict[str, dict[int, type]] = {}
    scoped: dict[str, dict[str, type]] = {}  # enclosing qualname -> {name: class}
    for full, value in list(registry._BY_NAME.items()):
        if not isinstance(value, type):
            continue
        by_short.setdefault(full.rsplit(".", 1)[-1], {})[id(value)] = value
        if getattr(value, "__module__", None) == module_name:
            scope, _, own = getattr(value, "__qualname__", "").rpartition(".")
            scoped.setdefault(scope, {})[own] = value
    namespace: dict[str, Any] = {
        short: next(iter(found.values())) for short, found in by_short.items() if len(found) == 1
    }
    namespace.update(scoped.get("", {}))
    module = sys.modules.get(module_name)
    if module is not None:
        namespace.update(vars(module))
    parts = klass.__qualname__.split(".")
    for i in range(1, len(parts)):
        if parts[i - 1] == "<locals>":
            namespace.update(scoped.get(".".join(parts[:i]), {}))
    namespace.update(vars(klass))
    namespace[klass.__name__] = klass
    return namespace


def make_schema(fields: list[Field], positional: list[str], var_positional: str | None = None,
                var_keyword: str | None = None) -> Schema:
    """Builds a schema explicitly (used by ``symbolize`` for signatures)."""
    return Schema(tuple(fields), tuple(positional), var_positional, var_keyword)


def no_field(cls: type, key: Any) -> str:
    """The message for a key that is not a field of ``cls``."""
    fields = ", ".join(f.name for f in cls.sym_schema().fields)  # type: ignore[attr-defined]
    return f"{cls.__name__} has no field {key!r} (fields: {fields or 'none'})"
