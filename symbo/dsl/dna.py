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

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs

from symbo.core import SymbolicValueError

if TYPE_CHECKING:
    from symbo.dsl.points import DecisionPoint, Decisions
    from symbo.dsl.spec import DNASpec

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
        _numbers(self, out)
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
        if key_type not in ("name_or_id", "id"):
            raise DNAError(f"key_type must be 'name_or_id' or 'id', got {key_type!r}")
        out: dict[str, Any] = {}
        _to_dict(spec.space, self, (), out, key_type == "id", _VALUE_TYPES[value_type])
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
        _to_dict(spec.space, self, (), out, False, None)
        return out

    @staticmethod
    def from_dict(spec: DNASpec, values: dict[str, Any]) -> DNA:
        """The inverse of :meth:`to_dict` (indices or numbers as values)."""
        return _from_mapping(spec, values, lambda d, value, key: d.read(value))

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
        return _from_mapping(spec, params, lambda d, value, key: d.from_param(value, key),
                             "values")


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


def _numbers(dna: DNA, out: list[Number]) -> None:
    if dna.value is not None:
        out.append(dna.value)
    for c in dna.children:
        _numbers(c, out)


# List comprehensions, not generator expressions: a StopIteration from ``next(it)`` (too few
# numbers) must reach ``from_numbers``, and a generator would turn it into a RuntimeError.
def _space_from_numbers(space: Decisions, it: Any) -> DNA:
    return DNA(None, tuple([d.read_numbers(it) for d in space.decisions]))


# ---- helpers: dicts --------------------------------------------------------------------------
# Ids in the spec are written without many_of positions (``m[=2].x``); in a DNA dict, a decision
# under position j of a many_of gets it (``m[1][=2].x``). Rewrites map one to the other.
Rewrites = tuple[tuple[str, str], ...]


def _actual_id(did: str, rewrites: Rewrites) -> str:
    for spec_prefix, actual in rewrites:
        if did.startswith(spec_prefix):
            did = actual + did[len(spec_prefix):]
    return did


def _under(d: DecisionPoint, did: str, value: Any, pos: int, rewrites: Rewrites) -> Rewrites:
    if d.positions == 1:
        return rewrites
    return rewrites + ((f"{did}[={value}]", f"{did}[{pos}][={value}]"),)




ValueOf = Callable[["DecisionPoint", Any], Any]
FromValue = Callable[["DecisionPoint", Any, str], Any]
_VALUE_TYPES: dict[str, ValueOf] = {
    "value": lambda d, v: v,
    "literal": lambda d, v: d.literal(v),
}


def _to_dict(space: Decisions, dna: DNA, rewrites: Rewrites, out: dict, by_id: bool,
             value_of: ValueOf | None) -> None:
    """Fills ``out`` with ``{key: value_of(d, value)}`` (``value_of=None``: params)."""
    for d, child in zip(space.decisions, dna.children):
        did = _actual_id(d.id, rewrites) if rewrites else d.id
        key = did if by_id or d.name is None or did != d.id else d.name
        if d.positions == 1:
            v = child.value
            out[key] = d.param(v) if value_of is None else value_of(d, v)
            if child.children:
                _to_dict(d.branch(v), child, rewrites, out, by_id, value_of)
            continue
        picks = d.picks(child)
        out[key] = [d.param(p.value) if value_of is None else value_of(d, p.value) for p in picks]
        for pos, pick in enumerate(picks):
            if pick.children:
                _to_dict(d.branch(pick.value), pick, _under(d, did, pick.value, pos, rewrites),
                         out, by_id, value_of)


def _from_mapping(spec: DNASpec, values: dict[str, Any], from_value: FromValue,
                  noun: str = "indices") -> DNA:
    used: set[str] = set()
    dna = _space_from_dict(spec.space, values, used, (), from_value, noun)
    unknown = set(values) - used
    if unknown:
        raise DNAError(f"unknown or inactive decision(s) {sorted(unknown)} for this space")
    dna = attrs.evolve(dna, spec=spec)
    validate(spec, dna)
    return dna


def _space_from_dict(space: Decisions, values: dict[str, Any], used: set[str], rewrites: Rewrites,
                     from_value: FromValue, noun: str) -> DNA:
    children = []
    for d in space.decisions:
        did = _actual_id(d.id, rewrites)
        keys = [k for k in (d.name if did == d.id else None, did) if k is not None and k in values]
        if not keys:
            raise DNAError(f"missing a value for decision {d.name or did!r}")
        used.update(keys)
        key = keys[0]
        value = values[key]
        if d.positions == 1:
            items = [value]
        else:
            if not isinstance(value, (list, tuple)):
                raise DNAError(f"{key}: expected a list of {d.positions} {noun}, got {value!r}")
            items = list(value)
            if len(items) != d.positions:
                raise DNAError(f"{key}: expected {d.positions} {noun}, got {value!r}")
        picks = []
        for pos, item in enumerate(items):
            v = from_value(d, item, key)
            sub = _space_from_dict(d.branch(v), values, used, _under(d, did, v, pos, rewrites),
                                   from_value, noun)
            picks.append(DNA(v, sub.children))
        children.append(d.join(picks))
    return DNA(None, tuple(children))


# ---- validation ----------------------------------------------------------------------------
def validate(spec: DNASpec, dna: DNA) -> None:
    """Raises DNAError naming the decision when ``dna`` does not fit ``spec``."""
    if not isinstance(dna, DNA):
        raise DNAError(f"expected a DNA, got {type(dna).__name__}")
    from symbo.dsl.points import validate_decisions

    validate_decisions(spec.space, dna.children, "DNA")
