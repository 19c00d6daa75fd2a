"""JSON for symbolic values: ``sb.to_json``, ``sb.from_json``, ``sb.save``, ``sb.load``.

Objects are written as ``{"_type": "<registered name>", field: value, ...}``. Functions, classes
and module-level objects are written by reference, ``{"_ref": "module.qualname"}`` (their
registered name, else the module and qualified name that define them; see
``symbo.core.registry``), and ``functools.partial`` objects as their function and arguments.
Loading resolves ``_type`` only through the registry of symbolic classes and ``_ref`` only to
registered values or values of modules this process already imported: it never imports a
module, evaluates text or unpickles, and it never modifies its input. A value that has no
reference (a lambda, a local function, an object built at run time) is an error naming its
path and the fix.

>>> import symbo as sb
>>> class Unit(sb.Object):
...     width: int = 8
>>> data = sb.to_json(sb.Dict(u=Unit(16), sizes=(1, 2)))
>>> data["u"]["width"], sb.eq(sb.from_json(data), sb.Dict(u=Unit(16), sizes=(1, 2)))
(16, True)
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import tempfile
from typing import Any

from symbo.core import registry
from symbo.core.containers import Dict, List
from symbo.core.errors import SerializationError, SymbolicError, at
from symbo.core.keypath import KeyPath
from symbo.core.node import MISSING, Symbolic
from symbo.core.partials import Partial
from symbo.core.tuples import Tuple, as_tuple_node, as_value_node

TYPE_KEY = "_type"
REF_KEY = "_ref"
_TUPLE = "tuple"
_PARTIAL = "partial"
_MISSING = "MISSING"
_RESERVED = (TYPE_KEY, REF_KEY)


def to_json(value: Any, *, hide_default_values: bool = False) -> Any:
    """A JSON-compatible structure (dicts, lists, str, numbers, bool, None) for ``value``.

    ``hide_default_values=True`` leaves out the fields of objects that hold their default
    (loading fills them in again). Frozen fields are never written.

    >>> import symbo as sb
    >>> class Unit(sb.Object):
    ...     width: int = 8
    ...     act: str = "relu"
    >>> sb.to_json(Unit(16), hide_default_values=True)["width"], "act" in sb.to_json(
    ...     Unit(16), hide_default_values=True)
    (16, False)
    """
    try:
        return _to(value, hide_default_values)
    except _PathError as e:
        raise e.to_error() from None


def to_json_str(value: Any, *, hide_default_values: bool = False, **json_kwargs: Any) -> str:
    """``json.dumps(to_json(value))``; other keyword arguments go to ``json.dumps``."""
    return json.dumps(to_json(value, hide_default_values=hide_default_values), **json_kwargs)


class _PathError(Exception):
    """An error deep inside a value; keys are collected (reversed) on the way out."""

    def __init__(self, message: str, cls: type[SymbolicError] = SerializationError) -> None:
        super().__init__(message)
        self.message = message
        self.cls = cls
        self.keys: list[Any] = []

    def to_error(self) -> SymbolicError:
        path = KeyPath._from_keys(tuple(reversed(self.keys)))
        return self.cls(at(path, self.message))


def _to(value: Any, hide: bool = False) -> Any:
    t = type(value)
    if t is int or t is str or t is float or t is bool or value is None:
        return value
    if isinstance(value, Symbolic):
        key: Any = None
        try:
            if isinstance(value, list):
                out_list = []
                for key, v in enumerate(list.__iter__(value)):  # noqa: B007 - read on error
                    tv = type(v)
                    out_list.append(v if tv is int or tv is str or tv is float or tv is bool
                                    or v is None else _to(v, hide))
                return out_list
            if isinstance(value, dict):
                out = {}
                unknown = type(value) is UnknownObject
                for key, v in dict.items(value):
                    if key in _RESERVED and not unknown:
                        raise _PathError(f"the dict key {key!r} is reserved for JSON")
                    out[key] = _to(v, hide)
                return out
            cls = type(value)
            if cls is Partial:
                return _partial_to_json(value.to_plain())
            if cls is Tuple:
                items = []
                for key, v in value.sym_items():  # noqa: B007 - read on error
                    items.append(_to(v, hide))
                return {TYPE_KEY: _TUPLE, "items": items}
            out = {TYPE_KEY: cls._sym_type_name}  # type: ignore[attr-defined]
            names = _FAST.get(cls, _UNSET)
            if names is _UNSET:
                names = _fast_names(cls)
            if names is not None and not hide:  # plain fields: read them in place
                d = value.__dict__
                for key in names:
                    v = d[key]
                    tv = type(v)
                    out[key] = v if tv is int or tv is str or tv is float or tv is bool or \
                        v is None else _to(v, hide)
                return out
            for key, v in value._sym_json_items(hide):  # type: ignore[attr-defined]
                tv = type(v)
                out[key] = v if tv is int or tv is str or tv is float or tv is bool or v is None \
                    else _to(v, hide)
            return out
        except _PathError as e:
            if key is not None:
                e.keys.append(key)
            raise
    if value is MISSING:
        return {TYPE_KEY: _MISSING}
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    if t is tuple or t is list:
        items = []
        for i, v in enumerate(value):
            try:
                items.append(_to(v, hide))
            except _PathError as e:
                e.keys.append(i)
                raise
        return {TYPE_KEY: _TUPLE, "items": items} if t is tuple else items
    if t is dict:
        return _to(Dict(value), hide)
    name = registry.reference_name(value)
    if name is not None:
        return {REF_KEY: name}
    if type(value) is functools.partial:
        return _partial_to_json(value)
    raise _PathError(_no_reference(value))


def _partial_to_json(value: functools.partial) -> Any:
    out: dict[str, Any] = {TYPE_KEY: _PARTIAL}
    key: Any = "func"
    try:
        out["func"] = _to(value.func)
        args = []
        for i, v in enumerate(value.args):
            key = ("args", i)
            args.append(_to(v))
        out["args"] = args
        keywords = {}
        for k, v in value.keywords.items():
            key = ("keywords", k)
            keywords[k] = _to(v)
        out["keywords"] = keywords
    except _PathError as e:
        e.keys.extend(reversed(key) if isinstance(key, tuple) else [key])
        raise
    return out


def _no_reference(value: Any) -> str:
    """Why ``value`` cannot be written, and what to do instead."""
    text = f"{value!r:.60}"
    if isinstance(value, type) or callable(value) and hasattr(value, "__qualname__"):
        kind = "class" if isinstance(value, type) else "function"
        qualname = getattr(value, "__qualname__", "")
        if "<lambda>" in qualname or "<locals>" in qualname:
            return (f"cannot write a {kind} ({text}) as JSON: a lambda or a definition inside a "
                    "function has no name another process can find; define it at module "
                    "level, or register it with sb.register(value, 'a.name')")
        return (f"cannot write a {kind} ({text}) as JSON: it is not found under its module and "
                "name; register it with sb.register(value, 'a.name')")
    return (f"cannot write a {type(value).__name__} object ({text}) as JSON: an object built at "
            "run time has no name; use a symbolic recipe instead (sb.symbolize(cls)(...), e.g. "
            "sbt.nn.Linear(4, 8)), or register the object with sb.register(value, 'a.name')")


class UnknownObject(Dict):
    """What ``from_json(..., convert_unknown=True)`` makes of an object whose ``_type`` (or a
    reference whose ``_ref``) is not registered: a dict of its JSON fields, ``_type`` included
    (also ``type_name``), that is written back as the same JSON.

    >>> import symbo as sb
    >>> x = sb.from_json({"_type": "elsewhere.Model", "depth": 2}, convert_unknown=True)
    >>> x["depth"], x.type_name, sb.to_json(x)
    (2, 'elsewhere.Model', {'_type': 'elsewhere.Model', 'depth': 2})
    """

    __slots__ = ()

    @property
    def type_name(self) -> str:
        """The registry name the JSON gave (``_type``, or ``_ref`` for a reference)."""
        return dict.get(self, TYPE_KEY) or dict.get(self, REF_KEY)


_FAST: dict[type, tuple[str, ...] | None] = {}
_UNSET: Any = object()


def _fast_names(cls: type) -> tuple[str, ...] | None:
    """The field names ``to_json`` may write straight from an object's ``__dict__`` (a class
    with no frozen or dynamic fields and no JSON hook of its own), or None."""
    from symbo.core.object import Object

    names = None
    if isinstance(cls, type) and issubclass(cls, Object) and \
            cls._sym_json_items is Object._sym_json_items and cls.sym_items is Object.sym_items:
        schema = cls.sym_schema()
        if not schema.has_frozen and schema.dynamic is None:
            names = schema.names
    _FAST[cls] = names
    return names


def from_json(data: Any, *, convert_unknown: bool = False) -> Any:
    """Symbolic values from a JSON structure; the inverse of ``to_json``.

    A ``str`` is a JSON string value here (``from_json("a") == "a"``); for JSON text use
    :func:`from_json_str`. An unregistered ``_type`` is an error naming the module to import;
    with ``convert_unknown=True`` such objects (and unknown ``_ref`` references) become plain
    dicts of their JSON fields instead (:class:`UnknownObject`), never imported.
    """
    try:
        return _from(data, convert_unknown)
    except _PathError as e:
        raise e.to_error() from None


def from_json_str(text: str | bytes, *, convert_unknown: bool = False) -> Any:
    """Symbolic values from JSON text; the inverse of :func:`to_json_str`.

    >>> import symbo as sb
    >>> sb.from_json_str(sb.to_json_str(sb.Dict(a=[1, 2])))
    Dict({'a': List([1, 2])})
    """
    if not isinstance(text, (str, bytes)):
        raise SerializationError(f"from_json_str needs JSON text, got {type(text).__name__}")
    return from_json(_loads(text, "<string>"), convert_unknown=convert_unknown)


def _loads(text: str | bytes, source: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise SerializationError(
            f"{source}:{e.lineno}:{e.colno}: malformed JSON: {e.msg}"
        ) from None


def _from(data: Any, unknown: bool = False) -> Any:
    t = type(data)
    if t is int or t is str or t is float or t is bool or data is None:
        return data
    key: Any = None
    try:
        if t is list:
            items = []
            for key, v in enumerate(data):  # noqa: B007 - read on error
                tv = type(v)
                items.append(v if tv is int or tv is str or tv is float or tv is bool
                             or v is None else _from(v, unknown))
            return List(items)
        if t is not dict:
            raise _PathError(f"unexpected {t.__name__} in JSON data")
        type_name = data.get(TYPE_KEY)
        if type_name is None:
            if REF_KEY in data:
                if len(data) != 1 or not isinstance(data[REF_KEY], str):
                    raise _PathError("a reference is written {'_ref': 'name'}")
                try:
                    return registry.lookup(data[REF_KEY])
                except SerializationError as e:
                    if unknown:
                        return UnknownObject(data)
                    raise _PathError(str(e)) from None
            out = {}
            for key, v in data.items():
                if type(key) is not str:
                    raise _PathError(f"JSON object keys must be str, got {key!r}")
                out[key] = _from(v, unknown)
            return Dict(out)
        if type_name.__class__ is not str:
            raise _PathError(f"'_type' must be a string, got {type_name!r}")
        if type_name == _TUPLE:
            items = data.get("items")
            if not isinstance(items, list) or len(data) != 2:
                raise _PathError("a tuple is written {'_type': 'tuple', 'items': [...]}")
            tup = []
            for key, v in enumerate(items):  # noqa: B007 - read on error
                tup.append(_from(v, unknown))
            return as_tuple_node(tuple(tup))  # an sb.Tuple when a marker is inside
        if type_name == _MISSING:
            return MISSING
        if type_name == _PARTIAL:
            return as_value_node(_partial_from_json(data, unknown))
        if unknown and not _known(type_name):
            fields = {}
            for key, v in data.items():
                if type(key) is not str:
                    raise _PathError(f"JSON object keys must be str, got {key!r}")
                fields[key] = _from(v, unknown)
            key = None
            return UnknownObject(fields)
        cls = _symbolic_class(type_name)
        kwargs = {}
        partial = False
        for key, v in data.items():
            if key == TYPE_KEY:
                continue
            if type(key) is not str:
                raise _PathError(f"JSON object keys must be str, got {key!r}")
            tv = type(v)
            if tv is int or tv is str or tv is float or tv is bool or v is None:
                kwargs[key] = v
            else:
                v = kwargs[key] = _from(v, unknown)
                if v is MISSING:
                    partial = True
        key = None
        try:
            return cls.partial(**kwargs) if partial else cls(**kwargs)
        except SymbolicError as e:  # report it at its full path, not "outer: inner: ..."
            error = _PathError(str(e) if e.reason is None else e.reason, type(e))
            if e.reason is not None:
                error.keys.extend(reversed(KeyPath.parse(e.path).keys))
            raise error from None
    except _PathError as e:
        if key is not None:
            e.keys.append(key)
        raise


def _known(type_name: str) -> bool:
    if type_name in registry._BY_NAME:
        return True
    try:
        registry.lookup(type_name, loaded=False)  # registered resolvers may generate it
    except SerializationError:
        return False
    return True


def _partial_from_json(data: dict, unknown: bool = False) -> functools.partial:
    args, keywords = data.get("args", []), data.get("keywords", {})
    if set(data) - {TYPE_KEY, "func", "args", "keywords"} or not isinstance(args, list) or \
            not isinstance(keywords, dict) or "func" not in data:
        raise _PathError("a partial is written {'_type': 'partial', 'func': ..., 'args': [...], "
                         "'keywords': {...}}")
    key: Any = "func"
    try:
        func = _from(data["func"], unknown)
        if not callable(func):
            raise _PathError(f"a partial's func must be callable, got {type(func).__name__}")
        values = []
        for i, v in enumerate(args):
            key = ("args", i)
            values.append(_from(v, unknown))
        named = {}
        for k, v in keywords.items():
            key = ("keywords", k)
            named[k] = _from(v, unknown)
    except _PathError as e:
        e.keys.extend(reversed(key) if isinstance(key, tuple) else [key])
        raise
    return functools.partial(func, *values, **named)


def _is_symbolic_class(cls: Any) -> bool:
    return isinstance(cls, type) and issubclass(cls, Symbolic) and hasattr(cls, "_sym_type_name")


def _symbolic_class(type_name: str) -> Any:
    cls = registry._BY_NAME.get(type_name)
    if cls is None:
        try:
            cls = registry.lookup(type_name, loaded=False)  # registered resolvers may generate it
        except SerializationError as e:
            raise _PathError(str(e)) from None
    if _is_symbolic_class(cls):
        return cls
    raise _PathError(f"{type_name!r} is not a symbolic class")


def save(value: Any, path: str | os.PathLike, *, indent: int | None = 2) -> None:
    """Writes ``value`` as JSON to a file (atomically: a temporary file of its own, then a
    rename, so that concurrent saves to one path never mix or fail)."""
    text = json.dumps(to_json(value), indent=indent)
    folder, name = os.path.split(os.path.abspath(os.fspath(path)))
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o666 & ~_umask())  # as open() would have made it (mkstemp: 0o600)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _umask() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return 0o022


def load(path: str | os.PathLike, *, convert_unknown: bool = False) -> Any:
    """Reads symbolic values written by :func:`save` (``convert_unknown`` as in
    :func:`from_json`)."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    return from_json(_loads(text, os.fspath(path)), convert_unknown=convert_unknown)
