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

Proposals still waiting for feedback are added to the model at its posterior mean ("kriging
believer"), so parallel workers spread out. Failed trials are dropped (and not proposed
again). The first ``num_startup`` completed trials are proposed at random.

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
from symbo.dsl import DNA, DNASpec
from symbo.dsl.encoding import Slot, VectorEncoder
from symbo.dsl.materialize import random_dna
from symbo.dsl.spec import Choice, IntDecision

_SQRT5 = math.sqrt(5.0)
_LOG_2PI = math.log(2.0 * math.pi)


# ---- the Gaussian process ---------------------------------------------------------------------
class GaussianProcess:
    """A zero-mean GP with a Matern-5/2 ARD kernel and Gaussian noise (on standardized data).

    ``theta`` holds ``[log length scales (d), log signal variance, log noise variance]``.
    ``fit`` maximizes the log marginal likelihood (plus log priors) from ``theta`` (and random
    restarts); ``condition`` only factorizes for fixed hyperparameters.

    >>> import numpy as np
    >>> X = np.linspace(0, 1, 8)[:, None]
    >>> gp = GaussianProcess(1).condition(X, np.sin(6 * X[:, 0]))
    >>> bool(np.allclose(gp.predict(X)[0], np.sin(6 * X[:, 0]), atol=1e-2))
    True
    """

    def __init__(self, dim: int, theta: np.ndarray | None = None,
                 length_prior: np.ndarray | None = None) -> None:
        self.dim = dim
        self.theta = self.default_theta(dim) if theta is None else np.asarray(theta, float)
        lo_l, hi_l = math.log(1e-2), math.log(1e2)
        self.lower = np.r_[np.full(dim, lo_l), math.log(1e-2), math.log(1e-6)]
        self.upper = np.r_[np.full(dim, hi_l), math.log(1e2), math.log(1.0)]
        # priors (normal on the log parameters): length scales after Hvarfner et al. (2024)
        self.prior_mean = np.r_[np.full(dim, math.sqrt(2.0) + 0.5 * math.log(max(dim, 1))),
                                0.0, -4.0]
        self.prior_sd = np.r_[np.full(dim, math.sqrt(3.0)), 1.0, 1.5]
        if length_prior is not None:          # per slot: the mean of the log length scale
            self.prior_mean[:dim] = length_prior

    @staticmethod
    def default_theta(dim: int) -> np.ndarray:
        return np.r_[np.full(dim, math.log(0.5)), 0.0, math.log(1e-3)]

    # ---- kernel -------------------------------------------------------------------------------
    @staticmethod
    def _sqdist(A: np.ndarray, B: np.ndarray) -> np.ndarray:
        d2 = (A * A).sum(1)[:, None] + (B * B).sum(1)[None, :] - 2.0 * A @ B.T
        return np.maximum(d2, 0.0)

    def _kernel(self, A: np.ndarray, B: np.ndarray, theta: np.ndarray) -> np.ndarray:
        scale = np.exp(-theta[: self.dim])
        r = np.sqrt(self._sqdist(A * scale, B * scale))
        return math.exp(theta[self.dim]) * (1.0 + _SQRT5 * r + (5.0 / 3.0) * r * r) * np.exp(
            -_SQRT5 * r)

    # ---- likelihood ---------------------------------------------------------------------------
    def _objective(self, theta: np.ndarray, X: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        """The negative log posterior of ``theta`` and its gradient."""
        d, n = self.dim, len(y)
        ls = np.exp(theta[:d])
        s2, noise = math.exp(theta[d]), math.exp(theta[d + 1])
        Xs = X / ls
        r = np.sqrt(self._sqdist(Xs, Xs))
        e = np.exp(-_SQRT5 * r)
        Kf = s2 * (1.0 + _SQRT5 * r + (5.0 / 3.0) * r * r) * e
        K = Kf + noise * np.eye(n)
        L = _cholesky(K)
        if L is None:
            return math.inf, np.zeros_like(theta)
        Kinv = np.linalg.inv(K)
        alpha = Kinv @ y
        nll = 0.5 * float(y @ alpha) + float(np.log(np.diag(L)).sum()) + 0.5 * n * _LOG_2PI
        W = np.outer(alpha, alpha) - Kinv              # d(LML)/dK
        M = W * (s2 * (5.0 / 3.0) * (1.0 + _SQRT5 * r) * e)
        # sum_ij M_ij (x_ik - x_jk)^2 / l_k^2 for each k (M symmetric)
        Xs2 = Xs * Xs
        grad_l = 2.0 * (M.sum(1) @ Xs2) - 2.0 * ((M @ Xs) * Xs).sum(0)
        grad = np.empty_like(theta)
        grad[:d] = 0.5 * grad_l
        grad[d] = 0.5 * float((W * Kf).sum())
        grad[d + 1] = 0.5 * noise * float(np.trace(W))
        z = (theta - self.prior_mean) / self.prior_sd
        return nll + 0.5 * float(z @ z), -grad + z / self.prior_sd

    def fit(self, X: np.ndarray, y: np.ndarray, *, restarts: int = 0, max_evals: int = 40,
            rng: np.random.Generator | None = None) -> GaussianProcess:
        """Fits the hyperparameters from ``theta`` (and ``restarts`` random starts), with at
        most ``max_evals`` evaluations of the likelihood per start."""
        X, y = np.asarray(X, float), np.asarray(y, float)
        starts = [np.clip(self.theta, self.lower, self.upper)]
        rng = rng if rng is not None else np.random.default_rng(0)
        for _ in range(restarts):
            t = self.prior_mean + self.prior_sd * rng.standard_normal(len(self.theta)) * 0.5
            t[: self.dim] = rng.uniform(math.log(0.05), math.log(5.0), self.dim)
            starts.append(np.clip(t, self.lower, self.upper))
        best, best_f = starts[0], math.inf
        for start in starts:
            theta, f = _lbfgs(lambda t: self._objective(t, X, y), start, self.lower, self.upper,
                              max_evals)
            if f < best_f:
                best, best_f = theta, f
        self.theta = best
        return self.condition(X, y)

    def condition(self, X: np.ndarray, y: np.ndarray,
                  noise: np.ndarray | None = None) -> GaussianProcess:
        """Conditions on ``(X, y)`` with the current hyperparameters (``noise``: per-point
        noise variances instead of the fitted one)."""
        self.X, self.y = np.asarray(X, float), np.asarray(y, float)
        K = self._kernel(self.X, self.X, self.theta)
        K[np.diag_indices_from(K)] += math.exp(self.theta[-1]) if noise is None else noise
        L = _cholesky(K)
        if L is None:  # pragma: no cover - _cholesky adds jitter up to a large value
            raise np.linalg.LinAlgError("the kernel matrix is not positive definite")
        self._Linv = np.linalg.inv(L)
        self._alpha = self._Linv.T @ (self._Linv @ self.y)
        return self

    def predict(self, Z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and variance (of the latent function) at the rows of ``Z``."""
        Ks = self._kernel(np.atleast_2d(Z), self.X, self.theta)
        mean = Ks @ self._alpha
        V = Ks @ self._Linv.T
        var = math.exp(self.theta[self.dim]) - (V * V).sum(1)
        return mean, np.maximum(var, 1e-12)


def _cholesky(K: np.ndarray) -> np.ndarray | None:
    """Cholesky factor of ``K``, adding growing jitter when it fails; None if it never works."""
    jitter = 0.0
    scale = float(np.mean(np.diag(K))) if len(K) else 1.0
    for _ in range(6):
        try:
            if jitter:
                return np.linalg.cholesky(K + jitter * scale * np.eye(len(K)))
            return np.linalg.cholesky(K)
        except np.linalg.LinAlgError:
            jitter = 1e-8 if not jitter else jitter * 100.0
    return None


def _lbfgs(f: Any, x0: np.ndarray, lower: np.ndarray, upper: np.ndarray, max_evals: int,
           memory: int = 8) -> tuple[np.ndarray, float]:
    """Minimizes ``f`` (returning value and gradient) with L-BFGS, projected onto the box,
    with at most ``max_evals`` evaluations of ``f``."""
    x = np.clip(x0, lower, upper)
    fx, g = f(x)
    evals = 1
    if not math.isfinite(fx):
        return x, fx
    S: list[np.ndarray] = []
    Y: list[np.ndarray] = []
    while evals < max_evals:
        q = g.copy()
        coefs = []
        for s, yv in zip(reversed(S), reversed(Y)):
            rho = 1.0 / float(yv @ s)
            a = rho * float(s @ q)
            q -= a * yv
            coefs.append((rho, a, s, yv))
        if S:
            q *= float(S[-1] @ Y[-1]) / float(Y[-1] @ Y[-1])
        else:
            q /= max(1.0, float(np.abs(q).max()))
        for rho, a, s, yv in reversed(coefs):
            q += s * (a - rho * float(yv @ q))
        direction = -q
        # project the direction: do not push into active bounds
        blocked = ((x <= lower) & (direction < 0)) | ((x >= upper) & (direction > 0))
        direction[blocked] = 0.0
        if float(g @ direction) >= 0:
            direction = -g
            direction[((x <= lower) & (direction < 0)) | ((x >= upper) & (direction > 0))] = 0.0
            S.clear()
            Y.clear()
        step, accepted = 1.0, False
        while evals < max_evals:
            xn = np.clip(x + step * direction, lower, upper)
            fn, gn = f(xn)
            evals += 1
            if math.isfinite(fn) and fn <= fx + 1e-4 * float(g @ (xn - x)):
                accepted = True
                break
            step *= 0.3
        if not accepted:
            break
        s, yv = xn - x, gn - g
        if float(s @ yv) > 1e-10:
            S.append(s)
            Y.append(yv)
            if len(S) > memory:
                S.pop(0)
                Y.pop(0)
        done = abs(fx - fn) < 1e-7 * max(1.0, abs(fx)) or float(np.abs(s).max()) < 1e-7
        x, fx, g = xn, fn, gn
        if done:
            break
    return x, fx


# ---- expected improvement ---------------------------------------------------------------------
def _erfc(x: np.ndarray) -> np.ndarray:
    """Complementary error function (Numerical Recipes' erfcc; relative error < 1.2e-7)."""
    z = np.abs(x)
    t = 1.0 / (1.0 + 0.5 * z)
    poly = -z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (
        -0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (
            -0.82215223 + t * 0.17087277))))))))
    ans = t * np.exp(poly)
    return np.where(x >= 0, ans, 2.0 - ans)


