"""GP Bayesian optimization (symbo/algorithms/gp.py)."""

from __future__ import annotations

import math
import statistics

import numpy as np
import pytest

import symbo as sb
from symbo.algorithms import AlgorithmError, Random
from symbo.algorithms.gp import (
    GaussianProcess,
    GaussianProcessBO,
    log_expected_improvement,
)
from symbo.algorithms.gp_space import TrustRegion, VectorLayout
from symbo.algorithms.tpe import TPE
from symbo.dsl.dna import validate
from symbo.dsl.encoding import VectorEncoder

from .replay import Log, resumed
from .spaces import arbitrary_reward, mixed_space


# ---- valid proposals -----------------------------------------------------------------------------
def test_projection_gives_the_encodings_of_valid_dna() -> None:
    spec = sb.dna_spec(mixed_space())
    layout = VectorLayout(VectorEncoder(spec))
    V = layout.project(layout.random(300, np.random.default_rng(0)))
    for v in V:
        dna = layout.encoder.decode(v)
        validate(spec, dna)
        np.testing.assert_allclose(layout.encode(dna), v, atol=1e-12)


@pytest.mark.parametrize("seed", [0, 1])
def test_proposals_are_valid_new_dna_on_a_mixed_space(seed: int) -> None:
    spec = sb.dna_spec(mixed_space())
    algo = GaussianProcessBO(seed=seed, num_startup=5, num_candidates=200, num_local=30)
    algo.setup(spec)
    seen = set()
    for i in range(30):
        dna = algo.propose()
        validate(spec, dna)
        key = tuple(dna.to_numbers())
        assert key not in seen
        seen.add(key)
        if i % 9 == 4:
            algo.on_failure(dna, "boom")
        elif i % 9 != 7:          # a few stay pending
            algo.feedback(dna, arbitrary_reward(dna))
    assert algo.num_proposed == 30


def test_values_have_the_decision_types_and_small_spaces_are_not_repeated() -> None:
    space = sb.Dict(i=sb.int_range(1, 100, scale="log"), c=sb.one_of(["a", "b", "c"]),
                    f=sb.float_range(1e-3, 1.0, scale="log"))
    algo = GaussianProcessBO(seed=0, num_startup=3, num_candidates=100, num_local=20)
    algo.setup(sb.dna_spec(space))
    for _ in range(15):
        dna = algo.propose()
        i, c, f = dna.to_numbers()
        assert type(i) is int and type(c) is int and type(f) is float
        assert 1 <= i <= 100 and 1e-3 <= f <= 1.0
        algo.feedback(dna, -abs(math.log(i / 10)) - c)
    # a finite space with 6 points: every point once, then still valid proposals
    algo = GaussianProcessBO(seed=0, num_startup=2, num_candidates=50)
    spec = sb.dna_spec(sb.Dict(a=sb.one_of([1, 2, 3]), b=sb.one_of([1, 2])))
    algo.setup(spec)
    keys = []
    for _ in range(8):
        dna = algo.propose()
        validate(spec, dna)
        keys.append(tuple(dna.to_numbers()))
        algo.feedback(dna, float(sum(keys[-1])))
    assert len(set(keys[:6])) == 6


def test_setup_rejects_bad_settings() -> None:
    spec = sb.dna_spec(sb.Dict(x=sb.float_range(0.0, 1.0)))
    for kwargs in ({"num_candidates": 0}, {"num_startup": -1}, {"xi": -1.0}, {"fit_evals": 1}):
        with pytest.raises(AlgorithmError, match="GaussianProcessBO"):
            GaussianProcessBO(**kwargs).setup(spec)
    with pytest.raises(AlgorithmError):
        GaussianProcessBO().setup(spec, num_objectives=2)


def test_pending_proposals_spread_out() -> None:
    spec = sb.dna_spec(sb.Dict(x=sb.float_range(0.0, 1.0)))
    algo = GaussianProcessBO(seed=0, num_startup=4, num_candidates=200)
    algo.setup(spec)
    for _ in range(5):
        dna = algo.propose()
        algo.feedback(dna, -(dna.to_numbers()[0] - 0.3) ** 2)
    batch = [algo.propose().to_numbers()[0] for _ in range(4)]   # none completes
    assert min(abs(a - b) for i, a in enumerate(batch) for b in batch[i + 1:]) > 1e-3


