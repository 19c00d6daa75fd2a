"""The DNA spec: the tree of decision points that the markers of a space form.

A space's decisions are listed in a fixed (preorder) order. A choice's candidates carry their
own decisions (a conditional space). Every decision point has a stable ``id``: its key path in
the space, with ``[=i]`` marking the candidate it sits under, e.g. ``opt[=1].momentum``; and
the user's ``name`` when one was given.

>>> import symbo as sb
>>> space = sb.Dict(opt=sb.one_of(["adam", sb.Dict(momentum=sb.float_range(0.0, 0.99))]),
...                 layers=sb.int_range(1, 4))
>>> spec = sb.dna_spec(space)
>>> [d.id for d in spec.decision_points]
['opt', 'opt[=1].momentum', 'layers']
>>> spec.space_size
inf
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from functools import cached_property
from typing import Any

import attrs

from symbo.core import Dict, KeyPath, List, Symbolic, SymbolicValueError
from symbo.core.formatting import format as sym_format
from symbo.core.traversal import TraverseAction, traverse
from symbo.dsl.markers import FloatRange, IntRange, ManyOf, Marker, OneOf, Permutate


@attrs.frozen(slots=True)
class Space:
    """An ordered tuple of decision points (of the whole space, or of one candidate)."""

    decisions: tuple[DecisionPoint, ...] = ()

    @property
    def size(self) -> float | int:
        total: int | float = 1
        for d in self.decisions:
            total *= d.size
        return total

    def __len__(self) -> int:
        return len(self.decisions)


@attrs.frozen(slots=True)
class Candidate:
    """One candidate of a choice: its formatted text, its own decisions, and its param value
    (the candidate itself when it is plain data, else its text; see ``DNA.to_params``)."""

    literal: str
    space: Space
    value: Any = attrs.field(default=None, eq=False)


@attrs.frozen(slots=True)
class Choice:
    """A ``one_of`` (k=1), ``many_of`` (k choices) or ``permutate`` decision."""

    id: str
    location: KeyPath
    name: str | None
    candidates: tuple[Candidate, ...]
    num_choices: int = 1
    distinct: bool = True
    sorted: bool = False

    @property
    def num_candidates(self) -> int:
        return len(self.candidates)

    @property
    def is_conditional(self) -> bool:
        return any(c.space.decisions for c in self.candidates)

    @property
    def size(self) -> float | int:
        sizes = [c.space.size for c in self.candidates]
        k = self.num_choices
        if k == 1:
            return sum(sizes)
        if any(math.isinf(s) for s in sizes):
            return math.inf
        if self.distinct:
            e = _elementary_symmetric(sizes, k)
            return e if self.sorted else math.factorial(k) * e
        if self.sorted:
            return _complete_homogeneous(sizes, k)
        return sum(sizes) ** k

    def candidate_ids(self, index: int, position: int | None = None) -> str:
        """The id prefix of decisions under candidate ``index`` (at a many_of position)."""
        pos = "" if position is None or self.num_choices == 1 else f"[{position}]"
        return f"{self.id}{pos}[={index}]"


@attrs.frozen(slots=True)
class FloatDecision:
    """A ``float_range`` decision."""

    id: str
    location: KeyPath
    name: str | None
    low: float
    high: float
    scale: str = "linear"

    @property
    def size(self) -> float:
        return math.inf


@attrs.frozen(slots=True)
class IntDecision:
    """An ``int_range`` decision (both ends included)."""

    id: str
    location: KeyPath
    name: str | None
    low: int
    high: int
    scale: str = "linear"

    @property
    def size(self) -> int:
        return self.high - self.low + 1


DecisionPoint = Choice | FloatDecision | IntDecision
Where = Callable[[Marker], bool]


@attrs.frozen(slots=True, eq=False)
class DNASpec:
    """The decision tree of a space; what algorithms see instead of the program."""

    space: Space

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

        def walk(space: Space) -> None:
            for d in space.decisions:
                out.append(d)
                if isinstance(d, Choice):
                    for c in d.candidates:
                        walk(c.space)

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
    spec = DNASpec(_collect(space, "", where))
    names: dict[str, str] = {}
    for d in spec.decision_points:
        if d.name is None:
            continue
        if d.name in names:
            raise SymbolicValueError(
                f"two decisions are named {d.name!r} (at {names[d.name]!r} and {d.id!r}); "
                "names must be unique in a space"
            )
        other = spec.by_id.get(d.name)
        if other is not None and other is not d:  # DNA dicts could not tell the two apart
            raise SymbolicValueError(
                f"the decision at {d.id!r} is named {d.name!r}, the id of another decision; "
                "choose another name"
            )
        names[d.name] = d.id
    return spec


def _join(prefix: str, location: KeyPath) -> str:
    text = str(location)
    if not prefix:
        return text
    if not text:
        return prefix
    return prefix + ("" if text.startswith("[") else ".") + text


def _collect(value: Any, prefix: str, where: Where | None) -> Space:
    if isinstance(value, Marker):
        if where is not None and not where(value):
            return Space(())
        return Space((_decision(value, KeyPath(), prefix, where),))
    if not isinstance(value, Symbolic):
        return Space(())
    out: list[DecisionPoint] = []

    def visit(path: KeyPath, node: Any, parent: Any) -> TraverseAction:
        if isinstance(node, Marker):
            if where is None or where(node):
                out.append(_decision(node, path, prefix, where))
            return TraverseAction.SKIP
        return TraverseAction.ENTER

    traverse(value, visit)
    return Space(tuple(out))


def _literal(value: Any) -> str:
    return sym_format(value, compact=True)


_NOT_PLAIN = object()


def plain_data(value: Any) -> Any:
    """``value`` as JSON-compatible plain data (``sb.List``/``sb.Dict`` as list/dict), or
    ``NOT_PLAIN`` when it holds anything else (objects, markers, tuples, nan, inf)."""
    t = type(value)
    if t is int or t is str or t is bool or value is None:
        return value
    if t is float:
        return value if math.isfinite(value) else _NOT_PLAIN
    if isinstance(value, list) and t in (list, List):
        items = [plain_data(v) for v in list.__iter__(value)]
        return _NOT_PLAIN if any(v is _NOT_PLAIN for v in items) else items
    if isinstance(value, dict) and t in (dict, Dict):
        out = {}
        for k, v in dict.items(value):
            p = plain_data(v)
            if type(k) is not str or p is _NOT_PLAIN:
                return _NOT_PLAIN
            out[k] = p
        return out
    return _NOT_PLAIN


NOT_PLAIN = _NOT_PLAIN


def param_value(value: Any) -> Any:
    """What params show for a candidate: itself when plain data, else its formatted text.

    >>> import symbo as sb
    >>> from symbo.dsl.spec import param_value
    >>> param_value(64), param_value(sb.Dict(lr=0.1)), param_value(sb.one_of([1, 2]))
    (64, {'lr': 0.1}, 'one_of([1, 2])')
    """
    plain = plain_data(value)
    return _literal(value) if plain is _NOT_PLAIN else plain


def _decision(marker: Marker, location: KeyPath, prefix: str, where: Where | None) -> DecisionPoint:
    did = _join(prefix, location)
    if isinstance(marker, (OneOf, ManyOf, Permutate)):
        candidates = tuple(
            Candidate(_literal(c), _collect(c, f"{did}[={i}]", where), param_value(c))
            for i, c in enumerate(marker.candidates)
        )
        if isinstance(marker, OneOf):
            return Choice(did, location, marker.name, candidates)
        if isinstance(marker, Permutate):
            return Choice(did, location, marker.name, candidates, len(candidates), True, False)
        return Choice(did, location, marker.name, candidates, marker.k, marker.distinct, marker.sorted)
    if isinstance(marker, FloatRange):
        return FloatDecision(did, location, marker.name, marker.low, marker.high, marker.scale)
    if isinstance(marker, IntRange):
        return IntDecision(did, location, marker.name, marker.low, marker.high, marker.scale)
    raise SymbolicValueError(f"{did}: unsupported marker {type(marker).__name__}")


def _elementary_symmetric(values: list[int], k: int) -> int:
    e = [1] + [0] * k
    for v in values:
        for j in range(k, 0, -1):
            e[j] += e[j - 1] * v
    return e[k]


def _complete_homogeneous(values: list[int], k: int) -> int:
    h = [1] + [0] * k
    for v in values:
        for j in range(1, k + 1):
            h[j] += h[j - 1] * v
    return h[k]
