"""Studies you can trust, in Optuna's words: create a study in SQLite, enqueue a trial you want
run first, optimize with worker processes and a time budget, read the best params, look at the
trials as a data frame, and continue the study from the file alone in another process.

Run: ``python examples/studies.py`` (a few seconds; writes studies.db in the working folder).
"""

from __future__ import annotations

import os
import subprocess
import sys

import symbo as sb

STORAGE = "sqlite:///studies.db"

space = sb.Dict(
    lr=sb.float_range(1e-4, 1e-1, scale="log", name="lr"),
    width=sb.one_of([32, 64, 128, 256], name="width"),
    act=sb.one_of(["relu", "gelu", "tanh"], name="act"),
)


def objective(program: sb.Dict, feedback: sb.Feedback) -> float:
    """A made-up validation curve: reports each epoch, stops early when the policy says so."""
    quality = (1 - abs(program.lr - 0.01) * 8) * program.width / 256 + (program.act == "gelu") * 0.1
    for epoch in range(1, 6):
        feedback.report(epoch, quality * epoch / 5)
        if feedback.should_stop():
            return None  # recorded as stopped, with its last report
    return quality


def main() -> None:
    if os.path.exists("studies.db"):
        os.remove("studies.db")
    study = sb.create_study(STORAGE, "mlp", space, algorithm=sb.algorithms.TPE(seed=0))
    study.enqueue_trial({"lr": 0.01, "width": 256, "act": "gelu"})  # run first: a known good
    study.optimize(objective, num_trials=24, workers=2, time_budget=60.0,
                   early_stopping=sb.algorithms.MedianStopping(min_trials=4))
    print(f"{len(study.trials)} trials; best value {study.best_value:.3f} with {study.best_params}")
    print("trial 0 ran the enqueued params:", study.trials[0].params)
    try:
        frame = study.trials_dataframe()
        print(frame[["number", "status", "reward", "params_width", "params_act"]].head(5).to_string())
    except sb.SymbolicValueError as e:  # pandas is optional
        print(e)
    # Another process continues the study from the file alone: the budget, the objectives and
    # the trials are in it, and the algorithm is rebuilt from the trials.
    done = subprocess.run([sys.executable, __file__, "continue"], capture_output=True, text=True,
                          check=True)
    print(done.stdout.strip())


def continue_study() -> None:
    study = sb.load_study(STORAGE, "mlp")
    study.optimize(objective, num_trials=8)
    print(f"another process added 8 trials: {len(study.trials)} in all, best "
          f"{study.best_value:.3f}")


if __name__ == "__main__":
    continue_study() if sys.argv[1:] == ["continue"] else main()
