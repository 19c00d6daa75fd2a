"""Which markers of a space DARTS and OneShot relax, and how (the analysis of a space).

Which markers DARTS relaxes (see :func:`relaxable`):

* the markers of a DAG cell space (``sb.dag_cell(..., edge_ops=True)``) given to
  ``sbt.DagCell(cell, C, ops)``: the cell becomes the paper's search cell
  (:class:`~symbo.backends.torch.cells.SearchCell`), with a mixed op over all ops on every
  predecessor edge of every node and one row of architecture weights per edge; cells whose
  decisions have the same names share one set (all normal cells, all reduction cells).

* a ``one_of`` / ``many_of`` whose candidates are all torch modules (recipes of
  ``torch.nn.Module`` subclasses, such as ``sbt.nn.Conv2d(...)`` or ``sb.symbolize(MyBlock)(...)``,
  module instances, or ``one_of`` markers over such): a :class:`~.mixed_ops.MixedOp` holding
  every candidate, built once (per position for a ``many_of``). Candidates may hold markers
  of their own (a conditional space): they are relaxed inside the candidate.
* a ``one_of`` over positive ints standing for a width (``out_channels`` of a convolution,
  ``out_features`` of ``Linear``, ``num_features`` of a batch norm): the module is built at the
  widest width and its output channels masked (:class:`~.mixed_ops.ChannelMask`). The same
  decision's markers at ``in_channels``/``in_features`` are built at the widest width (lazy
  modules, e.g. ``LazyLinear``, infer it).
* any other ``one_of`` over plain values (no markers inside) in the arguments of a module
  recipe (``kernel_size=one_of([3, 5])``, ``p=one_of([0.1, 0.3])`` of ``Dropout``): the recipe
  is built once per value (per combination, for several such markers) and the variants are
  mixed like candidates (sharpDARTS's relaxation of a hyperparameter grid). Variants must map
  an input to outputs of one shape.

Everything else (``float_range``, ``int_range``, ``permutate``, choices outside module
recipes, ``many_of`` over values) cannot be relaxed: DARTS says which and why, and such
markers must be decided before (by an outer search) or given as ``fixed`` values.

>>> import symbo as sb
>>> from symbo.backends import torch as sbt
>>> from symbo.backends.torch.supernet import relaxable
>>> space = sb.Dict(act=sb.one_of([sbt.nn.ReLU(), sbt.nn.Tanh()]),
...                 width=sbt.nn.Linear(4, sb.one_of([8, 16])), lr=sb.float_range(1e-3, 0.1))
>>> [relaxable(m) for m in (space.act, space.width.out_features, space.lr)]
[True, True, False]
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
from torch import nn

from symbo.backends.torch.cells import CellState
from symbo.backends.torch.cells import DagCell as DagCellModule
from symbo.backends.torch.mixed_ops import DecisionState
from symbo.core import ClassWrapper, List, SymbolicValueError, clone, eq
from symbo.core.formatting import format as sym_format
from symbo.dsl.graph import Cell, CellNode
from symbo.dsl.markers import FloatRange, IntRange, ManyOf, Marker, OneOf, Permutate
from symbo.dsl.materialize import is_deterministic
from symbo.dsl.spec import (
    Choice,
    DecisionPoint,
    DNASpec,
    FloatDecision,
    IntDecision,
    Space,
    dna_spec,
    pair_markers,
)

# (module class, argument, channel dimension of the output) for widths that mask outputs;
# (module class, argument) for widths that only take the widest value.
_CONV = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)
PRODUCERS: tuple[tuple[tuple[type, ...], str, int], ...] = (
    (_CONV, "out_channels", 1),
    ((nn.Linear,), "out_features", -1),
    ((nn.modules.batchnorm._BatchNorm,), "num_features", 1),
)
CONSUMERS: tuple[tuple[tuple[type, ...], str], ...] = (
    (_CONV, "in_channels"),
    ((nn.Linear, nn.Bilinear), "in_features"),
    ((nn.Bilinear,), "in1_features"),
    ((nn.Bilinear,), "in2_features"),
)


class RelaxationError(SymbolicValueError):
    """A space DARTS cannot turn into a supernet (the message lists the markers and why)."""


@attrs.define
class MarkerInfo:
    """How the supernet treats one marker of the space."""

    marker: Marker
    decision: DecisionPoint
    key: str  # the decision's name, else its id: markers with one name share one decision
    role: str  # choice | many | width | width_in | variant | cell | fixed | unrelaxable
    reason: str = ""
    owner: Any = None  # the module recipe a width/variant/cell marker belongs to
    dim: int | None = None  # the output channel dimension of a width
    slot: CellSlot | None = None  # where a cell marker stands in its cell

    def describe(self) -> str:
        d = self.decision
        name = f" (name {d.name!r})" if d.name is not None else ""
        return f"{d.id!r}{name}: {sym_format(self.marker, compact=True)} - {self.reason}"


@attrs.define
class CellSlot:
    """A marker's place in a DAG cell: node ``node``'s ``inputs``, or the op of its input ``k``."""

    cell: Cell
    node: int
    field: str  # "inputs" | "ops" | "op" | "other"
    k: int | None = None


# ---- what can be relaxed -----------------------------------------------------------------------
def is_dag_cell_recipe(value: Any) -> bool:
    """True for an ``sbt.DagCell(...)`` recipe."""
    return is_module_recipe(value) and issubclass(value.sym_wrapped, DagCellModule)


def _cell_slot(marker: Marker) -> CellSlot | None:
    """Where ``marker`` stands in a Cell (None when it is not inside one)."""
    parent, key = marker._sym_parent, marker._sym_key
    if isinstance(parent, List) and isinstance(parent._sym_parent, CellNode) and parent._sym_key == "ops":
        node, field, k = parent._sym_parent, "ops", key
    elif isinstance(parent, CellNode):
        node, field, k = parent, str(key), None
    else:
        node = parent
        while node is not None and not isinstance(node, Cell):
            node = node._sym_parent
        return None if node is None else CellSlot(node, -1, "other")
    nodes = node._sym_parent
    cell = nodes._sym_parent if nodes is not None else None
    if not isinstance(cell, Cell):
        return None
    return CellSlot(cell, int(node._sym_key), field if field in ("inputs", "ops", "op") else "other", k)


def is_module_recipe(value: Any) -> bool:
    """True for a symbolic recipe that builds a ``torch.nn.Module`` (e.g. ``sbt.nn.Conv2d(...)``)."""
    if not isinstance(value, ClassWrapper):
        return False
    wrapped = value.sym_wrapped
    return isinstance(wrapped, type) and issubclass(wrapped, nn.Module)


def _is_module_like(value: Any) -> bool:
    if isinstance(value, nn.Module) or is_module_recipe(value):
        return True
    if isinstance(value, OneOf):
        return all(_is_module_like(c) for c in value.candidates)
    return False


def _owner(marker: Marker) -> Any:
    """The nearest module recipe above ``marker`` (None when a marker or the root comes first).

    DARTS clones the space it is given, so the walk stops at the space's root."""
    node = marker._sym_parent
    while node is not None:
        if isinstance(node, Marker):
            return None
        if is_module_recipe(node):
            return node
        node = node._sym_parent
    return None


