"""Mutators: small composable parts that evolutionary algorithms are built from.

A ``Mutator`` turns one DNA into a nearby DNA of the same spec (``mutate(dna, spec, rng)``);
as an :class:`~symbo.algorithms.operations.Operation` it mutates each DNA of its input, so it
composes with selectors (``Top(1) >> Uniform()``). Crossovers live in
:mod:`symbo.algorithms.recombinators` (``Crossover`` and ``UniformCrossover`` are re-exported
here). All are symbolic objects, so an algorithm holding them serializes (and can be
searched) with its parts, and all return valid DNA for the spec, with the spec attached.

>>> import random
>>> import symbo as sb
>>> from symbo.algorithms.mutation import Uniform, UniformCrossover
>>> spec = sb.dna_spec(sb.Dict(act=sb.one_of(["relu", "gelu", "tanh"]), depth=sb.int_range(1, 8)))
>>> parent = sb.DNA.from_numbers(spec, [0, 4])
>>> child = Uniform().mutate(parent, spec, random.Random(0))
>>> child != parent, sb.DNA.from_numbers(spec, child.to_numbers()) == child
(True, True)
>>> other = sb.DNA.from_numbers(spec, [2, 8])
>>> UniformCrossover().cross(parent, other, spec, random.Random(1)).to_numbers() in (
...     [0, 4], [0, 8], [2, 4], [2, 8])
True
"""

from __future__ import annotations

import random
from typing import Any

from symbo.algorithms.operations import Context, Operation
from symbo.core import SymbolicValueError, field
from symbo.dsl import DNA, Choice, DecisionPoint, Decisions, DNASpec

Path = tuple[int, ...]
Seed = random.Random | int | None


def _as_rng(rng: Seed) -> random.Random:
    return rng if isinstance(rng, random.Random) else random.Random(rng)


class Mutator(Operation, type_name="symbo.algorithms.Mutator"):
    """Base of mutators: ``mutate(dna, spec, rng)`` returns a valid DNA of ``spec`` near ``dna``.

    Subclass it and implement ``mutate`` for a custom mutation; draw every random number from
    ``rng`` so that searches stay reproducible.

    >>> import symbo as sb
    >>> from symbo.algorithms.mutation import Mutator
    >>> class FirstCandidate(Mutator):
    ...     '''Sets every top-level choice to its first candidate (a toy).'''
    ...     def mutate(self, dna, spec, rng=None):
    ...         return sb.DNA.from_numbers(spec, [0] * len(spec.decisions))
    >>> spec = sb.dna_spec(sb.Dict(a=sb.one_of([1, 2]), b=sb.one_of([3, 4])))
    >>> FirstCandidate().mutate(sb.DNA.from_numbers(spec, [1, 1]), spec)
    DNA([0, 0])
    """

    def mutate(self, dna: DNA, spec: DNASpec, rng: Seed = None) -> DNA:
        """A DNA of ``spec`` derived from ``dna``."""
        raise NotImplementedError

    def apply(self, inputs: list[Any], context: Context) -> list[Any]:
        """Each input mutated (as an operation)."""
        return [self.mutate(d, context.spec, context.rng) for d in inputs]


