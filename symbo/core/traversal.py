"""Walking and searching symbolic trees: ``sb.clone``, ``sb.traverse``, ``sb.query``.

>>> import symbo as sb
>>> t = sb.Dict(opt=sb.Dict(lr=0.1), sched=sb.Dict(lr=0.01))
>>> sorted(str(p) for p in sb.query(t, path_regex=r".*lr"))
['opt.lr', 'sched.lr']
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from typing import Any

from symbo.core.containers import REPLACE, _copy_leaf
from symbo.core.keypath import KeyPath
from symbo.core.node import Symbolic


def clone(value: Any, deep: bool = True, *, replace: Callable[[Any], Any] | None = None) -> Any:
    """A copy of a symbolic tree that shares no symbolic nodes with the original.

    ``deep=True`` also deep-copies non-symbolic leaves (arrays, custom objects); ``deep=False``
    shares them. The clone is a new root (no parent), equal to the original.
    ``replace(node)``, when given, is asked about every symbolic node below the root, in
    preorder: returning another value puts that value in the copy instead of a clone of the
    node (its subtree is not visited); returning the node itself clones it as usual.

    >>> import symbo as sb
    >>> a = sb.Dict(x=[1, 2], y=sb.Dict(z=3))
    >>> b = sb.clone(a)
    >>> sb.eq(a, b), a.x is b.x
    (True, False)
    >>> sb.clone(a, replace=lambda n: "swapped" if n is a.y else n)
    Dict({'x': List([1, 2]), 'y': 'swapped'})
    """
    if isinstance(value, Symbolic):
        memo: dict = {} if replace is None else {REPLACE: replace}
        return value._sym_clone(deep, memo)
    return _copy_leaf(value, deep, {})


class TraverseAction(enum.Enum):
    """What a visitor returns: go on into children, skip them, or stop the walk."""

    ENTER = "enter"
    SKIP = "skip"
    STOP = "stop"


Visitor = Callable[[KeyPath, Any, Any], "TraverseAction | bool | None"]


def traverse(
    value: Any,
    preorder_visit_fn: Visitor | None = None,
    postorder_visit_fn: Visitor | None = None,
) -> bool:
    """Visits every node as ``fn(path, value, parent)``, parents before children (preorder).

    A preorder visitor may return ``TraverseAction.SKIP`` (or False) to skip the node's
    children and ``TraverseAction.STOP`` to end the walk. Returns False when stopped.

    >>> import symbo as sb
    >>> seen = []
    >>> sb.traverse(sb.Dict(a=1, b=[2]), lambda p, v, parent: seen.append(str(p)))
    True
    >>> seen
    ['', 'a', 'b', 'b[0]']
    """
    return _walk(value, KeyPath(), None, preorder_visit_fn, postorder_visit_fn)


def _walk(value: Any, path: KeyPath, parent: Any, pre: Visitor | None,
          post: Visitor | None) -> bool:
    if pre is not None:
        action = pre(path, value, parent)
        if action is TraverseAction.STOP:
            return False
        if action is TraverseAction.SKIP or action is False:
            if post is not None and post(path, value, parent) is TraverseAction.STOP:
                return False
            return True
    if isinstance(value, Symbolic):
        for key, child in list(value.sym_items()):
            if not _walk(child, path + key, value, pre, post):
                return False
    if post is not None and post(path, value, parent) is TraverseAction.STOP:
        return False
    return True


def query(
    value: Any,
    path_regex: str | re.Pattern | None = None,
    where: Callable[[Any], bool] | None = None,
    *,
    custom_selector: Callable[[KeyPath, Any], bool] | None = None,
    enter_selected: bool = True,
) -> dict[KeyPath, Any]:
    """Nodes whose path matches ``path_regex`` (``re.fullmatch``) and value satisfies ``where``.

    Returns ``{KeyPath: value}`` in preorder; keys compare equal to their text form. With
    ``enter_selected=False`` nothing below a selected node is returned.

    >>> import symbo as sb
    >>> sb.query(sb.Dict(a=1, b=[2, "x"]), where=lambda v: isinstance(v, int))
    {KeyPath('a'): 1, KeyPath('b[0]'): 2}
    """
    pattern = re.compile(path_regex) if isinstance(path_regex, str) else path_regex
    out: dict[KeyPath, Any] = {}

    def visit(path: KeyPath, node: Any, parent: Any) -> TraverseAction:
        selected = (
            (pattern is None or pattern.fullmatch(str(path)) is not None)
            and (where is None or where(node))
            and (custom_selector is None or custom_selector(path, node))
        )
        if selected:
            out[path] = node
            if not enter_selected:
                return TraverseAction.SKIP
        return TraverseAction.ENTER

    traverse(value, visit)
    return out
