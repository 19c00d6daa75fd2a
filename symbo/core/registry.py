"""The registry of names that JSON and the text language may refer to.

Symbolic classes register themselves on definition under ``module.QualName`` (or the
``type_name=`` given in the class statement). Other values (a function, a third-party class, a
constant) are registered explicitly with :func:`register`. Loading never imports anything: a
name that is not registered is an error that says which module to import.

>>> import symbo as sb
>>> def relu(x): return max(x, 0)
>>> sb.register(relu, "examples.relu") is relu
True
>>> sb.registry.lookup("examples.relu") is relu
True
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from symbo.core.errors import SerializationError, SymbolicValueError

_BY_NAME: dict[str, Any] = {}
_NAME_OF: dict[int, str] = {}  # id(value) -> name
_SHORT: dict[str, set[str]] = {}


def default_name(value: Any) -> str:
    module = getattr(value, "__module__", None) or "__main__"
    qualname = getattr(value, "__qualname__", None) or getattr(value, "__name__", None)
    if qualname is None:
        raise SymbolicValueError(f"cannot derive a registry name for {value!r}; pass name=")
    return f"{module}.{qualname}"


def register(value: Any, name: str | None = None) -> Any:
    """Registers a class, function or constant under ``name`` (default ``module.qualname``).

    Returns the value, so it can be used as a decorator. Re-registering a name replaces it (so
    re-running a notebook cell works).
    """
    if name is None:
        name = default_name(value)
    if not isinstance(name, str) or not name:
        raise SymbolicValueError(f"registry names must be non-empty strings, got {name!r}")
    old = _BY_NAME.get(name)
    if old is not None:
        _NAME_OF.pop(id(old), None)
    _BY_NAME[name] = value
    _NAME_OF[id(value)] = name
    _SHORT.setdefault(name.rsplit(".", 1)[-1], set()).add(name)
    return value


def name_of(value: Any) -> str | None:
    """The registered name of ``value``, or None."""
    name = _NAME_OF.get(id(value))
    if name is not None and _BY_NAME.get(name) is value:
        return name
    return None


_RESOLVERS: list[tuple[str, Callable[[str], Any]]] = []


def register_resolver(prefix: str, resolve: Callable[[str], Any]) -> None:
    """Lets a package register names under ``prefix`` on demand (e.g. generated wrappers of
    ``torch.nn``): ``resolve(name)`` registers and returns the value, or returns None. Only
    names under the prefix reach it; it is symbo's own code, never imported from the data.
    """
    _RESOLVERS.append((prefix, resolve))


def _resolve(name: str) -> Any:
    for prefix, resolve in _RESOLVERS:
        if name.startswith(prefix):
            value = resolve(name)
            if value is not None:
                return value
    return None


def lookup(name: str) -> Any:
    """The value registered under a full name; raises SerializationError if there is none."""
    try:
        return _BY_NAME[name]
    except (KeyError, TypeError):
        value = _resolve(name) if isinstance(name, str) else None
        if value is not None:
            return value
        module = name.rsplit(".", 1)[0] if isinstance(name, str) and "." in name else None
        hint = f"; import {module!r} (or register the value) before loading" if module else ""
        raise SerializationError(f"unknown type {name!r}: not registered{hint}") from None


def lookup_short(name: str) -> Any:
    """A registered value by full name or, when unambiguous, by its last part."""
    if name in _BY_NAME:
        return _BY_NAME[name]
    full = _SHORT.get(name, set())
    live = sorted(n for n in full if n in _BY_NAME and n.rsplit(".", 1)[-1] == name)
    if len(live) == 1:
        return _BY_NAME[live[0]]
    if len(live) > 1:
        raise SerializationError(f"name {name!r} is ambiguous: write one of {', '.join(live)}")
    if "." not in name:  # a short name a resolver can generate (e.g. Linear -> torch.nn.Linear)
        for prefix, resolve in _RESOLVERS:
            if prefix.endswith("."):
                value = resolve(prefix + name)
                if value is not None:
                    return value
    return lookup(name)


def short_name(value: Any) -> str | None:
    """The shortest unambiguous registered name of ``value`` (last part when unique)."""
    name = name_of(value)
    if name is None:
        return None
    short = name.rsplit(".", 1)[-1]
    return short if len(_SHORT.get(short, ())) == 1 else name


def names() -> list[str]:
    return sorted(_BY_NAME)