def _classify_cell(marker: Marker, slot: CellSlot) -> tuple[str, str, Any, int | None]:
    owner = slot.cell._sym_parent
    if not (is_dag_cell_recipe(owner) and slot.cell._sym_key == "cell"):
        return ("unrelaxable", "a marker of a DAG cell is relaxed when the cell is given to "
                "sbt.DagCell(cell, C, ops)", None, None)
    node = slot.cell.nodes[slot.node] if 0 <= slot.node < len(slot.cell.nodes) else None
    if slot.field == "op" or (isinstance(node, CellNode) and node.ops is None):
        return ("unrelaxable", "a cell with one op per node cannot be relaxed: write it with one "
                "op per edge (sb.dag_cell(..., edge_ops=True)), as DARTS's cells", None, None)
    if slot.field == "inputs" and isinstance(marker, ManyOf):
        return "cell", "", owner, None
    if slot.field == "ops" and isinstance(marker, OneOf):
        return "cell", "", owner, None
    return ("unrelaxable", "DARTS relaxes cells whose nodes choose their inputs with one many_of and "
            "each input's op with a one_of (as sb.dag_cell writes them)", None, None)


def _classify(marker: Marker) -> tuple[str, str, Any, int | None]:
    """(role, reason when unrelaxable, owner recipe, channel dim) from the marker's own context."""
    slot = _cell_slot(marker)
    if slot is not None:
        return _classify_cell(marker, slot)
    if isinstance(marker, Permutate):
        return "unrelaxable", "a permutate (an order) has no differentiable relaxation", None, None
    if isinstance(marker, FloatRange):
        return ("unrelaxable", "a float_range is continuous (a one_of over a few values inside a "
                "module recipe can be relaxed)", None, None)
    if isinstance(marker, IntRange):
        return ("unrelaxable", "an int_range is not relaxed (a one_of over a few values inside a "
                "module recipe can be)", None, None)
    if not isinstance(marker, (OneOf, ManyOf)):
        return "unrelaxable", f"unsupported marker {type(marker).__name__}", None, None
    candidates = list(marker.candidates)
    if all(_is_module_like(c) for c in candidates):
        return ("choice" if isinstance(marker, OneOf) else "many"), "", None, None
    if isinstance(marker, ManyOf):
        return "unrelaxable", "a many_of over values that are not torch.nn modules", None, None
    if any(_is_module_like(c) for c in candidates):
        return "unrelaxable", "its candidates mix torch.nn modules and other values", None, None
    if not all(is_deterministic(c) for c in candidates):
        return "unrelaxable", "a one_of over values that hold markers", None, None
    owner = _owner(marker)
    if owner is None:
        return ("unrelaxable", "a one_of over values outside any torch.nn module recipe (only "
                "module arguments can be relaxed)", None, None)
    if is_dag_cell_recipe(owner):
        return ("unrelaxable", "sbt.DagCell's arguments other than its cell are not relaxed",
                None, None)
    key = marker._sym_key
    if marker._sym_parent is owner and all(type(c) is int and c > 0 for c in candidates):
        wrapped = owner.sym_wrapped
        for classes, field, dim in PRODUCERS:
            if key == field and issubclass(wrapped, classes):
                return "width", "", owner, dim
        for classes, field in CONSUMERS:
            if key == field and issubclass(wrapped, classes):
                return "width_in", "", owner, None
    return "variant", "", owner, None


