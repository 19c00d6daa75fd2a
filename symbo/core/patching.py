"""Named, reusable rewrite rules for configs: ``sb.patcher`` and ``sb.patch`` (PyGlove's
``pg.patching``).

A *patcher* is a function of the tree to patch (its first argument) and of its own
parameters; it returns a *rule*: a dict of key paths to new values (``{"": value}`` replaces
the whole tree), a rebinder function ``fn(path, value, parent)``, another patcher, a patcher
URI, or a list of these; optionally with a validator, as ``(rule, validate)``. ``sb.patcher``
registers it under a name, so a command line can name it in a URI-like string:
``"name?positional&keyword=value"``.

>>> import symbo as sb
>>> @sb.patcher
... def learning_rate(config, lr: float):
...     return {"optimizer.lr": lr}
>>> @sb.patcher(name="wider")
... def widen(config, factor: int = 2):
...     return lambda path, value, parent: value * factor if path == "width" else value
>>> config = sb.Dict(optimizer=sb.Dict(lr=0.1), width=64)
>>> sb.patch(config, ["learning_rate?lr=0.01", "wider?3"])
Dict({'optimizer': Dict({'lr': 0.01}), 'width': 192})
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Callable
from typing import Any

from symbo.core.errors import SymbolicKeyError, SymbolicTypeError, SymbolicValueError
from symbo.core.node import MISSING, Symbolic
from symbo.core.symbolize import Functor, symbolize

Rule = Any  # dict | Callable | Patcher | str | list of them


class Patcher(Functor):
    """A symbolized patcher function (see the module docstring); ``patch(tree)`` applies it."""

    patcher_name: typing.ClassVar[str] = ""

    def patch(self, value: Symbolic) -> Any:
        """Applies this patcher's rule to ``value``; returns ``value`` (or its replacement)."""
        if not isinstance(value, Symbolic):
            raise SymbolicTypeError(
                f"patcher {type(self).__name__!r} patches symbolic values, got "
                f"{type(value).__name__} {value!r:.60}"
            )
        try:
            rule = self(value)
        except TypeError as e:
            missing = [f.name for f in type(self).sym_schema().fields[1:]
                       if getattr(self, f.name, MISSING) is MISSING]
            if not missing:
                raise
            raise SymbolicTypeError(
                f"patcher {self._name()!r} needs argument"
                f"{'s' if len(missing) > 1 else ''} {', '.join(map(repr, missing))}: give "
                f"{'&'.join(m + '=...' for m in missing)} in its URI ({e})") from None
        if rule is None:
            raise SymbolicTypeError(
                f"patcher {self._name()!r} returned None: return its rule (a dict of "
                "key paths to values, a rebinder function, a patcher or a list of them)")
        validator = None
        if isinstance(rule, tuple) and len(rule) == 2:
            rule, validator = rule
            if not callable(validator):
                raise SymbolicTypeError(
                    f"the validator returned by patcher {type(self).__name__!r} is not "
                    f"callable: {validator!r}"
                )
        self.__dict__["_patch_validator"] = validator
        return patch(value, rule)

    def _name(self) -> str:
        return type(self).patcher_name or type(self).__name__

    def validate(self, value: Any) -> None:
        """Runs the validator the last ``patch`` returned (if any) on ``value``."""
        validator = self.__dict__.get("_patch_validator")
        if validator is not None:
            validator(value)

    def __call__(self, value: Any, *args: Any, **kwargs: Any) -> Any:
        """The rule for ``value`` (the patcher's own arguments are bound already)."""
        return super().__call__(value, *args, override_args=True, **kwargs)


_PATCHERS: dict[str, type[Patcher]] = {}


