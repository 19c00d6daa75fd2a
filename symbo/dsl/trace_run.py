"""Running user code whose markers are decided as they are met (define-by-run).

While a context is set, a marker call (``sb.one_of(...)``, ``sb.float_range(...)``, ...)
does not return a marker: it asks the context for a value. Every context follows one set of
rules, written here once:

* **Keys.** A marker is identified by its ``name``. The one exception is a marker met while a
  callable candidate runs (``sb.one_of([lambda: ..., ...], name="a")``): unnamed, it gets the
  automatic key ``a[=i][j]``, the ``j``-th unnamed marker met inside candidate ``i`` of ``a``
  (stable: that candidate's code meets them in the same order each time). Any other unnamed
  marker is an error (in running code, a marker written inside another's candidate list is
  called before it: write ``sb.one_of([lambda: sb.int_range(1, 3), 10], name="a")`` to nest).
* **One definition per key.** A key met again (in this run or another) must be defined alike;
  otherwise it is an error naming the key and both definitions.
* **One parent per key.** A key met while a callable candidate of ``a`` runs sits under ``a``;
  met elsewhere too (at the top level, or under another choice) it is an error.
* **Callable candidates.** A candidate that is a plain function taking no arguments (a
  ``lambda`` or a ``def``) is called when chosen, and the markers it meets form a sub-space
  under that candidate. Classes, partials and functions with parameters are values.

Subclasses only say which value a key gets (:meth:`_Context.choose`). Each met key is recorded
as a :class:`Met` (in the order met), which is what a trial's ``params`` are made of.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import math
import random
import types
from collections.abc import Mapping
from typing import Any

import attrs

from symbo.core import List, Object, Symbolic, SymbolicValueError
from symbo.core.formatting import format as sym_format
from symbo.core.registry import default_name, reference_name
from symbo.dsl.dna import DNA
from symbo.dsl.markers import Marker, OneOf, _Choice
from symbo.dsl.materialize import materialize
from symbo.dsl.points import Choice, DecisionPoint, FloatDecision
from symbo.dsl.points import param_value as _plain_param
from symbo.dsl.trace_tree import own_point

_CONTEXT: contextvars.ContextVar[_Context | None] = contextvars.ContextVar("symbo_trace", default=None)


def current_context() -> _Context | None:
    """The define-by-run context markers report to, or None outside ``trace``/a program run."""
    return _CONTEXT.get()


class CallCandidate(Object, type_name="symbo.CallCandidate"):
    """Stands for a callable candidate in a traced decision's definition (a space never holds
    the function itself: ``fn`` makes it anew on each run). Equal for the same code.

    >>> import symbo as sb
    >>> from symbo.dsl.trace_run import CallCandidate
    >>> sb.format(CallCandidate(function="make_sgd", line=3, index=0))
    'make_sgd()'
    """

    function: str
    line: int = 0
    index: int = 0

    def sym_format(self, fmt: Any) -> str:
        name = self.function.rsplit(".", 1)[-1]
        if name == "<lambda>":
            return f"<lambda #{self.index}, line {self.line}>"
        return f"{name}()"


class ObjectCandidate(Object, type_name="symbo.ObjectCandidate"):
    """Stands for a candidate that is neither plain data nor symbolic (a class, a function
    taking arguments, a partial, a module instance) in a traced decision's definition: its
    printed form, the same in every run and process. The run itself gets the real object.

    >>> import symbo as sb
    >>> from symbo.dsl.trace_run import ObjectCandidate
    >>> sb.format(ObjectCandidate(text="ReLU()"))
    'ReLU()'
    """

    text: str

    def sym_format(self, fmt: Any) -> str:
        return self.text


def is_call_candidate(value: Any) -> bool:
    """Whether a candidate is called when chosen: a plain function taking no arguments."""
    if not isinstance(value, types.FunctionType):
        return False
    try:
        params = inspect.signature(value).parameters.values()
    except (TypeError, ValueError):
        return False
    return all(p.default is not p.empty or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
               for p in params)


def definition(marker: Marker) -> Marker:
    """The marker as a traced space stores it: each candidate that is not plain data or a
    symbolic value replaced by a :class:`CallCandidate` (called when chosen) or an
    :class:`ObjectCandidate` (its printed form), so the definition is the same in every run
    and process, can be stored, and prints without memory addresses."""
    if not isinstance(marker, _Choice):
        return marker
    candidates = list(list.__iter__(marker.candidates))
    new = [_candidate(c, i) for i, c in enumerate(candidates)]
    if all(a is b for a, b in zip(new, candidates)):
        return marker
    args = {k: v for k, v in marker.sym_items() if k != "candidates"}
    return type(marker)(candidates=new, **args)


def _candidate(value: Any, index: int) -> Any:
    if is_call_candidate(value):
        # its module as another process imports it (train, not __main__: see sb.register)
        return CallCandidate(function=reference_name(value) or default_name(value),
                             line=value.__code__.co_firstlineno, index=index)
    if _is_value(value):
        return value
    return ObjectCandidate(text=stable_text(value))


def _is_value(value: Any) -> bool:
    """Plain data or symbolic values (they print and store as they are)."""
    if value is None or type(value) in (bool, int, float, str):
        return True
    if isinstance(value, Symbolic):
        return True
    if type(value) in (list, dict):
        items = value.values() if isinstance(value, dict) else value
        return all(_is_value(v) for v in items) and (
            not isinstance(value, dict) or all(type(k) is str for k in value))
    return False


def stable_text(value: Any) -> str:
    """A candidate's printed form, without what changes from run to run (memory addresses)."""
    if isinstance(value, (types.FunctionType, types.BuiltinFunctionType, type)):
        # the name it is stored under (torch.nn.functional.gelu, as sb.format and the params
        # of a space show it): the same in every process, whatever else is registered
        name = reference_name(value)
        return name or getattr(value, "__qualname__", None) or getattr(value, "__name__", repr(value))
    if isinstance(value, functools.partial):
        args = [stable_text(v) for v in value.args]
        args += [f"{k}={stable_text(v)}" for k, v in value.keywords.items()]
        return f"partial({', '.join([stable_text(value.func), *args])})"
    if _is_value(value):
        return sym_format(value, compact=True)
    if isinstance(value, (list, tuple)):
        inner = ", ".join(stable_text(v) for v in value)
        return f"[{inner}]" if isinstance(value, list) else f"({inner}{',' if len(value) == 1 else ''})"
    text = repr(value)
    if " at 0x" in text:
        return f"<{type(value).__qualname__} object>"
    return text


