"""``spec.cells``: the graph of a DNA from the DNA spec alone, equal to the graph of the
materialized cell (``sb.cell_graph``), for every kind of cell the DSL writes."""

from __future__ import annotations

import pickle

import pytest

import symbo as sb

OPS = ["conv", "pool", "skip"]


def _graph_data(g):
    return (sorted(g.nodes(data="label")), sorted(g.edges(data="op", default=None)))


def nb201_cell() -> sb.Cell:
    """Fixed inputs, one op choice per edge (NAS-Bench-201's shape)."""
    nodes = [sb.CellNode(inputs=list(range(j)), ops=[sb.one_of(OPS) for _ in range(j)])
             for j in range(1, 4)]
    return sb.Cell(num_inputs=1, nodes=nodes)


SPACES = {
    "edge ops": lambda: sb.Dict(cell=sb.dag_cell(3, OPS)),
    "node ops": lambda: sb.Dict(cell=sb.dag_cell(3, OPS, edge_ops=False)),
    "named, in_degree 1": lambda: sb.Dict(
        cell=sb.dag_cell(3, OPS, num_inputs=1, in_degree=1, name="c")),
    "fixed inputs": lambda: sb.Dict(cell=nb201_cell()),
    "the whole space": lambda: sb.dag_cell(2, OPS),
}


@pytest.mark.parametrize("make", SPACES.values(), ids=SPACES.keys())
def test_the_graph_of_a_dna_is_the_graph_of_its_materialized_cell(make):
    space = make()
    spec = sb.dna_spec(space)
    [layout] = spec.cells
    assert set(layout.decisions) == {d.id for d in spec.decision_points}
    for seed in range(25):
        dna = sb.random_dna(spec, seed=seed)
        program = sb.materialize(space, dna)
        cell = program if isinstance(program, sb.Cell) else program.cell
        assert _graph_data(layout.graph(dna)) == _graph_data(sb.cell_graph(cell))
        # the DNA alone (no spec attached) is read through the layout's spec
        assert layout.edges(sb.DNA.from_numbers(spec, dna.to_numbers())) == layout.edges(dna)


def test_a_cell_under_a_candidate_is_decided_only_when_chosen():
    space = sb.Dict(arch=sb.one_of(["linear", sb.Dict(cell=sb.dag_cell(2, OPS))]),
                    lr=sb.one_of([0.1, 0.01]))
    spec = sb.dna_spec(space)
    [layout] = spec.cells
    assert layout.path == "arch[=1].cell"
    linear = sb.DNA.from_numbers(spec, [0, 1])
    assert not layout.is_active(linear) and layout.edges(linear) is None
    with pytest.raises(sb.SymbolicValueError, match="not chosen"):
        layout.graph(linear)
    for seed in range(10):
        dna = sb.random_dna(spec, seed=seed)
        program = sb.materialize(space, dna)
        if program.arch == "linear":
            continue
        assert layout.is_active(dna)
        assert _graph_data(layout.graph(dna)) == _graph_data(sb.cell_graph(program.arch.cell))


def test_stacked_cells_sharing_a_name_are_one_layout():
    space = sb.Dict(a=sb.dag_cell(2, OPS, name="normal"), b=sb.dag_cell(2, OPS, name="normal"),
                    r=sb.dag_cell(2, OPS, name="reduce"))
    spec = sb.dna_spec(space)
    assert [layout.path for layout in spec.cells] == ["a", "r"]
    assert spec.cells[0].decisions[0] == "a.nodes[0].inputs"


def test_cells_without_a_fixed_structure_or_outside_the_spec_have_no_layout():
    assert sb.dna_spec(sb.Dict(x=sb.one_of([1, 2]))).cells == ()
    partial = sb.dna_spec(sb.Dict(cell=sb.dag_cell(2, OPS), k=sb.one_of([1, 2], name="k")),
                          where=lambda m: m.name == "k")
    assert partial.cells == ()   # its markers are left for another search
    repeated = sb.Dict(cells=sb.many_of(2, [sb.dag_cell(1, OPS, num_inputs=1, in_degree=1),
                                            "none"], distinct=True))
    assert sb.dna_spec(repeated).cells == ()   # decided once per position: no single graph


def test_layouts_cross_process_boundaries_with_their_spec():
    spec = sb.dna_spec(sb.Dict(cell=sb.dag_cell(2, OPS)))
    back = pickle.loads(pickle.dumps(spec))
    dna = sb.random_dna(back, seed=3)
    assert back.cells[0].spec is back and back == spec
    assert back.cells[0].edges(dna) == spec.cells[0].edges(dna)