class Uniform(Mutator, type_name="symbo.algorithms.Uniform"):
    """Re-samples one active decision, chosen uniformly among those that can change.

    Active decisions are the top-level ones, those under chosen candidates and those under each
    position of a ``many_of``. The chosen decision changes as follows:

    * ``one_of``: another candidate; its sub-decisions are sampled afresh.
    * ``many_of``/``permutate``: one position gets another candidate (distinct and sorted
      respected), or, when the order matters and choices are distinct, two positions swap.
    * ``float_range``: a Gaussian step of ``sigma`` in unit space (log space for log scales),
      clipped to the range; with probability ``reset_prob`` a fresh uniform value instead.
    * ``int_range``: a step of at most ``int_step`` either way (for log scales, a Gaussian
      step in log space, rounded); with probability ``reset_prob`` a fresh uniform value.

    The child always differs from the parent, unless the space has a single point (then the
    parent is returned).

    >>> import random
    >>> import symbo as sb
    >>> from symbo.algorithms.mutation import Uniform
    >>> spec = sb.dna_spec(sb.Dict(lr=sb.float_range(1e-4, 1e-1, scale="log")))
    >>> parent = sb.DNA.from_numbers(spec, [1e-2])
    >>> child = Uniform(sigma=0.05, reset_prob=0.0).mutate(parent, spec, random.Random(0))
    >>> child != parent and 1e-4 <= child.to_numbers()[0] <= 1e-1
    True
    """

    sigma: float = field(0.1, doc="std of the Gaussian step of ranges, in unit space",
                         check=lambda v: v > 0, message="sigma must be > 0")
    reset_prob: float = field(0.1, doc="probability to re-sample a range uniformly",
                              check=lambda v: 0.0 <= v <= 1.0,
                              message="reset_prob must be in [0, 1]")
    int_step: int = field(1, doc="largest step of a linear int_range",
                          check=lambda v: v >= 1, message="int_step must be >= 1")

    def mutate(self, dna: DNA, spec: DNASpec, rng: Seed = None) -> DNA:
        rng = _as_rng(rng)
        sites: list[tuple[Path, DecisionPoint]] = []
        _active(spec.space, dna, (), sites)
        if not sites:
            return DNA(None, dna.children, spec)
        path, d = sites[rng.randrange(len(sites))]
        new = d.mutate(_get(dna, path), rng, self)  # each kind of decision mutates itself
        return DNA(None, _replace(dna, path, new).children, spec)


class Swap(Mutator, type_name="symbo.algorithms.Swap"):
    """Swaps two positions of one permutation-like decision (a ``permutate``, or a
    ``many_of`` whose picks are distinct and unsorted), chosen at random among the active ones.

    >>> import random
    >>> import symbo as sb
    >>> from symbo.algorithms.mutation import Swap
    >>> spec = sb.dna_spec(sb.Dict(tour=sb.permutate(["a", "b", "c", "d"])))
    >>> parent = sb.DNA.from_numbers(spec, [0, 1, 2, 3])
    >>> child = Swap().mutate(parent, spec, random.Random(0))
    >>> sorted(child.to_numbers()) == [0, 1, 2, 3] and child != parent
    True
    """

    def mutate(self, dna: DNA, spec: DNASpec, rng: Seed = None) -> DNA:
        rng = _as_rng(rng)
        sites: list[tuple[Path, DecisionPoint]] = []
        _active(spec.space, dna, (), sites)
        sites = [(p, d) for p, d in sites if _permutation_like(d)]
        if not sites:
            raise SymbolicValueError(
                "Swap mutates permutations: the space has no active permutate (or many_of with "
                "distinct, unsorted picks) decision; use Uniform() for other decisions"
            )
        path, _ = sites[rng.randrange(len(sites))]
        picks = list(_get(dna, path).children)
        i, j = rng.sample(range(len(picks)), 2)
        picks[i], picks[j] = picks[j], picks[i]
        return DNA(None, _replace(dna, path, DNA(None, tuple(picks))).children, spec)


def _permutation_like(d: DecisionPoint) -> bool:
    return isinstance(d, Choice) and d.num_choices > 1 and d.distinct and not d.sorted


# ---- helpers ---------------------------------------------------------------------------------
def _active(space: Decisions, dna: DNA, path: Path, out: list[tuple[Path, DecisionPoint]]) -> None:
    """Lists (path in the DNA tree, decision) for every active decision that can change."""
    for k, (d, child) in enumerate(zip(space.decisions, dna.children, strict=True)):
        p = path + (k,)
        if d.can_change:
            out.append((p, d))
        if d.positions == 1:
            if child.children:
                _active(d.branch(child.value), child, p, out)
        else:
            for j, pick in enumerate(child.children):
                if pick.children:
                    _active(d.branch(pick.value), pick, p + (j,), out)


def _get(dna: DNA, path: Path) -> DNA:
    for k in path:
        dna = dna.children[k]
    return dna


def _replace(dna: DNA, path: Path, new: DNA) -> DNA:
    if not path:
        return new
    children = list(dna.children)
    children[path[0]] = _replace(children[path[0]], path[1:], new)
    return DNA(dna.value, tuple(children))


# Crossovers moved to recombinators.py; the old names keep working.
from symbo.algorithms.recombinators import Crossover, UniformCrossover  # noqa: E402

__all__ = ["Crossover", "Mutator", "Swap", "Uniform", "UniformCrossover"]