def log_expected_improvement(mean: np.ndarray, var: np.ndarray, best: float,
                             xi: float = 0.0) -> np.ndarray:
    """``log EI`` of maximizing, stable far below the incumbent ``best``."""
    sd = np.sqrt(var)
    z = (mean - best - xi) / sd
    log_phi = -0.5 * z * z - 0.5 * _LOG_2PI
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        h = z * 0.5 * _erfc(-z / math.sqrt(2.0)) + np.exp(log_phi)
        tail = log_phi - 2.0 * np.log(np.abs(z))          # h(z) ~ phi(z) / z^2 as z -> -inf
        log_h = np.where(z > -6.0, np.log(np.maximum(h, 1e-300)), tail)
    return np.log(sd) + log_h


# ---- the encoding, projected --------------------------------------------------------------------
class _Layout:
    """Which slots of the encoder's vector are one-hot blocks and which are ranges."""

    def __init__(self, encoder: VectorEncoder, range_prior: float | None = None) -> None:
        self.encoder = encoder
        self.fill = np.full(encoder.size, 0.5)
        self.ranges: list[int] = []
        self.blocks: list[tuple[int, int]] = []
        self._walk(encoder.layout)
        self.ranges_arr = np.array(self.ranges, dtype=np.intp)
        # log length-scale prior means: the dimension-scaled prior of Hvarfner et al. (2024),
        # except for the ranges of a space without choices, centred on a length scale of 1
        # (the unit interval; Optuna's GPSampler centres its prior there too): on Levy-10 it
        # took the regret at 100 trials from ~17 to ~3; in mixed and one-hot spaces the
        # dimension-scaled prior did better (BENCHMARKS.md).
        size = max(encoder.size, 1)
        self.length_prior = np.full(encoder.size, math.sqrt(2.0) + 0.5 * math.log(size))
        if range_prior is None:   # continuous spaces: 1; mixed spaces: the one-hot slots' prior
            range_prior = 0.0 if not self.blocks else float(self.length_prior[0])
        self.length_prior[self.ranges_arr] = range_prior

    def _walk(self, slots: tuple[Slot, ...]) -> None:
        for slot in slots:
            if isinstance(slot.decision, Choice):
                self.fill[slot.start: slot.start + slot.width] = 0.0
                if slot.width > 1:
                    self.blocks.append((slot.start, slot.width))
                for sub in slot.candidates:
                    self._walk(sub)
            else:
                self.ranges.append(slot.start)

    def encode(self, dna: DNA) -> np.ndarray:
        v = self.encoder.encode(dna)
        return np.where(np.isnan(v), self.fill, v)

    def random(self, m: int, rng: np.random.Generator) -> np.ndarray:
        """``m`` raw vectors whose projections are uniform over each decision."""
        return rng.random((m, self.encoder.size))

    def project(self, V: np.ndarray) -> np.ndarray:
        """The valid encodings nearest to the rows of ``V`` (as ``decode`` reads them)."""
        out = np.tile(self.fill, (len(V), 1))
        self._space(self.encoder.layout, np.nan_to_num(V, nan=0.5), out,
                    np.ones(len(V), dtype=bool))
        return out

    def _space(self, slots: tuple[Slot, ...], V: np.ndarray, out: np.ndarray,
               active: np.ndarray) -> None:
        k = 0
        while k < len(slots):
            d = slots[k].decision
            if isinstance(d, Choice) and d.num_choices > 1:
                group = slots[k: k + d.num_choices]
                k += d.num_choices
                self._many(d, group, V, out, active)
            else:
                self._slot(slots[k], V, out, active, None)
                k += 1

    def _many(self, d: Choice, group: tuple[Slot, ...], V: np.ndarray, out: np.ndarray,
              active: np.ndarray) -> None:
        n = len(d.candidates)
        used = np.zeros((len(V), n), dtype=bool)
        picks = []
        rows = np.arange(len(V))
        for slot in group:
            pick = self._slot(slot, V, out, active, used if d.distinct else None)
            used[rows, pick] = True
            picks.append(pick)
        if d.sorted and len(group) > 1:
            # positions occupy equal contiguous blocks: sort the blocks by pick (stably)
            start = group[0].start
            width = group[1].start - group[0].start
            order = np.argsort(np.stack(picks, 1), axis=1, kind="stable")
            block = out[:, start: start + width * len(group)].reshape(len(V), len(group), width)
            block = np.take_along_axis(block, order[:, :, None], axis=1)
            out[:, start: start + width * len(group)] = np.where(
                active[:, None], block.reshape(len(V), -1), out[:, start: start + width * len(group)])

    def _slot(self, slot: Slot, V: np.ndarray, out: np.ndarray, active: np.ndarray,
              exclude: np.ndarray | None) -> np.ndarray:
        d = slot.decision
        s = slot.start
        if isinstance(d, Choice):
            scores = V[:, s: s + slot.width].copy()
            if exclude is not None:
                scores[exclude] = -np.inf
            pick = np.argmax(scores, axis=1)
            rows = np.nonzero(active)[0]
            out[rows, s: s + slot.width] = 0.0
            out[rows, s + pick[rows]] = 1.0
            for i, sub in enumerate(slot.candidates):
                if sub:
                    self._space(sub, V, out, active & (pick == i))
            return pick
        u = np.clip(V[:, s], 0.0, 1.0)
        low, high = float(d.low), float(d.high)
        if isinstance(d, IntDecision) and high > low:
            if d.scale == "log":
                lo, hi = math.log(low), math.log(high)
                value = np.clip(np.round(np.exp(lo + u * (hi - lo))), low, high)
                u = (np.log(value) - lo) / (hi - lo)
            else:
                value = np.clip(np.round(low + u * (high - low)), low, high)
                u = (value - low) / (high - low)
        out[:, s] = np.where(active, u, out[:, s])
        return np.zeros(len(V), dtype=np.intp)


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
    (the first fit uses two more starts and ``5 * fit_evals``). The ``ascent_starts`` best
    candidates then climb the expected improvement over their ranges for ``ascent_steps``
    gradient steps. ``range_length_prior`` is the prior mean of the log length scale of range
    slots (``None``: 0, a length scale of 1, in spaces without choices; the dimension-scaled
    prior of one-hot slots otherwise). ``warp`` compresses rewards
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
    ascent_starts: int = 3
    ascent_steps: int = 30
    range_length_prior: float | None = None

    def _setup(self, spec: DNASpec) -> None:
        checks = [
            (self.num_startup >= 0, f"num_startup must be >= 0, got {self.num_startup}"),
            (self.num_candidates >= 1, f"num_candidates must be >= 1, got {self.num_candidates}"),
            (self.xi >= 0, f"xi must be >= 0, got {self.xi}"),
            (self.num_best >= 0 and self.num_local >= 0 and self.refine_rounds >= 0,
             "num_best, num_local and refine_rounds must be >= 0"),
            (self.fit_evals >= 2 and self.restarts >= 0 and self.restart_every >= 1,
             "fit_evals must be >= 2, restart_every >= 1, restarts >= 0"),
        ]
        for ok, message in checks:
            if not ok:
                raise AlgorithmError(f"GaussianProcessBO: {message}")
        self._rng = make_rng(self.seed)
        self._layout = _Layout(VectorEncoder(spec), self.range_length_prior)
        self._reset()

    def _reset(self) -> None:
        self._X: list[np.ndarray] = []
        self._y: list[float] = []
        self._seen: set[tuple] = set()
        self._pending: dict[tuple, np.ndarray] = {}
        self._theta: np.ndarray | None = None
        self._fitted_at = 0
        self._tr = _TrustRegion(len(self._layout.ranges), len(self._layout.blocks))

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
        """A stored trial's DNA: pending (kriging believer) until its result comes, and seen."""
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
        gp = GaussianProcess(self._layout.encoder.size, self._theta, self._layout.length_prior)
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
        if self._pending:  # kriging believer: pending proposals at the posterior mean
            P = np.asarray(list(self._pending.values()))
            noise = np.r_[np.full(len(y), math.exp(gp.theta[-1])),  # believed without noise
                          np.full(len(P), 1e-6 * math.exp(gp.theta[-2]))]
            believed = gp.predict(P)[0]
            best = max(best, float(believed.max()))
            gp.condition(np.vstack([gp.X, P]), np.r_[y, believed], noise)
        layout = self._layout

        def score(C: np.ndarray) -> np.ndarray:
            mean, var = gp.predict(C)
            return log_expected_improvement(mean, var, best, self.xi)

        top = np.argsort(-y)[: self.num_best]
        if self._uses_trust_region():
            weights = np.exp(gp.theta[: gp.dim])
            cands = [self._tr.sample(np.asarray(self._X)[top[0]], weights, layout,
                                     self.num_candidates, rng)]
        else:
            cands = [layout.project(layout.random(self.num_candidates, rng))]
        for i in top:
            cands.append(self._perturb(np.asarray(self._X)[i], self.num_local, 0.1, rng))
        C = np.vstack(cands)
        S = score(C)
        for r in range(self.refine_rounds):
            if self.num_local == 0:
                break
            local = self._perturb(C[int(np.argmax(S))], self.num_local, 0.05 / 2 ** r, rng)
            C, S = np.vstack([C, local]), np.r_[S, score(local)]
        if self.ascent_steps and len(layout.ranges):
            top_c = np.argsort(-S)[: self.ascent_starts]
            A, SA = _ascend(layout, score, C[top_c], self.ascent_steps)
            C, S = np.vstack([C, A]), np.r_[S, SA]
        for i in np.argsort(-S)[:64]:
            dna = layout.encoder.decode(C[i])
            if _key(dna) not in self._seen:
                return dna
        return self._random_unseen()

    def _uses_trust_region(self) -> bool:
        if self.trust_region is not None:
            return self.trust_region
        return len(self._layout.ranges) >= _TR_FROM and not self._layout.blocks

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