def patcher(fn: Callable[..., Any] | None = None, *, name: str | None = None) -> Any:
    """Registers a patcher function under ``name`` (default: the function's name).

    The first parameter is the tree to patch; the others are the patcher's arguments, which
    a URI gives as text and which are converted by their annotations: ``int``, ``float``,
    ``bool`` (true/false/yes/no/1/0), ``str`` (quotes optional), ``list[...]`` of those
    (colon-separated) and ``X | None`` (``None``); unannotated ones stay strings.
    Returns the patcher class; calling it with arguments gives a patcher object.

    >>> import symbo as sb
    >>> @sb.patcher
    ... def depth(model, layers: int):
    ...     return {"layers": layers}
    >>> depth(layers=4).patch(sb.Dict(layers=2))
    Dict({'layers': 4})
    """
    if isinstance(fn, str):  # @sb.patcher("name")
        fn, name = None, fn
    if fn is None:
        return lambda f: patcher(f, name=name)
    if not callable(fn):
        raise SymbolicTypeError(
            f"sb.patcher decorates a function (or takes its name: @sb.patcher('name')), got "
            f"{type(fn).__name__} {fn!r:.60}")
    cls = symbolize(fn, base_class=Patcher)
    schema = cls.sym_schema()
    if not schema.positional:
        raise SymbolicTypeError(
            f"patcher {fn.__name__!r} must take the value to patch as its first argument"
        )
    for f in schema.fields[1:]:
        _converter(cls.__name__, f.name, f.annotation)  # refuses what a URI cannot give
    cls.patcher_name = name or fn.__name__
    _PATCHERS[cls.patcher_name] = cls
    return cls


def patcher_names() -> list[str]:
    """The names of the registered patchers, sorted."""
    return sorted(_PATCHERS)


def patch(value: Symbolic, rule: Rule) -> Any:
    """Applies patching rules to ``value`` in order; returns ``value`` (patched in place), or
    the value a rule replaced it with (``{"": new}``).

    ``rule`` is a dict of key paths to values, a rebinder function, a patcher, a patcher URI
    (``"name?arg&key=value"``) or a list of these. After all rules are applied, each
    patcher's validator (if it returned one) checks the result.

    >>> import symbo as sb
    >>> sb.patch(sb.Dict(a=1), [{"a": 2}, {"b": 3}])
    Dict({'a': 2, 'b': 3})
    """
    rules = rule if isinstance(rule, list) else [rule]
    resolved = []
    for r in rules:
        if isinstance(r, str):
            r = from_uri(r)
        if not isinstance(r, (Patcher, dict)) and not callable(r):
            raise SymbolicTypeError(
                f"patching rule {r!r:.80} should be a dict of key paths to values, a rebinder "
                "function, a patcher (object or URI) or a list of them"
            )
        resolved.append(r)
    for r in resolved:
        if isinstance(r, Patcher):
            value = r.patch(value)
        elif isinstance(r, dict) and len(r) == 1 and "" in r:
            value = r[""]
        else:
            value.rebind(r)
    for r in resolved:
        if isinstance(r, Patcher):
            r.validate(value)
    return value


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_ASSIGN = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)=(.*)\Z", re.DOTALL)


def from_uri(uri: str) -> Patcher:
    """The patcher object a URI names: ``"name"``, ``"name?1&2"``, ``"name?a=1&b=x"``.

    >>> import symbo as sb
    >>> @sb.patcher
    ... def batch(config, size: int = 32):
    ...     return {"batch": size}
    >>> sb.patching.from_uri("batch?size=64").size
    64
    """
    name, args, kwargs = parse_uri(uri)
    cls = _PATCHERS.get(name)
    if cls is None:
        raise SymbolicKeyError(
            f"no patcher named {name!r} (registered: {', '.join(patcher_names()) or 'none'})"
        )
    fields = cls.sym_schema().fields[1:]
    accepted = [f.name for f in fields]
    if len(args) > len(fields):
        raise SymbolicKeyError(
            f"patcher {name!r} takes {len(fields)} argument{'s' if len(fields) != 1 else ''} "
            f"({', '.join(accepted) or 'none'}), got {len(args)} positional: {uri!r}"
        )
    values: dict[str, Any] = {}
    for f, text in zip(fields, args, strict=False):
        values[f.name] = _converter(name, f.name, f.annotation)(text)
    by_name = {f.name: f for f in fields}
    for key, text in kwargs.items():
        f = by_name.get(key)
        if f is None:
            raise SymbolicKeyError(
                f"patcher {name!r} has no argument {key!r} (arguments: "
                f"{', '.join(accepted) or 'none'})"
            )
        if key in values:
            raise SymbolicKeyError(f"patcher {name!r} got argument {key!r} twice in {uri!r}")
        values[key] = _converter(name, f.name, f.annotation)(text)
    return cls(MISSING, **values)


