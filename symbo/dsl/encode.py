"""``sb.encode``: a program of a space back to its DNA (the inverse of ``materialize``).

Use it to start a search from known programs (``study.enqueue_trial``, an evolution's first
population) or to ask where a hand-written config lies in a space. Each marker class says how
a value maps to its DNA (``Marker.encode``); the parts of the space without markers must be
equal in the program. A named decision is found at its first marker; its other markers must
agree.

>>> import symbo as sb
>>> space = sb.Dict(act=sb.one_of(["relu", "gelu"]), width=sb.int_range(16, 64),
...                 head=sb.one_of([None, sb.Dict(units=sb.one_of([8, 16]))]))
>>> program = sb.Dict(act="gelu", width=32, head={"units": 16})
>>> dna = sb.encode(space, program)
>>> dna, sb.eq(sb.materialize(space, dna), program)
(DNA([1, 32, (1, 1)]), True)
>>> sb.encode(space, sb.Dict(act="swish", width=32, head=None))
Traceback (most recent call last):
...
symbo.dsl.dna.DNAError: act: 'swish' is none of the candidates of one_of(['relu', 'gelu'])
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from symbo.core import KeyPath, List, Object, Symbolic, eq
from symbo.dsl.dna import DNA, DNAError, validate
from symbo.dsl.markers import Marker, NoFit
from symbo.dsl.points import DecisionPoint, Decisions
from symbo.dsl.spec import DNASpec, Where, dna_spec

__all__ = ["encode"]


def encode(space: Any, program: Any, *, spec: DNASpec | None = None,
           where: Where | None = None) -> DNA:
    """The DNA of ``space`` whose materialized program is ``program``.

    Raises :class:`~symbo.dsl.dna.DNAError` naming the first path of the program that does
    not fit the space (a value none of a choice's candidates stands for, a number out of a
    range, a structure that differs). ``where`` selects the markers decided (as for
    ``dna_spec``); the others must stand unchanged in the program.
    """
    from symbo.dsl.trace import TracedSpace

    if isinstance(space, TracedSpace):
        raise DNAError("encode works on spaces written with markers; for a traced space use "
                       "its programs' DNA (trial.dna) or DNA.from_params(spec, program.params)")
    spec = spec or dna_spec(space, where=where)
    encoder = _Encoder(spec, where, program)
    try:
        children = encoder.space(space, spec.space, program, KeyPath())
    except NoFit as e:
        raise DNAError(e.reason) from None
    dna = DNA(None, children, spec)
    validate(spec, dna)
    return dna


class _At(NoFit):
    """A misfit found at a path of the program."""

    def __init__(self, path: KeyPath, reason: str) -> None:
        text = str(path)
        super().__init__(f"{text}: {reason}" if text else reason)
        self.path, self.detail = path, reason


class _Encoder:
    """Walks a space and a program together (as ``materialize`` walks a space and a DNA)."""

    def __init__(self, spec: DNASpec, where: Where | None, program: Any) -> None:
        self.by_name = spec.by_name
        self.where = where
        self.root = program
        self.named: dict[str, tuple[DNA, KeyPath]] = {}

    def space(self, value: Any, decisions: Decisions, program: Any,
              path: KeyPath) -> tuple[DNA, ...]:
        """The DNA of ``decisions`` (those of ``value``) for which ``value`` gives ``program``."""
        positional = iter([d for d in decisions.decisions if d.name is None])
        unnamed: list[DNA] = []
        self._walk(value, program, path, positional, unnamed)
        found = iter(unnamed)
        out = []
        for d in decisions.decisions:
            if d.name is None:
                out.append(next(found))
            else:
                entry = self.named.get(d.name)
                out.append(entry[0] if entry is not None else _default(d))
        return tuple(out)

    def _walk(self, value: Any, program: Any, path: KeyPath,
              positional: Iterator[DecisionPoint], unnamed: list[DNA]) -> None:
        if isinstance(value, Marker) and (self.where is None or self.where(value)):
            d = self.by_name[value.name] if value.name is not None else next(positional)
            dna = self._marker(value, d, program, path)
            if value.name is None:
                unnamed.append(dna)
            return
        if not isinstance(value, Symbolic):
            if not _same_leaf(value, program):
                raise _At(path, f"expected {value!r:.60}, got {program!r:.60}")
            return
        if _derived(value):  # a sb.ValueReference: the program holds the value it refers to
            target = _referenced(self.root, path, value.reference_path)
            if target is _NOTHING or not _same_leaf(target, program):
                raise _At(path, f"expected the value of {value.reference_paths[0]!r} "
                                f"(ValueReference), got {program!r:.60}")
            return
        if isinstance(value, list):
            if not isinstance(program, list) or len(program) != len(value):
                raise _At(path, f"expected a list of {len(value)}, got {program!r:.60}")
            items = zip(list.__iter__(value), program)
            for i, (v, p) in enumerate(items):
                self._walk(v, p, path + i, positional, unnamed)
            return
        if isinstance(value, dict):
            if not isinstance(program, dict) or set(program) != set(value):
                raise _At(path, f"expected a dict with keys {sorted(value)}, got "
                                f"{program!r:.60}")
            for key, v in dict.items(value):
                self._walk(v, program[key], path + key, positional, unnamed)
            return
        if type(program) is not type(value):
            raise _At(path, f"expected a {type(value).__name__}, got "
                            f"{type(program).__name__} {program!r:.60}")
        assert isinstance(value, Object)
        items = dict(program.sym_items())
        for key, v in value.sym_items():
            self._walk(v, items.get(key), path + key, positional, unnamed)

    def _marker(self, marker: Marker, d: DecisionPoint, program: Any, path: KeyPath) -> DNA:
        branches = marker.branches()
        deepest: list[_At] = []  # the misfit found deepest inside a candidate

        def fits(i: int, value: Any) -> tuple[DNA, ...] | None:
            saved = dict(self.named)
            branch = list.__getitem__(branches, i) if type(branches) is List else branches[i]
            try:
                return self.space(branch, d.branch(i), value, path)
            except _At as e:
                if len(e.path) > len(path) and (not deepest or len(e.path) > len(deepest[0].path)):
                    deepest[:] = [e]
                self.named = saved
                return None
            except NoFit:
                self.named = saved
                return None

        try:
            dna = marker.encode(program, fits)
        except _At:
            raise
        except NoFit as e:
            if deepest:  # a candidate fits up to a deeper path: name that path
                raise _At(deepest[0].path, f"{deepest[0].detail} (in the closest candidate of "
                          f"{str(path) or 'the root'}: {e.reason})") from None
            raise _At(path, e.reason) from None
        if marker.name is not None:
            first = self.named.get(marker.name)
            if first is None:
                self.named[marker.name] = (dna, path)
            elif first[0] != dna:
                raise _At(path, f"the markers named {marker.name!r} are one decision, but the "
                                f"program differs here from {str(first[1]) or 'the root'}")
        return dna


def _same_leaf(a: Any, b: Any) -> bool:
    """Equal as materialize leaves them (a number may have become a float in a float field)."""
    if eq(a, b):
        return True
    numbers = (int, float)
    return type(a) in numbers and type(b) in numbers and a == b


_NOTHING: Any = object()


def _referenced(root: Any, path: KeyPath, reference: KeyPath) -> Any:
    """The value a reference at ``path`` of the program ``root`` refers to (as
    ``ValueReference.resolve`` finds it: from the parent up to the root)."""
    prefix = path.parent
    while True:
        value = (prefix + reference).get(root, _NOTHING)
        if value is not _NOTHING or prefix.is_root:
            return value
        prefix = prefix.parent


def _derived(value: Any) -> bool:
    from symbo.dsl.references import ValueReference

    return isinstance(value, ValueReference)


def _default(d: DecisionPoint) -> DNA:
    """A decision's DNA when the program never reaches one of its markers."""
    low = getattr(d, "low", None)
    if low is not None and not d.is_finite:
        return DNA(float(low))
    return d.first_dna()
