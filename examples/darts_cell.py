"""DARTS on a small CNN cell: search its operations on real handwritten digits, then retrain.

The space is an ordinary symbolic network: a stem, a DARTS-style cell whose six edges each
choose one of six operations (``sb.one_of`` over module recipes), and a head whose hidden width
is ``sb.one_of([32, 64])``. ``DARTS`` relaxes it into a supernet (mixed ops on the edges, a
channel mask on the width), trains weights and architecture weights alternately on two halves
of the training set, and returns a DNA of the space, which ``sb.materialize`` turns into the
discrete network that we then retrain from scratch. Data: scikit-learn's bundled 8x8 digits
(1,797 images; no download). Runs in seconds on a CPU.

    python examples/darts_cell.py
"""

from __future__ import annotations

import time

import torch
from torch import nn

import symbo as sb
from symbo.backends import torch as sbt
from symbo.backends.torch.darts import DARTS
from symbo.backends.torch.mixed_ops import Zero

C = 8  # channels inside the cell
NODES = 3  # intermediate nodes; node j reads every earlier state (the input and nodes < j)


class Cell(nn.Module):
    """A DAG cell: node ``j`` sums one operation per earlier state; the output concatenates
    the nodes (as in DARTS), ``NODES * C`` channels."""

    def __init__(self, edges: list[nn.Module]) -> None:
        super().__init__()
        self.edges = nn.ModuleList(edges)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        states = [x]
        k = 0
        for _ in range(NODES):
            total = 0
            for s in states:
                total = total + self.edges[k](s)
                k += 1
            states.append(total)
        return torch.cat(states[1:], dim=1)


class Net(nn.Module):
    def __init__(self, stem: nn.Module, cell: nn.Module, head: nn.Module) -> None:
        super().__init__()
        self.stem, self.cell, self.head = stem, cell, head

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.cell(self.stem(x)))


CellSpace, NetSpace, ZeroOp = sb.symbolize(Cell), sb.symbolize(Net), sb.symbolize(Zero)


def operations() -> list:
    """The DARTS-like candidates of one edge (every one maps C channels to C, same size)."""
    def conv(kernel: int, dilation: int = 1) -> object:
        return sbt.nn.Sequential(
            sbt.nn.ReLU(),
            sbt.nn.Conv2d(C, C, kernel, padding=dilation * (kernel - 1) // 2, dilation=dilation, bias=False),
            sbt.nn.BatchNorm2d(C, affine=False))

    return [
        conv(3),                                   # conv 3x3
        conv(3, dilation=2),                       # dilated conv 3x3
        sbt.nn.MaxPool2d(3, stride=1, padding=1),  # max pool
        sbt.nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False),  # avg pool
        sbt.nn.Identity(),                         # skip
        ZeroOp(),                                  # none
    ]


def search_space() -> object:
    num_edges = NODES * (NODES + 1) // 2
    return NetSpace(
        stem=sbt.nn.Sequential(sbt.nn.Conv2d(1, C, 3, padding=1, bias=False), sbt.nn.BatchNorm2d(C)),
        cell=CellSpace(edges=[sb.one_of(operations(), name=f"edge{i}") for i in range(num_edges)]),
        head=sbt.nn.Sequential(
            sbt.nn.AdaptiveAvgPool2d(1), sbt.nn.Flatten(),
            sbt.nn.Linear(NODES * C, sb.one_of([32, 64], name="head_width")), sbt.nn.ReLU(),
            sbt.nn.LazyLinear(10)),
    )


def digits(device: str) -> tuple[list, list, list]:
    """(search-train, search-val, test) batches of the 8x8 digits, as (N, 1, 8, 8) images."""
    try:
        from sklearn.datasets import load_digits
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise SystemExit("this example needs scikit-learn: pip install scikit-learn") from e
    data = load_digits()
    x = torch.tensor(data.images, dtype=torch.float32).unsqueeze(1) / 16.0
    y = torch.tensor(data.target, dtype=torch.long)
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(0))
    x, y = x[order].to(device), y[order].to(device)
    n_test = len(y) // 5
    n_half = (len(y) - n_test) // 2

    def batches(xs: torch.Tensor, ys: torch.Tensor, size: int = 64) -> list:
        return [(xs[i:i + size], ys[i:i + size]) for i in range(0, len(ys), size)]

    test = batches(x[:n_test], y[:n_test])
    search_train = batches(x[n_test:n_test + n_half], y[n_test:n_test + n_half])
    search_val = batches(x[n_test + n_half:], y[n_test + n_half:])
    return search_train, search_val, test


def main() -> None:
    torch.manual_seed(0)
    torch.set_num_threads(1)  # small tensors: one thread is fastest
    device = "cuda" if torch.cuda.is_available() else "cpu"
    search_train, search_val, test = digits(device)
    space = search_space()
    spec = sb.dna_spec(space)
    print(f"space: {len(spec)} decisions, {spec.space_size:,} architectures")

    start = time.perf_counter()
    darts = DARTS(space, mode="softmax", order=1, seed=0, device=device,
                  weight_optimizer=sbt.optim.Adam(lr=3e-2), arch_lr=3e-3)
    dna = darts.search(search_train, search_val, epochs=3, verbose=True)
    print(f"search: {time.perf_counter() - start:.1f}s")

    names = ["conv3x3", "dil_conv3x3", "max_pool", "avg_pool", "skip", "none"]
    for key, probs in darts.alphas().items():
        shown = ", ".join(f"{p:.2f}" for p in probs)
        print(f"  {key:<10} softmax(alpha) = [{shown}]")
    chosen = dna.to_dict()
    edges = [names[chosen[f"edge{i}"]] for i in range(NODES * (NODES + 1) // 2)]
    print(f"derived cell edges: {edges}; head width: "
          f"{spec['head_width'].candidates[chosen['head_width']].literal}")
    print(f"DNA: {dna}")

    # Retrain the discrete architecture from scratch, on all the search data.
    program = sb.materialize(space, dna)
    model = sbt.build(program, device=device, example_input=search_train[0][0][:2])
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    start = time.perf_counter()
    history = sbt.fit(model, optimizer, search_train + search_val, test, epochs=8, device=device)
    print(f"retrain: {time.perf_counter() - start:.1f}s; test accuracy "
          f"{history[-1]['val_accuracy']:.3f}")


if __name__ == "__main__":
    main()
