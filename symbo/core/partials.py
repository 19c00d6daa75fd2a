"""A ``functools.partial`` with markers in its arguments, as a node of a symbolic tree.

A plain partial is a value. One whose function, positional arguments or keyword arguments hold
a marker becomes a :class:`Partial` node when given to a symbolic object, with children
``func``, ``args`` (a tuple) and ``keywords`` (a dict), so that the markers are decisions
(``fn.keywords.factor``); materializing the space gives a plain ``functools.partial`` back.

>>> import functools
>>> import symbo as sb
>>> def scale(x, factor=1.0):
...     return x * factor
>>> space = sb.Dict(fn=functools.partial(scale, factor=sb.float_range(1.0, 3.0, name="factor")))
>>> [d.id for d in sb.dna_spec(space)]
['fn.keywords.factor']
>>> program = sb.materialize(space, sb.DNA.from_params(sb.dna_spec(space), {"factor": 2.0}))
>>> program.fn(5), type(program.fn).__name__
(10.0, 'partial')
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any

from symbo.core.containers import (
    _ATOMIC,
    _assign_slot,
    _clone_child,
    _Container,
    _copy_leaf,
)
from symbo.core.errors import SymbolicKeyError, SymbolicTypeError, at
from symbo.core.keypath import Key, KeyPath
from symbo.core.node import MISSING, Symbolic, Undo, _link

_KEYS = ("func", "args", "keywords")


class Partial(_Container):
    """``functools.partial(func, *args, **keywords)`` whose parts are tree children."""

    __slots__ = ("_sym_parent", "_sym_key", "_sym_sealed", "_sym_parts")
    _sym_plain = functools.partial

    def __init__(self, func: Any, args: Any = (), keywords: Any = None) -> None:
        from symbo.core.validation import check_value

        self._sym_parent = None
        self._sym_key = None
        self._sym_sealed = False
        parts = {"func": func, "args": tuple(args), "keywords": dict(keywords or {})}
        out: dict[str, Any] = {}
        try:
            for key in _KEYS:
                value = check_value(None, parts[key], KeyPath._from_keys((key,)))
                if isinstance(value, Symbolic):
                    value = self._sym_adopt(value, key)
                out[key] = value
        except BaseException:
            for value in out.values():
                if isinstance(value, Symbolic) and value._sym_parent is self:
                    _link(value, None, None)
            raise
        self._sym_parts = out

    @classmethod
    def of(cls, value: functools.partial) -> Partial:
        return cls(value.func, value.args, value.keywords)

    # ---- tree protocol -------------------------------------------------------------------
    def sym_items(self) -> Iterator[tuple[Key, Any]]:
        return iter(self._sym_parts.items())

    def _sym_child(self, key: Key) -> Any:
        if key in _KEYS:
            return self._sym_parts[key]  # type: ignore[index]
        raise SymbolicKeyError(at(self.sym_path, f"a partial has func, args and keywords, not "
                                                 f"{key!r}"))

    def _sym_check(self, key: Key, value: Any) -> Any:
        from symbo.core.validation import check_value

        if key not in _KEYS:
            raise SymbolicKeyError(at(self.sym_path, f"a partial has func, args and keywords, "
                                                     f"not {key!r}"))
        if value is MISSING:
            raise SymbolicTypeError(at(self.sym_path + key, "a partial's parts cannot be deleted"))
        if key == "func" and not callable(value) and not isinstance(value, Symbolic):
            raise SymbolicTypeError(at(self.sym_path + key, f"expected callable, got "
                                                            f"{type(value).__name__}"))
        return check_value(None, value, self.sym_path + key)

    def _sym_assign(self, key: Key, value: Any) -> tuple[Any, Undo]:
        return _assign_slot(self, self._sym_parts, key, value)

    def _sym_clone(self, deep: bool, memo: dict) -> Partial:
        out = Partial.__new__(Partial)
        out._sym_parent = None
        out._sym_key = None
        out._sym_sealed = self._sym_sealed
        parts = {}
        for key, value in self._sym_parts.items():
            if type(value) in _ATOMIC:
                parts[key] = value
            elif isinstance(value, Symbolic):
                c = _clone_child(value, deep, memo)
                if isinstance(c, Symbolic):
                    _link(c, out, key)
                parts[key] = c
            else:
                parts[key] = _copy_leaf(value, deep, memo)
        out._sym_parts = parts
        return out

    # ---- the partial ---------------------------------------------------------------------
    def to_plain(self) -> functools.partial:
        """The ``functools.partial`` of the parts (as they are: markers stay markers)."""
        parts = self._sym_parts
        args = parts["args"]
        keywords = parts["keywords"]
        args = args.to_plain() if hasattr(args, "to_plain") else tuple(args)
        return functools.partial(parts["func"], *args, **dict(keywords))

    @property
    def func(self) -> Any:
        return self._sym_parts["func"]

    @property
    def args(self) -> Any:
        return self._sym_parts["args"]

    @property
    def keywords(self) -> Any:
        return self._sym_parts["keywords"]

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.to_plain()(*args, **kwargs)

    def sym_eq(self, other: Any) -> bool:
        """Equal to a partial (plain or not) of equal function and arguments."""
        from symbo.core.compare import eq

        if not isinstance(other, (functools.partial, Partial)):
            return False
        return eq(self.func, other.func) and eq(tuple(self.args), tuple(other.args)) and \
            eq(dict(self.keywords), dict(other.keywords))

    def sym_format(self, fmt: Callable[[Any], str]) -> str:
        """``partial(func, arg, ..., key=value, ...)``."""
        parts = [fmt(self.func)] + [fmt(a) for a in self.args]
        parts += [f"{k}={fmt(v)}" for k, v in dict.items(self.keywords)]
        return f"partial({', '.join(parts)})"

    def __repr__(self) -> str:
        from symbo.core.formatting import format as sym_format

        return sym_format(self, compact=True)

    def __reduce__(self) -> Any:
        return (_rebuild_partial, (self.func, tuple(self.args), dict(self.keywords)))


def _rebuild_partial(func: Any, args: tuple, keywords: dict) -> Partial:
    return Partial(func, args, keywords)