def relaxable(marker: Any) -> bool:
    """True when DARTS can relax ``marker`` where it stands in its space.

    Use it to split a space between an outer black-box search and DARTS:
    ``sb.sample(space, algorithm, where=lambda m: not relaxable(m))`` decides the markers
    DARTS cannot relax and leaves the others for ``DARTS(program, ...)``. A width at
    ``in_channels``/``in_features`` counts as relaxable; DARTS also needs a marker of the same
    name at the ``out_channels``/``out_features`` before it.

    >>> import symbo as sb
    >>> relaxable(sb.float_range(0.0, 1.0)), relaxable(sb.one_of([1, 2]))
    (False, False)
    """
    if not isinstance(marker, Marker):
        return False
    return _classify(marker)[0] != "unrelaxable"


# ---- the spec ----------------------------------------------------------------------------------
def space_spec(space: Any) -> DNASpec:
    """``sb.dna_spec(space)``: markers that share a name are one decision point of it (with
    shared architecture weights); one name with two definitions is a RelaxationError."""
    from symbo.dsl.trace import TracedSpace

    if isinstance(space, TracedSpace):
        raise RelaxationError(
            "DARTS needs a symbolic space (a tree of module recipes with markers), not a traced "
            "(define-by-run) space: its markers are called inside a function, not placed in modules"
        )
    try:
        return dna_spec(space)
    except RelaxationError:
        raise
    except SymbolicValueError as e:
        raise RelaxationError(str(e)) from None


