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

import types
import typing
from collections.abc import Iterable
from types import ModuleType
from typing import Any

import attrs
import torch

from symbo.core import MISSING, Symbolic, registry, symbolize
from symbo.core.object import make_schema
from symbo.core.validation import Check, CheckFailure


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
        if registry.name_of(cls) != full:  # new, or the registry was reset (tests, doctests)
            registry.register(cls, full)
            _register_function_defaults(cls)
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
    _normalize_defaults(cls)
    if issubclass(target, torch.optim.Optimizer):
        _accept_param_groups(cls)
    # Served by ``home`` under ``name``: pickle (e.g. to worker processes) imports it from there.
    type.__setattr__(cls, "__module__", home)
    type.__setattr__(cls, "__qualname__", name)
    type.__setattr__(cls, "__doc__", (
        f"Symbolic recipe of ``{target.__module__}.{target.__qualname__}`` (registered as "
        f"``{full_name}``): takes the same arguments, markers included; ``.build()`` or "
        f"``sbt.build`` makes the instance.\n\n{target.__doc__ or ''}"
    ))
    return cls


def _normalize_defaults(cls: type) -> None:
    """Passes plain defaults through their field's check, as given values are (``lr: float |
    Tensor = 1`` becomes 1.0), so a recipe printed and parsed back equals the original.

    A workaround until ``sb.symbolize`` converts defaults itself (a change proposed for core).
    """
    schema = cls.sym_schema()  # type: ignore[attr-defined]
    fields = []
    for f in schema.fields:
        if f.default is not MISSING and _is_plain(f.default):
            try:
                converted = f.check(f.default)
            except Exception:
                converted = f.default
            if _is_plain(converted) and converted is not f.default:
                f = attrs.evolve(f, default=converted)
        fields.append(f)
    type.__setattr__(cls, "_sym_schema_", make_schema(
        fields, list(schema.positional), schema.var_positional, schema.var_keyword))


class _ParamsCheck(Check):
    """An optimizer's ``params``: what torch takes, or the model's own groups to bind later,
    given as a method name of the model (``"configure_optimizers"``) or ``fn(model)``; both
    become ``sbt.param_groups(...)``."""

    __slots__ = ("inner",)

    def __init__(self, inner: Check | None) -> None:
        self.inner = inner

    def _check(self, value: Any) -> Any:
        from symbo.backends.torch.param_groups import ParamGroups

        if isinstance(value, str) or (callable(value) and not isinstance(value, (Symbolic, torch.Tensor))
                                      and not hasattr(value, "__iter__")):
            return ParamGroups(method=value)
        if self.inner is None:
            return value
        try:
            return self.inner(value)
        except CheckFailure:
            raise self.fail(value) from None

    def describe(self) -> str:
        return ("parameters or parameter groups, sbt.param_groups(...), a method name of the model "
                "or fn(model) giving its groups")


def _accept_param_groups(cls: type) -> None:
    """Lets an optimizer recipe's ``params`` name the model's own groups (see ``_ParamsCheck``)."""
    schema = cls.sym_schema()  # type: ignore[attr-defined]
    fields = [attrs.evolve(f, check=_ParamsCheck(f.check)) if f.name == "params" else f
              for f in schema.fields]
    type.__setattr__(cls, "_sym_schema_", make_schema(
        fields, list(schema.positional), schema.var_positional, schema.var_keyword))


def _is_plain(value: Any) -> bool:
    if type(value) is tuple:
        return all(_is_plain(v) for v in value)
    return type(value) in (int, float, str, bool, type(None))


def _register_function_defaults(cls: type) -> None:
    """Registers functions given as defaults (``activation=F.relu``), so recipes holding them
    serialize and print by name (``torch.nn.functional.relu``)."""
    for f in cls.sym_schema().fields:  # type: ignore[attr-defined]
        value = f.default
        if isinstance(value, (types.FunctionType, types.BuiltinFunctionType)) and \
                registry.name_of(value) is None:
            registry.register(value, f"{value.__module__}.{value.__qualname__}")


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
