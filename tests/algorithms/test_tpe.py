"""TPE (symbo/algorithms/tpe.py) and its Parzen estimators (symbo/algorithms/parzen.py)."""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symbo as sb
from symbo.algorithms import AlgorithmError, Random
from symbo.algorithms.parzen import Dim, ParzenEstimator, default_weights, log_normal_mass
from symbo.algorithms.tpe import TPE
from symbo.dsl.dna import validate

from .replay import Log, resumed
from .spaces import arbitrary_reward, mixed_space


def _run(algo: Any, space: Any, f: Callable[[sb.DNA], float], n: int) -> tuple[float, list]:
    algo.setup(sb.dna_spec(space))
    best, history = -math.inf, []
    for _ in range(n):
        dna = algo.propose()
        reward = f(dna)
        algo.feedback(dna, reward)
        best = max(best, reward)
        history.append(dna)
    return best, history


# ---- valid proposals -----------------------------------------------------------------------------
@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10_000), multivariate=st.booleans(), liar=st.booleans(),
       endpoints=st.booleans(), prior_weight=st.sampled_from([0.0, 0.5, 1.0, 3.0]),
       num_startup=st.integers(0, 12))
def test_proposals_are_valid_dna(seed: int, multivariate: bool, liar: bool, endpoints: bool,
                                 prior_weight: float, num_startup: int) -> None:
    algo = TPE(seed=seed, multivariate=multivariate, constant_liar=liar,
               consider_endpoints=endpoints, prior_weight=prior_weight,
               num_startup=num_startup, num_candidates=8)
    spec = sb.dna_spec(mixed_space())
    algo.setup(spec)
    for i in range(45):
        dna = algo.propose()
        validate(spec, dna)
        if i % 9 == 4:
            algo.on_failure(dna, "boom")
        elif i % 9 != 7:          # a few stay pending
            algo.feedback(dna, arbitrary_reward(dna))
    assert algo.num_proposed == 45


def test_values_have_the_decision_types() -> None:
    space = sb.Dict(f=sb.float_range(0.0, 1.0), lf=sb.float_range(1e-3, 1.0, scale="log"),
                    i=sb.int_range(-3, 3), li=sb.int_range(1, 100, scale="log"),
                    c=sb.one_of(["a", "b"]))
    _, history = _run(TPE(seed=0, num_startup=3), space, lambda d: -abs(d.to_numbers()[2]), 30)
    for dna in history[3:]:
        f, lf, i, li, c = dna.to_numbers()
        assert type(f) is float and type(lf) is float
        assert type(i) is int and type(li) is int and type(c) is int
        assert 1e-3 <= lf <= 1.0 and 1 <= li <= 100 and -3 <= i <= 3


def test_setup_rejects_bad_settings() -> None:
    spec = sb.dna_spec(sb.Dict(x=sb.float_range(0.0, 1.0)))
    for kwargs in ({"gamma": 0.0}, {"gamma": 1.5}, {"num_candidates": 0}, {"max_good": 0},
                   {"prior_weight": -1.0}, {"num_startup": -1}):
        key = next(iter(kwargs))  # field checks (issue 14): refused at construction
        with pytest.raises(sb.SymbolicValueError, match=f"^{key}: {key} must be"):
            TPE(**kwargs)
    with pytest.raises(AlgorithmError):
        TPE().setup(spec, num_objectives=2)


def test_startup_proposals_are_random_until_enough_trials_complete() -> None:
    spec = sb.dna_spec(sb.Dict(x=sb.float_range(0.0, 1.0)))
    tpe, rnd = TPE(seed=3, num_startup=5), Random(seed=3)
    tpe.setup(spec)
    rnd.setup(spec)
    for _ in range(7):  # nothing completes: still random after num_startup proposals
        assert tpe.propose() == rnd.propose()


# ---- the Parzen estimator ------------------------------------------------------------------------
@pytest.mark.parametrize("multivariate", [False, True])
@pytest.mark.parametrize("observations", [[], [0.5], [0.0, 1.0], [0.2, 0.21, 0.22, 0.9],
                                          list(np.linspace(0.05, 0.3, 40))])
