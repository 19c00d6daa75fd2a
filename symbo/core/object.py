"""``sb.Object``: a class whose fields, declared by annotations, form a symbolic tree.

>>> import symbo as sb
>>> class Head(sb.Object):
...     layers: list[int] = [64]
>>> class Trainer(sb.Object):
...     lr: float = 1e-3
...     head: Head | None = None
>>> t = Trainer(lr=0.1, head=Head())
>>> t.rebind({"head.layers[0]": 32}).head.layers
List([32])
>>> str(t.head.sym_path)
'head'
"""

from __future__ import annotations

import re
import sys
import typing
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

import attrs

from symbo.core import registry
from symbo.core.containers import _ATOMIC, Dict, _clone_child, _copy_leaf, _unlink
from symbo.core.errors import (
    SymbolicKeyError,
    SymbolicTypeError,
    SymbolicValueError,
    at,
    error_at,
)
from symbo.core.keypath import Key, KeyPath
from symbo.core.node import MISSING, Symbolic, Undo, _link
from symbo.core.validation import ANY, Check, CheckFailure, PredicateCheck, compile_check


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


class Object(Symbolic):
    """Base class of user-defined symbolic classes.

    Fields come from class annotations; a class attribute gives the default (``sb.MISSING``
    or no value means required), and a subclass may give an inherited field a new default
    without annotating it again (``x = 2``). ``typing.Final`` (or ``sb.field(frozen=True)``)
    fixes a field to its default. An annotation ``__kwargs__: T`` lets objects take extra
    keyword fields of type ``T``. Values are validated on construction and on every edit; plain
    lists and dicts become ``sb.List``/``sb.Dict``. Assigning a field (``t.lr = 0.1``) is a
    rebind. Override ``_on_bound`` to compute derived state after construction, cloning and
    each edit at or below this object, and ``_on_change`` to hear which paths an edit changed.

    >>> import symbo as sb
    >>> class Block(sb.Object):
    ...     units: int
    ...     act: str = "relu"
    >>> Block(64)
    Block(units=64, act='relu')
    >>> Block("wide")
    Traceback (most recent call last):
    ...
    symbo.core.errors.SymbolicTypeError: units: expected int, got str 'wide'
    """

    _sym_partial_ok: ClassVar[bool] = False
    _sym_type_name: ClassVar[str]
    _sym_dynamic_check: ClassVar[Check | None] = None

    def __init_subclass__(cls, *, type_name: str | None = None, register: bool = True,
                          **kw: Any) -> None:
        super().__init_subclass__(**kw)
        if "_sym_schema_" not in cls.__dict__:
            type.__setattr__(cls, "_sym_schema_", None)
        type.__setattr__(cls, "_sym_type_name", type_name or registry.default_name(cls))
        type.__setattr__(cls, "_sym_has_on_bound", cls._on_bound is not Object._on_bound)
        _check_final_defaults(cls)
        if register:
            registry.register(cls, cls._sym_type_name)

    # ---- construction --------------------------------------------------------------------
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._sym_init(args, kwargs, type(self)._sym_partial_ok)

    @classmethod
    def partial(cls, *args: Any, **kwargs: Any) -> Any:
        """Builds an instance that may leave required fields ``MISSING`` (fill them later).

        >>> import symbo as sb
        >>> class A(sb.Object):
        ...     x: int
        >>> A.partial().x
        MISSING
        """
        obj = object.__new__(cls)
        obj._sym_init(args, kwargs, True)
        return obj

    def _sym_init(self, args: tuple, kwargs: dict, partial_ok: bool) -> None:
        cls = type(self)
        init = cls.__dict__.get("_sym_init_fn_")
        if init is None:
            init = _compile_init(cls)
        try:
            init(self, args, kwargs, partial_ok)
        except BaseException:
            # Children adopted before the failure go back to being free (nothing half-changed).
            for value in list(self.__dict__.values()):
                if isinstance(value, Symbolic) and value._sym_parent is self:
                    _unlink(value)
            raise

    def _on_bound(self) -> None:
        """Called after construction, cloning and each edit at or below this object."""

    # ---- schema --------------------------------------------------------------------------
    @classmethod
    def sym_schema(cls) -> Schema:
        """The resolved fields of this class."""
        return cls.__dict__["_sym_schema_"] or _resolve_schema(cls)

    @classmethod
    def sym_fields(cls) -> tuple[Field, ...]:
        return cls.sym_schema().fields

    @property
    def sym_init_args(self) -> Dict:
        """The arguments this object is built from, as a read-only ``sb.Dict``."""
        return Dict._view(dict(self.sym_items()))

    def sym_nondefault(self) -> dict[str, Any]:
        """Fields whose value differs from the default."""
        from symbo.core.compare import eq

        by_name = self.sym_schema().by_name
        return {k: v for k, v in self.sym_items()
                if k not in by_name or not eq(v, by_name[k].default)}

    def _sym_json_items(self, hide_default: bool) -> Iterator[tuple[Key, Any]]:
        """The (field, value) pairs ``to_json`` writes: all but frozen fields (and, with
        ``hide_default``, those holding their default)."""
        schema = self.sym_schema()
        if not hide_default and not schema.has_frozen:
            return self.sym_items()
        from symbo.core.compare import eq

        by_name = schema.by_name
        return ((k, v) for k, v in self.sym_items()
                if (f := by_name.get(k)) is None or not (
                    f.frozen or (hide_default and f.default is not MISSING and eq(v, f.default))))

    # ---- tree protocol -------------------------------------------------------------------
    def sym_items(self) -> Iterator[tuple[Key, Any]]:
        d = self.__dict__
        for f in self.sym_schema().fields:
            yield f.name, d[f.name]
        dynamic = d.get("_sym_dynamic")
        if dynamic:
            for name in dynamic:
                yield name, d[name]

    def _sym_child(self, key: Key) -> Any:
        f = self.sym_schema().by_name.get(key) if type(key) is str else None
        if f is None:
            dynamic = self.__dict__.get("_sym_dynamic")
            if dynamic and key in dynamic:
                return self.__dict__[key]
            raise SymbolicKeyError(at(self.sym_path, _no_field(type(self), key)))
        return self.__dict__[key]

    def _sym_check(self, key: Key, value: Any) -> Any:
        schema = self.sym_schema()
        f = schema.by_name.get(key) if type(key) is str else None
        if f is None:
            if schema.dynamic is None:
                raise SymbolicKeyError(at(self.sym_path, _no_field(type(self), key)))
            _check_dynamic_name(type(self), key)
            if value is MISSING:
                if key not in self.__dict__.get("_sym_dynamic", ()):
                    raise SymbolicKeyError(at(self.sym_path, f"no field {key!r} to delete"))
                return MISSING
            try:
                return schema.dynamic(value)
            except CheckFailure as e:
                raise e.to_error(self.sym_path + key) from None
        if f.frozen:
            return _frozen_value(self, f, value)
        if value is MISSING:
            if f.default is not MISSING:
                value = f.default
                if isinstance(value, Symbolic):
                    value = value._sym_clone(True, {})
            elif type(self)._sym_partial_ok:
                return MISSING
            else:
                raise SymbolicTypeError(
                    at(self.sym_path + key, "a required field cannot be MISSING")
                )
        try:
            return f.check(value)
        except CheckFailure as e:
            raise e.to_error(self.sym_path + key) from None

    def _sym_assign(self, key: Key, value: Any) -> tuple[Any, Undo]:
        d = self.__dict__
        if key not in self.sym_schema().by_name:
            return self._sym_assign_dynamic(key, value)
        old = d[key]
        value = self._sym_adopt(value, key)
        d[key] = value
        if old is not value:
            _unlink(old)

        def undo() -> None:
            d[key] = old
            if isinstance(old, Symbolic):
                _link(old, self, key)
            if value is not old:
                _unlink(value)

        return old, undo

    def _sym_assign_dynamic(self, key: Key, value: Any) -> tuple[Any, Undo]:
        """Adds (or, with MISSING, deletes) a dynamic keyword field."""
        d = self.__dict__
        names: list[str] = d.setdefault("_sym_dynamic", [])
        old = d.get(key, MISSING)
        position = names.index(key) if key in names else None
        if value is MISSING:
            del d[key]
            names.remove(key)  # type: ignore[arg-type]
        else:
            value = self._sym_adopt(value, key)
            d[key] = value
            if position is None:
                names.append(key)  # type: ignore[arg-type]
        if old is not value:
            _unlink(old)

        def undo() -> None:
            if key in names:
                names.remove(key)  # type: ignore[arg-type]
            if old is MISSING:
                d.pop(key, None)
            else:
                d[key] = old
                names.insert(len(names) if position is None else position, key)  # type: ignore
                if isinstance(old, Symbolic):
                    _link(old, self, key)
            if value is not old:
                _unlink(value)

        return old, undo

    def _sym_clone(self, deep: bool, memo: dict) -> Object:
        cls = type(self)
        out = object.__new__(cls)
        src = self.__dict__
        nd = out.__dict__
        nd["_sym_parent"] = None
        nd["_sym_key"] = None
        nd["_sym_sealed"] = src["_sym_sealed"]
        names: Any = (cls.__dict__["_sym_schema_"] or _resolve_schema(cls)).names
        dynamic = src.get("_sym_dynamic")
        if dynamic is not None:
            nd["_sym_dynamic"] = list(dynamic)
            names = names + tuple(dynamic)
        for name in names:
            value = src[name]
            if type(value) in _ATOMIC:
                nd[name] = value
            elif isinstance(value, Symbolic):
                c = _clone_child(value, deep, memo)
                if isinstance(c, Symbolic):
                    _link(c, out, name)
                nd[name] = c
            else:
                nd[name] = _copy_leaf(value, deep, memo)
        if cls._sym_has_on_bound:  # type: ignore[attr-defined]
            out._on_bound()
        return out

    # ---- attribute access ----------------------------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        if name[0] != "_" and (name in self.sym_schema().by_name or
                               type(self)._sym_dynamic_check is not None):
            self.rebind({name: value})
        else:
            object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        if name in self.__dict__.get("_sym_dynamic", ()):
            self.rebind({name: MISSING})
            return
        if name in self.sym_schema().by_name:
            raise SymbolicTypeError(
                at(self.sym_path + name, "fields cannot be deleted; rebind instead")
            )
        object.__delattr__(self, name)

    # ---- comparison, hashing, printing ---------------------------------------------------
    def __eq__(self, other: object) -> bool:
        from symbo.core.compare import eq

        return eq(self, other)

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    def __hash__(self) -> int:
        from symbo.core.compare import sym_hash

        return sym_hash(self)

    def __repr__(self) -> str:
        from symbo.core.formatting import format as sym_format

        return sym_format(self, compact=True)

    def __str__(self) -> str:
        from symbo.core.formatting import format as sym_format

        return sym_format(self)

    def __reduce__(self) -> Any:
        d = self.__dict__
        fields = dict(self.sym_items())
        extra = {k: v for k, v in d.items() if k not in fields and not k.startswith("_sym_")}
        if "_sym_dynamic" in d:
            extra["_sym_dynamic"] = list(d["_sym_dynamic"])
        return (_rebuild_object, (_class_ref(type(self)), fields, d["_sym_sealed"], extra))


