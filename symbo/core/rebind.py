"""``rebind``: atomic, validated, in-place edits of a symbolic tree by key path.

>>> import symbo as sb
>>> t = sb.Dict(lr=0.1, layers=[64, 64])
>>> t.rebind({"layers[1]": 32}, lr=0.01)
Dict({'lr': 0.01, 'layers': List([64, 32])})
>>> t.rebind(lambda path, value, parent: value * 2 if isinstance(value, int) else value)
Dict({'lr': 0.01, 'layers': List([128, 64])})
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from symbo.core.containers import _ATOMIC, Insertion, List
from symbo.core.errors import SymbolicKeyError, SymbolicTypeError, SymbolicValueError, at
from symbo.core.keypath import Key, KeyPath
from symbo.core.node import FieldUpdate, Symbolic, Undo, notify_or_undo
from symbo.core.traversal import TraverseAction, _with_parent, traverse

Rebinder = Callable[..., Any]


def rebind(
    target: Symbolic,
    path_values: dict[str | int | KeyPath, Any] | Rebinder | None = None,
    /,
    *,
    raise_on_no_change: bool = False,
    notify_parents: bool = True,
    skip_notification: bool | None = None,
    **kwargs: Any,
) -> Symbolic:
    """Sets values at key paths below ``target``; validates; all or nothing; notifies.

    ``path_values`` maps key paths (``"head.layers[0]"``, or an int for a list index) to new
    values; keyword arguments name direct fields. A function ``fn(path, value, parent)`` (or
    ``fn(path, value)``) may be given instead (keyword arguments still apply): every node below
    ``target`` is visited (preorder) and a returned value that is not the current one replaces
    it. Every path is resolved against the tree as it is before the edit, so the order of the
    keys does not matter.

    Setting ``sb.MISSING`` deletes a dict key or list item and resets a field to its default;
    an index equal to a list's length appends; ``sb.Insertion(value)`` inserts before an index.
    Values equal to the current ones change nothing and are not notified. On any error nothing
    is changed.

    ``notify_parents=False`` tells only ``target`` and the nodes below it;
    ``skip_notification=True`` tells nobody (default: as ``sb.notify_on_change`` says).
    ``raise_on_no_change=True`` makes an edit with nothing to set a ValueError. Returns
    ``target``.

    >>> import symbo as sb
    >>> xs = sb.List([{"a": 1}, {"a": 2}, {"a": 3}])
    >>> xs.rebind({"[0]": sb.MISSING, "[1].a": 20, 1: sb.Insertion({"a": 0})})
    List([Dict({'a': 0}), Dict({'a': 20}), Dict({'a': 3})])
    """
    if not isinstance(target, Symbolic):
        raise SymbolicTypeError(f"rebind needs a symbolic value, got {type(target).__name__}")
    if callable(path_values) and not isinstance(path_values, dict):
        updates = _from_rebinder(target, path_values)
    else:
        if path_values is None:
            path_values = {}
        elif not isinstance(path_values, dict):
            raise SymbolicTypeError(
                f"rebind takes a dict of key paths or a function, got {type(path_values).__name__}"
            )
        items = path_values.sym_items() if isinstance(path_values, Symbolic) else \
            path_values.items()
        updates = [(KeyPath.parse(k), v) for k, v in items]
    if kwargs:
        updates += [(KeyPath._from_keys((k,)), v) for k, v in kwargs.items()]
    if not updates:
        if raise_on_no_change:
            raise SymbolicValueError(at(target.sym_path, "there are no values to rebind"))
        return target
    apply_updates(target, updates, notify=not skip_notification,
                  stop_at=None if notify_parents else target)
    return target


def _from_rebinder(target: Symbolic, fn: Rebinder) -> list[tuple[KeyPath, Any]]:
    updates: list[tuple[KeyPath, Any]] = []
    fn3 = _with_parent(fn, 2, "a rebinder", "(path, value, [parent])")

    def visit(path: KeyPath, value: Any, parent: Any) -> TraverseAction:
        if parent is None:
            return TraverseAction.ENTER
        new = fn3(path, value, parent)
        if new is not value:
            updates.append((path, new))
            return TraverseAction.SKIP
        return TraverseAction.ENTER

    traverse(target, visit)
    return updates


def apply_updates(target: Symbolic, updates: list[tuple[KeyPath, Any]], *,
                  notify: bool = True, stop_at: Symbolic | None = None) -> None:
    """Applies (relative path, value) pairs atomically, then notifies each changed node.

    Every path's parent is found in the tree as it is before any change; edits of one list are
    applied together by their original indices (see :meth:`List._sym_edit_indices`).
    """
    groups: Any
    if len(updates) == 1:  # the common case: no grouping needed
        path, value = updates[0]
        groups = ((_parent_for(target, path), [(path.keys[-1], value, path)]),)
    else:
        by_id: dict[int, tuple[Symbolic, list[tuple[Key, Any, KeyPath]]]] = {}
        for path, value in updates:
            parent = _parent_for(target, path)
            by_id.setdefault(id(parent), (parent, []))[1].append((path.keys[-1], value, path))
        groups = by_id.values()
    undos: list[Undo] = []
    changed: list[FieldUpdate] = []
    try:
        for parent, edits in groups:
            if isinstance(parent, List):
                list_updates, undo = parent._sym_edit_indices(edits)
                undos.append(undo)
                changed.extend(list_updates)
                continue
            for key, value, path in edits:
                if type(value) is Insertion:
                    raise SymbolicTypeError(
                        at(target.sym_path + path, "sb.Insertion only inserts into lists")
                    )
                try:
                    checked = parent._sym_check(key, value)
                    old = parent._sym_peek(key)
                    if old is checked or (type(old) is type(checked) and type(old) in _ATOMIC
                                          and old == checked):
                        continue  # no change: nothing to set or notify
                    old, undo = parent._sym_assign(key, checked)
                except SymbolicKeyError as e:
                    raise SymbolicKeyError(f"unknown key path {str(path)!r}: {e}") from None
                undos.append(undo)
                changed.append(FieldUpdate(KeyPath._from_keys((key,)), parent, old, checked))
    except BaseException:
        for undo in reversed(undos):
            undo()
        raise
    if not changed or not notify:
        return

    def undo_all() -> None:
        for undo in reversed(undos):
            undo()

    notify_or_undo(changed, undo_all, stop_at)


def _parent_for(target: Symbolic, path: KeyPath) -> Symbolic:
    """The (unsealed) node that holds the value at ``path``."""
    keys = path.keys
    if not keys:
        raise SymbolicKeyError("rebind cannot replace the root itself; give a key path")
    node: Any = target
    if len(keys) == 2 and type(keys[0]) is int and type(node) is List:  # "[i].field"
        try:
            node = node._sym_child(keys[0])
        except SymbolicKeyError as e:
            raise SymbolicKeyError(f"unknown key path {str(path)!r}: {e}") from None
        if isinstance(node, Symbolic):
            node._sym_check_not_sealed()
            return node
        node = target
    parent = _resolve_parent(node, path)
    parent._sym_check_not_sealed()
    return parent


def _resolve_parent(target: Symbolic, path: KeyPath) -> Symbolic:
    node: Any = target
    for i, key in enumerate(path.keys[:-1]):
        if not isinstance(node, Symbolic):
            where = target.sym_path + KeyPath._from_keys(path.keys[:i])
            raise SymbolicKeyError(
                at(where, f"unknown key path {str(path)!r}: "
                          f"a {type(node).__name__} has no key {key!r}")
            )
        try:
            node = node._sym_child(key)
        except SymbolicKeyError as e:
            raise SymbolicKeyError(f"unknown key path {str(path)!r}: {e}") from None
    if not isinstance(node, Symbolic):
        where = target.sym_path + path.parent
        raise SymbolicKeyError(
            at(where, f"unknown key path {str(path)!r}: a {type(node).__name__} has no children")
        )
    return node