def test_float_density_integrates_to_one(observations: list, multivariate: bool) -> None:
    xs = np.linspace(0.0, 1.0, 20_001)
    for prior_weight in (1.0, 0.0):
        est = ParzenEstimator(observations, [Dim("float")], prior_weight=prior_weight,
                              multivariate=multivariate)
        density = np.exp(est.log_pdf([xs]))
        assert np.trapezoid(density, xs) == pytest.approx(1.0, abs=2e-3)


@pytest.mark.parametrize("count", [2, 7, 100, 3000])
def test_int_masses_sum_to_one(count: int) -> None:
    rng = np.random.default_rng(count)
    values = rng.integers(0, count, 60)
    est = ParzenEstimator((values + 0.5) / count, [Dim("int", count)])
    v = np.arange(count)
    masses = np.exp(est.log_pdf([(v / count, (v + 1) / count)]))
    assert masses.sum() == pytest.approx(1.0, abs=1e-4)


def test_choice_probabilities_sum_to_one_and_follow_counts() -> None:
    est = ParzenEstimator([2, 2, 2, 0], [Dim("choice", 4)])
    p = np.exp(est.log_pdf([np.arange(4)]))
    assert p.sum() == pytest.approx(1.0)
    assert p.argmax() == 2 and p[0] > p[1] == pytest.approx(p[3])


def test_density_concentrates_near_good_observations() -> None:
    est = ParzenEstimator(np.linspace(0.69, 0.75, 20), [Dim("float")])
    xs = np.linspace(0.0, 1.0, 1001)
    density = np.exp(est.log_pdf([xs]))
    assert 0.65 < xs[density.argmax()] < 0.8
    near = density[(xs > 0.6) & (xs < 0.85)].mean()
    assert near > 5 * density[xs < 0.4].mean()
    samples = est.sample(np.random.default_rng(0), 2000)[0]
    assert np.mean((samples > 0.6) & (samples < 0.85)) > 0.6
    assert samples.min() >= 0.0 and samples.max() <= 1.0


def test_multivariate_density_is_joint() -> None:
    # two clusters on the diagonal: jointly, the off-diagonal corners are unlikely, although
    # each dimension alone is bimodal
    obs = [[0.1, 0.1], [0.12, 0.11], [0.9, 0.9], [0.88, 0.91]]
    joint = ParzenEstimator(obs, [Dim("float"), Dim("float")], multivariate=True)
    indep = ParzenEstimator(obs, [Dim("float"), Dim("float")])
    on, off = [np.array([0.1, 0.9]), np.array([0.1, 0.9])], [np.array([0.1, 0.9]),
                                                            np.array([0.9, 0.1])]
    assert (joint.log_pdf(on) - joint.log_pdf(off)).min() > 2.0
    assert np.allclose(indep.log_pdf(on), indep.log_pdf(off), atol=0.5)
    xs = np.linspace(0.0, 1.0, 401)
    gx, gy = np.meshgrid(xs, xs)
    density = np.exp(joint.log_pdf([gx.ravel(), gy.ravel()])).reshape(gx.shape)
    assert np.trapezoid(np.trapezoid(density, xs), xs) == pytest.approx(1.0, abs=1e-2)


def test_bandwidths_follow_optuna() -> None:
    # neighbour rule, with the prior's centre 0.5 among the neighbours
    est = ParzenEstimator([0.4, 0.45], [Dim("float")], magic_clip=False)
    assert est._sigmas[0].tolist() == pytest.approx([0.05, 0.05, 1.0])   # endpoints ignored
    est = ParzenEstimator([0.4, 0.45], [Dim("float")], magic_clip=False, consider_endpoints=True)
    assert est._sigmas[0].tolist() == pytest.approx([0.4, 0.05, 1.0])
    # the magic clip: at least 1 / min(100, 1 + n_kernels); Scott's rule when multivariate
    assert ParzenEstimator([0.4, 0.45], [Dim("float")])._sigmas[0][:2] == pytest.approx(0.25)
    est = ParzenEstimator(np.full((50, 2), 0.5), [Dim("float"), Dim("float")],
                          multivariate=True)
    assert est._sigmas[:, 0] == pytest.approx(0.2 * 50 ** (-1 / 6))
    w = default_weights(30)
    assert len(w) == 30 and w[:5] == pytest.approx(np.linspace(1 / 30, 1, 5))
    assert (w[5:] == 1).all() and (default_weights(24) == 1).all()


