"""``sb.CustomHyper``: user-defined decision points (PyGlove's ``pg.hyper.CustomHyper``).

When the built-in markers cannot express a space (a variable-length sequence, a graph, a
program), subclass ``CustomHyper``: its DNA is a **string** of your own making (a genome), and
you say how a genome becomes a value (``custom_decode``) and, as far as you need them, how a
value becomes a genome (``custom_encode``, for ``sb.encode``), how to draw a random genome or a
variation of one (``random_dna(rng, previous_dna)``: sampling and mutation), and the order of
genomes (``next_dna``: ``sb.iterate``, ``Grid``).

**How algorithms see it.** A custom decision is a :class:`CustomDecision` point: algorithms that
work through the decision-point protocol (``Random``, ``RegularizedEvolution``, ``HillClimb``,
and ``Grid`` when ``next_dna`` is defined) handle it; model-based ones (TPE, GP-BO, MCTS) need
numbers or categories and refuse such a space at ``setup`` with an error that says which can.

>>> import random
>>> import symbo as sb
>>> class Digits(sb.CustomHyper):
...     '''A non-empty string of digits whose value is their list.'''
...     def custom_decode(self, dna):
...         return [int(c) for c in dna.value]
...     def custom_encode(self, value):
...         return sb.DNA("".join(str(v) for v in value))
...     def random_dna(self, rng=None, previous_dna=None):
...         rng = rng or random
...         if previous_dna is None:
...             return sb.DNA(str(rng.randrange(10)))
...         genome = previous_dna.value
...         i = rng.randrange(len(genome))
...         return sb.DNA(genome[:i] + str(rng.randrange(10)) + genome[i:])  # one digit more
>>> space = sb.Dict(digits=Digits(name="digits"), scale=sb.one_of([1, 10]))
>>> program = sb.materialize(space, sb.DNA(["123", 1]))
>>> program.digits, program.scale, sb.encode(space, program)
(List([1, 2, 3]), 10, DNA(['123', 1]))
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator
from typing import Any

import attrs

from symbo.core import KeyPath
from symbo.core.formatting import type_label
from symbo.dsl.dna import DNA, DNAError
from symbo.dsl.markers import Marker, NoFit, encode_alone
from symbo.dsl.points import DecisionPoint, Decisions

__all__ = ["CustomDecision", "CustomHyper"]


class CustomHyper(Marker, type_name="symbo.CustomHyper"):
    """Base of user-defined decision points; see the module docstring.

    Subclasses implement :meth:`custom_decode` and, as needed, :meth:`custom_encode`,
    :meth:`random_dna` and :meth:`next_dna`. Fields declared on the subclass are its settings
    (it is a symbolic object: it prints, compares and serializes like any other marker).
    """

    def custom_decode(self, dna: DNA) -> Any:
        """The value a (string) genome stands for."""
        raise NotImplementedError(f"{type(self).__name__} must implement custom_decode(dna)")

    def custom_encode(self, value: Any) -> DNA:
        """The genome of a value (needed by ``sb.encode``)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement custom_encode()")

    def random_dna(self, rng: random.Random | None = None,
                   previous_dna: DNA | None = None) -> DNA:
        """A random genome, or (with ``previous_dna``) a variation of that one (mutation)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement random_dna()")

    def next_dna(self, dna: DNA | None = None) -> DNA | None:
        """The genome after ``dna`` (the first for None) in an order of your choosing, or None
        after the last (needed to enumerate the space)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement next_dna()")

    def first_dna(self) -> DNA:
        """The first genome (``next_dna(None)``)."""
        dna = self.next_dna(None)
        if dna is None:
            raise DNAError(f"{type(self).__name__}.next_dna(None) gave no first genome")
        return dna

    # ---- the marker protocol ---------------------------------------------------------------
    def decision_point(self, id: str, location: KeyPath, branches: tuple[Decisions, ...],  # noqa: A002
                       occurrences: tuple[str, ...]) -> DecisionPoint:
        return CustomDecision(id, location, self.name, hyper=self, occurrences=occurrences)

    def decode(self, dna: DNA, branch: Callable[[int, DNA], Any]) -> Any:
        if not isinstance(dna.value, str):
            raise DNAError(f"{type(self).__name__} decodes string genomes, got {dna!r}")
        return self.custom_decode(dna)

    def encode(self, value: Any,
               fits: Callable[[int, Any], tuple[DNA, ...] | None] | None = None) -> DNA:
        if fits is None:  # PyGlove's hyper.encode(value)
            return encode_alone(self, value)
        try:
            dna = self.custom_encode(value)
        except NotImplementedError as e:
            raise NoFit(str(e)) from None
        if not isinstance(dna, DNA) or not isinstance(dna.value, str):
            raise NoFit(f"{type(self).__name__}.custom_encode must return a DNA with a string "
                        f"value, got {dna!r:.60}")
        return dna

    def default(self, default_of: Callable[[Any], Any]) -> Any:
        """The value of the first genome (or of a random one when there is no order)."""
        if _overrides(self, "next_dna"):
            return self.custom_decode(self.first_dna())
        return self.custom_decode(self.random_dna(random.Random(0)))

    def sym_check_against(self, check: Any) -> None:
        """A custom decision may stand in any field (its values are the user's to make fit)."""

    def sym_format(self, fmt: Callable[[Any], str]) -> str:
        if self.function_name:
            return super().sym_format(fmt)
        args = [f"{k}={fmt(v)}" for k, v in self.sym_items() if not (k == "name" and v is None)]
        return f"{type_label(type(self))}({', '.join(args)})"


