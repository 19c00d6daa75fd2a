"""Tests of define-by-run studies: ``sb.tune(objective)`` with no space (inline markers, or an
Optuna-style trial), and traced spaces that grow; every algorithm, workers, bad input."""

from __future__ import annotations

import pytest

import symbo as sb

ALGORITHMS = {
    "Random": lambda: sb.algorithms.Random(seed=0),
    "RegularizedEvolution": lambda: sb.algorithms.RegularizedEvolution(
        population_size=8, tournament_size=3, seed=0),
    "HillClimb": lambda: sb.algorithms.HillClimb(seed=0),
    "MCTS": lambda: sb.algorithms.MCTS(seed=0),
    "TPE": lambda: sb.algorithms.TPE(num_startup=5, seed=0),
    "GaussianProcessBO": lambda: sb.algorithms.GaussianProcessBO(num_startup=5, seed=0),
}


def optimizer_settings(trial):
    """Optuna-style: settings that depend on the optimizer."""
    opt = trial.suggest_categorical("optimizer", ["sgd", "adam"])
    lr = trial.suggest_float("lr", 1e-4, 1e-1, log=True)
    if opt == "sgd":
        momentum = trial.suggest_float("momentum", 0.0, 0.99)
        return -abs(lr - 0.01) - abs(momentum - 0.9)
    layers = trial.suggest_int("layers", 1, 3)
    for i in range(layers):
        trial.suggest_int(f"units_{i}", 4, 64, log=True)
    return -abs(lr - 0.001) - 0.1 * layers


def inline_markers():
    """No argument: named markers called inline."""
    kind = sb.one_of(["linear", "mlp"], name="kind")
    x = sb.float_range(-2.0, 2.0, name="x")
    if kind == "mlp":
        return -x * x + sb.int_range(0, 3, name="hidden") * 0.1
    return -x * x


def expected_keys(params: dict) -> list[str]:
    if params["optimizer"] == "sgd":
        return ["optimizer", "lr", "momentum"]
    return ["optimizer", "lr", "layers"] + [f"units_{i}" for i in range(params["layers"])]


@pytest.mark.parametrize("name", list(ALGORITHMS))
def test_every_algorithm_searches_an_optuna_style_objective_with_branches(name):
    study = sb.tune(optimizer_settings, algorithm=ALGORITHMS[name](), num_trials=24)
    assert [t.status for t in study.trials] == ["completed"] * 24
    for t in study.trials:
        assert list(t.params) == expected_keys(t.params)
    parents = dict(study.space.parents)
    assert parents.get("momentum") == ("optimizer", (0,))
    assert parents.get("layers") == ("optimizer", (1,))
    assert {d.id for d in study.spec["optimizer"].candidates[0].space.decisions} == {"momentum"}


@pytest.mark.parametrize("name", list(ALGORITHMS))
def test_every_algorithm_searches_inline_markers_with_workers(name):
    study = sb.tune(inline_markers, algorithm=ALGORITHMS[name](), num_trials=12, workers=2)
    assert [t.status for t in study.trials] == ["completed"] * 12
    for t in study.trials:
        keys = ["kind", "x", "hidden"] if t.params["kind"] == "mlp" else ["kind", "x"]
        assert list(t.params) == keys


def test_grid_covers_a_finite_discovered_space_once():
    def objective(trial):
        opt = trial.suggest_categorical("opt", ["sgd", "adam"])
        if opt == "sgd":
            return trial.suggest_categorical("momentum", [0.0, 0.9])
        return trial.suggest_int("layers", 1, 3)

    study = sb.tune(objective, algorithm=sb.algorithms.Grid(), num_trials=None)
    points = sorted(tuple(t.params.items()) for t in study.trials)
    assert len(points) == len(set(points)) == 5
    assert sb.dna_spec(study.space).space_size == 5


def nested_branches():
    model = sb.one_of(["mlp", "cnn", "linear"], name="model")
    if model == "mlp":
        sb.int_range(1, 3, name="depth")
    elif model == "cnn":
        if sb.one_of([3, 5], name="kernel") == 5:
            sb.one_of(["same", "valid"], name="padding")
    return 1.0


@pytest.mark.parametrize("workers", [1, 2])
def test_grid_with_workers_runs_each_point_of_a_discovered_space_once(workers):
    # with two workers, a point proposed while the tree is still being learned could differ
    # from a running one only in a decision its run does not meet: Grid waits for evidence
    for _ in range(3):
        study = sb.tune(nested_branches, algorithm=sb.algorithms.Grid(), num_trials=20,
                        workers=workers)
        points = [tuple(sorted(t.params.items())) for t in study.trials]
        assert len(points) == len(set(points)) == 7, points
        assert sb.dna_spec(study.space).space_size == 7


def test_a_seeded_define_by_run_search_is_reproducible():
    runs = [[t.params for t in sb.tune(optimizer_settings, algorithm=sb.algorithms.TPE(
        num_startup=4, seed=7), num_trials=12).trials] for _ in range(2)]
    assert runs[0] == runs[1]


