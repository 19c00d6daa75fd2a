"""Tests of ``symbo.dsl.graph``: DAG cells, their graphs and isomorphism-invariant hashes."""

from __future__ import annotations

import random

import networkx as nx
import pytest

import symbo as sb

C, N = sb.Cell, sb.CellNode
OPS = ["conv", "pool", "skip"]


def cell(num_inputs: int, *nodes: tuple[list[int], str]) -> sb.Cell:
    return C(num_inputs=num_inputs, nodes=[N(inputs=list(i), op=op) for i, op in nodes])


def relabel(c: sb.Cell, seed: int) -> sb.Cell:
    """The same cell with its nodes renumbered in another topological order."""
    rng = random.Random(seed)
    k = c.num_inputs
    preds = {i: {j - k for j in node.inputs if j >= k} for i, node in enumerate(c.nodes)}
    order: list[int] = []
    while len(order) < len(c.nodes):
        ready = [i for i in preds if i not in order and preds[i] <= set(order)]
        order.append(rng.choice(ready))
    new_index = {k + old: k + pos for pos, old in enumerate(order)}
    mapping = {j: j for j in range(k)} | new_index
    nodes = []
    for old in order:
        node = c.nodes[old]
        if node.ops is None:
            nodes.append(N(inputs=sorted(mapping[j] for j in node.inputs), op=node.op))
        else:  # inputs stay sorted, each with its own op
            pairs = sorted((mapping[j], op) for j, op in zip(node.inputs, node.ops))
            nodes.append(N(inputs=[j for j, _ in pairs], ops=[op for _, op in pairs]))
    return C(num_inputs=k, nodes=nodes)


# ---- the space ---------------------------------------------------------------------------------
def test_dag_cell_space_has_an_inputs_and_an_op_decision_per_node():
    space = sb.dag_cell(num_nodes=3, ops=OPS, name="c", edge_ops=False)
    spec = sb.dna_spec(space)
    assert [d.id for d in spec] == [
        "nodes[0].inputs", "nodes[0].op", "nodes[1].inputs", "nodes[1].op",
        "nodes[2].inputs", "nodes[2].op",
    ]
    assert [d.name for d in spec][:2] == ["c.node0.inputs", "c.node0.op"]
    assert [[c.literal for c in d.candidates] for d in spec.decisions[::2]] == \
        [["0", "1"], ["0", "1", "2"], ["0", "1", "2", "3"]]
    # C(2,2)*3 * C(3,2)*3 * C(4,2)*3
    assert spec.space_size == (1 * 3) * (3 * 3) * (6 * 3)


def test_dag_cell_with_edge_ops_has_an_op_decision_per_input_edge():
    space = sb.dag_cell(3, OPS, name="normal")  # edge_ops=True is the default
    spec = sb.dna_spec(space)
    assert [d.id for d in spec][:4] == ["nodes[0].inputs", "nodes[0].ops[0]", "nodes[0].ops[1]",
                                        "nodes[1].inputs"]
    assert [d.name for d in spec][:4] == ["normal.node0.inputs", "normal.node0.op0",
                                          "normal.node0.op1", "normal.node1.inputs"]
    # per node: C(available, 2) input pairs times 3 ops on each of the 2 edges
    assert spec.space_size == (1 * 9) * (3 * 9) * (6 * 9)
    c = sb.random_sample(space, seed=3)
    assert all(len(n.ops) == len(n.inputs) == 2 and n.op is None for n in c.nodes)
    assert c.edge_ops and c.concat == [2, 3, 4]


def test_dag_cell_in_degree_and_inputs():
    space = sb.dag_cell(num_nodes=2, ops=["a"], num_inputs=1, in_degree=1)
    assert [n.inputs.k for n in space.nodes] == [1, 1]
    assert sb.dna_spec(space).space_size == 1 * 2
    assert sb.dna_spec(sb.dag_cell(2, ["a", "b"], in_degree=1, edge_ops=False)).space_size == \
        (2 * 2) * (3 * 2)
    assert sb.dna_spec(sb.dag_cell(2, ["a"])).decisions[0].name is None


