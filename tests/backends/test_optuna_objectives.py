"""An objective written for Optuna, run by Optuna and by symbo with only its imports changed."""

from __future__ import annotations

import pytest

import symbo as sb

optuna = pytest.importorskip("optuna")

# Optuna's own example shape: settings that exist only for some choices, intermediate values,
# pruning. The two versions differ in their first line only.
SOURCE = '''
{import_line}


def objective(trial):
    classifier = trial.suggest_categorical("classifier", ["SVC", "RandomForest"])
    if classifier == "SVC":
        c = trial.suggest_float("svc_c", 1e-10, 1e10, log=True)
        score = 1.0 / (1.0 + abs(math.log10(c) - 2.0))
    else:
        depth = trial.suggest_int("rf_max_depth", 2, 32, log=True)
        trees = trial.suggest_int("rf_n_estimators", 10, 100, step=10)
        score = 1.0 / (1.0 + abs(depth - 8) / 8) + trees / 1000
    dropout = trial.suggest_float("dropout", 0.0, 0.5, step=0.1)
    for step in range(4):
        value = score * (step + 1) / 4 - dropout * 0.1
        trial.report(value, step)
        if trial.should_prune():
            raise TrialPruned()
    trial.set_user_attr("classifier", classifier)
    return value
'''


def load(import_line: str):
    namespace: dict = {}
    exec(compile("import math\n" + SOURCE.format(import_line=import_line), "objective.py", "exec"),
         namespace)
    return namespace["objective"]


def branch_keys(params: dict) -> set[str]:
    if params["classifier"] == "SVC":
        return {"classifier", "svc_c", "dropout"}
    return {"classifier", "rf_max_depth", "rf_n_estimators", "dropout"}


def test_the_same_objective_runs_in_optuna_and_in_symbo():
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with_optuna = load("from optuna import TrialPruned")
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=0),
                                pruner=optuna.pruners.MedianPruner(n_startup_trials=3))
    study.optimize(with_optuna, n_trials=30)
    states = {t.state.name for t in study.trials}
    assert states <= {"COMPLETE", "PRUNED"} and "COMPLETE" in states
    assert all(set(t.params) == branch_keys(t.params) for t in study.trials)

    with_symbo = load("from symbo import TrialPruned")
    ours = sb.tune(with_symbo, algorithm=sb.algorithms.TPE(seed=0), num_trials=30,
                   early_stopping=sb.algorithms.MedianStopping(min_trials=3))
    statuses = {t.status for t in ours.trials}
    assert statuses <= {"completed", "stopped"} and "completed" in statuses
    assert all(set(t.params) == branch_keys(t.params) for t in ours.trials)
    assert all(t.params["dropout"] in (0.0, 0.1, 0.2, 0.3, 0.4, 0.5) for t in ours.trials)
    assert all(t.params["rf_n_estimators"] % 10 == 0 for t in ours.trials
               if "rf_n_estimators" in t.params)
    completed = [t for t in ours.trials if t.status == "completed"]
    assert completed[0].user_attrs == {"classifier": completed[0].params["classifier"]}
    # both model the conditional settings as such: SVC's are under its candidate
    assert dict(ours.space.parents)["svc_c"] == ("classifier", (0,))


def test_optuna_s_own_trial_pruned_stops_a_symbo_trial():
    def objective(trial):
        trial.suggest_float("x", 0.0, 1.0)
        trial.report(0.5, 0)
        raise optuna.TrialPruned()

    study = sb.tune(objective, algorithm=sb.algorithms.Random(seed=0), num_trials=3)
    assert [(t.status, t.reward) for t in study.trials] == [("stopped", 0.5)] * 3
