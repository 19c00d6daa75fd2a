"""Define-by-run spaces: markers called inline in ordinary code, collected by ``sb.trace``.

Existing training code can be annotated without restructuring it: a marker call with a
``name`` stands where a value was. ``sb.trace(fn)`` runs ``fn`` with each marker returning a
default (its first candidate, the middle of a range), then runs it again with the other values
of the choices it met, to find the markers behind ``if``s, until no new markers appear (at most
``max_runs`` runs). Each marker is placed under the choice it depends on
(:mod:`symbo.dsl.trace_tree`), so the space is a conditional one: a trial whose ``opt`` is
``"adam"`` has no ``momentum`` decision. Materializing the space gives a ``TracedProgram``;
calling it runs ``fn`` with each marker returning its decided value.

>>> import symbo as sb
>>> def train():
...     opt = sb.one_of(["sgd", "adam"], name="opt")
...     lr = sb.float_range(1e-4, 1e-1, scale="log", name="lr")
...     if opt == "sgd":
...         return f"sgd at {lr:.0e}, momentum {sb.float_range(0.0, 0.9, name='momentum')}"
...     return f"adam at {lr:.0e}"
>>> space = sb.trace(train)
>>> [d.id for d in sb.dna_spec(space)]
['opt', 'momentum', 'lr']
>>> spec = sb.dna_spec(space)
>>> sb.materialize(space, sb.DNA.from_dict(spec, {"opt": 0, "momentum": 0.5, "lr": 0.01}))()
'sgd at 1e-02, momentum 0.5'
>>> sb.materialize(space, sb.DNA.from_dict(spec, {"opt": 1, "lr": 0.01}))()
'adam at 1e-02'

For a function that is expensive to run (a whole training run), limit the trace with
``max_runs`` (``max_runs=1``: one run, as a dry run), return early while
``sb.is_tracing()``, or give ``sb.tune`` no space at all: it decides markers as trials meet
them, with no extra run.
"""

from __future__ import annotations

import contextlib
import heapq
import logging
from collections import ChainMap
from collections.abc import Callable, Iterator
from typing import Any

from symbo.core import Dict, Object, SymbolicValueError
from symbo.dsl.dna import DNA, validate
from symbo.dsl.markers import IntRange, Marker
from symbo.dsl.spec import DNASpec
from symbo.dsl.trace_run import (
    _CONTEXT,
    Met,
    _Context,
    current_context,
    decode,
    definition,
    fingerprint,
    first_dna,
    is_choice,
    literal,
    node_from_param,
    other_dnas,
    point_of,
    random_dna,
)
from symbo.dsl.trace_tree import Placements, Run, Tree, own_point

logger = logging.getLogger("symbo")
_NONE = object()

MAX_RUNS = 64

__all__ = ["TracedProgram", "TracedSpace", "current_context", "is_tracing", "trace"]


def is_tracing() -> bool:
    """True while ``sb.trace`` runs the function (to skip expensive work in trace runs).

    >>> import symbo as sb
    >>> def train():
    ...     epochs = sb.int_range(1, 50, name="epochs")
    ...     if sb.is_tracing():
    ...         return 0.0          # the markers are known; skip the training
    ...     return float(epochs)
    >>> list(sb.trace(train).decisions)
    ['epochs']
    """
    return isinstance(_CONTEXT.get(), _Explore)


class _Explore(_Context):
    """A trace run: forced decisions where given, defaults elsewhere."""

    def __init__(self, known: dict[str, str], scopes: dict[str, str],
                 forced: dict[str, DNA]) -> None:
        super().__init__(known, scopes)
        self.forced = forced

    def choose(self, key: str, marker: Marker) -> tuple[DNA, bool]:
        node = self.forced.get(key)
        return (node if node is not None else first_dna(point_of(key, marker))), False


