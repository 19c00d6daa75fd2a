"""DNA: one point of a space, a tree of decisions mirroring the DNA spec.

* a space (the whole one, or a candidate's) is ``DNA(None, (d1, d2, ...))``;
* a one_of is ``DNA(index, <decisions of the chosen candidate>)``;
* a many_of/permutate is ``DNA(None, (DNA(i1, ...), DNA(i2, ...)))``, one child per position;
* a float_range or int_range is ``DNA(value)``.

DNA is an immutable, hashable value; it converts to and from a flat list of numbers, a
``{name_or_id: index or number}`` dict (``to_dict``, what algorithms use) and **params**,
``{name_or_id: literal value}`` (``to_params``, what users read and write: ``64``, not the
index ``1``).

>>> import symbo as sb
>>> space = sb.Dict(opt=sb.one_of(["sgd", "adam"], name="opt"), lr=sb.float_range(0.01, 0.1))
>>> spec = sb.dna_spec(space)
>>> dna = sb.DNA.from_numbers(spec, [1, 0.05])
>>> dna, dna.to_numbers(), dna.to_dict()
(DNA([1, 0.05]), [1, 0.05], {'opt': 1, 'lr': 0.05})
>>> dna.to_params()
{'opt': 'adam', 'lr': 0.05}
>>> sb.DNA.from_params(spec, {"opt": "adam", "lr": 0.05}) == dna
True
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
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
        """``{key: decision}`` by **index**: keys are names where given, else ids
        (``key_type='id'``: ids).

        ``value_type='value'`` (the default) gives the candidate index (a list of indices for a
        many_of) or the number of a range: the algorithms' form, meaningless without the
        space. ``'literal'`` gives the chosen candidates' formatted text. For the values
        themselves (``64``, not ``1``) use :meth:`to_params`.

        >>> import symbo as sb
        >>> spec = sb.dna_spec(sb.Dict(batch=sb.one_of([32, 64], name="batch")))
        >>> sb.DNA.from_numbers(spec, [1]).to_dict()
        {'batch': 1}
        """
        spec = spec or self.spec
        if spec is None:
            raise DNAError("this DNA has no spec; pass spec= or use dna.use_spec(spec)")
        if value_type not in _VALUE_TYPES:
            raise DNAError(f"value_type must be 'value' or 'literal', got {value_type!r}")
        out: dict[str, Any] = {}
        _to_dict(spec.space, self, (), out, key_type, _VALUE_TYPES[value_type])
        return out

    def to_params(self, spec: DNASpec | None = None) -> dict[str, Any]:
        """``{name_or_id: literal value}``: the chosen candidate itself when it is plain data
        (``None``, bools, ints, strings, finite floats, and lists and str-keyed dicts of
        them), else its formatted text (``sb.format(candidate, compact=True)``); a list of
        those for a many_of or permutate; the number for a range. Decisions under candidates
        that were not chosen are left out. JSON-compatible; :meth:`from_params` reads it back.

        >>> import symbo as sb
        >>> spec = sb.dna_spec(sb.Dict(batch=sb.one_of([32, 64], name="batch"),
        ...                            acts=sb.many_of(2, ["relu", "gelu", "tanh"], name="acts")))
        >>> sb.DNA.from_numbers(spec, [1, 2, 0]).to_params()
        {'batch': 64, 'acts': ['tanh', 'relu']}
        """
        spec = spec or self.spec
        if spec is None:
            raise DNAError("this DNA has no spec; pass spec= or use dna.use_spec(spec)")
        out: dict[str, Any] = {}
        _to_dict(spec.space, self, (), out, "name_or_id", _param_of)
        return out

    @staticmethod
    def from_dict(spec: DNASpec, values: dict[str, Any]) -> DNA:
        """The inverse of :meth:`to_dict` (indices or numbers as values)."""
        return _from_mapping(spec, values, lambda d, value, key: _index(d, value))

    @staticmethod
    def from_params(spec: DNASpec, params: dict[str, Any]) -> DNA:
        """The DNA whose :meth:`to_params` is ``params`` (the inverse of ``to_params``).

        A choice's value is matched against its candidates' param values: the candidate
        itself when it is plain data (an int candidate also matches an integral float such as
        ``64.0``), else its formatted text. Unknown or inactive names, missing decisions,
        values that are no candidate and numbers out of range raise :class:`DNAError` naming
        the decision.

        >>> import symbo as sb
        >>> spec = sb.dna_spec(sb.Dict(batch=sb.one_of([32, 64], name="batch"),
        ...                            lr=sb.float_range(1e-4, 1e-1, name="lr")))
        >>> sb.DNA.from_params(spec, {"batch": 64, "lr": 0.01})
        DNA([1, 0.01])
        >>> sb.DNA.from_params(spec, {"batch": 48, "lr": 0.01})
        Traceback (most recent call last):
        ...
        symbo.dsl.dna.DNAError: batch: 48 is not one of the candidates [32, 64]
        """
        if not isinstance(params, dict):
            raise DNAError(f"params are a dict {{name: value}}, got {type(params).__name__}")
        return _from_mapping(spec, params, _index_of_param, check_numbers=True)


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
             value_of: ValueOf) -> None:
    for d, child in zip(space.decisions, dna.children):
        did = _actual_id(d.id, rewrites)
        key = _key(d, did, key_type)
        if isinstance(d, Choice):
            picks = [child] if d.num_choices == 1 else list(child.children)
            values = [value_of(d, p.value) for p in picks]  # type: ignore[arg-type]
            out[key] = values[0] if d.num_choices == 1 else values
            for pos, pick in enumerate(picks):
                i: int = pick.value  # type: ignore[assignment]
                _to_dict(d.candidates[i].space, DNA(None, pick.children),
                         _under(d, did, i, pos, rewrites), out, key_type, value_of)
        else:
            out[key] = child.value


ValueOf = Callable[[Choice, int], Any]
IndexOf = Callable[[Choice, Any, str], int]
_VALUE_TYPES: dict[str, ValueOf] = {
    "value": lambda d, i: i,
    "literal": lambda d, i: d.candidates[i].literal,
}


def _param_of(d: Choice, i: int) -> Any:
    return d.candidates[i].value


def _from_mapping(spec: DNASpec, values: dict[str, Any], index_of: IndexOf,
                  check_numbers: bool = False) -> DNA:
    used: set[str] = set()
    dna = _space_from_dict(spec.space, values, used, (), index_of, check_numbers)
    unknown = set(values) - used
    if unknown:
        raise DNAError(f"unknown or inactive decision(s) {sorted(unknown)} for this space")
    dna = attrs.evolve(dna, spec=spec)
    validate(spec, dna)
    return dna


def _space_from_dict(space: Space, values: dict[str, Any], used: set[str], rewrites: Rewrites,
                     index_of: IndexOf, check_numbers: bool) -> DNA:
    children = []
    for d in space.decisions:
        did = _actual_id(d.id, rewrites)
        keys = [k for k in (d.name if did == d.id else None, did) if k is not None and k in values]
        if not keys:
            raise DNAError(f"missing a value for decision {d.name or did!r}")
        used.update(keys)
        value = values[keys[0]]
        if isinstance(d, Choice):
            noun = "values" if check_numbers else "indices"
            if d.num_choices > 1 and not isinstance(value, (list, tuple)):
                raise DNAError(f"{keys[0]}: expected a list of {d.num_choices} {noun}, got {value!r}")
            items = [value] if d.num_choices == 1 else list(value)
            if len(items) != d.num_choices:
                raise DNAError(f"{keys[0]}: expected {d.num_choices} {noun}, got {value!r}")
            picks = []
            for pos, item in enumerate(items):
                i = index_of(d, item, keys[0])
                sub = _space_from_dict(d.candidates[i].space, values, used,
                                       _under(d, did, i, pos, rewrites), index_of, check_numbers)
                picks.append(DNA(i, sub.children))
            children.append(picks[0] if d.num_choices == 1 else DNA(None, tuple(picks)))
        else:
            number = _plain(value)
            if check_numbers:
                number = _range_value(d, keys[0], number)
            children.append(DNA(number))
    return DNA(None, tuple(children))


def _index_of_param(d: Choice, value: Any, key: str) -> int:
    """The index of the candidate whose param value (or formatted text) is ``value``."""
    value = _plain(value)
    for i, c in enumerate(d.candidates):
        if _same(c.value, value):
            return i
    if isinstance(value, float) and value.is_integer():  # 64.0 (e.g. read from a CSV) for 64
        for i, c in enumerate(d.candidates):
            if type(c.value) is int and c.value == value:
                return i
    shown = [c.value for c in d.candidates]
    raise DNAError(f"{key}: {value!r} is not one of the candidates "
                   f"{shown if len(shown) <= 10 else shown[:10] + ['...']}")


def _same(a: Any, b: Any) -> bool:
    """Equality of plain data that tells 1, 1.0 and True apart (and lists from tuples not)."""
    if isinstance(a, list) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return type(a) is type(_plain(b)) and a == b


def _range_value(d: DecisionPoint, key: str, value: Any) -> Any:
    if isinstance(d, IntDecision):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if type(value) is not int or not d.low <= value <= d.high:
            raise DNAError(f"{key}: expected an int in [{d.low}, {d.high}], got {value!r}")
    elif isinstance(d, FloatDecision):
        if type(value) not in (int, float) or math.isnan(value) or not d.low <= value <= d.high:
            raise DNAError(f"{key}: expected a float in [{d.low}, {d.high}], got {value!r}")
        value = float(value)
    return value


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
