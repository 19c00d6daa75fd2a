"""``sb.Dict``: a ``dict`` with str keys whose values are tree children; keys are also
attributes.

(Import it from ``symbo.core.containers``, which loads this module.)

>>> import symbo as sb
>>> d = sb.Dict(lr=0.1)
>>> d.layers = [64]
>>> d
Dict({'lr': 0.1, 'layers': List([64])})
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from symbo.core.containers import (
    _ATOMIC,
    OnChange,
    _clone_child,
    _Container,
    _copy_leaf,
    _path_of,
    _relink,
    _unlink,
    same_value,
)
from symbo.core.errors import SymbolicKeyError, SymbolicTypeError, at
from symbo.core.keypath import Key, KeyPath
from symbo.core.lists import List
from symbo.core.node import MISSING, FieldUpdate, Symbolic, Undo, _link, notify_or_undo
from symbo.core.tuples import VALUE_TYPES, as_value_node
from symbo.core.validation import Check, CheckFailure


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
                    elif t in VALUE_TYPES:
                        value = as_value_node(value)
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
            if t in VALUE_TYPES:
                return as_value_node(value)
            return value
        except CheckFailure as e:
            raise e.to_error(_path_of(self, key)) from None

    def _sym_peek(self, key: Key) -> Any:
        return dict.get(self, key, MISSING)  # type: ignore[call-overload]

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