def test_dag_cell_refuses_an_in_degree_larger_than_the_inputs_available():
    with pytest.raises(sb.SymbolicValueError,
                       match=r"nodes\[0\]\.inputs: in_degree=3 is larger than the 1 input node 0"):
        sb.dag_cell(num_nodes=2, ops=["a"], num_inputs=1, in_degree=3)
    with pytest.raises(sb.SymbolicValueError, match="in_degree=3 is larger than the 2 inputs"):
        sb.dag_cell(4, OPS, in_degree=3)
    with pytest.raises(sb.SymbolicValueError, match="num_inputs >= 1"):
        sb.dag_cell(2, OPS, num_inputs=0)


@pytest.mark.parametrize("kwargs", [
    {"num_nodes": 0, "ops": OPS}, {"num_nodes": 2, "ops": []},
    {"num_nodes": 2, "ops": OPS, "in_degree": 0},
])
def test_dag_cell_argument_errors(kwargs):
    with pytest.raises(sb.SymbolicValueError, match="dag_cell needs"):
        sb.dag_cell(**kwargs)


def test_every_sampled_cell_is_valid():
    space = sb.dag_cell(num_nodes=4, ops=OPS)
    for seed in range(30):
        c = sb.random_sample(space, seed=seed)
        assert isinstance(c, sb.Cell) and sb.is_deterministic(c)
        for i, node in enumerate(c.nodes):
            assert list(node.inputs) == sorted(set(node.inputs))
            assert all(0 <= j < 2 + i for j in node.inputs)
        assert nx.is_directed_acyclic_graph(sb.cell_graph(c))


# ---- Cell validation -------------------------------------------------------------------------
def test_cell_rejects_inputs_that_are_not_earlier_nodes():
    with pytest.raises(sb.SymbolicValueError, match=r"nodes\[0\]\.inputs: node 0 can read "
                                                     r"indices 0\.\.1, got 2"):
        cell(2, ([0, 2], "conv"))
    with pytest.raises(sb.SymbolicValueError, match=r"nodes\[1\]\.inputs: .*got 4"):
        cell(2, ([0, 1], "conv"), ([4], "pool"))
    with pytest.raises(sb.SymbolicValueError, match="got -1"):
        cell(2, ([-1], "conv"))
    with pytest.raises(sb.SymbolicValueError, match="num_inputs must be >= 1"):
        C(num_inputs=0)
    cell(2, ([0, 1], "conv"), ([2], "pool"))  # reading the previous node is fine


def test_cell_rejects_bad_nodes_when_rebound():
    c = cell(2, ([0, 1], "conv"))
    with pytest.raises(sb.SymbolicValueError, match="can read"):
        c.rebind({"nodes": [N(inputs=[5], op="x")]})
    d = cell(2, ([0, 1], "conv"))
    with pytest.raises(sb.SymbolicValueError, match=r"nodes\[0\]\.inputs: .*got 7"):
        d.rebind({"nodes[0].inputs[0]": 7})


def test_a_rejected_rebind_leaves_the_cell_unchanged():
    c = cell(2, ([0, 1], "conv"))
    with pytest.raises(sb.SymbolicValueError):
        c.rebind({"nodes[0].inputs[0]": 7})
    assert sb.eq(c, cell(2, ([0, 1], "conv")))


def test_cell_accepts_markers_for_inputs():
    c = C(num_inputs=2, nodes=[N(inputs=sb.many_of(1, [0, 1]), op="a"),
                               N(inputs=[sb.one_of([0, 2]), 1], op="b")])
    assert not sb.is_deterministic(c)


# ---- cell_graph ------------------------------------------------------------------------------
def test_cell_graph_structure():
    c = cell(2, ([0, 1], "conv"), ([1, 2], "pool"), ([0, 2], "skip"))
    g = sb.cell_graph(c)
    assert isinstance(g, nx.DiGraph)
    assert set(g.nodes) == {"input0", "input1", "node0", "node1", "node2", "output"}
    assert {n: g.nodes[n]["label"] for n in g.nodes} == {
        "input0": "input0", "input1": "input1", "node0": "conv", "node1": "pool",
        "node2": "skip", "output": "output",
    }
    assert set(g.edges) == {
        ("input0", "node0"), ("input1", "node0"),
        ("input1", "node1"), ("node0", "node1"),
        ("input0", "node2"), ("node0", "node2"),
        ("node1", "output"), ("node2", "output"),  # the nodes nobody reads
    }
    assert sb.cell_graph(c).edges == c.to_graph().edges


