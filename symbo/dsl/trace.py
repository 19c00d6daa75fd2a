"""Define-by-run spaces: markers called inline in ordinary code, collected by ``sb.trace``.

Existing training code can be annotated without restructuring it: a marker call with a
``name`` stands where a value was. ``sb.trace(fn)`` runs ``fn`` once, with each marker
returning a default (its first candidate, or the middle of a range), and collects the named
markers into a space that every algorithm can search. Materializing that space gives a
``TracedProgram``; calling it runs ``fn`` with each marker returning its decided value.

>>> import symbo as sb
>>> def train():
...     lr = sb.float_range(1e-4, 1e-1, scale="log", name="lr")
...     opt = sb.one_of(["sgd", "adam"], name="opt")
...     return f"{opt} at {lr:.0e}"
>>> space = sb.trace(train)
>>> sorted(space.decisions)
['lr', 'opt']
>>> program = sb.materialize(space, sb.DNA.from_dict(sb.dna_spec(space), {"lr": 0.01, "opt": 1}))
>>> program()
'adam at 1e-02'
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator
from typing import Any

from symbo.core import Dict, Object, SymbolicValueError, eq
from symbo.core.formatting import format as sym_format

_CONTEXT: contextvars.ContextVar[_Context | None] = contextvars.ContextVar("symbo_trace", default=None)


def current_context() -> _Context | None:
    """The define-by-run context markers report to, or None outside ``trace``/a program run."""
    return _CONTEXT.get()


class _Context:
    def decide(self, marker: Any) -> Any:
        raise NotImplementedError


class _Collect(_Context):
    """Records named markers; each call returns the marker's default value."""

    def __init__(self) -> None:
        self.markers: dict[str, Any] = {}

    def decide(self, marker: Any) -> Any:
        name = marker.name
        if name is None:
            raise SymbolicValueError(
                f"{sym_format(marker, compact=True)}: a marker called inside a traced function "
                "needs a name= so that its decision can be found again"
            )
        known = self.markers.get(name)
        if known is None:
            self.markers[name] = marker
        elif not eq(known, marker):
            raise SymbolicValueError(
                f"two markers are named {name!r} with different definitions: "
                f"{sym_format(known, compact=True)} and {sym_format(marker, compact=True)}"
            )
        return _default(marker)


class _Replay(_Context):
    """Each named marker returns its decided value."""

    def __init__(self, traced: dict[str, Any] | None, values: dict[str, Any]) -> None:
        self.traced = traced
        self.values = values

    def decide(self, marker: Any) -> Any:
        name = marker.name
        if name is None or name not in self.values:
            raise SymbolicValueError(
                f"marker {name!r} was not seen when the space was traced; trace the function "
                "again (markers reached only on some paths must be reached by the trace run)"
            )
        if self.traced is not None:
            known = self.traced.get(name)
            if known is not None and not eq(known, marker):
                raise SymbolicValueError(
                    f"marker {name!r} changed since the space was traced: "
                    f"{sym_format(known, compact=True)} became {sym_format(marker, compact=True)}"
                )
        value = self.values[name]
        from symbo.dsl.markers import Marker

        if isinstance(value, Marker):
            raise SymbolicValueError(
                f"marker {name!r} is not decided in this program (it was left to another search)"
            )
        return value


def _default(marker: Any) -> Any:
    return marker.default(_strip)


def _strip(candidate: Any) -> Any:
    """A candidate's default value: nested markers take their defaults too."""
    from symbo.dsl.markers import Marker
    from symbo.dsl.materialize import is_deterministic

    if isinstance(candidate, Marker):
        return _default(candidate)
    if is_deterministic(candidate):
        return candidate
    from symbo.core import clone

    return clone(candidate, replace=lambda n: _default(n) if isinstance(n, Marker) else n)


class TracedSpace(Object, type_name="symbo.TracedSpace"):
    """The space of a traced function: its named markers, by name."""

    fn: Callable[..., Any]
    decisions: dict[str, Any] = {}

    def dna_spec(self, where: Any = None) -> Any:
        """The spec of the traced decisions (``where`` selects some, as for any space)."""
        from symbo.dsl.spec import dna_spec

        return dna_spec(self.decisions, where=where)

    def materialize(self, dna: Any, where: Any = None) -> TracedProgram:
        """The program that runs ``fn`` with the decisions of ``dna``.

        Decisions left out by ``where`` stay markers in ``program.values``; running such a
        program is an error until another search decides them.
        """
        from symbo.dsl.materialize import materialize

        values = materialize(self.decisions, dna, where=where)
        program = TracedProgram(fn=self.fn, values=values)
        program._traced = self.decisions  # to catch markers that changed since the trace
        return program


class TracedProgram(Object, type_name="symbo.TracedProgram"):
    """One point of a traced space: call it (or run code under ``apply()``) to use it."""

    fn: Callable[..., Any]
    values: dict[str, Any] = {}

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        with self.apply():
            return self.fn(*args, **kwargs)

    @contextlib.contextmanager
    def apply(self) -> Iterator[TracedProgram]:
        """Within this block, named markers return this program's decisions."""
        token = _CONTEXT.set(_Replay(getattr(self, "_traced", None), dict(self.values)))
        try:
            yield self
        finally:
            _CONTEXT.reset(token)


def trace(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> TracedSpace:
    """Runs ``fn(*args, **kwargs)`` once and returns the space of the named markers it called.

    Markers must have names; two markers with one name must be defined alike (they are then
    one decision). Markers reached only on paths the trace run does not take are not found.
    """
    if not callable(fn):
        raise SymbolicValueError(f"trace needs a function, got {type(fn).__name__}")
    context = _Collect()
    token = _CONTEXT.set(context)
    try:
        fn(*args, **kwargs)
    finally:
        _CONTEXT.reset(token)
    if not context.markers:
        raise SymbolicValueError(f"{getattr(fn, '__name__', fn)!r} called no markers while traced")
    return TracedSpace(fn=fn, decisions=Dict(context.markers))
