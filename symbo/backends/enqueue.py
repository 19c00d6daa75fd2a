"""Enqueued trials (``study.enqueue_trial(params)``, as Optuna's): the user gives some or all
of a trial's decisions. Each given decision is checked against the space when it is enqueued
(an unknown name, or a value that is no candidate or out of range, is a ``DNAError`` naming
it); a trial given only some of them is completed when it starts: the algorithm proposes a
point and the given decisions replace its own (decisions that only the given choices make
active are drawn at random).

>>> import random
>>> import symbo as sb
>>> spec = sb.dna_spec(sb.Dict(lr=sb.float_range(0.001, 0.1, name="lr"),
...                            depth=sb.int_range(1, 4, name="depth")))
>>> fixed, dna = check_params("s", spec, {"depth": 3})
>>> fixed, dna
({'depth': 3}, None)
>>> proposal = sb.DNA.from_params(spec, {"lr": 0.05, "depth": 1})
>>> complete(spec, fixed, proposal, random.Random(0)).to_params(spec)
{'lr': 0.05, 'depth': 3}
>>> check_params("s", spec, {"width": 3})
Traceback (most recent call last):
...
symbo.dsl.dna.DNAError: study 's': enqueue_trial: 'width' is not a decision of its space (its ...
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

from symbo.core.formatting import format as sym_format
from symbo.dsl import DNA, DNASpec
from symbo.dsl.dna import DNAError
from symbo.dsl.points import DecisionPoint, Decisions


def check_params(study: str, spec: DNASpec, params: Any) -> tuple[dict[str, Any], DNA | None]:
    """The params of a trial to enqueue, checked against ``spec``: each given decision as its
    canonical param (keyed by name, or id for an unnamed one), and the DNA when they give
    every active decision (None: partial params, completed when the trial starts)."""
    where = f"study {study!r}: enqueue_trial"
    if not isinstance(params, dict):
        raise DNAError(f"{where}: params are a dict {{decision name: value}}, got "
                       f"{type(params).__name__}")
    known = {**spec.by_id, **spec.by_name}
    for key in params:
        if not isinstance(key, str):
            raise DNAError(f"{where}: decision names are strings, got {key!r}")
        if key not in known and "[" not in key:  # (ids under a many_of's positions: checked below)
            names = ", ".join(dict.fromkeys(d.name or d.id for d in spec.decision_points))
            raise DNAError(f"{where}: {key!r} is not a decision of its space (its decisions: "
                           f"{names})")
    missing: list[str] = []

    def fill(d: DecisionPoint, key: str) -> Any:
        missing.append(key)
        return _fill(d, params, {}, key, random.Random(0))

    try:
        dna = DNA.from_params(spec, params, fill=fill)
    except DNAError as e:
        raise DNAError(f"{where}: {e}") from None
    canonical = dna.to_params(spec)
    fixed = {}
    for key in params:
        name = key if key in canonical else getattr(known.get(key), "name", None)
        fixed[name if name in canonical else key] = canonical.get(name, params[key])
    return fixed, (None if missing else dna)


def check_define_by_run_params(study: str, space: Any, params: Any) -> dict[str, Any]:
    """The params of a trial to enqueue on a define-by-run study (``space``: its
    ``TracedSpace``): a decision the space knows is checked now (a value that is no candidate
    or out of range is a ``DNAError`` naming it); one it does not know yet is kept as given,
    and checked by the trial's run when it meets that name (a value that does not fit then
    fails that trial, naming the decision and the value)."""
    import json

    from symbo.dsl.trace_run import literal, node_from_param, point_of

    where = f"study {study!r}: enqueue_trial"
    if not isinstance(params, dict):
        raise DNAError(f"{where}: params are a dict {{decision name: value}}, got "
                       f"{type(params).__name__}")
    fixed: dict[str, Any] = {}
    for key, value in params.items():
        if not isinstance(key, str):
            raise DNAError(f"{where}: decision names are strings, got {key!r}")
        marker = space.decisions.get(key)
        if marker is not None:
            if node_from_param(point_of(key, marker), literal(value), key) is None:
                raise DNAError(f"{where}: {value!r} is not a value of decision {key!r} "
                               f"({sym_format(marker)})")
        else:
            try:
                json.dumps(value)
            except (TypeError, ValueError):
                raise DNAError(f"{where}: the value of {key!r} is stored with the study, so it "
                               f"is plain data (JSON), got {type(value).__name__}") from None
        fixed[key] = value
    return fixed


def complete(spec: DNASpec, fixed: dict[str, Any], proposal: DNA | None,
             rng: random.Random) -> DNA:
    """The DNA of an enqueued trial: the ``fixed`` decisions, the others as in ``proposal``
    (the algorithm's, when it has one), or drawn with ``rng`` where the proposal has none
    (a decision made active by a fixed choice). A choice left open whose candidate holds a
    fixed decision takes that candidate."""
    base = proposal.to_params(spec) if proposal is not None else {}
    return DNA.from_params(spec, fixed, fill=lambda d, key: _fill(d, fixed, base, key, rng))


def is_partial(dna: DNA, spec: DNASpec) -> bool:
    """Whether an enqueued trial's stored DNA is still to be completed (it is stored empty)."""
    return not dna.children and bool(spec.decisions)


def _fill(d: DecisionPoint, fixed: dict[str, Any], base: dict[str, Any], key: str,
          rng: random.Random) -> Any:
    """The param of a decision the fixed ones leave out: the candidate of a one-position
    choice under which a fixed decision lies, else the proposal's, else a random one."""
    if d.positions == 1:
        for index, branch in enumerate(d.branches()):
            if any(k in fixed for k in _keys(branch)):
                return d.param(index)
    if key in base:
        return base[key]
    dna = d.random(rng)
    if d.positions == 1:
        return d.param(dna.value)
    return [d.param(p.value) for p in d.picks(dna)]


def _keys(space: Decisions) -> Iterator[str]:
    for d in space.decisions:
        if d.name is not None:
            yield d.name
        yield d.id
        for branch in d.branches():
            yield from _keys(branch)
