"""The search loop: sample/tune, feedback, failures, objectives, nested flows."""

from __future__ import annotations

import math

import pytest

import symbo as sb
from symbo.algorithms import Algorithm, AlgorithmError, Grid, Random


def _space() -> sb.Dict:
    return sb.Dict(x=sb.float_range(-2.0, 2.0, name="x"), k=sb.one_of([1, 2, 3], name="k"))


class Recorder(Random, type_name="tests.Recorder"):
    """Random search that records what the loop tells it."""

    def _setup(self, spec: sb.DNASpec) -> None:
        super()._setup(spec)
        self._failures: list[tuple[sb.DNA, str]] = []
        self._rewards: list[tuple[sb.DNA, object]] = []

    def feedback(self, dna: sb.DNA, reward: object) -> None:
        super().feedback(dna, reward)  # type: ignore[arg-type]
        self._rewards.append((dna, reward))

    def on_failure(self, dna: sb.DNA, error: str) -> None:
        self._failures.append((dna, error))


def test_sample_yields_materialized_programs_and_records_trials() -> None:
    algo = Recorder(seed=3)
    seen = []
    for program, feedback in sb.sample(_space(), algo, num_trials=5):
        assert sb.is_deterministic(program)
        assert feedback.dna == feedback.trial.dna
        seen.append(program)
        feedback(program.x * program.k)
    study = feedback.study
    assert [t.id for t in study.trials] == [0, 1, 2, 3, 4]
    assert all(t.status == "completed" for t in study.trials)
    assert [t.reward for t in study.trials] == [p.x * p.k for p in seen]
    assert study.best_trial.reward == max(p.x * p.k for p in seen)
    assert [r for _, r in algo._rewards] == [t.reward for t in study.trials]


def test_a_trial_without_feedback_fails_and_is_not_yielded_again() -> None:
    algo = Recorder(seed=0)
    dnas = []
    for _program, feedback in sb.sample(_space(), algo, num_trials=4):
        dnas.append(feedback.dna)  # no feedback at all
    study = feedback.study
    assert len(study.trials) == 4
    assert all(t.status == "failed" and "no feedback" in t.error for t in study.trials)
    assert len(algo._failures) == 4


def test_feedback_twice_is_an_error() -> None:
    for _program, feedback in sb.sample(_space(), Random(seed=0), num_trials=1):
        feedback(1.0)
        with pytest.raises(sb.SymbolicValueError, match="already completed"):
            feedback(2.0)


@pytest.mark.parametrize("bad", [math.nan, math.inf, "0.5", None, [1.0, 2.0], object()])
def test_bad_rewards_fail_the_trial_and_the_search_goes_on(bad: object) -> None:
    algo = Recorder(seed=1)
    calls = []

    def objective(program: sb.Dict) -> object:
        calls.append(program)
        return bad if len(calls) == 2 else 1.0

    study = sb.tune(objective, _space(), algo, num_trials=4)
    statuses = [t.status for t in study.trials]
    assert statuses == ["completed", "failed", "completed", "completed"]
    assert study.trials[1].reward is None and study.trials[1].error
    assert len(algo._failures) == 1 and algo._failures[0][0] == study.trials[1].dna


def test_an_objective_that_raises_is_recorded_with_its_traceback() -> None:
    def objective(program: sb.Dict) -> float:
        if program.k == 2:
            raise RuntimeError("diverged")
        return program.x

    study = sb.tune(objective, _space(), Random(seed=0), num_trials=20)
    failed = [t for t in study.trials if t.status == "failed"]
    assert failed and all("RuntimeError: diverged" in t.error for t in failed)
    assert all(t.program.k == 2 for t in failed)
    assert len(study.trials) == 20


def test_keyboard_interrupt_is_not_swallowed() -> None:
    def objective(program: sb.Dict) -> float:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        sb.tune(objective, _space(), Random(seed=0), num_trials=3)


def test_numpy_scalars_are_accepted_as_rewards() -> None:
    np = pytest.importorskip("numpy")
    study = sb.tune(lambda p: np.float32(p.x), _space(), Random(seed=0), num_trials=3)
    assert all(isinstance(t.reward, float) for t in study.trials)


def test_minimized_objectives_are_negated_for_the_algorithm() -> None:
    algo = Recorder(seed=0)
    study = sb.tune(lambda p: p.x ** 2, _space(), algo, num_trials=10, objectives=("min",))
    assert study.best_trial.reward == min(t.reward for t in study.trials)
    assert [r for _, r in algo._rewards] == [-t.reward for t in study.trials]


