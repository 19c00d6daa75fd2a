"""Symbolic containers: ``sb.List`` and ``sb.Dict``.

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

from collections.abc import Callable, Iterable, Iterator
from typing import Any, SupportsIndex

import attrs

from symbo.core.errors import SymbolicKeyError, SymbolicTypeError, at
from symbo.core.keypath import Key, KeyPath
from symbo.core.node import MISSING, FieldUpdate, Symbolic, Undo, _link, notify_or_undo
from symbo.core.validation import Check, CheckFailure

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
                        item = Dict(item)
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
                return Dict(value)
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


class Dict(_Container, dict):
    """A symbolic dict with str keys; keys are also readable as attributes.

    >>> import symbo as sb
    >>> d = sb.Dict(lr=0.1, layers=[64])
    >>> d.lr, d.rebind({"layers[0]": 32}).layers
    (0.1, List([32]))
    """

    __slots__ = ("_sym_parent", "_sym_key", "_sym_sealed", "_sym_value_check", "_sym_onchange")
    _sym_plain = dict

    def __init__(self, items: Any = (), /, *, sealed: bool = False,
                 onchange_callback: OnChange | None = None, **kwargs: Any) -> None:
        """``sealed=True`` makes the dict (and what it holds) refuse edits;
        ``onchange_callback(updates)`` is called after each edit at or below it. (Keys
        named ``sealed`` or ``onchange_callback`` are given in the first argument.)"""
        dict.__init__(self)
        object.__setattr__(self, "_sym_parent", None)
        object.__setattr__(self, "_sym_key", None)
        object.__setattr__(self, "_sym_sealed", False)
        object.__setattr__(self, "_sym_value_check", None)
        object.__setattr__(self, "_sym_onchange", onchange_callback)
        try:
            given = dict(items, **kwargs) if kwargs or not isinstance(items, dict) else items
            self._sym_fill(given)
        except CheckFailure as e:  # pragma: no cover - no checks on a plain Dict
            raise e.to_error(KeyPath()) from None
        if sealed:
            self.seal()

    def _sym_fill(self, items: dict) -> None:
        """Fills this (empty) dict; on an error it is left empty and the values left free."""
        check = self._sym_value_check
        setitem = dict.__setitem__
        try:
            for key, value in items.items():
                if type(key) is not str:
                    raise SymbolicTypeError(
                        f"dict keys must be str, got {type(key).__name__} {key!r}"
                    )
                if check is not None:
                    try:
                        value = check(value)
                    except CheckFailure as e:
                        e.keys.append(key)
                        raise
                else:
                    t = type(value)
                    if t is list:
                        value = List(value)
                    elif t is dict:
                        value = Dict(value)
                if isinstance(value, Symbolic):
                    value = self._sym_adopt(value, key)
                setitem(self, key, value)
        except BaseException:
            for value in dict.values(self):
                if isinstance(value, Symbolic) and value._sym_parent is self:
                    _link(value, None, None)
            dict.clear(self)
            raise

    @classmethod
    def _checked(cls, value: Any, check: Check | None) -> Dict:
        if type(value) is cls and value._sym_parent is None:
            if value._sym_value_check is check:
                return value
            items = dict(value)
            old_check = value._sym_value_check
            dict.clear(value)
            value._sym_value_check = check
            try:
                value._sym_fill(items)
            except BaseException:  # leave the given dict as it was
                dict.update(value, items)
                value._sym_value_check = old_check
                for key, item in items.items():
                    _relink(item, value, key)
                raise
            for key, old in items.items():
                new = dict.__getitem__(value, key)
                if old is not new and isinstance(old, Symbolic) and old._sym_parent is value:
                    _link(old, None, None)  # replaced by its converted copy
            return value
        out = cls.__new__(cls)
        dict.__init__(out)
        _init_dict_slots(out, False, check)
        out._sym_fill(value)
        return out

    @classmethod
    def _view(cls, items: dict) -> Dict:
        """A sealed, read-only Dict over values that belong to another node."""
        out = cls.__new__(cls)
        dict.__init__(out, items)
        _init_dict_slots(out, True, None)
        return out

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_sym_"):  # a slot not set yet (unpickling, __new__)
            raise AttributeError(name)
        try:
            return dict.__getitem__(self, name)
        except KeyError:
            raise AttributeError(
                f"{at(self.sym_path, '')}Dict has no key or attribute {name!r}".lstrip(": ")
            ) from None

    def __setattr__(self, name: str, value: Any) -> None:
        """``d.key = value`` sets a key (names starting with ``_`` are attributes)."""
        if name.startswith("_"):
            object.__setattr__(self, name, value)
        else:
            self[name] = value

    def __delattr__(self, name: str) -> None:
        """``del d.key`` deletes a key."""
        if name.startswith("_"):
            object.__delattr__(self, name)
        else:
            del self[name]

    # ---- tree protocol -------------------------------------------------------------------
    def sym_items(self) -> Iterator[tuple[Key, Any]]:
        return iter(dict.items(self))

    def _sym_child(self, key: Key) -> Any:
        try:
            return dict.__getitem__(self, key)
        except (KeyError, TypeError):
            raise SymbolicKeyError(at(self.sym_path, f"no key {key!r}")) from None

    def _sym_check(self, key: Key, value: Any) -> Any:
        if type(key) is not str:
            raise SymbolicTypeError(at(self.sym_path, f"dict keys must be str, got {key!r}"))
        if value is MISSING:
            return value
        check = self._sym_value_check
        try:
            if check is not None:
                return check(value)
            t = type(value)
            if t is list:
                return List(value)
            if t is dict:
                return Dict(value)
            return value
        except CheckFailure as e:
            raise e.to_error(_path_of(self, key)) from None

    def _sym_assign(self, key: Key, value: Any) -> tuple[Any, Undo]:
        old = dict.get(self, key, MISSING)  # type: ignore[call-overload]
        if value is MISSING:
            if old is MISSING:
                raise SymbolicKeyError(at(self.sym_path, f"no key {key!r} to delete"))
            dict.__delitem__(self, key)
        else:
            value = self._sym_adopt(value, key)
            dict.__setitem__(self, key, value)
        if old is not value:
            _unlink(old)

        def undo() -> None:
            if old is MISSING:
                dict.pop(self, key, None)
            else:
                dict.__setitem__(self, key, old)
                _relink(old, self, key)
            if value is not old:
                _unlink(value)

        return old, undo

    def _sym_clone(self, deep: bool, memo: dict) -> Dict:
        out = Dict.__new__(type(self))
        dict.__init__(out)
        _init_dict_slots(out, self._sym_sealed, self._sym_value_check)
        object.__setattr__(out, "_sym_onchange", self._sym_onchange)
        setitem = dict.__setitem__
        for key, value in dict.items(self):
            if type(value) in _ATOMIC:
                setitem(out, key, value)
            elif isinstance(value, Symbolic):
                c = _clone_child(value, deep, memo)
                if isinstance(c, Symbolic):
                    _link(c, out, key)
                setitem(out, key, c)
            else:
                setitem(out, key, _copy_leaf(value, deep, memo))
        return out

    # ---- dict API ------------------------------------------------------------------------
    def _sym_set_many(self, items: dict) -> None:
        self._sym_check_not_sealed()
        checked = [(k, self._sym_check(k, v)) for k, v in items.items()]
        undos: list[Undo] = []
        updates: list[FieldUpdate] = []
        try:
            for k, v in checked:
                if same_value(dict.get(self, k, MISSING), v):  # type: ignore[call-overload]
                    continue
                old, undo = self._sym_assign(k, v)
                undos.append(undo)
                updates.append(FieldUpdate(KeyPath._from_keys((k,)), self, old, v))
        except BaseException:
            for undo in reversed(undos):
                undo()
            raise
        if updates:

            def undo_all() -> None:
                for undo in reversed(undos):
                    undo()

            notify_or_undo(updates, undo_all)

    def __setitem__(self, key: str, value: Any) -> None:
        self._sym_set_many({key: value})

    def __delitem__(self, key: str) -> None:
        if key not in self:
            raise SymbolicKeyError(at(self.sym_path, f"no key {key!r}"))
        self._sym_set_many({key: MISSING})

    def update(self, items: Any = (), /, **kwargs: Any) -> None:  # type: ignore[override]
        self._sym_set_many(dict(items, **kwargs))

    def __ior__(self, items: Any) -> Dict:  # type: ignore[override]
        self.update(items)
        return self

    def setdefault(self, key: str, default: Any = None) -> Any:
        if key not in self:
            self[key] = default
        return dict.__getitem__(self, key)

    def pop(self, key: str, *default: Any) -> Any:  # type: ignore[override]
        if key in self:
            value = dict.__getitem__(self, key)
            del self[key]
            return value
        if default:
            return default[0]
        raise SymbolicKeyError(at(self.sym_path, f"no key {key!r}"))

    def popitem(self) -> tuple[str, Any]:
        if not self:
            raise SymbolicKeyError(at(self.sym_path, "popitem from an empty Dict"))
        key = next(reversed(dict.keys(self)))
        return key, self.pop(key)

    def clear(self) -> None:
        self._sym_set_many({k: MISSING for k in list(self)})

    def __repr__(self) -> str:
        return f"Dict({dict.__repr__(self)})"

    def __reduce__(self) -> Any:
        return (_rebuild_dict, (dict(self), self._sym_value_check, self._sym_sealed))


def _rebuild_dict(items: dict, check: Check | None = None, sealed: bool = False) -> Dict:
    out = Dict(items)
    object.__setattr__(out, "_sym_value_check", check)
    object.__setattr__(out, "_sym_sealed", sealed)
    return out


def _init_dict_slots(out: Dict, sealed: bool, check: Check | None) -> None:
    setattr_ = object.__setattr__
    setattr_(out, "_sym_parent", None)
    setattr_(out, "_sym_key", None)
    setattr_(out, "_sym_sealed", sealed)
    setattr_(out, "_sym_value_check", check)
    setattr_(out, "_sym_onchange", None)


# ---- helpers ----------------------------------------------------------------------------------
def _no_undo() -> None:
    pass


def _unlink(value: Any) -> None:
    if isinstance(value, Symbolic):
        _link(value, None, None)


def _relink(value: Any, parent: Symbolic, key: Key) -> None:
    if isinstance(value, Symbolic):
        _link(value, parent, key)


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

    return copy.deepcopy(value, memo)


def _is_immutable(value: Any) -> bool:
    if isinstance(value, (tuple, frozenset)):
        return all(type(v) in _ATOMIC or _is_immutable(v) for v in value)
    return isinstance(value, type) or (callable(value) and hasattr(value, "__code__"))


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
