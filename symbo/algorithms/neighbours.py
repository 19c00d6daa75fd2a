"""One-edit neighbours of a DNA: every DNA that differs from it in one decision.

For a ``one_of``: each other candidate (its sub-decisions drawn at random); for a
``many_of``: one position changed to another candidate (``distinct`` and ``sorted``
respected), or two positions swapped when the order matters; for an ``int_range``: one step
down or up. The sub-decisions of the chosen candidates have neighbours of their own. In a DAG
cell (``sb.dag_cell``) these are the edits of the cell's graph: one op replaced, or one input
edge moved to another state. Float ranges have no finite neighbourhood (algorithms that use
this module need finite spaces).

>>> import random
>>> import symbo as sb
>>> from symbo.algorithms.neighbours import neighbours
>>> spec = sb.dna_spec(sb.Dict(a=sb.one_of([1, 2, 3]), n=sb.int_range(0, 5)))
>>> sorted(d.to_numbers() for d in neighbours(spec, sb.DNA([0, 0]), random.Random(0)))
[[0, 1], [1, 0], [2, 0]]
"""

from __future__ import annotations

import itertools
import random

from symbo.algorithms.base import AlgorithmError
from symbo.dsl import DNA, DNASpec
from symbo.dsl.dna import normalized
from symbo.dsl.spec import Choice, DecisionPoint, Decisions, IntDecision


def neighbours(spec: DNASpec, dna: DNA, rng: random.Random) -> list[DNA]:
    """The distinct one-edit neighbours of ``dna`` (see the module docstring), in a fixed
    order for a given ``rng`` state."""
    dna = normalized(spec, dna)
    out = [DNA(None, children, spec) for children in _space(spec.space, dna.children, rng)]
    seen = {dna}
    unique = []
    for d in out:
        if d not in seen:
            seen.add(d)
            unique.append(d)
    return unique


def _space(space: Decisions, children: tuple[DNA, ...], rng: random.Random) -> list[tuple]:
    out = []
    for j, (d, child) in enumerate(zip(space.decisions, children)):
        for alt in _decision(d, child, rng):
            out.append(children[:j] + (alt,) + children[j + 1:])
    return out


def _decision(d: DecisionPoint, dna: DNA, rng: random.Random) -> list[DNA]:
    if isinstance(d, Choice):
        return _choice(d, dna, rng)
    if isinstance(d, IntDecision):
        v = int(dna.value)  # type: ignore[arg-type]
        return [DNA(v + s) for s in (-1, 1) if d.low <= v + s <= d.high]
    raise AlgorithmError(f"{d.id}: a {type(d).__name__} has no finite one-edit neighbourhood "
                         "(local search needs choices and int ranges)")


def _choice(d: Choice, dna: DNA, rng: random.Random) -> list[DNA]:
    n = d.num_candidates
    if d.num_choices == 1:
        v = dna.value
        out = [d.fresh(i, rng) for i in range(n) if i != v]
        sub = d.candidates[v].space  # type: ignore[index]
        out.extend(DNA(v, children) for children in _space(sub, dna.children, rng))
        return out
    picks = list(d.picks(dna))
    values = [p.value for p in picks]
    out = []
    for j, pick in enumerate(picks):
        for i in range(n):
            if i == values[j] or (d.distinct and i in values):
                continue
            out.append(_join(d, picks[:j] + [d.fresh(i, rng)] + picks[j + 1:]))
        sub = d.candidates[pick.value].space  # type: ignore[index]
        for children in _space(sub, pick.children, rng):
            out.append(_join(d, picks[:j] + [DNA(pick.value, children)] + picks[j + 1:]))
    if not d.sorted:
        for a, b in itertools.combinations(range(len(picks)), 2):
            if values[a] != values[b]:
                swapped = list(picks)
                swapped[a], swapped[b] = picks[b], picks[a]
                out.append(_join(d, swapped))
    return out


def _join(d: Choice, picks: list[DNA]) -> DNA:
    if d.sorted:
        picks = sorted(picks, key=lambda p: p.value)  # type: ignore[arg-type,return-value]
    return DNA(None, tuple(picks))
