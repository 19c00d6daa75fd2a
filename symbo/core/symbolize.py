"""``sb.symbolize``: make an existing function or class symbolic without changing it.

* A function becomes a **functor** class: calling it binds arguments (validated against the
  function's annotations) and returns a symbolic object; calling that object runs the
  function, with any still-missing arguments given then.
* A class (yours or a third party's, e.g. ``torch.nn.Linear``) becomes a **class wrapper**: a
  symbolic recipe that records the constructor arguments, can be edited like any symbolic
  object, and builds the real instance with ``.build()`` (or ``sb.build(tree)`` for a whole
  tree, building nested recipes first).

>>> import symbo as sb
>>> @sb.symbolize
... def scale(x, factor: float = 2.0):
...     return x * factor
>>> f = scale(factor=3)
>>> f(2), f.rebind(factor=0.5)(2)
(6.0, 1.0)
>>> import fractions
>>> Fraction = sb.symbolize(fractions.Fraction)
>>> Fraction(1, 3).build()
Fraction(1, 3)
"""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable
from typing import Any, ClassVar

from symbo.core import registry
from symbo.core.containers import Dict, List
from symbo.core.errors import SymbolicTypeError
from symbo.core.node import MISSING, Symbolic
from symbo.core.object import Field, Object, make_schema
from symbo.core.validation import ANY, compile_check


class Functor(Object):
    """A symbolized function: holds bound arguments; calling it runs the function.

    Positional arguments at call time fill the parameters still missing, in order; keyword
    arguments fill or override (without editing the functor).
    """

    _sym_partial_ok = True
    _sym_function: ClassVar[Callable[..., Any]]

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return _invoke(self, type(self)._sym_function, args, kwargs)

    @property
    def sym_function(self) -> Callable[..., Any]:
        return type(self)._sym_function


class ClassWrapper(Object):
    """A symbolic recipe for an instance of a wrapped class; ``.build()`` makes the instance."""

    _sym_partial_ok = True
    _sym_wrapped: ClassVar[type]

    def build(self, *args: Any, **kwargs: Any) -> Any:
        """Builds the wrapped class's instance, building nested recipes in the arguments first.

        Arguments given here fill missing parameters (positionally, in order) or override.
        """
        return _invoke(self, type(self)._sym_wrapped, args, kwargs, build_args=True)

    @property
    def sym_wrapped(self) -> type:
        return type(self)._sym_wrapped


def _invoke(obj: Object, target: Callable[..., Any], args: tuple, kwargs: dict,
            build_args: bool = False) -> Any:
    schema = obj.sym_schema()
    values = {name: value for name, value in obj.sym_items()}
    missing = [n for n in schema.positional if values.get(n, MISSING) is MISSING]
    extra_positional: list[Any] = []
    for i, arg in enumerate(args):
        if i < len(missing):
            values[missing[i]] = arg
        elif schema.var_positional is not None:
            extra_positional.append(arg)
        else:
            raise SymbolicTypeError(
                f"{type(obj).__name__}: too many positional arguments "
                f"(missing parameters were {', '.join(missing) or 'none'})"
            )
    for key, value in kwargs.items():
        if key not in schema.by_name and schema.var_keyword is None:
            raise SymbolicTypeError(f"{type(obj).__name__}: unexpected argument {key!r}")
        values[key] = value
    still = [f.name for f in schema.fields if f.required and values.get(f.name, MISSING) is MISSING
             and f.name not in (schema.var_positional, schema.var_keyword)]
    if still:
        raise SymbolicTypeError(
            f"{type(obj).__name__}: missing argument{'s' if len(still) > 1 else ''} "
            + ", ".join(repr(n) for n in still)
        )
    conv = build if build_args else _plain
    pos: list[Any] = []
    kw: dict[str, Any] = {}
    kinds = type(obj)._sym_param_kinds  # type: ignore[attr-defined]
    # With values for ``*args``, the parameters before it must be passed by position too.
    by_position = bool(extra_positional) or bool(
        schema.var_positional is not None and values.get(schema.var_positional)
    )
    for f in schema.fields:
        value = values.get(f.name, MISSING)
        kind = kinds.get(f.name)
        if f.name == schema.var_positional:
            pos.extend(conv(v) for v in (value or ()))
            pos.extend(conv(v) for v in extra_positional)
        elif f.name == schema.var_keyword:
            kw.update({k: conv(v) for k, v in dict(value or {}).items()})
        elif value is MISSING:
            continue
        elif kind == inspect.Parameter.POSITIONAL_ONLY or (
                by_position and kind == inspect.Parameter.POSITIONAL_OR_KEYWORD):
            pos.append(conv(value))
        else:
            kw[f.name] = conv(value)
    for key in kwargs:
        if key not in schema.by_name:
            kw[key] = conv(kwargs[key])
    return target(*pos, **kw)


def _plain(value: Any) -> Any:
    return value