def _ascend(layout: _Layout, score: Any, starts: np.ndarray, steps: int,
            h: float = 1e-4) -> tuple[np.ndarray, np.ndarray]:
    """Gradient ascent of ``score`` over the range slots from each row of ``starts``
    (finite-difference gradients, normalized steps shrinking from 0.05 to 0.001 of the unit
    interval, a step kept only where it improves), choices held fixed."""
    r = layout.ranges_arr
    X = starts.copy()
    S = score(X)
    k, d = len(X), len(r)
    rows = np.arange(k) * (d + 1)
    for t in range(steps):
        lr = 0.05 * 0.02 ** (t / max(steps - 1, 1))
        Z = np.repeat(X, d + 1, axis=0)
        for j in range(d):
            Z[rows + 1 + j, r[j]] += h
        SZ = score(Z).reshape(k, d + 1)
        g = np.nan_to_num((SZ[:, 1:] - SZ[:, :1]) / h)
        Y = X.copy()
        Y[:, r] = np.clip(X[:, r] + lr * g / (np.linalg.norm(g, axis=1, keepdims=True) + 1e-12),
                          0.0, 1.0)
        Y = layout.project(Y)
        SY = score(Y)
        better = SY > S
        X[better], S[better] = Y[better], SY[better]
    return X, S


