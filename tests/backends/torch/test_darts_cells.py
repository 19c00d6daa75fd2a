"""DARTS on DAG cells: the search cell, shared alphas, the paper's derivation, perturbation."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

import symbo as sb  # noqa: E402
from symbo.backends import torch as sbt  # noqa: E402
from symbo.backends.torch import darts_space  # noqa: E402
from symbo.backends.torch.cells import SearchCell  # noqa: E402
from symbo.backends.torch.mixed_ops import OFF, MixedOp, Zero  # noqa: E402
from symbo.dsl.dna import validate  # noqa: E402

nn = torch.nn
NAMES = ["none", "skip", "conv", "pool"]


def none(c: int, stride: int) -> nn.Module:
    return Zero(stride)


def skip(c: int, stride: int) -> nn.Module:
    return nn.Identity() if stride == 1 else nn.AvgPool2d(1, stride)


def conv(c: int, stride: int) -> nn.Module:
    return nn.Sequential(nn.ReLU(), nn.Conv2d(c, c, 3, stride, 1, bias=False),
                         nn.BatchNorm2d(c, affine=False))


def pool(c: int, stride: int) -> nn.Module:
    return nn.MaxPool2d(3, stride, 1)


OPS = {"none": none, "skip": skip, "conv": conv, "pool": pool}


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def data(n: int, seed: int) -> list:
    """4x4 images; the class is whether the top half is brighter than the bottom half."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 1, 4, 4, generator=g)
    y = (x[:, :, :2].mean((1, 2, 3)) > x[:, :, 2:].mean((1, 2, 3))).long()
    return [(x[i:i + 32], y[i:i + 32]) for i in range(0, n, 32)]


TRAIN, VAL = data(128, 1), data(64, 2)


def space(layers: int = 3, nodes: int = 2, named: bool = True) -> object:
    normal = sb.dag_cell(nodes, NAMES, name="normal" if named else None)
    reduce = sb.dag_cell(nodes, NAMES, name="reduce" if named else None)
    return darts_space.network(C=2, num_classes=2, layers=layers, normal=normal, reduce=reduce,
                               ops=OPS, in_channels=1, stem_multiplier=1)


def paper_parse(weights: torch.Tensor, steps: int, none_index: int, ordered: bool = False) -> list:
    """model_search.py's genotype(): per node the top-2 edges by their best non-'none' op (as
    sets per node; ``ordered``: its list, each node's edges strongest first)."""
    gene, n, start = [], 2, 0
    for i in range(steps):
        w = weights[start:start + n].tolist()
        strength = [max(w[x][k] for k in range(len(w[x])) if k != none_index) for x in range(i + 2)]
        edges = sorted(range(i + 2), key=lambda x: -strength[x])[:2]
        node = []
        for j in edges:
            best = None
            for k in range(len(w[j])):
                if k != none_index and (best is None or w[j][k] > w[j][best]):
                    best = k
            node.append((NAMES[best], j))
        gene += node if ordered else [set(node)]
        start += n
        n += 1
    return gene


def per_node(genotype: list, nodes: int) -> list[set]:
    return [set(genotype[2 * i:2 * i + 2]) for i in range(nodes)]


def test_stacked_cells_become_search_cells_sharing_one_alpha_matrix_per_name() -> None:
    darts = sbt.DARTS(space(layers=3), seed=0, device="cpu")
    net = darts.setup(example=TRAIN[0][0])
    shapes = {k: tuple(d.alpha.shape) for k, d in darts.decisions.items()}
    assert shapes == {"normal": (5, 4), "reduce": (5, 4)}
    cells = list(net.cells)
    assert all(isinstance(c, SearchCell) for c in cells)
    assert [c.reduction for c in cells] == [False, True, True]
    assert cells[1].state is cells[2].state is darts.decisions["reduce"]
    assert cells[0].state is darts.decisions["normal"]
    assert all(isinstance(op, MixedOp) and len(op.candidates) == 4 for op in cells[0].ops)
    assert darts.decisions["normal"].none == {0}
    assert net(TRAIN[0][0]).shape == (32, 2)


def test_unnamed_cells_have_weights_of_their_own() -> None:
    darts = sbt.DARTS(space(layers=3, named=False), seed=0, device="cpu")
    darts.setup(example=TRAIN[0][0])
    assert list(darts.decisions) == ["cells[0].cell", "cells[1].cell", "cells[2].cell"]