def fingerprint(marker: Marker) -> str:
    """The text that says whether two definitions are equal (of normalized definitions)."""
    known = marker.__dict__.get("_fingerprint")  # set on markers made once and kept as they are
    if known is not None:
        return known
    quick = _quick_key(marker)
    if quick is None:
        return sym_format(marker, compact=True)
    text = _FINGERPRINTS.get(quick)
    if text is None:
        if len(_FINGERPRINTS) > 4096:
            _FINGERPRINTS.clear()
        text = _FINGERPRINTS[quick] = sym_format(marker, compact=True)
    return text


_FINGERPRINTS: dict[tuple, str] = {}


def _quick_key(marker: Marker) -> tuple | None:
    """A hashable key equal for markers that print alike (None when there is no cheap one)."""
    items = tuple(marker.sym_items())
    out = [type(marker)]
    for k, v in items:
        if type(v) in (int, float, str, bool) or v is None:
            out.append((k, type(v), v))
        elif isinstance(v, list) and all(type(c) in (int, float, str, bool) or c is None
                                         for c in list.__iter__(v)):
            out.append((k, tuple((type(c), c) for c in list.__iter__(v))))
        else:
            return None
    return tuple(out)


@attrs.frozen(slots=True)
class Met:
    """One key met by a run: its definition, its decision (the key's own DNA), the value it
    took in the readable form of ``params``, the choice whose callable candidate met it, and
    whether the run decided it itself (a key the program had no decision for)."""

    key: str
    definition: Marker
    dna: DNA
    param: Any
    scope: str | None = None
    new: bool = False
    marker: Any = attrs.field(default=None, eq=False, repr=False)  # as the run made it


class _Scope:
    __slots__ = ("key", "index", "count")

    def __init__(self, key: str, index: int) -> None:
        self.key, self.index, self.count = key, index, 0


