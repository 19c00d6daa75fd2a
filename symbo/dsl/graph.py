"""Graph-shaped spaces: DAG cells whose nodes choose their inputs and operations.

``dag_cell`` writes the space with ordinary markers (so every algorithm searches it). With
``edge_ops=True`` (the default) each node reads ``in_degree`` distinct earlier states, each
through an op of its own: the genotype of DARTS and NASNet cells. With ``edge_ops=False`` a
node sums its inputs and applies one op. ``cell_graph`` turns a materialized cell into a
``networkx.DiGraph``; ``graph_hash`` gives a Weisfeiler-Lehman hash that is the same for
isomorphic cells (ops on edges and nodes included), so a search can skip an architecture it
has already evaluated under another numbering.

>>> import symbo as sb
>>> space = sb.dag_cell(num_nodes=3, ops=["conv3x3", "maxpool", "skip"], name="normal")
>>> [d.name for d in sb.dna_spec(space)][:3]
['normal.node0.inputs', 'normal.node0.op0', 'normal.node0.op1']
>>> a = sb.random_sample(space, seed=0)
>>> g = sb.cell_graph(a)
>>> sorted(g.nodes)[:3], g.nodes["output"]["label"]
(['input0', 'input1', 'node0'], 'output')
>>> g.edges["input0", "node0"]["op"] == a.nodes[0].ops[0]
True
>>> sb.graph_hash(a) == sb.graph_hash(sb.clone(a))
True
"""

from __future__ import annotations

import hashlib
import warnings
from typing import TYPE_CHECKING, Any

from symbo.core import Object, Symbolic, SymbolicValueError, clone, sym_hash
from symbo.core.formatting import format as sym_format
from symbo.dsl.markers import Marker, many_of, one_of

if TYPE_CHECKING:  # networkx is imported when a graph is built, not with symbo
    import networkx as nx


class CellNode(Object, type_name="symbo.CellNode"):
    """One node of a cell: the indices of its inputs (earlier states) and its operation(s).

    A node has either ``op`` (applied to the sum of its inputs) or ``ops``, one per input in
    the order of ``inputs`` (each input goes through its op, and the node sums the results).
    """

    inputs: list[int] = []
    op: Any = None
    ops: list[Any] | None = None

    @property
    def edge_ops(self) -> bool:
        """True when this node has one op per input (``ops``)."""
        return self.ops is not None


class Cell(Object, type_name="symbo.Cell"):
    """A DAG cell: ``num_inputs`` inputs (indices 0..num_inputs-1), then ``nodes`` in order.

    Node ``i`` has index ``num_inputs + i``; it may read any smaller index. The cell's output
    concatenates its intermediate nodes: all of them when the nodes have one op per edge (as
    DARTS's cells), the nodes that no other node reads otherwise (as NASNet's).

    >>> import symbo as sb
    >>> cell = sb.Cell(num_inputs=2, nodes=[sb.CellNode(inputs=[0, 1], ops=["conv", "skip"]),
    ...                                     sb.CellNode(inputs=[0, 2], ops=["pool", "conv"])])
    >>> cell.genotype(), cell.concat
    ([('conv', 0), ('skip', 1), ('pool', 0), ('conv', 2)], [2, 3])
    """

    num_inputs: int = 2
    nodes: list[CellNode] = []

    def _on_bound(self) -> None:
        if self.num_inputs < 1:
            raise SymbolicValueError(f"Cell: num_inputs must be >= 1, got {self.num_inputs}")
        for i, node in enumerate(self.nodes):
            if not isinstance(node, CellNode):
                continue
            inputs = node.inputs
            if node.ops is not None and node.op is not None:
                raise SymbolicValueError(
                    f"nodes[{i}]: a node has one op (op=) or one op per input (ops=), not both")
            if isinstance(inputs, Marker):
                continue
            limit = self.num_inputs + i
            for j in inputs:
                if not isinstance(j, Marker) and not 0 <= j < limit:
                    raise SymbolicValueError(
                        f"nodes[{i}].inputs: node {i} can read indices 0..{limit - 1}, got {j}"
                    )
            ops = node.ops
            if ops is not None and not isinstance(ops, Marker) and len(ops) != len(inputs):
                raise SymbolicValueError(
                    f"nodes[{i}].ops: node {i} has {len(inputs)} inputs but {len(ops)} ops "
                    "(one op per input)"
                )

    @property
    def edge_ops(self) -> bool:
        """True when the nodes have one op per input edge (the DARTS/NASNet genotype)."""
        return any(isinstance(n, CellNode) and n.ops is not None for n in self.nodes)

    @property
    def concat(self) -> list[int]:
        """The indices of the states the output concatenates (see the class docstring)."""
        first = self.num_inputs
        indices = range(first, first + len(self.nodes))
        if self.edge_ops:
            return list(indices)
        read = {j for node in self.nodes for j in node.inputs}
        return [j for j in indices if j not in read]

    def genotype(self) -> list[tuple[Any, int]]:
        """``[(op, input index), ...]`` node by node, as DARTS's ``Genotype`` lists a cell.

        Needs a materialized cell with one op per edge.
        """
        _check_materialized(self, "genotype")
        if not self.edge_ops:
            raise SymbolicValueError("genotype needs a cell with one op per edge "
                                     "(sb.dag_cell(..., edge_ops=True))")
        return [(_label(op) if not isinstance(op, str) else op, int(j))
                for node in self.nodes for j, op in zip(node.inputs, node.ops)]

    def to_graph(self) -> nx.DiGraph:
        """This cell as a networkx DiGraph (see :func:`cell_graph`)."""
        return cell_graph(self)


