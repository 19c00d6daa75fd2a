"""Auto: the rule by space and budget, the switch from GP-BO to TPE, resuming, fallbacks."""

from __future__ import annotations

import pytest

import symbo as sb
from symbo.algorithms import Auto

from .replay import Log, resumed

MIXED = sb.Dict(x=sb.float_range(0.0, 1.0), k=sb.one_of(["a", "b", "c"]))


def chosen(space, **kwargs):
    auto = Auto(**kwargs)
    auto.setup(sb.dna_spec(space), num_objectives=kwargs.pop("_objectives", 1))
    return auto.chosen


def test_rule_by_space_and_budget():
    small = sb.Dict(k=sb.one_of([1, 2, 3]), j=sb.int_range(0, 3))      # 12 points
    assert chosen(small, num_trials=12) == "Grid"
    assert chosen(small, num_trials=11) == "BOWL"                      # finite, of choices
    assert chosen(small) == "BOWL"
    assert chosen(sb.Dict(k=sb.one_of([1, 2]), n=sb.int_range(0, 99))) == "GaussianProcessBO"
    assert chosen(sb.Dict(c=sb.dag_cell(3, ["conv", "pool"]), n=sb.int_range(1, 8))) == "BOWL"
    assert chosen(MIXED, num_trials=100) == "GaussianProcessBO"
    assert chosen(MIXED, num_trials=5000) == "TPE"


def test_several_objectives_use_evolution():
    auto = Auto(seed=0)
    auto.setup(sb.dna_spec(MIXED), num_objectives=2)
    assert auto.chosen == "RegularizedEvolution"


def test_switches_to_tpe_after_gp_trials_with_the_whole_history():
    auto = Auto(seed=0, gp_trials=12)
    study = sb.tune(lambda p: p.x + (p.k == "b"), MIXED, auto, num_trials=20)
    assert auto.chosen == "TPE"
    assert len(auto.inner.history) == 20
    assert auto.inner.multivariate
    assert study.best_trial.reward > 1.5


def test_default_algorithm_of_tune_and_sample_is_auto():
    study = sb.tune(lambda p: p.x, MIXED, num_trials=12)
    assert isinstance(study.algorithm, Auto) and study.algorithm.num_trials == 12
    grid = sb.Dict(k=sb.int_range(0, 4))
    seen = []
    for program, feedback in sb.sample(grid, num_trials=None):
        seen.append(program.k)
        feedback(program.k)
    assert sorted(seen) == [0, 1, 2, 3, 4]                 # Grid: every point once, then done


def test_restored_from_the_trials_it_resumes_the_delegate():
    spec = sb.dna_spec(MIXED)
    auto = Auto(seed=3, gp_trials=8)
    auto.setup(spec)
    log = Log(auto)
    for _ in range(10):
        dna = log.propose()
        log.feedback(dna, float(dna.to_numbers()[0]))
    back = resumed(Auto(seed=3, gp_trials=8), spec, log)  # the trials, then the small state
    assert back.chosen == "TPE" and len(back.history) == 10
    assert back.propose() == auto.propose()


def test_resume_from_sqlite_in_a_new_study_object(tmp_path):
    url = f"sqlite:///{tmp_path / 'a.db'}"
    sb.tune(lambda p: p.x, MIXED, Auto(seed=1, gp_trials=6), num_trials=8, storage=url,
            study_name="s")
    study = sb.load_study(url, "s", space=MIXED)
    study.resume(lambda p: p.x, num_trials=12)
    assert len(sb.load_study(url, "s").trials) == 12


def test_falls_back_when_an_algorithm_refuses_the_space():
    class GridFirst(Auto, register=False):
        def _candidates(self, spec):
            return ["Grid", "Random"]                       # Grid refuses continuous spaces

    auto = GridFirst(seed=0)
    auto.setup(sb.dna_spec(MIXED))
    assert auto.chosen == "Random"

    class Nothing(Auto, register=False):
        def _candidates(self, spec):
            return ["Grid"]

    with pytest.raises(sb.algorithms.AlgorithmError, match="no algorithm can search"):
        Nothing().setup(sb.dna_spec(MIXED))


def test_bad_settings():
    with pytest.raises(sb.algorithms.AlgorithmError, match="gp_trials"):
        Auto(gp_trials=-1).setup(sb.dna_spec(MIXED))


def test_auto_is_gaussian_process_bo_for_the_first_gp_trials():
    """compare_bench.py reports one row for both: at up to gp_trials trials they are the same."""
    def run(algo):
        study = sb.tune(lambda p: -(p.x - 0.3) ** 2 - (p.k != "b"), MIXED, algo, num_trials=14)
        return [t.dna for t in study.trials]

    assert run(Auto(seed=4)) == run(sb.algorithms.GaussianProcessBO(seed=4))


def test_auto_is_bowl_for_the_first_gp_trials_on_spaces_of_choices():
    space = sb.Dict(cell=sb.dag_cell(2, ["conv", "pool", "skip"]), k=sb.one_of([1, 2, 3]))

    def run(algo):
        study = sb.tune(lambda p: float(p.k) + (p.cell.nodes[0].ops[0] == "conv"), space, algo,
                        num_trials=14)
        return [t.dna for t in study.trials]

    assert run(Auto(seed=2)) == run(sb.algorithms.BOWL(seed=2))


def test_auto_on_spaces_of_ranges_is_the_optuna_like_gaussian_process_bo():
    space = sb.Dict(x=sb.float_range(0.0, 1.0), y=sb.float_range(-1.0, 1.0))
    auto = Auto(seed=0)
    auto.setup(sb.dna_spec(space))
    assert auto.chosen == "GaussianProcessBO"
    assert (auto.inner.prior, auto.inner.num_best, auto.inner.refine_rounds) == ("gamma", 0, 0)
    mixed = Auto(seed=0)
    mixed.setup(sb.dna_spec(MIXED))
    assert mixed.inner.prior == "lognormal"           # mixed spaces keep the defaults

    def run(algo):        # compare_bench.py's Auto row is this setting's
        study = sb.tune(lambda p: -(p.x - 0.3) ** 2 - p.y ** 2, space, algo, num_trials=14)
        return [t.dna for t in study.trials]

    setting = sb.algorithms.auto.CONTINUOUS_GP
    assert run(Auto(seed=3)) == run(sb.algorithms.GaussianProcessBO(seed=3, **setting))


def test_auto_parallel_proposals_on_a_space_of_ranges_spread_out():
    """Pending proposals (workers that have not reported) are not proposed again nearby."""
    spec = sb.dna_spec(sb.Dict(x=sb.float_range(0.0, 1.0)))
    for seed in range(3):
        auto = Auto(seed=seed)
        auto.setup(spec)
        for _ in range(12):
            dna = auto.propose()
            auto.feedback(dna, -(dna.to_numbers()[0] - 0.3) ** 2)
        batch = [auto.propose().to_numbers()[0] for _ in range(4)]   # none completes
        assert min(abs(a - b) for i, a in enumerate(batch) for b in batch[i + 1:]) > 1e-2
