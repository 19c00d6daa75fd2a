"""Key paths: the address of a node inside a symbolic tree, e.g. ``head.layers[0].units``.

>>> import symbo as sb
>>> p = sb.KeyPath.parse("head.layers[0]")
>>> p.keys, str(p + "units"), str(p.parent)
(('head', 'layers', 0), 'head.layers[0].units', 'head.layers')
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

from symbo.core.errors import SymbolicValueError

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<name>[A-Za-z_][A-Za-z0-9_]*)
      | \[\s*(?P<index>-?\d+)\s*\]
      | \[\s*(?P<quoted>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")\s*\]
      | (?P<dot>\.)
    )""",
    re.VERBOSE,
)

Key = str | int


class KeyPath:
    """An immutable sequence of keys (field names, dict keys and list indices).

    A KeyPath compares equal to its text form, so query results can be looked up by string.

    >>> import symbo as sb
    >>> sb.KeyPath(("a", 0, "b")) == "a[0].b"
    True
    """

    __slots__ = ("keys", "_text")

    def __init__(self, keys: Iterable[Key] = ()) -> None:
        keys = tuple(keys)
        for key in keys:
            if type(key) is not str and type(key) is not int:
                raise SymbolicValueError(f"key path keys must be str or int, got {key!r}")
        object.__setattr__(self, "keys", keys)
        object.__setattr__(self, "_text", None)

    @staticmethod
    def parse(text: str | int | KeyPath) -> KeyPath:
        """Parses ``"a.b[0]['odd key']"``; an empty string is the root path, an int the path
        of one list index."""
        if isinstance(text, KeyPath):
            return text
        if type(text) is int:
            return KeyPath._from_keys((text,))
        if not isinstance(text, str):
            raise SymbolicValueError(
                f"a key path must be a str, got {type(text).__name__} {text!r}"
            )
        return _parse(text)

    @staticmethod
    def _from_keys(keys: tuple[Key, ...]) -> KeyPath:
        path = object.__new__(KeyPath)
        object.__setattr__(path, "keys", keys)
        object.__setattr__(path, "_text", None)
        return path

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("KeyPath is immutable")

    def __reduce__(self) -> tuple:
        return (KeyPath._from_keys, (self.keys,))

    def __copy__(self) -> KeyPath:
        return self

    def __deepcopy__(self, memo: dict) -> KeyPath:
        return self

    @property
    def key(self) -> Key | None:
        """The last key, or None at the root."""
        return self.keys[-1] if self.keys else None

    @property
    def parent(self) -> KeyPath:
        """The path without its last key (the root's parent is the root)."""
        return KeyPath._from_keys(self.keys[:-1])

    @property
    def depth(self) -> int:
        return len(self.keys)

    @property
    def is_root(self) -> bool:
        return not self.keys

    def __add__(self, other: Key | KeyPath | Iterable[Key]) -> KeyPath:
        if isinstance(other, KeyPath):
            return KeyPath._from_keys(self.keys + other.keys)
        if type(other) is str or type(other) is int:
            return KeyPath._from_keys(self.keys + (other,))
        return KeyPath(self.keys + tuple(other))

    def __radd__(self, other: Key) -> KeyPath:
        return KeyPath((other,)) + self

    def relative_to(self, prefix: KeyPath) -> KeyPath:
        """This path with ``prefix`` removed from its front."""
        n = len(prefix.keys)
        if self.keys[:n] != prefix.keys:
            raise SymbolicValueError(f"{self} does not start with {prefix}")
        return KeyPath._from_keys(self.keys[n:])

    def is_prefix_of(self, other: KeyPath) -> bool:
        return other.keys[: len(self.keys)] == self.keys

    def query(self, value: object) -> object:
        """The value at this path inside ``value`` (symbolic, or plain dicts, lists, tuples
        and objects' attributes); raises a KeyError (``SymbolicKeyError``) naming the first
        key that is not there.

        >>> import symbo as sb
        >>> sb.KeyPath.parse("a[1].b").query({"a": [0, {"b": 2}]})
        2
        """
        from symbo.core.errors import SymbolicKeyError

        node = value
        for i, key in enumerate(self.keys):
            found, child = _child(node, key)
            if not found:
                where = str(KeyPath._from_keys(self.keys[:i])) or "the root"
                raise SymbolicKeyError(
                    f"key path {str(self)!r}: no key {key!r} in the {type(node).__name__} "
                    f"at {where}"
                )
            node = child
        return node

    def get(self, value: object, default: object = None) -> object:
        """The value at this path inside ``value``, or ``default`` when it is not there.

        >>> import symbo as sb
        >>> sb.KeyPath.parse("a.x").get({"a": {}}, "none")
        'none'
        """
        node = value
        for key in self.keys:
            found, node = _child(node, key)
            if not found:
                return default
        return node

    def exists(self, value: object) -> bool:
        """Whether this path leads to a value inside ``value``."""
        sentinel = object()
        return self.get(value, sentinel) is not sentinel

    def __len__(self) -> int:
        return len(self.keys)

    def __iter__(self):
        return iter(self.keys)

    def __str__(self) -> str:
        text = self._text
        if text is None:
            text = _format(self.keys)
            object.__setattr__(self, "_text", text)
        return text

    def __repr__(self) -> str:
        return f"KeyPath({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, KeyPath):
            return self.keys == other.keys
        if isinstance(other, str):
            return str(self) == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(str(self))

    def __lt__(self, other: KeyPath) -> bool:
        return _sort_key(self.keys) < _sort_key(KeyPath.parse(other).keys)