def decision_key(d: DecisionPoint) -> str:
    """The key DARTS files a decision under: its name, else its id."""
    return d.name if d.name is not None else d.id


def normalize_fixed(spec: DNASpec, fixed: Mapping[str, Any] | None) -> dict[str, Any]:
    """``fixed`` ({name or id: value}, as in ``dna.to_dict()``) keyed by decision key."""
    if fixed is None:
        return {}
    out: dict[str, Any] = {}
    for key, value in fixed.items():
        d = spec.by_name.get(key) or spec.by_id.get(key)
        if d is None:
            raise RelaxationError(f"fixed: no decision named {key!r} in this space")
        if isinstance(d, Choice):
            picks = [value] if d.num_choices == 1 else list(value)
            if len(picks) != d.num_choices or not all(
                    type(i) is int and 0 <= i < d.num_candidates for i in picks):
                what = "an index" if d.num_choices == 1 else f"a list of {d.num_choices} indices"
                raise RelaxationError(
                    f"fixed[{key!r}]: expected {what} in [0, {d.num_candidates - 1}], got {value!r}")
        elif isinstance(d, (FloatDecision, IntDecision)) and not d.low <= value <= d.high:
            raise RelaxationError(f"fixed[{key!r}]: expected a value in [{d.low}, {d.high}], got {value!r}")
        out[decision_key(d)] = list(value) if isinstance(value, (list, tuple)) else value
    return out


