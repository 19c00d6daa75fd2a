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

import sys
from collections.abc import Iterator
from typing import Any, ClassVar

from symbo.core import registry
from symbo.core.containers import _ATOMIC, Dict, _clone_child, _copy_leaf, _unlink
from symbo.core.errors import SymbolicKeyError, SymbolicTypeError, at
from symbo.core.keypath import Key
from symbo.core.node import MISSING, Symbolic, Undo, _link
from symbo.core.object_init import _check_dynamic_name, _compile_init, _frozen_value
from symbo.core.schema import (
    Field,
    FieldSpec,
    Schema,
    _check_final_defaults,
    _resolve_schema,
    field,
    make_schema,
    no_field,
)
from symbo.core.validation import ANY, Check, CheckFailure


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
    _sym_onchange: ClassVar[Any] = None  # containers take a callback; objects override hooks

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
            raise SymbolicKeyError(at(self.sym_path, no_field(type(self), key)))
        return self.__dict__[key]

    def _sym_check(self, key: Key, value: Any) -> Any:
        schema = self.sym_schema()
        f = schema.by_name.get(key) if type(key) is str else None
        if f is None:
            if schema.dynamic is None:
                raise SymbolicKeyError(at(self.sym_path, no_field(type(self), key)))
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

    def _sym_peek(self, key: Key) -> Any:
        return self.__dict__.get(key, MISSING)  # type: ignore[arg-type]

    def _sym_assign(self, key: Key, value: Any) -> tuple[Any, Undo]:
        d = self.__dict__
        if key not in d or (value is MISSING and key not in self.sym_schema().by_name):
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


__all__ = ["ANY", "Field", "FieldSpec", "Object", "Schema", "field", "make_schema"]
