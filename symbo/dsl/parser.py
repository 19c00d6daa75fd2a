"""The text language: ``sb.parse(text)`` builds a space; ``sb.format`` prints one back.

The grammar is ``space.lark`` (parsed with lark's LALR parser). Calls name markers
(``one_of``, ``many_of``, ``permutate``, ``float_range``, ``int_range``, and any other marker
class by its ``function_name``) or registered symbolic classes; bare names are
``None``/``True``/``False``/``MISSING``/``inf``/``nan``, an option of a ``Literal`` field
(``scale=log``), or a value registered with ``sb.register``. Nothing is
evaluated and nothing is imported. Errors give the line, the column, the text there and what
was expected.

>>> import symbo as sb
>>> class Trainer(sb.Object):
...     lr: float = 1e-3
...     opt: str = "adam"
...     layers: list[int] = [64]
>>> space = sb.parse('Trainer(lr=float_range(1e-4, 0.1, scale=log), '
...                  'opt=one_of(["sgd", "adam"]), layers=[64, one_of([64, 128])])')
>>> space
Trainer(lr=float_range(0.0001, 0.1, scale='log'), opt=one_of(['sgd', 'adam']), layers=[64, one_of([64, 128])])
>>> sb.eq(sb.parse(sb.format(space)), space)
True
"""

from __future__ import annotations

import ast
import functools
import os
import re
from importlib import resources
from typing import Any

import lark

from symbo.core import MISSING, Dict, List, Object, SymbolicError, SymbolicValueError, registry
from symbo.core.formatting import format as sym_format
from symbo.core.tuples import as_tuple_node, as_value_node
from symbo.core.validation import LiteralCheck, UnionCheck
from symbo.dsl.markers import MARKER_CLASSES, Marker

_CONSTANTS: dict[str, Any] = {
    "None": None, "True": True, "False": False, "MISSING": MISSING,
    "inf": float("inf"), "nan": float("nan"),
}
_INT = re.compile(r"[+-]?\d+\Z")