def test_derive_is_the_papers_genotype_and_never_picks_none() -> None:
    darts = sbt.DARTS(space(layers=3, nodes=3), seed=0, device="cpu")
    darts.setup(example=TRAIN[0][0])
    g = torch.Generator().manual_seed(0)
    for key in ("normal", "reduce"):
        alpha = darts.decisions[key].alpha
        with torch.no_grad():
            alpha.copy_(torch.randn(alpha.shape, generator=g) * 2)
            alpha[:, 0] += 3.0  # 'none' is the strongest op on every edge
    program = darts.materialize(darts.derive())
    for index, key in ((0, "normal"), (1, "reduce")):
        cell = program.cells[index].cell
        weights = torch.softmax(darts.decisions[key].alpha.detach(), dim=-1)
        assert per_node(cell.genotype(), 3) == paper_parse(weights, 3, none_index=0)
        assert all(op != "none" for op, _ in cell.genotype())
        assert all(len(node.inputs) == 2 for node in cell.nodes)
    assert sb.eq(program.cells[1].cell, program.cells[2].cell)  # one decision for both reduce cells
    genotype = darts.genotype()  # the paper's Genotype, in its order (each node's stronger edge first)
    for key, gene in (("normal", genotype.normal), ("reduce", genotype.reduce)):
        weights = torch.softmax(darts.decisions[key].alpha.detach(), dim=-1)
        assert gene == paper_parse(weights, 3, none_index=0, ordered=True)
    assert genotype.normal_concat == genotype.reduce_concat == range(2, 5)


def test_genotype_needs_one_normal_and_one_reduction_cell_type() -> None:
    darts = sbt.DARTS(space(layers=3, named=False), seed=0, device="cpu")
    darts.setup(example=TRAIN[0][0])
    with pytest.raises(ValueError, match=r"1 normal \('cells\[0\].cell'\) and 2 reduction"):
        darts.genotype()


def test_a_search_on_cells_returns_a_genotype_to_retrain() -> None:
    search_space = space(layers=3)
    darts = sbt.DARTS(search_space, seed=0, device="cpu", arch_lr=3e-2,
                      weight_optimizer=sbt.optim.Adam(lr=1e-2))
    dna = darts.search(TRAIN, VAL, epochs=2)
    validate(darts.spec, dna)
    assert len(darts.history) == 2 and darts.history[-1]["train_loss"] < darts.history[0]["train_loss"]
    program = darts.materialize(dna)
    genotype = sbt.genotype(program.cells[0].cell, program.cells[1].cell)
    assert len(genotype.normal) == len(genotype.reduce) == 4  # in_degree edges per node
    assert "none" not in {op for op, _ in genotype.normal + genotype.reduce}
    assert list(genotype.normal_concat) == [2, 3]
    model = sbt.build(program, example_input=TRAIN[0][0][:2])
    assert model(TRAIN[0][0]).shape == (32, 2)


@pytest.mark.parametrize("mode,order", [("gumbel", 1), ("single_path", 1), ("softmax", 2)])
def test_every_mode_searches_cells(mode: str, order: int) -> None:
    darts = sbt.DARTS(space(layers=1), mode=mode, order=order, seed=0, device="cpu", arch_lr=3e-2,
                      temperature=(1.0, 0.5))
    dna = darts.search(TRAIN[:2], VAL[:1], epochs=1, eval_batches=1)
    genotype = darts.materialize(dna).cells[0].cell.genotype()
    assert len(genotype) == 4 and "none" not in {op for op, _ in genotype}
    assert darts.decisions["reduce"].alpha.grad is None  # steps applied, gradients cleared
    assert not torch.equal(darts.decisions["reduce"].alpha, darts._alpha_start["reduce"])