# ---- the analysis ------------------------------------------------------------------------------
class Analysis:
    """Every marker of a space paired with its decision point, and the role DARTS gives it."""

    def __init__(self, space: Any, spec: DNASpec, fixed: Mapping[str, Any]) -> None:
        self.space = space
        self.spec = spec
        self.fixed = dict(fixed)
        self.infos: dict[int, MarkerInfo] = {}
        self.groups: dict[str, list[MarkerInfo]] = {}
        self.owned: dict[int, list[MarkerInfo]] = {}
        self.cells: dict[int, CellPlan] = {}  # id(DagCell recipe) -> its cell's plan
        self.cell_keys: dict[str, str] = {}  # decision key -> the key of its cell's weights
        self.errors: list[str] = []  # problems that no outer search fixes (named in check)
        self._walk(space, spec.space)
        self._check_groups()
        self._plan_cells()

    def _walk(self, value: Any, space: Space) -> None:
        for marker, d in pair_markers(value, space, self.spec):
            key = decision_key(d)
            if key in self.fixed:
                info = MarkerInfo(marker, d, key, "fixed")
            else:
                role, reason, owner, dim = _classify(marker)
                info = MarkerInfo(marker, d, key, role, reason, owner, dim,
                                  _cell_slot(marker) if role == "cell" else None)
            self.infos[id(marker)] = info
            self.groups.setdefault(key, []).append(info)
            if info.owner is not None:
                self.owned.setdefault(id(info.owner), []).append(info)
            if isinstance(d, Choice):
                candidates = list(marker.candidates)  # type: ignore[attr-defined]
                if info.role == "fixed":
                    value_ = self.fixed[key]
                    indices = sorted(set(value_ if isinstance(value_, list) else [value_]))
                else:
                    indices = list(range(len(candidates)))
                for i in indices:
                    self._walk(candidates[i], d.candidates[i].space)

    def _check_groups(self) -> None:
        for key, infos in self.groups.items():
            roles = {i.role for i in infos}
            if roles & {"fixed", "unrelaxable"}:
                continue
            widths = roles <= {"width", "width_in"}
            if widths and "width" not in roles:
                for i in infos:
                    i.role = "unrelaxable"
                    i.reason = ("a width at in_channels/in_features needs a marker of the same name "
                                "at the out_channels/out_features that feeds it")
                continue
            first = infos[0]
            for other in infos[1:]:
                if widths:
                    same = list(first.marker.candidates) == list(other.marker.candidates)  # type: ignore[attr-defined]
                else:
                    same = len(roles) == 1 and eq(clone(first.marker), clone(other.marker))
                if not same:
                    raise RelaxationError(
                        f"markers named {key!r} are one decision but are defined differently: "
                        f"{sym_format(first.marker, compact=True)} at {first.decision.id!r} and "
                        f"{sym_format(other.marker, compact=True)} at {other.decision.id!r}"
                    )

    def _plan_cells(self) -> None:
        by_cell: dict[int, list[MarkerInfo]] = {}
        for info in self.infos.values():
            if info.role == "cell":
                by_cell.setdefault(id(info.owner), []).append(info)
        shared: dict[tuple[str, ...], CellPlan] = {}
        for infos in by_cell.values():
            plan = _plan_cell(infos, self.errors)
            if plan is None:
                for i in infos:
                    i.role, i.reason = "unrelaxable", i.reason or "see the cell's other markers"
                continue
            key_tuple = tuple(plan.keys)
            first = shared.setdefault(key_tuple, plan)
            if first is not plan:
                plan.weights_key = first.weights_key
                if (first.op_names, first.num_nodes, first.num_inputs, first.in_degree) != (
                        plan.op_names, plan.num_nodes, plan.num_inputs, plan.in_degree):
                    self.errors.append(f"cells {first.weights_key!r} share decision names but differ in "
                                       "their nodes, inputs or ops")
            self.cells[id(infos[0].owner)] = plan
            for k in plan.keys:
                self.cell_keys[k] = plan.weights_key
        used = {k for plan in self.cells.values() for k in plan.keys}
        for key in used:
            if any(i.role != "cell" for i in self.groups.get(key, ())):
                self.errors.append(f"decision {key!r} is in a cell and elsewhere; a cell's decisions "
                                   "are its own (name them apart)")

    @property
    def unrelaxable(self) -> list[MarkerInfo]:
        return [i for i in self.infos.values() if i.role == "unrelaxable"]

    def check(self) -> None:
        """Raises :class:`RelaxationError` listing the markers DARTS cannot relax."""
        if self.errors:
            raise RelaxationError("\n".join(self.errors))
        bad = self.unrelaxable
        if not bad:
            return
        lines = "\n".join(f"  - {i.describe()}" for i in bad)
        raise RelaxationError(
            f"DARTS cannot relax {len(bad)} marker{'s' if len(bad) > 1 else ''} of this space:\n"
            f"{lines}\n"
            "Decide them first: an outer search decides them and DARTS searches the rest "
            "(for program, feedback in sb.sample(space, algorithm, where=lambda m: not "
            "sbt.relaxable(m)): dna = sbt.DARTS(program, ...).search(...)), or give their "
            "values with DARTS(space, fixed={name_or_id: value})."
        )

    def states(self) -> list[DecisionState]:
        """A fresh :class:`DecisionState` per relaxed decision, in the order of the spec."""
        out: list[DecisionState] = []
        cells: dict[str, CellState] = {}
        for key, infos in self.groups.items():
            first = infos[0]
            if first.role == "cell":
                plan = next(p for p in self.cells.values() if key in p.keys)
                if plan.weights_key not in cells:
                    cells[plan.weights_key] = plan.state()
                    out.append(cells[plan.weights_key])
                continue
            if first.role in ("fixed", "unrelaxable"):
                continue
            d = first.decision
            assert isinstance(d, Choice)
            kind = "width" if first.role == "width_in" else first.role
            values = list(first.marker.candidates) if kind in ("width", "variant") else []  # type: ignore[attr-defined]
            out.append(DecisionState(
                key, kind, d.num_candidates, positions=d.num_choices, distinct=d.distinct,
                sorted=d.sorted, literals=[c.literal for c in d.candidates], values=values))
        return out




# ---- cells -------------------------------------------------------------------------------------
@attrs.define
class CellPlan:
    """How a cell space given to ``sbt.DagCell`` is relaxed: its structure and decision keys."""

    recipe: Any  # the sbt.DagCell recipe
    num_inputs: int
    num_nodes: int
    in_degree: int
    op_names: list[str]
    inputs_keys: list[str]
    op_keys: list[list[str]]
    weights_key: str
    none: list[int]

    @property
    def keys(self) -> list[str]:
        return [k for i in range(self.num_nodes) for k in [self.inputs_keys[i], *self.op_keys[i]]]

    def state(self) -> CellState:
        return CellState(self.weights_key, self.op_names, self.num_inputs, self.num_nodes,
                         self.in_degree, self.inputs_keys, self.op_keys, self.none)


