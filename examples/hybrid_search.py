"""A hybrid flow: TPE searches the training settings outside, DARTS the architecture inside.

One annotated program holds both kinds of decisions. The outer loop gives TPE only the markers
DARTS cannot relax (``where=lambda m: not sbt.relaxable(m)``: a log-scale learning rate and
weight decay); each outer program still has the architecture markers (module choices and a
width), which DARTS searches by gradient. The derived architecture is retrained with the outer
settings, and its validation accuracy is the outer reward. Data: scikit-learn's bundled digits
(no download). Runs in well under a minute on a CPU:

    python examples/hybrid_search.py
"""

from __future__ import annotations

import time

import torch

import symbo as sb
from symbo.backends import torch as sbt


def space() -> sb.Dict:
    activation = [sbt.nn.ReLU(), sbt.nn.Tanh(), sbt.nn.GELU()]
    return sb.Dict(
        model=sbt.nn.Sequential(
            sbt.nn.Linear(64, sb.one_of([32, 64, 128], name="width")),
            sb.one_of(activation, name="act1"),
            sbt.nn.LazyLinear(32),
            sb.one_of(activation, name="act2"),
            sbt.nn.LazyLinear(10)),
        lr=sb.float_range(1e-3, 3e-2, scale="log", name="lr"),
        weight_decay=sb.float_range(1e-6, 1e-2, scale="log", name="weight_decay"),
    )


def main() -> None:
    torch.manual_seed(0)
    torch.set_num_threads(1)
    data = sbt.datasets.digits(seed=0, batch_size=64, val_fraction=0.3)
    flat = [(x.flatten(1), y) for x, y in data.train_loader]
    val = [(x.flatten(1), y) for x, y in data.val_loader]
    half = len(flat) // 2
    search_train, search_val = flat[:half], flat[half:]

    start = time.perf_counter()
    outer = sb.algorithms.TPE(seed=0, num_startup=3)
    for program, feedback in sb.sample(space(), outer, num_trials=6,
                                       where=lambda m: not sbt.relaxable(m)):
        darts = sbt.DARTS(program.model, seed=0, weight_optimizer=sbt.optim.Adam(lr=program.lr))
        dna = darts.search(search_train, search_val, epochs=2)
        architecture = sb.materialize(program.model, dna)
        model = sbt.build(architecture, example_input=(1, 64))
        optimizer = torch.optim.AdamW(model.parameters(), lr=program.lr,
                                      weight_decay=program.weight_decay)
        history = sbt.fit(model, optimizer, flat, val, epochs=4, device="cpu")
        accuracy = history[-1]["val_accuracy"]
        print(f"lr={program.lr:.4f} wd={program.weight_decay:.1e} -> DARTS chose "
              f"{dna.to_dict()} -> val accuracy {accuracy:.3f}")
        feedback(accuracy)
    study = feedback.study
    best = study.best_trial
    print(f"\n{len(study.trials)} outer trials in {time.perf_counter() - start:.1f}s; best: "
          f"lr={best.program.lr:.4f}, weight_decay={best.program.weight_decay:.1e}, "
          f"accuracy {best.reward:.3f}")


if __name__ == "__main__":
    main()
