"""DNA: one point of a space, a tree of decisions mirroring the DNA spec.

* a space (the whole one, or a candidate's) is ``DNA(None, (d1, d2, ...))``;
* a one_of is ``DNA(index, <decisions of the chosen candidate>)``;
* a many_of/permutate is ``DNA(None, (DNA(i1, ...), DNA(i2, ...)))``, one child per position;
* a float_range or int_range is ``DNA(value)``.

DNA is an immutable, hashable value; it converts to and from a flat list of numbers and a
``{name_or_id: value}`` dict.

>>> import symbo as sb
>>> space = sb.Dict(opt=sb.one_of(["sgd", "adam"], name="opt"), lr=sb.float_range(0.01, 0.1))
>>> spec = sb.dna_spec(space)
>>> dna = sb.DNA.from_numbers(spec, [1, 0.05])
>>> dna, dna.to_numbers(), dna.to_dict()
(DNA([1, 0.05]), [1, 0.05], {'opt': 1, 'lr': 0.05})
>>> dna.to_dict(value_type="literal")
{'opt': "'adam'", 'lr': 0.05}
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import attrs

from symbo.core import SymbolicValueError
from symbo.dsl.spec import Choice, DecisionPoint, DNASpec, FloatDecision, IntDecision, Space

Number = int | float


class DNAError(SymbolicValueError):
    """A DNA that does not fit its spec (wrong shape, index or value out of range)."""


@attrs.frozen(slots=True, repr=False, cache_hash=True)
class DNA:
    """A tree of decisions. ``spec`` (optional, not part of equality) enables names and dicts."""

    value: Number | None = None
    children: tuple[DNA, ...] = ()
    spec: DNASpec | None = attrs.field(default=None, eq=False, hash=False)

    # ---- printing --------------------------------------------------------------------
    def __repr__(self) -> str:
        return f"DNA({_short(self)})"

    def __str__(self) -> str:
        return repr(self)

    def use_spec(self, spec: DNASpec) -> DNA:
        """This DNA attached to ``spec`` (validated)."""
        validate(spec, self)
        return attrs.evolve(self, spec=spec)

    # ---- flat numbers ----------------------------------------------------------------
    def to_numbers(self) -> list[Number]:
        """The decisions in preorder: an index per choice, the value per range."""
        out: list[Number] = []
        _numbers(self, out, top=True)
        return out

    @staticmethod
    def from_numbers(spec: DNASpec, numbers: list[Number]) -> DNA:
        """The inverse of :meth:`to_numbers` for ``spec``."""
        it = iter(numbers)
        try:
            dna = _space_from_numbers(spec.space, it)
        except StopIteration:
            raise DNAError(f"too few numbers ({len(numbers)}) for this space") from None
        rest = list(it)
        if rest:
            raise DNAError(f"{len(rest)} numbers left over after reading a DNA: {rest[:5]}")
        dna = attrs.evolve(dna, spec=spec)
        validate(spec, dna)
        return dna

    # ---- dicts -----------------------------------------------------------------------
    def to_dict(self, key_type: str = "name_or_id", value_type: str = "value",
                spec: DNASpec | None = None) -> dict[str, Any]:
        """``{key: decision}``; keys are names where given, else ids (``key_type='id'``: ids).

        ``value_type='value'`` gives the index (a list of indices for many_of) or the number;
        ``'literal'`` gives the chosen candidates' text instead of their indices.
        """
        spec = spec or self.spec
        if spec is None:
            raise DNAError("this DNA has no spec; pass spec= or use dna.use_spec(spec)")
        out: dict[str, Any] = {}
        _to_dict(spec.space, self, (), out, key_type, value_type)
        return out

    @staticmethod
    def from_dict(spec: DNASpec, values: dict[str, Any]) -> DNA:
        """The inverse of :meth:`to_dict` (indices or numbers as values)."""
        used: set[str] = set()
        dna = _space_from_dict(spec.space, values, used)
        unknown = set(values) - used
        if unknown:
            raise DNAError(f"unknown or inactive decision(s) {sorted(unknown)} for this space")
        dna = attrs.evolve(dna, spec=spec)
        validate(spec, dna)
        return dna


# ---- helpers: printing ---------------------------------------------------------------------
def _num(v: Number | None) -> str:
    return repr(v)


def _short(dna: DNA) -> str:
    if dna.value is None:  # a space (the root, a candidate's) or a many_of's picks
        return "[" + ", ".join(_short(c) for c in dna.children) + "]"
    if not dna.children:
        return _num(dna.value)
    inner = ", ".join(_short(c) for c in dna.children)
    if len(dna.children) == 1:
        return f"({_num(dna.value)}, {inner})"
    return f"({_num(dna.value)}, [{inner}])"


def _numbers(dna: DNA, out: list[Number], top: bool = False) -> None:
    if dna.value is not None:
        out.append(dna.value)
    for c in dna.children:
        _numbers(c, out)


# List comprehensions, not generator expressions: a StopIteration from ``next(it)`` (too few
# numbers) must reach ``from_numbers``, and a generator would turn it into a RuntimeError.
def _space_from_numbers(space: Space, it: Any) -> DNA:
    return DNA(None, tuple([_decision_from_numbers(d, it) for d in space.decisions]))


def _decision_from_numbers(d: DecisionPoint, it: Any) -> DNA:
    if isinstance(d, Choice):
        if d.num_choices == 1:
            return _choice_from_numbers(d, next(it), it)
        picks = [_choice_from_numbers(d, next(it), it) for _ in range(d.num_choices)]
        return DNA(None, tuple(picks))
    return DNA(_plain(next(it)))


def _choice_from_numbers(d: Choice, index: Any, it: Any) -> DNA:
    i = _index(d, index)
    return DNA(i, _space_from_numbers(d.candidates[i].space, it).children)


def _plain(value: Any) -> Any:
    """A numpy scalar (as algorithms produce) as the Python number it stands for."""
    if type(value) in (bool, int, float) or value is None:
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    return value


def _index(d: Choice, index: Any) -> int:
    index = _plain(index)
    if isinstance(index, float) and index.is_integer():
        index = int(index)
    if type(index) is not int or not 0 <= index < len(d.candidates):
        raise DNAError(f"{d.id}: expected a candidate index in [0, {len(d.candidates) - 1}], got {index!r}")
    return index


# ---- helpers: dicts --------------------------------------------------------------------------
# Ids in the spec are written without many_of positions (``m[=2].x``); in a DNA dict, a decision
# under position j of a many_of gets it (``m[1][=2].x``). Rewrites map one to the other.
Rewrites = tuple[tuple[str, str], ...]


def _actual_id(did: str, rewrites: Rewrites) -> str:
    for spec_prefix, actual in rewrites:
        if did.startswith(spec_prefix):
            did = actual + did[len(spec_prefix):]
    return did


def _under(d: Choice, did: str, index: int, pos: int, rewrites: Rewrites) -> Rewrites:
    if d.num_choices == 1:
        return rewrites
    return rewrites + ((f"{did}[={index}]", f"{did}[{pos}][={index}]"),)


def _key(d: DecisionPoint, did: str, key_type: str) -> str:
    if key_type == "id":
        return did
    if key_type == "name_or_id":
        return d.name if d.name is not None and did == d.id else did
    raise DNAError(f"key_type must be 'name_or_id' or 'id', got {key_type!r}")


def _to_dict(space: Space, dna: DNA, rewrites: Rewrites, out: dict, key_type: str,
             value_type: str) -> None:
    for d, child in zip(space.decisions, dna.children):
        did = _actual_id(d.id, rewrites)
        key = _key(d, did, key_type)
        if isinstance(d, Choice):
            picks = [child] if d.num_choices == 1 else list(child.children)
            indices = [p.value for p in picks]
            if value_type == "literal":
                values: Any = [d.candidates[i].literal for i in indices]  # type: ignore[index]
            elif value_type == "value":
                values = indices
            else:
                raise DNAError(f"value_type must be 'value' or 'literal', got {value_type!r}")
            out[key] = values[0] if d.num_choices == 1 else values
            for pos, pick in enumerate(picks):
                i: int = pick.value  # type: ignore[assignment]
                _to_dict(d.candidates[i].space, DNA(None, pick.children),
                         _under(d, did, i, pos, rewrites), out, key_type, value_type)
        else:
            out[key] = child.value


def _space_from_dict(space: Space, values: dict[str, Any], used: set[str],
                     rewrites: Rewrites = ()) -> DNA:
    children = []
    for d in space.decisions:
        did = _actual_id(d.id, rewrites)
        keys = [k for k in (d.name if did == d.id else None, did) if k is not None and k in values]
        if not keys:
            raise DNAError(f"missing a value for decision {d.name or did!r}")
        used.update(keys)
        value = values[keys[0]]
        if isinstance(d, Choice):
            if d.num_choices > 1 and not isinstance(value, (list, tuple)):
                raise DNAError(f"{did}: expected a list of {d.num_choices} indices, got {value!r}")
            indices = [value] if d.num_choices == 1 else list(value)
            if len(indices) != d.num_choices:
                raise DNAError(f"{did}: expected {d.num_choices} indices, got {value!r}")
            picks = []
            for pos, index in enumerate(indices):
                i = _index(d, index)
                sub = _space_from_dict(d.candidates[i].space, values, used,
                                       _under(d, did, i, pos, rewrites))
                picks.append(DNA(i, sub.children))
            children.append(picks[0] if d.num_choices == 1 else DNA(None, tuple(picks)))
        else:
            children.append(DNA(_plain(value)))
    return DNA(None, tuple(children))


# ---- validation ----------------------------------------------------------------------------
def validate(spec: DNASpec, dna: DNA) -> None:
    """Raises DNAError naming the decision when ``dna`` does not fit ``spec``."""
    if not isinstance(dna, DNA):
        raise DNAError(f"expected a DNA, got {type(dna).__name__}")
    _validate_space(spec.space, dna.children, None, 0)


def _validate_space(space: Space, children: tuple[DNA, ...], parent: Choice | None,
                    index: int) -> None:
    if len(children) != len(space.decisions):
        where = parent.candidate_ids(index) if parent is not None else "DNA"
        raise DNAError(f"{where}: expected {len(space.decisions)} decisions, got {len(children)}")
    for d, child in zip(space.decisions, children):
        _validate_decision(d, child)


def _validate_decision(d: DecisionPoint, dna: DNA) -> None:
    if isinstance(d, Choice):
        picks = [dna] if d.num_choices == 1 else list(dna.children)
        if d.num_choices > 1 and (dna.value is not None or len(picks) != d.num_choices):
            raise DNAError(f"{d.id}: expected {d.num_choices} choices, got {_short(dna)}")
        indices = []
        for pick in picks:
            i = _index(d, pick.value)
            indices.append(i)
            _validate_space(d.candidates[i].space, pick.children, d, i)
        if d.num_choices > 1:
            if d.distinct and len(set(indices)) != len(indices):
                raise DNAError(f"{d.id}: choices must be distinct, got {indices}")
            if d.sorted and indices != sorted(indices):
                raise DNAError(f"{d.id}: choices must be sorted, got {indices}")
        return
    v = dna.value
    if dna.children:
        raise DNAError(f"{d.id}: a range decision has no children")
    if isinstance(d, FloatDecision):
        if not isinstance(v, (int, float)) or isinstance(v, bool) or not (d.low <= v <= d.high) \
                or math.isnan(v):
            raise DNAError(f"{d.id}: expected a float in [{d.low}, {d.high}], got {v!r}")
    elif isinstance(d, IntDecision):
        if type(v) is not int or not d.low <= v <= d.high:
            raise DNAError(f"{d.id}: expected an int in [{d.low}, {d.high}], got {v!r}")
