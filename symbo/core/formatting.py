"""``sb.format``: readable, deterministic text for symbolic values.

Short values stay on one line; longer ones break one child per line. Classes print by their
registered short name, so the text language of ``symbo.dsl`` can read the text back.

>>> import symbo as sb
>>> print(sb.format(sb.Dict(lr=0.1, layers=[64, 32])))
{'lr': 0.1, 'layers': [64, 32]}
>>> print(sb.format(sb.Dict(name="a" * 30, layers=list(range(12)))))
{
  'name': 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
  'layers': [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]
}
"""

from __future__ import annotations

import functools
import math
from typing import Any

from symbo.core import registry
from symbo.core.compare import eq
from symbo.core.node import MISSING, Symbolic


def format(  # noqa: A001 - the public name is sb.format
    value: Any,
    compact: bool = False,
    *,
    indent: int = 2,
    max_width: int = 80,
    hide_default: bool = False,
) -> str:
    """Text for ``value``: one line when ``compact`` or short enough, else indented.

    ``hide_default=True`` leaves out fields of objects that hold their default value.
    """
    return _fmt(value, 0, compact, indent, max_width, hide_default)


def type_label(cls: type) -> str:
    """The name a class prints under: its registered short name, or its qualified name."""
    return registry.short_name(cls) or cls.__qualname__


def _leaf(value: Any) -> str:
    t = type(value)
    if t is float:
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if t in (int, str, bool, type(None)) or value is MISSING:
        return repr(value)
    name = registry.short_name(value) if (isinstance(value, type) or callable(value)) else None
    if name is not None:
        return name
    if t is functools.partial:
        parts = [_leaf(value.func)] + [_fmt(a, 0, True, 2, 80, False) for a in value.args]
        parts += [f"{k}={_fmt(v, 0, True, 2, 80, False)}" for k, v in value.keywords.items()]
        return f"partial({', '.join(parts)})"
    name = registry.reference_name(value)  # functions, classes, module-level objects
    if name is not None:
        return name
    if t.__repr__ is object.__repr__:  # no memory addresses: the text must not vary by run
        return f"<{type_label(t)} object>"
    if isinstance(value, type) or callable(value) and hasattr(value, "__qualname__"):
        return f"<{'class' if isinstance(value, type) else 'function'} {value.__qualname__}>"
    return repr(value)


def _items(value: Symbolic, hide_default: bool) -> list[tuple[str, Any]]:
    if isinstance(value, list):
        return [("", v) for v in list.__iter__(value)]
    if isinstance(value, dict):
        return [(f"{k!r}: ", v) for k, v in dict.items(value)]
    items = []
    fields = type(value).sym_schema().by_name  # type: ignore[attr-defined]
    for key, v in value.sym_items():
        f = fields.get(key)
        if hide_default and f is not None and eq(v, f.default):
            continue
        items.append((f"{key}=", v))
    return items


def _brackets(value: Any) -> tuple[str, str]:
    if isinstance(value, list):
        return "[", "]"
    if isinstance(value, dict):
        return "{", "}"
    if isinstance(value, tuple):
        return "(", ")"
    return f"{type_label(type(value))}(", ")"


def _fmt(value: Any, level: int, compact: bool, indent: int, width: int, hide: bool,
         extra: int = 0) -> str:
    """Text for ``value`` at nesting ``level``; ``extra`` is the width of what shares its line
    (a ``key=`` label before it, a comma after it)."""
    if isinstance(value, Symbolic):
        custom = getattr(value, "sym_format", None)
        if custom is not None:
            return custom(lambda v, c=compact: _fmt(v, level, c, indent, width, hide))
        items = _items(value, hide)
    elif isinstance(value, (list, tuple)) and type(value) in (list, tuple):
        items = [("", v) for v in value]
    elif type(value) is dict:
        items = [(f"{k!r}: ", v) for k, v in value.items()]
    else:
        return _leaf(value)
    open_, close = _brackets(value)
    one_line = ", ".join(p + _fmt(v, 0, True, indent, width, hide) for p, v in items)
    if type(value) is tuple and len(items) == 1:
        one_line += ","
    used = level * indent + extra + len(open_) + len(one_line) + len(close)
    if compact or not items or used <= width:
        return f"{open_}{one_line}{close}"
    pad = " " * (indent * (level + 1))
    last = len(items) - 1
    lines = [pad + p + _fmt(v, level + 1, False, indent, width, hide, len(p) + (i < last))
             for i, (p, v) in enumerate(items)]
    return open_ + "\n" + ",\n".join(lines) + "\n" + " " * (indent * level) + close
