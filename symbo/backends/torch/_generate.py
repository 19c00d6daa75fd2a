"""Lazily generated namespaces of symbolized torch classes (``sbt.nn``, ``sbt.optim``, ...).

A :class:`LazyNamespace` lists the public classes of a torch module that subclass a base (found
by introspection, never hand-listed) and symbolizes each on first access, registering it under
a stable name such as ``torch.nn.Linear``. The generated classes are cached; each access checks
that the class is still registered (tests and doctests restore the registry between runs).

>>> import torch
>>> from symbo.backends.torch._generate import LazyNamespace
>>> ns = LazyNamespace("example.nn", torch.nn, torch.nn.Module, home=__name__, exclude={"Module"})
>>> "Linear" in ns.names, "Module" in ns.names
(True, False)
>>> ns.get("ReLU")().build()
ReLU()
"""

from __future__ import annotations

import typing
from collections.abc import Iterable
from types import ModuleType
from typing import Any

from symbo.core import registry, symbolize


class LazyNamespace:
    """The symbolized public ``base`` subclasses of ``source``, generated on first access.

    ``prefix`` is the registry prefix (``"torch.nn"`` gives ``"torch.nn.Linear"``); ``home`` is
    the module that serves the names (the generated classes claim it as their ``__module__``,
    so pickle finds them by name); ``exclude`` lists names that are not worth a recipe.
    """

    def __init__(self, prefix: str, source: ModuleType, base: type | tuple[type, ...], *,
                 home: str, exclude: Iterable[str] = (), names: Iterable[str] | None = None) -> None:
        self.prefix = prefix
        self.source = source
        self.home = home
        candidates = names if names is not None else _public_names(source)
        skip = set(exclude)
        self.names: tuple[str, ...] = tuple(sorted(
            n for n in candidates
            if n not in skip and isinstance(getattr(source, n, None), type)
            and issubclass(getattr(source, n), base)
        ))
        self._known = frozenset(self.names)
        self._cache: dict[str, type] = {}

    def __contains__(self, name: object) -> bool:
        return name in self._known

    def get(self, name: str) -> type:
        """The symbolized class for ``name`` (generated and registered on first use)."""
        cls = self._cache.get(name)
        if cls is None:
            if name not in self._known:
                raise AttributeError(
                    f"module {self.home!r} has no attribute {name!r} "
                    f"({self.prefix}.{name} is not a public class of the kind this module wraps)"
                )
            cls = self._cache[name] = _symbolize(getattr(self.source, name), f"{self.prefix}.{name}",
                                                 self.home, name)
        full = f"{self.prefix}.{name}"
        if registry.name_of(cls) != full:  # the registry was reset since (tests, doctests)
            registry.register(cls, full)
        return cls

    def register_all(self) -> list[str]:
        """Generates and registers every name; returns the registry names."""
        return [registry.name_of(self.get(n)) or "" for n in self.names]


def _public_names(source: ModuleType) -> list[str]:
    names = getattr(source, "__all__", None)
    if names is None:
        names = [n for n in dir(source) if not n.startswith("_")]
    return [n for n in names if not n.startswith("_")]


def _symbolize(target: type, full_name: str, home: str, name: str) -> type:
    cls = symbolize(target, name=full_name, check_types=not _has_callable_annotation(target))
    # Served by ``home`` under ``name``: pickle (e.g. to worker processes) imports it from there.
    type.__setattr__(cls, "__module__", home)
    type.__setattr__(cls, "__qualname__", name)
    type.__setattr__(cls, "__doc__", (
        f"Symbolic recipe of ``{target.__module__}.{target.__qualname__}`` (registered as "
        f"``{full_name}``): takes the same arguments, markers included; ``.build()`` or "
        f"``sbt.build`` makes the instance.\n\n{target.__doc__ or ''}"
    ))
    return cls


def _has_callable_annotation(target: type) -> bool:
    """Whether a constructor annotation says ``Callable``: a recipe (e.g. ``sbt.nn.GELU()``) is
    a valid value there once built, but is not callable itself, so such classes skip checks."""
    try:
        hints = typing.get_type_hints(target.__init__)
    except Exception:
        return False
    return any("Callable" in repr(h) for k, h in hints.items() if k != "return")


def module_getattr(namespace: LazyNamespace, extra: dict[str, Any] | None = None) -> Any:
    """A module-level ``__getattr__`` serving ``namespace`` (and ``extra`` names)."""
    def __getattr__(name: str) -> Any:
        if extra and name in extra:
            return extra[name]
        if name in namespace:
            return namespace.get(name)
        raise AttributeError(f"module {namespace.home!r} has no attribute {name!r}")

    return __getattr__
