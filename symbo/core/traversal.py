"""Walking and searching symbolic trees: ``sb.clone``, ``sb.traverse``, ``sb.query``.

>>> import symbo as sb
>>> t = sb.Dict(opt=sb.Dict(lr=0.1), sched=sb.Dict(lr=0.01))
>>> sorted(str(p) for p in sb.query(t, path_regex=r".*lr"))
['opt.lr', 'sched.lr']
"""

from __future__ import annotations

import enum
import inspect
import re
from collections.abc import Callable
from typing import Any

from symbo.core.containers import REPLACE, _copy_leaf
from symbo.core.keypath import KeyPath
from symbo.core.node import Symbolic


def clone(value: Any, deep: bool = True, *, replace: Callable[[Any], Any] | None = None,
          memo: dict | None = None) -> Any:
    """A copy of a symbolic tree that shares no symbolic nodes with the original.

    ``deep=True`` also deep-copies non-symbolic leaves (arrays, custom objects: with
    ``copy.deepcopy``; functions, classes and tuples of atoms are kept); ``deep=False`` shares
    them. The clone is a new root (no parent), equal to the original.
    ``replace(node)``, when given, is asked about every symbolic node below the root, in
    preorder: returning another value puts that value in the copy instead of a clone of the
    node (its subtree is not visited); returning the node itself clones it as usual.
    ``memo`` (a dict, as ``copy.deepcopy``'s) may be shared by several clones: an object met
    in several of them is copied once, so that what was one object stays one object.

    >>> import symbo as sb
    >>> a = sb.Dict(x=[1, 2], y=sb.Dict(z=3))
    >>> b = sb.clone(a)
    >>> sb.eq(a, b), a.x is b.x
    (True, False)
    >>> sb.clone(a, replace=lambda n: "swapped" if n is a.y else n)
    Dict({'x': List([1, 2]), 'y': 'swapped'})
    """
    if memo is None:
        memo = {}
    if not isinstance(value, Symbolic):
        return _copy_leaf(value, deep, memo)
    outer = memo.pop(REPLACE, None)
    if replace is not None:
        memo[REPLACE] = replace
    try:
        return value._sym_clone(deep, memo)
    finally:
        memo.pop(REPLACE, None)
        if outer is not None:
            memo[REPLACE] = outer


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
    where: Callable[..., bool] | None = None,
    *,
    custom_selector: Callable[..., bool] | None = None,
    enter_selected: bool = True,
) -> dict[KeyPath, Any]:
    """Nodes whose path matches ``path_regex`` (``re.fullmatch``) and value satisfies ``where``.

    ``where`` is ``fn(value)`` or ``fn(value, parent)``; ``custom_selector`` (combined with
    the others) is ``fn(path, value)`` or ``fn(path, value, parent)``. Returns
    ``{KeyPath: value}`` in preorder; keys compare equal to their text form. With
    ``enter_selected=False`` nothing below a selected node is returned.

    >>> import symbo as sb
    >>> sb.query(sb.Dict(a=1, b=[2, "x"]), where=lambda v: isinstance(v, int))
    {KeyPath('a'): 1, KeyPath('b[0]'): 2}
    >>> sb.query(sb.Dict(a=1, b=[2]), where=lambda v, parent: isinstance(parent, list))
    {KeyPath('b[0]'): 2}
    """
    pattern = re.compile(path_regex) if isinstance(path_regex, str) else path_regex
    out: dict[KeyPath, Any] = {}
    where_fn = None if where is None else _with_parent(where, 1, "where", "(value, [parent])")
    select_fn = None if custom_selector is None else _with_parent(
        custom_selector, 2, "custom_selector", "(path, value, [parent])")

    def visit(path: KeyPath, node: Any, parent: Any) -> TraverseAction:
        selected = (
            (pattern is None or pattern.fullmatch(str(path)) is not None)
            and (where_fn is None or where_fn(node, parent))
            and (select_fn is None or select_fn(path, node, parent))
        )
        if selected:
            out[path] = node
            if not enter_selected:
                return TraverseAction.SKIP
        return TraverseAction.ENTER

    traverse(value, visit)
    return out


def _with_parent(fn: Callable[..., Any], arity: int, name: str, shape: str) -> Callable[..., Any]:
    """``fn`` taking ``arity`` arguments, or ``arity + 1`` (the last one the parent), as a
    function that always takes the parent."""
    n = _positional_count(fn)
    if n is None or n == arity + 1:
        return fn
    if n == arity:
        return lambda *args: fn(*args[:-1])
    from symbo.core.errors import SymbolicTypeError

    raise SymbolicTypeError(f"{name} must take {shape}, got a function of {n} arguments")


def _positional_count(fn: Callable[..., Any]) -> int | None:
    """How many positional arguments ``fn`` takes (None: any number, or unknown)."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return None
    n = 0
    for p in params:
        if p.kind is p.VAR_POSITIONAL:
            return None
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty:
            n += 1
    return n


def contains(x: Any, value: Any = None, type: Any = None) -> bool:  # noqa: A002
    """Whether ``x`` or anything below it equals ``value`` (``sb.eq``), or, with ``type``, is
    an instance of that class (or tuple of classes).

    >>> import symbo as sb
    >>> sb.contains(sb.Dict(a=[1, "x"]), "x"), sb.contains(sb.Dict(a=[1]), type=str)
    (True, False)
    """
    from symbo.core.compare import eq

    if type is not None:
        def visit(path: KeyPath, node: Any, parent: Any) -> TraverseAction:
            return TraverseAction.STOP if isinstance(node, type) else TraverseAction.ENTER
    else:
        def visit(path: KeyPath, node: Any, parent: Any) -> TraverseAction:
            return TraverseAction.STOP if eq(node, value) else TraverseAction.ENTER
    return not traverse(x, visit)


class DescendantQueryOption(enum.Enum):
    """Which matches ``sym_descendants`` returns: all of them, only the first ones on each
    branch (their subtrees are not searched), or only those with no matching descendants."""

    ALL = "all"
    IMMEDIATE = "immediate"
    LEAF = "leaf"


def descendants(node: Any, where: Callable[[Any], bool] | None, option: Any,
                include_self: bool) -> list[Any]:
    """See :meth:`Symbolic.sym_descendants`."""
    option = DescendantQueryOption(option.value if isinstance(option, enum.Enum) else option)
    out: list[Any] = []

    def visit(path: KeyPath, value: Any, parent: Any) -> TraverseAction:
        if (value is node and not include_self) or (where is not None and not where(value)):
            return TraverseAction.ENTER
        if option is DescendantQueryOption.IMMEDIATE:
            out.append(value)
            return TraverseAction.SKIP
        below = descendants(value, where, option, False) if isinstance(value, Symbolic) else []
        if option is DescendantQueryOption.ALL or not below:
            out.append(value)
        out.extend(below)
        return TraverseAction.SKIP

    traverse(node, visit)
    return out