def test_several_objectives_give_a_pareto_front() -> None:
    space = sb.Dict(x=sb.one_of([0.0, 0.25, 0.5, 0.75, 1.0]))
    study = sb.tune(lambda p: (p.x, 1.0 - p.x ** 2 if p.x < 0.6 else 0.0), space, Grid(),
                    num_trials=None, objectives=("max", "max"))
    front = sorted(t.program.x for t in study.pareto_front)
    assert front == [0.0, 0.25, 0.5, 1.0]  # 0.75 gives (0.75, 0.0), dominated by (1.0, 0.0)
    with pytest.raises(sb.SymbolicValueError, match="pareto_front"):
        _ = study.best_trial


def test_single_objective_algorithms_refuse_several_objectives() -> None:
    class OneObjective(Algorithm, type_name="tests.OneObjective"):
        def propose(self) -> sb.DNA:
            return sb.random_dna(self.spec)

    with pytest.raises(AlgorithmError, match="one objective"):
        sb.tune(lambda p: (1.0, 2.0), _space(), OneObjective(), num_trials=1,
                objectives=("max", "min"))


def test_grid_ends_the_search_when_exhausted() -> None:
    space = sb.Dict(a=sb.one_of([1, 2]), b=sb.int_range(0, 2))
    study = sb.tune(lambda p: p.a + p.b, space, Grid(), num_trials=100)
    assert len(study.trials) == 6
    assert sorted((t.program.a, t.program.b) for t in study.trials) == [
        (1, 0), (1, 1), (1, 2), (2, 0), (2, 1), (2, 2)]


def test_tune_on_a_traced_function() -> None:
    def train() -> float:
        lr = sb.float_range(1e-3, 1.0, scale="log", name="lr")
        depth = sb.int_range(1, 4, name="depth")
        return -abs(math.log10(lr) + 1) - abs(depth - 3)

    space = sb.trace(train)
    study = sb.tune(lambda program: program(), space, Random(seed=0), num_trials=30)
    best = study.best_trial
    assert set(best.program.values) == {"lr", "depth"}
    assert best.reward == max(t.reward for t in study.trials)


def test_nested_search_with_where() -> None:
    space = sb.Dict(hardware=sb.one_of(["small", "big"], name="hardware"),
                    width=sb.one_of([8, 16, 32], name="width"))
    outer = []
    for hw_program, outer_fb in sb.sample(space, Grid(), num_trials=None,
                                          where=lambda m: m.name == "hardware"):
        assert isinstance(hw_program.width, sb.OneOf)  # left for the inner search
        limit = 16 if hw_program.hardware == "small" else 32
        inner = sb.tune(lambda p, limit=limit: p.width if p.width <= limit else -1.0,
                        hw_program, Grid(), num_trials=None)
        outer.append((hw_program.hardware, inner.best_trial.program.width))
        outer_fb(inner.best_trial.reward)
    assert outer == [("small", 16), ("big", 32)]
    assert len(outer_fb.study.trials) == 2


def test_searching_an_algorithms_own_settings() -> None:
    algo_space = sb.algorithms.Grid(grid_size=sb.one_of([2, 5]))
    inner_space = sb.Dict(x=sb.float_range(0.0, 1.0))
    results = {}
    for algo, feedback in sb.sample(algo_space, Grid(), num_trials=None):
        inner = sb.tune(lambda p: -abs(p.x - 0.5), inner_space, algo, num_trials=None)
        results[algo.grid_size] = (len(inner.trials), inner.best_trial.reward)
        feedback(inner.best_trial.reward)
    assert results == {2: (2, -0.5), 5: (5, 0.0)}


def test_stopping_iteration_early_leaves_no_running_trial() -> None:
    gen = sb.sample(_space(), Random(seed=0), num_trials=10)
    program, feedback = next(gen)
    feedback(1.0)
    program, feedback = next(gen)
    gen.close()
    assert [t.status for t in feedback.study.trials] == ["completed", "failed"]


def test_bad_arguments() -> None:
    with pytest.raises(sb.SymbolicValueError, match="Algorithm"):
        next(sb.sample(_space(), "random", num_trials=1))  # type: ignore[arg-type]
    with pytest.raises(sb.SymbolicValueError, match="objectives"):
        sb.tune(lambda p: 1.0, _space(), Random(), num_trials=1, objectives=("up",))
    with pytest.raises(AlgorithmError, match="grid_size"):
        sb.tune(lambda p: 1.0, _space(), Grid(), num_trials=1)


def test_history_tracks_the_best_so_far() -> None:
    rewards = iter([1.0, 3.0, 2.0, 5.0])
    study = sb.tune(lambda p: next(rewards), _space(), Random(seed=0), num_trials=4)
    assert [best for _, _, best in study.history] == [1.0, 3.0, 3.0, 5.0]