def parse_uri(uri: str) -> tuple[str, list[str], dict[str, str]]:
    """``"name?a&b=c"`` -> ``("name", ["a"], {"b": "c"})``."""
    if not isinstance(uri, str):
        raise SymbolicTypeError(f"a patcher URI is a str, got {type(uri).__name__}")
    name, sep, rest = uri.partition("?")
    args: list[str] = []
    kwargs: dict[str, str] = {}
    if sep:
        for part in rest.split("&"):
            m = _ASSIGN.match(part)
            if m is not None:
                if m.group(1) in kwargs:
                    raise SymbolicKeyError(
                        f"patcher argument {m.group(1)!r} is given twice in {uri!r}")
                kwargs[m.group(1)] = m.group(2)
            elif "=" in part.split('"')[0]:
                raise SymbolicValueError(f"malformed patcher argument {part!r} in {uri!r}")
            elif kwargs:
                raise SymbolicValueError(
                    f"positional patcher arguments must come before keyword ones: {uri!r}"
                )
            else:
                args.append(part)
    if not _NAME.match(name):
        raise SymbolicValueError(f"{name!r} is not a valid patcher name (in {uri!r})")
    return name, args, kwargs


_TRUE = frozenset(["True", "true", "yes", "1"])
_FALSE = frozenset(["False", "false", "no", "0"])
_NONE = frozenset(["None", "none"])


def _converter(patcher_name: str, arg: str, annotation: Any) -> Callable[[str], Any]:
    """How to read argument ``arg`` of a patcher from URI text; raises if it cannot be read."""
    def fail(reason: str) -> SymbolicValueError:
        return SymbolicValueError(f"patcher {patcher_name!r}, argument {arg!r}: {reason}")

    origin = typing.get_origin(annotation)
    options = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType) and type(None) in options:
        rest = [a for a in options if a is not type(None)]
        inner = _converter(patcher_name, arg, rest[0] if len(rest) == 1 else Any)
        return lambda text: None if text in _NONE else inner(text)
    if annotation is Any or annotation is str or annotation is typing.Any:
        def read_str(text: str) -> str:
            if len(text) > 1 and (text[0] == '"') != (text[-1] == '"'):
                raise fail(f"unmatched quote in {text!r}")
            return text[1:-1] if len(text) > 1 and text[0] == text[-1] == '"' else text
        return read_str
    if annotation is bool:
        def read_bool(text: str) -> bool:
            if text not in _TRUE and text not in _FALSE:
                raise fail(f"cannot read {text!r} as a bool (true/false, yes/no, 1/0)")
            return text in _TRUE
        return read_bool
    if annotation in (int, float):
        def read_number(text: str) -> Any:
            try:
                return annotation(text)
            except ValueError:
                raise fail(f"cannot read {text!r} as {annotation.__name__}") from None
        return read_number
    if annotation is list or origin is list:
        element = _converter(patcher_name, arg, options[0] if options else Any)
        return lambda text: [element(piece) for piece in text.split(":")] if text.strip() \
            else []
    raise SymbolicTypeError(
        f"patcher {patcher_name!r}, argument {arg!r}: a {annotation!r} cannot be given in a "
        "URI; use int, float, bool, str, list of those, or take a str and parse it yourself"
    )


