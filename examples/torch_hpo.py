"""Hyperparameter and architecture search of an existing PyTorch MLP on real data.

The model below is ordinary PyTorch. ``sb.symbolize`` turns it into a recipe that takes markers
in its arguments; ``sbt.optim`` does the same for torch's optimizers. Each trial builds the
program on the device (the optimizer is bound to the model's parameters), trains it for a few
epochs on scikit-learn's bundled digits and reports validation accuracy after each epoch.
Swap the algorithm (``sb.algorithms.Random``, ``MCTS``, ``TPE``...) without touching the rest.

Run: ``python examples/torch_hpo.py`` (a few seconds on a CPU).
"""

from __future__ import annotations

import torch
from torch import nn

import symbo as sb
from symbo.backends import torch as sbt

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"
EPOCHS = 3
TRIALS = 16
if DEVICE == "cpu":
    torch.set_num_threads(1)  # models this small train fastest on one thread


# ---- the model the project already had ----------------------------------------------------
class MLP(nn.Module):
    """A plain multi-layer perceptron; nothing here knows about symbo."""

    def __init__(self, in_features: int = 64, hidden: tuple[int, ...] = (64,), num_classes: int = 10,
                 activation: str = "relu", dropout: float = 0.0) -> None:
        super().__init__()
        act = {"relu": nn.ReLU, "gelu": nn.GELU, "tanh": nn.Tanh}[activation]
        layers: list[nn.Module] = []
        for width in hidden:
            layers += [nn.Linear(in_features, width), act(), nn.Dropout(dropout)]
            in_features = width
        layers.append(nn.Linear(in_features, num_classes))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


# ---- the search space: markers where the values were --------------------------------------
MLPSpace = sb.symbolize(MLP)  # MLP itself stays the plain class

space = sb.Dict(
    model=MLPSpace(
        hidden=sb.one_of([(32,), (64,), (128,), (64, 32), (128, 64)], name="hidden"),
        activation=sb.one_of(["relu", "gelu", "tanh"], name="activation"),
        dropout=sb.float_range(0.0, 0.3, name="dropout"),
    ),
    optimizer=sb.one_of([
        sbt.optim.Adam(lr=sb.float_range(1e-3, 3e-2, scale="log", name="adam_lr")),
        sbt.optim.SGD(lr=sb.float_range(1e-2, 3e-1, scale="log", name="sgd_lr"), momentum=0.9),
    ], name="optimizer"),
    batch_size=sb.one_of([32, 64, 128], name="batch_size"),
)

data = sbt.datasets.digits(device=DEVICE, seed=0)


def objective(program: sb.Dict, feedback: sb.Feedback) -> float:
    sbt.seed_everything(0)
    built = sbt.build(program, device=DEVICE, space=space)  # model + optimizer bound to it
    train, val = data.loaders(program.batch_size)
    history = sbt.fit(
        built.model, built.optimizer, train, val, epochs=EPOCHS, device=DEVICE,
        callback=lambda epoch, m: feedback.report(epoch, m["val_accuracy"]) or feedback.should_stop(),
    )
    return history[-1]["val_accuracy"]


def main() -> None:
    print(f"dataset: {data.name} ({len(data.train)} train / {len(data.val)} validation), "
          f"device: {DEVICE}, space: {sb.dna_spec(space)}")
    algorithm = sb.algorithms.RegularizedEvolution(population_size=6, tournament_size=3, seed=0)
    study = sb.tune(objective, space, algorithm, num_trials=TRIALS)
    completed = [t for t in study.trials if t.status == "completed"]
    best = study.best_trial
    print(f"{len(completed)}/{len(study.trials)} trials completed; best validation accuracy "
          f"{best.reward:.3f} (trial {best.id})")
    print("best program:")
    print(sb.format(best.program, hide_default=True))
    model = sbt.build(best.program, device=DEVICE).model
    print(f"best architecture: {model}")


if __name__ == "__main__":
    main()
