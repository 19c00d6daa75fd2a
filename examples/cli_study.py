"""A script for the command line (``symbo run``): it defines ``space``, ``objective`` and the
search's settings; ``symbo`` does the rest. Running it with Python searches too.

Run: ``symbo run examples/cli_study.py --storage study.db --quiet`` (or
``python examples/cli_study.py``); then ``symbo show study.db``.
"""

from __future__ import annotations

import symbo as sb

space = sb.Dict(
    lr=sb.float_range(1e-4, 1e-1, scale="log", name="lr"),
    width=sb.one_of([32, 64, 128], name="width"),
    opt=sb.one_of(["adam", "sgd"], name="opt"),
)
algorithm = sb.algorithms.TPE(seed=0)
num_trials = 12


def objective(program: sb.Dict, feedback: sb.Feedback) -> float:
    """A made-up validation curve over three epochs (reports feed early stopping)."""
    score = (1 - abs(program.lr - 0.01) * 9) * program.width / 128 + (program.opt == "adam") * 0.05
    for epoch in (1, 2, 3):
        feedback.report(epoch, round(score * epoch / 3, 4))
    return round(score, 4)


if __name__ == "__main__":
    study = sb.tune(objective, space, algorithm, num_trials=num_trials)
    print(f"best {study.best_value} with {study.best_params}")
