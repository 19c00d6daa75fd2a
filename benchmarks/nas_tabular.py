"""Builds the tabular NAS benchmark shipped in ``benchmarks/data/nas_tabular_{dataset}.json``.

The cell space is NAS-Bench-201's shape on a small MLP: a cell of 4 nodes (node 0 is the
cell's input, node 3 its output); each of the 6 edges ``i -> j`` (``i < j``) carries one of 4
operations, ``none`` (no edge), ``skip`` (identity), ``relu`` (a linear layer then ReLU) and
``tanh`` (a linear layer then tanh); a node sums its incoming edges. The network is a stem
(linear layer to ``WIDTH`` units, ReLU), the cell, and a linear classifier. That gives
4^6 = 4,096 architectures, each one trained on

- scikit-learn's ``digits`` (1,797 8x8 images, 10 classes) and
- scikit-learn's ``breast_cancer`` (569 samples, 30 features, 2 classes),

with fixed splits (60% train, 20% validation, 20% test, stratified, ``random_state=0``),
standardized features, Adam (lr ``LR``) for ``EPOCHS`` epochs of mini-batches of ``BATCH``,
and ``SEEDS`` training seeds per architecture (the table stores the mean over the seeds of the
validation and the test accuracy at the end of training).

Every architecture of a batch is trained at once as an independent network (batched
parameters: ``einsum`` over the architecture axis; Adam is elementwise, so this is exactly
independent training), which makes the whole table a few minutes of one CPU core.

Run (one thread, low priority; it logs progress to stderr)::

    for d in digits breast_cancer; do OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python \
        benchmarks/nas_tabular.py --datasets $d --out benchmarks/data/nas_tabular_$d.json; done

Architecture ``k`` has edge ``e``'s operation ``OPS[(k // 4**e) % 4]``, edges in the order of
``EDGES``; :mod:`benchmarks.problems` reads the table.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import time

import numpy as np
import torch

OPS = ("none", "skip", "relu", "tanh")
NUM_NODES = 4
EDGES = tuple((i, j) for j in range(1, NUM_NODES) for i in range(j))   # (0,1) (0,2) (1,2) ...
WIDTH = 32
EPOCHS = 12
BATCH = 64
LR = 3e-3
SEEDS = 1
ARCH_BATCH = 512


def architectures() -> np.ndarray:
    """(4096, 6) op indices; row ``k`` is architecture ``k``."""
    k = np.arange(len(OPS) ** len(EDGES))
    return np.stack([(k // len(OPS) ** e) % len(OPS) for e in range(len(EDGES))], axis=1)


def load(name: str) -> tuple[np.ndarray, ...]:
    from sklearn.datasets import load_breast_cancer, load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    x, y = {"digits": load_digits, "breast_cancer": load_breast_cancer}[name](return_X_y=True)
    x_train, x_rest, y_train, y_rest = train_test_split(x, y, test_size=0.4, stratify=y,
                                                        random_state=0)
    x_val, x_test, y_val, y_test = train_test_split(x_rest, y_rest, test_size=0.5,
                                                    stratify=y_rest, random_state=0)
    scaler = StandardScaler().fit(x_train)
    return (scaler.transform(x_train), y_train, scaler.transform(x_val), y_val,
            scaler.transform(x_test), y_test)


def _init(gen: torch.Generator, a: int, fan_in: int, *shape: int) -> torch.Tensor:
    bound = 1.0 / fan_in ** 0.5
    return ((torch.rand(a, *shape, generator=gen) * 2 - 1) * bound).requires_grad_()


def _forward(params: dict[str, torch.Tensor], masks: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Logits (A, B, C) of A architectures; masks (A, 6, 4) one-hot ops per edge."""
    nodes = [torch.relu(torch.einsum("bi,aih->abh", x, params["stem"]) + params["stem_b"])]
    for j in range(1, NUM_NODES):
        total = 0.0
        for e, (i, jj) in enumerate(EDGES):
            if jj != j:
                continue
            h = nodes[i]
            m = masks[:, e, :, None, None]                                  # (A, 4, 1, 1)
            lin = torch.einsum("abh,akhg->akbg", h, params["edge"][:, e]) + params["edge_b"][:, e, :, None]
            out = m[:, 1] * h + m[:, 2] * torch.relu(lin[:, 0]) + m[:, 3] * torch.tanh(lin[:, 1])
            total = total + out
        nodes.append(total)
    return torch.einsum("abh,ahc->abc", nodes[-1], params["head"]) + params["head_b"]


