"""DAG cells as torch modules: ``DagCell`` computes a cell, ``SearchCell`` relaxes a cell space.

``sbt.DagCell(cell, C, ops, reduction=False)`` is a module recipe (``sb.symbolize`` of
:class:`DagCell`): built from a materialized ``sb.dag_cell`` it makes one module per edge,
``ops[name](C, stride)`` (a dict like the DARTS paper's ``OPS``; stride 2 on the edges from
the cell's inputs when ``reduction``), sums each node's inputs and concatenates the nodes the
cell's output takes (all intermediate nodes for cells with one op per edge, so the cell outputs
``num_nodes * C`` channels, as the paper's cell). With ``num_inputs=1`` it is called on one
tensor (it fits in ``sbt.nn.Sequential``); with 2 as ``cell(s0, s1)``, the two previous
states. ``in_channels`` adds the paper's 1x1 ReLU-conv-BN preprocessing of each input (and
``reduction_prev`` a factorized reduce of the first one when the cell before reduced).

Over a cell *space* (markers left), DARTS and OneShot build :class:`SearchCell` instead: every
predecessor edge of every node is a mixed op over all ops, weighted by one row of the cell's
architecture weights (the paper's search cell); cells whose decisions share names share them.
:class:`CellStack` chains cells as the paper's network does (``s0, s1 = s1, cell(s0, s1)``).

>>> import torch, symbo as sb
>>> from symbo.backends import torch as sbt
>>> ops = {"conv": lambda C, stride: torch.nn.Conv2d(C, C, 3, stride, 1),
...        "skip": lambda C, stride: torch.nn.Identity()}
>>> cell = sb.Cell(num_inputs=1, nodes=[sb.CellNode(inputs=[0], ops=["conv"]),
...                                     sb.CellNode(inputs=[0, 1], ops=["skip", "conv"])])
>>> module = sbt.build(sbt.DagCell(cell, C=4, ops=ops))
>>> module(torch.randn(2, 4, 8, 8)).shape, module.out_channels
(torch.Size([2, 8, 8, 8]), 8)
>>> sbt.genotype(cell).normal, sbt.genotype(cell).normal_concat
([('conv', 0), ('skip', 0), ('conv', 1)], range(1, 3))
"""

from __future__ import annotations

import inspect
from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch
from torch import nn

from symbo.backends.torch.mixed_ops import DecisionState, MixedOp, Relaxation, Zero
from symbo.dsl.graph import Cell
from symbo.dsl.materialize import is_deterministic

OpFactory = Callable[..., nn.Module]
Genotype = namedtuple("Genotype", "normal normal_concat reduce reduce_concat")


class CellError(ValueError):
    """A cell that cannot be computed: an op missing from ``ops``, inputs that do not fit."""


# ---- preprocessing (the paper's ReLUConvBN and FactorizedReduce) -------------------------------
class ReLUConvBN(nn.Module):
    """ReLU, a convolution without bias, batch norm (DARTS's ``ReLUConvBN``)."""

    def __init__(self, C_in: int, C_out: int, kernel_size: int, stride: int, padding: int,  # noqa: N803
                 affine: bool = True) -> None:
        super().__init__()
        conv = nn.Conv2d(C_in, C_out, kernel_size, stride=stride, padding=padding, bias=False)
        self.op = nn.Sequential(nn.ReLU(inplace=False), conv, nn.BatchNorm2d(C_out, affine=affine))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x)