def dag_cell(num_nodes: int, ops: list[Any], num_inputs: int = 2, in_degree: int = 2,
             edge_ops: bool = True, name: str | None = None) -> Cell:
    """A cell space: each node reads ``in_degree`` distinct earlier states.

    With ``edge_ops=True`` each of a node's inputs goes through its own op, one of ``ops``
    (DARTS's and NASNet's genotype); with ``edge_ops=False`` the node has one op. With
    ``name``, decisions are named ``{name}.node{i}.inputs`` and ``{name}.node{i}.op{k}`` (the
    op of the k-th input, inputs in increasing order), or ``{name}.node{i}.op``; cells made
    with one name are one decision (stacked cells share it).

    >>> import symbo as sb
    >>> spec = sb.dna_spec(sb.dag_cell(2, ["conv", "pool"]))
    >>> [d.id for d in spec][:3], spec.space_size
    (['nodes[0].inputs', 'nodes[0].ops[0]', 'nodes[0].ops[1]'], 48)
    """
    if num_nodes < 1 or in_degree < 1 or not ops:
        raise SymbolicValueError("dag_cell needs num_nodes >= 1, in_degree >= 1 and some ops")
    if num_inputs < 1:
        raise SymbolicValueError(f"dag_cell needs num_inputs >= 1, got {num_inputs}")
    if in_degree > num_inputs:
        raise SymbolicValueError(
            f"dag_cell: nodes[0].inputs: in_degree={in_degree} is larger than the {num_inputs} "
            f"input{'s' if num_inputs > 1 else ''} node 0 can read; use in_degree <= "
            f"num_inputs (in_degree={num_inputs}) or more inputs"
        )
    nodes = []
    for i in range(num_nodes):
        available = num_inputs + i
        prefix = f"{name}.node{i}." if name else None
        inputs = many_of(in_degree, list(range(available)), distinct=True, sorted=True,
                         name=prefix and prefix + "inputs")
        if edge_ops:
            node = CellNode(inputs=inputs, ops=[one_of(list(ops), name=prefix and f"{prefix}op{k}")
                                                for k in range(in_degree)])
        else:
            node = CellNode(inputs=inputs, op=one_of(list(ops), name=prefix and prefix + "op"))
        nodes.append(node)
    return Cell(num_inputs=num_inputs, nodes=nodes)


def _label(op: Any) -> str:
    return op if isinstance(op, str) else sym_format(op, compact=True)


