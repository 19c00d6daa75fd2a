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

from symbo.core import flags
from symbo.core.errors import (
    CycleError,
    SealedError,
    SymbolicAttributeError,
    SymbolicKeyError,
    SymbolicValueError,
    at,
)
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
_RAISE: Any = object()  # "no default given" for sym_getattr


class Symbolic:
    """Base of every node of a symbolic tree. Not instantiated directly."""

    __slots__ = ()

    # Set by subclasses' constructors (slots on List/Dict, __dict__ on Object). A root keeps
    # the path given by ``sym_setpath`` in ``_sym_key`` (a KeyPath, or None for the empty path).
    _sym_parent: Symbolic | None
    _sym_key: Key | KeyPath | None
    _sym_sealed: bool

    def __init_subclass__(cls, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        global _HOOKS
        if cls._on_parent_change is not Symbolic._on_parent_change or \
                cls._on_path_change is not Symbolic._on_path_change:
            _HOOKS = True

    # ---- tree links -----------------------------------------------------------------------
    @property
    def sym_parent(self) -> Symbolic | None:
        """The node that holds this one, or None for a root."""
        return self._sym_parent

    @property
    def sym_path(self) -> KeyPath:
        """The key path from the root of the tree to this node (a root's path is empty unless
        set with :meth:`sym_setpath`)."""
        keys: list[Key] = []
        node: Symbolic = self
        while node._sym_parent is not None:
            keys.append(node._sym_key)  # type: ignore[arg-type]
            node = node._sym_parent
        keys.reverse()
        base = node._sym_key
        if base is not None:
            return KeyPath._from_keys(base.keys + tuple(keys))  # type: ignore[union-attr]
        return KeyPath._from_keys(tuple(keys))

    def sym_setpath(self, path: str | KeyPath | None) -> None:
        """Sets the path of this root (and so of everything below it) inside a larger context.

        A node that has a parent takes its path from it; attaching the root to a parent
        replaces the path set here.

        >>> import symbo as sb
        >>> d = sb.Dict(x=sb.Dict(y=1))
        >>> d.sym_setpath("config")
        >>> str(d.x.sym_path)
        'config.x'
        """
        if self._sym_parent is not None:
            raise SymbolicValueError(
                at(self.sym_path, "only a root's path can be set; this node takes its path "
                                  "from its parent")
            )
        new = KeyPath.parse(path) if path is not None else KeyPath()
        old = self.sym_path
        if new == old:
            return
        _set_key(self, new if new.keys else None)
        if _HOOKS:
            _paths_changed(self, old, new)

    def sym_ancestor(self, where: Callable[[Any], bool] | None = None) -> Symbolic | None:
        """The nearest ancestor (parent first) for which ``where(node)`` holds, or None.

        >>> import symbo as sb
        >>> d = sb.Dict(a=[sb.Dict(b=1)])
        >>> d.a[0].sym_ancestor(lambda n: isinstance(n, dict)) is d
        True
        """
        node = self._sym_parent
        while node is not None and where is not None and not where(node):
            node = node._sym_parent
        return node

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

    def _sym_peek(self, key: Key) -> Any:
        """The child at ``key``, or MISSING when there is none."""
        try:
            return self._sym_child(key)
        except SymbolicKeyError:
            return MISSING

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

    def sym_hasattr(self, key: Key) -> bool:
        """Whether ``key`` is a direct child of this node (a field, dict key or list index).

        >>> import symbo as sb
        >>> sb.Dict(a=1).sym_hasattr("a"), sb.List([1]).sym_hasattr(1)
        (True, False)
        """
        try:
            self._sym_child(key)
        except SymbolicKeyError:
            return False
        return True

    def sym_getattr(self, key: Key, default: Any = _RAISE) -> Any:
        """The direct child at ``key``; ``default`` (when given) if there is none, else
        an AttributeError (also a ``SymbolicKeyError``) naming the key.

        >>> import symbo as sb
        >>> sb.Dict(a=1).sym_getattr("a"), sb.Dict(a=1).sym_getattr("b", None)
        (1, None)
        """
        try:
            return self._sym_child(key)
        except SymbolicKeyError:
            if default is not _RAISE:
                return default
            raise SymbolicAttributeError(
                at(self.sym_path, f"{type(self).__name__} has no symbolic attribute {key!r}")
            ) from None

    def sym_contains(self, value: Any = None, type: Any = None) -> bool:  # noqa: A002
        """Whether this node or any node below it equals ``value`` (``sb.eq``), or, when
        ``type`` (a class or tuple of classes) is given, is an instance of it.

        >>> import symbo as sb
        >>> d = sb.Dict(x=[sb.Dict(z=1)])
        >>> d.sym_contains(1), d.sym_contains(type=str), d.sym_contains(type=(int, str))
        (True, False, True)
        """
        from symbo.core.traversal import contains

        return contains(self, value, type)

    def sym_descendants(self, where: Callable[[Any], bool] | None = None,
                        option: Any = "all", include_self: bool = False) -> list[Any]:
        """Nodes below this one (preorder) for which ``where(value)`` holds (all when None).

        ``option`` is ``"all"``, ``"immediate"`` (a match's own descendants are not searched)
        or ``"leaf"`` (only matches with no matching descendants); see
        :class:`DescendantQueryOption`.

        >>> import symbo as sb
        >>> d = sb.Dict(a=1, b=[2, sb.Dict(c=3)])
        >>> d.sym_descendants(lambda v: isinstance(v, int))
        [1, 2, 3]
        """
        from symbo.core.traversal import descendants

        return descendants(self, where, option, include_self)

    @property
    def sym_partial(self) -> bool:
        """Whether a required value somewhere at or below this node is still MISSING."""
        return bool(self.sym_missing(flatten=False))

    def sym_missing(self, flatten: bool = True) -> dict[Any, Any]:
        """The required values still ``MISSING`` below this node.

        ``{path: MISSING}`` with paths relative to this node (as text); with
        ``flatten=False`` a nested dict keyed by field, key and index.

        >>> import symbo as sb
        >>> class A(sb.Object):
        ...     x: int
        >>> sb.Dict(a=A.partial()).sym_missing()
        {'a.x': MISSING}
        """
        nested = self._sym_missing()
        if not flatten:
            return nested
        out: dict[str, Any] = {}
        _flatten(nested, KeyPath(), out)
        return out

    def _sym_missing(self) -> dict[Key, Any]:
        """The nested form of :meth:`sym_missing` (subclasses may narrow what counts)."""
        out: dict[Key, Any] = {}
        for key, value in self.sym_items():
            if value is MISSING:
                out[key] = MISSING
            elif isinstance(value, Symbolic):
                sub = value._sym_missing()
                if sub:
                    out[key] = sub
        return out

    # ---- comparison ----------------------------------------------------------------------
    def sym_eq(self, other: Any) -> bool:
        """Structural equality; override it to give a class its own meaning of ``sb.eq``
        (call ``super().sym_eq(other)`` for the structural comparison)."""
        from symbo.core.compare import structural_eq

        return structural_eq(self, other)

    def sym_ne(self, other: Any) -> bool:
        """``not sb.eq(self, other)``."""
        from symbo.core.compare import eq

        return not eq(self, other)

    def sym_lt(self, other: Any) -> bool:
        """Whether this value sorts before ``other`` in the symbolic order (``sb.lt``)."""
        from symbo.core.compare import structural_lt

        return structural_lt(self, other)

    def sym_gt(self, other: Any) -> bool:
        """Whether this value sorts after ``other`` in the symbolic order (``sb.gt``)."""
        from symbo.core.compare import lt

        return lt(other, self)

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
        sealed = flags._SEALED.get()
        if self._sym_sealed if sealed is None else sealed:
            raise SealedError(at(self.sym_path, f"cannot edit a sealed {type(self).__name__}"))

    # ---- attaching children ---------------------------------------------------------------
    def _sym_adopt(self, value: Any, key: Key) -> Any:
        """Makes a (checked) value a child of this node at ``key``.

        A symbolic value that already belongs to another tree is cloned first, so a node never
        has two parents: its symbolic structure is copied and its non-symbolic members (tensors,
        datasets, models) are shared by reference, as PyGlove does, so the copy is ``sb.eq`` to
        the original. A value that is this node or one of its ancestors raises CycleError.
        """
        if isinstance(value, Symbolic):
            if value._sym_parent is not None:
                if value._sym_parent is self and value._sym_key == key:
                    return value
                value = value._sym_clone(False, {})
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

    def _on_parent_change(self, old_parent: Symbolic | None,
                          new_parent: Symbolic | None) -> None:
        """Called after this node is attached to, moved between or detached from parents."""

    def _on_path_change(self, old_path: KeyPath, new_path: KeyPath) -> None:
        """Called after this node's key path changes (it, or an ancestor, moved)."""

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
_HOOKS = False  # set once any class overrides _on_parent_change or _on_path_change


def _listens(node: Symbolic) -> bool:
    cls = type(node)
    listens = _LISTENS.get(cls)
    if listens is None:
        listens = _LISTENS[cls] = bool(getattr(cls, "_sym_has_on_bound", False)) or \
            cls._on_change is not Symbolic._on_change
    return listens or getattr(node, "_sym_onchange", None) is not None


def _notify(updates: list[FieldUpdate], stop_at: Symbolic | None = None) -> None:
    """Tells the nodes changed by one finished edit, and all their ancestors, bottom-up.

    Each update's ``path`` is relative to its ``target`` (the node that was changed). Every node
    at or above a change hears once per edit: an Object that overrides ``_on_bound`` re-runs
    it (its derived state may depend on anything below it), then a node that overrides
    ``_on_change`` gets all the updates at or below it, keyed by paths relative to itself, and
    a container's ``onchange_callback`` gets them too. Nodes are told deepest path first
    (reverse key-path order, as PyGlove does). With ``stop_at``, nodes above it are not told.
    Nothing is told inside ``sb.notify_on_change(False)``. Trees without listeners pay one
    walk up from each changed node.
    """
    if not flags._NOTIFY.get():
        return
    if len(updates) == 1:  # the common case: one edit, and often nobody listening above it
        node: Symbolic | None = updates[0].target
        while node is not None and not _listens(node):
            node = None if node is stop_at else node._sym_parent
        if node is None:
            return
    by_target: dict[int, tuple[Symbolic, list[FieldUpdate]]] = {}
    for update in updates:
        by_target.setdefault(id(update.target), (update.target, []))[1].append(update)
    heard: dict[int, tuple[Symbolic, dict[KeyPath, FieldUpdate]]] = {}
    for target, target_updates in by_target.values():
        node = target
        prefix: tuple[Key, ...] = ()
        while node is not None:
            if _listens(node):
                entry = heard.get(id(node))
                if entry is None:
                    entry = heard[id(node)] = (node, {})
                for update in target_updates:
                    entry[1][KeyPath._from_keys(prefix + update.path.keys)] = update
            if node is stop_at:
                break
            parent = node._sym_parent
            if parent is not None:
                prefix = (node._sym_key,) + prefix  # type: ignore[operator]
            node = parent
    if not heard:
        return
    order = sorted(heard.values(), key=lambda e: _path_order(e[0]), reverse=True)
    for node, node_updates in order:
        if getattr(type(node), "_sym_has_on_bound", False):
            node._on_bound()  # type: ignore[attr-defined]
        if type(node)._on_change is not Symbolic._on_change:
            node._on_change(node_updates)
        callback = getattr(node, "_sym_onchange", None)
        if callback is not None:
            callback(node_updates)


def _path_order(node: Symbolic) -> tuple:
    return tuple((0, k, "") if type(k) is int else (1, 0, k) for k in node.sym_path.keys)


def notify_or_undo(updates: list[FieldUpdate], undo: Callable[[], None],
                   stop_at: Symbolic | None = None) -> None:
    """Notifies an edit; if a hook (``_on_bound``/``_on_change``) rejects it by raising, the
    edit is undone, the hooks hear the reverse change, and the error propagates: a rejected
    edit leaves nothing changed."""
    try:
        _notify(updates, stop_at)
    except Exception:
        undo()
        reverse = [FieldUpdate(u.path, u.target, u.new_value, u.old_value) for u in updates]
        try:
            _notify(reverse, stop_at)
        except Exception:  # the state before the edit was accepted once; keep the first error
            pass
        raise


def _link(value: Symbolic, parent: Symbolic | None, key: Key | None) -> None:
    if _HOOKS:
        _link_with_hooks(value, parent, key)
        return
    d = getattr(value, "__dict__", None)
    if d is not None and "_sym_parent" in d:  # Objects keep links in their __dict__
        d["_sym_parent"] = parent
        d["_sym_key"] = key
    else:  # List and Dict keep them in slots
        value._sym_parent = parent
        value._sym_key = key


def _link_with_hooks(value: Symbolic, parent: Symbolic | None, key: Key | None) -> None:
    """``_link`` once some class listens for parent or path changes."""
    old_parent = getattr(value, "_sym_parent", None)
    old_path = value.sym_path if getattr(value, "_sym_sealed", None) is not None else KeyPath()
    d = getattr(value, "__dict__", None)
    if d is not None and "_sym_parent" in d:
        d["_sym_parent"] = parent
        d["_sym_key"] = key
    else:
        value._sym_parent = parent
        value._sym_key = key
    cls = type(value)
    if old_parent is not parent and cls._on_parent_change is not Symbolic._on_parent_change:
        value._on_parent_change(old_parent, parent)
    new_path = value.sym_path
    if new_path != old_path:
        _paths_changed(value, old_path, new_path)


def _paths_changed(node: Symbolic, old: KeyPath, new: KeyPath) -> None:
    """Tells ``node`` and every node below it that listens that their paths moved."""
    if type(node)._on_path_change is not Symbolic._on_path_change:
        node._on_path_change(old, new)
    for key, child in node.sym_items():
        if isinstance(child, Symbolic) and child._sym_parent is node:
            _paths_changed(child, old + key, new + key)


def _set_key(node: Symbolic, key: Any) -> None:
    d = getattr(node, "__dict__", None)
    if d is not None and "_sym_key" in d:
        d["_sym_key"] = key
    else:
        node._sym_key = key


def _flatten(nested: dict, prefix: KeyPath, out: dict[str, Any]) -> None:
    for key, value in nested.items():
        path = prefix + key
        if isinstance(value, dict) and value:
            _flatten(value, path, out)
        else:
            out[str(path)] = value


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

    def _sym_missing(self) -> dict[Key, Any]:
        return {}  # a value decided later is not missing
