"""DARTS as in the paper, downscaled: its CNN search space on real handwritten digits.

The space is the paper's: cells of 4 intermediate nodes, each reading 2 earlier states through
one of 8 primitives ('none' included), written with ``sb.dag_cell``; the network stacks normal
and reduction cells built by ``sbt.DagCell`` (``sbt.darts_space.network``), and every normal
cell shares one set of decisions (its name, "normal"), every reduction cell another. DARTS
relaxes it into the paper's search cell (a mixed op on all 14 edges, one alpha matrix per cell
type), trains weights and alphas alternately on two halves of the training images, and derives
the genotype as the paper does (per node, the 2 strongest edges by their best op other than
'none'). ``darts.genotype()`` prints it in the paper's format (each node's edges strongest
first, as its ``genotype()``), and the derived network is retrained from scratch with the
final network's ops.

Downscaled to run on a CPU in seconds: C=4 channels (the paper: 16), 3 cells (the paper: 8),
8x8 digits (1,797 images from scikit-learn; no download) instead of CIFAR-10, two short search
epochs with a larger architecture learning rate (with the paper's 3e-4, a short search leaves
every weight at 1/8, and DARTS warns about it). ``benchmarks/cell_search_bench.py`` measures
the derived architecture against random ones of the same space, at longer settings.

    python examples/darts_cell.py
"""

from __future__ import annotations

import time

import torch

import symbo as sb
from symbo.backends import torch as sbt
from symbo.backends.torch import darts_space


def halves(data: sbt.datasets.DataSplit) -> tuple[list, list, list]:
    """(search-train, search-val, test) batches: the training images split in two for DARTS."""
    x, y = data.train.tensors
    half = len(y) // 2

    def batches(xs: torch.Tensor, ys: torch.Tensor, size: int = 64) -> list:
        return [(xs[i:i + size], ys[i:i + size]) for i in range(0, len(ys), size)]

    test = batches(*data.val.tensors)
    return batches(x[:half], y[:half]), batches(x[half:], y[half:]), test


def main() -> None:
    torch.manual_seed(0)
    torch.set_num_threads(1)  # small tensors: one thread is fastest
    device = "cuda" if torch.cuda.is_available() else "cpu"
    data = sbt.datasets.digits(device=device, seed=0, images=True)
    search_train, search_val, test = halves(data)

    normal = sb.dag_cell(4, darts_space.PRIMITIVES, name="normal")
    reduce = sb.dag_cell(4, darts_space.PRIMITIVES, name="reduce")
    space = darts_space.network(C=4, num_classes=10, layers=3, normal=normal, reduce=reduce, in_channels=1)
    spec = sb.dna_spec(space)
    print(f"space: {len(spec)} decisions (normal and reduce cells, shared by name), "
          f"{float(spec.space_size):.2e} architectures")

    start = time.perf_counter()
    darts = sbt.DARTS(space, seed=0, device=device, arch_lr=3e-2,
                      weight_optimizer=sbt.optim.Adam(lr=3e-3))
    dna = darts.search(search_train, search_val, epochs=2, steps_per_epoch=6, eval_batches=3)
    losses = " -> ".join(f"{h['train_loss']:.2f}" for h in darts.history)
    print(f"search: {time.perf_counter() - start:.1f}s, train loss {losses}; alpha matrices "
          + ", ".join(f"{k} {tuple(d.alpha.shape)}" for k, d in darts.decisions.items())
          + f"; softmax(alpha) moved by up to {darts.result.alpha_change:.3f} from 1/8")

    genotype = darts.genotype()  # the paper's format; 'none' is never chosen
    print(genotype)
    program = sb.materialize(space, dna)  # the same cells, as a program of the space
    normal_cell = program.cells[0].cell
    assert sorted(normal_cell.genotype()) == sorted(genotype.normal)

    # Retrain the derived network from scratch, with the final network's ops.
    model = sbt.build(darts_space.final_network(program), device=device, example_input=test[0][0][:2])
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    start = time.perf_counter()
    history = sbt.fit(model, optimizer, search_train + search_val, test, epochs=2, device=device)
    print(f"retrain: {time.perf_counter() - start:.1f}s; test accuracy {history[-1]['val_accuracy']:.3f}")


if __name__ == "__main__":
    main()