class _Replay(_Context):
    """A program run: each key gets the program's decision; a key it has none for is an
    error, or (``new_markers="decide"``, as in a study) decided at once at random."""

    def __init__(self, program: TracedProgram) -> None:
        space = program.__dict__.get("_space")
        if space is not None:
            known, scopes = space.fingerprints(), space.scopes
        else:
            known = program.__dict__.get("_known", {})
            scopes = program.__dict__.get("_scopes", {})
        # reads fall through to the space's tables; keys this run adds go in the first map
        super().__init__(ChainMap({}, known), ChainMap({}, scopes),  # type: ignore[arg-type]
                         frozenset(known) if space is not None else frozenset())
        self.program = program
        self.nodes = program.__dict__.get("_nodes")
        self.enqueued = program.__dict__.get("_enqueued") or {}

    def choose(self, key: str, marker: Marker) -> tuple[DNA, bool]:
        program = self.program
        if key in self.enqueued:  # study.enqueue_trial's value (checked here, as Optuna does)
            value = self.enqueued[key]
            node = node_from_param(point_of(key, marker), literal(value), key)
            if node is None:
                raise SymbolicValueError(
                    f"decision {key!r}: the value {value!r} given by study.enqueue_trial does "
                    f"not fit its definition {fingerprint(definition(marker))}; this trial "
                    "fails (its value is not replaced by a random one)")
            return node, True
        if self.nodes is not None:
            node = self.nodes.get(key)
            if node is not None:
                return node, False
        value = program.values.get(key, _NONE)
        if isinstance(value, Marker):
            raise SymbolicValueError(
                f"marker {key!r} is not decided in this program (it was left to another search)"
            )
        if value is not _NONE and self.nodes is None:  # a program read back from its values
            node = node_from_param(point_of(key, marker), literal(value), key)
            if node is not None:
                return node, False
        if program.new_markers == "decide":
            return random_dna(point_of(key, marker), program.seed, key), True
        if key in self.from_space:
            raise SymbolicValueError(
                f"marker {key!r} has no decision in this program: the trace met it only under "
                "other choices, and this run met it here; trace again with more runs "
                "(sb.trace(fn, max_runs=...)), or search with sb.tune, where markers join the "
                "space as trials meet them"
            )
        raise SymbolicValueError(
            f"marker {key!r} was not seen when the space was traced; trace again with more "
            "runs (sb.trace(fn, max_runs=...)), or search with sb.tune, where markers join the "
            "space as trials meet them"
        )


