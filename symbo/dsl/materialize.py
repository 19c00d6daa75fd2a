"""From a space and a DNA to a program: ``materialize``, ``random_sample``, ``iterate``.

>>> import symbo as sb
>>> space = sb.Dict(act=sb.one_of(["relu", "gelu"]), width=sb.int_range(16, 64))
>>> sb.materialize(space, sb.DNA(None, (sb.DNA(1), sb.DNA(32))))
Dict({'act': 'gelu', 'width': 32})
>>> [sb.format(p) for p in sb.iterate(sb.Dict(a=sb.one_of([1, 2]), b=sb.one_of(["x", "y"])))]
["{'a': 1, 'b': 'x'}", "{'a': 1, 'b': 'y'}", "{'a': 2, 'b': 'x'}", "{'a': 2, 'b': 'y'}"]
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from typing import Any

from symbo.core import List, Symbolic, SymbolicValueError, clone
from symbo.core.partials import Partial
from symbo.core.traversal import TraverseAction, traverse
from symbo.core.tuples import Tuple
from symbo.dsl.dna import DNA, DNAError, normalized
from symbo.dsl.markers import Marker
from symbo.dsl.points import DecisionPoint, Decisions
from symbo.dsl.spec import DNASpec, Where, dna_spec


def is_deterministic(value: Any) -> bool:
    """True when no markers remain in ``value``.

    >>> import symbo as sb
    >>> sb.is_deterministic(sb.Dict(a=1)), sb.is_deterministic(sb.Dict(a=sb.one_of([1, 2])))
    (True, False)
    """
    if isinstance(value, Marker):
        return False
    if not isinstance(value, Symbolic):
        return True
    found = []

    def visit(path: Any, node: Any, parent: Any) -> TraverseAction:
        if isinstance(node, Marker):
            found.append(node)
            return TraverseAction.STOP
        return TraverseAction.ENTER

    traverse(value, visit)
    return not found


def materialize(space: Any, dna: DNA, *, spec: DNASpec | None = None, check: bool = True,
                where: Where | None = None) -> Any:
    """The program at point ``dna`` of ``space``: a copy with every marker decided.

    The space is left untouched, and the program shares nothing that training it could change:
    symbolic objects are cloned, and every other object in the space (a module or tensor
    instance, a candidate object) is copied with ``copy.deepcopy`` (one memo per program, so
    what is one object in the space is one object in the program); functions, classes, tuples
    of atoms and plain values are kept as they are. Markers with one name are one decision:
    every one of them gets its value. ``check=False`` skips validating the DNA against the
    spec (algorithms that produce valid DNA by construction use it in tight loops). With
    ``where`` (as given to ``dna_spec``) only the selected markers are decided; the others are
    kept.
    """
    from symbo.dsl.trace import TracedSpace

    if isinstance(space, TracedSpace):
        return space.materialize(dna, where=where)
    if not isinstance(dna, DNA):
        raise DNAError(f"materialize needs a DNA, got {type(dna).__name__}")
    # Not ``dna.spec``: a DNA may come from another space, and is checked against this one.
    spec = spec or dna_spec(space, where=where)
    if check:
        dna = normalized(spec, dna)
    materializer = _Materializer(where)
    program = materializer.space(space, spec.space, dna)
    if materializer.references:  # sb.ValueReference: copy the values they refer to
        from symbo.dsl.references import resolve_references

        program = resolve_references(program)
    return program


class _Materializer:
    """Decides the markers of a space, each from its decision's DNA: unnamed markers in
    preorder from the decisions of their decision list, named ones by name."""

    __slots__ = ("where", "named", "memo", "references")

    def __init__(self, where: Where | None) -> None:
        self.where = where
        self.named: dict[str, tuple[DecisionPoint, DNA]] = {}
        self.memo: dict = {}  # one deepcopy memo: what is one object in the space stays one
        self.references = False  # whether the program holds sb.ValueReference nodes

    def space(self, value: Any, decisions: Decisions, dna: DNA) -> Any:
        """Materializes ``value``, whose decisions are ``decisions`` with DNA ``dna.children``."""
        if type(value) in _ATOMS and not dna.children:  # most candidates: 64, "relu"
            return value
        if type(value) is _REF:
            self.references = True
        where = self.where
        if len(dna.children) != len(decisions.decisions):
            more = "more" if len(dna.children) > len(decisions.decisions) else "fewer"
            raise DNAError(f"the DNA has {more} decisions ({len(dna.children)}) than the space "
                           f"has ({len(decisions.decisions)})")
        if decisions.has_names:
            positional = []
            for d, child in zip(decisions.decisions, dna.children):
                if d.name is None:
                    positional.append((d, child))
                else:
                    self.named[d.name] = (d, child)
            it: Iterator[tuple[DecisionPoint, DNA]] = iter(positional)
        else:
            positional = decisions.decisions  # type: ignore[assignment]
            it = zip(decisions.decisions, dna.children)
        if isinstance(value, Marker) and (where is None or where(value)):
            decided = self._decide(value, it)
            return List(decided) if type(decided) is list else decided
        if not isinstance(value, Symbolic):
            if positional:
                raise DNAError(f"{len(positional)} decisions left over for a value without markers")
            return clone(value, memo=self.memo)  # a fresh copy of an object (not of a function)

        def replace(node: Any) -> Any:
            if type(node) is _REF:
                self.references = True
                return node
            if isinstance(node, Marker) and (where is None or where(node)):
                decided = self._decide(node, it)
            elif type(node) in _VALUE_NODES:  # a tuple or partial with markers: plain again
                decided = clone(node, replace=replace, memo=self.memo).to_plain()
            else:
                return node
            # The parent checks and converts the value as it would a value given directly (an
            # int in a float field becomes a float, a many_of's list an sb.List).
            parent = node._sym_parent
            return decided if parent is None else parent._sym_check(node._sym_key, decided)

        if type(value) in _VALUE_NODES:
            out = clone(value, replace=replace, memo=self.memo).to_plain()
        else:
            out = clone(value, replace=replace, memo=self.memo)
        if next(it, None) is not None:
            raise DNAError("the DNA has more decisions than the space has markers")
        return out

    def _decide(self, marker: Marker, it: Iterator[tuple[DecisionPoint, DNA]]) -> Any:
        if marker.name is None:
            entry = next(it, None)
            if entry is None:
                raise DNAError("the DNA has fewer decisions than the space has markers")
        else:
            entry = self.named.get(marker.name)
            if entry is None:
                raise DNAError(f"no decision named {marker.name!r} was decided before its marker")
        d, dna = entry
        branches = marker.branches()
        if not branches:
            return marker.decode(dna, _no_branch)

        def branch(i: int, pick: DNA) -> Any:
            value = list.__getitem__(branches, i) if type(branches) is List else branches[i]
            if not pick.children and type(value) in _ATOMS:  # 64, "relu": as they are
                return value
            return self.space(value, d.branch(i), pick)

        return marker.decode(dna, branch)


_ATOMS = frozenset((int, float, str, bool, type(None)))
_VALUE_NODES = (Tuple, Partial)
_REF: Any = None  # ValueReference, set on first import of the references module


def _no_branch(i: int, pick: DNA) -> Any:
    raise DNAError(f"this marker has no branch {i}")


# ---- random points -------------------------------------------------------------------------
def random_dna(spec: DNASpec, seed: int | random.Random | None = None) -> DNA:
    """A uniformly random DNA of ``spec`` (uniform per decision; log ranges in log space).

    >>> import symbo as sb
    >>> spec = sb.dna_spec(sb.Dict(x=sb.one_of([1, 2, 3])))
    >>> sb.random_dna(spec, seed=1) == sb.random_dna(spec, seed=1)
    True
    """
    rng = seed if isinstance(seed, random.Random) else random.Random(seed)
    return DNA(None, spec.space.random(rng), spec)


def random_decision(d: DecisionPoint, rng: random.Random) -> DNA:
    """A random DNA for one decision point (with random sub-decisions): ``d.random(rng)``."""
    return d.random(rng)


def random_sample(space: Any, seed: int | random.Random | None = None, *,
                  spec: DNASpec | None = None) -> Any:
    """A random program from ``space`` (pass ``spec=dna_spec(space)`` to sample many fast).

    >>> import symbo as sb
    >>> p = sb.random_sample(sb.Dict(act=sb.one_of(["relu", "gelu"])), seed=0)
    >>> p.act in ("relu", "gelu") and sb.is_deterministic(p)
    True
    """
    spec = spec or dna_spec(space)
    return materialize(space, random_dna(spec, seed), spec=spec, check=False)


# ---- enumeration -------------------------------------------------------------------------
def iterate(space: Any, limit: int | None = None) -> Iterator[Any]:
    """Every point of a finite space, lazily, in a fixed order (first candidates first).

    Raises at once (not on the first ``next``) when the space has continuous decisions.
    """
    spec = dna_spec(space)
    dnas = iterate_dna(spec)
    return (materialize(space, dna, spec=spec, check=False)
            for dna in itertools.islice(dnas, limit))


def iterate_dna(spec: DNASpec, start: DNA | None = None) -> Iterator[DNA]:
    """Every DNA of a finite spec, lazily, in a fixed order (the last decision fastest, first
    candidates first); from ``start`` (included) when given, which may be any DNA of the spec.

    >>> import symbo as sb
    >>> spec = sb.dna_spec(sb.Dict(a=sb.one_of([1, 2]), b=sb.one_of(["x", "y", "z"])))
    >>> list(sb.iterate_dna(spec, sb.DNA([1, 1])))
    [DNA([1, 1]), DNA([1, 2])]
    >>> len(list(sb.iterate_dna(spec, spec.first_dna()))) == spec.space_size
    True
    """
    ranges = [d.id for d in spec.decision_points if not d.enumerable]
    if ranges:
        raise SymbolicValueError(
            f"cannot enumerate a space with continuous decisions ({', '.join(ranges)}); "
            "use a grid (sb.algorithms.Grid) or one_of over chosen values"
        )
    if start is None:
        return (DNA(None, children, spec) for children in spec.space.iterate())
    return _from(spec, start)


def _from(spec: DNASpec, start: DNA) -> Iterator[DNA]:
    dna: DNA | None = normalized(spec, start)
    dna = DNA(None, dna.children, spec)  # type: ignore[union-attr]
    while dna is not None:
        yield dna
        dna = spec.next_dna(dna)
