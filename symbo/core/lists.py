"""``sb.List``: a ``list`` whose elements are tree children.

Edits are validated, keep parent links and key paths right, respect sealing and notify the
tree. (Import it from ``symbo.core.containers``, which loads this module.)

>>> import symbo as sb
>>> xs = sb.List([1, [2]])
>>> xs.append(3)
>>> str(xs[1].sym_path), xs
('[1]', List([1, List([2]), 3]))
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, SupportsIndex

from symbo.core import containers as _c
from symbo.core.containers import (
    _ATOMIC,
    Insertion,
    OnChange,
    _clone_child,
    _Container,
    _copy_leaf,
    _detach_for,
    _no_undo,
    _path_of,
    _relink,
    _unlink,
    same_value,
)
from symbo.core.errors import SymbolicKeyError, SymbolicTypeError, at
from symbo.core.keypath import Key, KeyPath
from symbo.core.node import MISSING, FieldUpdate, Symbolic, Undo, _link, notify_or_undo
from symbo.core.tuples import VALUE_TYPES, as_value_node
from symbo.core.validation import Check, CheckFailure


class List(_Container, list):
    """A symbolic list: a ``list`` whose elements are tree children.

    >>> import symbo as sb
    >>> xs = sb.List([1, 2, 3])
    >>> xs.rebind({"[1]": 20})
    List([1, 20, 3])
    """

    __slots__ = ("_sym_parent", "_sym_key", "_sym_sealed", "_sym_element", "_sym_onchange")
    _sym_plain = list

    def __init__(self, items: Iterable[Any] = (), *, element: Check | None = None,
                 sealed: bool = False, onchange_callback: OnChange | None = None) -> None:
        """``sealed=True`` makes the list (and what it holds) refuse edits;
        ``onchange_callback(updates)`` is called after each edit at or below it."""
        list.__init__(self)
        self._sym_parent = None
        self._sym_key = None
        self._sym_sealed = False
        self._sym_element = element
        self._sym_onchange = onchange_callback
        self._sym_fill(items)
        if sealed:
            self.seal()

    def _sym_fill(self, items: Iterable[Any]) -> None:
        """Fills this (empty) list; on an error it is left empty and the items left free."""
        check = self._sym_element
        append = list.append
        try:
            for i, item in enumerate(items):
                if check is not None:
                    try:
                        item = check(item)
                    except CheckFailure as e:
                        e.keys.append(i)
                        raise
                else:
                    t = type(item)
                    if t is list:
                        item = List(item)
                    elif t is dict:
                        item = _c.Dict(item)
                    elif t in VALUE_TYPES:
                        item = as_value_node(item)
                if isinstance(item, Symbolic):
                    item = self._sym_adopt(item, i)
                append(self, item)
        except BaseException:
            for item in list.__iter__(self):
                if isinstance(item, Symbolic) and item._sym_parent is self:
                    _link(item, None, None)
            list.clear(self)
            raise

    @classmethod
    def _checked(cls, value: Any, element: Check | None) -> List:
        """Converts a list/tuple for a ``list[T]`` field (raising CheckFailure inside)."""
        if type(value) is cls and value._sym_parent is None:
            if value._sym_element is element:
                return value
            items = list(value)
            old_element = value._sym_element
            list.clear(value)
            value._sym_element = element
            try:
                value._sym_fill(items)
            except BaseException:  # leave the given list as it was
                list.extend(value, items)
                value._sym_element = old_element
                value._sym_reindex()
                raise
            for old, new in zip(items, list.__iter__(value), strict=True):
                if old is not new and isinstance(old, Symbolic) and old._sym_parent is value:
                    _link(old, None, None)  # replaced by its converted copy
            return value
        out = cls.__new__(cls)
        list.__init__(out)
        out._sym_parent = None
        out._sym_key = None
        out._sym_sealed = False
        out._sym_element = element
        out._sym_onchange = None
        out._sym_fill(value)
        return out

    # ---- tree protocol -------------------------------------------------------------------
    def sym_items(self) -> Iterator[tuple[Key, Any]]:
        return enumerate(list.__iter__(self))

    def _sym_child(self, key: Key) -> Any:
        if type(key) is int and -len(self) <= key < len(self):
            return list.__getitem__(self, key)
        raise SymbolicKeyError(at(self.sym_path, f"no index {key!r} in a list of {len(self)}"))

    def _sym_check(self, key: Key, value: Any) -> Any:
        check = self._sym_element
        try:
            if check is not None:
                return check(value)
            t = type(value)
            if t is list:
                return List(value)
            if t is dict:
                return _c.Dict(value)
            if t in VALUE_TYPES:
                return as_value_node(value)
            return value
        except CheckFailure as e:
            raise e.to_error(_path_of(self, key)) from None

    def _sym_assign(self, key: Key, value: Any) -> tuple[Any, Undo]:
        if type(key) is not int:
            raise SymbolicKeyError(at(self.sym_path, f"list index must be int, got {key!r}"))
        n = len(self)
        if key < 0:
            key += n
        if key == n or value is MISSING:
            if value is MISSING:  # delete
                if not 0 <= key < n:
                    raise SymbolicKeyError(at(self.sym_path, f"no index {key} to delete"))
                old = list.pop(self, key)
                self._sym_reindex(key)
                _unlink(old)

                def undo_delete() -> None:
                    list.insert(self, key, old)
                    _relink(old, self, key)
                    self._sym_reindex(key)

                return old, undo_delete
            value = self._sym_adopt(value, key)
            list.append(self, value)

            def undo_append() -> None:
                list.pop(self)
                _unlink(value)

            return MISSING, undo_append
        if not 0 <= key < n:
            raise SymbolicKeyError(at(self.sym_path, f"no index {key} in a list of {n}"))
        old = list.__getitem__(self, key)
        value = self._sym_adopt(value, key)
        list.__setitem__(self, key, value)
        if old is not value:
            _unlink(old)

        def undo_set() -> None:
            list.__setitem__(self, key, old)
            _relink(old, self, key)
            if value is not old:
                _unlink(value)

        return old, undo_set

    def _sym_edit_indices(self, edits: list[tuple[Key, Any, KeyPath]]
                          ) -> tuple[list[FieldUpdate], Undo]:
        """Applies a rebind's edits of this list together, each index meaning the item at that
        index *before* the edit: set, delete (MISSING), insert before (``Insertion``) and
        append (the indices ``len``, ``len + 1``, ...). Returns (updates, undo)."""
        n = len(self)
        sets: dict[int, Any] = {}
        deletes: set[int] = set()
        inserts: dict[int, list[Any]] = {}
        appends: dict[int, tuple[Any, KeyPath]] = {}
        tail: list[Any] = []  # insertions at or after the end

        def fail(path: KeyPath, reason: str) -> SymbolicKeyError:
            return SymbolicKeyError(at(self.sym_path, f"unknown key path {str(path)!r}: {reason}"))

        for key, value, path in edits:
            if type(key) is not int:
                raise fail(path, f"list index must be int, got {key!r}")
            i = key + n if key < 0 else key
            if i < 0:
                raise fail(path, f"no index {key} in a list of {n}")
            if isinstance(value, Insertion):
                value = self._sym_check(min(i, n), value.value)
                if i >= n:
                    tail.append(value)
                else:
                    inserts.setdefault(i, []).append(value)
            elif value is MISSING:
                if i >= n:
                    raise fail(path, f"no index {key} to delete in a list of {n}")
                deletes.add(i)
                sets.pop(i, None)
            elif i >= n:
                appends[i] = (self._sym_check(i, value), path)
            else:
                value = self._sym_check(i, value)
                if i not in deletes and not same_value(list.__getitem__(self, i), value):
                    sets[i] = value
        for i in sorted(appends):
            if i != n + sorted(appends).index(i):
                raise fail(appends[i][1], f"no index {i} in a list of {n}")
        if not (sets or deletes or inserts or appends or tail):
            return [], _no_undo
        before = list(list.__iter__(self))
        after: list[Any] = []
        added: list[Any] = []
        updates: list[FieldUpdate] = []

        def adopt(value: Any, key: int) -> Any:
            value = self._sym_adopt(value, -1 - len(added)) if isinstance(value, Symbolic) \
                else value
            added.append(value)
            updates.append(FieldUpdate(KeyPath._from_keys((key,)), self,
                                       before[key] if key in sets else MISSING, value))
            return value

        for i, item in enumerate(before):
            for value in inserts.get(i, ()):
                after.append(adopt(value, i))
            if i in deletes:
                updates.append(FieldUpdate(KeyPath._from_keys((i,)), self, item, MISSING))
            elif i in sets:
                after.append(adopt(sets[i], i))
            else:
                after.append(item)
        for i in sorted(appends):
            after.append(adopt(appends[i][0], i))
        for value in tail:
            after.append(adopt(value, n + len(appends)))
        list.__init__(self, after)
        for item in before:
            if isinstance(item, Symbolic) and not any(item is a for a in after):
                _link(item, None, None)
        self._sym_reindex()

        def undo() -> None:
            for value in added:
                if isinstance(value, Symbolic) and not any(value is b for b in before):
                    _link(value, None, None)
            list.__init__(self, before)
            self._sym_reindex()

        return updates, undo

    def _sym_reindex(self, start: int = 0) -> None:
        for i in range(start, len(self)):
            item = list.__getitem__(self, i)
            if isinstance(item, Symbolic):
                _link(item, self, i)

    def _sym_clone(self, deep: bool, memo: dict) -> List:
        out = List.__new__(type(self))
        list.__init__(out)
        out._sym_parent = None
        out._sym_key = None
        out._sym_sealed = self._sym_sealed
        out._sym_element = self._sym_element
        out._sym_onchange = self._sym_onchange
        append = list.append
        for i, item in enumerate(list.__iter__(self)):
            if type(item) in _ATOMIC:
                append(out, item)
            elif isinstance(item, Symbolic):
                c = _clone_child(item, deep, memo)
                if isinstance(c, Symbolic):
                    _link(c, out, i)
                append(out, c)
            else:
                append(out, _copy_leaf(item, deep, memo))
        return out

    # ---- list API: every mutation is validated and notified ------------------------------
    def _sym_edit(self, fn: Any) -> Any:
        """Runs a raw mutation ``fn`` with sealing, rollback and notification."""
        self._sym_check_not_sealed()
        before = list(self)
        try:
            result = fn()
        except BaseException:
            list.__init__(self, before)
            self._sym_reindex()
            raise
        updates = _list_updates(self, before)
        if updates:

            def undo() -> None:
                for item in list.__iter__(self):
                    if not any(item is b for b in before):
                        _unlink(item)
                list.__init__(self, before)
                self._sym_reindex()

            notify_or_undo(updates, undo)
        return result

    def __setitem__(self, index: Any, value: Any) -> None:
        if isinstance(index, slice):
            start, _, step = index.indices(len(self))
            items = [self._sym_check(start + i * step, v) for i, v in enumerate(value)]

            def do() -> None:
                olds = list.__getitem__(self, index)
                # Distinct placeholder keys: the same free node given twice is cloned once.
                new = [self._sym_adopt(v, -1 - i) if isinstance(v, Symbolic) else v
                       for i, v in enumerate(items)]
                try:
                    list.__setitem__(self, index, new)
                except BaseException:
                    for v in new:
                        _unlink(v)
                    raise
                for old in olds:
                    if not any(old is x for x in list.__iter__(self)):
                        _unlink(old)
                self._sym_reindex()

            self._sym_edit(do)
            return
        if not hasattr(type(index), "__index__"):
            raise SymbolicTypeError(
                at(self.sym_path, f"list indices must be integers or slices, not "
                                  f"{type(index).__name__} {index!r}")
            )
        self._sym_check_not_sealed()
        n = len(self)
        i = index.__index__()
        if not -n <= i < n:
            raise IndexError(at(self.sym_path, f"list index {i} out of range"))
        value = self._sym_check(i % n, value)
        if same_value(list.__getitem__(self, i % n), value):
            return
        old, undo = self._sym_assign(i % n, value)
        notify_or_undo([FieldUpdate(KeyPath._from_keys((i % n,)), self, old, value)], undo)

    def __delitem__(self, index: Any) -> None:
        if not isinstance(index, slice) and not hasattr(type(index), "__index__"):
            raise SymbolicTypeError(
                at(self.sym_path, f"list indices must be integers or slices, not "
                                  f"{type(index).__name__} {index!r}")
            )

        def do() -> None:
            olds = list.__getitem__(self, index) if isinstance(index, slice) else [self[index]]
            list.__delitem__(self, index)
            for old in olds:
                _unlink(old)
            self._sym_reindex()

        self._sym_edit(do)

    def append(self, value: Any) -> None:
        self._sym_check_not_sealed()
        n = len(self)
        value = self._sym_check(n, value)
        _, undo = self._sym_assign(n, value)
        notify_or_undo([FieldUpdate(KeyPath._from_keys((n,)), self, MISSING, value)], undo)

    def extend(self, values: Iterable[Any]) -> None:
        values = list(values)
        n = len(self)
        items = [self._sym_check(n + i, v) for i, v in enumerate(values)]

        def do() -> None:
            for i, v in enumerate(items):
                list.append(self, self._sym_adopt(v, n + i))

        self._sym_edit(do)

    def __iadd__(self, values: Iterable[Any]) -> List:  # type: ignore[override]
        self.extend(values)
        return self

    def __imul__(self, n: SupportsIndex) -> List:  # type: ignore[override]
        items = list(self) * (n.__index__() - 1) if n.__index__() > 0 else None
        if items is None:
            self.clear()
        else:
            self.extend(items)
        return self

    def insert(self, index: SupportsIndex, value: Any) -> None:
        i = index.__index__()
        n = len(self)
        i = max(0, min(n, i + n if i < 0 else i))
        value = self._sym_check(i, value)

        def do() -> None:
            list.insert(self, i, _detach_for(self, value))
            self._sym_reindex(i)

        self._sym_edit(do)

    def pop(self, index: SupportsIndex = -1) -> Any:
        def do() -> Any:
            old = list.pop(self, index)
            _unlink(old)
            self._sym_reindex()
            return old

        return self._sym_edit(do)

    def remove(self, value: Any) -> None:
        self.pop(self.index(value))

    def clear(self) -> None:
        def do() -> None:
            for old in list.__iter__(self):
                _unlink(old)
            list.clear(self)

        self._sym_edit(do)

    def sort(self, *, key: Any = None, reverse: bool = False) -> None:
        def do() -> None:
            list.sort(self, key=key, reverse=reverse)
            self._sym_reindex()

        self._sym_edit(do)

    def reverse(self) -> None:
        def do() -> None:
            list.reverse(self)
            self._sym_reindex()

        self._sym_edit(do)

    # ---- printing and pickling (comparison comes from _Container) --------------------------
    def __repr__(self) -> str:
        return f"List({list.__repr__(self)})"

    def __reduce__(self) -> Any:
        return (_rebuild_list, (list(self), self._sym_element, self._sym_sealed))


def _rebuild_list(items: list, element: Check | None = None, sealed: bool = False) -> List:
    out = List(items)
    out._sym_element = element
    out._sym_sealed = sealed
    return out


def _list_updates(node: List, before: list) -> list[FieldUpdate]:
    after = list.__iter__(node)
    updates: list[FieldUpdate] = []
    after_list = list(after)
    for i in range(max(len(before), len(after_list))):
        old = before[i] if i < len(before) else MISSING
        new = after_list[i] if i < len(after_list) else MISSING
        if old is not new:
            updates.append(FieldUpdate(KeyPath._from_keys((i,)), node, old, new))
    return updates
