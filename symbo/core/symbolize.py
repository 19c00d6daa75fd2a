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
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

from symbo.core import registry
from symbo.core.containers import Dict, List, same_value
from symbo.core.errors import SymbolicTypeError
from symbo.core.flags import auto_call_enabled
from symbo.core.keypath import Key
from symbo.core.node import MISSING, Symbolic, Undo
from symbo.core.object import Field, Object, Schema, make_schema
from symbo.core.validation import ANY, CheckFailure, compile_check


class Functor(Object):
    """A symbolized function: holds bound arguments; calling it runs the function.

    As PyGlove's functors: call-time positional arguments bind the function's positional
    parameters from the first one, and keyword arguments by name, without editing the
    functor; replacing an argument given when the functor was built (its ``specified_args``)
    needs ``override_args=True`` (at build or call time), and ``ignore_extra_args=True`` drops
    arguments the function does not take. Parameters with defaults may be given at call time.

    >>> import symbo as sb
    >>> @sb.symbolize
    ... def f(a=1, b=2):
    ...     return a + b
    >>> f()(5), f(b=10)(5), f(1)(2, override_args=True)
    (7, 15, 4)
    >>> sorted(f(b=10).specified_args), sorted(f(b=10).default_args)
    (['b'], ['a'])
    """

    _sym_partial_ok = True
    _sym_function: ClassVar[Callable[..., Any]]

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        instance = object.__new__(cls)
        if auto_call_enabled():  # ``sb.auto_call_functors()``: build and call at once
            instance.__init__(*args, **kwargs)
            return instance()
        return instance

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        by_name = self.sym_schema().by_name
        override = bool(kwargs.pop("override_args")) if "override_args" in kwargs and \
            "override_args" not in by_name else False
        ignore = bool(kwargs.pop("ignore_extra_args")) if "ignore_extra_args" in kwargs and \
            "ignore_extra_args" not in by_name else False
        specified = _specified(self.sym_schema(), args, kwargs)
        self._sym_init(args, kwargs, True)
        d = self.__dict__
        d["_fn_override"] = override
        d["_fn_ignore_extra"] = ignore
        d["_fn_specified"] = specified

    @classmethod
    def partial(cls, *args: Any, **kwargs: Any) -> Any:
        """A functor with some arguments bound (every functor may leave arguments unbound)."""
        return cls(*args, **kwargs)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        pos, kw = _call_arguments(self, args, kwargs)
        return type(self)._sym_function(*pos, **kw)

    @property
    def sym_function(self) -> Callable[..., Any]:
        return type(self)._sym_function

    # ---- which arguments are bound ---------------------------------------------------------
    @property
    def specified_args(self) -> set[str]:
        """Names of the arguments given when the functor was built or set since (keys of
        ``**kwargs`` included)."""
        return set(self.__dict__.get("_fn_specified", ()))

    @property
    def non_default_args(self) -> set[str]:
        """Names of the bound arguments whose values differ from their defaults."""
        return {name for name, value, f in _arguments(self)
                if value is not MISSING and (f is None or not _is_default(f, value))}

    @property
    def default_args(self) -> set[str]:
        """Names of the arguments holding their default values."""
        return {name for name, value, f in _arguments(self)
                if f is not None and f.default is not MISSING and _is_default(f, value)}

    @property
    def bound_args(self) -> set[str]:
        """Names of the arguments that have a value (given or default)."""
        return {name for name, value, _ in _arguments(self) if value is not MISSING}

    @property
    def unbound_args(self) -> set[str]:
        """Names of the required arguments still without a value."""
        return {name for name, value, _ in _arguments(self) if value is MISSING}

    @property
    def is_fully_bound(self) -> bool:
        """Whether every argument has a value (the functor can be called with none)."""
        return not self.unbound_args

    # ---- keeping ``specified_args`` right through edits ------------------------------------
    def _sym_check(self, key: Key, value: Any) -> Any:
        checked = super()._sym_check(key, value)
        d = self.__dict__
        d.pop("_fn_unbinding", None)
        if value is MISSING:
            if same_value(d.get(key, MISSING), checked):  # already the default: nothing to set
                d.get("_fn_specified", set()).discard(key)
            else:
                d["_fn_unbinding"] = key
        return checked

    def _sym_assign(self, key: Key, value: Any) -> tuple[Any, Undo]:
        d = self.__dict__
        unbind = d.pop("_fn_unbinding", None) == key or value is MISSING
        specified: set[str] = d.setdefault("_fn_specified", set())
        was = key in specified
        old, undo = super()._sym_assign(key, value)
        if unbind:
            specified.discard(key)  # type: ignore[arg-type]
        else:
            specified.add(key)  # type: ignore[arg-type]

        def undo_all() -> None:
            undo()
            (specified.add if was else specified.discard)(key)  # type: ignore[arg-type]

        return old, undo_all

    def __delattr__(self, name: str) -> None:
        """``del f.x`` unbinds argument ``x`` (it goes back to its default, or MISSING)."""
        if name in self.sym_schema().by_name:
            self.rebind({name: MISSING})
        else:
            super().__delattr__(name)

    def _sym_missing(self) -> dict[Key, Any]:
        """Unbound arguments are not missing (they may come at call time); only what is
        missing inside bound arguments is."""
        out: dict[Key, Any] = {}
        for key, value in self.sym_items():
            if isinstance(value, Symbolic):
                sub = value._sym_missing()
                if sub:
                    out[key] = sub
        return out

    def _sym_json_items(self, hide_default: bool) -> Iterator[tuple[Key, Any]]:
        """A functor is written with its specified arguments only, so a loaded functor has
        the same ``specified_args`` (the others take their defaults again)."""
        specified = self.__dict__.get("_fn_specified")
        items = super()._sym_json_items(hide_default)
        if specified is None:
            return items
        var_keyword = self.sym_schema().var_keyword
        return ((k, v) for k, v in items if k in specified or (
            k == var_keyword and any(name in specified for name in v)))

    def _sym_clone(self, deep: bool, memo: dict) -> Object:
        out = super()._sym_clone(deep, memo)
        src, nd = self.__dict__, out.__dict__
        for name in ("_fn_override", "_fn_ignore_extra"):
            if name in src:
                nd[name] = src[name]
        if "_fn_specified" in src:
            nd["_fn_specified"] = set(src["_fn_specified"])
        return out