class SpaceSyntaxError(SymbolicValueError):
    """Malformed space text; the message starts with ``line L, column C``."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None) -> None:
        super().__init__(message)
        self.line = line
        self.column = column


_PARSER: lark.Lark | None = None


def _parser() -> lark.Lark:
    global _PARSER
    if _PARSER is None:
        grammar = resources.files("symbo.dsl").joinpath("space.lark").read_text(encoding="utf-8")
        _PARSER = lark.Lark(grammar, parser="lalr", propagate_positions=True, maybe_placeholders=True)
    return _PARSER


class _Bare:
    """A bare name whose meaning depends on the field it fills."""

    __slots__ = ("name", "line", "column")

    def __init__(self, name: str, line: int, column: int) -> None:
        self.name = name
        self.line = line
        self.column = column


def _where(meta: Any, source: str) -> str:
    return f"{source}:{meta.line}:{meta.column}" if source else f"line {meta.line}, column {meta.column}"


@lark.v_args(meta=True)
class _Build(lark.Transformer):
    def __init__(self, source: str) -> None:
        super().__init__()
        self.source = source

    def _error(self, meta: Any, message: str) -> SpaceSyntaxError:
        return SpaceSyntaxError(f"{_where(meta, self.source)}: {message}", meta.line, meta.column)

    # ---- atoms ---------------------------------------------------------------------------
    def string(self, meta: Any, children: list) -> str:
        return ast.literal_eval(str(children[0]))  # a string literal only (the grammar says so)

    def number(self, meta: Any, children: list) -> int | float:
        text = str(children[0])
        return int(text) if _INT.match(text) else float(text)

    def dotted(self, meta: Any, children: list) -> str:
        return ".".join(str(c) for c in children)

    def ref(self, meta: Any, children: list) -> Any:
        name = children[0]
        if name in _CONSTANTS:
            return _CONSTANTS[name]
        return _Bare(name, meta.line, meta.column)

    def neg_ref(self, meta: Any, children: list) -> float:
        if children[0] == "inf":
            return float("-inf")
        raise self._error(meta, f"'-' can only precede a number or inf, not {children[0]!r}")

    def name_key(self, meta: Any, children: list) -> str:
        return str(children[0])

    # ---- containers ----------------------------------------------------------------------
    def list(self, meta: Any, children: list) -> List:
        return List([self._resolve(c, None) for c in children])

    def tuple(self, meta: Any, children: list) -> Any:
        return as_tuple_node(tuple(self._resolve(c, None) for c in children))

    def pair(self, meta: Any, children: list) -> tuple[str, Any]:
        return children[0], children[1]

    def dict(self, meta: Any, children: list) -> Dict:
        out: dict[str, Any] = {}
        for pair in children:
            if pair is None:
                continue
            key, value = pair
            if key in out:
                raise self._error(meta, f"duplicate key {key!r}")
            out[key] = self._resolve(value, None)
        return Dict(out)

    # ---- calls ---------------------------------------------------------------------------
    def positional(self, meta: Any, children: list) -> tuple[None, Any]:
        return None, children[0]

    def keyword(self, meta: Any, children: list) -> tuple[str, Any]:
        return str(children[0]), children[1]

    def arguments(self, meta: Any, children: list) -> list:
        return [c for c in children if c is not None]

    def call(self, meta: Any, children: list) -> Any:
        name, arguments = children[0], children[1] or []
        args: list[Any] = []
        kwargs: dict[str, Any] = {}
        for key, value in arguments:
            if key is None:
                if kwargs:
                    raise self._error(meta, f"{name}(): a positional argument after a keyword")
                args.append(value)
            elif key in kwargs:
                raise self._error(meta, f"{name}(): argument {key!r} given twice")
            else:
                kwargs[key] = value
        if name == "partial":  # functools.partial, as sb.format writes one
            resolved = [self._resolve(a, None) for a in args]
            if not resolved or not callable(resolved[0]) and not isinstance(resolved[0], Marker):
                raise self._error(meta, "partial() needs a function first")
            return as_value_node(functools.partial(
                resolved[0], *resolved[1:], **{k: self._resolve(v, None) for k, v in kwargs.items()}))
        cls = MARKER_CLASSES.get(name)
        if cls is None:
            try:
                cls = registry.lookup_short(name)
            except SymbolicError as e:
                reason = "" if "not registered" in str(e) else f" ({e})"
                raise self._error(
                    meta, f"unknown class {name!r}{reason}: not a marker or a registered symbolic "
                    "class; define or import it before parsing"
                ) from None
            if not (isinstance(cls, type) and issubclass(cls, Object)):
                raise self._error(meta, f"{name!r} is not a symbolic class")
        if issubclass(cls, Marker):  # also under a full name, e.g. symbo.one_of([1, 2])
            names = cls.positional
            if len(args) > len(names):
                raise self._error(meta, f"{name}() takes at most {len(names)} positional arguments")
            for n, value in zip(names, args):
                if n in kwargs:
                    raise self._error(meta, f"{name}(): argument {n!r} given twice")
                kwargs[n] = value
            args = []
        schema = cls.sym_schema()
        positional = list(schema.positional)
        args = [self._resolve(v, schema.by_name.get(positional[i]) if i < len(positional) else None)
                for i, v in enumerate(args)]
        kwargs = {k: self._resolve(v, schema.by_name.get(k)) for k, v in kwargs.items()}
        try:
            if any(v is MISSING for v in (*args, *kwargs.values())):
                return cls.partial(*args, **kwargs)
            return cls(*args, **kwargs)
        except SymbolicError as e:
            raise self._error(meta, f"{name}(...): {e}") from None

    def _resolve(self, value: Any, field: Any) -> Any:
        if not isinstance(value, _Bare):
            return value
        options = _literal_options(field.check) if field is not None else set()
        if value.name in options:
            return value.name
        try:
            return registry.lookup_short(value.name)
        except SymbolicError:
            where = f"{self.source}:{value.line}:{value.column}" if self.source else \
                f"line {value.line}, column {value.column}"
            hint = (f"expected one of {', '.join(sorted(options))}" if options else
                    "quote it for a string, or register the value with sb.register")
            raise SpaceSyntaxError(
                f"{where}: unknown name {value.name!r} ({hint})", value.line, value.column
            ) from None

    # ---- top level -----------------------------------------------------------------------
    def entry(self, meta: Any, children: list) -> tuple[str, Any, Any]:
        return str(children[0]), self._resolve(children[1], None), meta

    def single(self, meta: Any, children: list) -> Any:
        return self._resolve(children[0], None)

    def entries(self, meta: Any, children: list) -> Dict:
        out: dict[str, Any] = {}
        for name, value, entry_meta in children:
            if name in out:
                raise self._error(entry_meta, f"entry {name!r} defined twice")
            out[name] = value
        return Dict(out)


def _literal_options(check: Any) -> set[str]:
    if isinstance(check, LiteralCheck):
        return {v for v in check.values if isinstance(v, str)}
    if isinstance(check, UnionCheck):
        out: set[str] = set()
        for option in check.options:
            out |= _literal_options(option)
        return out
    inner = getattr(check, "inner", None)
    return _literal_options(inner) if inner is not None else set()


def parse(text: str, *, source: str = "") -> Any:
    """Builds the value (or the Dict of named entries) that ``text`` describes."""
    if not isinstance(text, str):
        raise SymbolicValueError(f"parse needs a str, got {type(text).__name__}")
    try:
        tree = _parser().parse(text)
    except lark.exceptions.UnexpectedInput as e:
        raise _syntax_error(e, text, source) from None
    try:
        return _Build(source).transform(tree)
    except lark.exceptions.VisitError as e:
        if isinstance(e.orig_exc, SymbolicError):
            raise e.orig_exc from None
        raise
    except RecursionError:
        raise SpaceSyntaxError(
            f"{source + ': ' if source else ''}values are nested too deeply to be read"
        ) from None


def _syntax_error(e: Any, text: str, source: str) -> SpaceSyntaxError:
    line, column = e.line, e.column
    where = f"{source}:{line}:{column}" if source else f"line {line}, column {column}"
    if isinstance(e, lark.exceptions.UnexpectedEOF) or getattr(e, "token", None) is not None and \
            getattr(e.token, "type", "") == "$END":
        found = "end of text"
        lines = text.splitlines() or [""]
        line, column = len(lines), len(lines[-1]) + 1
        where = f"{source}:{line}:{column}" if source else f"line {line}, column {column}"
    elif isinstance(e, lark.exceptions.UnexpectedCharacters):
        found = repr(text[e.pos_in_stream]) if e.pos_in_stream < len(text) else "the end"
    else:
        found = repr(str(e.token))
    expected = sorted(_accepted(e) or getattr(e, "expected", None) or getattr(e, "allowed", None)
                      or [])
    readable = ", ".join(_TOKEN_NAMES.get(t, t) for t in expected[:12])
    context = e.get_context(text, span=30).rstrip("\n") if hasattr(e, "get_context") else ""
    message = f"{where}: unexpected {found}"
    if readable:
        message += f"; expected {readable}"
    if context:
        message += "\n" + context
    return SpaceSyntaxError(message, line, column)


def _accepted(e: Any) -> set[str]:
    """The terminals the parser could take where it stopped.

    LALR states are shared, so ``e.expected`` (a state's lookaheads) can list tokens that no
    text could put there; asking the parser what it accepts gives the exact set.
    """
    interactive = getattr(e, "interactive_parser", None)
    try:
        return set(interactive.accepts()) if interactive is not None else set()
    except lark.exceptions.LarkError:
        return set()


_TOKEN_NAMES = {
    "LPAR": "'('", "RPAR": "')'", "LSQB": "'['", "RSQB": "']'", "LBRACE": "'{'", "RBRACE": "'}'",
    "COMMA": "','", "COLON": "':'", "EQUAL": "'='", "DOT": "'.'", "MINUS": "'-'",
    "NAME": "a name", "STRING": "a string", "SIGNED_NUMBER": "a number", "$END": "the end",
}


# ---- files ---------------------------------------------------------------------------------
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def format_file(entries: dict[str, Any]) -> str:
    """The file form: one ``name = value`` entry per block."""
    parts = []
    for name, value in entries.items():
        if not _IDENT.match(name) or name in _CONSTANTS:
            raise SymbolicValueError(f"entry names must be identifiers, got {name!r}")
        parts.append(f"{name} = {sym_format(value)}")
    return "\n\n".join(parts) + "\n"


def save_space(value: Any, path: str | os.PathLike) -> None:
    """Writes a space to a ``.sym`` file (a dict with identifier keys as named entries)."""
    if isinstance(value, dict) and value and all(_IDENT.match(k) and k not in _CONSTANTS
                                                 for k in value):
        text = format_file(value)
    else:
        text = sym_format(value) + "\n"
    tmp = f"{os.fspath(path)}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def load_space(path: str | os.PathLike) -> Any:
    """Reads a ``.sym`` file written by :func:`save_space` or by hand."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    return parse(text, source=os.fspath(path))
