"""Errors raised by the symbolic object model.

Every error names the key path where it happened, e.g.
``head.layers[0]: expected int, got str 'wide'``.

>>> import symbo as sb
>>> issubclass(sb.SymbolicTypeError, TypeError)
True
>>> issubclass(sb.SymbolicTypeError, sb.SymbolicError)
True
"""

from __future__ import annotations


class SymbolicError(Exception):
    """Base class of all symbo errors about symbolic values.

    Errors made by :func:`error_at` also carry ``path`` (a KeyPath) and ``reason`` (the message
    without the path), so code that builds values inside a larger tree (e.g. ``from_json``) can
    report the full path of the problem.
    """

    path: object = None
    reason: str | None = None


class SymbolicTypeError(SymbolicError, TypeError):
    """A value does not fit the type of the field it is given to."""


class SymbolicValueError(SymbolicError, ValueError):
    """A value has the right type but is not allowed (literal, cycle, malformed input)."""


class SymbolicKeyError(SymbolicError, KeyError):
    """An unknown field, key or key path."""

    def __str__(self) -> str:  # KeyError quotes its argument; keep the message readable.
        return str(self.args[0]) if self.args else ""


class SymbolicAttributeError(SymbolicKeyError, AttributeError):
    """A missing symbolic attribute (``sym_getattr``): both a KeyError and an AttributeError."""


class SealedError(SymbolicError, PermissionError):
    """An edit of a sealed symbolic value."""


class CycleError(SymbolicValueError):
    """An edit that would make a symbolic value its own descendant."""


class SerializationError(SymbolicValueError):
    """JSON that cannot be turned into symbolic values, or values that cannot become JSON."""


def at(path: object, message: str) -> str:
    """Prefixes ``message`` with ``path`` when the path is not the root."""
    text = str(path)
    return f"{text}: {message}" if text else message


def error_at(cls: type[SymbolicError], path: object, reason: str) -> SymbolicError:
    """An error of class ``cls`` whose message is ``reason`` at ``path`` (see :func:`at`)."""
    error = cls(at(path, reason))
    error.path = path
    error.reason = reason
    return error
