"""Gaussian-process Bayesian optimization (Snoek, Larochelle and Adams 2012 style).

Every DNA is laid out as a vector in ``[0, 1]^d`` by :class:`~symbo.dsl.VectorEncoder` (one-hot
blocks for choices, unit-interval slots for ranges, log ranges in log space); slots of
decisions that are inactive hold a constant (0 for one-hot slots, 0.5 for ranges), so trials
that share a sub-space are compared on it. A GP with a constant mean, a Matern-5/2 kernel
with one length scale per slot (ARD) and Gaussian observation noise models the rewards,
which are standardized after their bad tail is compressed (``log1p`` below the median), so
a few very bad trials do not flatten the model where the good ones are.

The kernel's hyperparameters (log length scales, log signal variance, log noise variance)
are fitted by maximizing the log marginal likelihood plus weak log-normal priors (the
dimension-scaled length-scale prior of Hvarfner et al. 2024) with a small L-BFGS written in
numpy, with analytic gradients. The first fit uses a few restarts; later fits warm-start
from the previous hyperparameters, so refitting after every trial stays cheap.

The next proposal maximizes expected improvement (computed in log space, so it keeps
ranking candidates far from the incumbent) over ``num_candidates`` uniform random vectors
plus Gaussian perturbations of the best observed trials (resampling a few choices), then a
few rounds of shrinking perturbations around the best candidate. Candidate vectors are
projected onto the valid encodings (choices arg-maxed respecting ``distinct``/``sorted``,
ints rounded, inactive slots reset) before scoring, so the proposal is what was scored. A
proposal equal to an evaluated (or pending) DNA is skipped for the next best candidate.

Proposals still waiting for feedback are added to the model, without noise, at the worst
observed reward (a "constant liar"), so parallel workers spread out: the expected improvement
vanishes around each pending point. (Believing them at the posterior mean, the "kriging
believer", left proposals under Optuna's gamma priors within 1e-3 of each other.) Failed
trials are dropped (and not proposed again). The first ``num_startup`` completed trials are
proposed at random.

>>> import symbo as sb
>>> from symbo.algorithms.gp import GaussianProcessBO
>>> space = sb.Dict(x=sb.float_range(-5.0, 5.0), y=sb.float_range(-5.0, 5.0))
>>> algo = GaussianProcessBO(num_startup=5, num_candidates=300, seed=0)
>>> study = sb.tune(lambda p: -(p.x - 1) ** 2 - (p.y + 2) ** 2, space, algo, num_trials=20)
>>> study.best_trial.reward > -0.05
True
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from symbo.algorithms.base import Algorithm, AlgorithmError, Reward, make_rng, scalar
from symbo.algorithms.gp_acquisition import ascend, starts
from symbo.algorithms.gp_model import GaussianProcess, log_expected_improvement
from symbo.algorithms.gp_space import TR_FROM, TrustRegion, VectorLayout
from symbo.dsl import DNA, DNASpec, is_deterministic
from symbo.dsl.encoding import VectorEncoder
from symbo.dsl.materialize import random_dna

__all__ = ["GaussianProcess", "GaussianProcessBO", "log_expected_improvement"]


# ---- the algorithm ----------------------------------------------------------------------------
class GaussianProcessBO(Algorithm, type_name="symbo.algorithms.GaussianProcessBO"):
    """Bayesian optimization with a Matern-5/2 ARD Gaussian process and expected improvement.

    ``num_startup`` completed trials are proposed at random first. ``num_candidates`` random
    points, ``num_local`` perturbations of each of the ``num_best`` best trials and
    ``refine_rounds`` rounds of ``num_local`` shrinking perturbations around the best
    candidate are scored by expected improvement over the incumbent plus ``xi`` (in
    standardized reward units). ``fit_evals`` caps the likelihood evaluations of the
    warm-started hyperparameter fit after each trial; one fit every
    ``max(restart_every, n // 20)`` trials (``n`` completed) adds ``restarts`` random starts,
    with ``2 * fit_evals`` evaluations each, so the fit does not stay in a poor local optimum
    (the first fit uses two more starts and ``5 * fit_evals``). From ``ascent_starts`` starts
    (the best candidate, candidates drawn in proportion to their expected improvement, the
    best trial) the expected improvement is then climbed
    (:mod:`~symbo.algorithms.gp_acquisition`: L-BFGS with exact gradients over the ranges, at
    most ``ascent_steps`` evaluations a round, and exhaustive search over each choice).
    ``range_length_prior`` is the prior mean of the log length scale of range slots
    (``None``: 0, a length scale of 1, in spaces without choices; the dimension-scaled prior
    of one-hot slots otherwise). ``prior`` is ``"lognormal"`` (those normal priors on the log
    hyperparameters) or ``"gamma"`` (Optuna GPSampler's priors). ``warp`` compresses rewards
    below the median before standardizing. ``trust_region=True`` draws the random candidates
    from a TuRBO-style trust region around the best trial instead of the whole space (a box
    that grows after improvements and shrinks after failures); ``None`` (the default) turns
    it on for spaces of 8 or more ranges and no choices, where it lowered Levy-10's regret at
    100 trials (BENCHMARKS.md).

    >>> import symbo as sb
    >>> from symbo.algorithms.gp import GaussianProcessBO
    >>> algo = GaussianProcessBO(num_startup=4, num_candidates=200, seed=1)
    >>> algo.setup(sb.dna_spec(sb.Dict(x=sb.float_range(0.0, 1.0))))
    >>> for _ in range(12):
    ...     dna = algo.propose()
    ...     algo.feedback(dna, -abs(dna.to_numbers()[0] - 0.25))
    >>> best = max(algo.history, key=lambda h: h[1])[0]
    >>> abs(best.to_numbers()[0] - 0.25) < 0.02
    True
    """

    proposes_valid_dna = True

    num_startup: int = 10
    num_candidates: int = 2000
    xi: float = 0.0
    seed: int | None = None
    num_best: int = 5
    num_local: int = 100
    refine_rounds: int = 6
    fit_evals: int = 8
    restarts: int = 1
    restart_every: int = 5
    warp: bool = True
    trust_region: bool | None = None
    ascent_starts: int = 10
    ascent_steps: int = 50
    range_length_prior: float | None = None
    prior: str = "lognormal"

    def _on_bound(self) -> None:
        super()._on_bound()
        if not is_deterministic(self):  # settings searched by an outer loop: checked once decided
            return
        checks = [
            (self.num_startup >= 0, f"num_startup must be >= 0, got {self.num_startup}"),
            (self.num_candidates >= 1, f"num_candidates must be >= 1, got {self.num_candidates}"),
            (self.xi >= 0, f"xi must be >= 0, got {self.xi}"),
            (self.num_best >= 0 and self.num_local >= 0 and self.refine_rounds >= 0,
             "num_best, num_local and refine_rounds must be >= 0"),
            (self.fit_evals >= 2 and self.restarts >= 0 and self.restart_every >= 1,
             "fit_evals must be >= 2, restart_every >= 1, restarts >= 0"),
            (self.prior in ("lognormal", "gamma"),
             f"prior must be 'lognormal' or 'gamma', got {self.prior!r}"),
        ]
        for ok, message in checks:
            if not ok:
                raise AlgorithmError(f"GaussianProcessBO: {message}")

    def _setup(self, spec: DNASpec) -> None:
        self._rng = make_rng(self.seed)
        self._layout = VectorLayout(VectorEncoder(spec), self.range_length_prior)
        self._reset()

    def _reset(self) -> None:
        self._X: list[np.ndarray] = []
        self._y: list[float] = []
        self._seen: set[tuple] = set()
        self._pending: dict[tuple, np.ndarray] = {}
        self._theta: np.ndarray | None = None
        self._fitted_at = 0
        self._tr = TrustRegion(len(self._layout.ranges), len(self._layout.blocks))

    # ---- the algorithm interface ---------------------------------------------------------------
    def _propose(self) -> DNA:
        if len(self._y) < max(self.num_startup, 1) or self._layout.encoder.size == 0:
            dna = self._random_unseen()
        else:
            dna = self._optimize(np.random.default_rng(self._rng.getrandbits(64)))
        key = _key(dna)
        self._seen.add(key)
        self._pending[key] = self._layout.encode(dna)
        return dna

    def _feedback(self, dna: DNA, reward: Reward) -> None:
        x = self._layout.encode(dna)      # first: a DNA of another space changes nothing
        key = _key(dna)
        self._pending.pop(key, None)
        self._seen.add(key)
        value = scalar(reward)
        if math.isfinite(value):
            if len(self._y) >= max(self.num_startup, 1):
                self._tr.tell(value, max(self._y))
            self._X.append(x)
            self._y.append(value)

    def _on_failure(self, dna: DNA, error: str) -> None:
        key = _key(dna)
        self._pending.pop(key, None)
        self._seen.add(key)

    def _restore_proposed(self, dna: DNA) -> None:
        """A stored trial's DNA: pending (constant liar) until its result comes, and seen."""
        key = _key(dna)
        self._seen.add(key)
        self._pending[key] = self._layout.encode(dna)

    @property
    def state(self) -> dict[str, Any]:
        """The base state plus the fitted kernel hyperparameters (what the trials cannot give
        back without refitting)."""
        state = super().state
        state["theta"] = None if self._theta is None else self._theta.tolist()
        state["fitted_at"] = self._fitted_at
        return state

    def load_state(self, state: dict[str, Any]) -> None:
        super().load_state(state)
        if state.get("theta") is not None:
            self._theta = np.asarray(state["theta"], dtype=float)
        self._fitted_at = int(state.get("fitted_at", self._fitted_at))

    # ---- internals ------------------------------------------------------------------------------
    def _random_unseen(self) -> DNA:
        dna = random_dna(self.spec, self._rng)
        for _ in range(20):
            if _key(dna) not in self._seen:
                break
            dna = random_dna(self.spec, self._rng)
        return dna

    def _targets(self) -> np.ndarray:
        y = np.asarray(self._y, dtype=float)
        if self.warp and len(y) > 2:
            med = float(np.median(y))
            spread = float(np.percentile(y, 75) - np.percentile(y, 25)) or float(np.std(y)) or 1.0
            below = y < med
            y = np.where(below, med - spread * np.log1p(np.maximum(med - y, 0.0) / spread), y)
        sd = float(np.std(y))
        return (y - float(np.mean(y))) / (sd if sd > 0 else 1.0)

    def model(self, rng: np.random.Generator | None = None) -> GaussianProcess:
        """The GP fitted on the completed trials (standardized, warped rewards)."""
        rng = rng if rng is not None else np.random.default_rng(0)
        X, y = np.asarray(self._X), self._targets()
        gp = GaussianProcess(self._layout.encoder.size, self._theta, self._layout.length_prior,
                             self.prior)
        n = len(y)
        first = self._theta is None
        restart = first or n - self._fitted_at >= max(self.restart_every, n // 20)
        if first:
            gp.fit(X, y, restarts=self.restarts + 2, max_evals=5 * self.fit_evals, rng=rng)
        else:
            gp.fit(X, y, restarts=self.restarts if restart else 0,
                   max_evals=2 * self.fit_evals if restart else self.fit_evals, rng=rng)
        self._theta = gp.theta
        if restart:
            self._fitted_at = n
        return gp

    def _optimize(self, rng: np.random.Generator) -> DNA:
        gp = self.model(rng)
        y = gp.y
        best = float(y.max())
        if self._pending:  # constant liar: pending proposals at the worst observed reward
            P = np.asarray(list(self._pending.values()))
            noise = np.r_[np.full(len(y), math.exp(gp.theta[-1])),  # believed without noise
                          np.full(len(P), 1e-6 * math.exp(gp.theta[-2]))]
            gp.condition(np.vstack([gp.X, P]), np.r_[y, np.full(len(P), float(y.min()))], noise)
        layout = self._layout

        def score(C: np.ndarray) -> np.ndarray:
            mean, var = gp.predict(C)
            return log_expected_improvement(mean, var, best, self.xi)

        X = np.asarray(self._X)
        incumbent = X[int(np.argmax(y))]
        top = np.argsort(-y)[: self.num_best]
        if self._uses_trust_region():
            weights = np.exp(gp.theta[: gp.dim])
            cands = [self._tr.sample(incumbent, weights, layout, self.num_candidates, rng)]
        else:
            cands = [layout.project(layout.random(self.num_candidates, rng))]
        for i in top:
            cands.append(self._perturb(X[i], self.num_local, 0.1, rng))
        C = np.vstack(cands)
        S = score(C)
        for r in range(self.refine_rounds):
            if self.num_local == 0:
                break
            local = self._perturb(C[int(np.argmax(S))], self.num_local, 0.05 / 2 ** r, rng)
            C, S = np.vstack([C, local]), np.r_[S, score(local)]
        if self.ascent_steps and self.ascent_starts:
            A, SA = ascend(gp, layout, starts(C, S, incumbent, self.ascent_starts, rng), best,
                           self.xi, self.ascent_steps)
            C, S = np.vstack([C, A]), np.r_[S, SA]
        for i in np.argsort(-S)[:64]:
            dna = layout.encoder.decode(C[i])
            if _key(dna) not in self._seen:
                return dna
        return self._random_unseen()

    def _uses_trust_region(self) -> bool:
        if self.trust_region is not None:
            return self.trust_region
        return len(self._layout.ranges) >= TR_FROM and not self._layout.blocks

    def _perturb(self, x: np.ndarray, m: int, sigma: float,
                 rng: np.random.Generator) -> np.ndarray:
        """``m`` projected perturbations of ``x``: Gaussian on ranges, resampled choices."""
        layout = self._layout
        V = np.tile(x, (m, 1))
        if len(layout.ranges_arr):
            V[:, layout.ranges_arr] += sigma * rng.standard_normal((m, len(layout.ranges_arr)))
        nb = len(layout.blocks)
        if nb:
            flip = rng.random((m, nb)) < min(1.0, 1.0 / nb + 0.1)
            for b, (start, width) in enumerate(layout.blocks):
                rows = np.nonzero(flip[:, b])[0]
                if len(rows):
                    V[rows, start: start + width] = rng.random((len(rows), width))
        return layout.project(V)


def _key(dna: DNA) -> tuple:
    return tuple(dna.to_numbers())