def test_cell_graph_labels_symbolic_ops_by_their_text():
    c = C(num_inputs=1, nodes=[N(inputs=[0], op=sb.Dict(kind="conv", k=3))])
    assert sb.cell_graph(c).nodes["node0"]["label"] == "{'kind': 'conv', 'k': 3}"


def edge_cell(num_inputs: int, *nodes: tuple[list[int], list[str]]) -> sb.Cell:
    return C(num_inputs=num_inputs, nodes=[N(inputs=list(i), ops=list(o)) for i, o in nodes])


def test_cell_graph_with_edge_ops_labels_each_edge_with_its_op():
    c = edge_cell(2, ([0, 1], ["conv", "skip"]), ([0, 2], ["pool", "conv"]))
    g = sb.cell_graph(c)
    assert {n: g.nodes[n]["label"] for n in g.nodes} == {
        "input0": "input0", "input1": "input1", "node0": "node", "node1": "node", "output": "output"}
    assert {(u, v): op for u, v, op in g.edges(data="op")} == {
        ("input0", "node0"): "conv", ("input1", "node0"): "skip",
        ("input0", "node1"): "pool", ("node0", "node1"): "conv",
        ("node0", "output"): None, ("node1", "output"): None,  # every node is concatenated
    }
    assert c.genotype() == [("conv", 0), ("skip", 1), ("pool", 0), ("conv", 2)]
    twice = edge_cell(1, ([0, 0], ["pool", "conv"]))
    assert sb.cell_graph(twice).edges["input0", "node0"]["op"] == "conv+pool"


def test_graph_hash_covers_edge_ops():
    a = edge_cell(2, ([0, 1], ["conv", "skip"]), ([0, 2], ["pool", "conv"]))
    b = edge_cell(2, ([0, 1], ["skip", "conv"]), ([0, 2], ["pool", "conv"]))  # ops swapped
    c = edge_cell(2, ([0, 1], ["conv", "skip"]), ([0, 2], ["pool", "conv"]))
    assert sb.graph_hash(a) != sb.graph_hash(b)
    assert sb.graph_hash(a) == sb.graph_hash(c)
    # swapping the two inputs with their ops is the same cell
    d = edge_cell(2, ([0, 1], ["skip", "conv"]), ([1, 2], ["pool", "conv"]))
    e = edge_cell(2, ([0, 1], ["conv", "skip"]), ([0, 2], ["pool", "conv"]))
    assert sb.graph_hash(d) != sb.graph_hash(e)  # input0 and input1 are different states


def test_cell_validates_edge_ops():
    with pytest.raises(sb.SymbolicValueError, match=r"nodes\[0\]\.ops: node 0 has 2 inputs but 1 ops"):
        edge_cell(2, ([0, 1], ["conv"]))
    with pytest.raises(sb.SymbolicValueError, match=r"nodes\[0\]: a node has one op"):
        C(num_inputs=2, nodes=[N(inputs=[0, 1], op="conv", ops=["a", "b"])])
    with pytest.raises(sb.SymbolicValueError, match="genotype needs a cell with one op per edge"):
        cell(2, ([0, 1], "conv")).genotype()
    with pytest.raises(sb.SymbolicValueError, match="materialized"):
        sb.dag_cell(2, OPS).genotype()


def test_cell_graph_needs_a_materialized_cell():
    with pytest.raises(sb.SymbolicValueError, match="materialized cell"):
        sb.cell_graph(sb.dag_cell(2, OPS))
    with pytest.raises(sb.SymbolicValueError, match="needs a Cell, got Dict"):
        sb.cell_graph(sb.Dict())