def _specified(schema: Schema, args: tuple, kwargs: dict) -> set[str]:
    """The argument names given to a functor's constructor (``**kwargs`` keys by name)."""
    names = {n for n, v in zip(schema.positional, args, strict=False) if v is not MISSING}
    if schema.var_positional is not None and len(args) > len(schema.positional):
        names.add(schema.var_positional)
    for key, value in kwargs.items():
        if value is MISSING:
            continue
        if key == schema.var_keyword:
            names.update(value)
        else:
            names.add(key)
    return names


def _arguments(fn: Functor) -> Iterator[tuple[str, Any, Field | None]]:
    """(name, value, field) of every argument: fields (``**kwargs`` expanded to its keys,
    with no field), in order."""
    schema = fn.sym_schema()
    for name, value in fn.sym_items():
        if name == schema.var_keyword:
            for key, item in dict.items(value or {}):
                yield key, item, None
        else:
            yield name, value, schema.by_name.get(name)  # type: ignore[arg-type]


def _is_default(f: Field, value: Any) -> bool:
    from symbo.core.compare import eq

    return eq(value, f.default)


def _call_arguments(fn: Functor, args: tuple, kwargs: dict) -> tuple[list[Any], dict[str, Any]]:
    """The positional and keyword arguments to call ``fn``'s function with (see Functor)."""
    schema = fn.sym_schema()
    by_name = schema.by_name
    d = fn.__dict__
    override = d.get("_fn_override", False)
    ignore = d.get("_fn_ignore_extra", False)
    if "override_args" in kwargs and "override_args" not in by_name:
        override = bool(kwargs.pop("override_args"))
    if "ignore_extra_args" in kwargs and "ignore_extra_args" not in by_name:
        ignore = bool(kwargs.pop("ignore_extra_args"))
    name = f"{type(fn).__name__}()"
    specified = d.get("_fn_specified", set())
    kinds = type(fn)._sym_param_kinds  # type: ignore[attr-defined]
    positional = [p for p in schema.positional if p != schema.var_positional and
                  kinds.get(p) is not inspect.Parameter.KEYWORD_ONLY]
    if len(args) > len(positional) and schema.var_positional is None:
        if not ignore:
            n = len(positional)
            raise SymbolicTypeError(
                f"{name} takes {n} positional argument{'s' if n != 1 else ''} but {len(args)} "
                f"{'was' if len(args) == 1 else 'were'} given"
            )
        args = args[:len(positional)]
    values = dict(fn.sym_items())
    var_kw = dict(values.pop(schema.var_keyword, None) or {}) if schema.var_keyword else {}
    for i, arg in enumerate(args[:len(positional)]):
        key = positional[i]
        if key in specified and not override:
            raise SymbolicTypeError(
                f"{name} got new value for argument {key!r} from position {i}, but "
                f"'override_args' is set to False (old value: {values[key]!r}, new value: "
                f"{arg!r}); pass override_args=True to replace it"
            )
        values[key] = _checked(fn, by_name[key], arg)
    if schema.var_positional is not None and len(args) > len(positional):
        f = by_name[schema.var_positional]
        values[schema.var_positional] = _checked(fn, f, list(args[len(positional):]))
    for key, value in kwargs.items():
        if key in specified and not override:
            raise SymbolicTypeError(
                f"{name} got new value for argument {key!r} from keyword argument, while "
                "'override_args' is set to False; pass override_args=True to replace it"
            )
        f = by_name.get(key)
        if f is not None and key not in (schema.var_positional, schema.var_keyword):
            values[key] = _checked(fn, f, value)
        elif schema.var_keyword is not None:
            var_kw[key] = value
        elif not ignore:
            raise SymbolicTypeError(f"{name} got an unexpected keyword argument {key!r}")
    missing = [f.name for f in schema.fields if values.get(f.name, MISSING) is MISSING
               and f.name not in (schema.var_positional, schema.var_keyword)]
    if missing:
        kind = "" if any(kinds.get(m) is inspect.Parameter.KEYWORD_ONLY for m in missing) \
            else "positional "
        raise SymbolicTypeError(
            f"{name} missing {len(missing)} required {kind}argument"
            f"{'s' if len(missing) > 1 else ''}: " + ", ".join(repr(m) for m in missing)
        )
    pos: list[Any] = []
    kw: dict[str, Any] = {}
    var_args = values.pop(schema.var_positional, None) if schema.var_positional else None
    by_position = bool(var_args)
    for key, value in values.items():
        kind = kinds.get(key)
        if kind is inspect.Parameter.POSITIONAL_ONLY or (
                by_position and kind is inspect.Parameter.POSITIONAL_OR_KEYWORD):
            pos.append(value)
        else:
            kw[key] = value
    pos.extend(var_args or ())
    kw.update(var_kw)
    return pos, kw