class _Context:
    """Decides markers as they are met (see the module docstring for the rules).

    ``known`` maps the keys met before to their definitions' fingerprints (it grows as this
    run meets new keys); ``scopes`` the choice each known key was met under (absent: the top
    level); ``from_space``: the keys of a traced space (for the error message).
    """

    def __init__(self, known: dict[str, str] | None = None,
                 scopes: Mapping[str, str] | None = None,
                 from_space: frozenset[str] = frozenset()) -> None:
        self.known = known if known is not None else {}
        self.scopes = scopes if scopes is not None else {}
        self.from_space = from_space
        self.met: dict[str, Met] = {}
        self.error: BaseException | None = None  # an error of these rules (not the user's code)
        self._stack: list[_Scope] = []

    def choose(self, key: str, marker: Marker) -> tuple[DNA, bool]:
        """The decision for a key met for the first time in this run (``marker``: its
        definition; ``own_point(key, marker)`` its decision point), and whether it is new
        (decided by the run itself)."""
        raise NotImplementedError

    def decide(self, marker: Marker) -> Any:
        """The value the marker call returns."""
        try:
            key, node = self._node(marker)
        except SymbolicValueError as e:
            self.error = e
            raise
        return self._value(key, marker, node)

    # ---- the rules ---------------------------------------------------------------------------
    def _node(self, marker: Marker) -> tuple[str, DNA]:
        key = self._key(marker)
        scope = self._stack[-1].key if self._stack else None
        met = self.met.get(key)
        own = met.definition if met is not None and marker is met.marker else definition(marker)
        text = fingerprint(own)
        known = self.known.get(key)
        if known is not None and known != text:
            hint = " (or the code changed since the space was traced)" \
                if key in self.from_space else ""
            raise SymbolicValueError(
                f"two markers are named {key!r} with different definitions: {known} and "
                f"{text}; one name is one decision, so give one of them another name{hint}"
            )
        expected = met.scope if met is not None else (
            self.scopes.get(key) if known is not None else scope)
        if expected != scope:
            raise SymbolicValueError(
                f"marker {key!r} is met under two different parents: {_where(expected)} and "
                f"{_where(scope)} (a decision sits in one place; give the two markers "
                "different names)"
            )
        if met is not None:
            return key, met.dna
        node, new = self.choose(key, own)
        self.known.setdefault(key, text)
        self.met[key] = Met(key, own, node, param_of(point_of(key, own, text), node), scope, new,
                            marker)
        return key, node

    def _key(self, marker: Marker) -> str:
        if marker.name is not None:
            return marker.name
        if self._stack:
            scope = self._stack[-1]
            scope.count += 1
            return f"{scope.key}[={scope.index}][{scope.count - 1}]"
        error = SymbolicValueError(
            f"{fingerprint(definition(marker))}: a marker called inside a traced function needs a name= so "
            "that its decision can be found again (only markers met inside a callable "
            "candidate are named for you, as in sb.one_of([lambda: sb.int_range(1, 3), 10], "
            "name='a'))"
        )
        self.error = error
        raise error

    def _value(self, key: str, marker: Marker, node: DNA) -> Any:
        value = decode(marker, node)
        if not isinstance(marker, _Choice):
            return value
        candidates = marker.candidates
        if isinstance(marker, OneOf):
            index = int(node.value)  # type: ignore[arg-type]
            candidate = list.__getitem__(candidates, index)
            return self._call(key, index, candidate) if is_call_candidate(candidate) else value
        picks = [node] if marker.num_choices == 1 else list(node.children)
        out = [self._call(key, int(p.value), list.__getitem__(candidates, int(p.value)))  # type: ignore[arg-type]
               if is_call_candidate(list.__getitem__(candidates, int(p.value))) else v  # type: ignore[arg-type]
               for p, v in zip(picks, value)]
        return List(out) if isinstance(value, List) else out

    def _call(self, key: str, index: int, fn: Any) -> Any:
        self._stack.append(_Scope(key, index))
        try:
            return fn()
        finally:
            self._stack.pop()


def _where(scope: str | None) -> str:
    return "the top level" if scope is None else f"a callable candidate of {scope!r}"


# ---- decisions and values -----------------------------------------------------------------------
def decode(marker: Marker, node: DNA) -> Any:
    """The value ``marker`` takes for its decision ``node`` (nested markers decided too)."""
    if not node.children:
        if not isinstance(marker, _Choice):
            return node.value
        if isinstance(marker, OneOf):
            candidate = list.__getitem__(marker.candidates, node.value)
            if not isinstance(candidate, Symbolic):
                return candidate
    return materialize(marker, DNA(None, (node,)), check=False)


