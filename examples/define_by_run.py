"""Define-by-run: search your own training code, branches and all, with no space written down.

The objective below is written in Optuna's style (``trial.suggest_*``, ``trial.report``,
``trial.should_prune``); the settings that exist depend on the optimizer. symbo discovers the
space as trials run (no extra run of the objective), keeps it in a SQLite study with every
trial's params, prunes poor trials early, runs two trials at a time, and another process reads
the study back. Then the same code written with inline markers is traced: ``sb.trace`` finds
the markers behind the ``if`` and places them under the choice they depend on.

Run: ``python examples/define_by_run.py`` (a few seconds on a CPU).
"""

from __future__ import annotations

import math
import os
import random
import subprocess
import sys
import tempfile

import symbo as sb


def make_data(n: int = 200, seed: int = 0) -> list[tuple[list[float], int]]:
    """A small two-class problem: points inside or outside a circle."""
    rng = random.Random(seed)
    data = []
    for _ in range(n):
        x = [rng.uniform(-1, 1), rng.uniform(-1, 1)]
        data.append((x, int(x[0] ** 2 + x[1] ** 2 < 0.5)))
    return data


DATA = make_data()


def train(opt: str, lr: float, momentum: float, beta: float, width: int, epochs: int,
          report=None) -> float:
    """Logistic regression on random features of width ``width``; returns the accuracy."""
    rng = random.Random(1)
    features = [(rng.gauss(0, 2), rng.gauss(0, 2), rng.uniform(0, 6.3)) for _ in range(width)]

    def phi(x: list[float]) -> list[float]:
        return [math.cos(a * x[0] + b * x[1] + c) for a, b, c in features]

    w = [0.0] * width
    velocity = [0.0] * width
    accuracy = 0.0
    for epoch in range(epochs):
        for x, y in DATA:
            f = phi(x)
            p = 1 / (1 + math.exp(-max(-30.0, min(30.0, sum(wi * fi for wi, fi in zip(w, f))))))
            for i in range(width):
                g = (p - y) * f[i]
                if opt == "sgd":
                    velocity[i] = momentum * velocity[i] + g
                else:  # a running average of the gradient, as Adam's first moment
                    velocity[i] = beta * velocity[i] + (1 - beta) * g
                w[i] -= lr * velocity[i]
        correct = sum((sum(wi * fi for wi, fi in zip(w, phi(x))) > 0) == bool(y) for x, y in DATA)
        accuracy = correct / len(DATA)
        if report is not None and report(accuracy, epoch):
            break
    return accuracy


def objective(trial) -> float:
    """Optuna's style: this function runs unchanged under Optuna too."""
    opt = trial.suggest_categorical("optimizer", ["sgd", "adam"])
    lr = trial.suggest_float("lr", 1e-3, 1.0, log=True)
    momentum = beta = 0.0
    if opt == "sgd":
        momentum = trial.suggest_float("momentum", 0.0, 0.95)
    else:
        beta = trial.suggest_float("beta", 0.5, 0.99)
    width = trial.suggest_int("width", 4, 32, log=True)

    def report(accuracy: float, epoch: int) -> bool:
        trial.report(accuracy, epoch)
        if trial.should_prune():
            raise sb.TrialPruned()
        return False

    return train(opt, lr, momentum, beta, width, epochs=4, report=report)


def inline_train() -> float:
    """The same search written with inline markers (for sb.trace)."""
    opt = sb.one_of(["sgd", "adam"], name="optimizer")
    lr = sb.float_range(1e-3, 1.0, scale="log", name="lr")
    momentum = beta = 0.0
    if opt == "sgd":
        momentum = sb.float_range(0.0, 0.95, name="momentum")
    else:
        beta = sb.float_range(0.5, 0.99, name="beta")
    width = sb.int_range(4, 32, scale="log", name="width")
    if sb.is_tracing():  # sb.trace only needs the markers: skip the training
        return 0.0
    return train(opt, lr, momentum, beta, width, epochs=2)


READER = """
import symbo as sb
study = sb.load_study({url!r}, "circle")
print("another process reads", len(study.trials), "trials; decisions:",
      list(study.space.decisions))
best = study.best_trial
print("  best:", round(best.reward, 3), best.params)
"""


def main() -> None:
    folder = tempfile.mkdtemp()
    url = f"sqlite:///{os.path.join(folder, 'circle.db')}"
    study = sb.tune(objective, algorithm=sb.algorithms.TPE(num_startup=6, seed=0),
                    num_trials=24, storage=url, study_name="circle", workers=2,
                    early_stopping=sb.algorithms.MedianStopping(min_trials=4))
    counts = {s: sum(t.status == s for t in study.trials) for s in ("completed", "stopped")}
    print(f"no space given: {len(study.trials)} trials ({counts['completed']} completed, "
          f"{counts['stopped']} pruned); the space found: {list(study.space.decisions)}")
    print(f"  'momentum' sits under {study.space.parents['momentum']}, 'beta' under "
          f"{study.space.parents['beta']} (choice, candidates)")
    for t in study.trials[:3]:
        print(f"  trial {t.id}: {t.status:9} params {t.params}")
    env = {**os.environ, "PYTHONPATH": os.path.dirname(os.path.dirname(os.path.abspath(__file__)))}
    subprocess.run([sys.executable, "-c", READER.format(url=url)], check=True, env=env)

    space = sb.trace(inline_train)
    print(f"\ntraced: {list(space.decisions)}; tree: {dict(space.parents)}")
    traced = sb.tune(lambda program: program(), space, sb.algorithms.TPE(seed=0), num_trials=12)
    print(f"  best of 12 traced trials: {traced.best_trial.reward:.3f} {traced.best_trial.params}")


if __name__ == "__main__":
    main()
