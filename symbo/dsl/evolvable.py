"""``sb.evolve``: a space of programs grown from one program by mutations (PyGlove's
``pg.evolve``).

``sb.evolve(initial, mutate_fn)`` is a :class:`~symbo.dsl.custom.CustomHyper` whose genome is
the program itself (as JSON): the first point is ``initial``, and a mutation picks one place of
the tree (a node to replace, or a list position to insert at or delete) and asks
``mutate_fn(path, old_value, parent)`` for the new value (``old_value`` is ``sb.MISSING`` for
an insertion). Search it with an evolutionary algorithm (``RegularizedEvolution``) or random
walks (``Random`` starts from ``initial``; each proposal is then a mutation of it).

>>> import random
>>> import symbo as sb
>>> def mutate(path, old, parent):
...     if isinstance(old, int):
...         return old + 1
...     return 0  # an insertion into the list
>>> space = sb.evolve(sb.List([1, 2]), mutate)
>>> point = sb.dna_spec(space).decisions[0]
>>> first = point.first_dna()
>>> sb.materialize(space, first)
List([1, 2])
>>> sb.materialize(space, point.mutate(first, random.Random(2), None))
List([1, 3])
"""

from __future__ import annotations

import enum
import random
from collections.abc import Callable
from typing import Any

import attrs

from symbo.core import MISSING, KeyPath, List, Symbolic, clone
from symbo.core.serialization import from_json_str, to_json_str
from symbo.core.traversal import TraverseAction, traverse
from symbo.dsl.custom import CustomHyper
from symbo.dsl.dna import DNA

__all__ = ["Evolvable", "MutationPoint", "MutationType", "evolve"]


class MutationType(str, enum.Enum):
    """What a mutation does at its point."""

    REPLACE = "replace"
    INSERT = "insert"
    DELETE = "delete"


@attrs.frozen(slots=True)
class MutationPoint:
    """One place a mutation may change: its kind, key path, current value and parent."""

    mutation_type: MutationType
    location: KeyPath
    old_value: Any
    parent: Any


class Evolvable(CustomHyper, type_name="symbo.Evolvable"):
    """A program evolved from ``initial_value`` by ``node_transform`` (see :func:`evolve`).

    ``weights(mutation_type, path, value, parent) -> float``, when given, weighs the mutation
    points (default: all alike).
    """

    initial_value: Any = None
    node_transform: Callable[..., Any] | None = None
    weights: Callable[..., float] | None = None

    def custom_decode(self, dna: DNA) -> Any:
        return from_json_str(dna.value)  # type: ignore[arg-type]

    def custom_encode(self, value: Any) -> DNA:
        return DNA(to_json_str(value))

    def next_dna(self, dna: DNA | None = None) -> DNA | None:
        """The initial value's genome first; there is no order beyond it."""
        return self.custom_encode(self.initial_value) if dna is None else None

    def random_dna(self, rng: random.Random | None = None,
                   previous_dna: DNA | None = None) -> DNA:
        """The initial value (no previous genome), else a mutation of the previous one."""
        if previous_dna is None:
            return self.first_dna()
        return self.custom_encode(self.mutate(self.custom_decode(previous_dna), rng))

    def mutation_points(self, value: Any) -> tuple[list[MutationPoint], list[float]]:
        """Every mutation point of ``value`` with its weight: each node (replace), and for
        each list, each position (insert before, and after the last) and item (delete)."""
        points: list[MutationPoint] = []
        weights: list[float] = []
        weigh = self.weights

        def add(kind: MutationType, path: KeyPath, old: Any, parent: Any) -> None:
            points.append(MutationPoint(kind, path, old, parent))
            weights.append(1.0 if weigh is None else float(weigh(kind, path, old, parent)))

        def visit(path: KeyPath, node: Any, parent: Any) -> TraverseAction:
            add(MutationType.REPLACE, path, node, parent)
            if isinstance(node, List):
                for i, item in enumerate(list.__iter__(node)):
                    add(MutationType.INSERT, path + i, MISSING, node)
                    add(MutationType.DELETE, path + i, item, node)
                add(MutationType.INSERT, path + len(node), MISSING, node)
            return TraverseAction.ENTER

        traverse(value, visit)
        return points, weights

    def mutate(self, value: Any, rng: random.Random | None = None) -> Any:
        """``value`` (a copy) changed at one randomly chosen mutation point."""
        rng = rng or random.Random()
        value = clone(value) if isinstance(value, Symbolic) else value
        points, weights = self.mutation_points(value)
        if sum(weights) <= 0:
            return value
        point = rng.choices(points, weights, k=1)[0]
        path, transform = point.location, self.node_transform
        if transform is None:
            raise ValueError("sb.evolve needs a node_transform(path, old_value, parent)")
        if point.mutation_type is MutationType.REPLACE:
            new = transform(path, point.old_value, point.parent)
            if path.is_root:
                return new
            value.rebind({path: new})
        elif point.mutation_type is MutationType.INSERT:
            point.parent.insert(path.key, transform(path, MISSING, point.parent))
        else:
            del point.parent[path.key]
        return value


def evolve(initial_value: Any, node_transform: Callable[[KeyPath, Any, Any], Any], *,
           weights: Callable[[MutationType, KeyPath, Any, Any], float] | None = None,
           name: str | None = None) -> Evolvable:
    """A space of programs grown from ``initial_value`` by mutations; see the module docstring.

    ``node_transform(path, old_value, parent)`` returns the new value for a node
    (``old_value`` is ``sb.MISSING`` when a list item is inserted at ``path``).
    """
    return Evolvable(initial_value=initial_value, node_transform=node_transform,
                     weights=weights, name=name)