def _check_materialized(cell: Any, what: str) -> None:
    if not isinstance(cell, Cell):
        raise SymbolicValueError(f"{what} needs a Cell, got {type(cell).__name__}")
    from symbo.dsl.materialize import is_deterministic

    if not is_deterministic(cell):
        raise SymbolicValueError(f"{what} needs a materialized cell (it still has markers)")


def cell_graph(cell: Cell) -> nx.DiGraph:
    """A materialized cell as a DiGraph: nodes ``input{k}``, ``node{i}``, ``output``.

    Each node has a ``label``: ``input{k}``, ``output``, and for cell nodes their op's text
    (one op per node) or ``"node"`` (one op per edge). Edges go from inputs to readers, with
    the op as the edge attribute ``op`` when the cell has one op per edge (two edges between
    the same states show as one whose ``op`` joins both, e.g. ``conv+pool``), and from the
    nodes the output concatenates to ``output`` (see :attr:`Cell.concat`).

    >>> import symbo as sb
    >>> cell = sb.Cell(num_inputs=1, nodes=[sb.CellNode(inputs=[0], ops=["conv"])])
    >>> sorted(sb.cell_graph(cell).edges(data="op"))
    [('input0', 'node0', 'conv'), ('node0', 'output', None)]
    """
    _check_materialized(cell, "cell_graph")
    import networkx as nx

    g = nx.DiGraph()
    names = [f"input{k}" for k in range(cell.num_inputs)]
    for k, n in enumerate(names):
        g.add_node(n, label=f"input{k}")
    edge_ops = cell.edge_ops
    for i, node in enumerate(cell.nodes):
        n = f"node{i}"
        if edge_ops and node.ops is None:
            raise SymbolicValueError(f"nodes[{i}]: in a cell with one op per edge, every node "
                                     "needs ops= (one per input)")
        g.add_node(n, label="node" if edge_ops else _label(node.op))
        for k, j in enumerate(node.inputs):
            src = names[j]
            if edge_ops:
                op = _label(node.ops[k])
                if g.has_edge(src, n):
                    op = "+".join(sorted([g.edges[src, n]["op"], op]))
                g.add_edge(src, n, op=op)
            else:
                g.add_edge(src, n)
        names.append(n)
    g.add_node("output", label="output")
    for j in cell.concat:
        g.add_edge(names[j], "output")
    return g


def graph_hash(value: Any, iterations: int = 3) -> str:
    """A hash that is equal for programs equal up to isomorphism of the cells inside them.

    For a Cell: the Weisfeiler-Lehman hash of its graph, node labels and edge ops included
    (isomorphic cells always agree; non-isomorphic ones collide only in rare, regular graphs).
    For any other program: a hash of the program with every Cell replaced by its graph hash.

    >>> import symbo as sb
    >>> a = sb.Cell(num_inputs=1, nodes=[sb.CellNode(inputs=[0], ops=["conv"])])
    >>> b = sb.Cell(num_inputs=1, nodes=[sb.CellNode(inputs=[0], ops=["pool"])])
    >>> sb.graph_hash(a) == sb.graph_hash(b)
    False
    """
    if isinstance(value, Cell):
        g = cell_graph(value)
        edge_attr = None
        if value.edge_ops:
            for _, _, data in g.edges(data=True):
                data.setdefault("op", "")
                data["op"] = data["op"] or ""
            edge_attr = "op"
        import networkx as nx

        with warnings.catch_warnings():  # networkx >= 3.5 notes that directed hashes changed
            warnings.simplefilter("ignore", UserWarning)
            return nx.weisfeiler_lehman_graph_hash(g, node_attr="label", edge_attr=edge_attr,
                                                   iterations=iterations)
    if not isinstance(value, Symbolic):
        return _hex(sym_hash(value))
    replaced = clone(value, replace=lambda n: f"<cell {graph_hash(n, iterations)}>"
                     if isinstance(n, Cell) else n)
    return hashlib.blake2b(sym_format(replaced, compact=True).encode(), digest_size=16).hexdigest()


def _hex(h: int) -> str:
    return hashlib.blake2b(str(h).encode(), digest_size=16).hexdigest()
