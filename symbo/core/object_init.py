"""The constructor of a symbolic class, generated from its schema (as attrs and dataclasses
generate theirs), and the helpers it calls: binding positional arguments, defaults, frozen
fields, dynamic keyword fields (``__kwargs__``) and the errors for missing or unknown ones.

>>> import symbo as sb
>>> class Block(sb.Object):
...     units: int
...     act: str = "relu"
>>> Block(64, act="gelu")
Block(units=64, act='gelu')
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from symbo.core.errors import (
    SymbolicKeyError,
    SymbolicTypeError,
    SymbolicValueError,
    at,
    error_at,
)
from symbo.core.keypath import KeyPath
from symbo.core.node import MISSING, Symbolic
from symbo.core.schema import _CONSTANTS, Field, Schema, _resolve_schema, no_field
from symbo.core.validation import Check, CheckFailure

if TYPE_CHECKING:
    from symbo.core.object import Object


# ---- binding helpers ---------------------------------------------------------------------------
def _bind_positional(cls: type, schema: Schema, args: tuple, kwargs: dict) -> dict:
    positional = schema.positional
    n = len(positional)
    if len(args) > n:
        if schema.var_positional is None:
            raise SymbolicTypeError(
                f"{cls.__name__}() takes {n} positional argument{'s' if n != 1 else ''} "
                f"but {len(args)} were given"
            )
        values = dict(zip(positional, args, strict=False))
        values[schema.var_positional] = list(args[n:])
    else:
        values = dict(zip(positional, args, strict=False))
    for key, value in kwargs.items():
        if key in values:
            raise SymbolicTypeError(f"{cls.__name__}() got multiple values for keyword argument {key!r}")
        values[key] = value
    return values


def _check_dynamic_name(cls: type, key: Any) -> None:
    """Refuses dynamic field names that are not identifiers or that a class attribute
    (method, property) of ``cls`` already uses."""
    if type(key) is not str or not key.isidentifier() or key.startswith("_"):
        raise SymbolicKeyError(
            f"{cls.__name__}: extra field names must be public identifiers, got {key!r}"
        )
    if hasattr(cls, key):
        raise SymbolicKeyError(
            f"{cls.__name__}: {key!r} is an attribute of the class and cannot be a field"
        )


def _dynamic_fields(obj: Object, schema: Schema, values: dict) -> None:
    """Stores the keyword arguments that are not fields as dynamic fields (``__kwargs__``)."""
    d = obj.__dict__
    names = d["_sym_dynamic"]
    for key, value in list(values.items()):
        _check_dynamic_name(type(obj), key)
        if value is MISSING:
            continue
        try:
            value = schema.dynamic(value)  # type: ignore[misc]
        except CheckFailure as e:
            raise e.to_error(KeyPath._from_keys((key,))) from None
        if isinstance(value, Symbolic):
            value = obj._sym_adopt(value, key)
        d[key] = value
        names.append(key)
    values.clear()


def _frozen_value(obj: Object | None, f: Field, value: Any) -> Any:
    """The value of frozen field ``f``: its default; another value given is an error."""
    from symbo.core.compare import eq

    if value is MISSING or eq(value, f.default):
        default = f.default
        return default._sym_clone(True, {}) if isinstance(default, Symbolic) else default
    path = (obj.sym_path if obj is not None else KeyPath()) + f.name
    raise SymbolicValueError(
        at(path, f"frozen field is not assignable: it is always {f.default!r}, got {value!r}")
    )


def _collect_var_keyword(schema: Schema, values: dict) -> None:
    extras = {k: values.pop(k) for k in [k for k in values if k not in schema.by_name]}
    if extras:
        given = values.get(schema.var_keyword)
        if given:
            extras = {**dict(given), **extras}
        values[schema.var_keyword] = extras


def _missing(cls: type, schema: Schema, values: dict, done: dict | None = None) -> None:
    done = done or {}
    names = [f.name for f in schema.fields
             if f.required and values.get(f.name, done.get(f.name, MISSING)) is MISSING]
    listed = ", ".join(repr(n) for n in names)
    raise SymbolicTypeError(
        f"{cls.__name__}: missing required field{'s' if len(names) > 1 else ''} {listed} "
        f"(use {cls.__name__}.partial(...) to leave fields for later)"
    )


def _unknown(cls: type, schema: Schema, values: dict, done: dict | None = None) -> None:
    unknown = [k for k in values if k not in schema.by_name]
    raise error_at(SymbolicKeyError, KeyPath((str(unknown[0]),)), no_field(cls, unknown[0]))




# ---- the generated constructor ---------------------------------------------------------------
_FAST_TYPES = {"int": int, "float": float, "str": str, "bool": bool}


def _field_value(obj: Object, f: Field, value: Any) -> Any:
    """The general path for one field value: check, convert, adopt."""
    try:
        value = f.check(value)
    except CheckFailure as e:
        raise e.to_error(KeyPath._from_keys((f.name,))) from None
    if isinstance(value, Symbolic):
        value = obj._sym_adopt(value, f.name)
    return value


def _field_default(obj: Object, f: Field) -> Any:
    value = f.default
    if isinstance(value, Symbolic):
        value = value._sym_clone(True, {})
    return _field_value(obj, f, value)


def _compile_init(cls: type) -> Callable[..., None]:
    """Generates a constructor specialised to the class's fields (as attrs and dataclasses do).

    The source is built from this template and the field names only (identifiers from the
    class body), never from user data.
    """
    schema: Schema = cls.__dict__["_sym_schema_"] or _resolve_schema(cls)
    env: dict[str, Any] = {
        "MISSING": MISSING, "cls": cls, "schema": schema, "_bind": _bind_positional,
        "_varkw": _collect_var_keyword, "_missing": _missing, "_unknown": _unknown,
        "_value": _field_value, "_default": _field_default, "_frozen": _frozen_value,
        "_dynamic": _dynamic_fields,
    }
    lines = [
        "def init(self, args, kw, partial_ok):",
        "    if args:",
        "        kw = _bind(cls, schema, args, kw)",
    ]
    if schema.var_keyword is not None:
        lines.append("    _varkw(schema, kw)")
    lines += [
        "    d = self.__dict__",
        "    d['_sym_parent'] = None",
        "    d['_sym_key'] = None",
        "    d['_sym_sealed'] = False",
        "    pop = kw.pop",
    ]
    if schema.dynamic is not None:
        lines.append("    d['_sym_dynamic'] = []")
    for i, f in enumerate(schema.fields):
        env[f"F{i}"] = f
        env[f"D{i}"] = f.default
        if f.frozen:
            lines.append(f"    d[{f.name!r}] = _frozen(None, F{i}, pop({f.name!r}, MISSING))")
            continue
        fast = _fast_type(f.check)
        lines.append(f"    v = pop({f.name!r}, MISSING)")
        lines.append("    if v is MISSING:")
        if f.default is MISSING:
            lines.append("        if not partial_ok:")
            lines.append("            _missing(cls, schema, kw, d)")
        elif type(f.default) in _CONSTANTS and (fast is None or type(f.default) is fast):
            lines.append(f"        v = D{i}")
        else:
            lines.append(f"        v = _default(self, F{i})")
        if fast is not None:
            env[f"T{i}"] = fast
            lines.append(f"    elif type(v) is not T{i}:")
        else:
            lines.append("    else:")
        lines.append(f"        v = _value(self, F{i}, v)")
        lines.append(f"    d[{f.name!r}] = v")
    lines.append("    if kw:")
    if schema.dynamic is not None:
        lines.append("        _dynamic(self, schema, kw)")
    else:
        lines.append("        _unknown(cls, schema, kw, d)")
    if cls._sym_has_on_bound:  # type: ignore[attr-defined]
        lines.append("    self._on_bound()")
    exec("\n".join(lines), env)  # noqa: S102 - generated from field names only
    init = env["init"]
    type.__setattr__(cls, "_sym_init_fn_", init)
    return init


def _fast_type(check: Check) -> type | None:
    from symbo.core.validation import ExactCheck, FloatCheck, IntCheck

    if isinstance(check, IntCheck):
        return int
    if isinstance(check, FloatCheck):
        return float
    if isinstance(check, ExactCheck) and check.cls in (str, bool):
        return check.cls
    return None
