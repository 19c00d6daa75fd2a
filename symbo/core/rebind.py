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

from symbo.core.errors import SymbolicKeyError, SymbolicTypeError, at
from symbo.core.keypath import KeyPath
from symbo.core.node import FieldUpdate, Symbolic, Undo, notify_or_undo
from symbo.core.traversal import TraverseAction, traverse

Rebinder = Callable[[KeyPath, Any, Any], Any]


def rebind(
    target: Symbolic,
    path_values: dict[str | KeyPath, Any] | Rebinder | None = None,
    /,
    **kwargs: Any,
) -> Symbolic:
    """Sets values at key paths below ``target``; validates; all or nothing; notifies.

    ``path_values`` maps key paths (``"head.layers[0]"``) to new values; keyword arguments
    name direct fields. A function ``fn(path, value, parent)`` may be given instead (keyword
    arguments still apply): every node below ``target`` is visited (preorder) and a returned
    value that is not the current one replaces it.
    Setting ``sb.MISSING`` deletes a dict key or list item and resets a field to its default;
    an index equal to a list's length appends. On any error nothing is changed.
    Returns ``target``.
    """
    if not isinstance(target, Symbolic):
        raise SymbolicTypeError(f"rebind needs a symbolic value, got {type(target).__name__}")
    if callable(path_values) and not isinstance(path_values, dict):
        updates = _from_rebinder(target, path_values)
        updates += [(KeyPath._from_keys((k,)), v) for k, v in kwargs.items()]
    else:
        if path_values is None:
            path_values = {}
        elif not isinstance(path_values, dict):
            raise SymbolicTypeError(
                f"rebind takes a dict of key paths or a function, got {type(path_values).__name__}"
            )
        updates = [(KeyPath.parse(k), v) for k, v in path_values.items()]
        updates += [(KeyPath._from_keys((k,)), v) for k, v in kwargs.items()]
    if not updates:
        return target
    apply_updates(target, updates)
    return target


def _from_rebinder(target: Symbolic, fn: Rebinder) -> list[tuple[KeyPath, Any]]:
    updates: list[tuple[KeyPath, Any]] = []

    def visit(path: KeyPath, value: Any, parent: Any) -> TraverseAction:
        if parent is None:
            return TraverseAction.ENTER
        new = fn(path, value, parent)
        if new is not value:
            updates.append((path, new))
            return TraverseAction.SKIP
        return TraverseAction.ENTER

    traverse(target, visit)
    return updates


def apply_updates(target: Symbolic, updates: list[tuple[KeyPath, Any]]) -> None:
    """Applies (relative path, value) pairs atomically, then notifies each changed node."""
    undos: list[Undo] = []
    changed: list[tuple[Symbolic, FieldUpdate]] = []
    try:
        for path, value in updates:
            if path.is_root:
                raise SymbolicKeyError("rebind cannot replace the root itself; give a key path")
            parent = _resolve_parent(target, path)
            parent._sym_check_not_sealed()
            key = path.keys[-1]
            try:
                checked = parent._sym_check(key, value)
                old, undo = parent._sym_assign(key, checked)
            except SymbolicKeyError as e:
                raise SymbolicKeyError(f"unknown key path {str(path)!r}: {e}") from None
            undos.append(undo)
            changed.append((parent, FieldUpdate(KeyPath._from_keys((key,)), parent, old, checked)))
    except BaseException:
        for undo in reversed(undos):
            undo()
        raise

    def undo_all() -> None:
        for undo in reversed(undos):
            undo()

    notify_or_undo([update for _, update in changed], undo_all)


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