class FactorizedReduce(nn.Module):
    """Halves the resolution with two strided 1x1 convolutions, offset by one pixel (DARTS)."""

    def __init__(self, C_in: int, C_out: int, affine: bool = True) -> None:  # noqa: N803
        super().__init__()
        if C_out % 2:
            raise CellError(f"FactorizedReduce needs an even number of output channels, got {C_out}")
        self.relu = nn.ReLU(inplace=False)
        self.conv_1 = nn.Conv2d(C_in, C_out // 2, 1, stride=2, padding=0, bias=False)
        self.conv_2 = nn.Conv2d(C_in, C_out // 2, 1, stride=2, padding=0, bias=False)
        self.bn = nn.BatchNorm2d(C_out, affine=affine)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(x)
        shifted = nn.functional.pad(x[:, :, 1:, 1:], (0, 1, 0, 1)) if x.shape[-1] % 2 else x[:, :, 1:, 1:]
        return self.bn(torch.cat([self.conv_1(x), self.conv_2(shifted)], dim=1))


# ---- the shared computation ---------------------------------------------------------------------
class _CellModule(nn.Module):
    """Preprocessing, node sums and the concatenation, shared by DagCell and SearchCell."""

    def __init__(self, num_inputs: int, num_nodes: int, concat: Sequence[int], C: int,  # noqa: N803
                 reduction: bool, in_channels: Sequence[int] | int | None, reduction_prev: bool,
                 affine: bool) -> None:
        super().__init__()
        if not isinstance(C, int) or C < 1:
            raise CellError(f"C must be a positive int, got {C!r}")
        self.num_inputs = num_inputs
        self.num_nodes = num_nodes
        self.C = C
        self.reduction = bool(reduction)
        self.concat = list(concat)
        self.out_channels = len(self.concat) * C
        if isinstance(in_channels, int):
            in_channels = (in_channels,) * num_inputs
        if in_channels is not None and len(in_channels) != num_inputs:
            raise CellError(f"in_channels: one width per input ({num_inputs}), got {tuple(in_channels)}")
        self.in_channels = None if in_channels is None else tuple(int(c) for c in in_channels)
        self.where = ""  # the key path of the cell's recipe in its space, for error messages
        pre: list[nn.Module] = []
        for k in range(num_inputs):
            c_in = C if self.in_channels is None else self.in_channels[k]
            if reduction_prev and k == 0 and num_inputs > 1:
                pre.append(FactorizedReduce(c_in, C, affine=affine))
            elif self.in_channels is not None:
                pre.append(ReLUConvBN(c_in, C, 1, 1, 0, affine=affine))
            else:
                pre.append(nn.Identity())
        self.preprocess = nn.ModuleList(pre)

    def stride(self, src: int) -> int:
        """The stride of an edge from state ``src``: 2 from the inputs of a reduction cell."""
        return 2 if self.reduction and src < self.num_inputs else 1

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        if len(inputs) != self.num_inputs:
            hint = " (call it as cell(s0, s1))" if self.num_inputs == 2 else ""
            raise CellError(f"{self._name()} with {self.num_inputs} input(s) was called with "
                            f"{len(inputs)}{hint}")
        states = []
        for k, (x, pre) in enumerate(zip(inputs, self.preprocess)):
            expected = self.C if self.in_channels is None else self.in_channels[k]
            if x.dim() < 2 or x.shape[1] != expected:
                got = x.shape[1] if x.dim() >= 2 else "no"
                raise CellError(
                    f"{self._name()}: input {k} has {got} channels (shape {tuple(x.shape)}) "
                    f"but the cell expects {expected} (C={self.C}"
                    + (f", in_channels={self.in_channels})" if self.in_channels else ")")
                    + "; give C the input's width, or in_channels=(...) to add 1x1 preprocessing")
            states.append(pre(x))
        for i in range(self.num_nodes):
            states.append(self.node(i, states))
        return torch.cat([states[j] for j in self.concat], dim=1)

    def _name(self) -> str:
        return f"{type(self).__name__} at {self.where}" if self.where else type(self).__name__

    def node(self, i: int, states: list[torch.Tensor]) -> torch.Tensor:
        raise NotImplementedError


def _check_ops(ops: Any, names: Sequence[Any], where: Callable[[Any], str]) -> None:
    if not isinstance(ops, Mapping):
        raise CellError(f"ops must be a dict of name -> fn(C, stride) -> module, got {type(ops).__name__}")
    for name in names:
        if not isinstance(name, str) or name not in ops:
            known = ", ".join(repr(k) for k in ops)
            raise CellError(f"{where(name)}: {name!r} is not in ops (ops has {known})")


def _make_op(ops: Mapping[str, OpFactory], name: str, C: int, stride: int, what: str,  # noqa: N803
             affine: bool = True) -> nn.Module:
    """``ops[name](C, stride)``; a factory with an ``affine`` parameter (the paper's ``OPS``
    lambdas take ``(C, stride, affine)``) also gets the cell's ``affine``."""
    factory = ops[name]
    module = factory(C, stride, affine=affine) if _takes_affine(factory) else factory(C, stride)
    if not isinstance(module, nn.Module):
        raise CellError(f"{what}: ops[{name!r}](C={C}, stride={stride}) returned "
                        f"{type(module).__name__}, not a torch.nn.Module")
    return module


def _takes_affine(factory: Any) -> bool:
    try:
        params = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        return False
    return "affine" in params


class DagCell(_CellModule):
    """A materialized cell as a module (see the module docstring; ``sbt.DagCell`` is its recipe).

    Args:
        cell: a materialized ``sb.Cell`` (e.g. ``sb.materialize(sb.dag_cell(...), dna)``) whose
            ops are names in ``ops``.
        C: the channels of every state inside the cell.
        ops: ``{name: fn(C, stride) -> nn.Module}``.
        reduction: stride 2 on the edges from the inputs (the output has half the resolution).
        in_channels: the inputs' channels (an int for all); adds 1x1 ReLU-conv-BN preprocessing
            to ``C``. Without it the inputs must have ``C`` channels.
        reduction_prev: the first input has twice the resolution (the cell before it reduced):
            a factorized reduce brings it to the others'.
        affine: whether the preprocessing's batch norms are affine (the DARTS search: False);
            op factories with an ``affine`` parameter (the paper's ``OPS`` lambdas, ``(C,
            stride, affine)``) get it too.
    """

    def __init__(self, cell: Cell, C: int, ops: Mapping[str, OpFactory], reduction: bool = False,  # noqa: N803
                 *, in_channels: Sequence[int] | int | None = None, reduction_prev: bool = False,
                 affine: bool = True) -> None:
        if not isinstance(cell, Cell):
            raise CellError("cell must be a sb.Cell (sb.dag_cell(...), materialized), "
                            f"got {type(cell).__name__}")
        if not is_deterministic(cell):
            raise CellError("DagCell needs a materialized cell (it still has markers): "
                            "sb.materialize it, or search it with sbt.DARTS or sbt.OneShot")
        super().__init__(cell.num_inputs, len(cell.nodes), cell.concat, C, reduction, in_channels,
                         reduction_prev, affine)
        self.edge_ops = cell.edge_ops
        if self.reduction and not self.edge_ops:
            raise CellError("a reduction cell needs one op per edge (sb.dag_cell(..., edge_ops=True)): "
                            "a node's inputs would have different resolutions")
        names = []
        for i, node in enumerate(cell.nodes):
            names += [(f"cell.nodes[{i}].ops[{k}]", op) for k, op in enumerate(node.ops)] if self.edge_ops \
                else [(f"cell.nodes[{i}].op", node.op)]
        for where, name in names:
            _check_ops(ops, [name], lambda _n, w=where: w)
        self.edges: list[tuple[int, int]] = []  # (node, source state) per module in ``ops``
        modules = []
        for i, node in enumerate(cell.nodes):
            if self.edge_ops:
                for k, (j, name) in enumerate(zip(node.inputs, node.ops)):
                    self.edges.append((i, int(j)))
                    modules.append(_make_op(ops, name, C, self.stride(int(j)), f"cell.nodes[{i}].ops[{k}]",
                                            affine))
            else:
                self.edges += [(i, int(j)) for j in node.inputs]
                modules.append(_make_op(ops, node.op, C, 1, f"cell.nodes[{i}].op", affine))
        self.ops = nn.ModuleList(modules)
        self.genotype_ = cell.genotype() if self.edge_ops else None

    def node(self, i: int, states: list[torch.Tensor]) -> torch.Tensor:
        if not self.edge_ops:
            return self.ops[i](sum(states[j] for n, j in self.edges if n == i))
        out = None
        for e, (n, j) in enumerate(self.edges):
            if n == i:
                y = self.ops[e](states[j])
                out = y if out is None else out + y
        assert out is not None
        return out


# ---- the search cell ----------------------------------------------------------------------------
class CellState(DecisionState):
    """The architecture weights of a cell space: one row per predecessor edge, one column per op.

    ``edges[e] = (node, source)``; ``none`` holds the indices of the 'none' ops (never chosen
    by the derivation); ``inputs_keys[i]`` and ``op_keys[i][k]`` are the decision keys of node
    ``i``'s inputs and of the op of its k-th input.
    """

    def __init__(self, key: str, op_names: Sequence[str], num_inputs: int, num_nodes: int,
                 in_degree: int, inputs_keys: Sequence[str], op_keys: Sequence[Sequence[str]],
                 none: Sequence[int] = ()) -> None:
        self.edges = [(i, j) for i in range(num_nodes) for j in range(num_inputs + i)]
        super().__init__(key, "cell", len(op_names), positions=len(self.edges), literals=op_names)
        self.op_names = tuple(op_names)
        self.num_inputs = num_inputs
        self.num_nodes = num_nodes
        self.in_degree = in_degree
        self.inputs_keys = list(inputs_keys)
        self.op_keys = [list(k) for k in op_keys]
        self.none = frozenset(none)

    @property
    def keys(self) -> list[str]:
        """Every decision key of the cell, node by node (inputs, then the ops)."""
        return [k for i in range(self.num_nodes) for k in [self.inputs_keys[i], *self.op_keys[i]]]

    def node_edges(self, i: int) -> list[int]:
        """The edge indices into node ``i``, by source."""
        return [e for e, (n, _) in enumerate(self.edges) if n == i]

    def decision_values(self, inputs: Mapping[int, Sequence[int]], ops: Mapping[int, int]) -> dict[str, Any]:
        """DNA values (by decision key) of a discrete cell: ``inputs[node]`` (sorted sources)
        and ``ops[edge]`` (an op index per kept edge)."""
        out: dict[str, Any] = {}
        for i in range(self.num_nodes):
            sources = sorted(int(j) for j in inputs[i])
            out[self.inputs_keys[i]] = sources
            for k, j in enumerate(sources):
                out[self.op_keys[i][k]] = int(ops[self.edges.index((i, j))])
        return out

    def __repr__(self) -> str:
        return (f"CellState({self.key!r}, {self.num_nodes} nodes, {len(self.edges)} edges x "
                f"{self.num_candidates} ops)")


class SearchCell(_CellModule):
    """DARTS's search cell over a cell space: a mixed op on every predecessor edge.

    Edge ``e`` of ``state.edges`` mixes ``ops[name](C, stride)`` for every op name with the
    weights of row ``e`` of the cell's alpha; a removed edge (OFF) is skipped.
    """

    def __init__(self, state: CellState, relaxation: Relaxation, C: int, ops: Mapping[str, OpFactory],  # noqa: N803
                 reduction: bool = False, *, in_channels: Sequence[int] | int | None = None,
                 reduction_prev: bool = False, affine: bool = True) -> None:
        first = state.num_inputs
        super().__init__(first, state.num_nodes, range(first, first + state.num_nodes), C, reduction,
                         in_channels, reduction_prev, affine)
        self.state = state
        object.__setattr__(self, "relaxation", relaxation)
        self.edges = list(state.edges)
        mixed = []
        for e, (i, j) in enumerate(self.edges):
            candidates = [_make_op(ops, name, C, self.stride(j), f"edge node{i} <- state {j}", affine)
                          for name in state.op_names]
            # a Zero module is DARTS's 'none' whatever its name: never chosen by the derivation
            state.none = state.none | {o for o, m in enumerate(candidates) if isinstance(m, Zero)}
            assignments = [(o,) for o in range(len(candidates))]
            mixed.append(MixedOp(candidates, assignments, [(state, e)], relaxation))
        self.ops = nn.ModuleList(mixed)

    def node(self, i: int, states: list[torch.Tensor]) -> torch.Tensor:
        relax: Relaxation = self.relaxation  # type: ignore[assignment]
        out = None
        for e in self.state.node_edges(i):
            if relax.gate(self.state, e).off:
                continue
            y = self.ops[e](states[self.edges[e][1]])
            out = y if out is None else out + y
        if out is None:  # every edge removed: the node is zero
            x = states[0]
            stride = 2 if self.reduction else 1
            return x[:, :, ::stride, ::stride].mul(0.0)
        return out

    def extra_repr(self) -> str:
        return f"cell={self.state.key!r}, edges={len(self.edges)}, ops={list(self.state.op_names)}"


class CellStack(nn.Module):
    """The paper's network body: ``s0 = s1 = stem(x)``, then ``s0, s1 = s1, cell(s0, s1)`` per
    cell (one-input cells get ``s1``), then ``head(s1)``.

    >>> import torch
    >>> from symbo.backends.torch.cells import CellStack
    >>> net = CellStack(torch.nn.Identity(), [torch.nn.ReLU()], torch.nn.Flatten())
    >>> net(torch.ones(2, 3, 1)).shape
    torch.Size([2, 3])
    """

    def __init__(self, stem: nn.Module, cells: Sequence[nn.Module], head: nn.Module) -> None:
        super().__init__()
        self.stem = stem
        self.cells = nn.ModuleList(cells)
        self.head = head

    def forward(self, x: torch.Tensor) -> Any:
        s0 = s1 = self.stem(x)
        for cell in self.cells:
            if getattr(cell, "num_inputs", 1) == 2:
                s0, s1 = s1, cell(s0, s1)
            else:
                s0, s1 = s1, cell(s1)
        return self.head(s1)


def genotype(normal: Cell, reduce: Cell | None = None) -> Genotype:
    """The DARTS paper's ``Genotype`` of materialized cells (one op per edge).

    >>> import symbo as sb
    >>> from symbo.backends import torch as sbt
    >>> cell = sb.Cell(num_inputs=2, nodes=[sb.CellNode(inputs=[0, 1], ops=["sep_conv_3x3", "skip_connect"])])
    >>> sbt.genotype(cell, cell).reduce
    [('sep_conv_3x3', 0), ('skip_connect', 1)]
    """

    def concat(cell: Cell) -> Any:
        c = cell.concat
        return range(c[0], c[-1] + 1) if c and c == list(range(c[0], c[-1] + 1)) else c

    return Genotype(normal=normal.genotype(), normal_concat=concat(normal),
                    reduce=None if reduce is None else reduce.genotype(),
                    reduce_concat=None if reduce is None else concat(reduce))


__all__ = ["CellError", "CellStack", "CellState", "DagCell", "FactorizedReduce", "Genotype",
           "ReLUConvBN", "SearchCell", "genotype"]