def _child(node: object, key: Key) -> tuple[bool, object]:
    """(True, child at key) or (False, None) for symbolic values, dicts, sequences, objects."""
    from symbo.core.node import Symbolic

    if isinstance(node, Symbolic):
        try:
            return True, node._sym_child(key)
        except KeyError:
            return False, None
    if isinstance(node, dict):
        return (True, node[key]) if key in node else (False, None)
    if isinstance(node, (list, tuple)):
        if type(key) is int and -len(node) <= key < len(node):
            return True, node[key]
        return False, None
    if type(key) is str and not key.startswith("_") and hasattr(node, key):
        return True, getattr(node, key)
    return False, None


def _sort_key(keys: tuple[Key, ...]) -> tuple:
    return tuple((0, k, "") if type(k) is int else (1, 0, k) for k in keys)


def _format(keys: tuple[Key, ...]) -> str:
    parts: list[str] = []
    for key in keys:
        if type(key) is int:
            parts.append(f"[{key}]")
        elif _IDENT.match(key):
            parts.append(f".{key}" if parts else key)
        else:
            parts.append(f"[{key!r}]")
    return "".join(parts)


@functools.lru_cache(maxsize=4096)
def _parse(text: str) -> KeyPath:
    keys: list[Key] = []
    pos, end = 0, len(text)
    expect_name = True  # a bare name is allowed at the start and after a dot
    while pos < end:
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise SymbolicValueError(f"malformed key path {text!r} at column {pos + 1}")
        if m.group("dot") is not None:
            if expect_name:
                raise SymbolicValueError(
                    f"malformed key path {text!r}: unexpected '.' at column {pos + 1}"
                )
            expect_name = True
        elif m.group("name") is not None:
            if not expect_name:
                raise SymbolicValueError(
                    f"malformed key path {text!r}: missing '.' before column {m.start('name') + 1}"
                )
            keys.append(m.group("name"))
            expect_name = False
        elif keys and expect_name:  # an index right after a dot, e.g. "a.[0]"
            raise SymbolicValueError(
                f"malformed key path {text!r}: expected a name after '.' at column {pos + 1}"
            )
        elif m.group("index") is not None:
            keys.append(int(m.group("index")))
            expect_name = False
        else:
            import ast

            keys.append(ast.literal_eval(m.group("quoted")))
            expect_name = False
        pos = m.end()
    if expect_name and keys:
        raise SymbolicValueError(f"malformed key path {text!r}: ends with '.'")
    return KeyPath._from_keys(tuple(keys))


ROOT = KeyPath()
