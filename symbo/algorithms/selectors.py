"""Selectors: operations that pick items of their input (``sb.algorithms.selectors``).

``n`` says how many: an int, a float in ``(0, 1]`` (that share of the input, rounded up) or
None (as many as the input). Selectors that keep a part of their input in order (``First``,
``Last``, ``Top``, ``Bottom``) keep at most ``n`` (a population smaller than ``n`` is kept
whole, as a slice would); ``Random`` draws exactly ``n``, and asking it for more than the
input holds is an error (unless ``replacement=True``). Ranking selectors (``Top``, ``Bottom``,
``Sample``, ``Proportional``) rank by reward (higher is better) from the context, or by
``key(dna)``; with several objectives ``Top``/``Bottom`` rank by Pareto rank. ``seed`` gives a
selector its own random generator (default: the algorithm's, from the context).

>>> import random
>>> import symbo as sb
>>> from symbo.algorithms import selectors
>>> from symbo.algorithms.operations import Context
>>> spec = sb.dna_spec(sb.Dict(x=sb.int_range(0, 9)))
>>> dnas = [sb.DNA.from_numbers(spec, [v]) for v in (3, 7, 1, 9)]
>>> context = Context(spec, random.Random(0), fitness={d: float(d.value or d.children[0].value)
...                                                    for d in dnas})
>>> [d.to_numbers() for d in selectors.Top(2)(dnas, context)]
[[9], [7]]
>>> [d.to_numbers() for d in selectors.Last(1)(dnas, context)]
[[9]]
>>> try:
...     selectors.Random(5)(dnas, context)
... except sb.SymbolicValueError as e:
...     print(e)
Random(5): cannot select 5 of 4 inputs; ask for at most 4, a share (a float) or replacement=True
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from typing import Any

from symbo.algorithms.base import pareto_ranks, scalar
from symbo.algorithms.operations import Context, Operation
from symbo.core import SymbolicValueError

__all__ = ["Bottom", "First", "Last", "Proportional", "Random", "Sample", "Selector", "Top"]


def _valid_n(n: Any) -> bool:
    if n is None:
        return True
    if isinstance(n, bool):
        return False
    if isinstance(n, int):
        return n >= 0
    return isinstance(n, float) and 0.0 < n <= 1.0


class Selector(Operation, type_name="symbo.algorithms.selectors.Selector"):
    """Base of selectors: subclasses implement ``select(inputs, context)``."""

    def select(self, inputs: list[Any], context: Context) -> list[Any]:
        raise NotImplementedError

    def apply(self, inputs: list[Any], context: Context) -> list[Any]:
        return self.select(inputs, context)

    def _count(self, n: Any, inputs: list[Any], replacement: bool = False,
               at_most: bool = False) -> int:
        if n is None:
            return len(inputs)
        if isinstance(n, float):
            return math.ceil(n * len(inputs))
        if at_most:
            return min(int(n), len(inputs))
        if n > len(inputs) and not replacement:
            raise SymbolicValueError(
                f"{type(self).__name__}({n}): cannot select {n} of {len(inputs)} inputs; ask "
                f"for at most {len(inputs)}, a share (a float) or replacement=True"
            )
        return int(n)

    def _rng(self, context: Context) -> random.Random:
        seed = getattr(self, "seed", None)
        if seed is None:
            return context.rng
        rng = self.__dict__.get("_own_rng")
        if rng is None:
            rng = self._own_rng = random.Random(seed)
        return rng


def _n_field(default: Any) -> Any:
    from symbo.core import field

    return field(default, check=_valid_n,
                 message="n must be an int >= 0, a float in (0, 1] or None")


def _scores(inputs: list[Any], context: Context, key: Callable[[Any], Any] | None) -> list[Any]:
    """Higher is better: ``key(x)``, the reward, or (several objectives) minus the Pareto rank."""
    if key is not None:
        return [key(x) for x in inputs]
    fitness = context.fitness
    try:
        rewards = [fitness[x] for x in inputs]
    except KeyError:
        rewards = [context.reward(x) for x in inputs]  # the error naming the DNA
    if context.num_objectives == 1:
        scores = []
        for r in rewards:
            if type(r) is tuple:
                if len(r) > 1:
                    break
                r = r[0]
            scores.append(float(r))
        else:
            return scores
    return [-r for r in pareto_ranks(rewards)]


class Random(Selector, type_name="symbo.algorithms.selectors.RandomSelector"):
    """``n`` items drawn at random (without replacement unless ``replacement=True``), in the
    order drawn. (It prints and serializes as ``RandomSelector``: ``Random`` is the random
    search algorithm.)"""

    n: int | float | None = _n_field(1)
    replacement: bool = False
    seed: int | None = None

    def select(self, inputs: list[Any], context: Context) -> list[Any]:
        n = self._count(self.n, inputs, self.replacement)
        rng = self._rng(context)
        if self.replacement:
            if n and not inputs:
                raise SymbolicValueError("Random(replacement=True) has no inputs to draw from")
            return [inputs[rng.randrange(len(inputs))] for _ in range(n)]
        return rng.sample(inputs, n)


class Top(Selector, type_name="symbo.algorithms.selectors.Top"):
    """The ``n`` best items (by reward, or ``key``), best first; ties keep the input order.
    ``cluster=True``: every item whose score is among the ``n`` best scores."""

    n: int | float | None = _n_field(1)
    key: Callable[[Any], Any] | None = None
    cluster: bool = False

    def select(self, inputs: list[Any], context: Context) -> list[Any]:
        return _ranked(self, inputs, context, best_first=True)


class Bottom(Selector, type_name="symbo.algorithms.selectors.Bottom"):
    """The ``n`` worst items (by reward, or ``key``), worst first (see :class:`Top`)."""

    n: int | float | None = _n_field(1)
    key: Callable[[Any], Any] | None = None
    cluster: bool = False

    def select(self, inputs: list[Any], context: Context) -> list[Any]:
        return _ranked(self, inputs, context, best_first=False)


def _ranked(sel: Any, inputs: list[Any], context: Context, best_first: bool) -> list[Any]:
    n = sel._count(sel.n, inputs, at_most=True)
    scores = _scores(inputs, context, sel.key)
    if n == 1 and not sel.cluster and inputs:  # a tournament's winner: the first best
        pick = max if best_first else min
        return [inputs[pick(range(len(inputs)), key=scores.__getitem__)]]
    order = sorted(range(len(inputs)), key=lambda i: scores[i], reverse=best_first)
    if not sel.cluster:
        return [inputs[i] for i in order[:n]]
    kept = sorted(set(scores), reverse=best_first)[:n]
    return [inputs[i] for i in order if scores[i] in kept]


class First(Selector, type_name="symbo.algorithms.selectors.First"):
    """The first ``n`` items."""

    n: int | float | None = _n_field(1)

    def select(self, inputs: list[Any], context: Context) -> list[Any]:
        return inputs[:self._count(self.n, inputs, at_most=True)]


class Last(Selector, type_name="symbo.algorithms.selectors.Last"):
    """The last ``n`` items (the newest of a population kept oldest first)."""

    n: int | float | None = _n_field(1)

    def select(self, inputs: list[Any], context: Context) -> list[Any]:
        n = self._count(self.n, inputs, at_most=True)
        return inputs[len(inputs) - n:] if n else []


class Sample(Selector, type_name="symbo.algorithms.selectors.Sample"):
    """``n`` items drawn with replacement, with probabilities proportional to
    ``weights(inputs) -> list[float]`` (default: the rewards, which must then be >= 0)."""

    n: int | float | None = _n_field(1)
    weights: Callable[[list[Any]], list[float]] | None = None
    seed: int | None = None

    def select(self, inputs: list[Any], context: Context) -> list[Any]:
        n = self._count(self.n, inputs, replacement=True)
        weights = _weights(self, inputs, context)
        return self._rng(context).choices(inputs, weights=weights, k=n) if n else []


class Proportional(Selector, type_name="symbo.algorithms.selectors.Proportional"):
    """``n`` items allotted in proportion to ``weights(inputs)`` (default: the rewards),
    deterministically: each item appears about ``n * w / sum(w)`` times, in input order."""

    n: int | float | None = _n_field(None)
    weights: Callable[[list[Any]], list[float]] | None = None

    def select(self, inputs: list[Any], context: Context) -> list[Any]:
        n = self._count(self.n, inputs, replacement=True)
        weights = _weights(self, inputs, context)
        total = sum(weights)
        allocation = [int(n * w / total + 0.5) for w in weights]
        extra = n - sum(allocation)
        order = sorted((i for i, w in enumerate(weights) if w > 0), key=lambda i: weights[i],
                       reverse=extra > 0)
        step = 1 if extra > 0 else -1
        j = 0
        while extra:
            i = order[j % len(order)]
            if step > 0 or allocation[i] > 0:
                allocation[i] += step
                extra -= step
            j += 1
        return [x for x, count in zip(inputs, allocation) for _ in range(count)]


def _weights(sel: Any, inputs: list[Any], context: Context) -> list[float]:
    if not inputs:
        raise SymbolicValueError(f"{type(sel).__name__} has no inputs to draw from")
    if sel.weights is not None:
        weights = [float(w) for w in sel.weights(inputs)]
    else:
        weights = [scalar(context.reward(x)) for x in inputs]
    if len(weights) != len(inputs) or any(w < 0 or math.isnan(w) for w in weights) or \
            sum(weights) <= 0:
        raise SymbolicValueError(
            f"{type(sel).__name__}: weights must be one non-negative number per input with a "
            f"positive sum, got {weights[:8]}{'...' if len(weights) > 8 else ''} (rewards can "
            "be negative: pass weights=)"
        )
    return weights