def build(value: Any) -> Any:
    """Builds real objects from a tree: class wrappers become instances, recursively.

    Symbolic lists and dicts become plain ones holding built values; other symbolic objects
    (and functors) are returned as they are.

    >>> import symbo as sb, fractions
    >>> F = sb.symbolize(fractions.Fraction)
    >>> sb.build(sb.Dict(half=F(1, 2), xs=[F(1, 4)]))
    {'half': Fraction(1, 2), 'xs': [Fraction(1, 4)]}
    """
    if isinstance(value, ClassWrapper):
        return value.build()
    if isinstance(value, List):
        return [build(v) for v in list.__iter__(value)]
    if isinstance(value, Dict):
        return {k: build(v) for k, v in dict.items(value)}
    if type(value) is tuple:
        return tuple(build(v) for v in value)
    return value


def symbolize(
    target: Any = None,
    *,
    name: str | None = None,
    check_types: bool = True,
) -> Any:
    """Makes a function a functor class, or a class a symbolic recipe class.

    Usable as ``sb.symbolize(torch.nn.Linear)``, ``@sb.symbolize`` or
    ``@sb.symbolize(name="my.fn")``. ``name`` is the registry name used in JSON (default: the
    target's ``module.qualname``). ``check_types=False`` skips validation against the target's
    annotations (for libraries whose annotations are looser than their behaviour). Symbolic
    classes (subclasses of ``sb.Object``) are returned unchanged.
    """
    if target is None:
        return functools.partial(symbolize, name=name, check_types=check_types)
    if isinstance(target, type):
        if issubclass(target, Object):
            return target
        return _make_class(target, ClassWrapper, name, check_types, {"_sym_wrapped": target})
    if callable(target):
        return _make_class(target, Functor, name, check_types,
                           {"_sym_function": staticmethod(target)})
    raise SymbolicTypeError(f"symbolize takes a class or a function, got {type(target).__name__}")


def _make_class(target: Any, base: type, name: str | None, check_types: bool,
                attrs: dict) -> type:
    try:  # for a class, the signature of calling it (its __init__ or __new__, without self)
        params = list(inspect.signature(target).parameters.values())
    except (TypeError, ValueError):  # e.g. C types without a text signature: (*args, **kwargs)
        params = [inspect.Parameter("args", inspect.Parameter.VAR_POSITIONAL),
                  inspect.Parameter("kwargs", inspect.Parameter.VAR_KEYWORD)]
    # Private parameters with defaults (e.g. Fraction's ``_normalize``) are not fields.
    params = [p for p in params if not (p.name.startswith("_") and p.default is not p.empty)]
    hints: dict[str, Any] = {}
    if check_types:
        sources = [target] if base is Functor else [target.__init__, target.__new__]
        for source in sources:
            hints = {**_type_hints(source), **hints}
    fields: list[Field] = []
    positional: list[str] = []
    var_positional = var_keyword = None
    kinds: dict[str, Any] = {}
    for p in params:
        kinds[p.name] = p.kind
        annotation = hints.get(p.name, Any) if check_types else Any
        try:
            check = compile_check(annotation)
        except SymbolicTypeError:
            check = ANY
        default = MISSING if p.default is inspect.Parameter.empty else p.default
        if p.kind is inspect.Parameter.VAR_POSITIONAL:
            var_positional = p.name
            fields.append(Field(p.name, list[annotation], compile_check(list) if check is ANY
                                else _list_check(check), []))
            continue
        if p.kind is inspect.Parameter.VAR_KEYWORD:
            var_keyword = p.name
            fields.append(Field(p.name, dict[str, annotation], compile_check(dict), {}))
            continue
        if default is not MISSING and check is not ANY:
            try:
                checked = check(default)
            except Exception:  # annotation narrower than the default (e.g. ``x: int = None``)
                check = ANY
            else:
                if type(default) in (int, float, bool, str):  # keep the converted form
                    default = checked
        if p.kind is not inspect.Parameter.KEYWORD_ONLY:
            positional.append(p.name)
        fields.append(Field(p.name, annotation, check, default))
    namespace = {
        "__module__": getattr(target, "__module__", None) or "__main__",
        "__qualname__": getattr(target, "__qualname__", target.__name__),
        "__doc__": target.__doc__,
        "_sym_schema_": make_schema(fields, positional, var_positional, var_keyword),
        "_sym_param_kinds": kinds,
        **attrs,
    }
    type_name = name or registry.default_name(target)
    cls = type(target.__name__, (base,), namespace, type_name=type_name)
    return cls


def _list_check(element: Any) -> Any:
    from symbo.core.validation import ListCheck

    return ListCheck(element)


def _type_hints(fn: Any) -> dict[str, Any]:
    try:
        return typing.get_type_hints(fn)
    except Exception:  # unresolvable forward references: fall back to no checking
        return {}


__all__ = ["symbolize", "build", "Functor", "ClassWrapper", "Symbolic"]
