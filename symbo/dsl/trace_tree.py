"""Where each decision of a define-by-run space sits: inferred from the runs that met it.

A run of user code meets markers in some order; which markers it meets depends on the values of
the choices met before them (``if opt == "sgd": momentum = ...``). :class:`Placements` reads
runs (the trace's own runs, or the trials of a study) and places each decision under the
``one_of`` it depends on, as a conditional decision of the candidates it was met under. A
decision ``m`` sits under choice ``c`` (candidates ``S``) when

* every run that met ``m`` met ``c`` before it, with ``c`` in a proper subset ``S`` of its
  candidates (a necessary condition: outside ``S``, ``m`` was never met), and
* there is evidence that ``c`` is the reason: a *matched pair*, i.e. a run that met ``m`` and a
  run that returned normally with ``c`` outside ``S`` and every other discrete decision met
  before ``m`` (other choices, small int ranges; not those under ``c``) the same, so only
  ``c`` differs; or the code structure itself (``m`` was met while a callable candidate of
  ``c`` ran); or an earlier placement (the trace's, kept by a study).

Among several such choices the deepest wins (one placed under another), then the one found
last. A decision with no such choice sits at the top level: it is decided in every trial and
used in those that meet it (e.g. one behind ``if lr > 0.01`` or ``for i in range(n_layers)``).
Placements state necessary conditions only, so they never make a run fail: a run that meets a
decision where its placement says it is inactive has it decided at once, and the placement
is relaxed from then on. ``sb.trace`` makes the matched pairs itself; in a study they come
from the trials.

>>> from symbo.dsl.trace_tree import Placements, Run
>>> p = Placements({"opt": 2})
>>> p.add(Run(("opt", "momentum"), {"opt": 0}))       # opt=sgd met momentum
>>> p.add(Run(("opt",), {"opt": 1}))                  # opt=adam did not
>>> p.parents()
{'momentum': ('opt', (0,))}
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from symbo.core import KeyPath
from symbo.dsl.dna import DNA
from symbo.dsl.materialize import is_deterministic
from symbo.dsl.points import EMPTY, Choice, DecisionPoint, Decisions
from symbo.dsl.spec import DNASpec, dna_spec

Space = Decisions

MATCH_RUNS = 32  # the runs of a key compared with the others when looking for a matched pair
MATCH_OTHERS = 256  # ... and the (latest) complete runs they are compared with


@attrs.frozen(slots=True)
class Run:
    """One run's record: the keys it met in order; the value of each discrete decision it met
    (a ``one_of``'s candidate index, a small int range's value); whether it returned normally
    (only then does a key it did not meet count as evidence)."""

    keys: tuple[str, ...]
    values: Mapping[str, int] = attrs.field(factory=dict)
    complete: bool = True


Parent = tuple[str, tuple[int, ...]]


class Placements:
    """Incremental placement of decisions from runs (see the module docstring).

    ``choice_sizes`` maps each ``one_of`` key to its number of candidates (only they hold
    decisions); ``scopes`` maps a key to the choice whose callable candidate it was met in;
    ``prior`` holds placements known before these runs (kept while every run agrees).
    """

    def __init__(self, choice_sizes: Mapping[str, int], scopes: Mapping[str, str] | None = None,
                 prior: Mapping[str, Parent] | None = None) -> None:
        self.choice_sizes = dict(choice_sizes)
        self.scopes = dict(scopes or {})
        self.prior = {k: (c, tuple(s)) for k, (c, s) in (prior or {}).items()}
        self.order: list[str] = list(self.prior)  # first-met order
        self._cands: dict[str, dict[str, set[int]]] = {}
        self._runs: list[Run] = []
        self._by_key: dict[str, list[int]] = {}
        self._complete: list[int] = []
        self._evident: set[tuple[str, str]] = set()
        self._cache: dict[str, Parent] | None = None

    def add_choice(self, key: str, num_candidates: int) -> None:
        self.choice_sizes[key] = num_candidates
        self._cache = None

    def add_scope(self, key: str, scope: str) -> None:
        self.scopes[key] = scope
        self._cache = None

    def add(self, run: Run) -> None:
        """Takes a run's evidence into account."""
        self._cache = None
        index = len(self._runs)
        self._runs.append(run)
        if run.complete:
            self._complete.append(index)
        position = {k: i for i, k in enumerate(run.keys)}
        for key in run.keys:
            if key not in self._cands and key not in self.order:
                self.order.append(key)
            self._by_key.setdefault(key, []).append(index)
            before = {c: v for c, v in run.values.items()
                      if c in self.choice_sizes and position.get(c, len(run.keys)) < position[key]}
            known = self._cands.get(key)
            if known is None:
                self._cands[key] = {c: {v} for c, v in before.items()}
            else:
                self._cands[key] = {c: s | {before[c]} for c, s in known.items() if c in before}

    def add_all(self, runs: Iterable[Run]) -> Placements:
        for run in runs:
            self.add(run)
        return self

    def parents(self) -> dict[str, Parent]:
        """``{key: (choice key, candidate indices)}`` for each decision placed under a choice."""
        if self._cache is not None:
            return dict(self._cache)
        out: dict[str, Parent] = {}
        for key in self.order:
            parent = self._place(key, out)
            if parent is not None:
                out[key] = parent
        self._cache = out
        return dict(out)

    def undecided(self) -> list[str]:
        """The keys that every run met with some choice before them in a proper subset of
        its candidates, where that choice is not one they are placed under (directly or
        above): no evidence yet that it is why, so a run with that choice elsewhere may still
        place them (deeper).

        >>> p = Placements({"opt": 2})
        >>> p.add(Run(("opt", "momentum"), {"opt": 0}))
        >>> p.undecided()
        ['momentum']
        >>> p.add(Run(("opt",), {"opt": 1}))
        >>> p.undecided()
        []
        """
        placed = self.parents()
        out = []
        for key in self.order:
            above = {key, *_chain(key, placed)}  # the choices that explain a condition
            if any(c not in above and c in self.choice_sizes and len(seen) < self.choice_sizes[c]
                   for c, seen in self._cands.get(key, {}).items()):
                out.append(key)
        return out

    # ---- one decision --------------------------------------------------------------------------
    def _place(self, key: str, placed: dict[str, Parent]) -> Parent | None:
        cands = self._cands.get(key)
        prior = self.prior.get(key)
        if cands is None:  # not met by these runs: an earlier placement stands
            return prior
        scope = self.scopes.get(key)
        options: list[tuple[str, set[int]]] = []
        for c, seen in cands.items():
            size = self.choice_sizes.get(c)
            if size is None or c == key:
                continue
            indices = set(seen)
            evident = c == scope
            if prior is not None and prior[0] == c:
                indices |= set(prior[1])
                evident = True
            if len(indices) >= size:
                continue  # met under every candidate: not conditional on this choice
            if scope is not None and c != scope and scope not in _chain(c, placed):
                continue  # the code says it sits in the scope's candidate: stay inside it
            if not evident and not self._matched(key, c, indices, placed):
                continue
            options.append((c, indices))
        if not options:
            return None
        # deepest first (a choice placed under another one is more specific), then the one
        # found last (the closest before the key)
        rank = {k: i for i, k in enumerate(self.order)}
        best = max(options, key=lambda o: (len(_chain(o[0], placed)), rank.get(o[0], -1)))
        return best[0], tuple(sorted(best[1]))

    def _matched(self, key: str, c: str, indices: set[int], placed: dict[str, Parent]) -> bool:
        """Whether a run that met ``key`` and a complete run with ``c`` outside ``indices``
        agree on every other discrete decision met before ``key`` (not those under ``c``)."""
        if (key, c) in self._evident:
            return True
        others = [self._runs[i] for i in self._complete[-MATCH_OTHERS:]
                  if self._runs[i].values.get(c, -1) not in indices and c in self._runs[i].values]
        if not others:
            return False
        for i in self._by_key.get(key, [])[-MATCH_RUNS:]:
            run = self._runs[i]
            context = {}
            for k in run.keys[:run.keys.index(key)]:
                if k != c and k in run.values and c not in _chain(k, placed):
                    context[k] = run.values[k]
            for other in others:
                if all(other.values.get(k) == v for k, v in context.items()):
                    self._evident.add((key, c))
                    return True
        return False


