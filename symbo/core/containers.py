"""Symbolic containers: ``sb.List`` and ``sb.Dict`` (in ``lists.py`` and ``dicts.py``), with
what they share: the container base, ``sb.Insertion`` and the clone helpers.

They are real ``list``/``dict`` subclasses (fast to read, accepted wherever a list or dict is),
whose edits are validated, keep parent links and key paths right, respect sealing and notify
the tree. Plain lists and dicts given to a symbolic object become these.

>>> import symbo as sb
>>> d = sb.Dict(model=sb.Dict(layers=[64, 32]))
>>> d.model.layers.append(16)
>>> str(d.model.layers[2:] and d.model.layers.sym_path), list(d.model.layers)
('model.layers', [64, 32, 16])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

from symbo.core.keypath import Key, KeyPath
from symbo.core.node import FieldUpdate, Symbolic, Undo, _link
from symbo.core.registry import note_copy

_ATOMIC = (int, float, str, bool, type(None), bytes, complex)
OnChange = Callable[[dict[KeyPath, FieldUpdate]], Any]


@attrs.frozen(slots=True)
class Insertion:
    """A value to insert into a list by ``rebind``, before the item at the given index.

    >>> import symbo as sb
    >>> sb.List([0, 1]).rebind({0: sb.Insertion(2)})
    List([2, 0, 1])
    """

    value: Any


def same_value(old: Any, new: Any) -> bool:
    """Whether setting ``new`` where ``old`` is changes nothing (the same object, or an equal
    number, string or bool of the same type)."""
    if old is new:
        return True
    t = type(old)
    return t is type(new) and t in _ATOMIC and old == new


def _path_of(node: Symbolic, key: Key) -> KeyPath:
    return node.sym_path + key


class _Container(Symbolic):
    """What List and Dict share: structural ``==`` with plain containers of the same kind,
    no hash (they are mutable), ``str`` as ``sb.format``, and ``copy`` as a shallow clone."""

    __slots__ = ()
    _sym_plain: type

    def __eq__(self, other: object) -> bool:
        from symbo.core.compare import eq

        if isinstance(other, self._sym_plain):
            return eq(self, other)
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        r = self.__eq__(other)
        return r if r is NotImplemented else not r

    __hash__ = None  # type: ignore[assignment]

    def __str__(self) -> str:
        from symbo.core.formatting import format as sym_format

        return sym_format(self)

    def copy(self) -> Any:
        return self._sym_clone(False, {})


# ---- helpers ----------------------------------------------------------------------------------
def _no_undo() -> None:
    pass


def _unlink(value: Any) -> None:
    if isinstance(value, Symbolic):
        _link(value, None, None)


def _relink(value: Any, parent: Symbolic, key: Key) -> None:
    if isinstance(value, Symbolic):
        _link(value, parent, key)


def _assign_slot(parent: Symbolic, slots: Any, key: Key, value: Any) -> tuple[Any, Undo]:
    """Sets ``slots[key]`` of a fixed-shape node (a tuple's items, a partial's parts) to
    ``value`` adopted by ``parent``; returns the old value and the undo of the edit."""
    old = slots[key]
    value = parent._sym_adopt(value, key)
    slots[key] = value
    if old is not value:
        _unlink(old)

    def undo() -> None:
        slots[key] = old
        _relink(old, parent, key)
        if value is not old:
            _unlink(value)

    return old, undo


def _detach_for(parent: Symbolic, value: Any) -> Any:
    """Adopts ``value`` with a placeholder key; the caller reindexes afterwards."""
    return parent._sym_adopt(value, -1) if isinstance(value, Symbolic) else value


REPLACE = "__symbo_replace__"  # memo key of clone(..., replace=fn)


def _clone_child(value: Symbolic, deep: bool, memo: dict) -> Any:
    """Clones a symbolic child, or substitutes it when ``clone(..., replace=fn)`` says so."""
    replace = memo.get(REPLACE)
    if replace is not None:
        new = replace(value)
        if new is not value:
            if isinstance(new, Symbolic) and new._sym_parent is not None:
                new = new._sym_clone(deep, memo)
            return new
    return value._sym_clone(deep, memo)


def _copy_leaf(value: Any, deep: bool, memo: dict) -> Any:
    if not deep or _is_immutable(value):
        return value
    import copy

    out = copy.deepcopy(value, memo)
    if out is not value:
        note_copy(out, value)  # written by reference as the original is (a module-level object)
    return out


def _is_immutable(value: Any) -> bool:
    if isinstance(value, (tuple, frozenset)):
        return all(type(v) in _ATOMIC or _is_immutable(v) for v in value)
    return isinstance(value, type) or (callable(value) and hasattr(value, "__code__"))


# The classes, defined in their own modules (which import this one first).
from symbo.core.dicts import Dict, _rebuild_dict  # noqa: E402
from symbo.core.lists import List, _rebuild_list  # noqa: E402

__all__ = ["Dict", "Insertion", "List", "OnChange", "_rebuild_dict", "_rebuild_list",
           "same_value"]