# ---- graph_hash ------------------------------------------------------------------------------
def test_graph_hash_is_equal_for_isomorphic_cells():
    a = cell(2, ([0, 1], "conv"), ([0, 1], "pool"), ([2, 3], "skip"))
    b = cell(2, ([0, 1], "pool"), ([0, 1], "conv"), ([2, 3], "skip"))
    assert not sb.eq(a, b)
    assert sb.graph_hash(a) == sb.graph_hash(b)
    assert sb.graph_hash(a) == sb.graph_hash(sb.clone(a))


@pytest.mark.parametrize("edge_ops", [False, True])
def test_graph_hash_is_equal_for_every_renumbering(edge_ops):
    space = sb.dag_cell(num_nodes=5, ops=OPS, edge_ops=edge_ops)
    renumbered = 0
    for seed in range(20):
        c = sb.random_sample(space, seed=seed)
        for s in range(3):
            other = relabel(c, seed * 10 + s)
            renumbered += not sb.eq(other, c)
            assert nx.is_isomorphic(sb.cell_graph(c), sb.cell_graph(other),
                                    node_match=lambda x, y: x["label"] == y["label"],
                                    edge_match=lambda x, y: x.get("op") == y.get("op"))
            assert sb.graph_hash(other) == sb.graph_hash(c)
    assert renumbered > 20


def test_graph_hash_differs_for_different_cells():
    base = cell(2, ([0, 1], "conv"), ([0, 1], "pool"), ([2, 3], "skip"))
    others = [
        cell(2, ([0, 1], "conv"), ([0, 1], "pool"), ([2, 2], "skip")),
        cell(2, ([0, 1], "conv"), ([0, 1], "conv"), ([2, 3], "skip")),
        cell(2, ([0, 1], "conv"), ([0, 2], "pool"), ([2, 3], "skip")),
        cell(2, ([0], "conv"), ([0, 1], "pool"), ([2, 3], "skip")),
        cell(3, ([0, 1], "conv"), ([0, 1], "pool"), ([3, 4], "skip")),
        cell(2, ([0, 1], "conv"), ([0, 1], "pool")),
    ]
    hashes = {sb.graph_hash(c) for c in [base, *others]}
    assert len(hashes) == len(others) + 1


@pytest.mark.parametrize("space", [sb.dag_cell(num_nodes=3, ops=OPS, edge_ops=False),
                                   sb.dag_cell(num_nodes=2, ops=OPS[:2])], ids=["node_ops", "edge_ops"])
def test_distinct_sampled_cells_mostly_hash_apart(space):
    cells = list(sb.iterate(space))
    classes = {}
    for c in cells:
        classes.setdefault(sb.graph_hash(c), []).append(c)
    # Isomorphic cells share a hash; cells that share a hash are isomorphic.
    assert len(classes) < len(cells)
    for group in classes.values():
        g0 = sb.cell_graph(group[0])
        for c in group[1:]:
            assert nx.is_isomorphic(g0, sb.cell_graph(c),
                                    node_match=lambda x, y: x["label"] == y["label"],
                                    edge_match=lambda x, y: x.get("op") == y.get("op"))


def test_graph_hash_of_a_program_containing_a_cell():
    a = cell(2, ([0, 1], "conv"), ([0, 1], "pool"), ([2, 3], "skip"))
    b = cell(2, ([0, 1], "pool"), ([0, 1], "conv"), ([2, 3], "skip"))
    c = cell(2, ([0, 1], "pool"), ([0, 1], "pool"), ([2, 3], "skip"))
    h = sb.graph_hash
    assert h(sb.Dict(cell=a, lr=0.1)) == h(sb.Dict(cell=b, lr=0.1))
    assert h(sb.Dict(cell=a, lr=0.1)) != h(sb.Dict(cell=a, lr=0.2))
    assert h(sb.Dict(cell=a, lr=0.1)) != h(sb.Dict(cell=c, lr=0.1))
    assert h(sb.Dict(cells=[a, b])) == h(sb.Dict(cells=[b, a]))
    assert isinstance(h(sb.Dict(cell=a)), str)
    assert h(5) == h(5) and h(5) != h(6)
