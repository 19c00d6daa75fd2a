"""``sb.Tuple``: a tuple inside a symbolic tree whose items are tree children.

A plain tuple is a value: nothing inside it is visited. A tuple that holds a marker (anywhere
inside it) becomes an ``sb.Tuple`` when it is given to a symbolic object, so that the marker is
a decision like any other, with a key path (``betas[0]``); materializing the space gives the
plain tuple back, e.g. ``AdamW(betas=(sb.float_range(0.8, 0.95, name="b1"), 0.999))`` becomes
``AdamW(betas=(0.9, 0.999))``. A typed field (``tuple[float, float]``, ``tuple[int, ...]``)
checks each item, markers included (every value a marker may become must fit). Tuples without
markers stay plain tuples. An ``sb.Tuple`` has the length it was made with: items can be
rebound, not added or removed.

>>> import symbo as sb
>>> class Opt(sb.Object):
...     betas: tuple[float, float] = (0.9, 0.999)
>>> space = Opt(betas=(sb.float_range(0.8, 0.95, name="b1"), 0.999))
>>> space.betas, str(space.betas[0].sym_path)
(Tuple((float_range(0.8, 0.95, name='b1'), 0.999)), 'betas[0]')
>>> sb.materialize(space, sb.DNA.from_params(sb.dna_spec(space), {"b1": 0.9})).betas
(0.9, 0.999)
>>> Opt(betas=(sb.one_of(["a", 0.5]), 0.999))
Traceback (most recent call last):
...
symbo.core.errors.SymbolicTypeError: betas[0]: expected float, got str 'a'
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any

from symbo.core.containers import (
    _ATOMIC,
    _assign_slot,
    _clone_child,
    _Container,
    _copy_leaf,
)
from symbo.core.errors import SymbolicKeyError, SymbolicTypeError, at
from symbo.core.keypath import Key, KeyPath
from symbo.core.node import MISSING, DeferredValue, Symbolic, Undo, _link

ItemCheck = Callable[[int], Any]  # index -> the Check of that item (or None)


def holds_deferred(value: Any) -> bool:
    """Whether a marker (a ``DeferredValue``) stands anywhere inside ``value``."""
    if isinstance(value, DeferredValue):
        return True
    if isinstance(value, Symbolic):
        return any(holds_deferred(v) for v in value.sym_values())
    t = type(value)
    if t is tuple or t is list:
        return any(holds_deferred(v) for v in value)
    if t is dict:
        return any(holds_deferred(v) for v in value.values())
    if t is functools.partial:
        return holds_deferred(value.func) or holds_deferred(value.args) or \
            holds_deferred(value.keywords)
    return False


class Tuple(_Container):
    """A tuple of tree children (see the module docstring). Equal to the plain tuple of equal
    items; ``to_tuple()`` gives that plain tuple."""

    __slots__ = ("_sym_parent", "_sym_key", "_sym_sealed", "_sym_values", "_sym_item_check")
    _sym_plain = tuple

    def __init__(self, items: Any = (), *, item_check: ItemCheck | None = None) -> None:
        self._sym_parent = None
        self._sym_key = None
        self._sym_sealed = False
        self._sym_item_check = item_check
        self._sym_values: list[Any] = []
        self._sym_fill(list(items))

    def _sym_fill(self, items: list[Any]) -> None:
        from symbo.core.validation import CheckFailure, check_value

        out: list[Any] = []
        try:
            for i, item in enumerate(items):
                check = self._sym_item_check(i) if self._sym_item_check else None
                if check is not None:
                    try:
                        item = check(item)
                    except CheckFailure as e:
                        e.keys.append(i)
                        raise
                else:
                    item = check_value(None, item, KeyPath._from_keys((i,)))
                if isinstance(item, Symbolic):
                    item = self._sym_adopt(item, i)
                out.append(item)
        except BaseException:
            for item in out:
                if isinstance(item, Symbolic) and item._sym_parent is self:
                    _link(item, None, None)
            raise
        self._sym_values = out

    # ---- tree protocol -------------------------------------------------------------------
    def sym_items(self) -> Iterator[tuple[Key, Any]]:
        return enumerate(self._sym_values)

    def _sym_child(self, key: Key) -> Any:
        n = len(self._sym_values)
        if type(key) is int and -n <= key < n:
            return self._sym_values[key]
        raise SymbolicKeyError(at(self.sym_path, f"no index {key!r} in a tuple of {n}"))

    def _sym_check(self, key: Key, value: Any) -> Any:
        from symbo.core.validation import CheckFailure, check_value

        if type(key) is not int or not 0 <= key < len(self._sym_values):
            raise SymbolicKeyError(
                at(self.sym_path, f"no index {key!r} in a tuple of {len(self._sym_values)}"))
        if value is MISSING:
            raise SymbolicTypeError(at(self.sym_path + key, "a tuple's items cannot be deleted"))
        check = self._sym_item_check(key) if self._sym_item_check else None
        if check is None:
            return check_value(None, value, self.sym_path + key)
        try:
            return check(value)
        except CheckFailure as e:
            raise e.to_error(self.sym_path + key) from None

    def _sym_assign(self, key: Key, value: Any) -> tuple[Any, Undo]:
        return _assign_slot(self, self._sym_values, key, value)

    def _sym_clone(self, deep: bool, memo: dict) -> Tuple:
        out = Tuple.__new__(Tuple)
        out._sym_parent = None
        out._sym_key = None
        out._sym_sealed = self._sym_sealed
        out._sym_item_check = self._sym_item_check
        values = []
        for i, item in enumerate(self._sym_values):
            if type(item) in _ATOMIC:
                values.append(item)
            elif isinstance(item, Symbolic):
                c = _clone_child(item, deep, memo)
                if isinstance(c, Symbolic):
                    _link(c, out, i)
                values.append(c)
            else:
                values.append(_copy_leaf(item, deep, memo))
        out._sym_values = values
        return out

    # ---- the tuple API -------------------------------------------------------------------
    def to_tuple(self) -> tuple:
        """The plain tuple of the items."""
        return tuple(self._sym_values)

    to_plain = to_tuple

    def __len__(self) -> int:
        return len(self._sym_values)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._sym_values)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return tuple(self._sym_values[index])
        return self._sym_values[index]

    def __contains__(self, value: object) -> bool:
        return value in self._sym_values

    def index(self, value: Any) -> int:
        return self._sym_values.index(value)

    def count(self, value: Any) -> int:
        return self._sym_values.count(value)

    def sym_eq(self, other: Any) -> bool:
        """Equal to an ``sb.Tuple`` or a plain tuple of equal items."""
        from symbo.core.compare import eq

        if not isinstance(other, (tuple, Tuple)) or len(other) != len(self):
            return False
        return all(eq(x, y) for x, y in zip(self._sym_values, other))

    def sym_format(self, fmt: Callable[[Any], str]) -> str:
        """``(a, b)``, and ``(a,)`` for one item, as Python writes tuples."""
        items = [fmt(v) for v in self._sym_values]
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"

    def __repr__(self) -> str:
        return f"Tuple({tuple(self._sym_values)!r})"

    def __reduce__(self) -> Any:
        return (_rebuild_tuple, (list(self._sym_values), self._sym_sealed))


def _rebuild_tuple(items: list, sealed: bool = False) -> Tuple:
    out = Tuple(items)
    out._sym_sealed = sealed
    return out


def as_tuple_node(value: tuple, item_check: ItemCheck | None = None) -> Any:
    """``value`` as an ``sb.Tuple`` when a marker stands inside it, else as it is."""
    if not holds_deferred(value):
        return value
    return Tuple(value, item_check=item_check)


VALUE_TYPES = (tuple, functools.partial)  # values that become nodes when markers are inside


def as_value_node(value: Any) -> Any:
    """A tuple or ``functools.partial`` holding a marker as its tree node (``sb.Tuple``,
    ``Partial``); anything else as it is."""
    if not holds_deferred(value):
        return value
    if type(value) is tuple:
        return Tuple(value)
    if type(value) is functools.partial:
        from symbo.core.partials import Partial

        return Partial.of(value)
    return value