# ---- pattern-based patching (PyGlove's patch_on_key/path/value/type/member) ----------------
def patch_on_key(src: Symbolic, regex: str, value: Any = None,
                 value_fn: Callable[[Any], Any] | None = None,
                 skip_notification: bool | None = None) -> Any:
    """Sets every value whose key (last path element) matches ``regex`` (``re.match``) to
    ``value``, or to ``value_fn(old)``; returns ``src``.

    >>> import symbo as sb
    >>> sb.patching.patch_on_key(sb.Dict(a=1, b={"a": 2}, c=3), "a", value_fn=lambda v: v * 10)
    Dict({'a': 10, 'b': Dict({'a': 20}), 'c': 3})
    """
    pattern = re.compile(regex)
    return _conditional_patch(src, lambda k, v, p: bool(k.keys) and
                              pattern.match(str(k.key)) is not None,
                              value, value_fn, skip_notification)


def patch_on_path(src: Symbolic, regex: str, value: Any = None,
                  value_fn: Callable[[Any], Any] | None = None,
                  skip_notification: bool | None = None) -> Any:
    """Sets every value whose whole path matches ``regex`` (``re.fullmatch``, as ``sb.query``).

    >>> import symbo as sb
    >>> sb.patching.patch_on_path(sb.Dict(a={"x": 1}, b=2), r"a\\.x", value=3)
    Dict({'a': Dict({'x': 3}), 'b': 2})
    """
    pattern = re.compile(regex)
    return _conditional_patch(src, lambda k, v, p: pattern.fullmatch(str(k)) is not None,
                              value, value_fn, skip_notification)


def patch_on_value(src: Symbolic, old_value: Any, value: Any = None,
                   value_fn: Callable[[Any], Any] | None = None,
                   skip_notification: bool | None = None) -> Any:
    """Sets every value equal to ``old_value`` (``sb.eq``).

    >>> import symbo as sb
    >>> sb.patching.patch_on_value(sb.Dict(a={"x": 1}, b=1, c=2), 1, value=3)
    Dict({'a': Dict({'x': 3}), 'b': 3, 'c': 2})
    """
    from symbo.core.compare import eq

    return _conditional_patch(src, lambda k, v, p: eq(v, old_value), value, value_fn,
                              skip_notification)


def patch_on_type(src: Symbolic, value_type: type | tuple[type, ...], value: Any = None,
                  value_fn: Callable[[Any], Any] | None = None,
                  skip_notification: bool | None = None) -> Any:
    """Sets every value that is an instance of ``value_type``.

    >>> import symbo as sb
    >>> sb.patching.patch_on_type(sb.Dict(a={"x": 1}, b=2.5), int, value_fn=lambda v: v * 2)
    Dict({'a': Dict({'x': 2}), 'b': 2.5})
    """
    return _conditional_patch(src, lambda k, v, p: isinstance(v, value_type), value, value_fn,
                              skip_notification)


def patch_on_member(src: Symbolic, cls: type | tuple[type, ...], name: str, value: Any = None,
                    value_fn: Callable[[Any], Any] | None = None,
                    skip_notification: bool | None = None) -> Any:
    """Sets field ``name`` of every object of class ``cls``.

    >>> import symbo as sb
    >>> class A(sb.Object):
    ...     x: int = 1
    >>> sb.patching.patch_on_member(sb.Dict(a=A(), b={"x": 5}), A, "x", value=2)
    Dict({'a': A(x=2), 'b': Dict({'x': 5})})
    """
    return _conditional_patch(src, lambda k, v, p: isinstance(p, cls) and k.key == name,
                              value, value_fn, skip_notification)


def _conditional_patch(src: Symbolic, condition: Callable[[Any, Any, Any], bool], value: Any,
                       value_fn: Callable[[Any], Any] | None,
                       skip_notification: bool | None) -> Any:
    if value_fn is not None and value is not None:
        raise SymbolicValueError("give either value or value_fn, not both")
    if not isinstance(src, Symbolic):
        raise SymbolicTypeError(f"patching works on symbolic values, got {type(src).__name__}")

    def rebinder(k: Any, v: Any, p: Any) -> Any:
        if not condition(k, v, p):
            return v
        return value_fn(v) if value_fn is not None else value

    kwargs = {} if skip_notification is None else {"skip_notification": skip_notification}
    return src.rebind(rebinder, **kwargs)
