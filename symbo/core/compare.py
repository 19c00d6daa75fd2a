"""Structural comparison: ``sb.eq``, ``sb.hash`` and ``sb.diff``.

Two symbolic values are equal when they have the same type and equal children; ``hash`` agrees
with ``eq``. A class (symbolic or not) with its own ``sym_eq`` method decides its equality.
``lt``/``gt`` order any two values (PyGlove's symbolic order). (``diff``, in ``diff.py``,
lists the leaves where two trees differ.)

>>> import symbo as sb
>>> a, b = sb.Dict(x=1, y=[1, 2]), sb.Dict(x=1, y=[1, 3])
>>> sb.eq(a, b), sb.hash(a) == sb.hash(sb.clone(a))
(False, True)
"""

from __future__ import annotations

import functools
import math
from typing import Any

from symbo.core.node import MISSING, Symbolic

_SCALARS = (int, str, bool, type(None))
_NUMBERS = (bool, int, float)
#: equal numbers of different types (never ``eq``) sort bool < int < float
_NUMBER_RANK = {bool: 0, int: 1, float: 2}
_NONE = type(None)
_NAN_HASH = hash((float, "nan"))


_CUSTOM_EQ: dict[type, bool] = {}


def _custom_eq(t: type) -> bool:
    """Whether values of class ``t`` define their own ``sym_eq`` (cached per class)."""
    custom = _CUSTOM_EQ.get(t)
    if custom is None:
        method = getattr(t, "sym_eq", None)
        custom = _CUSTOM_EQ[t] = method is not None and callable(method) and \
            method is not Symbolic.sym_eq
    return custom


def eq(a: Any, b: Any) -> bool:
    """Structural equality of two (symbolic or plain) values.

    A value whose class defines ``sym_eq`` (a symbolic class overriding it, or any other class
    with such a method) is compared by it, the left one first.

    >>> import symbo as sb
    >>> class Approx:
    ...     def __init__(self, v): self.v = v
    ...     def sym_eq(self, other): return abs(self.v - other) < 0.1
    >>> sb.eq(sb.Dict(x=Approx(1.0)), sb.Dict(x=1.05))
    True
    """
    if a is b:
        return True
    ta = type(a)
    tb = type(b)
    if ta is not tb:
        if _custom_eq(ta):
            return bool(a.sym_eq(b))
        if _custom_eq(tb):
            return bool(b.sym_eq(a))
    elif ta is int or ta is str or ta is bool or ta is _NONE:
        return a == b
    elif ta is float:
        return a == b or (a != a and b != b)
    elif _custom_eq(ta):
        return bool(a.sym_eq(b))
    return structural_eq(a, b)


def structural_eq(a: Any, b: Any) -> bool:
    """``eq`` without asking ``a`` or ``b`` for their own ``sym_eq`` (what the default
    ``Symbolic.sym_eq`` does; children still use ``eq``)."""
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
        if names is None or getattr(ta, "_sym_dynamic_check", None) is not None:
            ia, ib = dict(a.sym_items()), dict(b.sym_items())
            if ia.keys() != ib.keys():
                return False
            return _eq_seq(ia.values(), ib.values())
        if ta not in _EQ_NAMES and not _custom_eq(ta):
            _EQ_NAMES[ta] = names
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
            names = _EQ_NAMES.get(tx)
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
# Classes whose objects ``_eq_seq`` may compare field by field in place: symbolic classes with a
# fixed set of fields and no ``sym_eq`` of their own.
_EQ_NAMES: dict[type, tuple[str, ...]] = {}


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
    if _custom_eq(type(a)):
        return bool(a.sym_eq(b))
    if _custom_eq(type(b)):
        return bool(b.sym_eq(a))
    if type(a) is functools.partial and type(b) is functools.partial:  # as stored: by parts
        return eq(a.func, b.func) and eq(a.args, b.args) and eq(a.keywords, b.keywords)
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
    if type(a) in _NUMBERS and type(b) in _NUMBERS:
        return False  # 1, 1.0 and True are different values in a symbolic tree
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
        plain = getattr(t, "_sym_plain", None)
        if plain is tuple:  # sb.Tuple: equal to the plain tuple
            return hash((tuple, _hash_seq(v for _, v in value.sym_items())))
        if plain is functools.partial:  # a Partial node: equal to the plain partial
            return hash((functools.partial, sym_hash(value.func), sym_hash(value.args),
                         sym_hash(value.keywords)))
        names = _field_names(t)
        if names is None or getattr(t, "_sym_dynamic_check", None) is not None:
            return hash((t, tuple((k, sym_hash(v)) for k, v in value.sym_items())))
        return _object_hash(value, t, names)
    if isinstance(value, list):
        return hash((list, _hash_seq(value)))
    if isinstance(value, tuple):
        return hash((tuple, _hash_seq(value)))
    if isinstance(value, dict):
        return hash((dict, frozenset((k, sym_hash(v)) for k, v in value.items())))
    if t is functools.partial:
        return hash((functools.partial, sym_hash(value.func), sym_hash(value.args),
                     sym_hash(value.keywords)))
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
        if names is None or getattr(t, "_sym_dynamic_check", None) is not None:
            append(sym_hash(v))
        else:
            append(_object_hash(v, t, names))
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