def test_a_decision_first_met_joins_the_space_without_an_extra_run():
    calls = []

    def objective():
        calls.append(1)
        return sb.float_range(0.0, 1.0, name="x")

    study = sb.tune(objective, algorithm=sb.algorithms.Random(seed=0), num_trials=5)
    assert len(calls) == 5
    assert list(study.space.decisions) == ["x"]
    assert all(list(t.params) == ["x"] for t in study.trials)


def test_the_trial_api_of_optuna():
    seen = {}

    def objective(trial):
        seen.setdefault("numbers", []).append(trial.number)
        a = trial.suggest_float("a", 0.0, 1.0)
        b = trial.suggest_float("b", 1e-3, 1.0, log=True)
        c = trial.suggest_float("c", 0.0, 1.0, step=0.25)
        d = trial.suggest_int("d", 1, 9, step=4)
        e = trial.suggest_int("e", 1, 1024, log=True)
        f = trial.suggest_categorical("f", ["x", None, 3])
        g = trial.suggest_float("g", 2.0, 2.0)
        trial.set_user_attr("note", f"trial {trial.number}")
        seen["params"] = trial.params
        assert 0.0 <= a <= 1.0 and 1e-3 <= b <= 1.0 and c in (0.0, 0.25, 0.5, 0.75, 1.0)
        assert d in (1, 5, 9) and 1 <= e <= 1024 and isinstance(e, int) and f in ("x", None, 3)
        assert g == 2.0
        return a

    study = sb.tune(objective, algorithm=sb.algorithms.Random(seed=3), num_trials=6)
    assert seen["numbers"] == list(range(6))
    assert list(seen["params"]) == ["a", "b", "c", "d", "e", "f", "g"]
    assert [t.status for t in study.trials] == ["completed"] * 6
    assert study.trials[2].user_attrs == {"note": "trial 2"}
    assert study.trials[0].params["g"] == 2.0


def test_report_should_prune_and_trial_pruned():
    def objective(trial):
        x = trial.suggest_float("x", 0.0, 1.0)
        for step in range(5):
            trial.report(x * (step + 1), step)
            if trial.should_prune():
                raise sb.TrialPruned()
        return x * 5

    study = sb.tune(objective, algorithm=sb.algorithms.Random(seed=0), num_trials=30,
                    early_stopping=sb.algorithms.MedianStopping(min_trials=3))
    statuses = [t.status for t in study.trials]
    assert "stopped" in statuses and "failed" not in statuses
    for t in study.trials:
        if t.status == "stopped":
            assert t.reward == t.reports[-1][1] and len(t.reports) < 5


def test_trial_pruned_without_a_report_is_a_stopped_trial():
    def objective(trial):
        trial.suggest_int("n", 0, 3)
        raise sb.TrialPruned()

    study = sb.tune(objective, algorithm=sb.algorithms.Random(seed=0), num_trials=3)
    assert [t.status for t in study.trials] == ["stopped"] * 3


# ---- traced spaces in a study ---------------------------------------------------------------------
def test_a_traced_space_grows_in_a_study_when_the_trace_missed_a_branch():
    def train():
        opt = sb.one_of(["sgd", "adam"], name="opt")
        if opt == "adam":
            return sb.float_range(0.8, 0.99, name="beta")
        return 0.0

    space = sb.trace(train, max_runs=1)  # sgd only: beta is not found
    assert list(space.decisions) == ["opt"]
    study = sb.tune(lambda program: program(), space, sb.algorithms.Random(seed=0), num_trials=20)
    assert [t.status for t in study.trials] == ["completed"] * 20
    assert list(study.space.decisions) == ["opt", "beta"]
    assert dict(study.space.parents) == {"beta": ("opt", (1,))}
    for t in study.trials:
        assert list(t.params) == (["opt", "beta"] if t.params["opt"] == "adam" else ["opt"])


# ---- bad input --------------------------------------------------------------------------------------
@pytest.mark.parametrize("call, message", [
    (lambda t: t.suggest_float("lr", 1.0, 0.1), r"suggest_float\('lr'\): low must be <= high"),
    (lambda t: t.suggest_float("lr", 0.0, 1.0, log=True),
     r"suggest_float\('lr'\): log=True needs low > 0"),
    (lambda t: t.suggest_int("n", 0, 8, log=True), r"suggest_int\('n'\): log=True needs low >= 1"),
    (lambda t: t.suggest_int("n", 5, 1), r"suggest_int\('n'\): low must be <= high"),
    (lambda t: t.suggest_categorical("act", []),
     r"suggest_categorical\('act'\): choices must not be empty"),
    (lambda t: t.suggest_float("lr", 0.1, 1.0, step=0.1, log=True),
     r"suggest_float\('lr'\): step and log=True"),
])
def test_bad_suggestions_fail_their_trial_with_the_name_and_the_study_goes_on(call, message):
    def objective(trial):
        if trial.number == 1:
            call(trial)
        return trial.suggest_float("x", 0.0, 1.0)

    study = sb.tune(objective, algorithm=sb.algorithms.Random(seed=0), num_trials=3)
    assert [t.status for t in study.trials] == ["completed", "failed", "completed"]
    import re

    assert re.search(message, study.trials[1].error)


