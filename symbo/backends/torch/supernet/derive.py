"""From architecture weights (or a path) back to DNA, and from DNA to the path of a supernet.

* :func:`derive_dna` builds the DNA of the space's spec from decision values (by decision key).
* :func:`magnitude_values` is the derivation by weight magnitude: the argmax of alpha per
  decision (the top k for a ``many_of``); for a DAG cell, the paper's rule (:func:`cell_values`):
  per node, the ``in_degree`` incoming edges whose strongest op other than 'none' is strongest,
  each with that op; 'none' is never chosen.
* :func:`dna_values` and :func:`path_of` go the other way, for OneShot: the values of a DNA and
  the single path (``Relaxation.fixed``) that runs exactly that architecture in the supernet;
  :func:`dna_of_program` finds the DNA of a materialized program of the space.

>>> import torch
>>> from symbo.backends.torch.cells import CellState
>>> from symbo.backends.torch.supernet.derive import cell_values
>>> state = CellState("c", ["none", "conv", "skip"], num_inputs=2, num_nodes=1, in_degree=1,
...                   inputs_keys=["c.node0.inputs"], op_keys=[["c.node0.op0"]], none=[0])
>>> p = torch.tensor([[0.9, 0.05, 0.05], [0.5, 0.1, 0.4]])   # edge from input 0, from input 1
>>> cell_values(state, p)   # 'none' is strongest on both edges but never chosen
{'c.node0.inputs': [1], 'c.node0.op0': 2}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from symbo.backends.torch.cells import CellState
from symbo.backends.torch.mixed_ops import OFF, DecisionState
from symbo.backends.torch.supernet.analysis import RelaxationError, decision_key
from symbo.core import Symbolic, eq
from symbo.dsl.dna import DNA, validate
from symbo.dsl.markers import FloatRange, IntRange, ManyOf, Marker, OneOf, Permutate
from symbo.dsl.spec import Choice, DNASpec, Space, pair_markers


def derive_dna(spec: DNASpec, values: Mapping[str, Any]) -> DNA:
    """The DNA of ``spec`` taking each decision's value from ``values`` (by decision key).

    Choices take an index (a list of indices for a many_of); decisions under candidates that
    were not chosen are left out, as DNA does.
    """

    def space_dna(space: Space) -> tuple[DNA, ...]:
        children = []
        for d in space.decisions:
            key = decision_key(d)
            if key not in values:
                raise RelaxationError(f"no value for decision {key!r}")  # pragma: no cover
            value = values[key]
            if isinstance(d, Choice):
                picks = [value] if d.num_choices == 1 and not isinstance(value, list) else list(value)
                subs = [DNA(int(i), space_dna(d.candidates[int(i)].space)) for i in picks]
                children.append(subs[0] if d.num_choices == 1 else DNA(None, tuple(subs)))
            else:
                children.append(DNA(value))
        return tuple(children)

    dna = DNA(None, space_dna(spec.space), spec)
    validate(spec, dna)
    return dna


def magnitude_values(states: Mapping[str, DecisionState],
                     fixed: Mapping[str, tuple[int | None, ...]] | None = None) -> dict[str, Any]:
    """Each decision's value by weight magnitude: argmax of alpha, top-k for a many_of, the
    paper's rule for a cell (positions in ``fixed`` keep their value)."""
    out: dict[str, Any] = {}
    fixed = fixed or {}
    for key, state in states.items():
        if isinstance(state, CellState):
            out.update(cell_values(state, state.probabilities().to("cpu", torch.float64), fixed.get(key)))
            continue
        picks = fixed.get(key)
        if picks is not None and all(v is not None for v in picks):
            out[key] = list(picks) if state.kind == "many" and state.positions > 1 else picks[0]
            continue
        out[key] = select_from_scores(state, state.probabilities().to("cpu", torch.float64))
    return out


def cell_values(state: CellState, scores: torch.Tensor,
                fixed: tuple[int | None, ...] | None = None) -> dict[str, Any]:
    """The DNA values of a cell from per-edge op ``scores`` (softmax(alpha), edges x ops).

    Per node: the ``in_degree`` incoming edges whose best op other than 'none' scores highest
    (ties: the earlier source), each with that op. Edges in ``fixed`` keep their op (and come
    first); edges fixed to OFF are never chosen.
    """
    allowed = [o for o in range(state.num_candidates) if o not in state.none]
    inputs: dict[int, list[int]] = {}
    ops: dict[int, int] = {}
    for i in range(state.num_nodes):
        ranked = []
        for e in state.node_edges(i):
            given = fixed[e] if fixed is not None else None
            if given == OFF:
                continue
            if given is not None:
                ranked.append((float("inf"), -e, e, given))
                continue
            row = scores[e]
            best = max(allowed, key=lambda o: (float(row[o]), -o))
            ranked.append((float(row[best]), -e, e, best))
        ranked.sort(reverse=True)
        keep = ranked[:state.in_degree]
        if len(keep) < state.in_degree:
            raise RelaxationError(f"cell {state.key!r}: node {i} has fewer than {state.in_degree} edges left")
        inputs[i] = [state.edges[e][1] for _, _, e, _ in keep]
        ops.update({e: op for _, _, e, op in keep})
    return state.decision_values(inputs, ops)


def select_from_scores(state: DecisionState, scores: torch.Tensor) -> Any:
    """The choice(s) with the highest ``scores`` (a row per position when per-position)."""
    if state.kind != "many":
        return int(torch.argmax(scores))
    k = state.positions
    if state.per_position:
        picks = [int(torch.argmax(scores[pos])) for pos in range(k)]
    elif state.distinct:
        picks = [int(i) for i in torch.argsort(scores, descending=True, stable=True)[:k]]
    else:
        picks = [int(torch.argmax(scores))] * k
    if state.sorted:
        picks.sort()
    return picks if k > 1 else picks[0]


