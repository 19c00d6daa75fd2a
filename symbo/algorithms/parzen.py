"""Parzen estimators for TPE: kernel mixtures on the unit interval and over candidates.

A :class:`ParzenEstimator` is a weighted mixture of product kernels over one or more
dimensions, fitted to observations the way Optuna's TPE fits them (Bergstra et al. 2011):

* ``float`` dimensions live in ``[0, 1]`` (the caller maps log ranges to log space); each
  observation is a Gaussian truncated to ``[0, 1]``, with a bandwidth from the distances to
  its neighbours (univariate) or Scott's rule (multivariate), clipped by the "magic clip"
  ``[1 / min(100, 1 + n_kernels), 1]``;
* ``int`` dimensions are the same kernels, read as probability masses of the bins
  ``[lo, hi]`` that the caller gives for each integer value;
* ``choice`` dimensions are smoothed counts: each observation puts mass 1 on its candidate
  plus ``prior_weight / n_kernels`` on every candidate.

A prior component (a wide Gaussian at 0.5, or uniform counts) with weight ``prior_weight``
joins the observations; older observations get smaller weights past 25 of them.

>>> import numpy as np
>>> from symbo.algorithms.parzen import Dim, ParzenEstimator
>>> est = ParzenEstimator([0.2, 0.25, 0.3], [Dim("float")])
>>> bool(est.log_pdf([np.array([0.25])])[0] > est.log_pdf([np.array([0.9])])[0])
True
>>> xs = np.linspace(0.0, 1.0, 2001)
>>> round(float(np.exp(est.log_pdf([xs])).mean()), 2)    # integrates to 1 over [0, 1]
1.0
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import attrs
import numpy as np

EPS = 1e-12
_SQRT_HALF = math.sqrt(0.5)
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
# erfc(x) = t * exp(-x^2 + P(t)), t = 1 / (1 + x / 2), x >= 0: relative error < 1.2e-7
# everywhere (Chebyshev fit; Press et al., Numerical Recipes, "erfcc").
_ERFC = (-1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807,
         -1.13520398, 1.48851587, -0.82215223, 0.17087277)
# a bin narrower than this fraction of every bandwidth is integrated by its midpoint
_MIDPOINT = 0.05

MaskFn = Callable[[int, list[np.ndarray]], "np.ndarray | None"]


@attrs.frozen(slots=True)
class Dim:
    """One dimension of an estimator: ``kind`` is ``"float"``, ``"int"`` or ``"choice"``
    (with ``size`` candidates)."""

    kind: str
    size: int = 0


def default_weights(n: int) -> np.ndarray:
    """Optuna's observation weights: 1 for the newest 25, a ramp from ``1/n`` before them.

    >>> from symbo.algorithms.parzen import default_weights
    >>> default_weights(3).tolist(), default_weights(27)[:3].round(3).tolist()
    ([1.0, 1.0, 1.0], [0.037, 1.0, 1.0])
    """
    if n < 25:
        return np.ones(n)
    return np.concatenate([np.linspace(1.0 / n, 1.0, num=n - 25), np.ones(25)])


def upper_tail(z: np.ndarray) -> np.ndarray:
    """``P(N(0, 1) > z)`` for ``z >= 0``, with small relative error even far in the tail."""
    x = z * _SQRT_HALF
    t = 1.0 / (1.0 + 0.5 * x)
    poly = np.full_like(t, _ERFC[-1])
    for c in _ERFC[-2::-1]:
        poly *= t
        poly += c
    poly -= x * x
    return 0.5 * t * np.exp(poly)


def normal_mass(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``Phi(b) - Phi(a)`` for ``a <= b`` (elementwise), accurate when both are in one tail.

    >>> import numpy as np
    >>> from symbo.algorithms.parzen import normal_mass
    >>> [f"{m:.5g}" for m in normal_mass(np.array([-1.0, 8.0]), np.array([1.0, 9.0]))]
    ['0.68269', '6.2198e-16']
    """
    qa = upper_tail(np.abs(a))
    qb = upper_tail(np.abs(b))
    out = np.where(a >= 0, qa - qb, np.where(b <= 0, qb - qa, 1.0 - qa - qb))
    return np.maximum(out, 0.0)