def test_a_name_reused_with_another_definition_in_another_branch_fails_that_trial():
    def objective(trial):
        if trial.suggest_categorical("opt", ["a", "b"]) == "a":
            return trial.suggest_float("x", 0.0, 1.0)
        return trial.suggest_float("x", 0.0, 2.0)

    study = sb.tune(objective, algorithm=sb.algorithms.Random(seed=0), num_trials=12)
    statuses = [t.status for t in study.trials]
    assert "completed" in statuses and "failed" in statuses
    first = study.trials[0].params["opt"]
    for t in study.trials:
        assert t.status == ("completed" if t.params["opt"] == first else "failed")
        if t.status == "failed":
            assert "two markers are named 'x' with different definitions" in t.error


def test_a_marker_met_under_two_parents_fails_that_trial():
    def objective():
        a = sb.one_of([lambda: sb.int_range(0, 3, name="x"), "plain"], name="a")
        if a == "plain":
            sb.int_range(0, 3, name="x")
        return 1.0

    study = sb.tune(objective, algorithm=sb.algorithms.Random(seed=1), num_trials=12)
    statuses = {t.params["a"] == "plain": t.status for t in study.trials}
    assert set(statuses.values()) == {"completed", "failed"}
    failed = [t for t in study.trials if t.status == "failed"]
    assert all("marker 'x' is met under two different parents" in t.error for t in failed)


def test_an_objective_taking_two_arguments_and_no_space_is_refused():
    with pytest.raises(sb.SymbolicValueError, match="takes no argument .* or one"):
        sb.tune(lambda a, b: 0, algorithm=sb.algorithms.Random(), num_trials=1)


def test_an_unnamed_inline_marker_fails_its_trial_with_the_hint():
    def objective():
        return sb.float_range(0.0, 1.0)

    study = sb.tune(objective, algorithm=sb.algorithms.Random(seed=0), num_trials=2)
    assert [t.status for t in study.trials] == ["failed", "failed"]
    assert "needs a name=" in study.trials[0].error


def test_sample_with_a_traced_space_reads_what_each_program_met():
    def train():
        if sb.one_of(["sgd", "adam"], name="opt") == "adam":
            return sb.float_range(0.8, 0.99, name="beta")
        return 0.5

    space = sb.trace(train, max_runs=1)
    for program, feedback in sb.sample(space, sb.algorithms.Random(seed=0), num_trials=10):
        feedback(program())
    study = feedback.study
    assert [t.status for t in study.trials] == ["completed"] * 10
    assert dict(study.space.parents) == {"beta": ("opt", (1,))}
    for t in study.trials:
        assert list(t.params) == (["opt", "beta"] if t.params["opt"] == "adam" else ["opt"])


def test_create_study_with_no_space_then_optimize_as_in_optuna(tmp_path):
    def objective(trial):
        x = trial.suggest_float("x", -2.0, 2.0)
        trial.set_user_attr("square", x * x)
        return (x - 0.5) ** 2

    url = f"sqlite:///{tmp_path / 'study.db'}"
    study = sb.create_study(url, "optuna-style", objectives=("min",))
    study.optimize(objective, sb.algorithms.TPE(num_startup=5, seed=0), num_trials=10)
    study.optimize(objective, sb.algorithms.TPE(num_startup=5, seed=1), num_trials=5)
    again = sb.load_study(url, "optuna-style")
    assert len(again.trials) == 15 and list(again.best_params) == ["x"]
    assert again.best_value == pytest.approx((again.best_params["x"] - 0.5) ** 2)
    for t in again.trials:
        assert t.user_attrs == {"square": pytest.approx(t.params["x"] ** 2)}
    pytest.importorskip("pandas")
    frame = again.trials_dataframe()
    assert {"params_x", "user_attrs_square"} <= set(frame.columns)


def test_a_trial_program_holds_the_decisions_its_run_met():
    def objective(trial):
        x = trial.suggest_float("x", 0.0, 1.0)
        if trial.number >= 2:  # joins the space mid-study: earlier trials never met it
            x += trial.suggest_float("dropout", 0.0, 0.5)
        return x

    study = sb.tune(objective, algorithm=sb.algorithms.Random(seed=0), num_trials=4)
    for t in study.trials:
        assert dict(t.program.values) == t.params
    assert list(study.trials[0].params) == ["x"]
    assert list(study.trials[3].params) == ["x", "dropout"]


def test_the_program_of_a_trial_without_a_space_runs_under_apply():
    def objective():
        return sb.float_range(0.0, 1.0, name="x")

    study = sb.tune(objective, algorithm=sb.algorithms.Random(seed=0), num_trials=3)
    program = study.best_trial.program
    with program.apply():
        assert objective() == study.best_value
    with pytest.raises(sb.SymbolicValueError, match=r"with program.apply\(\): objective\(\)"):
        program()