# ---- the GP ----------------------------------------------------------------------------------
def test_gp_posterior_interpolates_training_points() -> None:
    rng = np.random.default_rng(0)
    X = rng.random((25, 2))
    y = np.sin(5 * X[:, 0]) + np.cos(3 * X[:, 1])
    y = (y - y.mean()) / y.std()
    gp = GaussianProcess(2).fit(X, y, restarts=2, rng=rng)
    mean, var = gp.predict(X)
    assert math.exp(gp.theta[-1]) < 1e-2                         # fitted noise is small
    np.testing.assert_allclose(mean, y, atol=0.05)
    assert np.all(var < 1e-2)
    Z = rng.random((50, 2))                                      # and generalizes
    truth = (np.sin(5 * Z[:, 0]) + np.cos(3 * Z[:, 1]) - (np.sin(5 * X[:, 0]) + np.cos(
        3 * X[:, 1])).mean()) / (np.sin(5 * X[:, 0]) + np.cos(3 * X[:, 1])).std()
    assert np.sqrt(np.mean((gp.predict(Z)[0] - truth) ** 2)) < 0.1
    far_var = gp.predict(np.array([[5.0, 5.0]]))[1]               # prior variance far away
    assert far_var[0] == pytest.approx(math.exp(gp.theta[2]), rel=1e-6)


def test_likelihood_gradient_matches_finite_differences() -> None:
    rng = np.random.default_rng(1)
    X, y = rng.random((12, 3)), rng.standard_normal(12)
    gp = GaussianProcess(3)
    theta = np.array([-1.0, 0.2, 0.5, 0.3, -3.0])
    _, grad = gp._objective(theta, X, y)
    eps = 1e-6
    for k in range(len(theta)):
        e = np.zeros_like(theta)
        e[k] = eps
        fd = (gp._objective(theta + e, X, y)[0] - gp._objective(theta - e, X, y)[0]) / (2 * eps)
        assert grad[k] == pytest.approx(fd, rel=1e-4, abs=1e-6)


def test_log_expected_improvement_is_monotone_and_finite() -> None:
    mean = np.linspace(-40, 3, 200)
    lei = log_expected_improvement(mean, np.full(200, 1.0), 0.0)
    assert np.all(np.isfinite(lei)) and np.all(np.diff(lei) > 0)
    # against the closed form where it is well conditioned
    z = mean[-20:]
    phi = np.exp(-z * z / 2) / math.sqrt(2 * math.pi)
    cdf = np.array([0.5 * math.erfc(-v / math.sqrt(2)) for v in z])
    np.testing.assert_allclose(np.exp(lei[-20:]), z * cdf + phi, rtol=1e-5)


# ---- state --------------------------------------------------------------------------------------
def test_restored_from_the_trials_it_continues_the_search() -> None:
    spec = sb.dna_spec(sb.Dict(x=sb.float_range(-5.0, 10.0), y=sb.float_range(0.0, 15.0),
                               c=sb.one_of(["a", "b"])))
    old = GaussianProcessBO(seed=3, num_startup=4, num_candidates=200)
    old.setup(spec)
    log = Log(old)
    for _ in range(10):
        dna = log.propose()
        log.feedback(dna, _branin(dna.to_numbers()[:2]) - dna.to_numbers()[2])
    pending = log.propose()
    assert set(old.state) == {"rng", "theta", "fitted_at"}  # what the trials cannot give back
    new = resumed(GaussianProcessBO(seed=3, num_startup=4, num_candidates=200), spec, log)
    assert new.history == old.history and new.num_proposed == old.num_proposed
    for _ in range(3):
        a, b = old.propose(), new.propose()
        assert a == b
        validate(spec, b)
        for algo in (old, new):
            algo.feedback(a, _branin(a.to_numbers()[:2]))
    old.feedback(pending, -1.0)
    new.feedback(pending, -1.0)
    assert old.propose() == new.propose()