def _overrides(hyper: CustomHyper, method: str) -> bool:
    return getattr(type(hyper), method) is not getattr(CustomHyper, method)


@attrs.frozen(slots=True)
class CustomDecision(DecisionPoint):
    """The decision point of a :class:`CustomHyper`: its DNA is a string genome, drawn,
    varied and ordered by the hyper's own methods."""

    hyper: Any = None

    @property
    def size(self) -> float:
        return math.inf

    @property
    def enumerable(self) -> bool:
        return _overrides(self.hyper, "next_dna")

    def check(self, value: Any) -> Any:
        if not isinstance(value, str):
            raise DNAError(f"{self.id}: expected a string genome of {type(self.hyper).__name__}, "
                           f"got {type(value).__name__} {value!r:.60}")
        return value

    def from_param(self, param: Any, key: str) -> Any:
        return self.check(param)

    def random(self, rng: random.Random) -> DNA:
        return self._genome(self.hyper.random_dna(rng, None), "random_dna")

    def iterate(self) -> Iterator[DNA]:
        dna: DNA | None = self.first_dna()
        while dna is not None:
            yield dna
            dna = self.next_dna(dna)

    def first_dna(self) -> DNA:
        if not self.enumerable:
            raise DNAError(f"{self.id}: {type(self.hyper).__name__} does not implement next_dna(), "
                           "so its space cannot be enumerated")
        return self._genome(self.hyper.first_dna(), "first_dna")

    def next_dna(self, dna: DNA) -> DNA | None:
        if not self.enumerable:
            raise DNAError(f"{self.id}: {type(self.hyper).__name__} does not implement next_dna()")
        nxt = self.hyper.next_dna(dna)
        return None if nxt is None else self._genome(nxt, "next_dna")

    @property
    def can_change(self) -> bool:
        return _overrides(self.hyper, "random_dna")

    def mutate(self, dna: DNA, rng: random.Random, mutator: Any) -> DNA:
        """A variation of ``dna``: ``hyper.random_dna(rng, previous_dna=dna)``."""
        for _ in range(20):
            new = self._genome(self.hyper.random_dna(rng, dna), "random_dna")
            if new.value != dna.value:
                return new
        return new

    def width(self, onehot: bool) -> int:
        raise DNAError(f"{self.id}: a custom decision ({type(self.hyper).__name__}) has no "
                       "vector encoding; search it with Random or RegularizedEvolution")

    def _genome(self, dna: Any, method: str) -> DNA:
        if isinstance(dna, str):
            dna = DNA(dna)
        if not isinstance(dna, DNA) or not isinstance(dna.value, str) or dna.children:
            raise DNAError(f"{self.id}: {type(self.hyper).__name__}.{method} must return a DNA "
                           f"with a string value, got {dna!r:.60}")
        return dna