def _logsumexp(m: np.ndarray) -> np.ndarray:
    top = m.max(axis=1)
    top = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore"):
        return np.log(np.exp(m - top[:, None]).sum(axis=1)) + top


def _trunc_normal(rng: np.random.Generator, mu: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """Samples of N(mu, sigma) truncated to [0, 1] (mu in [0, 1]: acceptance >= ~1/3)."""
    x = rng.normal(mu, sigma)
    out = np.flatnonzero((x < 0.0) | (x > 1.0))
    for _ in range(64):
        if out.size == 0:
            break
        x[out] = rng.normal(mu[out], sigma[out])
        out = out[(x[out] < 0.0) | (x[out] > 1.0)]
    return np.clip(x, 0.0, 1.0)


def _sample_rows(rng: np.random.Generator, rows: np.ndarray,
                 mask: np.ndarray | None) -> np.ndarray:
    """One index per row of the (unnormalized) probability table ``rows``, within ``mask``."""
    rows = np.array(rows, dtype=float, ndmin=2)
    if mask is not None:
        mask = np.broadcast_to(mask, rows.shape)
        rows = rows * mask
        empty = rows.sum(axis=1) <= 0.0
        if empty.any():  # no mass left where allowed: uniform over what is allowed
            rows[empty] = mask[empty]
    cum = np.cumsum(rows, axis=1)
    u = (1.0 - rng.random(rows.shape[0])) * cum[:, -1]
    return np.minimum((cum < u[:, None]).sum(axis=1), rows.shape[1] - 1)


class _Numeric:
    """Truncated Gaussian kernels on [0, 1] (one per observation, plus the prior)."""

    __slots__ = ("mus", "sigmas", "log_norm", "inv_sigmas")

    def __init__(self, mus: np.ndarray, sigmas: np.ndarray) -> None:
        self.mus = mus
        self.sigmas = sigmas
        self.inv_sigmas = 1.0 / sigmas
        mass = normal_mass(-mus * self.inv_sigmas, (1.0 - mus) * self.inv_sigmas)
        self.log_norm = np.log(np.maximum(mass, EPS))

    def log_matrix(self, x: Any) -> np.ndarray:
        """(m, K) log density (float) or log bin mass (int: ``x`` is ``(lo, hi)``)."""
        if isinstance(x, tuple):
            with np.errstate(divide="ignore"):
                return np.log(self.masses(*x))
        z = np.subtract.outer(x, self.mus)
        z *= self.inv_sigmas
        np.square(z, out=z)
        z *= -0.5
        z -= np.log(self.sigmas) + self.log_norm + _LOG_SQRT_2PI
        return z

    def masses(self, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """(m, K) probability of each bin ``[lo, hi]`` under each kernel."""
        lo_u, first, inverse = np.unique(lo, return_index=True, return_inverse=True)
        hi_u = hi[first]
        width = hi_u - lo_u
        if width.max(initial=0.0) <= _MIDPOINT * self.sigmas.min():
            z = np.subtract.outer(0.5 * (lo_u + hi_u), self.mus)
            z *= self.inv_sigmas
            np.square(z, out=z)
            z *= -0.5
            np.exp(z, out=z)
            z *= (_INV_SQRT_2PI * self.inv_sigmas) / np.exp(self.log_norm)
            z *= width[:, None]
        else:
            a = np.subtract.outer(lo_u, self.mus) * self.inv_sigmas
            b = np.subtract.outer(hi_u, self.mus) * self.inv_sigmas
            z = normal_mass(a, b) / np.exp(self.log_norm)
        return z[inverse.reshape(-1)]

    def density(self, x: Any, weights: np.ndarray) -> np.ndarray:
        """The mixture's density (or bin mass) at each point: (m,)."""
        if isinstance(x, tuple):
            return self.masses(*x) @ weights
        z = np.subtract.outer(x, self.mus)
        z *= self.inv_sigmas
        np.square(z, out=z)
        z *= -0.5
        np.exp(z, out=z)
        coef = weights * _INV_SQRT_2PI * self.inv_sigmas / np.exp(self.log_norm)
        return z @ coef

    def sample(self, rng: np.random.Generator, kernels: np.ndarray) -> np.ndarray:
        return _trunc_normal(rng, self.mus[kernels], self.sigmas[kernels])


class _Categorical:
    """Smoothed one-hot kernels over ``size`` candidates (the prior kernel is uniform)."""

    __slots__ = ("obs", "size", "on", "off", "num_obs")

    def __init__(self, obs: np.ndarray, size: int, prior_weight: float, has_prior: bool) -> None:
        self.obs = obs.astype(np.intp)
        self.size = size
        self.num_obs = len(obs)
        a = prior_weight / (self.num_obs + has_prior) if self.num_obs else 1.0
        self.on = (1.0 + a) / (1.0 + size * a)   # a kernel's mass on its own candidate
        self.off = a / (1.0 + size * a)          # ... and on each other candidate

    def rows(self, kernels: np.ndarray) -> np.ndarray:
        """(m, size) candidate probabilities of the given kernels."""
        out = np.full((len(kernels), self.size), self.off)
        is_obs = kernels < self.num_obs
        out[~is_obs] = 1.0 / self.size
        idx = np.flatnonzero(is_obs)
        out[idx, self.obs[kernels[idx]]] = self.on
        return out

    def probs(self, weights: np.ndarray) -> np.ndarray:
        """The mixture's probability of each candidate: (size,)."""
        n = self.num_obs
        counts = np.bincount(self.obs, weights=weights[:n], minlength=self.size)
        out = counts * (self.on - self.off) + self.off * weights[:n].sum()
        return out + weights[n:].sum() / self.size


class ParzenEstimator:
    """A Parzen estimator over ``dims`` fitted to ``observations`` (rows of values).

    Floats are unit-interval values; ints are given as unit-interval kernel centres when
    fitting, and as ``(lo, hi)`` bin edges when evaluating; choices are candidate indices.
    ``weights`` (one per observation, default :func:`default_weights`) weight the kernels.
    ``multivariate=True`` uses one shared bandwidth per dimension (Scott's rule, as Optuna's
    multivariate TPE) instead of the neighbour distances, for joint product kernels.

    >>> import numpy as np
    >>> from symbo.algorithms.parzen import Dim, ParzenEstimator
    >>> est = ParzenEstimator([[0.1, 2], [0.15, 2]], [Dim("float"), Dim("choice", 3)],
    ...                       multivariate=True)
    >>> xs, idx = est.sample(np.random.default_rng(0), 5)
    >>> xs.shape, int(np.bincount(idx, minlength=3).argmax())
    ((5,), 2)
    """

    def __init__(self, observations: Any, dims: Sequence[Dim], *,
                 weights: Any = None, prior_weight: float = 1.0, multivariate: bool = False,
                 consider_endpoints: bool = False, magic_clip: bool = True) -> None:
        self.dims = tuple(dims)
        obs = np.asarray(observations, dtype=float).reshape(-1, len(self.dims))
        n = obs.shape[0]
        self.num_observations = n
        w = default_weights(n) if weights is None else np.asarray(weights, dtype=float)
        if len(w) != n:
            raise ValueError(f"expected {n} weights, got {len(w)}")
        has_prior = prior_weight > 0 or n == 0
        if n == 0:
            w = np.ones(1)
        elif has_prior:
            w = np.append(w, prior_weight)
        self.weights = w / w.sum()
        self.has_prior = has_prior
        self._components: list[_Numeric | _Categorical] = []
        for d, dim in enumerate(self.dims):
            column = obs[:, d]
            if dim.kind == "choice":
                cat = _Categorical(column, dim.size, prior_weight, has_prior)
                self._components.append(cat)
            else:
                sigmas = _bandwidths(column, len(self.dims), has_prior, multivariate,
                                     consider_endpoints, magic_clip)
                mus = column
                if has_prior:
                    mus = np.append(mus, 0.5)
                    sigmas = np.append(sigmas, 1.0)
                self._components.append(_Numeric(mus, sigmas))

    # ---- evaluation --------------------------------------------------------------------
    def log_pdf(self, points: Sequence[Any]) -> np.ndarray:
        """Log density (log mass for int and choice dimensions) at each point.

        ``points`` holds one entry per dimension: an array of unit values (float), a tuple
        ``(lo, hi)`` of bin-edge arrays (int), or an array of candidate indices (choice).
        """
        if len(self.dims) == 1:
            comp = self._components[0]
            with np.errstate(divide="ignore"):
                if isinstance(comp, _Categorical):
                    return np.log(comp.probs(self.weights))[np.asarray(points[0], np.intp)]
                if self.has_prior or isinstance(points[0], tuple):
                    return np.log(comp.density(points[0], self.weights))
        total: np.ndarray | None = None
        for comp, x in zip(self._components, points, strict=True):
            m = self._log_matrix(comp, x)
            total = m if total is None else total + m
        assert total is not None
        with np.errstate(divide="ignore"):
            total += np.log(self.weights)
        return _logsumexp(total)

    def _log_matrix(self, comp: _Numeric | _Categorical, x: Any) -> np.ndarray:
        if isinstance(comp, _Numeric):
            return comp.log_matrix(x)
        x = np.asarray(x, dtype=np.intp)
        hit = x[:, None] == comp.obs[None, :]
        with np.errstate(divide="ignore"):
            out = np.where(hit, math.log(comp.on), math.log(comp.off) if comp.off > 0 else -np.inf)
        if len(self.weights) > comp.num_obs:  # the prior kernel (or the only kernel)
            out = np.hstack([out, np.full((len(x), 1), -math.log(comp.size))])
        return out

    # ---- sampling ----------------------------------------------------------------------
    def sample(self, rng: np.random.Generator, size: int,
               mask: MaskFn | None = None) -> list[np.ndarray]:
        """``size`` points, one array per dimension (unit values for float and int, indices
        for choices). ``mask(d, sampled)`` may return the candidates allowed in choice
        dimension ``d`` given the dimensions sampled before it: (size, n) or (n,) booleans.
        """
        out: list[np.ndarray] = []
        if len(self.dims) == 1 and isinstance(self._components[0], _Categorical):
            allowed = mask(0, out) if mask is not None else None
            probs = np.broadcast_to(self._components[0].probs(self.weights),
                                    (size, self.dims[0].size))
            return [_sample_rows(rng, probs, allowed)]
        kernels = rng.choice(len(self.weights), size=size, p=self.weights)
        for d, comp in enumerate(self._components):
            if isinstance(comp, _Numeric):
                out.append(comp.sample(rng, kernels))
            else:
                allowed = mask(d, out) if mask is not None else None
                out.append(_sample_rows(rng, comp.rows(kernels), allowed))
        return out


def _bandwidths(mus: np.ndarray, num_dims: int, has_prior: bool, multivariate: bool,
                consider_endpoints: bool, magic_clip: bool) -> np.ndarray:
    """Optuna's kernel widths on [0, 1] for observations ``mus`` (the prior's excluded)."""
    n = len(mus)
    if multivariate:
        sigmas = np.full(n, 0.2 * max(n, 1) ** (-1.0 / (num_dims + 4)))
    else:
        with_prior = np.append(mus, 0.5) if has_prior else mus
        order = np.argsort(with_prior, kind="stable")
        ext = np.empty(len(with_prior) + 2)
        ext[0], ext[-1] = 0.0, 1.0
        ext[1:-1] = with_prior[order]
        gaps = np.diff(ext)
        sorted_sigmas = np.maximum(gaps[:-1], gaps[1:])
        if not consider_endpoints and len(ext) >= 4:
            sorted_sigmas[0] = ext[2] - ext[1]
            sorted_sigmas[-1] = ext[-2] - ext[-3]
        sigmas = np.empty(len(with_prior))
        sigmas[order] = sorted_sigmas
        sigmas = sigmas[:n]
    low = 1.0 / min(100.0, 1.0 + n + has_prior) if magic_clip else EPS
    return np.clip(sigmas, low, 1.0)
