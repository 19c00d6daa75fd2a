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


def eq(a: Any, b: Any) -> bool:
    """Structural equality of two (symbolic or plain) values."""
    if a is b:
        return True
    ta, tb = type(a), type(b)
    if ta in _SCALARS and tb in _SCALARS:
        return ta is tb and a == b
    if isinstance(a, Symbolic) or isinstance(b, Symbolic):
        if not (isinstance(a, Symbolic) and isinstance(b, Symbolic)):
            # A symbolic container equals the plain container with equal items.
            if isinstance(a, list) and isinstance(b, list) or isinstance(a, dict) and isinstance(b, dict):
                return _eq_plain(a, b)
            return False
        if ta is not tb:
            return False
        if isinstance(a, list):
            if len(a) != len(b):
                return False
            for x, y in zip(list.__iter__(a), list.__iter__(b)):
                if not eq(x, y):
                    return False
            return True
        if isinstance(a, dict):
            if len(a) != len(b):
                return False
            for key, x in dict.items(a):
                y = dict.get(b, key, MISSING)
                if y is MISSING or not eq(x, y):
                    return False
            return True
        for (_, x), (_, y) in zip(a.sym_items(), b.sym_items()):
            if not eq(x, y):
                return False
        return True
    return _eq_plain(a, b)


def _eq_plain(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        if isinstance(a, tuple) != isinstance(b, tuple) or len(a) != len(b):
            return False
        return all(eq(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return False
        return all(eq(a[k], b[k]) for k in a)
    if type(a) in (int, float) and type(b) in (int, float):
        return False  # 1 and 1.0 are different values in a symbolic tree
    try:
        result = a == b
        return bool(result) if result is not NotImplemented else False
    except Exception:  # e.g. arrays whose truth value is ambiguous
        return False


def sym_hash(value: Any) -> int:
    """A structural hash: equal values (``sb.eq``) have equal hashes."""
    t = type(value)
    if t in _SCALARS:
        return hash((t, value))
    if t is float:
        return hash((float, "nan")) if value != value else hash((float, value))
    if isinstance(value, Symbolic):
        if isinstance(value, list):
            return hash((list, tuple(sym_hash(v) for v in list.__iter__(value))))
        if isinstance(value, dict):
            return hash((dict, frozenset((k, sym_hash(v)) for k, v in dict.items(value))))
        return hash((t, tuple(sym_hash(v) for _, v in value.sym_items())))
    if isinstance(value, list):
        return hash((list, tuple(sym_hash(v) for v in value)))
    if isinstance(value, tuple):
        return hash((tuple, tuple(sym_hash(v) for v in value)))
    if isinstance(value, dict):
        return hash((dict, frozenset((k, sym_hash(v)) for k, v in value.items())))
    try:
        return hash(value)
    except TypeError:
        return hash(t.__qualname__)  # unhashable leaves: equal values share the type


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
