"""``sb.DynamicEvaluationContext``: PyGlove's define-by-run protocol, ``collect()`` then
``apply(dna)``, on the machinery of ``sb.trace``.

Run the code once (or several times) under ``collect()``: each named marker it calls returns
its default (the first candidate, the middle of a range) and is recorded. The collected markers
form a space (``dna_spec``; ``hyper_dict`` holds their definitions by name). Then run the code
under ``apply(dna)`` for any DNA of that space (or its flat list of numbers): each marker
returns its decision. Markers met inside a callable candidate (``sb.one_of([lambda: ...,
...], name="a")``) sit under that candidate. As everywhere in symbo, a marker called inline
must be named (only those inside callable candidates are named for you).

>>> import symbo as sb
>>> def model():
...     width = sb.one_of([32, 64, 128], name="width")
...     act = sb.one_of([lambda: "relu", lambda: f"leaky({sb.float_range(0.0, 0.3, name='a')})"],
...                     name="act")
...     return width, act
>>> context = sb.DynamicEvaluationContext()
>>> with context.collect() as hyper_dict:
...     model()
(32, 'relu')
>>> list(hyper_dict), context.dna_spec.space_size
(['width', 'act', 'a'], inf)
>>> with context.apply(sb.DNA([2, (1, 0.1)])):
...     model()
(128, 'leaky(0.1)')
>>> with context.apply([0, 0]):
...     model()
(32, 'relu')
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

from symbo.core import Dict, SymbolicValueError
from symbo.dsl.dna import DNA, DNAError, normalized
from symbo.dsl.markers import Marker, OneOf
from symbo.dsl.spec import DNASpec
from symbo.dsl.trace import TracedSpace, _Explore, _Replay, run_record
from symbo.dsl.trace_run import _CONTEXT, _Scope, is_call_candidate, is_choice
from symbo.dsl.trace_tree import Placements, Run

__all__ = ["DynamicEvaluationContext"]


def _applied_only(*args: Any, **kwargs: Any) -> Any:
    raise SymbolicValueError(
        "a DynamicEvaluationContext's space is run by your own code under context.apply(dna) "
        "(or `with example():` for an example sb.sample gives), not called with arguments"
    )


_applied_only.runs_under_apply = True  # type: ignore[attr-defined]


class DynamicEvaluationContext:
    """Collects the markers code calls (``collect()``) and decides them (``apply(dna)``).

    ``where(marker)``, when given, selects the markers this context handles: the others are
    returned as markers (for another context or search to decide). Contexts are per thread
    (and per asyncio task), and nest: the innermost decides the markers it selects.
    """

    def __init__(self, *, where: Callable[[Marker], bool] | None = None) -> None:
        self.where = where
        self._known: dict[str, str] = {}
        self._scopes: dict[str, str] = {}
        self._definitions: dict[str, Marker] = {}
        self._runs: list[Run] = []
        self._tried: set[tuple[str, int]] = set()  # callable candidates run by _explore
        self._space: TracedSpace | None = None

    # ---- collecting -------------------------------------------------------------------------
    @contextlib.contextmanager
    def collect(self) -> Iterator[dict[str, Marker]]:
        """Within the block, selected markers return their defaults and are recorded; yields
        the dict of definitions by name, filled when the block ends (also ``hyper_dict``)."""
        context = _Collect(self._known, self._scopes, self.where, _CONTEXT.get())
        token = _CONTEXT.set(context)
        failed = False
        try:
            yield self._definitions
        except BaseException:
            failed = True
            raise
        finally:
            _CONTEXT.reset(token)
            self._record(context, (), not failed)
            if not failed:
                self._explore(context, ())
            self._space = None

    def _record(self, context: _Collect, prefix: tuple[tuple[str, int], ...],
                complete: bool) -> None:
        run = run_record(context.met, complete)
        if prefix:  # a run of one candidate: the choices above it took these values
            run = Run(tuple(k for k, _ in prefix) + run.keys, {**dict(prefix), **run.values},
                      complete)
        self._runs.append(run)
        for m in context.met.values():
            self._definitions.setdefault(m.key, m.definition)
            if m.scope is not None:
                self._scopes[m.key] = m.scope

    def _explore(self, context: _Collect, prefix: tuple[tuple[str, int], ...]) -> None:
        """Runs the callable candidates the block did not choose (as PyGlove's collect does),
        each once, so the markers inside them are collected under their candidate."""
        for m in list(context.met.values()):
            if not isinstance(m.marker, OneOf):
                continue
            chosen = int(m.dna.value)  # type: ignore[arg-type]
            for i, candidate in enumerate(list.__iter__(m.marker.candidates)):
                if i == chosen or not is_call_candidate(candidate) or (m.key, i) in self._tried:
                    continue
                self._tried.add((m.key, i))
                sub = _Collect(self._known, self._scopes, self.where, context.outer)
                sub._stack.append(_Scope(m.key, i))
                token = _CONTEXT.set(sub)
                try:
                    candidate()
                finally:
                    _CONTEXT.reset(token)
                here = prefix + ((m.key, i),)
                # incomplete: the rest of the code did not run, so what it did not meet here
                # says nothing (the markers met here sit under the candidate by their scope)
                self._record(sub, here, False)
                self._explore(sub, here)

    @property
    def hyper_dict(self) -> Dict:
        """The collected markers' definitions by name (key), in the order first met."""
        return Dict(self._definitions)

    @property
    def space(self) -> TracedSpace:
        """The space of the collected markers (a traced space without a function: its
        programs run under :meth:`apply`)."""
        if not self._definitions:
            raise SymbolicValueError(
                "nothing collected yet: run the code under context.collect() first")
        if self._space is None:
            sizes = {k: len(m.candidates) for k, m in self._definitions.items()  # type: ignore[attr-defined]
                     if is_choice(m)}
            parents = Placements(sizes, self._scopes).add_all(self._runs).parents()
            self._space = TracedSpace(
                fn=_applied_only, decisions=Dict(self._definitions),
                parents=Dict({k: [c, list(s)] for k, (c, s) in parents.items()}),
                scopes=Dict(self._scopes))
        return self._space

    @property
    def dna_spec(self) -> DNASpec:
        """The DNA spec of the collected markers."""
        return self.space.dna_spec()

    # ---- applying ---------------------------------------------------------------------------
    @contextlib.contextmanager
    def apply(self, dna: DNA | list[Any]) -> Iterator[DNA]:
        """Within the block, selected markers return the decisions of ``dna`` (a DNA of
        :attr:`dna_spec`, in a reduced form too, or its flat list of numbers). Decisions the
        block did not use are an error when it ends (the DNA was meant for other code)."""
        spec = self.dna_spec
        if isinstance(dna, list):
            dna = DNA.from_numbers(spec, dna)
        elif not isinstance(dna, DNA):
            raise DNAError(f"apply takes a DNA or a list of numbers, got {type(dna).__name__} "
                           f"{dna!r:.60}")
        dna = normalized(spec, dna)
        program = self.space.materialize(dna, check=False)
        context = _Apply(program, self.where, _CONTEXT.get())
        token = _CONTEXT.set(context)
        try:
            yield dna
        except BaseException:
            _CONTEXT.reset(token)
            raise
        _CONTEXT.reset(token)
        unused = [k for k in program.nodes if k not in context.met]
        if unused:
            raise DNAError(
                f"decisions {unused} of the DNA were not used in the block (the code met "
                f"{list(context.met) or 'no markers'}); the DNA is for other code"
            )


class _Collect(_Explore):
    """A collect run: defaults for selected markers; others go to the enclosing context."""

    def __init__(self, known: dict[str, str], scopes: dict[str, str],
                 where: Callable[[Marker], bool] | None, outer: Any) -> None:
        super().__init__(known, scopes, {})
        self.where = where
        self.outer = outer

    def decide(self, marker: Marker) -> Any:
        if self.where is not None and not self.where(marker):
            return marker if self.outer is None else self.outer.decide(marker)
        return super().decide(marker)


class _Apply(_Replay):
    """An apply run: the program's decisions for selected markers."""

    def __init__(self, program: Any, where: Callable[[Marker], bool] | None, outer: Any) -> None:
        super().__init__(program)
        self.where = where
        self.outer = outer

    def decide(self, marker: Marker) -> Any:
        if self.where is not None and not self.where(marker):
            return marker if self.outer is None else self.outer.decide(marker)
        return super().decide(marker)

    def choose(self, key: str, marker: Marker) -> tuple[DNA, bool]:
        try:
            return super().choose(key, marker)
        except SymbolicValueError as e:
            if key in self.from_space:
                raise
            raise SymbolicValueError(
                f"marker {key!r} was not collected: run the code that calls it under "
                "context.collect() before applying a DNA"
            ) from e