def _mass(a: float, b: float) -> float:
    q = lambda z: 0.5 * math.erfc(z / math.sqrt(2))
    return q(a) - q(b) if a >= 0 else q(-b) - q(-a) if b <= 0 else 1 - q(-a) - q(b)


def test_log_normal_mass_is_exact_in_the_tails() -> None:
    a = np.array([-1.0, 5.0, -7.0, -0.5, 2.0])
    b = np.array([1.0, 6.0, -6.0, 1e-9, 2.001])
    expected = [_mass(x, y) for x, y in zip(a, b, strict=True)]
    assert np.exp(log_normal_mass(a, b)) == pytest.approx(expected, rel=1e-5)
    far = log_normal_mass(np.array([30.0, -40.5]), np.array([30.5, -40.0]))
    assert np.isfinite(far).all() and (far < -400).all()      # exp() of these would be 0


def test_masks_restrict_sampled_choices() -> None:
    est = ParzenEstimator([1, 1, 1], [Dim("choice", 3)])
    allowed = np.array([True, False, True])
    picks = est.sample(np.random.default_rng(0), 300, mask=lambda d, s: allowed)[0]
    assert set(picks.tolist()) == {0, 2}


# ---- conditional modelling -----------------------------------------------------------------------
def _conditional_space() -> sb.Dict:
    return sb.Dict(model=sb.one_of([
        sb.Dict(x=sb.float_range(-5.0, 5.0)),
        sb.Dict(y=sb.float_range(-5.0, 5.0), k=sb.int_range(1, 8)),
    ]))


def test_decisions_are_fitted_only_where_active() -> None:
    algo = TPE(seed=0, num_startup=5)
    spec = sb.dna_spec(_conditional_space())
    algo.setup(spec)
    for i in range(20):  # only branch 0 is ever chosen
        algo.feedback(sb.DNA.from_numbers(spec, [0, -5.0 + i * 0.5]), -float(i))
    assert len(algo.observations("model")) == 20
    assert len(algo.observations("model[=0].x")) == 20
    assert len(algo.observations("model[=1].y")) == 0
    assert len(algo.observations("model[=1].k")) == 0
    # the sub-decisions of branch 1 are drawn from the prior alone: spread over the range
    ys = []
    for _ in range(60):
        dna = algo.propose()
        algo.on_failure(dna, "not evaluated")
        if dna.children[0].value == 1:
            ys.append(dna.children[0].children[0].value)
    assert len(ys) >= 3 and max(ys) - min(ys) > 2.0
    for i in range(3):  # now branch 1 appears: only these trials fit its decisions
        algo.feedback(sb.DNA.from_numbers(spec, [1, 1.0 + i, 3]), 1.0)
    assert algo.observations("model[=1].y").tolist() == [1.0, 2.0, 3.0]
    assert algo.observations("model[=1].k").tolist() == [3, 3, 3]
    assert len(algo.observations("model[=0].x")) == 20


def test_many_of_positions_have_their_own_sub_decisions() -> None:
    space = sb.Dict(m=sb.many_of(2, [sb.Dict(a=sb.int_range(0, 9)), "none"], distinct=False))
    algo = TPE(seed=0)
    spec = sb.dna_spec(space)
    algo.setup(spec)
    algo.feedback(sb.DNA(None, (sb.DNA(None, (sb.DNA(0, (sb.DNA(4),)), sb.DNA(1))),)), 1.0)
    algo.feedback(sb.DNA(None, (sb.DNA(None, (sb.DNA(1), sb.DNA(0, (sb.DNA(7),)))),)), 0.0)
    assert sorted(algo.observations("m[=0].a").tolist()) == [4, 7]
    assert algo.observations("m").tolist() == [0, 1, 1, 0]   # position 0, then position 1


