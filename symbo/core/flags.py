"""Scoped switches of symbolic behaviour: ``sb.as_sealed``, ``sb.notify_on_change``,
``sb.auto_call_functors``.

Each is a context manager over a context variable, so it holds for the current thread (and
asyncio task) only, and nests: the innermost setting wins, and leaving the block restores the
one before.

>>> import symbo as sb
>>> d = sb.Dict(a=1).seal()
>>> with sb.as_sealed(False):
...     d.a = 2
>>> d.a, d.is_sealed
(2, True)
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

_SEALED: contextvars.ContextVar[bool | None] = contextvars.ContextVar("symbo_sealed",
                                                                        default=None)
_NOTIFY: contextvars.ContextVar[bool] = contextvars.ContextVar("symbo_notify", default=True)
_AUTO_CALL: contextvars.ContextVar[bool] = contextvars.ContextVar("symbo_auto_call",
                                                                   default=False)


@contextlib.contextmanager
def _scoped(var: contextvars.ContextVar, value: object) -> Iterator[None]:
    token = var.set(value)
    try:
        yield
    finally:
        var.reset(token)


def as_sealed(sealed: bool | None = True) -> contextlib.AbstractContextManager[None]:
    """Treats every symbolic value as sealed (``True``) or unsealed (``False``) in the block.

    The values' own ``is_sealed`` flags are left as they are; ``None`` restores them.

    >>> import symbo as sb
    >>> with sb.as_sealed(True):
    ...     sb.Dict(a=1).rebind(a=2)
    Traceback (most recent call last):
    ...
    symbo.core.errors.SealedError: cannot edit a sealed Dict
    """
    return _scoped(_SEALED, sealed)


def notify_on_change(enabled: bool = True) -> contextlib.AbstractContextManager[None]:
    """Turns change notification (``_on_change``, ``_on_bound`` after edits,
    ``onchange_callback``) on or off in the block.

    >>> import symbo as sb
    >>> heard = []
    >>> d = sb.Dict(a=1, onchange_callback=heard.append)
    >>> with sb.notify_on_change(False):
    ...     d.a = 2
    >>> d.a, heard
    (2, [])
    """
    return _scoped(_NOTIFY, enabled)


def auto_call_functors(enabled: bool = True) -> contextlib.AbstractContextManager[None]:
    """Makes building a functor call it at once in the block: ``f(1, 2)`` returns the result.

    >>> import symbo as sb
    >>> @sb.symbolize
    ... def add(a, b):
    ...     return a + b
    >>> with sb.auto_call_functors():
    ...     add(1, 2)
    3
    """
    return _scoped(_AUTO_CALL, enabled)


def sealed_override() -> bool | None:
    """The seal set by the innermost ``as_sealed`` block, or None outside of one."""
    return _SEALED.get()


def notification_enabled() -> bool:
    """False inside ``notify_on_change(False)``."""
    return _NOTIFY.get()


def auto_call_enabled() -> bool:
    """True inside ``auto_call_functors()``."""
    return _AUTO_CALL.get()