# ---- DNA -> a path through the supernet -------------------------------------------------------
def dna_values(spec: DNASpec, dna: DNA) -> dict[str, Any]:
    """``{decision key: value}`` of the active decisions of ``dna`` (an index for a one_of, a
    list for a many_of, the number for a range); markers sharing a name must agree."""
    validate(spec, dna)
    out: dict[str, Any] = {}

    def visit(space: Space, children: tuple[DNA, ...]) -> None:
        for d, child in zip(space.decisions, children):
            key = decision_key(d)
            if isinstance(d, Choice):
                picks = [child] if d.num_choices == 1 else list(child.children)
                value: Any = int(picks[0].value) if d.num_choices == 1 else [int(p.value) for p in picks]
                for p in picks:
                    visit(d.candidates[int(p.value)].space, p.children)
            else:
                value = child.value
            if key in out and out[key] != value:
                raise RelaxationError(f"decision {key!r} has two values in this DNA ({out[key]!r} and "
                                      f"{value!r}); markers that share a name are one decision")
            out[key] = value
    visit(spec.space, dna.children)
    return out


def path_of(states: Mapping[str, DecisionState], values: Mapping[str, Any]) -> dict[str, tuple[int, ...]]:
    """The ``Relaxation.fixed`` entries that run the architecture with ``values`` (decisions not
    active in it run their first candidate; they are not reached)."""
    out: dict[str, tuple[int, ...]] = {}
    for key, state in states.items():
        if isinstance(state, CellState):
            row = [OFF] * state.positions
            for i in range(state.num_nodes):
                sources = values.get(state.inputs_keys[i])
                if sources is None:
                    sources = list(range(state.in_degree))
                elif not isinstance(sources, (list, tuple)):  # in_degree 1: one index, not a list
                    sources = [sources]
                for k, j in enumerate(sources):
                    op = values.get(state.op_keys[i][k], 0)
                    row[state.edges.index((i, int(j)))] = int(op)
            out[key] = tuple(row)
            continue
        value = values.get(key, [0] * state.positions if state.kind == "many" and state.positions > 1 else 0)
        out[key] = tuple(int(v) for v in value) if isinstance(value, (list, tuple)) else (int(value),)
    return out


def dna_of_program(space: Any, spec: DNASpec, program: Any) -> DNA:
    """The DNA at which ``space`` materializes to ``program`` (found by walking both trees).

    Raises :class:`RelaxationError` naming the first place where the program is not a point of
    the space.
    """
    values: dict[str, Any] = {}
    _match(space, program, spec.space, spec, values, "")
    return derive_dna(spec, values)


def _match(space: Any, value: Any, decisions: Space, spec: DNASpec, out: dict[str, Any], where: str) -> None:
    """Matches ``value`` against ``space`` (whose markers ``decisions`` decide), filing each
    decision's value in ``out`` by decision key."""
    deciding = {id(m): d for m, d in pair_markers(space, decisions, spec)}
    _match_node(space, value, deciding, spec, out, where)


def _match_node(space: Any, value: Any, deciding: dict[int, Any], spec: DNASpec, out: dict[str, Any],
                where: str) -> None:
    if isinstance(space, Marker):
        d = deciding[id(space)]
        found = _match_marker(space, d, value, spec, out, where)
        key = decision_key(d)
        if key in out and out[key] != found:
            raise RelaxationError(f"{where or '<root>'}: decision {key!r} has another value here "
                                  f"({found!r}) than elsewhere ({out[key]!r})")
        out[key] = found
        return
    if isinstance(space, Symbolic):
        if type(space) is not type(value):
            raise RelaxationError(f"{where or '<root>'}: expected {type(space).__name__}, got "
                                  f"{type(value).__name__}")
        if [k for k, _ in space.sym_items()] != [k for k, _ in value.sym_items()]:
            raise RelaxationError(f"{where or '<root>'}: the program has other fields than the space")
        for (k, child), (_, v) in zip(space.sym_items(), value.sym_items()):
            path = f"{where}[{k}]" if isinstance(k, int) else (f"{where}.{k}" if where else str(k))
            _match_node(child, v, deciding, spec, out, path)
        return
    if not eq(space, value):
        raise RelaxationError(f"{where or '<root>'}: {value!r} differs from the space's {space!r}")


def _match_candidates(marker: Marker, d: Choice, value: Any, spec: DNASpec, out: dict[str, Any],
                      where: str) -> int:
    for i, c in enumerate(list(marker.candidates)):  # type: ignore[attr-defined]
        sub: dict[str, Any] = {}
        try:
            _match(c, value, d.candidates[i].space, spec, sub, where)
        except RelaxationError:
            continue
        out.update(sub)
        return i
    raise RelaxationError(f"{where or '<root>'}: {value!r} is none of the candidates of {marker}")


def _match_marker(marker: Marker, d: Any, value: Any, spec: DNASpec, out: dict[str, Any], where: str) -> Any:
    if isinstance(marker, (FloatRange, IntRange)):
        if not marker.low <= value <= marker.high:
            raise RelaxationError(f"{where or '<root>'}: {value!r} is outside {marker}")
        return value
    if isinstance(marker, OneOf):
        return _match_candidates(marker, d, value, spec, out, where)
    if isinstance(marker, (ManyOf, Permutate)):
        return [_match_candidates(marker, d, v, spec, out, f"{where}[{pos}]") for pos, v in enumerate(value)]
    raise RelaxationError(f"{where or '<root>'}: unsupported marker {type(marker).__name__}")


__all__ = ["cell_values", "derive_dna", "dna_of_program", "dna_values", "magnitude_values", "path_of",
           "select_from_scores"]
