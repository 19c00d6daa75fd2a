"""The tree protocol shared by every symbolic value (Object, List, Dict, markers).

A symbolic node knows its parent and its key inside the parent, so ``sym_path`` is always
right; edits go through ``_sym_assign`` so that validation, parent links, sealing and change
notification are handled in one place.

>>> import symbo as sb
>>> d = sb.Dict(a=sb.List([1, 2]))
>>> str(d.a.sym_path), d.a.sym_parent is d
('a', True)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import attrs

from symbo.core.errors import CycleError, SealedError, SymbolicKeyError, at
from symbo.core.keypath import Key, KeyPath

if TYPE_CHECKING:
    from symbo.core.validation import Check


class _Missing:
    """The value of a field that has not been given one yet."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False

    def __reduce__(self) -> str:
        return "MISSING"

    def __copy__(self) -> _Missing:
        return self

    def __deepcopy__(self, memo: dict) -> _Missing:
        return self


MISSING: Any = _Missing()


@attrs.frozen(slots=True)
class FieldUpdate:
    """One change delivered to ``_on_change``: where, on which node, old and new value."""

    path: KeyPath
    target: Symbolic
    old_value: Any
    new_value: Any


Undo = Callable[[], None]


class Symbolic:
    """Base of every node of a symbolic tree. Not instantiated directly."""

    __slots__ = ()

    # Set by subclasses' constructors (slots on List/Dict, __dict__ on Object).
    _sym_parent: Symbolic | None
    _sym_key: Key | None
    _sym_sealed: bool

    # ---- tree links -----------------------------------------------------------------------
    @property
    def sym_parent(self) -> Symbolic | None:
        """The node that holds this one, or None for a root."""
        return self._sym_parent

    @property
    def sym_path(self) -> KeyPath:
        """The key path from the root of the tree to this node."""
        keys: list[Key] = []
        node: Symbolic | None = self
        while node is not None and node._sym_parent is not None:
            keys.append(node._sym_key)  # type: ignore[arg-type]
            node = node._sym_parent
        keys.reverse()
        return KeyPath._from_keys(tuple(keys))

    @property
    def sym_root(self) -> Symbolic:
        """The top of the tree this node belongs to."""
        node = self
        while node._sym_parent is not None:
            node = node._sym_parent
        return node

    # ---- children (implemented by subclasses) ---------------------------------------------
    def sym_items(self) -> Iterator[tuple[Key, Any]]:
        """(key, value) pairs of the direct children, in a fixed order."""
        raise NotImplementedError

    def sym_keys(self) -> Iterator[Key]:
        return (k for k, _ in self.sym_items())

    def sym_values(self) -> Iterator[Any]:
        return (v for _, v in self.sym_items())

    def _sym_child(self, key: Key) -> Any:
        """The child at ``key``; raises SymbolicKeyError naming this node's path."""
        raise NotImplementedError

    def _sym_check(self, key: Key, value: Any) -> Any:
        """Validates (and converts) a value for ``key``; raises with the full path."""
        raise NotImplementedError

    def _sym_assign(self, key: Key, value: Any) -> tuple[Any, Undo]:
        """Sets ``key`` to an already checked value. Returns (old value, undo)."""
        raise NotImplementedError

    def _sym_clone(self, deep: bool, memo: dict) -> Symbolic:
        raise NotImplementedError

    # ---- navigation ----------------------------------------------------------------------
    def sym_get(self, path: str | KeyPath, default: Any = MISSING) -> Any:
        """The value at a key path relative to this node.

        >>> import symbo as sb
        >>> sb.Dict(a=[1, {"b": 2}]).sym_get("a[1].b")
        2
        """
        keys = KeyPath.parse(path).keys
        node: Any = self
        for i, key in enumerate(keys):
            if not isinstance(node, Symbolic):
                if default is not MISSING:
                    return default
                raise SymbolicKeyError(
                    at(self.sym_path + KeyPath._from_keys(keys[:i]),
                       f"cannot look up key {key!r} in a {type(node).__name__}")
                )
            try:
                node = node._sym_child(key)
            except SymbolicKeyError:
                if default is not MISSING:
                    return default
                raise
        return node

    def sym_has(self, path: str | KeyPath) -> bool:
        """Whether the key path exists below this node."""
        sentinel = object()
        return self.sym_get(path, sentinel) is not sentinel

    # ---- sealing -------------------------------------------------------------------------
    @property
    def is_sealed(self) -> bool:
        """Whether this node refuses edits."""
        return self._sym_sealed

    def seal(self, sealed: bool = True) -> Symbolic:
        """Seals (or unseals) this node and everything below it; returns self."""
        _set_sealed(self, sealed)
        for value in self.sym_values():
            if isinstance(value, Symbolic):
                value.seal(sealed)
        return self

    def _sym_check_not_sealed(self) -> None:
        if self._sym_sealed:
            raise SealedError(at(self.sym_path, f"cannot edit a sealed {type(self).__name__}"))

    # ---- attaching children ---------------------------------------------------------------
    def _sym_adopt(self, value: Any, key: Key) -> Any:
        """Makes a (checked) value a child of this node at ``key``.

        A symbolic value that already belongs to another tree is cloned first, so a node never
        has two parents; a value that is this node or one of its ancestors raises CycleError.
        """
        if isinstance(value, Symbolic):
            if value._sym_parent is not None:
                if value._sym_parent is self and value._sym_key == key:
                    return value
                value = value._sym_clone(True, {})
            else:
                node: Symbolic | None = self
                while node is not None:
                    if node is value:
                        raise CycleError(
                            at(self.sym_path + key, "a symbolic value cannot contain itself")
                        )
                    node = node._sym_parent
            _link(value, self, key)
        return value

    # ---- notification --------------------------------------------------------------------
    def _on_change(self, updates: dict[KeyPath, FieldUpdate]) -> None:
        """Called once after each edit at or below this node, with paths relative to this node.

        Override it to keep derived state in sync. The default does nothing.
        """

    def _sym_notify(self, updates: list[FieldUpdate]) -> None:
        """Delivers updates made on this node (paths relative to it); see :func:`_notify`."""
        _notify(updates)

    # ---- edits ---------------------------------------------------------------------------
    def rebind(self, path_values: Any = None, /, **kwargs: Any) -> Symbolic:
        """Edits values below this node in place, atomically; see :func:`symbo.core.rebind`."""
        global _rebind
        if _rebind is None:
            from symbo.core.rebind import rebind as _rebind
        return _rebind(self, path_values, **kwargs)

    # ---- pickling and copying ------------------------------------------------------------
    def __copy__(self) -> Symbolic:
        return self._sym_clone(False, {})

    def __deepcopy__(self, memo: dict) -> Symbolic:
        return self._sym_clone(True, memo)


