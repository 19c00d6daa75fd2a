"""sbt.DagCell, sbt.CellStack, sbt.genotype and the DARTS paper's space (darts_space)."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

import symbo as sb  # noqa: E402
from symbo.backends import torch as sbt  # noqa: E402
from symbo.backends.torch import darts_space  # noqa: E402
from symbo.backends.torch.cells import CellError, FactorizedReduce  # noqa: E402

nn = torch.nn
N, Cell = sb.CellNode, sb.Cell


class Conv(nn.Conv2d):
    """A 3x3 convolution that remembers its stride (to check which edges reduce)."""

    def __init__(self, c: int, stride: int) -> None:
        super().__init__(c, c, 3, stride, 1)


def conv(c: int, stride: int) -> nn.Module:
    return Conv(c, stride)


def skip(c: int, stride: int) -> nn.Module:
    return nn.Identity() if stride == 1 else FactorizedReduce(c, c)


OPS = {"conv": conv, "skip": skip}


def edge_cell() -> sb.Cell:
    return Cell(num_inputs=2, nodes=[N(inputs=[0, 1], ops=["conv", "skip"]),
                                     N(inputs=[1, 2], ops=["conv", "conv"])])


def test_a_dag_cell_computes_one_op_per_edge_sums_nodes_and_concatenates_them() -> None:
    module = sbt.build(sbt.DagCell(edge_cell(), C=4, ops=OPS))
    assert module.edges == [(0, 0), (0, 1), (1, 1), (1, 2)]
    assert [type(m).__name__ for m in module.ops] == ["Conv", "Identity", "Conv", "Conv"]
    s0, s1 = torch.randn(2, 4, 6, 6), torch.randn(2, 4, 6, 6)
    out = module(s0, s1)
    assert out.shape == (2, 8, 6, 6) and module.out_channels == 8
    with torch.no_grad():
        n0 = module.ops[0](s0) + s1
        n1 = module.ops[2](s1) + module.ops[3](n0)
    assert torch.allclose(out, torch.cat([n0, n1], dim=1))
    assert module.genotype_ == [("conv", 0), ("skip", 1), ("conv", 1), ("conv", 2)]


def test_a_reduction_cell_strides_the_edges_from_its_inputs_only() -> None:
    module = sbt.build(sbt.DagCell(edge_cell(), C=4, ops=OPS, reduction=True))
    strides = [m.stride[0] if isinstance(m, Conv) else "fr" for m in module.ops]
    assert strides == [2, "fr", 2, 1]  # node 1 <- node 0 stays at the reduced resolution
    assert module(torch.randn(1, 4, 8, 8), torch.randn(1, 4, 8, 8)).shape == (1, 8, 4, 4)


def test_one_input_cells_fit_in_a_sequential_and_preprocessing_adapts_widths() -> None:
    space = sb.dag_cell(3, ["conv", "skip"], num_inputs=1, in_degree=1)
    cell = sb.random_sample(space, seed=0)
    net = sbt.build(sbt.nn.Sequential(sbt.nn.Conv2d(1, 4, 3, padding=1), sbt.DagCell(cell, 4, OPS),
                                      sbt.nn.Flatten()))
    assert net(torch.randn(2, 1, 5, 5)).shape == (2, 3 * 4 * 25)
    two = sbt.build(sbt.DagCell(edge_cell(), C=4, ops=OPS, in_channels=(6, 10), reduction_prev=True))
    assert type(two.preprocess[0]).__name__ == "FactorizedReduce"
    assert type(two.preprocess[1]).__name__ == "ReLUConvBN"
    assert two(torch.randn(2, 6, 8, 8), torch.randn(2, 10, 4, 4)).shape == (2, 8, 4, 4)


def test_a_cell_with_one_op_per_node_applies_it_to_the_sum_and_concatenates_unread_nodes() -> None:
    cell = Cell(num_inputs=1, nodes=[N(inputs=[0], op="conv"), N(inputs=[0, 1], op="skip"),
                                     N(inputs=[0], op="skip")])
    module = sbt.build(sbt.DagCell(cell, C=2, ops=OPS))
    x = torch.randn(1, 2, 3, 3)
    with torch.no_grad():
        n0 = module.ops[0](x)
        expected = torch.cat([x + n0, x], dim=1)  # node 0 is read by node 1: not in the output
    assert torch.allclose(module(x), expected) and module.out_channels == 4
    with pytest.raises(sbt.BuildError, match="a reduction cell needs one op per edge"):
        sbt.build(sbt.DagCell(cell, C=2, ops=OPS, reduction=True))


def test_bad_cells_inputs_and_ops_are_errors_naming_the_path() -> None:
    cell = Cell(num_inputs=2, nodes=[N(inputs=[0, 1], ops=["conv", "sep_conv_7x7"])])
    program = sbt.CellStack(stem=sbt.nn.Identity(), cells=[sbt.DagCell(cell, 4, OPS)],
                            head=sbt.nn.Identity())
    with pytest.raises(sbt.BuildError, match=r"cells\[0\] .*cell\.nodes\[0\]\.ops\[1\]: 'sep_conv_7x7' is "
                                             r"not in ops \(ops has 'conv', 'skip'\)"):
        sbt.build(program)
    good = sbt.CellStack(stem=sbt.nn.Conv2d(1, 3, 1), cells=[sbt.DagCell(edge_cell(), 4, OPS)],
                         head=sbt.nn.Identity())
    with pytest.raises(sbt.NetworkError, match=r"(?s)cells\[0\].*input 0 has 3 channels .*but the cell "
                                               r"expects 4 \(C=4\).*in_channels"):
        sbt.build(good, example_input=(1, 1, 4, 4))
    model = sbt.build(good)  # no dry run: the first call names the cell's path in the program
    with pytest.raises(CellError, match=r"DagCell at cells\[0\]: input 0 has 3 channels"):
        model(torch.randn(1, 1, 4, 4))
    module = sbt.build(sbt.DagCell(edge_cell(), 4, OPS))
    with pytest.raises(CellError, match=r"called with 1 \(call it as cell\(s0, s1\)\)"):
        module(torch.randn(1, 4, 2, 2))
    with pytest.raises(sbt.BuildError, match=r"markers left.*cell.nodes\[0\].inputs"):
        sbt.build(sbt.DagCell(sb.dag_cell(2, ["conv"]), 4, OPS))
    from symbo.backends.torch.cells import DagCell

    with pytest.raises(CellError, match="needs a materialized cell .*sbt.DARTS or sbt.OneShot"):
        DagCell(sb.dag_cell(2, ["conv"]), 4, OPS)


def test_genotype_prints_in_the_papers_format() -> None:
    normal = edge_cell()
    reduce = Cell(num_inputs=2, nodes=[N(inputs=[0, 1], ops=["skip", "skip"]),
                                       N(inputs=[0, 2], ops=["conv", "skip"])])
    assert repr(sbt.genotype(normal, reduce)) == (
        "Genotype(normal=[('conv', 0), ('skip', 1), ('conv', 1), ('conv', 2)], normal_concat=range(2, 4), "
        "reduce=[('skip', 0), ('skip', 1), ('conv', 0), ('skip', 2)], reduce_concat=range(2, 4))")


def test_the_papers_space_stacks_normal_and_reduction_cells_and_any_algorithm_samples_it() -> None:
    normal = sb.dag_cell(4, darts_space.PRIMITIVES, name="normal")
    reduce = sb.dag_cell(4, darts_space.PRIMITIVES, name="reduce")
    space = darts_space.network(C=4, num_classes=10, layers=5, normal=normal, reduce=reduce,
                                in_channels=1)
    assert [c.reduction for c in space.cells] == [False, True, False, True, False]
    assert [c.C for c in space.cells] == [4, 8, 8, 16, 16]
    assert [tuple(c.in_channels) for c in space.cells][:3] == [(12, 12), (12, 16), (16, 32)]
    assert [c.reduction_prev for c in space.cells] == [False, False, True, False, True]
    # one cell space per cell: the spec lists the 4 cells' decisions (shared by name)
    names = [d.name for d in sb.query(space, where=lambda v: isinstance(v, sb.Marker)).values()]
    assert names.count("normal.node0.inputs") == 3 and names.count("reduce.node3.op1") == 2
    cell = sb.random_sample(normal, seed=0)
    fixed = darts_space.network(C=4, num_classes=10, layers=3, normal=cell, reduce=cell,
                                ops=darts_space.OPS, in_channels=1)
    net = sbt.build(fixed, example_input=(2, 1, 8, 8))
    assert net(torch.randn(2, 1, 8, 8)).shape == (2, 10)
    bns = [m for m in net.modules() if isinstance(m, nn.BatchNorm2d)]
    assert all(m.affine for m in bns)  # the final network's ops


def test_the_papers_space_survives_json_and_text() -> None:
    normal = sb.dag_cell(4, darts_space.PRIMITIVES, name="normal")
    space = darts_space.network(C=4, num_classes=10, layers=3, normal=normal, reduce=sb.clone(normal),
                                in_channels=1)
    back = sb.from_json(sb.to_json(space))
    assert sb.eq(back, space) and back.cells[0].ops["sep_conv_3x3"] is darts_space.SEARCH_OPS["sep_conv_3x3"]
    assert sb.eq(sb.parse(sb.format(normal)), normal)
    dna = sb.random_dna(sb.dna_spec(space), seed=0)
    assert sb.eq(sb.materialize(back, dna), sb.materialize(space, dna))


def test_the_papers_ops_lambdas_with_an_affine_parameter_get_the_cells_affine() -> None:
    seen = []
    paper_ops = {"conv": lambda C, stride, affine: seen.append(affine) or nn.Sequential(  # noqa: N803
                     nn.Conv2d(C, C, 3, stride, 1), nn.BatchNorm2d(C, affine=affine)),
                 "skip": lambda C, stride, affine: nn.Identity()}  # noqa: N803
    module = sbt.build(sbt.DagCell(edge_cell(), C=4, ops=paper_ops, affine=False))
    assert seen == [False, False, False] and not module.ops[0][1].affine


STUDY_SCRIPT = '''
import sys, symbo as sb
from symbo.backends import torch as sbt
from symbo.backends.torch import darts_space
url = sys.argv[1]
if sys.argv[2] == "write":
    cells = [sb.dag_cell(4, darts_space.PRIMITIVES, name=n) for n in ("normal", "reduce")]
    space = darts_space.network(C=4, num_classes=10, layers=3, normal=cells[0], reduce=cells[1],
                                in_channels=1)
    study = sb.tune(lambda p: float(p.cells[0].cell.genotype()[0][1]), space, sb.algorithms.Random(seed=0),
                    num_trials=3, storage=url, study_name="cells")
else:
    study = sb.load_study(url, "cells")
program = study.best_trial.program
print(sbt.genotype(program.cells[0].cell, program.cells[1].cell))
print(sb.graph_hash(program), sorted(study.best_trial.params)[:2])
'''


@pytest.mark.slow
def test_a_study_over_the_papers_space_is_read_back_by_another_process(tmp_path) -> None:  # noqa: ANN001
    import subprocess
    import sys

    (tmp_path / "cells.py").write_text(STUDY_SCRIPT)
    url = f"sqlite:///{tmp_path / 'cells.db'}"
    runs = [subprocess.run([sys.executable, "cells.py", url, part], cwd=tmp_path, capture_output=True,
                           text=True, timeout=180) for part in ("write", "read")]
    for r in runs:
        assert r.returncode == 0, r.stderr[-2000:]
    assert runs[0].stdout == runs[1].stdout
    assert runs[1].stdout.startswith("Genotype(normal=[(") and "reduce_concat=range(2, 6)" in runs[1].stdout