def test_perturbation_selection_takes_both_of_wang_et_als_steps_on_cells() -> None:
    # one layer: one cell, a reduction cell
    darts = sbt.DARTS(space(layers=1), seed=0, device="cpu", arch_lr=3e-2, selection="perturbation",
                      fine_tune_steps=1, weight_optimizer=sbt.optim.Adam(lr=1e-2))
    dna = darts.search(TRAIN, VAL, epochs=1, eval_batches=1)
    scores = darts.result.selection_scores
    state = darts.decisions["reduce"]
    edge_rows = {k: v for k, v in scores.items() if ".edge" in k}
    assert sorted(edge_rows) == sorted(f"reduce.node{i}.edge{j}" for i, j in state.edges)
    assert all(row[0] is None for row in edge_rows.values())  # 'none' is never a candidate
    assert sorted(k for k in scores if ".edge" not in k) == ["reduce.node0", "reduce.node1"]
    fixed = darts.relaxation.fixed["reduce"]
    cell = darts.materialize(dna).cells[0].cell
    for i, node in enumerate(cell.nodes):
        edges = state.node_edges(i)
        drops = scores[f"reduce.node{i}"]
        kept = sorted(sorted(range(len(edges)), key=lambda t: -drops[t])[:2])
        assert list(node.inputs) == [state.edges[edges[t]][1] for t in kept]
        for j, op in zip(node.inputs, node.ops):
            row = edge_rows[f"reduce.node{i}.edge{j}"]
            assert op == NAMES[max(range(1, 4), key=lambda o: row[o])]  # step 1: the op that matters most
        assert sum(fixed[e] == OFF for e in edges) == len(edges) - 2  # step 2 removed the rest
        first, second = darts.genotype().reduce[2 * i:2 * i + 2]  # the edge that matters most first
        assert drops[edges.index(state.edges.index((i, first[1])))] >= \
            drops[edges.index(state.edges.index((i, second[1])))]
    assert darts.result.selection == "perturbation"


def test_cell_spaces_darts_cannot_relax_are_clear_errors() -> None:
    unknown_op = sbt.DagCell(sb.dag_cell(2, [*NAMES, "sep7"]), 2, OPS)
    missing = sbt.CellStack(stem=sbt.nn.Conv2d(1, 2, 1), cells=[unknown_op], head=sbt.nn.Identity())
    with pytest.raises(sbt.RelaxationError, match=r"cells\[0\].cell: the cell uses 'sep7', which the ops "
                                                  r"of its sbt.DagCell do not have"):
        sbt.DARTS(missing, device="cpu")
    ops = {k: v for k, v in OPS.items() if k != "pool"}  # stacked cells sharing names: each named
    with pytest.raises(sbt.RelaxationError, match=r"(?s)cells\[1\].cell: the cell uses 'pool'.*"
                                                  r"cells\[2\].cell: the cell uses 'pool'"):
        sbt.DARTS(darts_space.network(C=2, num_classes=2, layers=3, ops=ops, in_channels=1,
                                      normal=sb.dag_cell(2, NAMES, name="n"),
                                      reduce=sb.dag_cell(2, NAMES, name="r")), device="cpu")
    node_ops = sbt.DagCell(sb.dag_cell(2, NAMES, edge_ops=False), 2, OPS)
    with pytest.raises(sbt.RelaxationError, match="one op per node cannot be relaxed"):
        sbt.DARTS(node_ops, device="cpu")
    narrow = sbt.CellStack(stem=sbt.nn.Conv2d(1, 3, 1), cells=[sbt.DagCell(sb.dag_cell(2, NAMES), 2, OPS)],
                           head=sbt.nn.Identity())
    with pytest.raises(sbt.CellError, match=r"SearchCell at cells\[0\]: input 0 has 3 channels .*expects 2"):
        sbt.DARTS(narrow, device="cpu").setup()(TRAIN[0][0])
    bare = sb.Dict(cell=sb.dag_cell(2, NAMES))
    with pytest.raises(sbt.RelaxationError, match=r"relaxed when the cell is given to sbt.DagCell"):
        sbt.DARTS(bare, device="cpu")
    assert not sbt.relaxable(bare.cell.nodes[0].inputs)
    assert sbt.relaxable(node_ops.cell.nodes[0].inputs) is False
    assert sbt.relaxable(missing.cells[0].cell.nodes[1].ops[0])


def test_black_box_algorithms_search_the_same_cell_space_unchanged() -> None:
    search_space = space(layers=3)  # stacked cells, one decision per name for all of them
    spec = sb.dna_spec(search_space)
    assert len([d for d in spec if d.name and d.name.startswith("normal.")]) == 2 * 3  # 2 nodes
    for program, feedback in sb.sample(search_space, sb.algorithms.Random(seed=0), num_trials=2):
        assert sb.eq(program.cells[1].cell, program.cells[2].cell)  # the reduction cells agree
        model = sbt.build(program, example_input=TRAIN[0][0][:2])
        feedback(sbt.evaluate(model, VAL))
    darts = sbt.DARTS(search_space, seed=0, device="cpu")
    assert darts.spec == spec  # DARTS searches the very spec every algorithm sees
    dna = darts.search(TRAIN[:2], VAL[:1], epochs=1)
    assert sb.eq(sb.materialize(search_space, dna), darts.materialize(dna))