def _class_ref(cls: type) -> type | str:
    """The class itself when pickle can find it by module and qualified name, else its registry
    name (a symbolized class carries the name of the class or function it wraps)."""
    target: Any = sys.modules.get(cls.__module__)
    for part in cls.__qualname__.split("."):
        target = getattr(target, part, None)
    return cls if target is cls else cls._sym_type_name  # type: ignore[attr-defined]


def _rebuild_object(cls: type | str, fields: dict, sealed: bool, extra: dict) -> Object:
    if isinstance(cls, str):
        cls = registry.lookup(cls)
    obj = object.__new__(cls)  # type: ignore[arg-type]
    d = obj.__dict__
    d["_sym_parent"] = None
    d["_sym_key"] = None
    d["_sym_sealed"] = sealed
    for name, value in fields.items():
        if isinstance(value, Symbolic):
            _link(value, obj, name)
        d[name] = value
    d.update(extra)
    return obj


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
    raise error_at(SymbolicKeyError, KeyPath((str(unknown[0]),)), _no_field(cls, unknown[0]))


def _no_field(cls: type, key: Any) -> str:
    fields = ", ".join(f.name for f in cls.sym_schema().fields)  # type: ignore[attr-defined]
    return f"{cls.__name__} has no field {key!r} (fields: {fields or 'none'})"


# ---- the generated constructor ---------------------------------------------------------------
_FAST_TYPES = {"int": int, "float": float, "str": str, "bool": bool}
_CONSTANTS = (int, float, str, bool, type(None))


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


# ---- schema resolution -------------------------------------------------------------------------
def _resolve_schema(cls: type) -> Schema:
    """Builds the schema of an Object subclass from its (and its bases') annotations."""
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


__all__ = ["Object", "Field", "Schema", "field", "make_schema", "ANY"]