class TracedSpace(Object, type_name="symbo.TracedSpace"):
    """The space of a traced function.

    ``decisions`` are its markers by key (name), in the order they were found; ``parents``
    places a decision under a choice: ``{key: (choice key, (candidate indices))}`` (others sit
    at the top level); ``scopes`` names, for a key met inside a callable candidate, the
    choice whose candidate it was. ``discovered``: the space of ``sb.tune(objective)`` given
    no space (it starts empty and grows as trials run; ``fn`` is None: the objective is given
    to each search).
    """

    fn: Callable[..., Any] | None = None
    decisions: dict[str, Any] = {}
    parents: dict[str, Any] = {}
    scopes: dict[str, str] = {}
    discovered: bool = False

    def continues(self, stored_json: Any) -> bool:
        """Whether a study whose stored space is ``stored_json`` can go on with this space: both
        are define-by-run spaces of one kind (a stored one has grown since; trials check each
        definition they meet)."""
        return (isinstance(stored_json, dict) and stored_json.get("_type") == "symbo.TracedSpace"
                and bool(stored_json.get("discovered", False)) == self.discovered)

    def tree(self, where: Any = None) -> Tree:
        """The decision tree (of the decisions ``where`` selects)."""
        cache = self.__dict__.get("_trees")
        if cache is None or cache[0] is not self.decisions or cache[1] is not self.parents:
            cache = (self.decisions, self.parents, {})
            self._trees = cache
        tree = cache[2].get(where)
        if tree is None:
            decisions = {k: m for k, m in self.decisions.items() if where is None or where(m)}
            parents = {k: (p[0], tuple(p[1])) for k, p in self.parents.items()}
            tree = cache[2][where] = Tree(decisions, parents)
        return tree

    def fingerprints(self) -> dict[str, str]:
        """``{key: fingerprint}`` of the decisions (see :func:`~symbo.dsl.trace_run.fingerprint`;
        the same dict each time: do not change it)."""
        cache = self.__dict__.get("_fingerprints")
        if cache is None or cache[0] is not self.decisions:
            cache = (self.decisions, {k: fingerprint(m) for k, m in self.decisions.items()})
            self._fingerprints = cache
        return cache[1]

    def dna_spec(self, where: Any = None) -> DNASpec:
        """The spec of the traced decisions (``where`` selects some, as for any space)."""
        return self.tree(where).spec

    def trial_nodes(self, params: dict[str, Any]) -> dict[str, DNA]:
        """The decisions (as DNA) of the ``params`` of a run, for the keys this space knows."""
        tree = self.tree()
        out = {}
        for key, param in params.items():
            if key in tree.own:
                node = node_from_param(tree.own[key], param, key)
                if node is not None:
                    out[key] = node
        return out

    def trial_dna(self, number: int, params: dict[str, Any],
                  nodes: dict[str, DNA] | None = None) -> DNA:
        """The DNA, in this space's tree, of a trial whose run met ``params`` (or ``nodes``:
        the same decisions as DNA). Decisions the tree has active that the run did not meet
        get a filler, the same in every process (random, seeded by ``number`` and the key)."""
        tree = self.tree()
        found = self.trial_nodes({k: p for k, p in params.items() if k not in (nodes or {})})
        found.update(nodes or {})
        return tree.dna(found, lambda key, point: random_dna(point, f"fill/{number}", key))

    def trial_program(self, dna: DNA, params: dict[str, Any]) -> TracedProgram:
        """The program of a trial that ran, whose run met ``params``: their decisions only
        (a decision the run did not meet has no value in it, though its DNA has a filler).

        >>> import symbo as sb
        >>> def fn():
        ...     if sb.one_of(["a", "b"], name="c") == "a":
        ...         sb.int_range(0, 3, name="n")
        >>> space = sb.trace(fn)
        >>> dna = space.trial_dna(0, {"c": "b"})
        >>> dict(space.trial_program(dna, {"c": "b"}).values)
        {'c': 'b'}
        """
        program = self.materialize(dna, check=False)
        met = {k: v for k, v in program.values.items() if k in params}
        out = TracedProgram(fn=self.fn, values=met, new_markers=program.new_markers,
                            seed=program.seed)
        out._space, out._nodes = self, {k: n for k, n in program.nodes.items() if k in params}
        return out

    def materialize(self, dna: DNA, where: Any = None, check: bool = True, *,
                    new_markers: str = "error", seed: Any = None) -> TracedProgram:
        """The program that runs ``fn`` with the decisions of ``dna``.

        Decisions left out by ``where`` stay markers in ``program.values``; running such a
        program is an error until another search decides them.
        """
        tree = self.tree(where)
        if check:
            validate(tree.spec, dna)
        nodes = tree.nodes(dna)
        values: dict[str, Any] = {}
        for key, marker in self.decisions.items():
            if key in nodes:
                values[key] = decode(marker, nodes[key])
            elif key not in tree.own:
                values[key] = marker
        program = TracedProgram(fn=self.fn, values=values, new_markers=new_markers, seed=seed)
        program._space, program._nodes = self, nodes
        return program


