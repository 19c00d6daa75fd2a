"""The operator algebra of evolutionary algorithms (PyGlove's ``pg.evolution`` operations).

An :class:`Operation` turns a list of DNA into another: a selector picks some (``Top(1)``), a
recombinator crosses parents into children, a mutator changes each DNA. Operations compose:

=============  ==================================================================================
``x >> y``     pipeline: ``y`` applied to what ``x`` gives
``x + y``      both applied to the same input, outputs concatenated
``x | y``      union (no repeats, first seen first); ``x & y`` intersection; ``x - y`` difference
``x * k``      ``x`` applied ``k`` times to the same input, outputs concatenated
``x ** k``     ``x >> x >> ... >> x`` (``k`` times)
``x[i:j]``     a slice of ``x``'s output
``x.with_prob(p)``  ``x`` with probability ``p``, else the input unchanged
=============  ==================================================================================

A plain function ``fn(inputs)`` or ``fn(inputs, context)`` is an operand too. Operations are
symbolic objects (they print, compare, serialize, and their settings can be searched). They
run with a :class:`Context`: the spec, the random generator, the step (proposals so far) and
the rewards of the DNA seen so far (selectors rank by them).

>>> import random
>>> import symbo as sb
>>> from symbo.algorithms import selectors
>>> from symbo.algorithms.mutation import Uniform
>>> from symbo.algorithms.operations import Context
>>> spec = sb.dna_spec(sb.List([sb.one_of([0, 1]) for _ in range(4)]))
>>> population = [sb.DNA.from_numbers(spec, [i % 2, 0, 0, i // 2 % 2]) for i in range(4)]
>>> context = Context(spec, random.Random(0), fitness={d: sum(d.to_numbers()) for d in population})
>>> reproduce = selectors.Random(3) >> selectors.Top(1) >> Uniform()
>>> [child] = reproduce(population, context)
>>> child.spec is spec and child not in population
True
>>> len((selectors.Top(2) | selectors.First(2))(population, context))
3
"""

from __future__ import annotations

import inspect
import random
from collections.abc import Callable, Mapping
from typing import Any

from symbo.core import Object, SymbolicTypeError, SymbolicValueError, field
from symbo.dsl import DNA, DNASpec

Reward = float | tuple[float, ...]

__all__ = [
    "Choice", "Concatenation", "Context", "Difference", "Identity", "Intersection", "Lambda",
    "Operation", "Pipeline", "Power", "Repeat", "Slice", "Union",
]


class Context:
    """What operations run with: ``spec``, ``rng``, ``step`` (proposals made so far),
    ``fitness`` (``{DNA: reward}`` of the DNA seen so far; higher is better), the number of
    objectives, and ``state`` (a dict operations may use to keep things between calls)."""

    __slots__ = ("spec", "rng", "step", "fitness", "num_objectives", "state")

    def __init__(self, spec: DNASpec, rng: random.Random | None = None, step: int = 0,
                 fitness: Mapping[DNA, Reward] | None = None, num_objectives: int = 1,
                 state: dict[str, Any] | None = None) -> None:
        self.spec = spec
        self.rng = rng if rng is not None else random.Random()
        self.step = step
        self.fitness = fitness if fitness is not None else {}
        self.num_objectives = num_objectives
        self.state = state if state is not None else {}

    def reward(self, dna: DNA) -> Reward:
        """The reward of ``dna``; an error naming it when it has none yet."""
        try:
            return self.fitness[dna]
        except KeyError:
            raise SymbolicValueError(
                f"no reward for {dna!r} yet: selectors that rank (Top, Bottom, Sample, "
                "Proportional) work on evaluated DNA (the population), not on new children; "
                "called by hand, give the rewards as op(inputs, Context(spec, fitness={dna: "
                "reward})) or rank by key="
            ) from None


class Operation(Object, type_name="symbo.algorithms.Operation"):
    """Base of operations: ``op(inputs, context) -> list``; subclasses implement
    :meth:`apply`. See the module docstring for the composition operators."""

    def apply(self, inputs: list[Any], context: Context) -> list[Any]:
        """The outputs for ``inputs`` (subclasses implement it)."""
        raise NotImplementedError

    def __call__(self, inputs: list[Any], context: Context | None = None) -> list[Any]:
        """``inputs`` transformed; without a ``context`` (as PyGlove's ``op(inputs)``), one
        with the inputs' spec, a fresh random generator and no rewards (rank with ``key=``)."""
        if not isinstance(inputs, list):
            inputs = list(inputs)
        if context is None:
            context = Context(getattr(inputs[0], "spec", None) if inputs else None)
        out = self.apply(inputs, context)
        return out if isinstance(out, list) else list(out)

    # ---- composition ----------------------------------------------------------------------
    def __rshift__(self, other: Any) -> Operation:
        return Pipeline([self, _operand(other)])

    def __rrshift__(self, other: Any) -> Operation:
        return Pipeline([_operand(other), self])

    def __add__(self, other: Any) -> Operation:
        return Concatenation([self, _operand(other)])

    def __radd__(self, other: Any) -> Operation:
        return Concatenation([_operand(other), self])

    def __or__(self, other: Any) -> Operation:
        return Union([self, _operand(other)])

    def __ror__(self, other: Any) -> Operation:
        return Union([_operand(other), self])

    def __and__(self, other: Any) -> Operation:
        return Intersection([self, _operand(other)])

    def __rand__(self, other: Any) -> Operation:
        return Intersection([_operand(other), self])

    def __sub__(self, other: Any) -> Operation:
        return Difference([self, _operand(other)])

    def __rsub__(self, other: Any) -> Operation:
        return Difference([_operand(other), self])

    def __mul__(self, k: int) -> Operation:
        return Repeat(self, k)

    def __pow__(self, k: int) -> Operation:
        return Power(self, k)

    def __getitem__(self, index: slice | int) -> Operation:
        if isinstance(index, int):
            index = slice(index, index + 1 if index != -1 else None)
        return Slice(self, index.start, index.stop, index.step)

    def with_prob(self, probability: float) -> Operation:
        """This operation with ``probability``; otherwise the input passes unchanged."""
        return Choice(self, probability)


