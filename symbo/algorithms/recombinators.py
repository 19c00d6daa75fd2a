"""Recombinators: operations that cross parents' DNA into children (PyGlove's
``pg.evolution.recombinators``).

* **Point-wise** (two or more parents): :class:`UniformCrossover` takes each decision (each
  position of a ``many_of`` too) from a random parent; :class:`Average` averages float (and,
  rounded, int) decisions active in every parent.
* **Segment-wise** (two parents, two children): :class:`KPoint` cuts the top-level decisions
  at ``k`` random points and alternates the parents between cuts; :class:`Segmented` cuts
  where a function says.
* **Permutations** (two parents, two children): :class:`PMX`, :class:`Order` and
  :class:`Cycle` cross the order of each ``permutate`` (or distinct, unsorted ``many_of``)
  decision; other decisions come from the parent each child starts from.

Where both parents chose the same candidate of a ``one_of``, the decisions under it are
crossed the same way (``deep=True``); otherwise a subtree comes whole from one parent. Every
child is a valid DNA of the spec, with the spec attached. ``cross(*parents, spec, rng)`` gives
the first child; as operations (``Top(2) >> UniformCrossover()``) they output all children.

>>> import random
>>> import symbo as sb
>>> from symbo.algorithms.recombinators import PMX, UniformCrossover
>>> spec = sb.dna_spec(sb.Dict(order=sb.permutate(list("abcdef")), bits=[sb.one_of([0, 1])] * 3))
>>> a = sb.DNA.from_numbers(spec, [0, 1, 2, 3, 4, 5, 0, 0, 0])
>>> b = sb.DNA.from_numbers(spec, [5, 4, 3, 2, 1, 0, 1, 1, 1])
>>> child = PMX().cross(a, b, spec, random.Random(0))
>>> sorted(child.to_numbers()[:6]), child.to_numbers()[6:]
([0, 1, 2, 3, 4, 5], [0, 0, 0])
>>> c = sb.DNA.from_numbers(spec, [1, 0, 2, 3, 4, 5, 1, 0, 1])
>>> len(UniformCrossover().cross(a, b, c, spec=spec, rng=random.Random(1)).to_numbers())
9
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any, ClassVar

from symbo.algorithms.operations import Context, Operation
from symbo.core import SymbolicTypeError, SymbolicValueError, field
from symbo.dsl import DNA, Choice, DecisionPoint, Decisions, DNASpec, FloatDecision, IntDecision

__all__ = ["PMX", "Average", "Crossover", "Cycle", "KPoint", "Order", "Recombinator",
           "Segmented", "UniformCrossover"]

Seed = random.Random | int | None


class Recombinator(Operation, type_name="symbo.algorithms.Recombinator"):
    """Base of recombinators: subclasses implement ``children(parents, spec, rng)``;
    ``num_parents`` (a class attribute) is the number they need (None: two or more)."""

    num_parents: ClassVar[int | None] = None

    def children(self, parents: list[DNA], spec: DNASpec, rng: random.Random) -> list[DNA]:
        """The children of ``parents`` (valid DNA of ``spec``)."""
        raise NotImplementedError

    def cross(self, *args: Any, spec: DNASpec | None = None, rng: Seed = None) -> DNA:
        """The first child of the parents: ``cross(*parents, spec, rng)``."""
        parents, spec, rng_ = _parse(type(self).__name__, args, spec, rng)
        self._check_parents(parents)
        return self.children(parents, spec, rng_)[0]

    def apply(self, inputs: list[Any], context: Context) -> list[Any]:
        self._check_parents(inputs)
        return self.children(list(inputs), context.spec, context.rng)

    def _check_parents(self, parents: list[Any]) -> None:
        n = self.num_parents
        if (n is not None and len(parents) != n) or len(parents) < 2:
            wanted = f"exactly {n}" if n is not None else "two or more"
            raise SymbolicValueError(
                f"{type(self).__name__} crosses {wanted} parents, got {len(parents)} (select "
                "them first, e.g. selectors.Top(2) >> ...)"
            )


Crossover = Recombinator  # the name symbo 0.1 used


def _parse(name: str, args: tuple, spec: DNASpec | None, rng: Seed
           ) -> tuple[list[DNA], DNASpec, random.Random]:
    args_ = list(args)
    if spec is None:
        at = next((i for i, a in enumerate(args_) if isinstance(a, DNASpec)), None)
        if at is None:
            raise SymbolicTypeError(f"{name}.cross(*parents, spec, rng): the spec is missing")
        spec, rest, args_ = args_[at], args_[at + 1:], args_[:at]
        if len(rest) > 1:
            raise SymbolicTypeError(f"{name}.cross(*parents, spec, rng): too many arguments")
        if rest and rng is None:
            rng = rest[0]
    for p in args_:
        if not isinstance(p, DNA):
            raise SymbolicTypeError(f"{name}.cross: parents are DNA, got {type(p).__name__}")
    return args_, spec, rng if isinstance(rng, random.Random) else random.Random(rng)


def _root(spec: DNASpec, children: Any) -> DNA:
    return DNA(None, tuple(children), spec)


# ---- point-wise ---------------------------------------------------------------------------------
class UniformCrossover(Recombinator, type_name="symbo.algorithms.UniformCrossover"):
    """Each decision (each position of a ``many_of``) from a random parent: with two parents
    the second with probability ``prob``, with more uniformly. Distinct and sorted picks are
    respected (a position is drawn again, or the whole decision comes from one parent).
    ``deep=False`` takes every top-level decision whole from one parent instead.

    >>> import random
    >>> import symbo as sb
    >>> from symbo.algorithms.recombinators import UniformCrossover
    >>> spec = sb.dna_spec(sb.List([sb.one_of([0, 1]) for _ in range(6)]))
    >>> a, b = sb.DNA.from_numbers(spec, [0] * 6), sb.DNA.from_numbers(spec, [1] * 6)
    >>> sorted(set(UniformCrossover().cross(a, b, spec, random.Random(3)).to_numbers()))
    [0, 1]
    """

    prob: float = field(0.5, doc="probability to take a decision from the second of two parents",
                        check=lambda v: 0.0 <= v <= 1.0, message="prob must be in [0, 1]")
    deep: bool = True

    def children(self, parents: list[DNA], spec: DNASpec, rng: random.Random) -> list[DNA]:
        return [_root(spec, self._space(spec.space, parents, rng))]

    def _space(self, space: Decisions, nodes: list[DNA], rng: random.Random) -> list[DNA]:
        return [self._decision(d, [n.children[k] for n in nodes], rng)
                for k, d in enumerate(space.decisions)]

    def _decision(self, d: DecisionPoint, nodes: list[DNA], rng: random.Random) -> DNA:
        if d.positions == 1 or not self.deep:
            return self._pick(d, nodes, rng)
        picks = [d.picks(n) for n in nodes]
        for _ in range(8):
            out = [self._pick(d, [p[j] for p in picks], rng) for j in range(d.positions)]
            values = [p.value for p in out]
            if d.distinct and len(set(values)) != len(values):
                continue
            if d.sorted:
                out.sort(key=lambda p: p.value)  # type: ignore[arg-type,return-value]
            return d.join(out)
        return nodes[self._which(len(nodes), rng)]

    def _pick(self, d: DecisionPoint, nodes: list[DNA], rng: random.Random) -> DNA:
        v = nodes[0].value
        if self.deep and isinstance(d, Choice) and all(n.value == v for n in nodes) and \
                d.branch(v).decisions:
            return DNA(v, tuple(self._space(d.branch(v), nodes, rng)))
        return nodes[self._which(len(nodes), rng)]

    def _which(self, n: int, rng: random.Random) -> int:
        if n == 2:
            return 1 if rng.random() < self.prob else 0
        return rng.randrange(n)


class Average(Recombinator, type_name="symbo.algorithms.Average"):
    """Averages the float decisions (and, rounded, the int ones) that are active at the same
    place in every parent; the rest comes from each parent: one child per distinct parent.

    >>> import random
    >>> import symbo as sb
    >>> from symbo.algorithms.recombinators import Average
    >>> spec = sb.dna_spec(sb.Dict(lr=sb.float_range(0.0, 1.0), act=sb.one_of(["a", "b"])))
    >>> a, b = sb.DNA.from_numbers(spec, [0.2, 0]), sb.DNA.from_numbers(spec, [0.6, 1])
    >>> [d.to_numbers() for d in Average().children([a, b], spec, random.Random(0))]
    [[0.4, 0], [0.4, 1]]
    """

    ints: bool = True  # also average int ranges (rounded to the nearest int)

    def children(self, parents: list[DNA], spec: DNASpec, rng: random.Random) -> list[DNA]:
        out: list[DNA] = []
        for i in range(len(parents)):
            child = _root(spec, self._space(spec.space, parents, i))
            if child not in out:
                out.append(child)
        return out

    def _space(self, space: Decisions, nodes: list[DNA], own: int) -> list[DNA]:
        out = []
        for k, d in enumerate(space.decisions):
            here = [n.children[k] for n in nodes]
            if isinstance(d, FloatDecision):
                out.append(DNA(sum(float(h.value) for h in here) / len(here)))  # type: ignore[arg-type]
            elif isinstance(d, IntDecision) and self.ints:
                mean = sum(h.value for h in here) / len(here)  # type: ignore[misc]
                out.append(DNA(min(max(int(round(mean)), d.low), d.high)))
            elif d.positions == 1 and isinstance(d, Choice) and \
                    all(h.value == here[own].value for h in here) and d.branch(here[own].value).decisions:
                v = here[own].value
                out.append(DNA(v, tuple(self._space(d.branch(v), here, own))))
            else:
                out.append(here[own])
        return out


# ---- segment-wise --------------------------------------------------------------------------------
class _SegmentWise(Recombinator, register=False):
    num_parents = 2

    def cuts(self, n: int, rng: random.Random) -> list[int]:
        raise NotImplementedError

    def children(self, parents: list[DNA], spec: DNASpec, rng: random.Random) -> list[DNA]:
        a, b = parents
        n = len(spec.space.decisions)
        cuts = sorted({c for c in self.cuts(n, rng)})
        if any(not 0 < c < n for c in cuts):
            raise SymbolicValueError(
                f"{type(self).__name__}: cutting indices must be in [1, {n - 1}] (between the "
                f"{n} top-level decisions), got {cuts}")
        bounds = [0, *cuts, n]
        first: list[DNA] = []
        second: list[DNA] = []
        for s in range(len(bounds) - 1):
            for k in range(bounds[s], bounds[s + 1]):
                x, y = (a, b) if s % 2 == 0 else (b, a)
                first.append(x.children[k])
                second.append(y.children[k])
        return [_root(spec, first), _root(spec, second)]


class KPoint(_SegmentWise, type_name="symbo.algorithms.KPoint"):
    """``k`` random cuts between the top-level decisions; the children alternate the parents
    between cuts (``k=1``: single point, ``k=2``: two-point crossover).

    >>> import random
    >>> import symbo as sb
    >>> from symbo.algorithms.recombinators import KPoint
    >>> spec = sb.dna_spec(sb.List([sb.int_range(0, 9) for _ in range(6)]))
    >>> a, b = sb.DNA.from_numbers(spec, [0] * 6), sb.DNA.from_numbers(spec, [9] * 6)
    >>> [c.to_numbers() for c in KPoint(k=1).children([a, b], spec, random.Random(2))]
    [[0, 9, 9, 9, 9, 9], [9, 0, 0, 0, 0, 0]]
    """

    k: int = field(1, check=lambda v: v >= 1, message="k must be >= 1")

    def cuts(self, n: int, rng: random.Random) -> list[int]:
        if n < 2:
            return []
        return rng.sample(range(1, n), min(self.k, n - 1))


class Segmented(_SegmentWise, type_name="symbo.algorithms.Segmented"):
    """Cuts where ``cutting_indices`` says (indices between the top-level decisions, in
    ``[1, num_decisions - 1]``): ``fn(num_decisions, rng) -> list[int]``, or as in PyGlove
    ``fn(decision_points) -> list[int]`` (the top-level decision points).

    >>> import random
    >>> import symbo as sb
    >>> from symbo.algorithms.recombinators import Segmented
    >>> spec = sb.dna_spec(sb.List([sb.int_range(0, 9) for _ in range(4)]))
    >>> a, b = sb.DNA.from_numbers(spec, [0] * 4), sb.DNA.from_numbers(spec, [9] * 4)
    >>> Segmented(lambda xs: [len(xs) // 2]).cross(a, b, spec, random.Random(0)).to_numbers()
    [0, 0, 9, 9]
    """

    cutting_indices: Callable[..., Any]

    def cuts(self, n: int, rng: random.Random) -> list[int]:
        fn = self.cutting_indices
        if _positional_arity(fn) == 1:
            return [int(c) for c in fn(list(self.__dict__["_decisions"]))]
        return list(fn(n, rng))

    def children(self, parents: list[DNA], spec: DNASpec, rng: random.Random) -> list[DNA]:
        self.__dict__["_decisions"] = spec.space.decisions
        return super().children(parents, spec, rng)


def _positional_arity(fn: Callable[..., Any]) -> int:
    """How many positional arguments ``fn`` takes (2 when it cannot be told)."""
    import inspect

    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return 2
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return 2
    return sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty
               for p in params)


# ---- permutations --------------------------------------------------------------------------------
class _Permutation(Recombinator, register=False):
    num_parents = 2

    def permute(self, a: list[int], b: list[int], rng: random.Random) -> tuple[list[int], list[int]]:
        raise NotImplementedError

    def children(self, parents: list[DNA], spec: DNASpec, rng: random.Random) -> list[DNA]:
        a, b = parents
        found: list[bool] = []
        first, second = self._space(spec.space, a, b, rng, found)
        if not found:
            raise SymbolicValueError(
                f"{type(self).__name__} crosses permutations: no permutate (or distinct, "
                "unsorted many_of) decision is active in both parents")
        return [_root(spec, first), _root(spec, second)]

    def _space(self, space: Decisions, a: DNA, b: DNA, rng: random.Random,
               found: list[bool]) -> tuple[list[DNA], list[DNA]]:
        first: list[DNA] = []
        second: list[DNA] = []
        for k, d in enumerate(space.decisions):
            x, y = a.children[k], b.children[k]
            if isinstance(d, Choice) and d.num_choices > 1 and d.distinct and not d.sorted:
                xs, ys = list(x.children), list(y.children)
                va, vb = [p.value for p in xs], [p.value for p in ys]
                if set(va) == set(vb) and len(va) > 1:
                    found.append(True)
                    ca, cb = self.permute(va, vb, rng)
                    picks = {p.value: p for p in ys} | {p.value: p for p in xs}
                    picks_b = {p.value: p for p in xs} | {p.value: p for p in ys}
                    first.append(DNA(None, tuple(picks[v] for v in ca)))
                    second.append(DNA(None, tuple(picks_b[v] for v in cb)))
                    continue
            if d.positions == 1 and isinstance(d, Choice) and x.value == y.value and \
                    d.branch(x.value).decisions:
                fa, fb = self._space(d.branch(x.value), x, y, rng, found)
                first.append(DNA(x.value, tuple(fa)))
                second.append(DNA(y.value, tuple(fb)))
                continue
            first.append(x)
            second.append(y)
        return first, second


def _cut(n: int, rng: random.Random) -> tuple[int, int]:
    i, j = sorted(rng.sample(range(n + 1), 2))
    return i, j


class PMX(_Permutation, type_name="symbo.algorithms.PMX"):
    """Partially mapped crossover (Goldberg & Lingle, 1985): a child keeps a segment of one
    parent and maps the other parent's conflicting values around it."""

    def permute(self, a: list[int], b: list[int], rng: random.Random) -> tuple[list[int], list[int]]:
        i, j = _cut(len(a), rng)
        return _pmx(a, b, i, j), _pmx(b, a, i, j)


def _pmx(a: list[int], b: list[int], i: int, j: int) -> list[int]:
    child: list[int | None] = [None] * len(a)
    child[i:j] = a[i:j]
    segment = set(a[i:j])
    for idx in range(i, j):
        v = b[idx]
        if v in segment:
            continue
        pos = idx
        while i <= pos < j:
            pos = b.index(a[pos])
        child[pos] = v
    return [b[k] if c is None else c for k, c in enumerate(child)]


class Order(_Permutation, type_name="symbo.algorithms.Order"):
    """Order crossover (OX, Davis 1985): a child keeps a segment of one parent and takes the
    other values in the order they have in the other parent (starting after the segment)."""

    def permute(self, a: list[int], b: list[int], rng: random.Random) -> tuple[list[int], list[int]]:
        i, j = _cut(len(a), rng)
        return _ox(a, b, i, j), _ox(b, a, i, j)


def _ox(a: list[int], b: list[int], i: int, j: int) -> list[int]:
    n = len(a)
    segment = set(a[i:j])
    rest = [b[(j + k) % n] for k in range(n) if b[(j + k) % n] not in segment]
    child: list[int | None] = [None] * n
    child[i:j] = a[i:j]
    positions = [(j + k) % n for k in range(n - (j - i))]
    for pos, v in zip(positions, rest):
        child[pos] = v
    return child  # type: ignore[return-value]


class Cycle(_Permutation, type_name="symbo.algorithms.Cycle"):
    """Cycle crossover (CX, Oliver et al. 1987): positions fall into cycles between the
    parents; a child takes alternate cycles from each parent (every value keeps a position it
    had in a parent)."""

    def permute(self, a: list[int], b: list[int], rng: random.Random) -> tuple[list[int], list[int]]:
        n = len(a)
        cycle_of = [-1] * n
        where = {v: k for k, v in enumerate(a)}
        c = 0
        for start in range(n):
            if cycle_of[start] != -1:
                continue
            k = start
            while cycle_of[k] == -1:
                cycle_of[k] = c
                k = where[b[k]]
            c += 1
        first = [a[k] if cycle_of[k] % 2 == 0 else b[k] for k in range(n)]
        second = [b[k] if cycle_of[k] % 2 == 0 else a[k] for k in range(n)]
        return first, second