def train_batch(ops: np.ndarray, data: tuple[np.ndarray, ...], num_classes: int,
                seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Validation and test accuracy of each architecture in ``ops`` (A, 6), one seed."""
    x_train, y_train, x_val, y_val, x_test, y_test = (torch.as_tensor(v) for v in data)
    x_train, x_val, x_test = x_train.float(), x_val.float(), x_test.float()
    a, d = len(ops), x_train.shape[1]
    gen = torch.Generator().manual_seed(seed)
    params = {
        "stem": _init(gen, a, d, d, WIDTH), "stem_b": _init(gen, a, d, 1, WIDTH),
        "edge": _init(gen, a, WIDTH, len(EDGES), 2, WIDTH, WIDTH),
        "edge_b": _init(gen, a, WIDTH, len(EDGES), 2, WIDTH),
        "head": _init(gen, a, WIDTH, WIDTH, num_classes), "head_b": _init(gen, a, WIDTH, 1, num_classes),
    }
    masks = torch.nn.functional.one_hot(torch.as_tensor(ops), len(OPS)).float()
    opt = torch.optim.Adam(params.values(), lr=LR)
    n = len(x_train)
    for _ in range(EPOCHS):
        order = torch.randperm(n, generator=gen)
        for start in range(0, n, BATCH):
            idx = order[start:start + BATCH]
            logits = _forward(params, masks, x_train[idx])                  # (A, B, C)
            loss = torch.nn.functional.cross_entropy(
                logits.reshape(-1, num_classes), y_train[idx].repeat(a), reduction="sum") / len(idx)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    with torch.no_grad():
        val = (_forward(params, masks, x_val).argmax(-1) == y_val).float().mean(1)
        test = (_forward(params, masks, x_test).argmax(-1) == y_test).float().mean(1)
    return val.numpy(), test.numpy()


def build(datasets: tuple[str, ...], limit: int | None = None, seeds: int = SEEDS) -> dict:
    torch.set_num_threads(1)
    archs = architectures()[:limit]
    out: dict = {"ops": list(OPS), "edges": [list(e) for e in EDGES],
                 "settings": {"width": WIDTH, "epochs": EPOCHS, "batch": BATCH, "lr": LR,
                              "seeds": seeds, "split": "60/20/20 stratified, random_state=0"},
                 "datasets": {}}
    for name in datasets:
        data = load(name)
        num_classes = int(max(data[1].max(), data[3].max()) + 1)
        val = np.zeros((seeds, len(archs)))
        test = np.zeros((seeds, len(archs)))
        start = time.perf_counter()
        for s, first in itertools.product(range(seeds), range(0, len(archs), ARCH_BATCH)):
            chunk = slice(first, first + ARCH_BATCH)
            v, t = train_batch(archs[chunk], data, num_classes, seed=1000 * s + first)
            val[s, chunk] = v
            test[s, chunk] = t
            print(f"{name}: seed {s} archs {first}-{first + len(v) - 1} "
                  f"{time.perf_counter() - start:.0f}s", file=sys.stderr, flush=True)
        out["datasets"][name] = {
            "val": _rounded(val.mean(0)), "test": _rounded(test.mean(0)),
            **({"val_seeds": [_rounded(v) for v in val], "test_seeds": [_rounded(t) for t in test]}
               if seeds > 1 else {}),
            "train_size": len(data[0]), "val_size": len(data[2]), "test_size": len(data[4]),
            "seconds": round(time.perf_counter() - start, 1),
        }
    out["cost"] = {"cpu": "1 thread", "seconds": {k: v["seconds"] for k, v in out["datasets"].items()}}
    return out


def _rounded(values: np.ndarray) -> list[float]:
    return [round(float(v), 5) for v in values]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "data",
                                                      "nas_tabular.json"))
    parser.add_argument("--limit", type=int, default=None, help="first N architectures only")
    parser.add_argument("--datasets", default="digits,breast_cancer")
    parser.add_argument("--seeds", type=int, default=SEEDS, help="training seeds per cell")
    args = parser.parse_args(argv)
    table = build(tuple(args.datasets.split(",")), args.limit, args.seeds)
    with open(args.out, "w") as f:
        json.dump(table, f, separators=(",", ":"))
    print(f"wrote {args.out}: {table['cost']}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
