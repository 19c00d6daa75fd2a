"""Property tests of define-by-run studies over random branchy functions (``tests/branchy.py``):
no trial fails, and each trial's params are exactly the markers its run met, in order."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symbo as sb
from tests.branchy import build, programs

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

ALGORITHMS = {
    "Random": lambda seed: sb.algorithms.Random(seed=seed),
    "RegularizedEvolution": lambda seed: sb.algorithms.RegularizedEvolution(
        population_size=4, tournament_size=2, seed=seed),
    "HillClimb": lambda seed: sb.algorithms.HillClimb(seed=seed),
    "MCTS": lambda seed: sb.algorithms.MCTS(seed=seed),
    "TPE": lambda seed: sb.algorithms.TPE(num_startup=3, seed=seed),
}


@SETTINGS
@given(programs(), st.sampled_from(sorted(ALGORITHMS)), st.integers(0, 2**16),
       st.sampled_from([None, 1, 3]))
def test_random_branchy_functions_never_fail_a_trial_and_params_are_what_each_run_met(
        program, algorithm, seed, trace_runs):
    fn, met = build(program)
    runs: dict[int, list[str]] = {}

    def objective(trial):
        value = fn()
        runs[trial.number] = list(met)
        return value

    if trace_runs is None:  # no space: discovered as trials run
        study = sb.tune(objective, algorithm=ALGORITHMS[algorithm](seed), num_trials=8)
    else:  # a traced space (a bounded trace may miss branches: the space grows)
        space = sb.trace(fn, max_runs=trace_runs)

        def run_program(program, feedback):
            value = program()
            runs[feedback.trial_id] = list(met)
            return value

        study = sb.tune(run_program, space, ALGORITHMS[algorithm](seed), num_trials=8)
    assert [t.status for t in study.trials] == ["completed"] * 8
    for t in study.trials:
        assert list(t.params) == runs[t.id]
