"""The Gaussian process of :class:`~symbo.algorithms.gp.GaussianProcessBO` and its
acquisition function: a Matern-5/2 ARD GP fitted by maximum a posteriori (a small box-bounded
L-BFGS written in numpy, analytic gradients), and log expected improvement with its exact
gradient in the inputs (for the acquisition's gradient ascent).

>>> import numpy as np
>>> from symbo.algorithms.gp_model import GaussianProcess, log_expected_improvement
>>> X = np.linspace(0, 1, 6)[:, None]
>>> gp = GaussianProcess(1).fit(X, np.sin(6 * X[:, 0]))
>>> mean, var = gp.predict(np.array([[0.25]]))
>>> bool(log_expected_improvement(mean, var, 1.0)[0] < 0.0)
True
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["GaussianProcess", "log_expected_improvement", "log_ei_with_grad", "minimize_in_box"]

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
                 length_prior: np.ndarray | None = None, prior: str = "lognormal") -> None:
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
        self.prior = prior

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
        if self.prior == "gamma":
            pen, dpen = _gamma_prior(theta, d)
            return nll + pen, -grad + dpen
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
            theta, f = minimize_in_box(lambda t: self._objective(t, X, y), start, self.lower, self.upper,
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

    def predict_with_grad(self, Z: np.ndarray) -> tuple[np.ndarray, ...]:
        """Posterior mean and variance at the rows of ``Z`` with their gradients in ``Z``
        (``(m,)``, ``(m,)``, ``(m, d)``, ``(m, d)``): exact, from the Matern-5/2 kernel's
        derivative ``-5/3 (1 + sqrt5 r) exp(-sqrt5 r) (z - x) / l^2`` (smooth at r = 0)."""
        Z = np.atleast_2d(Z)
        inv_l2 = np.exp(-2.0 * self.theta[: self.dim])
        scale = np.sqrt(inv_l2)
        s2 = math.exp(self.theta[self.dim])
        r = np.sqrt(self._sqdist(Z * scale, self.X * scale))
        e = np.exp(-_SQRT5 * r)
        Ks = s2 * (1.0 + _SQRT5 * r + (5.0 / 3.0) * r * r) * e
        g = s2 * (-5.0 / 3.0) * (1.0 + _SQRT5 * r) * e          # dk/dz = g * (z - x) / l^2
        mean = Ks @ self._alpha
        V = Ks @ self._Linv.T
        var = s2 - (V * V).sum(1)
        w = g * self._alpha
        dmean = (Z * w.sum(1)[:, None] - w @ self.X) * inv_l2
        u = g * (V @ self._Linv)                                 # g * (K^-1 k)
        dvar = -2.0 * (Z * u.sum(1)[:, None] - u @ self.X) * inv_l2
        small = var < 1e-12
        dvar[small] = 0.0
        return mean, np.maximum(var, 1e-12), dmean, dvar


def _gamma_prior(theta: np.ndarray, d: int) -> tuple[float, np.ndarray]:
    """Optuna GPSampler's priors as a penalty on the log parameters (and its gradient):
    ``0.1 (l^2 + 1 / l^2)`` per length scale, Gamma(2, 1) on the signal variance, Gamma(1.1,
    30) on the noise variance (densities of the parameters, no Jacobian, as Optuna's)."""
    ell2 = np.exp(2.0 * theta[:d])
    s2, noise = math.exp(theta[d]), math.exp(theta[d + 1])
    pen = 0.1 * float((ell2 + 1.0 / ell2).sum()) - theta[d] + s2 - 0.1 * theta[d + 1] + 30.0 * noise
    dpen = np.empty_like(theta)
    dpen[:d] = 0.2 * (ell2 - 1.0 / ell2)
    dpen[d] = -1.0 + s2
    dpen[d + 1] = -0.1 + 30.0 * noise
    return float(pen), dpen


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


def minimize_in_box(f: Any, x0: np.ndarray, lower: np.ndarray, upper: np.ndarray, max_evals: int,
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


def log_ei_with_grad(mean: np.ndarray, var: np.ndarray, dmean: np.ndarray, dvar: np.ndarray,
                     best: float, xi: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """``log EI`` (as :func:`log_expected_improvement`) and its gradient, from the posterior
    and its gradient (:meth:`GaussianProcess.predict_with_grad`).

    >>> import numpy as np
    >>> from symbo.algorithms.gp_model import GaussianProcess, log_ei_with_grad
    >>> gp = GaussianProcess(2).condition(np.array([[0.2, 0.3], [0.7, 0.9]]), np.array([1.0, -1.0]))
    >>> z = np.array([[0.4, 0.5]])
    >>> v, g = log_ei_with_grad(*gp.predict_with_grad(z), best=1.0)
    >>> h = np.array([[1e-6, 0.0]])
    >>> fd = (log_ei_with_grad(*gp.predict_with_grad(z + h), best=1.0)[0] - v) / 1e-6
    >>> bool(abs(fd[0] - g[0, 0]) < 1e-3 * max(1.0, abs(g[0, 0])))
    True
    """
    sd = np.sqrt(var)
    z = (mean - best - xi) / sd
    log_phi = -0.5 * z * z - 0.5 * _LOG_2PI
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        cdf = 0.5 * _erfc(-z / math.sqrt(2.0))
        h = z * cdf + np.exp(log_phi)
        tail = z <= -6.0
        log_h = np.where(tail, log_phi - 2.0 * np.log(np.abs(z)), np.log(np.maximum(h, 1e-300)))
        dlog_h = np.where(tail, -z - 2.0 / z, cdf / np.maximum(h, 1e-300))   # d log h / dz
    dsd = dvar / (2.0 * sd[:, None])
    dz = (dmean - z[:, None] * dsd) / sd[:, None]
    value = np.log(sd) + log_h
    grad = dsd / sd[:, None] + dlog_h[:, None] * dz
    return value, np.nan_to_num(grad)
