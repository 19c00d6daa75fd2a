"""The DNA spec: the tree of decision points that the markers of a space form.

A space's decisions are listed in a fixed (preorder) order. A choice's candidates carry their
own decisions (a conditional space). Every decision point has a stable ``id``: its key path in
the space, with ``[=i]`` marking the candidate it sits under, e.g. ``opt[=1].momentum``; and
the user's ``name`` when one was given.

**A name is a decision.** Markers with one name and equal definitions (candidates, bounds,
scale) are one decision point wherever they stand: the spec lists it once, at the first of
them, and ``materialize`` sets every one of them to its value. Its ``occurrences`` are the ids
of all of them. When they stand under different candidates of a choice, or under a
``many_of`` (whose candidates are decided once per position), the decision is listed in the
nearest enclosing decision list that holds all of them, just before the decision that holds the
first one, so that it is decided once whichever candidates are chosen. One name with two
different definitions is an error naming the name and both places.

>>> import symbo as sb
>>> space = sb.Dict(opt=sb.one_of(["adam", sb.Dict(momentum=sb.float_range(0.0, 0.99))]),
...                 layers=sb.int_range(1, 4))
>>> spec = sb.dna_spec(space)
>>> [d.id for d in spec.decision_points]
['opt', 'opt[=1].momentum', 'layers']
>>> spec.space_size
inf
>>> shared = sb.Dict(enc=sb.one_of(["relu", "gelu"], name="act"),
...                  dec=sb.one_of(["relu", "gelu"], name="act"))
>>> [(d.name, d.occurrences) for d in sb.dna_spec(shared)]
[('act', ('enc', 'dec'))]
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from functools import cached_property
from typing import TYPE_CHECKING, Any

import attrs

from symbo.core import KeyPath, Symbolic, SymbolicValueError, eq
from symbo.core.formatting import format as sym_format
from symbo.core.traversal import TraverseAction, traverse
from symbo.dsl.dna import DNA, normalized
from symbo.dsl.markers import Marker
from symbo.dsl.points import (
    NOT_PLAIN,
    Candidate,
    Choice,
    DecisionPoint,
    Decisions,
    FloatDecision,
    IntDecision,
    param_value,
    plain_data,
)

if TYPE_CHECKING:
    from symbo.dsl.cell_layout import CellLayout

Space = Decisions  # the former name of Decisions (deprecated; not in the public face)
Where = Callable[[Marker], bool]

__all__ = [
    "NOT_PLAIN", "Candidate", "Choice", "DNASpec", "DecisionPoint", "Decisions", "FloatDecision",
    "IntDecision", "Where", "dna_spec", "pair_markers", "param_value", "plain_data",
]


@attrs.frozen(slots=True, eq=False)
class DNASpec:
    """The decision tree of a space; what algorithms see instead of the program."""

    space: Decisions
    #: the graph structure of the space's cells (:mod:`symbo.dsl.cell_layout`), set by dna_spec
    cells: tuple[CellLayout, ...] = attrs.field(default=(), eq=False, repr=False)

    @property
    def decisions(self) -> tuple[DecisionPoint, ...]:
        """The top-level decisions."""
        return self.space.decisions

    @property
    def space_size(self) -> int | float:
        """The number of distinct points (``math.inf`` with continuous decisions)."""
        return self.space.size

    @cached_property
    def decision_points(self) -> tuple[DecisionPoint, ...]:
        """Every decision point of the tree, in preorder."""
        out: list[DecisionPoint] = []

        def walk(space: Decisions) -> None:
            for d in space.decisions:
                out.append(d)
                for branch in d.branches():
                    walk(branch)

        walk(self.space)
        return tuple(out)

    @cached_property
    def by_id(self) -> dict[str, DecisionPoint]:
        return {d.id: d for d in self.decision_points}

    @cached_property
    def by_name(self) -> dict[str, DecisionPoint]:
        return {d.name: d for d in self.decision_points if d.name is not None}

    def __getitem__(self, key: str) -> DecisionPoint:
        """A decision point by name or id."""
        d = self.by_name.get(key) or self.by_id.get(key)
        if d is None:
            raise SymbolicValueError(f"no decision named {key!r} in this space")
        return d

    @property
    def is_finite(self) -> bool:
        return not math.isinf(self.space_size)

    # ---- enumeration order ----------------------------------------------------------------
    def first_dna(self) -> DNA:
        """The first DNA in the order of ``sb.iterate_dna`` (first candidates, low ends).

        >>> import symbo as sb
        >>> spec = sb.dna_spec(sb.Dict(a=sb.one_of([1, 2]), b=sb.int_range(3, 5)))
        >>> spec.first_dna(), spec.next_dna(spec.first_dna()), spec.next_dna(sb.DNA([1, 5]))
        (DNA([0, 3]), DNA([0, 4]), None)
        """
        self._check_finite("first_dna")
        return DNA(None, self.space.first(), self)

    def next_dna(self, dna: DNA | None = None) -> DNA | None:
        """The DNA after ``dna`` in the order of ``sb.iterate_dna`` (the first one for None),
        or None after the last."""
        if dna is None:
            return self.first_dna()
        self._check_finite("next_dna")
        dna = normalized(self, dna)
        children = self.space.successor(dna.children)
        return None if children is None else DNA(None, children, self)

    def iter_dna(self, dna: DNA | None = None) -> Iterator[DNA]:
        """The DNA after ``dna`` (all of them for None), lazily, in order."""
        while True:
            dna = self.next_dna(dna)
            if dna is None:
                return
            yield dna

    def _check_finite(self, what: str) -> None:
        ranges = [d.id for d in self.decision_points if not d.enumerable]
        if ranges:
            raise SymbolicValueError(
                f"{what}: a space with continuous decisions ({', '.join(ranges)}) has no order "
                "to enumerate; use a grid (sb.algorithms.Grid) or one_of over chosen values"
            )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DNASpec) and self.space == other.space

    def __hash__(self) -> int:
        return hash(self.space)

    def __len__(self) -> int:
        return len(self.decision_points)

    def __iter__(self) -> Iterator[DecisionPoint]:
        return iter(self.decision_points)

    def __repr__(self) -> str:
        return f"DNASpec({len(self.decision_points)} decisions, space_size={self.space_size})"


# ---- building ---------------------------------------------------------------------------------
def dna_spec(space: Any, *, where: Where | None = None) -> DNASpec:
    """The DNA spec of a space (any value; markers anywhere in it become decision points).

    ``where(marker)``, when given, selects the markers this spec decides (a partial space: the
    others stay markers in materialized programs, for another search to decide).
    """
    from symbo.dsl.trace import TracedSpace

    if isinstance(space, TracedSpace):
        return space.dna_spec(where=where)
    collector = _Collector(where)
    spec = DNASpec(collector.collect(space))
    if collector.cells:
        object.__setattr__(spec, "cells", _cell_layouts(collector.cells, spec))
    for d in spec.decision_points:
        if d.name is None:
            continue
        other = spec.by_id.get(d.name)
        if other is not None and other is not d:  # DNA dicts could not tell the two apart
            raise SymbolicValueError(
                f"the decision at {d.id!r} is named {d.name!r}, the id of another decision; "
                "choose another name"
            )
    return spec


def _cell_layouts(cells: list[tuple[Any, str]], spec: DNASpec) -> tuple[CellLayout, ...]:
    """The layouts of the cells found in the space (cells that share their decisions, as
    stacked cells made with one name do, once)."""
    from symbo.dsl.cell_layout import build_layout

    def decision_of(marker: Marker, did: str) -> str | None:
        d = spec.by_name.get(marker.name) if marker.name is not None else spec.by_id.get(did)
        return d.id if isinstance(d, Choice) else None

    out: list[CellLayout] = []
    for cell, path in cells:
        layout = build_layout(cell, path, decision_of, spec)
        if layout is not None and not any(
                (o.num_inputs, o.nodes, o.edge_ops) == (layout.num_inputs, layout.nodes,
                                                        layout.edge_ops) for o in out):
            out.append(layout)
    return tuple(out)


def _join(prefix: str, location: KeyPath) -> str:
    text = str(location)
    if not prefix:
        return text
    if not text:
        return prefix
    return prefix + ("" if text.startswith("[") else ".") + text


class _Scope:
    """A decision list being built: the whole space's, or one candidate's (``owner``'s
    ``index``-th branch)."""

    __slots__ = ("items", "owner")

    def __init__(self, owner: _Node | None) -> None:
        self.items: list[_Node] = []
        self.owner = owner


class _Node:
    """A decision point being built: its (first) marker, where it stands, its branches."""

    __slots__ = ("marker", "id", "location", "scope", "branches")

    def __init__(self, marker: Marker, did: str, location: KeyPath, scope: _Scope) -> None:
        self.marker = marker
        self.id = did
        self.location = location
        self.scope = scope
        self.branches: list[_Scope] = []


class _Collector:
    """Finds the markers of a space, in preorder, and makes one decision point per marker, or
    per name (see the module docstring); then freezes the tree into :class:`Decisions`."""

    def __init__(self, where: Where | None) -> None:
        self.where = where
        self.named: dict[str, _Node] = {}
        self.places: dict[str, list[tuple[str, _Scope]]] = {}  # name -> (id, scope) of each
        self.cells: list[tuple[Any, str]] = []  # (Cell, its path) outside many_of positions
        from symbo.dsl.graph import Cell

        self._cell_type = Cell

    def collect(self, value: Any) -> Decisions:
        root = _Scope(None)
        self._value(value, "", root)
        for name in self.places:
            self._place(name)
        return self._freeze(root)

    def _value(self, value: Any, prefix: str, scope: _Scope) -> None:
        if isinstance(value, Marker):
            self._marker(value, KeyPath(), prefix, scope)
            return
        if not isinstance(value, Symbolic):
            return

        def visit(path: KeyPath, node: Any, parent: Any) -> TraverseAction:
            if isinstance(node, Marker):
                self._marker(node, path, prefix, scope)
                return TraverseAction.SKIP
            if isinstance(node, self._cell_type) and not _repeated(scope):
                self.cells.append((node, _join(prefix, path)))
            return TraverseAction.ENTER

        traverse(value, visit)

    def _marker(self, marker: Marker, location: KeyPath, prefix: str, scope: _Scope) -> None:
        if self.where is not None and not self.where(marker):
            return
        did = _join(prefix, location)
        name = marker.name
        if name is not None:
            first = self.named.get(name)
            if first is not None:
                if not eq(first.marker, marker):
                    raise SymbolicValueError(
                        f"markers named {name!r} are one decision but are defined differently: "
                        f"{sym_format(first.marker, compact=True)} at {first.id!r} and "
                        f"{sym_format(marker, compact=True)} at {did!r}; give them one "
                        "definition, or different names"
                    )
                self.places[name].append((did, scope))
                return  # decided by the first one (its candidates hold the same decisions)
        node = _Node(marker, did, location, scope)
        scope.items.append(node)
        if name is not None:
            self.named[name] = node
            self.places[name] = [(did, scope)]
        for i, branch in enumerate(marker.branches()):
            sub = _Scope(node)
            node.branches.append(sub)
            self._value(branch, f"{did}[={i}]", sub)

    def _place(self, name: str) -> None:
        """Moves a named decision up to the nearest scope holding all its markers that is not
        repeated per position (inside a many_of), just before the item holding the first."""
        node = self.named[name]
        chains = [_chain(scope) for _, scope in self.places[name]]
        common = chains[0]
        for chain in chains[1:]:
            n = 0
            while n < len(common) and n < len(chain) and common[n] is chain[n]:
                n += 1
            common = common[:n]
        for j, scope in enumerate(common):
            if scope.owner is not None and scope.owner.marker.positions > 1:
                common = common[:j]
                break
        target = common[-1]
        if target is node.scope:
            return
        anchor, scope = node, node.scope
        while scope is not target:
            anchor = scope.owner  # type: ignore[assignment]
            scope = anchor.scope
        node.scope.items.remove(node)
        target.items.insert(target.items.index(anchor), node)
        node.scope = target

    def _freeze(self, scope: _Scope) -> Decisions:
        out = []
        for node in scope.items:
            branches = tuple(self._freeze(b) for b in node.branches)
            name = node.marker.name
            occurrences = tuple(did for did, _ in self.places[name]) if name is not None else ()
            out.append(node.marker.decision_point(node.id, node.location, branches, occurrences))
        return Decisions(tuple(out))


def _repeated(scope: _Scope) -> bool:
    """Whether ``scope`` is decided once per position of a many_of (at some level)."""
    return any(s.owner is not None and s.owner.marker.positions > 1 for s in _chain(scope))


def _chain(scope: _Scope) -> list[_Scope]:
    """The scopes from the root down to ``scope``."""
    out = [scope]
    while scope.owner is not None:
        scope = scope.owner.scope
        out.append(scope)
    out.reverse()
    return out


def pair_markers(value: Any, decisions: Decisions, spec: DNASpec,
                 where: Where | None = None) -> list[tuple[Marker, DecisionPoint]]:
    """The markers in ``value`` (not those inside other markers), in preorder, each with the
    decision point that decides it: ``decisions`` are those of ``value`` (``spec.space`` for
    the whole space, ``choice.branch(i)`` for candidate ``i`` of a choice); a named marker is
    decided by the decision of its name, wherever that is listed.

    >>> import symbo as sb
    >>> from symbo.dsl.spec import pair_markers
    >>> space = sb.List([sb.one_of([1, 2], name="k"), sb.int_range(0, 3), sb.one_of([1, 2], name="k")])
    >>> spec = sb.dna_spec(space)
    >>> [(sb.format(m), d.id) for m, d in pair_markers(space, spec.space, spec)]
    [("one_of([1, 2], name='k')", '[0]'), ('int_range(0, 3)', '[1]'), ("one_of([1, 2], name='k')", '[0]')]
    """
    positional = iter([d for d in decisions.decisions if d.name is None])
    out: list[tuple[Marker, DecisionPoint]] = []
    for marker in markers_in(value):
        if where is not None and not where(marker):
            continue
        try:
            d = spec.by_name[marker.name] if marker.name is not None else next(positional)
        except (KeyError, StopIteration):
            raise SymbolicValueError(
                f"{sym_format(marker, compact=True)}: no decision for this marker in the spec "
                "(the space changed since its spec was made)"
            ) from None
        out.append((marker, d))
    return out


def markers_in(value: Any) -> list[Marker]:
    """The markers in ``value``, in preorder, not entering markers (their candidates)."""
    if isinstance(value, Marker):
        return [value]
    if not isinstance(value, Symbolic):
        return []
    out: list[Marker] = []

    def visit(path: Any, node: Any, parent: Any) -> TraverseAction:
        if isinstance(node, Marker):
            out.append(node)
            return TraverseAction.SKIP
        return TraverseAction.ENTER

    traverse(value, visit)
    return out
