"""Graph-shaped spaces: DAG cells whose nodes choose their inputs and an operation.

``dag_cell`` writes the space with ordinary markers (so every algorithm searches it);
``cell_graph`` turns a materialized cell into a ``networkx.DiGraph``; ``graph_hash`` gives a
Weisfeiler-Lehman hash that is the same for isomorphic cells, so a search can skip an
architecture it has already evaluated under another numbering.

>>> import symbo as sb
>>> space = sb.dag_cell(num_nodes=3, ops=["conv3x3", "maxpool", "skip"])
>>> a = sb.random_sample(space, seed=0)
>>> g = sb.cell_graph(a)
>>> sorted(g.nodes)[:3], g.nodes["output"]["label"]
(['input0', 'input1', 'node0'], 'output')
>>> sb.graph_hash(a) == sb.graph_hash(sb.clone(a))
True
"""

from __future__ import annotations

import hashlib
import warnings
from typing import Any

import networkx as nx

from symbo.core import Object, Symbolic, SymbolicValueError, clone, sym_hash
from symbo.core.formatting import format as sym_format
from symbo.dsl.markers import Marker, many_of, one_of


class CellNode(Object, type_name="symbo.CellNode"):
    """One node of a cell: the indices of its inputs (earlier nodes) and its operation."""

    inputs: list[int] = []
    op: Any = None


class Cell(Object, type_name="symbo.Cell"):
    """A DAG cell: ``num_inputs`` inputs (indices 0..num_inputs-1), then ``nodes`` in order.

    Node ``i`` has index ``num_inputs + i``; it may read any smaller index. Nodes that no other
    node reads are the cell's output (concatenated, as in NASNet/DARTS cells).
    """

    num_inputs: int = 2
    nodes: list[CellNode] = []

    def _on_bound(self) -> None:
        if self.num_inputs < 1:
            raise SymbolicValueError(f"Cell: num_inputs must be >= 1, got {self.num_inputs}")
        for i, node in enumerate(self.nodes):
            inputs = node.inputs
            if isinstance(inputs, Marker) or not isinstance(node, CellNode):
                continue
            limit = self.num_inputs + i
            for j in inputs:
                if not isinstance(j, Marker) and not 0 <= j < limit:
                    raise SymbolicValueError(
                        f"nodes[{i}].inputs: node {i} can read indices 0..{limit - 1}, got {j}"
                    )

    def to_graph(self) -> nx.DiGraph:
        """This cell as a networkx DiGraph (see :func:`cell_graph`)."""
        return cell_graph(self)


def dag_cell(num_nodes: int, ops: list[Any], *, num_inputs: int = 2, in_degree: int = 2,
             name: str | None = None) -> Cell:
    """A cell space: each node picks ``in_degree`` distinct earlier nodes and one of ``ops``.

    With ``name``, decisions are named ``{name}.node{i}.inputs`` and ``{name}.node{i}.op``.
    """
    if num_nodes < 1 or in_degree < 1 or not ops:
        raise SymbolicValueError("dag_cell needs num_nodes >= 1, in_degree >= 1 and some ops")
    nodes = []
    for i in range(num_nodes):
        available = num_inputs + i
        prefix = f"{name}.node{i}." if name else None
        nodes.append(CellNode(
            inputs=many_of(min(in_degree, available), list(range(available)), distinct=True,
                           sorted=True, name=prefix and prefix + "inputs"),
            op=one_of(list(ops), name=prefix and prefix + "op"),
        ))
    return Cell(num_inputs=num_inputs, nodes=nodes)


def _label(op: Any) -> str:
    return op if isinstance(op, str) else sym_format(op, compact=True)


def cell_graph(cell: Cell) -> nx.DiGraph:
    """A materialized cell as a DiGraph: nodes ``input{k}``, ``node{i}``, ``output``.

    Each node has a ``label`` attribute (the op's text for cell nodes); edges go from inputs to
    readers, and from every node that nobody reads to ``output``.
    """
    if not isinstance(cell, Cell):
        raise SymbolicValueError(f"cell_graph needs a Cell, got {type(cell).__name__}")
    from symbo.dsl.materialize import is_deterministic

    if not is_deterministic(cell):
        raise SymbolicValueError("cell_graph needs a materialized cell (it still has markers)")
    g = nx.DiGraph()
    names = [f"input{k}" for k in range(cell.num_inputs)]
    for k, n in enumerate(names):
        g.add_node(n, label=f"input{k}")
    read: set[int] = set()
    for i, node in enumerate(cell.nodes):
        n = f"node{i}"
        g.add_node(n, label=_label(node.op))
        for j in node.inputs:
            g.add_edge(names[j], n)
            read.add(j)
        names.append(n)
    g.add_node("output", label="output")
    for j in range(cell.num_inputs, len(names)):
        if j not in read:
            g.add_edge(names[j], "output")
    return g


def graph_hash(value: Any, iterations: int = 3) -> str:
    """A hash that is equal for programs equal up to isomorphism of the cells inside them.

    For a Cell: the Weisfeiler-Lehman hash of its graph (isomorphic cells always agree;
    non-isomorphic ones collide only in rare, regular graphs). For any other program: a hash of
    the program with every Cell replaced by its graph hash.
    """
    if isinstance(value, Cell):
        with warnings.catch_warnings():  # networkx >= 3.5 notes that directed hashes changed
            warnings.simplefilter("ignore", UserWarning)
            return nx.weisfeiler_lehman_graph_hash(cell_graph(value), node_attr="label",
                                                   iterations=iterations)
    if not isinstance(value, Symbolic):
        return _hex(sym_hash(value))
    replaced = clone(value, replace=lambda n: f"<cell {graph_hash(n, iterations)}>"
                     if isinstance(n, Cell) else n)
    return hashlib.blake2b(sym_format(replaced, compact=True).encode(), digest_size=16).hexdigest()


def _hex(h: int) -> str:
    return hashlib.blake2b(str(h).encode(), digest_size=16).hexdigest()