# ---- symbolic order -------------------------------------------------------------------------
def lt(a: Any, b: Any) -> bool:
    """Whether ``a`` sorts before ``b`` in the symbolic order (PyGlove's ``pg.lt``).

    Values of different kinds sort by kind: MISSING, None, numbers and bools, str, list, tuple,
    set, dict, then other classes by qualified name. Numbers and strings compare as usual
    (equal numbers of different types, which are not ``eq``, sort bool, int, float; NaN after
    every other number);
    lists and dicts (and objects of one class, by their fields) by their first differing item,
    then by length; other values by their ``sym_lt`` method or ``<``.

    >>> import symbo as sb
    >>> sb.lt(None, 1), sb.lt(["a", "b", "c"], ["b"]), sb.lt({"x": 1}, {"y": 1})
    (True, True, True)
    """
    if a is b or a is None or a is MISSING:
        return a is not b and _kind_order(a) < _kind_order(b)
    if type(a) is not type(b):
        ka, kb = _kind_order(a), _kind_order(b)
        if ka != kb:
            return ka < kb
    if isinstance(a, str):
        return a < b
    if isinstance(a, (int, float)):
        if a < b:
            return True
        if a == b:
            return type(a) is not type(b) and \
                _NUMBER_RANK.get(type(a), 3) < _NUMBER_RANK.get(type(b), 3)
        return a == a and b != b  # NaN sorts after every other number
    if isinstance(a, (list, tuple)):
        return _lt_seq(list(a), list(b))
    if isinstance(a, dict):
        return _lt_items(_sorted_items(a.items()), _sorted_items(b.items()))
    method = getattr(a, "sym_lt", None)
    if method is not None and callable(method):
        return bool(method(b))
    return bool(a < b)


def gt(a: Any, b: Any) -> bool:
    """Whether ``a`` sorts after ``b`` in the symbolic order (``lt(b, a)``).

    >>> import symbo as sb
    >>> sb.gt(sb.Dict(a=1), sb.Dict(a=0))
    True
    """
    return lt(b, a)


def structural_lt(a: Any, b: Any) -> bool:
    """The symbolic order of a symbolic value: by kind, then (objects of one class) by their
    fields in order (what the default ``Symbolic.sym_lt`` does)."""
    if type(a) is not type(b):
        ka, kb = _kind_order(a), _kind_order(b)
        if ka != kb:
            return ka < kb
        if not isinstance(b, Symbolic):
            return False
    if isinstance(a, list):
        return _lt_seq(list(list.__iter__(a)), list(b))
    if isinstance(a, dict):
        return _lt_items(_sorted_items(dict.items(a)), _sorted_items(b.items()))
    return _lt_items(list(a.sym_items()), list(b.sym_items()))


def _lt_seq(xs: list, ys: list) -> bool:
    for x, y in zip(xs, ys, strict=False):
        if not eq(x, y):
            return lt(x, y)
    return len(xs) < len(ys)


def _sorted_items(items: Any) -> list:
    """A dict's items by key in the symbolic order: dicts equal whatever their key order
    (``eq``) are never ordered one before the other."""
    return sorted(items, key=_ORDER_KEY)


def _compare_keys(x: tuple, y: tuple) -> int:
    return -1 if lt(x[0], y[0]) else 1 if lt(y[0], x[0]) else 0


_ORDER_KEY = functools.cmp_to_key(_compare_keys)


def _lt_items(xs: list, ys: list) -> bool:
    for (kx, x), (ky, y) in zip(xs, ys, strict=False):
        if kx != ky:
            return lt(kx, ky)
        if not eq(x, y):
            return lt(x, y)
    return len(xs) < len(ys)


def _kind_order(value: Any) -> str:
    if value is MISSING:
        return "0"
    if value is None:
        return "1"
    if isinstance(value, (bool, int, float)):
        return "2"
    if isinstance(value, str):
        return "3"
    if isinstance(value, list):
        return "4"
    if isinstance(value, tuple):
        return "5"
    if isinstance(value, (set, frozenset)):
        return "6"
    if isinstance(value, dict):
        return "7"
    return type(value).__qualname__


def __getattr__(name: str) -> Any:  # ``Diff`` and ``diff`` moved to ``symbo.core.diff``
    if name in ("Diff", "diff"):
        import importlib

        return getattr(importlib.import_module("symbo.core.diff"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
