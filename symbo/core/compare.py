"""Structural comparison: ``sb.eq``, ``sb.hash`` and ``sb.diff``.

Two symbolic values are equal when they have the same type and equal children; ``hash`` agrees
with ``eq``. ``diff`` lists the leaves where two trees differ.

>>> import symbo as sb
>>> a, b = sb.Dict(x=1, y=[1, 2]), sb.Dict(x=1, y=[1, 3])
>>> sb.eq(a, b), sb.hash(a) == sb.hash(sb.clone(a))
(False, True)
>>> sb.diff(a, b)
{KeyPath('y[1]'): Diff(left=2, right=3)}
"""

from __future__ import annotations

import math
from typing import Any

import attrs

from symbo.core.keypath import KeyPath
from symbo.core.node import MISSING, Symbolic

_SCALARS = (int, str, bool, type(None))
_NONE = type(None)
_NAN_HASH = hash((float, "nan"))


def eq(a: Any, b: Any) -> bool:
    """Structural equality of two (symbolic or plain) values."""
    if a is b:
        return True
    ta = type(a)
    if ta is not type(b):
        if isinstance(a, Symbolic) or isinstance(b, Symbolic):
            # A symbolic container equals the plain container with equal items.
            if (isinstance(a, list) and isinstance(b, list)) or \
                    (isinstance(a, dict) and isinstance(b, dict)):
                return _eq_plain(a, b)
            return False
        return _eq_plain(a, b)
    if ta is int or ta is str or ta is bool or ta is _NONE:
        return a == b
    if ta is float:
        return a == b or (a != a and b != b)
    if isinstance(a, Symbolic):
        if isinstance(a, list):
            if len(a) != len(b):
                return False
            return _eq_seq(list.__iter__(a), list.__iter__(b))
        if isinstance(a, dict):
            if len(a) != len(b):
                return False
            for key, x in dict.items(a):
                y = dict.get(b, key, MISSING)
                if y is MISSING:
                    return False
                if x is not y and not eq(x, y):
                    return False
            return True
        names = _field_names(ta)
        if names is None:
            return _eq_seq((v for _, v in a.sym_items()), (v for _, v in b.sym_items()))
        da, db = a.__dict__, b.__dict__
        return _eq_seq([da[n] for n in names], [db[n] for n in names])
    return _eq_plain(a, b)


def _eq_seq(xs: Any, ys: Any) -> bool:
    for x, y in zip(xs, ys, strict=False):
        if x is y:
            continue
        tx = type(x)
        if tx is not type(y):
            if not eq(x, y):
                return False
        elif tx is int or tx is str or tx is bool:
            if x != y:
                return False
        else:
            names = _NAMES.get(tx)
            if names is None:
                if not eq(x, y):
                    return False
                continue
            # Two objects of the same symbolic class: compare fields in place.
            dx, dy = x.__dict__, y.__dict__
            for n in names:
                u = dx[n]
                v = dy[n]
                if u is v:
                    continue
                tu = type(u)
                if tu is type(v) and (tu is int or tu is str or tu is bool):
                    if u != v:
                        return False
                elif not eq(u, v):
                    return False
    return True


_NAMES: dict[type, tuple[str, ...]] = {}


def _field_names(cls: type) -> tuple[str, ...] | None:
    """The field names of a symbolic class (cached), or None for other node types."""
    names = _NAMES.get(cls)
    if names is None:
        resolve = getattr(cls, "sym_schema", None)
        if resolve is None:
            return None
        names = _NAMES[cls] = resolve().names
    return names


def _eq_plain(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        if isinstance(a, tuple) != isinstance(b, tuple) or len(a) != len(b):
            return False
        return all(eq(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return False
        return all(eq(a[k], b[k]) for k in a)
    if type(a) in (int, float) and type(b) in (int, float):
        return False  # 1 and 1.0 are different values in a symbolic tree
    if type(a) in _SCALARS and type(b) in _SCALARS:
        return False  # e.g. True and 1
    try:
        result = a == b
        return bool(result) if result is not NotImplemented else False
    except Exception:  # e.g. arrays whose truth value is ambiguous
        return False


def sym_hash(value: Any) -> int:
    """A structural hash: equal values (``sb.eq``) have equal hashes."""
    t = type(value)
    if t is int or t is str or t is bool or t is _NONE:
        return hash(value)
    if t is float:
        return _NAN_HASH if value != value else hash(value)
    if isinstance(value, Symbolic):
        if isinstance(value, list):
            return hash((list, _hash_seq(list.__iter__(value))))
        if isinstance(value, dict):
            return hash((dict, frozenset((k, sym_hash(v)) for k, v in dict.items(value))))
        names = _field_names(t)
        if names is None:
            return hash((t, _hash_seq(v for _, v in value.sym_items())))
        return _object_hash(value, t, names)
    if isinstance(value, list):
        return hash((list, _hash_seq(value)))
    if isinstance(value, tuple):
        return hash((tuple, _hash_seq(value)))
    if isinstance(value, dict):
        return hash((dict, frozenset((k, sym_hash(v)) for k, v in value.items())))
    try:
        return hash(value)
    except TypeError:
        return hash(t.__qualname__)  # unhashable leaves: equal values share the type


def _hash_seq(values: Any) -> tuple:
    out = []
    append = out.append
    for v in values:
        t = type(v)
        if t is int or t is str or t is bool or t is _NONE:
            append(v)
            continue
        names = _NAMES.get(t)
        append(sym_hash(v) if names is None else _object_hash(v, t, names))
    return tuple(out)


def _object_hash(value: Any, t: type, names: tuple[str, ...]) -> int:
    """The hash of an object of a symbolic class (the only place it is computed)."""
    d = value.__dict__
    fields: list[Any] = [t]
    append = fields.append
    for n in names:
        u = d[n]
        tu = type(u)
        append(u if tu is int or tu is str or tu is bool or tu is _NONE else sym_hash(u))
    return hash(tuple(fields))


@attrs.frozen(slots=True)
class Diff:
    """A difference at one key path: the value on the left and on the right (or MISSING)."""

    left: Any
    right: Any

    def __repr__(self) -> str:
        return f"Diff(left={self.left!r}, right={self.right!r})"


def diff(a: Any, b: Any) -> dict[KeyPath, Diff]:
    """The key paths where ``a`` and ``b`` differ, deepest first reported where types agree.

    Children of objects of the same type are compared one by one; values of different types
    are reported whole. Keys present on one side only appear with ``MISSING`` on the other.
    """
    out: dict[KeyPath, Diff] = {}
    _diff(a, b, KeyPath(), out)
    return out


def _children(value: Any) -> dict | None:
    if isinstance(value, Symbolic):
        return dict(value.sym_items())
    return None


def _diff(a: Any, b: Any, path: KeyPath, out: dict[KeyPath, Diff]) -> None:
    if eq(a, b):
        return
    if type(a) is type(b) and isinstance(a, Symbolic):
        ca, cb = _children(a), _children(b)
        assert ca is not None and cb is not None
        for key in list(ca) + [k for k in cb if k not in ca]:
            _diff(ca.get(key, MISSING), cb.get(key, MISSING), path + key, out)
        return
    out[path] = Diff(a, b)
