"""Mutators and crossovers: small composable parts that evolutionary algorithms are built from.

A ``Mutator`` turns one DNA into a nearby DNA of the same spec; a ``Crossover`` combines two.
Both are symbolic objects, so an algorithm holding them serializes (and can be searched) with
its parts. Both always return valid DNA for the spec, with the spec attached.

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

from symbo.core import Object, field
from symbo.dsl.dna import DNA
from symbo.dsl.encoding import from_unit, to_unit
from symbo.dsl.materialize import random_decision
from symbo.dsl.spec import Choice, DecisionPoint, DNASpec, FloatDecision, IntDecision, Space

Path = tuple[int, ...]
Seed = random.Random | int | None


def _as_rng(rng: Seed) -> random.Random:
    return rng if isinstance(rng, random.Random) else random.Random(rng)


class Mutator(Object, type_name="symbo.algorithms.Mutator"):
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
        node = _get(dna, path)
        if isinstance(d, Choice):
            new = _mutate_one_of(d, node, rng) if d.num_choices == 1 else _mutate_many(d, node, rng)
        elif isinstance(d, FloatDecision):
            new = self._mutate_float(d, node.value, rng)  # type: ignore[arg-type]
        else:
            new = self._mutate_int(d, node.value, rng)  # type: ignore[arg-type]
        return DNA(None, _replace(dna, path, new).children, spec)

    def _mutate_float(self, d: FloatDecision, value: float, rng: random.Random) -> DNA:
        for _ in range(20):
            if rng.random() < self.reset_prob:
                new = random_decision(d, rng).value
            else:
                u = to_unit(d, value) + rng.gauss(0.0, self.sigma)
                new = from_unit(d, min(max(u, 0.0), 1.0))
            if new != value:
                return DNA(new)
        return DNA(d.high if value != d.high else d.low)

    def _mutate_int(self, d: IntDecision, value: int, rng: random.Random) -> DNA:
        if rng.random() < self.reset_prob:
            new = rng.randint(d.low, d.high - 1)
            return DNA(new + 1 if new >= value else new)
        if d.scale == "log":
            u = to_unit(d, value) + rng.gauss(0.0, self.sigma)
            new = int(from_unit(d, min(max(u, 0.0), 1.0)))
            if new != value:
                return DNA(new)
            steps = [s for s in (-1, 1) if d.low <= value + s <= d.high]
        else:
            steps = [s for s in range(-self.int_step, self.int_step + 1)
                     if s != 0 and d.low <= value + s <= d.high]
        return DNA(value + steps[rng.randrange(len(steps))])


class Crossover(Object, type_name="symbo.algorithms.Crossover"):
    """Base of crossovers: ``cross(a, b, spec, rng)`` returns a valid DNA mixing two parents.

    >>> import symbo as sb
    >>> from symbo.algorithms.mutation import Crossover
    >>> class TakeFirst(Crossover):
    ...     def cross(self, a, b, spec, rng=None):
    ...         return a
    >>> spec = sb.dna_spec(sb.Dict(a=sb.one_of([1, 2])))
    >>> TakeFirst().cross(sb.DNA.from_numbers(spec, [0]), sb.DNA.from_numbers(spec, [1]), spec)
    DNA([0])
    """

    def cross(self, a: DNA, b: DNA, spec: DNASpec, rng: Seed = None) -> DNA:
        """A DNA of ``spec`` made of parts of ``a`` and ``b``."""
        raise NotImplementedError


class UniformCrossover(Crossover, type_name="symbo.algorithms.UniformCrossover"):
    """Per top-level decision, takes the whole subtree from one parent (``b`` with ``prob``).

    With ``deep=True``, where both parents chose the same candidate of a ``one_of``, the
    decisions under it are crossed the same way instead of taken whole.

    >>> import random
    >>> import symbo as sb
    >>> from symbo.algorithms.mutation import UniformCrossover
    >>> spec = sb.dna_spec(sb.List([sb.one_of([0, 1]) for _ in range(6)]))
    >>> a, b = sb.DNA.from_numbers(spec, [0] * 6), sb.DNA.from_numbers(spec, [1] * 6)
    >>> child = UniformCrossover().cross(a, b, spec, random.Random(3))
    >>> sorted(set(child.to_numbers()))
    [0, 1]
    """

    prob: float = field(0.5, doc="probability to take a decision from the second parent",
                        check=lambda v: 0.0 <= v <= 1.0, message="prob must be in [0, 1]")
    deep: bool = True

    def cross(self, a: DNA, b: DNA, spec: DNASpec, rng: Seed = None) -> DNA:
        rng = _as_rng(rng)
        return DNA(None, self._cross_space(spec.space, a, b, rng), spec)

    def _cross_space(self, space: Space, a: DNA, b: DNA, rng: random.Random) -> tuple[DNA, ...]:
        out = []
        for d, x, y in zip(space.decisions, a.children, b.children, strict=True):
            if (self.deep and isinstance(d, Choice) and d.num_choices == 1 and x.value == y.value
                    and d.candidates[x.value].space.decisions):  # type: ignore[index]
                sub = d.candidates[x.value].space  # type: ignore[index]
                out.append(DNA(x.value, self._cross_space(sub, x, y, rng)))
            else:
                out.append(y if rng.random() < self.prob else x)
        return tuple(out)


# ---- helpers ---------------------------------------------------------------------------------
def _active(space: Space, dna: DNA, path: Path, out: list[tuple[Path, DecisionPoint]]) -> None:
    """Lists (path in the DNA tree, decision) for every active decision that can change."""
    for k, (d, child) in enumerate(zip(space.decisions, dna.children, strict=True)):
        p = path + (k,)
        if isinstance(d, Choice):
            if _can_change(d):
                out.append((p, d))
            if d.num_choices == 1:
                _active(d.candidates[child.value].space, child, p, out)  # type: ignore[index]
            else:
                for j, pick in enumerate(child.children):
                    _active(d.candidates[pick.value].space, pick, p + (j,), out)  # type: ignore[index]
        elif d.high > d.low:
            out.append((p, d))


def _can_change(d: Choice) -> bool:
    n, k = len(d.candidates), d.num_choices
    if k == 1 or not d.distinct:
        return n >= 2
    return n > k or not d.sorted  # replace with an unused candidate, or swap two positions


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


def _fresh(d: Choice, index: int, rng: random.Random) -> DNA:
    """Candidate ``index`` of ``d`` with freshly sampled sub-decisions."""
    return DNA(index, tuple(random_decision(s, rng) for s in d.candidates[index].space.decisions))


def _other(n: int, exclude: set[int], rng: random.Random) -> int:
    choices = [i for i in range(n) if i not in exclude]
    return choices[rng.randrange(len(choices))]


def _mutate_one_of(d: Choice, node: DNA, rng: random.Random) -> DNA:
    return _fresh(d, _other(len(d.candidates), {node.value}, rng), rng)  # type: ignore[arg-type]


def _mutate_many(d: Choice, node: DNA, rng: random.Random) -> DNA:
    picks = list(node.children)
    indices = [p.value for p in picks]
    n, k = len(d.candidates), d.num_choices
    if d.distinct:
        can_replace, can_swap = n > k, not d.sorted
        if can_replace and (not can_swap or rng.random() < 0.5):
            j = rng.randrange(k)
            picks[j] = _fresh(d, _other(n, set(indices), rng), rng)  # type: ignore[arg-type]
        else:
            a, b = rng.sample(range(k), 2)
            picks[a], picks[b] = picks[b], picks[a]
    else:
        j = rng.randrange(k)
        picks[j] = _fresh(d, _other(n, {indices[j]}, rng), rng)  # type: ignore[arg-type]
    if d.sorted:
        picks.sort(key=lambda p: p.value)  # type: ignore[arg-type,return-value]
    return DNA(None, tuple(picks))
