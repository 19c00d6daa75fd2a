"""``sb.diff`` and ``sb.Diff``: where two symbolic values differ (or agree).

>>> import symbo as sb
>>> sb.diff(sb.Dict(x=1, y=[1, 2]), sb.Dict(x=1, y=[1, 3]))
{KeyPath('y[1]'): Diff(left=2, right=3)}
"""

from __future__ import annotations

from typing import Any

import attrs

from symbo.core.compare import eq, sym_hash
from symbo.core.keypath import KeyPath
from symbo.core.node import MISSING, Symbolic


@attrs.frozen(slots=True, eq=False)
class Diff:
    """A difference at one key path: the value on the left and on the right (or MISSING).

    A Diff is true when the two sides differ: ``bool(sb.Diff(1, 1))`` is False, and such a
    Diff equals its common value.

    >>> import symbo as sb
    >>> bool(sb.Diff(1, 2)), bool(sb.Diff(1, 1)), sb.Diff(1, 1) == 1, sb.Diff(1, 1).value
    (True, False, True, 1)
    """

    left: Any = MISSING
    right: Any = MISSING

    def __bool__(self) -> bool:
        return not eq(self.left, self.right)

    @property
    def is_leaf(self) -> bool:
        """Always True: a flattened diff has no children."""
        return True

    @property
    def value(self) -> Any:
        """The common value when the two sides are the same."""
        if self:
            from symbo.core.errors import SymbolicValueError

            raise SymbolicValueError(
                f"'value' cannot be read when 'left' and 'right' differ: left={self.left!r}, "
                f"right={self.right!r}"
            )
        return self.left

    def sym_eq(self, other: Any) -> bool:
        if isinstance(other, Diff):
            return eq(self.left, other.left) and eq(self.right, other.right)
        return not self and eq(self.left, other)

    def __eq__(self, other: object) -> bool:
        return self.sym_eq(other)

    def __ne__(self, other: object) -> bool:
        return not self.sym_eq(other)

    def __hash__(self) -> int:
        return sym_hash(self.left) if not self else hash((sym_hash(self.left),
                                                           sym_hash(self.right)))

    def __repr__(self) -> str:
        return f"Diff(left={_show(self.left)}, right={_show(self.right)})"


def _show(value: Any) -> str:
    if isinstance(value, type):
        from symbo.core.formatting import type_label

        return type_label(value)
    return repr(value)


_MODES = ("diff", "same", "both")


def diff(a: Any, b: Any, *, collapse: Any = "same_type",
         mode: str = "diff") -> dict[KeyPath, Diff]:
    """The key paths where ``a`` and ``b`` differ: ``{KeyPath: Diff(left, right)}``.

    Lists and dicts are compared item by item (keys present on one side only appear with
    ``MISSING`` on the other); two symbolic objects are compared field by field when
    ``collapse`` says so: ``"same_type"`` (the default) when they are of one class, ``True``
    for any two objects or dicts, ``False`` never, or a function ``fn(a, b) -> bool``.
    Objects of different classes compared field by field add ``Diff(type_a, type_b)`` under
    the key ``_type``. Other values are reported whole. ``mode="same"`` reports the values
    that are the same instead (``Diff(v, v)``, falsy), ``mode="both"`` both.

    >>> import symbo as sb
    >>> class B(sb.Object):
    ...     x: int
    ...     y: int
    >>> class C(B):
    ...     pass
    >>> sb.diff(B(1, 2), C(1, 3), collapse=True)
    {KeyPath('y'): Diff(left=2, right=3), KeyPath('_type'): Diff(left=B, right=C)}
    >>> sb.diff(B(1, 2), B(1, 3), mode="same")
    {KeyPath('x'): Diff(left=1, right=1)}
    """
    if mode not in _MODES:
        from symbo.core.errors import SymbolicValueError

        raise SymbolicValueError(f"diff mode must be one of {list(_MODES)}, got {mode!r}")
    out: dict[KeyPath, Diff] = {}
    _diff(a, b, KeyPath(), out, collapse, mode)
    return out


def _should_collapse(a: Any, b: Any, collapse: Any) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return True
    if isinstance(a, list):
        return isinstance(b, list)
    if isinstance(a, (dict, Symbolic)) and isinstance(b, (dict, Symbolic)) \
            and not isinstance(b, list):
        if isinstance(collapse, bool):
            return collapse
        if collapse == "same_type":
            return type(a) is type(b)
        if callable(collapse):
            return bool(collapse(a, b))
        from symbo.core.errors import SymbolicValueError

        raise SymbolicValueError(
            f"unsupported collapse value {collapse!r}: use True, False, 'same_type' or a "
            "function (a, b) -> bool"
        )
    return False


def _children(value: Any) -> dict:
    if isinstance(value, Symbolic):
        return dict(value.sym_items())
    if isinstance(value, dict):
        return dict(value)
    return dict(enumerate(value))


def _diff(a: Any, b: Any, path: KeyPath, out: dict[KeyPath, Diff], collapse: Any,
          mode: str) -> bool:
    """Adds the entries for ``a`` and ``b`` at ``path``; returns whether they differ."""
    if eq(a, b):
        if mode != "diff":
            out[path] = Diff(a, b)
        return False
    if not _should_collapse(a, b, collapse):
        if mode != "same":
            out[path] = Diff(a, b)
        return True
    ca, cb = _children(a), _children(b)
    for key in list(ca) + [k for k in cb if k not in ca]:
        _diff(ca.get(key, MISSING), cb.get(key, MISSING), path + key, out, collapse, mode)
    same_kind = (isinstance(a, list) and isinstance(b, list)) or \
        (isinstance(a, dict) and isinstance(b, dict))  # sb.List/list, sb.Dict/dict
    if type(a) is not type(b) and not same_kind:
        out[path + "_type"] = Diff(type(a), type(b))
    return True