def _plan_cell(infos: list[MarkerInfo], errors: list[str]) -> CellPlan | None:
    """The plan of one DagCell's cell space, or None (with reasons on the markers) if it has
    another shape than ``sb.dag_cell`` writes."""
    recipe = infos[0].owner
    cell: Cell = infos[0].slot.cell  # type: ignore[union-attr]
    by_node: dict[int, dict[str, Any]] = {}
    for info in infos:
        slot = info.slot
        assert slot is not None
        entry = by_node.setdefault(slot.node, {"ops": {}})
        if slot.field == "inputs":
            entry["inputs"] = info
        else:
            entry["ops"][slot.k] = info

    def refuse(info: MarkerInfo, reason: str) -> None:
        info.role, info.reason = "unrelaxable", reason

    n, first = len(cell.nodes), cell.num_inputs
    in_degree = None
    op_names: list[Any] | None = None
    inputs_keys, op_keys = [], []
    for i in range(n):
        entry = by_node.get(i)
        inputs = entry.get("inputs") if entry else None
        if inputs is None:
            refuse(infos[0], f"node {i} of the cell has fixed inputs; DARTS relaxes cells whose every "
                   "node chooses its inputs (sb.dag_cell)")
            return None
        marker = inputs.marker
        if list(marker.candidates) != list(range(first + i)) or not marker.distinct:  # type: ignore[attr-defined]
            refuse(inputs, f"node {i} must choose distinct inputs among all {first + i} earlier states")
            return None
        k = marker.k  # type: ignore[attr-defined]
        in_degree = k if in_degree is None else in_degree
        ops = cell.nodes[i].ops
        aligned = isinstance(ops, list) and len(ops) == k and sorted(entry["ops"]) == list(range(k))
        if k != in_degree or not aligned:
            refuse(inputs, "every node must choose in_degree inputs, each with a one_of over the ops")
            return None
        keys = []
        for j in range(k):
            op_info = entry["ops"][j]
            names = list(op_info.marker.candidates)  # type: ignore[attr-defined]
            op_names = names if op_names is None else op_names
            if names != op_names or not all(isinstance(x, str) for x in names):
                refuse(op_info, "every edge of a cell must choose among the same op names")
                return None
            keys.append(op_info.key)
        inputs_keys.append(inputs.key)
        op_keys.append(keys)
    assert op_names is not None and in_degree is not None
    table = getattr(recipe, "ops", None)
    # The cell's path in the space (not its decisions' ids: cells that share names share ids)
    recipe_path = str(getattr(recipe, "sym_path", "") or "")
    where = f"{recipe_path}.cell" if recipe_path else "cell"
    if not isinstance(table, Mapping):
        errors.append(f"{recipe_path or '<root>'}: sbt.DagCell needs ops= as a dict of name -> fn(C, stride)")
        return None
    missing = [x for x in op_names if x not in table]
    if missing:
        known = ", ".join(repr(x) for x in table)
        errors.append(f"{where or '<root>'}: the cell uses {', '.join(repr(x) for x in missing)}, which "
                      f"the ops of its sbt.DagCell do not have (ops has {known})")
        return None
    none = [o for o, name in enumerate(op_names) if name == "none"]  # SearchCell adds Zero ops
    if len(none) == len(op_names):
        errors.append(f"{where or '<root>'}: every op of the cell is 'none'")
        return None
    keys = [k for i in range(n) for k in [inputs_keys[i], *op_keys[i]]]
    prefixes = {k.rsplit(".node", 1)[0] for k in keys if ".node" in k}
    named = all(any(i.key == k and i.decision.name is not None for i in infos) for k in keys)
    weights_key = prefixes.pop() if named and len(prefixes) == 1 else (where or "cell")
    return CellPlan(recipe, first, n, in_degree, list(op_names), inputs_keys, op_keys, weights_key, none)