_rebind: Any = None  # symbo.core.rebind.rebind, imported on first use (it imports this module)
_LISTENS: dict[type, bool] = {}


def _listens(node: Symbolic) -> bool:
    cls = type(node)
    listens = _LISTENS.get(cls)
    if listens is None:
        listens = _LISTENS[cls] = bool(getattr(cls, "_sym_has_on_bound", False)) or \
            cls._on_change is not Symbolic._on_change
    return listens


def _notify(updates: list[FieldUpdate]) -> None:
    """Tells the nodes changed by one finished edit, and all their ancestors, bottom-up.

    Each update's ``path`` is relative to its ``target`` (the node that was changed). Every node
    at or above a change hears once per edit: an Object that overrides ``_on_bound`` re-runs
    it (its derived state may depend on anything below it), then a node that overrides
    ``_on_change`` gets all the updates at or below it, keyed by paths relative to itself.
    Trees without such nodes pay one walk up from each changed node.
    """
    if len(updates) == 1:  # the common case: one edit, and often nobody listening above it
        node: Symbolic | None = updates[0].target
        while node is not None and not _listens(node):
            node = node._sym_parent
        if node is None:
            return
    by_target: dict[int, tuple[Symbolic, list[FieldUpdate]]] = {}
    for update in updates:
        by_target.setdefault(id(update.target), (update.target, []))[1].append(update)
    heard: dict[int, tuple[Symbolic, dict[KeyPath, FieldUpdate]]] = {}
    for target, target_updates in by_target.values():
        node: Symbolic | None = target
        prefix: tuple[Key, ...] = ()
        while node is not None:
            if _listens(node):
                entry = heard.get(id(node))
                if entry is None:
                    entry = heard[id(node)] = (node, {})
                for update in target_updates:
                    entry[1][KeyPath._from_keys(prefix + update.path.keys)] = update
            parent = node._sym_parent
            if parent is not None:
                prefix = (node._sym_key,) + prefix  # type: ignore[operator]
            node = parent
    if not heard:
        return
    for node, node_updates in sorted(heard.values(), key=lambda e: -len(e[0].sym_path)):
        if getattr(type(node), "_sym_has_on_bound", False):
            node._on_bound()  # type: ignore[attr-defined]
        if type(node)._on_change is not Symbolic._on_change:
            node._on_change(node_updates)


def notify_or_undo(updates: list[FieldUpdate], undo: Callable[[], None]) -> None:
    """Notifies an edit; if a hook (``_on_bound``/``_on_change``) rejects it by raising, the
    edit is undone, the hooks hear the reverse change, and the error propagates: a rejected
    edit leaves nothing changed."""
    try:
        _notify(updates)
    except Exception:
        undo()
        reverse = [FieldUpdate(u.path, u.target, u.new_value, u.old_value) for u in updates]
        try:
            _notify(reverse)
        except Exception:  # the state before the edit was accepted once; keep the first error
            pass
        raise


def _link(value: Symbolic, parent: Symbolic | None, key: Key | None) -> None:
    d = getattr(value, "__dict__", None)
    if d is not None and "_sym_parent" in d:  # Objects keep links in their __dict__
        d["_sym_parent"] = parent
        d["_sym_key"] = key
    else:  # List and Dict keep them in slots
        value._sym_parent = parent
        value._sym_key = key


def _set_sealed(node: Symbolic, sealed: bool) -> None:
    d = getattr(node, "__dict__", None)
    if d is not None and "_sym_sealed" in d:
        d["_sym_sealed"] = sealed
    else:
        node._sym_sealed = sealed


class DeferredValue(Symbolic):
    """Hook for values decided later (the search-space markers of ``symbo.dsl``).

    Field validation accepts a DeferredValue wherever a concrete value could stand, after asking
    it whether its possible values fit the field (``sym_check_against``). ``core`` knows nothing
    else about it.
    """

    __slots__ = ()

    def sym_check_against(self, check: Check) -> None:
        """Raises ``CheckFailure`` when the value(s) this may become do not fit ``check``."""
        raise NotImplementedError