def _chain(key: str, placed: Mapping[str, Parent]) -> list[str]:
    """The choices above ``key`` (its parent, the parent's parent, ...)."""
    out: list[str] = []
    seen = {key}
    while key in placed:
        key = placed[key][0]
        if key in seen:  # impossible with consistent runs; never loop
            break
        seen.add(key)
        out.append(key)
    return out


# ---- the DNA spec of a placed tree ------------------------------------------------------------
class Tree:
    """The decision tree of define-by-run decisions: each key's own decision point (its
    marker's, with the markers nested in its candidates), with the placed decisions appended
    to the spaces of the candidates they sit under.

    ``nodes(dna)`` splits a DNA of :attr:`spec` into one node per active key (the key's own
    part, as ``materialize`` of its marker reads it); ``dna(nodes, fill)`` joins them again,
    asking ``fill(key, point)`` for active keys without a node.
    """

    def __init__(self, decisions: Mapping[str, Any], parents: Mapping[str, Parent]) -> None:
        self.own: dict[str, DecisionPoint] = {k: own_point(k, m) for k, m in decisions.items()}
        self.children: dict[tuple[str, int], list[str]] = {}
        self.top: list[str] = []
        for key in self.own:
            parent = parents.get(key)
            if parent is None or parent[0] not in self.own or not _holds(self.own[parent[0]]):
                self.top.append(key)
                continue
            for i in parent[1]:
                self.children.setdefault((parent[0], int(i)), []).append(key)
        self.spec = DNASpec(Space(tuple(self._point(k, ()) for k in self.top)))

    def _point(self, key: str, above: tuple[str, ...]) -> DecisionPoint:
        own = self.own[key]
        if not isinstance(own, Choice) or key in above:
            return own
        cands = []
        for i, cand in enumerate(own.candidates):
            placed = tuple(self._point(k, (*above, key)) for k in self.children.get((key, i), ()))
            cands.append(attrs.evolve(cand, space=Space(cand.space.decisions + placed)) if placed else cand)
        return attrs.evolve(own, candidates=tuple(cands))

    def nodes(self, dna: DNA) -> dict[str, DNA]:
        out: dict[str, DNA] = {}
        self._split(self.top, dna.children, out)
        return out

    def _split(self, keys: list[str], children: tuple[DNA, ...], out: dict[str, DNA]) -> None:
        for key, child in zip(keys, children):
            own = self.own[key]
            if not isinstance(own, Choice) or own.num_choices != 1:
                out[key] = child
                continue
            i = int(child.value)  # type: ignore[arg-type]
            n = len(own.candidates[i].space.decisions)
            out[key] = DNA(i, child.children[:n])
            self._split(self.children.get((key, i), []), child.children[n:], out)

    def dna(self, nodes: Mapping[str, DNA], fill: Any) -> DNA:
        return DNA(None, self._join(self.top, nodes, fill), self.spec)

    def _join(self, keys: list[str], nodes: Mapping[str, DNA], fill: Any) -> tuple[DNA, ...]:
        out = []
        for key in keys:
            node = nodes.get(key)
            if node is None:
                node = fill(key, self.own[key])
            own = self.own[key]
            if isinstance(own, Choice) and own.num_choices == 1:
                placed = self._join(self.children.get((key, int(node.value)), []), nodes, fill)
                node = DNA(node.value, node.children + placed)
            out.append(node)
        return tuple(out)


def own_point(key: str, marker: Any) -> DecisionPoint:
    """The decision point of one marker, with id ``key`` (markers nested in its candidates:
    ``key[=i]...``, as in any space)."""
    branches = marker.branches()
    if all(is_deterministic(b) for b in branches):  # the usual case: nothing nested
        return marker.decision_point(key, KeyPath(), tuple(EMPTY for _ in branches), ())
    (point,) = dna_spec(marker).decisions
    return _prefixed(point, key)


def _prefixed(point: Any, prefix: str) -> Any:
    """``point`` (of a spec whose root is the marker itself: ids ``""``, ``[=0]...``) with
    ``prefix`` before every id."""
    changes: dict[str, Any] = {"id": prefix + point.id,
                               "occurrences": tuple(prefix + o for o in point.occurrences)}
    if isinstance(point, Choice):
        changes["candidates"] = tuple(
            attrs.evolve(c, space=Space(tuple(_prefixed(d, prefix) for d in c.space.decisions)))
            for c in point.candidates)
    return attrs.evolve(point, **changes)


def _holds(point: DecisionPoint) -> bool:
    return isinstance(point, Choice) and point.num_choices == 1
