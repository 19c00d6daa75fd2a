"""Cells seen from the DNA spec: which decisions make which graph, and the graph of a DNA.

Algorithms see only the DNA spec and DNA, never the program; a graph-aware algorithm (a
Weisfeiler-Lehman kernel, a search in the cell's edit graph) still needs the graph a DNA
stands for. ``dna_spec`` therefore records, for every :class:`~symbo.dsl.graph.Cell` of the
space whose structure is fixed (its number of inputs and nodes are not markers), a
:class:`CellLayout`: for each node, its inputs (fixed indices, or the id of the ``many_of``
that chooses them) and its op or ops (fixed labels, or the ids of the ``one_of``\\ s that
choose them). ``spec.cells`` lists them; ``layout.edges(dna)`` gives the labelled graph of a
DNA as plain data, ``layout.graph(dna)`` as the same ``networkx.DiGraph`` that
:func:`~symbo.dsl.graph.cell_graph` gives for the materialized cell.

>>> import symbo as sb
>>> space = sb.Dict(cell=sb.dag_cell(num_nodes=2, ops=["conv", "pool"]), lr=sb.one_of([0.1, 0.01]))
>>> spec = sb.dna_spec(space)
>>> [layout.path for layout in spec.cells], spec.cells[0].decisions[:2]
(['cell'], ('cell.nodes[0].inputs', 'cell.nodes[0].ops[0]'))
>>> dna = sb.random_dna(spec, seed=0)
>>> g = spec.cells[0].graph(dna)
>>> sorted(g.edges(data="op")) == sorted(sb.cell_graph(sb.materialize(space, dna).cell).edges(data="op"))
True
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs

from symbo.dsl.dna import DNA
from symbo.dsl.markers import Marker

if TYPE_CHECKING:
    import networkx as nx

    from symbo.dsl.points import Choice
    from symbo.dsl.spec import DNASpec

Label = str


@attrs.frozen(slots=True)
class Slot:
    """A part of a cell that is either fixed (``value``) or decided (``decision``: the id of
    the decision point, whose candidates are the values)."""

    value: Any = None
    decision: str | None = None


@attrs.frozen(slots=True)
class NodeLayout:
    """One node of a cell: its ``inputs`` (a Slot whose value is a tuple of indices, or the
    many_of choosing them) and its ``ops`` (one Slot per input) or ``op`` (one Slot)."""

    inputs: Slot
    ops: tuple[Slot, ...] | None = None
    op: Slot | None = None


@attrs.frozen(slots=True, eq=False)
class CellLayout:
    """The graph structure of one cell of a space, in terms of its decision points.

    ``path`` is where the cell stands (the id prefix of its decisions), ``num_inputs`` and
    ``nodes`` mirror :class:`~symbo.dsl.graph.Cell`, ``edge_ops`` says whether each input
    edge has its own op, ``decisions`` are the ids of the decisions inside the cell.
    """

    path: str
    num_inputs: int
    nodes: tuple[NodeLayout, ...]
    edge_ops: bool
    decisions: tuple[str, ...]
    spec: DNASpec = attrs.field(repr=False)

    def is_active(self, dna: DNA) -> bool:
        """Whether ``dna`` decides this cell (False when it sits under an unchosen candidate)."""
        dna = _with_spec(dna, self.spec)
        return all(dna[d] is not None for d in self.decisions)

    def edges(self, dna: DNA) -> tuple[list[Label], list[tuple[int, int, Label | None]]] | None:
        """``(labels, edges)`` of the cell ``dna`` makes, or None when it does not decide it.

        Vertices are numbered as :func:`~symbo.dsl.graph.cell_graph` names them: the inputs
        ``0..num_inputs-1`` (labels ``input{k}``), the nodes, then the output (label
        ``output``); a node's label is its op (one op per node) or ``"node"``. ``edges`` are
        ``(source, target, op)`` with the op's label for cells with one op per edge (two
        inputs from one state join as ``a+b``, sorted), ``None`` otherwise.

        >>> import symbo as sb
        >>> spec = sb.dna_spec(sb.dag_cell(1, ["conv", "pool"], num_inputs=1, in_degree=1))
        >>> spec.cells[0].edges(sb.DNA.from_numbers(spec, [0, 1]))
        (['input0', 'node', 'output'], [(0, 1, 'pool'), (1, 2, None)])
        """
        dna = _with_spec(dna, self.spec)
        labels = [f"input{k}" for k in range(self.num_inputs)]
        joined: dict[tuple[int, int], Label | None] = {}
        by_id = self.spec.by_id
        for i, node in enumerate(self.nodes):
            me = self.num_inputs + i
            inputs = _read_inputs(node.inputs, dna, by_id)
            if inputs is None:
                return None
            if self.edge_ops:
                labels.append("node")
                for j, slot in zip(inputs, node.ops or ()):
                    op = _read_label(slot, dna, by_id)
                    if op is None:
                        return None
                    if (j, me) in joined:
                        op = "+".join(sorted([joined[j, me] or "", op]))
                    joined[j, me] = op
            else:
                op = _read_label(node.op, dna, by_id) if node.op is not None else "None"
                if op is None:
                    return None
                labels.append(op)
                for j in inputs:
                    joined[j, me] = None
        out = len(labels)
        labels.append("output")
        edges = [(j, k, op) for (j, k), op in joined.items()]
        first = self.num_inputs
        concat = range(first, first + len(self.nodes))
        if not self.edge_ops:
            read = {j for j, _, _ in edges}
            concat = [j for j in concat if j not in read]  # type: ignore[assignment]
        edges.extend((j, out, None) for j in concat)
        return labels, edges

    def graph(self, dna: DNA) -> nx.DiGraph:
        """The cell of ``dna`` as a DiGraph, as :func:`~symbo.dsl.graph.cell_graph` makes it
        from the materialized cell (raises SymbolicValueError when ``dna`` does not decide
        this cell)."""
        import networkx as nx

        from symbo.core import SymbolicValueError

        found = self.edges(dna)
        if found is None:
            raise SymbolicValueError(f"this DNA does not decide the cell at {self.path!r} "
                                     "(it sits under a candidate that is not chosen)")
        labels, edges = found
        names = ([f"input{k}" for k in range(self.num_inputs)]
                 + [f"node{i}" for i in range(len(self.nodes))] + ["output"])
        g = nx.DiGraph()
        for name, label in zip(names, labels):
            g.add_node(name, label=label)
        for j, k, op in edges:
            if self.edge_ops and k != len(names) - 1:
                g.add_edge(names[j], names[k], op=op)
            else:
                g.add_edge(names[j], names[k])
        return g


def _with_spec(dna: DNA, spec: DNASpec) -> DNA:
    return dna if dna.spec is spec else dna.use_spec(spec)


def _read_inputs(slot: Slot, dna: DNA, by_id: dict[str, Any]) -> tuple[int, ...] | None:
    if slot.decision is None:
        return slot.value
    picks = dna[slot.decision]
    if picks is None:
        return None
    choice = by_id[slot.decision]
    if not isinstance(picks, list):
        picks = [picks]
    return tuple(int(choice.candidates[p.value].value) for p in picks)


def _read_label(slot: Slot, dna: DNA, by_id: dict[str, Any]) -> Label | None:
    if slot.decision is None:
        return slot.value
    pick = dna[slot.decision]
    if pick is None:
        return None
    return candidate_label(by_id[slot.decision], pick.value)


def candidate_label(choice: Choice, index: int) -> Label:
    """The label :func:`~symbo.dsl.graph.cell_graph` gives candidate ``index`` of an op
    choice: the string itself, or the candidate's compact text."""
    c = choice.candidates[index]
    return c.value if isinstance(c.value, str) else c.literal


