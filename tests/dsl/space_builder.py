"""Deterministic random spaces for property tests that cross processes.

``build(seed)`` makes the same space in every process from a seed: nested ``sb.Dict``/``sb.List``
/``Layer`` objects with markers (some under one shared name, also under exclusive candidates and
inside tuples), functions, classes and partials given as values. Another process that imports
this module builds an equal space, whose fingerprint must be equal.
"""

from __future__ import annotations

import functools
import random
from typing import Any

import symbo as sb


def relu(x: float) -> float:
    return max(x, 0.0)


def tanh_like(x: float) -> float:
    return x / (1 + abs(x))


class Projection:
    """A plain class given to a space as a value (not an instance)."""

    def __init__(self, width: int = 4) -> None:
        self.width = width


class Layer(sb.Object):
    act: Any = relu
    width: int = 8
    extra: Any = None


VALUES = [relu, tanh_like, Projection, functools.partial(Projection, width=2), max, "x", 3, 2.5,
          None, True, (1, 2)]


def build(seed: int) -> Any:
    """The space of ``seed`` (a shared marker named ``"shared"`` stands in 2 to 4 places)."""
    rng = random.Random(seed)
    shared = _marker(rng, depth=1, name="shared")
    places = rng.randint(2, 4)
    parts = {f"p{i}": _value(rng, 2) for i in range(rng.randint(1, 3))}
    for i in range(places):
        where = rng.randrange(3)
        if where == 0:
            parts[f"s{i}"] = sb.clone(shared)
        elif where == 1:  # under exclusive candidates
            parts[f"s{i}"] = sb.one_of([Layer(act=sb.clone(shared)), sb.Dict(x=sb.clone(shared)),
                                        "none"], name=f"c{i}")
        else:  # inside a tuple
            parts[f"s{i}"] = (sb.clone(shared), rng.choice(VALUES))
    return sb.Dict(parts)


def _value(rng: random.Random, depth: int) -> Any:
    kind = rng.randrange(5 if depth > 0 else 2)
    if kind == 0:
        return rng.choice(VALUES)
    if kind == 1:
        return _marker(rng, depth)
    if kind == 2:
        return sb.List([_value(rng, depth - 1) for _ in range(rng.randint(0, 2))])
    if kind == 3:
        return sb.Dict({k: _value(rng, depth - 1) for k in rng.sample("abcd", rng.randint(0, 2))})
    return Layer(act=rng.choice([relu, tanh_like]), width=rng.choice([4, 8]),
                 extra=_value(rng, depth - 1))


def _marker(rng: random.Random, depth: int, name: str | None = None) -> Any:
    kind = rng.randrange(4)
    if kind == 0:
        return sb.float_range(0.1, 1.0, scale=rng.choice(["linear", "log"]), name=name)
    if kind == 1:
        return sb.int_range(1, rng.randint(2, 6), name=name)
    candidates = [rng.choice(VALUES) for _ in range(rng.randint(1, 3))]
    if depth > 0 and rng.random() < 0.5:
        candidates.append(sb.Dict(inner=_marker(rng, depth - 1)))
    if kind == 2 or len(candidates) < 2:
        return sb.one_of(candidates, name=name)
    return sb.many_of(2, candidates, distinct=False, name=name)