def test_conditional_problem_finds_the_better_branch() -> None:
    def reward(dna: sb.DNA) -> float:
        pick = dna.children[0]
        if pick.value == 0:
            return -(pick.children[0].value - 2.0) ** 2
        y, k = pick.children[0].value, pick.children[1].value
        return -3.0 - (y + 1.0) ** 2 - 0.1 * (k - 4) ** 2

    for multivariate in (False, True):
        for seed in range(3):
            best, history = _run(TPE(seed=seed, multivariate=multivariate),
                                 _conditional_space(), reward, 60)
            assert best > -0.05
            last = [dna.children[0].value for dna in history[-30:]]
            assert last.count(0) >= 20


# ---- quality -------------------------------------------------------------------------------------
def _branin(dna: sb.DNA) -> float:
    x, y = dna.to_numbers()
    b, c, t = 5.1 / (4 * math.pi ** 2), 5 / math.pi, 1 / (8 * math.pi)
    return -((y - b * x * x + c * x - 6) ** 2 + 10 * (1 - t) * math.cos(x) + 10)


def _quadratic(dna: sb.DNA) -> float:
    x, y = dna.to_numbers()
    return -((x - 1.5) ** 2 + (y + 0.5) ** 2)


@pytest.mark.parametrize("multivariate", [False, True])
@pytest.mark.parametrize("problem", ["quadratic", "branin"])
def test_tpe_beats_random_search(problem: str, multivariate: bool) -> None:
    if problem == "quadratic":
        space, f = sb.Dict(x=sb.float_range(-5.0, 5.0), y=sb.float_range(-5.0, 5.0)), _quadratic
    else:
        space, f = sb.Dict(x=sb.float_range(-5.0, 10.0), y=sb.float_range(0.0, 15.0)), _branin
    tpe = [_run(TPE(seed=s, multivariate=multivariate), space, f, 60)[0] for s in range(5)]
    rnd = [_run(Random(seed=s), space, f, 60)[0] for s in range(5)]
    assert statistics.mean(tpe) > statistics.mean(rnd)


def test_tpe_optimizes_ints_choices_and_many_of() -> None:
    space = sb.Dict(w=sb.int_range(1, 1000, scale="log"), act=sb.one_of(["a", "b", "c", "d"]),
                    picks=sb.many_of(2, list(range(6)), sorted=True))

    def reward(dna: sb.DNA) -> float:
        w, act, p0, p1 = dna.to_numbers()
        return -abs(math.log(w / 37)) - (act != 2) - 0.2 * ((5 - p1) + (4 - p0))

    best, history = _run(TPE(seed=1), space, reward, 80)
    assert best > -0.5
    # the last 20 proposals, against what random search would give
    tail = [dna.to_numbers() for dna in history[-20:]]
    assert sum(t[1] == 2 for t in tail) >= 10                          # random: 5
    assert statistics.mean(t[2] + t[3] for t in tail) > 6.5           # random: 5
    assert statistics.median(abs(math.log(t[0] / 37)) for t in tail) < 0.8   # random: ~1.7


# ---- parallel proposals and state ----------------------------------------------------------------
def _pairwise_min_distance(liar: bool, seed: int) -> float:
    space = sb.Dict(x=sb.float_range(0.0, 1.0), y=sb.float_range(0.0, 1.0))
    algo = TPE(seed=seed, constant_liar=liar)
    algo.setup(sb.dna_spec(space))
    for _ in range(30):
        dna = algo.propose()
        x, y = dna.to_numbers()
        algo.feedback(dna, -((x - 0.3) ** 2 + (y - 0.7) ** 2))
    points = np.array([algo.propose().to_numbers() for _ in range(8)])   # 8 parallel workers
    distance = np.sqrt(((points[:, None] - points[None]) ** 2).sum(-1))
    return float(distance[np.triu_indices(8, 1)].min())