_TR_FROM = 8   # ranges (and no choices) from which the trust region is on by default


class _TrustRegion:
    """A TuRBO-style trust region (Eriksson et al. 2019) around the incumbent: a box of side
    ``length`` in the unit cube (per range slot, scaled by the GP's length scales), doubled
    after 3 improvements in a row, halved after ``max(4, d)`` proposals without one, reset
    when it gets below ``0.5 ** 7``. Choices in the region keep the incumbent's candidate
    except for a few resampled blocks (the Hamming ball of Casmopolitan)."""

    def __init__(self, num_ranges: int, num_blocks: int) -> None:
        self.dim = num_ranges + num_blocks
        self.length = 0.8
        self.successes = self.failures = 0

    def tell(self, value: float, best: float) -> None:
        if value > best + 1e-3 * abs(best):
            self.successes, self.failures = self.successes + 1, 0
        else:
            self.successes, self.failures = 0, self.failures + 1
        if self.successes >= 3:
            self.length, self.successes = min(2.0 * self.length, 1.6), 0
        elif self.failures >= max(4, self.dim):
            self.length, self.failures = self.length / 2.0, 0
            if self.length < 0.5 ** 7:
                self.length = 0.8

    def sample(self, center: np.ndarray, scales: np.ndarray, layout: _Layout, m: int,
               rng: np.random.Generator) -> np.ndarray:
        V = np.tile(center, (m, 1))
        r = layout.ranges_arr
        if len(r):
            w = scales[r] / np.exp(np.mean(np.log(scales[r])))
            w = np.clip(w, 0.0, None)
            half = 0.5 * self.length * w
            lo, hi = np.clip(center[r] - half, 0, 1), np.clip(center[r] + half, 0, 1)
            box = lo + (hi - lo) * rng.random((m, len(r)))
            mask = rng.random((m, len(r))) < min(1.0, 20.0 / len(r))
            mask[np.arange(m), rng.integers(0, len(r), m)] = True
            V[:, r] = np.where(mask, box, center[r])
        nb = len(layout.blocks)
        if nb:
            p = min(1.0, max(1.0, self.length * nb) / nb)
            flip = rng.random((m, nb)) < p
            for b, (start, width) in enumerate(layout.blocks):
                rows = np.nonzero(flip[:, b])[0]
                if len(rows):
                    V[rows, start: start + width] = rng.random((len(rows), width))
        return layout.project(V)


def _key(dna: DNA) -> tuple:
    return tuple(dna.to_numbers())