# ---- quality -------------------------------------------------------------------------------------
def _branin(xy: list) -> float:
    """Branin-Hoo (to minimize; minimum 0.397887 at three points)."""
    x, y = xy
    b, c, t = 5.1 / (4 * math.pi ** 2), 5 / math.pi, 1 / (8 * math.pi)
    return (y - b * x * x + c * x - 6) ** 2 + 10 * (1 - t) * math.cos(x) + 10


_H_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])
_H_A = np.array([[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14],
                 [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]])
_H_P = 1e-4 * np.array([[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991],
                        [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]])


def _hartmann6(x: np.ndarray) -> float:
    """Hartmann 6-d on [0, 1]^6 (to minimize; minimum -3.32237)."""
    return -float(_H_ALPHA @ np.exp(-(_H_A * (x - _H_P) ** 2).sum(1)))


def _best(algo: sb.algorithms.Algorithm, space: sb.Dict, f, n: int) -> float:
    study = sb.tune(lambda p: f(p), space, algo, num_trials=n, objectives=("min",))
    return study.best_trial.reward


def test_gp_beats_random_search_on_branin() -> None:
    space = sb.Dict(x=sb.float_range(-5.0, 10.0), y=sb.float_range(0.0, 15.0))

    def f(p):
        return _branin([p.x, p.y])

    gp = [_best(GaussianProcessBO(seed=s), space, f, 40) for s in range(3)]
    rnd = [_best(Random(seed=s), space, f, 40) for s in range(3)]
    assert statistics.mean(gp) < statistics.mean(rnd)
    assert statistics.mean(gp) < 0.5                    # close to the minimum, 0.398


def test_gp_beats_tpe_on_hartmann6() -> None:
    space = sb.Dict(**{f"x{i}": sb.float_range(0.0, 1.0) for i in range(6)})

    def f(p):
        return _hartmann6(np.array([getattr(p, f"x{i}") for i in range(6)]))

    gp = [_best(GaussianProcessBO(seed=s), space, f, 60) for s in range(3)]
    tpe = [_best(TPE(seed=s), space, f, 60) for s in range(3)]
    assert statistics.mean(gp) < statistics.mean(tpe)


def test_trust_region_follows_the_incumbent_and_shrinks_after_failures():
    tr = TrustRegion(num_ranges=10, num_blocks=0)
    for _ in range(10):
        tr.tell(0.0, best=1.0)                              # 10 failures: halved once
    assert tr.length == 0.4
    for value in (1.5, 2.0, 2.5):                           # 3 successes: doubled
        tr.tell(value, best=value - 0.5)
    assert tr.length == 0.8
    space = sb.Dict(**{f"x{i}": sb.float_range(0.0, 1.0) for i in range(10)})
    algo = sb.algorithms.GaussianProcessBO(num_startup=5, num_candidates=100, seed=1)
    algo.setup(sb.dna_spec(space))
    assert algo._uses_trust_region()
    study = sb.tune(lambda p: -sum((p[f"x{i}"] - 0.3) ** 2 for i in range(10)), space, algo,
                    num_trials=25)
    assert study.best_trial.id >= 5 and study.best_trial.reward > -0.6   # the model improved
    mixed = sb.algorithms.GaussianProcessBO(seed=0)
    mixed.setup(sb.dna_spec(sb.Dict(k=sb.one_of([1, 2]), **{f"x{i}": sb.float_range(0.0, 1.0)
                                                           for i in range(10)})))
    assert not mixed._uses_trust_region()


def test_trust_region_without_perturbed_best_points():
    # num_best=0 (only random candidates and the ascent): the region still follows the best
    space = sb.Dict(**{f"x{i}": sb.float_range(0.0, 1.0) for i in range(8)})
    algo = GaussianProcessBO(num_startup=4, num_candidates=100, num_best=0, refine_rounds=0,
                             ascent_starts=2, seed=3)
    study = sb.tune(lambda p: -sum((p[f"x{i}"] - 0.5) ** 2 for i in range(8)), space, algo,
                    num_trials=10)
    assert len(study.trials) == 10 and all(t.reward is not None for t in study.trials)
