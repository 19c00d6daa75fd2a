"""Search with and without weight sharing on one annotation: evolution over the DARTS cell space
with shared weights (one-shot), the best three retrained from scratch beside DARTS's pick.

The space is the DARTS paper's (``sbt.darts_space``: normal and reduction cells of 4 nodes,
8 primitives per edge), downscaled to C=4 channels and 3 cells for 8x8 digits. ``sbt.OneShot``
trains one weight-sharing supernet by sampling a single path per step (SPOS); then
``sb.tune`` runs regularized evolution over the same space, each candidate scored with the
shared weights (``ws.evaluate``: its path fixed, BatchNorm statistics recomputed on a few
training batches) instead of being trained. DARTS searches the same space by gradient. The
three best one-shot architectures and DARTS's are then trained from scratch and tested. Small
settings, so it runs on a CPU in well under a minute; ``benchmarks/cell_search_bench.py`` measures
how well shared-weight scores rank stand-alone accuracies (Kendall tau) at larger settings.

    python examples/oneshot_search.py
"""

from __future__ import annotations

import time

import torch

import symbo as sb
from symbo.backends import torch as sbt
from symbo.backends.torch import darts_space

EPOCHS_RETRAIN = 2


def batches(xs: torch.Tensor, ys: torch.Tensor, size: int = 64) -> list:
    return [(xs[i:i + size], ys[i:i + size]) for i in range(0, len(ys), size)]


def short(program: object) -> str:
    """The normal cell's ops, node by node (the reduction cell is searched too)."""
    return " ".join(f"{op}<{j}" for op, j in program.cells[0].cell.genotype())


def retrain(program: object, train: list, test: list) -> float:
    torch.manual_seed(0)
    model = sbt.build(darts_space.final_network(program), example_input=test[0][0][:2])
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    history = sbt.fit(model, optimizer, train, test, epochs=EPOCHS_RETRAIN)
    return history[-1]["val_accuracy"]


def main() -> None:
    torch.manual_seed(0)
    torch.set_num_threads(1)
    data = sbt.datasets.digits(seed=0, images=True)
    x, y = data.train.tensors
    train, test = batches(x, y), batches(*data.val.tensors)
    half = len(train) // 2
    normal = sb.dag_cell(4, darts_space.PRIMITIVES, name="normal")
    reduce = sb.dag_cell(4, darts_space.PRIMITIVES, name="reduce")
    space = darts_space.network(C=4, num_classes=10, layers=3, normal=normal, reduce=reduce, in_channels=1)

    start = time.perf_counter()
    ws = sbt.OneShot(space, seed=0, optimizer=sbt.optim.Adam(lr=1e-2))
    ws.train(train[:half], epochs=20)  # single paths train slowly: SPOS trains for 120 epochs
    trained = time.perf_counter() - start
    evolution = sb.algorithms.RegularizedEvolution(population_size=8, tournament_size=3, seed=0)
    study = sb.tune(lambda program: ws.evaluate(program, train[half:], calibration=train[:half],
                                                calibration_batches=4),
                    space, evolution, num_trials=16)
    print(f"one-shot: supernet trained in {trained:.1f}s, 16 candidates scored in "
          f"{time.perf_counter() - start - trained:.1f}s")

    start = time.perf_counter()
    darts = sbt.DARTS(space, seed=0, arch_lr=3e-2, weight_optimizer=sbt.optim.Adam(lr=3e-3))
    dna = darts.search(train[:half], train[half:], epochs=1, steps_per_epoch=6, eval_batches=2)
    darts_program = sb.materialize(space, dna)
    print(f"DARTS: searched in {time.perf_counter() - start:.1f}s")

    ranked = sorted(study.trials, key=lambda t: -t.reward)
    best, seen = [], set()
    for trial in ranked:  # the three best distinct architectures
        key = sb.graph_hash(trial.program)
        if key not in seen:
            seen.add(key)
            best.append(trial)
        if len(best) == 3:
            break
    print(f"\n{'architecture':<20} {'shared-weight score':>19} {'retrained test acc':>19}  normal cell")
    for i, trial in enumerate(best):
        acc = retrain(trial.program, train, test)
        print(f"{'one-shot #' + str(i + 1):<20} {trial.reward:>19.3f} {acc:>19.3f}  {short(trial.program)}")
    acc = retrain(darts_program, train, test)
    shared = ws.evaluate(darts_program, train[half:], calibration=train[:half], calibration_batches=4)
    print(f"{'DARTS':<20} {shared:>19.3f} {acc:>19.3f}  {short(darts_program)}")


if __name__ == "__main__":
    main()
