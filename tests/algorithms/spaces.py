"""Spaces shared by the algorithm tests: every kind of decision, nested."""

from __future__ import annotations

import symbo as sb


def mixed_space(*, nested: bool = True) -> sb.Dict:
    """Conditional choices, every many_of variant, permutate, linear/log floats and ints; with
    ``nested``, also a one-candidate choice and decisions under many_of positions."""
    space = sb.Dict(
        opt=sb.one_of([
            "adam",
            sb.Dict(momentum=sb.float_range(0.0, 0.9), nesterov=sb.one_of([True, False])),
            sb.Dict(decay=sb.float_range(1e-5, 1e-1, scale="log"), steps=sb.int_range(1, 1000)),
        ]),
        blocks=sb.many_of(2, ["conv", sb.Dict(pool=sb.one_of(["max", "avg"])), "skip"],
                          sorted=True),
        heads=sb.many_of(3, [1, sb.Dict(w=sb.int_range(2, 5))], distinct=False),
        bag=sb.many_of(2, ["a", "b", "c"], distinct=False, sorted=True),
        picks=sb.many_of(2, ["p", "q", "r", "s"]),
        order=sb.permutate([1, 2, 3]),
        lr=sb.float_range(1e-4, 1e-1, scale="log"),
        depth=sb.int_range(1, 5),
        width=sb.int_range(8, 512, scale="log"),
    )
    if nested:
        space["single"] = sb.one_of(["only"])
        space["nested"] = sb.one_of([
            "flat",
            sb.Dict(m=sb.many_of(2, [
                sb.Dict(q=sb.float_range(0.0, 1.0),
                        r=sb.one_of([1, sb.Dict(s=sb.int_range(0, 3),
                                                p=sb.permutate(["a", "b", "c"]))])),
                "z", "y"])),
        ])
    return space


def arbitrary_reward(dna: sb.DNA) -> float:
    """A deterministic reward that depends on every decision."""
    return float(sum(v for v in dna.to_numbers()) % 7)
