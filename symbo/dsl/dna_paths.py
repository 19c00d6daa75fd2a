"""The spec-dependent side of DNA: ``{name_or_id: value}`` dicts and params, reduced forms
expanded to a spec's shape (``normalized``), and decisions found by name or id.

(Import ``DNA`` from ``symbo.dsl.dna``; this module is loaded by it.)

>>> import symbo as sb
>>> from symbo.dsl.dna_paths import normalized
>>> spec = sb.dna_spec(sb.Dict(a=sb.one_of([1, 2, 3])))
>>> normalized(spec, sb.DNA(2)).children
(DNA(2),)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from symbo.dsl.dna import DNA, DNAError, validate

if TYPE_CHECKING:
    from symbo.dsl.points import DecisionPoint, Decisions
    from symbo.dsl.spec import DNASpec


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


#: ``fill(decision, key)``: the param value of a decision the given params leave out
Fill = Callable[["DecisionPoint", str], Any]


def _from_mapping(spec: DNASpec, values: dict[str, Any], from_value: FromValue,
                  noun: str = "indices", fill: Fill | None = None) -> DNA:
    used: set[str] = set()
    try:
        children = _space_from_dict(spec.space, values, used, (), from_value, noun, fill)
    except DNAError as e:
        known = {k for d in spec.decision_points for k in (d.name, d.id) if k is not None}
        strangers = sorted(k for k in values if k not in known)
        if strangers and str(e).startswith("missing"):  # a misspelt name, most likely
            raise DNAError(f"{e}; unknown decision(s) {strangers} (this space's: "
                           f"{sorted({d.name or d.id for d in spec.decision_points})})") from None
        raise
    unknown = set(values) - used
    if unknown:
        raise DNAError(f"unknown or inactive decision(s) {sorted(unknown)} for this space")
    dna = DNA(None, children, spec)
    validate(spec, dna)
    return dna


def _space_from_dict(space: Decisions, values: dict[str, Any], used: set[str], rewrites: Rewrites,
                     from_value: FromValue, noun: str, fill: Fill | None = None
                     ) -> tuple[DNA, ...]:
    children = []
    for d in space.decisions:
        did = _actual_id(d.id, rewrites)
        keys = [k for k in (d.name if did == d.id else None, did) if k is not None and k in values]
        if keys:
            used.update(keys)
            key = keys[0]
            value = values[key]
        elif fill is not None:
            key = d.name if d.name is not None and did == d.id else did
            value = fill(d, key)
        else:
            raise DNAError(f"missing a value for decision {d.name or did!r}")
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
            # Equal candidates have equal params: take the first whose decisions are given.
            options = d.equivalents(v) if noun == "values" else (v,)
            for n, option in enumerate(options):
                tried = set(used)
                try:
                    sub = _space_from_dict(d.branch(option), values, tried,
                                           _under(d, did, option, pos, rewrites), from_value, noun,
                                           fill)
                except DNAError:
                    if n == len(options) - 1:
                        raise
                    continue
                used |= tried
                picks.append(DNA(option, sub))
                break
        children.append(d.join(picks))
    return tuple(children)


def normalized(spec: DNASpec, dna: DNA) -> DNA:
    """``dna`` checked against ``spec``; a reduced form (``DNA(1)`` for a one-decision space,
    ``DNA((0, [1, 2]))`` for a many_of under candidate 0) expanded to the spec's shape first.
    Raises DNAError naming the decision when it does not fit either way."""
    try:
        validate(spec, dna)
        return dna
    except DNAError:
        expanded = _lift(spec.space, dna) if isinstance(dna, DNA) else None
        if expanded is None or _raw(expanded) == _raw(dna):
            raise
        validate(spec, expanded)  # the error names the decision of the expanded form
        return DNA(None, expanded.children, dna.spec)


def _raw(dna: DNA) -> tuple:
    """The structure as written (equality ignores redundant levels; this does not)."""
    return (dna.value, tuple(_raw(c) for c in dna.children))


def _lift(decisions: Decisions, dna: DNA) -> DNA | None:
    """The root-shaped DNA of ``decisions`` that ``dna`` (maybe reduced) stands for."""
    ds = decisions.decisions
    children = dna.children
    if len(ds) == 1 and not (dna.value is None and len(children) == 1):
        children = (dna,)
    elif dna.value is not None:
        return None
    return DNA(None, _lift_children(decisions, children))


def _lift_children(decisions: Decisions, children: tuple[DNA, ...]) -> tuple[DNA, ...]:
    ds = decisions.decisions
    if len(ds) == 1 and len(children) != 1 and ds[0].positions == len(children) > 1:
        children = (DNA(None, children),)  # the picks of a lone many_of, flattened
    out = []
    for i, c in enumerate(children):
        out.append(_lift_one(ds[i], c) if i < len(ds) else c)
    return tuple(out)


def _lift_one(d: DecisionPoint, dna: DNA) -> DNA:
    try:
        if d.positions == 1:
            if dna.value is None:
                return dna
            branch = d.branch(d.check(dna.value))
            return DNA(dna.value, _lift_children(branch, dna.children)) if branch.decisions \
                else dna
        picks = tuple(DNA(p.value, _lift_children(d.branch(d.check(p.value)), p.children))
                      for p in dna.children)
        return DNA(None, picks)
    except DNAError:
        return dna  # validation names the problem


def _by_key(spec: DNASpec, dna: DNA) -> dict[str, Any]:
    """Every decision on the path of ``dna`` by name, spec id and position id: its DNA (or
    list of picks for a many_of); ``id[j]`` is pick j."""
    out: dict[str, Any] = {}

    def walk(space: Decisions, node: DNA, rewrites: Rewrites) -> None:
        for d, child in zip(space.decisions, node.children):
            did = _actual_id(d.id, rewrites) if rewrites else d.id
            if d.positions == 1:
                value: Any = child
                picks: tuple[DNA, ...] = (child,)
            else:
                picks = d.picks(child)
                value = list(picks)
                for j, pick in enumerate(picks):
                    out[f"{did}[{j}]"] = pick
            for key in (did, d.id, d.name):
                if key is not None:
                    out.setdefault(key, value)
            for pos, pick in enumerate(picks):
                if pick.children:
                    walk(d.branch(pick.value), pick, _under(d, did, pick.value, pos, rewrites))

    walk(spec.space, dna, ())
    return out
