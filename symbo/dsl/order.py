"""The enumeration order of a choice's picks: itertools' lexicographic order of index tuples
(combinations, permutations, combinations with replacement, products), with successors
computed directly so that ``next_dna`` need not enumerate from the start.

>>> from symbo.dsl.order import _first_indices, _next_indices
>>> _first_indices(3, 2, True, True), _next_indices([0, 2], 3, True, True)
([0, 1], [1, 2])
>>> _next_indices([2, 1], 3, True, False) is None
True
"""

from __future__ import annotations


def _allowed(prefix: list[int], v: int, distinct: bool, sorted_: bool) -> bool:
    if distinct and v in prefix:
        return False
    if sorted_ and prefix and v < prefix[-1]:
        return False
    return True


def _completion(prefix: list[int], k: int, n: int, distinct: bool, sorted_: bool
                ) -> list[int] | None:
    """The smallest valid indices for the positions after ``prefix`` (None when none)."""
    out = list(prefix)
    while len(out) < k:
        v = next((v for v in range(n) if _allowed(out, v, distinct, sorted_)), None)
        if v is None:
            return None
        out.append(v)
    return out


def _first_indices(n: int, k: int, distinct: bool, sorted_: bool) -> list[int]:
    first = _completion([], k, n, distinct, sorted_)
    assert first is not None
    return first


def _next_indices(indices: list[int], n: int, distinct: bool, sorted_: bool) -> list[int] | None:
    """The candidate indices after ``indices`` in lexicographic order (itertools' order of
    combinations, permutations, combinations with replacement and products)."""
    k = len(indices)
    for j in range(k - 1, -1, -1):
        prefix = indices[:j]
        for v in range(indices[j] + 1, n):
            if _allowed(prefix, v, distinct, sorted_):
                rest = _completion(prefix + [v], k, n, distinct, sorted_)
                if rest is not None:
                    return rest
    return None
