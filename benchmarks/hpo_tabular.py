"""Builds the tabular HPO benchmark shipped in ``benchmarks/data/hpo_tabular.json``.

Real hyperparameter optimization of three scikit-learn models, each configuration scored by
3-fold stratified cross-validation accuracy (``KFold`` shuffled with ``random_state=0``) on
scikit-learn's bundled ``breast_cancer`` dataset (569 samples, 30 features, standardized in
each fold):

- ``svm``: ``SVC`` with ``C`` (log grid, 1e-2..1e3, 11 values), ``gamma`` (log grid,
  1e-4..1e1, 11 values) and ``kernel`` (rbf, sigmoid): 242 configurations;
- ``gbm``: ``HistGradientBoostingClassifier`` with ``learning_rate`` (log grid 1e-2..1, 6),
  ``max_depth`` (2, 3, 4, 6, None), ``max_iter`` (25, 50, 100) and ``l2_regularization``
  (0, 0.1, 1): 270 configurations;
- ``mlp``: ``MLPClassifier`` (adam, 200 iterations at most) with ``width`` (8, 16, 32, 64,
  128), ``alpha`` (log grid 1e-5..1, 6) and ``learning_rate_init`` (log grid 1e-4..1e-1,
  4): 120 configurations.

The benchmark space (:mod:`problems`) is conditional and mixed: a ``one_of`` over the three
models, each with its own log-scale ``float_range``s (snapped to the nearest grid value in log
space), ``int_range``s or ``one_of``s; the objective is the cross-validation error of the
snapped configuration.

Run (one thread, low priority)::

    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python benchmarks/hpo_tabular.py
"""

from __future__ import annotations

import itertools
import json
import os
import sys
import time
import warnings

import numpy as np

GRIDS = {
    "svm": {"C": list(np.logspace(-2, 3, 11)), "gamma": list(np.logspace(-4, 1, 11)),
            "kernel": ["rbf", "sigmoid"]},
    "gbm": {"learning_rate": list(np.logspace(-2, 0, 6)), "max_depth": [2, 3, 4, 6, None],
            "max_iter": [25, 50, 100], "l2_regularization": [0.0, 0.1, 1.0]},
    "mlp": {"width": [8, 16, 32, 64, 128], "alpha": list(np.logspace(-5, 0, 6)),
            "learning_rate_init": list(np.logspace(-4, -1, 4))},
}


def _model(kind: str, config: dict):
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    if kind == "svm":
        est = SVC(C=config["C"], gamma=config["gamma"], kernel=config["kernel"])
    elif kind == "gbm":
        est = HistGradientBoostingClassifier(random_state=0, early_stopping=False, **config)
    else:
        est = MLPClassifier(hidden_layer_sizes=(config["width"],), alpha=config["alpha"],
                            learning_rate_init=config["learning_rate_init"], max_iter=200,
                            random_state=0)
    return make_pipeline(StandardScaler(), est)


def build() -> dict:
    from sklearn.datasets import load_breast_cancer
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    x, y = load_breast_cancer(return_X_y=True)
    folds = StratifiedKFold(3, shuffle=True, random_state=0)
    out: dict = {"dataset": "breast_cancer", "cv": "3-fold stratified, shuffled, random_state=0",
                 "models": {}}
    for kind, grid in GRIDS.items():
        start = time.perf_counter()
        names = list(grid)
        scores = []
        for values in itertools.product(*grid.values()):
            config = dict(zip(names, values))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                scores.append(round(float(cross_val_score(_model(kind, config), x, y, cv=folds).mean()), 5))
        seconds = round(time.perf_counter() - start, 1)
        print(f"{kind}: {len(scores)} configurations, {seconds}s", file=sys.stderr, flush=True)
        out["models"][kind] = {"grid": {k: [None if v is None else (float(v) if isinstance(v, float)
                                                                     else v) for v in vs]
                                        for k, vs in grid.items()},
                               "accuracy": scores, "seconds": seconds}
    return out


def main() -> int:
    table = build()
    path = os.path.join(os.path.dirname(__file__), "data", "hpo_tabular.json")
    with open(path, "w") as f:
        json.dump(table, f, separators=(",", ":"))
    print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