def _checked(fn: Functor, f: Field, value: Any) -> Any:
    try:
        return f.check(value)
    except CheckFailure as e:
        raise e.to_error(fn.sym_path + f.name) from None


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
    base_class: type | None = None,
) -> Any:
    """Makes a function a functor class, or a class a symbolic recipe class.

    Usable as ``sb.symbolize(torch.nn.Linear)``, ``@sb.symbolize`` or
    ``@sb.symbolize(name="my.fn")``. ``name`` is the registry name used in JSON (default: the
    target's ``module.qualname``). ``check_types=False`` skips validation against the target's
    annotations (for libraries whose annotations are looser than their behaviour).
    ``base_class`` (a subclass of ``sb.Functor`` for functions, of ``sb.ClassWrapper`` for
    classes) is the class the new one derives from. Symbolic classes (subclasses of
    ``sb.Object``) are returned unchanged.

    >>> import symbo as sb
    >>> class Step(sb.Functor):
    ...     pass
    >>> @sb.symbolize(base_class=Step)
    ... def double(x):
    ...     return 2 * x
    >>> isinstance(double(), Step), double()(4)
    (True, 8)
    """
    if target is None:
        return functools.partial(symbolize, name=name, check_types=check_types,
                                 base_class=base_class)
    if isinstance(target, type):
        if issubclass(target, Object):
            return target
        base = _base(base_class, ClassWrapper)
        return _make_class(target, base, name, check_types, {"_sym_wrapped": target})
    if callable(target):
        base = _base(base_class, Functor)
        return _make_class(target, base, name, check_types,
                           {"_sym_function": staticmethod(target)})
    raise SymbolicTypeError(f"symbolize takes a class or a function, got {type(target).__name__}")


def _base(given: type | None, kind: type) -> type:
    if given is None:
        return kind
    if not (isinstance(given, type) and issubclass(given, kind)):
        what = "function" if kind is Functor else "class"
        raise SymbolicTypeError(
            f"base_class for a symbolized {what} must be a subclass of sb.{kind.__name__}, "
            f"got {given!r}"
        )
    return given


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
        sources = [target] if issubclass(base, Functor) else [target.__init__, target.__new__]
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