def test_constant_liar_spreads_parallel_proposals() -> None:
    with_liar = [_pairwise_min_distance(True, s) for s in range(4)]
    without = [_pairwise_min_distance(False, s) for s in range(4)]
    assert statistics.mean(with_liar) > 3 * statistics.mean(without)


def test_pending_proposals_are_dropped_on_feedback_and_failure() -> None:
    algo = TPE(seed=0, num_startup=2)
    algo.setup(sb.dna_spec(sb.Dict(x=sb.float_range(0.0, 1.0))))
    a, b, c = algo.propose(), algo.propose(), algo.propose()
    assert [dna for dna, _ in algo._pending] == [a, b, c]
    algo.feedback(b, 1.0)
    algo.on_failure(a, "crashed")
    assert [dna for dna, _ in algo._pending] == [c]
    assert algo.observations("x").tolist() == pytest.approx(b.to_numbers())


@pytest.mark.parametrize("multivariate", [False, True])
def test_restored_from_the_trials_it_continues_identically(multivariate: bool) -> None:
    spec = sb.dna_spec(mixed_space())
    old = TPE(seed=7, multivariate=multivariate, num_startup=5)
    old.setup(spec)
    log = Log(old)
    for i in range(25):
        dna = log.propose()
        if i % 6 == 5:
            log.on_failure(dna, "x")
        elif i < 22:         # the last few stay pending
            log.feedback(dna, arbitrary_reward(dna))
    assert set(old.state) == {"rng"}
    new = resumed(TPE(seed=123, multivariate=multivariate, num_startup=5), spec, log)
    assert new.num_proposed == old.num_proposed
    assert [d for d, _ in new._pending] == [d for d, _ in old._pending]
    for _ in range(15):
        a, b = old.propose(), new.propose()
        assert a == b
        old.feedback(a, arbitrary_reward(a))
        new.feedback(b, arbitrary_reward(b))
    assert old.state == new.state


def test_nan_rewards_are_not_modelled() -> None:
    algo = TPE(seed=0)
    spec = sb.dna_spec(sb.Dict(x=sb.float_range(0.0, 1.0)))
    algo.setup(spec)
    algo.feedback(sb.DNA.from_numbers(spec, [0.5]), math.nan)
    algo.feedback(sb.DNA.from_numbers(spec, [0.25]), 1.0)
    assert algo.observations("x").tolist() == pytest.approx([0.25])


def test_tpe_is_a_symbolic_object() -> None:
    algo = TPE(num_candidates=12, multivariate=True, seed=3)
    assert sb.eq(sb.from_json(json.loads(json.dumps(sb.to_json(algo)))), algo)
    assert algo.rebind({"gamma": 0.2}).gamma == 0.2


def test_tune_with_tpe() -> None:
    space = sb.Dict(x=sb.float_range(-5.0, 5.0), act=sb.one_of(["relu", "gelu"]))
    study = sb.tune(lambda p: -(p.x - 1.0) ** 2 + (p.act == "gelu"), space, TPE(seed=0),
                    num_trials=40)
    assert study.best_trial.reward > 0.9
    assert study.best_trial.program.act == "gelu"


def test_dedup_never_proposes_a_point_twice_while_unseen_ones_remain():
    space = sb.Dict(a=sb.one_of([0, 1, 2]), b=sb.one_of([0, 1, 2, 3]))     # 12 points
    algo = sb.algorithms.TPE(seed=0, num_startup=3)
    study = sb.tune(lambda p: p.a + p.b, space, algo, num_trials=12)
    assert len({(t.program.a, t.program.b) for t in study.trials}) == 12
    again = sb.algorithms.TPE(seed=0, num_startup=3, dedup=False)
    study = sb.tune(lambda p: p.a + p.b, space, again, num_trials=12)
    assert len({(t.program.a, t.program.b) for t in study.trials}) < 12