def _operand(value: Any) -> Operation:
    if isinstance(value, Operation):
        return value
    if callable(value):
        return Lambda(value)
    raise SymbolicTypeError(
        f"operations compose with operations or functions fn(inputs[, context]), got "
        f"{type(value).__name__} {value!r:.60}")


class Identity(Operation, type_name="symbo.algorithms.Identity"):
    """The input, unchanged."""

    def apply(self, inputs: list[Any], context: Context) -> list[Any]:
        return list(inputs)


class Lambda(Operation, type_name="symbo.algorithms.Lambda"):
    """An operation made of a function ``fn(inputs)`` or ``fn(inputs, context)``."""

    fn: Callable[..., Any]

    def _on_bound(self) -> None:
        try:
            params = [p for p in inspect.signature(self.fn).parameters.values()
                      if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        except (TypeError, ValueError):
            params = []
        self._takes_context = len(params) >= 2

    def apply(self, inputs: list[Any], context: Context) -> list[Any]:
        out = self.fn(inputs, context) if self._takes_context else self.fn(inputs)
        return list(out)


class Pipeline(Operation, type_name="symbo.algorithms.Pipeline"):
    """Each operation applied to the previous one's output."""

    ops: list[Operation]

    def apply(self, inputs: list[Any], context: Context) -> list[Any]:
        for op in self.ops:
            inputs = op(inputs, context)
        return inputs

    def __rshift__(self, other: Any) -> Operation:  # keep pipelines flat: a >> b >> c
        return Pipeline([*self.ops, _operand(other)])


class Concatenation(Operation, type_name="symbo.algorithms.Concatenation"):
    """Every operation applied to the same input; their outputs one after another."""

    ops: list[Operation]

    def apply(self, inputs: list[Any], context: Context) -> list[Any]:
        out: list[Any] = []
        for op in self.ops:
            out.extend(op(inputs, context))
        return out


class Union(Operation, type_name="symbo.algorithms.Union"):
    """The outputs of every operation on the same input, without repeats (first seen first)."""

    ops: list[Operation]

    def apply(self, inputs: list[Any], context: Context) -> list[Any]:
        return _unique(x for op in self.ops for x in op(inputs, context))


class Intersection(Operation, type_name="symbo.algorithms.Intersection"):
    """What every operation outputs for the same input (in the first one's order)."""

    ops: list[Operation]

    def apply(self, inputs: list[Any], context: Context) -> list[Any]:
        outputs = [op(inputs, context) for op in self.ops]
        rest = [set(o) for o in outputs[1:]]
        return _unique(x for x in outputs[0] if all(x in r for r in rest))


class Difference(Operation, type_name="symbo.algorithms.Difference"):
    """The first operation's output without what the others output (same input)."""

    ops: list[Operation]

    def apply(self, inputs: list[Any], context: Context) -> list[Any]:
        outputs = [op(inputs, context) for op in self.ops]
        drop = {x for o in outputs[1:] for x in o}
        return [x for x in outputs[0] if x not in drop]


class Repeat(Operation, type_name="symbo.algorithms.Repeat"):
    """``op`` applied ``k`` times to the same input; the outputs concatenated."""

    op: Operation
    k: int = field(1, check=lambda v: v >= 0, message="k must be >= 0")

    def apply(self, inputs: list[Any], context: Context) -> list[Any]:
        out: list[Any] = []
        for _ in range(self.k):
            out.extend(self.op(inputs, context))
        return out


class Power(Operation, type_name="symbo.algorithms.Power"):
    """``op`` applied ``k`` times in a row (``op >> op >> ...``)."""

    op: Operation
    k: int = field(1, check=lambda v: v >= 0, message="k must be >= 0")

    def apply(self, inputs: list[Any], context: Context) -> list[Any]:
        for _ in range(self.k):
            inputs = self.op(inputs, context)
        return inputs


class Slice(Operation, type_name="symbo.algorithms.Slice"):
    """A slice of ``op``'s output."""

    op: Operation
    start: int | None = None
    stop: int | None = None
    step: int | None = None

    def apply(self, inputs: list[Any], context: Context) -> list[Any]:
        return self.op(inputs, context)[self.start:self.stop:self.step]


class Choice(Operation, type_name="symbo.algorithms.Choice"):
    """``op`` with ``probability`` (drawn from the context's random generator), else the
    input unchanged."""

    op: Operation
    probability: float = field(0.5, check=lambda v: 0.0 <= v <= 1.0,
                               message="probability must be in [0, 1]")

    def apply(self, inputs: list[Any], context: Context) -> list[Any]:
        if context.rng.random() < self.probability:
            return self.op(inputs, context)
        return list(inputs)


def _unique(items: Any) -> list[Any]:
    seen: set[Any] = set()
    out = []
    for x in items:
        if x not in seen:
            seen.add(x)
            out.append(x)
    return out