# ---- building (called by dna_spec) -------------------------------------------------------------
def build_layout(cell: Any, path: str, decision_of: Callable[[Marker, str], str | None],
                 spec: DNASpec) -> CellLayout | None:
    """The layout of ``cell`` (a Cell standing at ``path``), or None when its structure is
    not fixed or a marker in it is not a decision of this spec. ``decision_of(marker, id)``
    gives the id of the decision point deciding ``marker`` (written at ``id``)."""
    from symbo.dsl.graph import CellNode, _label

    if isinstance(cell.num_inputs, Marker) or isinstance(cell.nodes, Marker):
        return None
    prefix = f"{path}." if path else ""
    nodes: list[NodeLayout] = []
    decisions: list[str] = []

    def slot(value: Any, at: str, convert: Callable[[Any], Any]) -> Slot | None:
        if isinstance(value, Marker):
            did = decision_of(value, prefix + at)
            if did is None:
                return None
            if did not in decisions:
                decisions.append(did)
            return Slot(decision=did)
        if isinstance(value, (list, tuple)) and any(isinstance(v, Marker) for v in value):
            return None
        return Slot(value=convert(value))

    for i, node in enumerate(cell.nodes):
        if not isinstance(node, CellNode):
            return None
        inputs = slot(node.inputs, f"nodes[{i}].inputs", lambda v: tuple(int(j) for j in v))
        if inputs is None:
            return None
        if node.ops is not None:
            if isinstance(node.ops, Marker):
                return None
            ops = [slot(op, f"nodes[{i}].ops[{k}]", _label) for k, op in enumerate(node.ops)]
            if any(s is None for s in ops):
                return None
            nodes.append(NodeLayout(inputs, ops=tuple(ops)))  # type: ignore[arg-type]
        else:
            op = slot(node.op, f"nodes[{i}].op", _label)
            if op is None:
                return None
            nodes.append(NodeLayout(inputs, op=op))
    edge_ops = any(n.ops is not None for n in nodes)
    if edge_ops and any(n.ops is None for n in nodes):
        return None
    return CellLayout(path, int(cell.num_inputs), tuple(nodes), edge_ops, tuple(decisions), spec)
