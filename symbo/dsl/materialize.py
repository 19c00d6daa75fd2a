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
import math
import random
from collections.abc import Callable, Iterator
from typing import Any

from symbo.core import List, Symbolic, SymbolicValueError, clone
from symbo.core.traversal import TraverseAction, traverse
from symbo.dsl.dna import DNA, DNAError, validate
from symbo.dsl.markers import FloatRange, IntRange, Marker, OneOf
from symbo.dsl.spec import (
    Choice,
    DecisionPoint,
    DNASpec,
    FloatDecision,
    IntDecision,
    Space,
    Where,
    dna_spec,
)


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

    The space is left untouched. ``check=False`` skips validating the DNA against the spec
    (algorithms that produce valid DNA by construction use it in tight loops). With ``where``
    (as given to ``dna_spec``) only the selected markers are decided; the others are kept.
    """
    from symbo.dsl.trace import TracedSpace

    if isinstance(space, TracedSpace):
        return space.materialize(dna, where=where)
    if not isinstance(dna, DNA):
        raise DNAError(f"materialize needs a DNA, got {type(dna).__name__}")
    if check:
        # Not ``dna.spec``: a DNA may come from another space, and is checked against this one.
        validate(spec or dna_spec(space, where=where), dna)
    return _space(space, dna, where)


def _space(value: Any, dna: DNA, where: Where | None = None) -> Any:
    """Materializes ``value`` whose decisions are ``dna.children``, in preorder."""
    children = dna.children
    if isinstance(value, Marker) and (where is None or where(value)):
        if len(children) != 1:
            raise DNAError(f"expected 1 decision for a single marker, got {len(children)}")
        decided = _decide(value, children[0], where)
        return List(decided) if type(decided) is list else decided
    if not isinstance(value, Symbolic):
        if children:
            raise DNAError(f"{len(children)} decisions left over for a value without markers")
        return value
    it = iter(children)

    def replace(node: Any) -> Any:
        if isinstance(node, Marker) and (where is None or where(node)):
            try:
                decided = _decide(node, next(it), where)
            except StopIteration:
                raise DNAError("the DNA has fewer decisions than the space has markers") from None
            # The marker's parent checks and converts the value as it would a value given
            # directly (an int in a float field becomes a float, a many_of's list an sb.List).
            parent = node._sym_parent
            return decided if parent is None else parent._sym_check(node._sym_key, decided)
        return node

    out = clone(value, replace=replace)
    if next(it, None) is not None:
        raise DNAError("the DNA has more decisions than the space has markers")
    return out


def _decide(marker: Marker, dna: DNA, where: Where | None) -> Any:
    if isinstance(marker, (FloatRange, IntRange)):
        return dna.value
    candidates = marker.candidates  # type: ignore[attr-defined]
    if isinstance(marker, OneOf):
        return _space(list.__getitem__(candidates, dna.value), dna, where)
    # A many_of/permutate of one choice has a one_of's DNA (as its decision point says).
    picks = [dna] if marker.num_choices == 1 else dna.children  # type: ignore[attr-defined]
    return [_space(list.__getitem__(candidates, pick.value), pick, where) for pick in picks]


# ---- random points -------------------------------------------------------------------------
def random_dna(spec: DNASpec, seed: int | random.Random | None = None) -> DNA:
    """A uniformly random DNA of ``spec`` (uniform per decision; log ranges in log space).

    >>> import symbo as sb
    >>> spec = sb.dna_spec(sb.Dict(x=sb.one_of([1, 2, 3])))
    >>> sb.random_dna(spec, seed=1) == sb.random_dna(spec, seed=1)
    True
    """
    rng = seed if isinstance(seed, random.Random) else random.Random(seed)
    return DNA(None, _random_space(spec.space, rng), spec)


def _random_space(space: Space, rng: random.Random) -> tuple[DNA, ...]:
    return tuple(random_decision(d, rng) for d in space.decisions)


def random_decision(d: DecisionPoint, rng: random.Random) -> DNA:
    """A random DNA for one decision point (with random sub-decisions)."""
    if isinstance(d, Choice):
        n = len(d.candidates)
        k = d.num_choices
        if k == 1:
            i = rng.randrange(n)
            return DNA(i, _random_space(d.candidates[i].space, rng))
        if d.distinct:
            indices = rng.sample(range(n), k)
        else:
            indices = [rng.randrange(n) for _ in range(k)]
        if d.sorted:
            indices.sort()
        return DNA(None, tuple(DNA(i, _random_space(d.candidates[i].space, rng)) for i in indices))
    if isinstance(d, FloatDecision):
        if d.scale == "log":
            value = math.exp(rng.uniform(math.log(d.low), math.log(d.high)))
            return DNA(min(max(value, d.low), d.high))
        return DNA(rng.uniform(d.low, d.high))
    if d.scale == "log":
        value = math.exp(rng.uniform(math.log(d.low), math.log(d.high + 1)))
        return DNA(min(max(int(value), d.low), d.high))  # exp(log(n)) may fall below n
    return DNA(rng.randint(d.low, d.high))


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


def iterate_dna(spec: DNASpec) -> Iterator[DNA]:
    """Every DNA of a finite spec, lazily, in a fixed order."""
    if not spec.is_finite:
        ranges = [d.id for d in spec.decision_points if isinstance(d, FloatDecision)]
        raise SymbolicValueError(
            f"cannot enumerate a space with continuous decisions ({', '.join(ranges)}); "
            "use a grid (sb.algorithms.Grid) or one_of over chosen values"
        )
    return (DNA(None, children, spec) for children in _iter_space(spec.space))


def _iter_space(space: Space) -> Iterator[tuple[DNA, ...]]:
    return _product([lambda d=d: _iter_decision(d) for d in space.decisions])


def _product(factories: list[Callable[[], Iterator[DNA]]]) -> Iterator[tuple[DNA, ...]]:
    """Like ``itertools.product`` (last factor fastest), without materializing any factor."""
    if not factories:
        yield ()
        return
    for head in factories[0]():
        for rest in _product(factories[1:]):
            yield (head, *rest)


def _iter_decision(d: DecisionPoint) -> Iterator[DNA]:
    if isinstance(d, IntDecision):
        for v in range(d.low, d.high + 1):
            yield DNA(v)
        return
    assert isinstance(d, Choice)
    n = len(d.candidates)
    if d.num_choices == 1:
        for i in range(n):
            for sub in _iter_space(d.candidates[i].space):
                yield DNA(i, sub)
        return
    k = d.num_choices
    if d.distinct:
        index_lists = itertools.combinations(range(n), k) if d.sorted else itertools.permutations(range(n), k)
    else:
        index_lists = (itertools.combinations_with_replacement(range(n), k) if d.sorted
                       else itertools.product(range(n), repeat=k))
    for indices in index_lists:
        subs = [lambda i=i: _iter_space(d.candidates[i].space) for i in indices]
        for combo in _product(subs):
            yield DNA(None, tuple(DNA(i, s) for i, s in zip(indices, combo)))