def point_of(key: str, marker: Marker, text: str | None = None) -> DecisionPoint:
    """:func:`~symbo.dsl.trace_tree.own_point`, made once per key and definition (``text``:
    the definition's fingerprint, when known)."""
    cache_key = (key, text if text is not None else fingerprint(marker))
    point = _POINTS.get(cache_key)
    if point is None:
        if len(_POINTS) > 4096:
            _POINTS.clear()
        point = _POINTS[cache_key] = own_point(key, marker)
    return point


_POINTS: dict[tuple[str, str], DecisionPoint] = {}


def param_of(point: DecisionPoint, node: DNA) -> Any:
    """The readable value of a decision, as ``params`` show it (as ``DNA.to_params`` does):
    a candidate itself when it is plain data, else its printed form (classes, objects,
    callable candidates); a list of them for a many_of; a range's number."""
    if point.positions == 1:
        return point.param(node.value)
    return [point.param(pick.value) for pick in point.picks(node)]


def literal(value: Any) -> Any:
    """A decided value as ``params`` show it (see :func:`param_of`)."""
    if isinstance(value, list):
        return [_plain_param(v) for v in list.__iter__(value)]
    return _plain_param(value)


def first_dna(point: DecisionPoint) -> DNA:
    """A decision's default: the first candidate(s), the middle of a range (geometric middle
    on a log scale)."""
    if isinstance(point, Choice):
        n, k = point.num_candidates, point.num_choices
        if k == 1:
            return DNA(0, tuple(first_dna(d) for d in point.candidates[0].space.decisions))
        indices = list(range(k)) if point.distinct else [i % n for i in range(k)]
        if point.sorted:
            indices.sort()
        return DNA(None, tuple(DNA(i, tuple(first_dna(d) for d in point.candidates[i].space.decisions))
                               for i in indices))
    if isinstance(point, FloatDecision):
        if point.scale == "log":
            return DNA(min(max(math.sqrt(point.low * point.high), point.low), point.high))
        return DNA((point.low + point.high) / 2)
    return DNA((point.low + point.high) // 2)


def other_dnas(point: DecisionPoint, node: DNA, max_values: int = 16) -> list[tuple[int, DNA]]:
    """Other values of a decision worth running to find the markers behind them, with a
    priority (lower first): every other candidate of a ``one_of`` (0); every other value of a
    small int range, or its ends (1); the ends of a float range (2). The picks of a
    ``many_of``/``permutate`` are not varied."""
    if isinstance(point, Choice):
        if point.num_choices != 1:
            return []
        return [(0, DNA(i, tuple(first_dna(d) for d in point.candidates[i].space.decisions)))
                for i in range(point.num_candidates) if i != node.value]
    if isinstance(point, FloatDecision):
        return [(2, DNA(v)) for v in (float(point.low), float(point.high)) if v != node.value]
    values = (range(point.low, point.high + 1) if point.high - point.low < max_values
              else (point.low, point.high))
    return [(1, DNA(v)) for v in values if v != node.value]


def random_dna(point: DecisionPoint, seed: Any, key: str) -> DNA:
    """A random decision, the same for one seed and key in every process."""
    return point.random(random.Random(f"{seed}/{key}"))


def is_choice(marker: Marker) -> bool:
    """Whether decisions can sit under this marker's candidates (a ``one_of``)."""
    return isinstance(marker, OneOf)



def node_from_param(point: DecisionPoint, param: Any, key: str = "") -> DNA | None:
    """The decision whose ``params`` value is ``param`` (None when it has none)."""
    try:
        if point.positions == 1:
            value = point.from_param(param, key)
            return DNA(value, tuple(first_dna(d) for d in point.branch(value).decisions))
        if not isinstance(param, list) or len(param) != point.positions:
            return None
        picks = []
        used: set[int] = set()
        for p in param:
            value = _free_index(point, p, used, key) if point.distinct else point.from_param(p, key)
            used.add(value)
            picks.append(DNA(value, tuple(first_dna(d) for d in point.branch(value).decisions)))
        return point.join(picks)
    except SymbolicValueError:
        return None


def _free_index(point: Any, param: Any, used: set[int], key: str) -> int:
    """The first candidate not ``used`` whose param is ``param`` (candidates may print alike)."""
    for i, c in enumerate(point.candidates):
        if i not in used and c.value == param and type(c.value) is type(param):
            return i
    return point.from_param(param, key)