class TracedProgram(Object, type_name="symbo.TracedProgram"):
    """One point of a traced space: call it (or run code under ``apply()``) to use it.

    ``values`` are the decided values by key (:attr:`nodes`: the same decisions as DNA).
    ``new_markers`` says what a marker this program has no decision for does: ``"error"``, or
    ``"decide"`` (at random, seeded by ``seed`` and the key; studies use it, so that markers
    the trace did not find join the space). After a run, ``met`` and ``params`` tell what it
    met.
    """

    fn: Any = None
    values: dict[str, Any] = {}
    new_markers: str = "error"
    seed: Any = None

    @classmethod
    def of(cls, fn: Any, nodes: dict[str, Any], *, new_markers: str = "error", seed: Any = None,
           known: dict[str, str] | None = None, scopes: dict[str, str] | None = None,
           enqueued: dict[str, Any] | None = None) -> TracedProgram:
        """A program from its decisions as DNA (or their JSON) without its space, as a worker
        makes one: ``known`` and ``scopes`` (the fingerprints and scopes of the space's
        decisions) check the markers the run meets."""
        program = cls(fn=fn, new_markers=new_markers, seed=seed)
        program._nodes = {k: _dna_from_json(v) for k, v in nodes.items()}
        program._known, program._scopes = dict(known or {}), dict(scopes or {})
        program._enqueued = dict(enqueued or {})
        return program

    @property
    def nodes(self) -> dict[str, DNA]:
        """The decisions as DNA, by key (of a program read back from its values: none)."""
        return dict(self.__dict__.get("_nodes") or {})

    @property
    def known(self) -> dict[str, str]:
        """The fingerprints of the decisions the program's space knows."""
        space = self.__dict__.get("_space")
        return space.fingerprints() if space is not None else dict(self.__dict__.get("_known", {}))

    @property
    def scopes(self) -> dict[str, str]:
        space = self.__dict__.get("_space")
        return dict(space.scopes) if space is not None else dict(self.__dict__.get("_scopes", {}))

    def _on_bound(self) -> None:
        if self.new_markers not in ("error", "decide"):
            raise SymbolicValueError(
                f"new_markers must be 'error' or 'decide', got {self.new_markers!r}")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if getattr(self.fn, "runs_under_apply", False) and not args and not kwargs:
            return self.apply()  # a DynamicEvaluationContext's program: `with example():`
        if self.fn is None:
            raise SymbolicValueError(
                "this program has no function to call: it is a trial of a study searched with "
                "no space (sb.tune(objective)); run your objective with its decisions under "
                "`with program.apply(): objective()`")
        with self.apply():
            return self.fn(*args, **kwargs)

    @contextlib.contextmanager
    def apply(self) -> Iterator[TracedProgram]:
        """Within this block, named markers return this program's decisions."""
        context = _Replay(self)
        self._context, self._met, self._user_attrs = context, context.met, {}
        token = _CONTEXT.set(context)
        try:
            yield self
        finally:
            _CONTEXT.reset(token)

    @property
    def context(self) -> _Context:
        """The context of the current (or last) run: what markers met in it report to."""
        context = self.__dict__.get("_context")
        if context is None:
            raise SymbolicValueError("this program has not run yet (call it, or use apply())")
        return context

    @property
    def user_attrs(self) -> dict[str, Any]:
        """Values the last run stored with its trial (``trial.set_user_attr``)."""
        return self.__dict__.setdefault("_user_attrs", {})

    @property
    def met(self) -> list[Met]:
        """The keys the last run met, in order (with their definitions and decisions)."""
        return list(self.__dict__.get("_met", {}).values())

    @property
    def params(self) -> dict[str, Any]:
        """``{key: value}`` of the markers the last run met, in the order met."""
        return {m.key: m.param for m in self.met}


def trace(fn: Callable[..., Any], *args: Any, max_runs: int = MAX_RUNS, **kwargs: Any) -> TracedSpace:
    """Runs ``fn(*args, **kwargs)`` and returns the space of the markers it calls.

    The first run gives every marker its default; each further run gives one decision met
    before another of its values (every other candidate of a ``one_of``, every value of an int
    range under 16 values or its ends, the ends of a float range), in the context that met
    it, until no new markers appear or ``max_runs`` runs were made. An exception in the first
    run propagates; one in a later run keeps the markers met before it. Markers found only
    beyond the bound (or only when two choices leave their defaults at once, such as under
    ``if a == 1 and b == 1``) are missing from the space: ``sb.tune`` adds them when a trial
    meets them, and calling a program that meets one is an error that says so.
    """
    if not callable(fn):
        raise SymbolicValueError(f"trace needs a function, got {type(fn).__name__}")
    if max_runs < 1:
        raise SymbolicValueError(f"max_runs must be >= 1, got {max_runs}")
    known: dict[str, str] = {}
    definitions: dict[str, Marker] = {}
    scopes: dict[str, str] = {}
    runs: list[Run] = []
    queue: list[tuple[int, int, dict[str, DNA]]] = [(0, 0, {})]
    tried: set[frozenset] = {frozenset()}
    found: set[str] = set()
    while queue and len(runs) < max_runs:
        _, _, forced = heapq.heappop(queue)
        context = _Explore(known, scopes, forced)
        complete = True
        token = _CONTEXT.set(context)
        try:
            fn(*args, **kwargs)
        except Exception as e:
            if not runs or e is context.error:
                raise
            complete = False
            logger.warning("sb.trace: %s raised %s: %s with %s; the markers met before it are "
                           "kept", _name(fn), type(e).__name__, e, _forced_text(context, forced))
        finally:
            _CONTEXT.reset(token)
        runs.append(run_record(context.met, complete))
        met = list(context.met.values())
        new = [i for i, m in enumerate(met) if m.key not in found]
        for m in met:
            definitions.setdefault(m.key, m.definition)
            if m.scope is not None:
                scopes[m.key] = m.scope
        found.update(m.key for m in met)
        if not new:
            continue
        # vary each new key (to find what lies behind its other values), and each choice met
        # before a new key (the matched pairs that show whether the key depends on it)
        for i, m in enumerate(met):
            if i not in new and not (is_choice(m.definition) and i < new[-1]):
                continue
            point = own_point(m.key, m.definition)
            default = first_dna(point)
            for priority, other in other_dnas(point, m.dna):
                again = {k: v for k, v in {**forced, m.key: other}.items()
                         if not (k == m.key and v == default)}
                signature = frozenset(again.items())
                if signature not in tried:
                    tried.add(signature)
                    heapq.heappush(queue, (priority, len(tried), again))
    if not definitions:
        raise SymbolicValueError(f"{_name(fn)!r} called no markers while traced")
    if queue:
        logger.warning("sb.trace: stopped after max_runs=%d runs of %s with %d other values "
                       "not tried; markers behind them join the space when sb.tune's trials "
                       "meet them", max_runs, _name(fn), len(queue))
    sizes = {k: len(m.candidates) for k, m in definitions.items() if is_choice(m)}
    placements = Placements(sizes, scopes).add_all(runs).parents()
    return TracedSpace(fn=fn, decisions=Dict(definitions),
                       parents=Dict({k: (c, tuple(s)) for k, (c, s) in placements.items()}),
                       scopes=Dict(scopes))


def run_record(met: list[Met] | dict[str, Met], complete: bool) -> Run:
    """A run's :class:`~symbo.dsl.trace_tree.Run` from what it met: the keys in order and the
    discrete values (``one_of`` indices, values of int ranges under 16 values)."""
    items = list(met.values()) if isinstance(met, dict) else list(met)
    values = {}
    for m in items:
        if is_choice(m.definition):
            values[m.key] = int(m.dna.value)  # type: ignore[arg-type]
        elif isinstance(m.definition, IntRange) and m.definition.high - m.definition.low < 16:
            values[m.key] = int(m.dna.value)  # type: ignore[arg-type]
    return Run(tuple(m.key for m in items), values, complete)


def _name(fn: Any) -> str:
    return getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn)


def _forced_text(context: _Explore, forced: dict[str, DNA]) -> str:
    parts = [f"{k}={context.met[k].param!r}" for k in forced if k in context.met]
    return ", ".join(parts) if parts else "the defaults"


def _dna_to_json(dna: DNA) -> list:
    return [dna.value, [_dna_to_json(c) for c in dna.children]]


def _dna_from_json(data: Any) -> DNA:
    if isinstance(data, DNA):
        return data
    value, children = data
    return DNA(value, tuple(_dna_from_json(c) for c in children))
