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
joins the observations; past 25 observations, older ones get smaller weights.

Univariate estimators treat the dimensions as independent mixtures (their product);
multivariate ones draw one kernel for all dimensions of a point. Every operation is
vectorized over the dimensions, the kernels and the points.

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

import functools
import math
from collections.abc import Callable, Sequence
from typing import Any

import attrs
import numpy as np

EPS = 1e-12
_SQRT_HALF = math.sqrt(0.5)
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_LN2 = math.log(2.0)
# erfc(x) = t * exp(-x^2 + P(t)), t = 1 / (1 + x / 2), x >= 0: relative error < 1.2e-7
# everywhere (a Chebyshev fit; Press et al., Numerical Recipes, "erfcc").
_ERFC = (-1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807,
         -1.13520398, 1.48851587, -0.82215223, 0.17087277)
# past this many standard deviations a Gaussian tail is below 1e-19: zero next to 1
_FAR = 9.0
# bins at most this fraction of every bandwidth wide are integrated by the midpoint rule with
# a curvature correction (relative error ~ (w/sigma)^4 z^4 / 1920); wider ones exactly
_MIDPOINT = 0.5

MaskFn = Callable[[int, list[Any]], "np.ndarray | None"]
Point = Any  # unit values (float), (lo, hi) bin edges (int), candidate indices (choice)


@attrs.frozen(slots=True)
class Dim:
    """One dimension of an estimator: ``kind`` is ``"float"``, ``"int"`` or ``"choice"``
    (with ``size`` candidates; for ints, informative only).

    >>> from symbo.algorithms.parzen import Dim
    >>> Dim("choice", 3)
    Dim(kind='choice', size=3)
    """

    kind: str
    size: int = 0


@functools.lru_cache(maxsize=4096)
def _weights(n: int) -> np.ndarray:
    if n < 25:
        w = np.ones(n)
    else:
        w = np.concatenate([np.linspace(1.0 / n, 1.0, num=n - 25), np.ones(25)])
    w.flags.writeable = False
    return w


def default_weights(n: int) -> np.ndarray:
    """Optuna's observation weights: 1 for the newest 25, a ramp from ``1/n`` before them.

    >>> from symbo.algorithms.parzen import default_weights
    >>> default_weights(3).tolist(), default_weights(27)[:3].round(3).tolist()
    ([1.0, 1.0, 1.0], [0.037, 1.0, 1.0])
    """
    return _weights(n).copy()


# ---- normal tails ------------------------------------------------------------------------------
def _tail_parts(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(t, e)`` with ``P(N(0, 1) > z) = t / 2 * exp(e)``, for ``z >= 0``."""
    x = z * _SQRT_HALF
    t = 1.0 / (1.0 + 0.5 * x)
    poly = np.full_like(t, _ERFC[-1])
    for c in _ERFC[-2::-1]:
        poly *= t
        poly += c
    poly -= x * x
    return t, poly


def _log_upper_tail(z: np.ndarray) -> np.ndarray:
    """``log P(N(0, 1) > z)`` for ``z >= 0`` (never underflows)."""
    t, e = _tail_parts(z)
    return e + np.log(0.5 * t)


def _upper_tail(z: np.ndarray) -> np.ndarray:
    """``P(N(0, 1) > z)`` for ``z >= 0``, with small relative error even far in the tail."""
    t, e = _tail_parts(z)
    return 0.5 * t * np.exp(e)


def _log1mexp(x: np.ndarray) -> np.ndarray:
    """``log(1 - exp(x))`` for ``x <= 0``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x > -_LN2, np.log(-np.expm1(np.minimum(x, -1e-300))),
                        np.log1p(-np.exp(np.minimum(x, 0.0))))


def log_normal_mass(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``log(Phi(b) - Phi(a))`` for ``a <= b`` (elementwise), exact far in either tail.

    >>> import numpy as np
    >>> from symbo.algorithms.parzen import log_normal_mass
    >>> [f"{m:.5g}" for m in np.exp(log_normal_mass(np.array([-1.0, 8.0]), np.array([1.0, 9.0])))]
    ['0.68269', '6.2198e-16']
    >>> f"{log_normal_mass(np.array([40.0]), np.array([41.0]))[0]:.2f}"   # exp() would be 0
    '-804.61'
    """
    la = _log_upper_tail(np.abs(a))
    lb = _log_upper_tail(np.abs(b))
    upper = a >= 0                      # both in the upper tail: Q(a) - Q(b)
    lower = b <= 0                      # both in the lower tail: Q(-b) - Q(-a)
    big = np.where(upper, la, lb)
    small = np.where(upper, lb, la)
    same_side = big + _log1mexp(small - big)
    with np.errstate(divide="ignore", invalid="ignore"):
        straddle = np.log1p(-(np.exp(la) + np.exp(lb)))
    return np.where(upper | lower, same_side, straddle)


def _log_norm(mus: np.ndarray, inv_sigmas: np.ndarray) -> np.ndarray:
    """``log`` of each kernel's mass on [0, 1] (its centre is in [0, 1]), vectorized."""
    tails = np.zeros_like(mus)
    for z in (mus * inv_sigmas, (1.0 - mus) * inv_sigmas):
        near = z < _FAR
        tails[near] += _upper_tail(z[near])
    return np.log(np.maximum(1.0 - tails, EPS))


def _logsumexp(m: np.ndarray, axis: int = -1) -> np.ndarray:
    top = m.max(axis=axis, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore"):
        out = np.log(np.exp(m - top).sum(axis=axis, keepdims=True)) + top
    return np.squeeze(out, axis=axis)


# ---- sampling helpers --------------------------------------------------------------------------
def _trunc_normal(rng: np.random.Generator, mu: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """Samples of N(mu, sigma) truncated to [0, 1] (mu in [0, 1]: acceptance >= ~1/3)."""
    tries = 6
    x = rng.normal(mu[..., None], sigma[..., None], size=mu.shape + (tries,))
    ok = (x >= 0.0) & (x <= 1.0)
    first = ok.argmax(axis=-1)
    out = np.take_along_axis(x, first[..., None], axis=-1)[..., 0]
    missing = np.flatnonzero(~ok.any(axis=-1))
    if missing.size:  # rare: redraw one by one (mu, sigma flattened)
        flat, mu_f, sigma_f = out.reshape(-1), mu.reshape(-1), sigma.reshape(-1)
        for _ in range(100):
            flat[missing] = rng.normal(mu_f[missing], sigma_f[missing])
            missing = missing[(flat[missing] < 0.0) | (flat[missing] > 1.0)]
            if missing.size == 0:
                break
        out = flat.reshape(mu.shape)
    return np.clip(out, 0.0, 1.0)


def _sample_rows(rng: np.random.Generator, rows: np.ndarray,
                 mask: np.ndarray | None) -> np.ndarray:
    """One index per row of the (unnormalized) probability table ``rows``, within ``mask``."""
    if mask is not None:
        mask = np.broadcast_to(mask, rows.shape)
        rows = rows * mask
        empty = rows.sum(axis=1) <= 0.0
        if empty.any():  # no mass left where allowed: uniform over what is allowed
            rows[empty] = mask[empty]
    cum = np.cumsum(rows, axis=1)
    u = (1.0 - rng.random(rows.shape[0])) * cum[:, -1]
    return np.minimum((cum < u[:, None]).sum(axis=1), rows.shape[1] - 1)


class _Categorical:
    """Smoothed one-hot kernels over ``size`` candidates (the prior kernel is uniform)."""

    __slots__ = ("obs", "size", "on", "off", "num_obs", "probs")

    def __init__(self, obs: np.ndarray, size: int, prior_weight: float, has_prior: bool,
                 weights: np.ndarray) -> None:
        self.obs = obs.astype(np.intp)
        self.size = size
        n = self.num_obs = len(obs)
        a = prior_weight / (n + has_prior) if n else 1.0
        self.on = (1.0 + a) / (1.0 + size * a)   # a kernel's mass on its own candidate
        self.off = a / (1.0 + size * a)          # ... and on each other candidate
        counts = np.bincount(self.obs, weights=weights[:n], minlength=size)
        self.probs = (counts * (self.on - self.off) + self.off * weights[:n].sum()
                      + weights[n:].sum() / size)

    def rows(self, kernels: np.ndarray) -> np.ndarray:
        """(m, size) candidate probabilities of the given kernels."""
        out = np.full((len(kernels), self.size), self.off)
        is_obs = kernels < self.num_obs
        out[~is_obs] = 1.0 / self.size
        idx = np.flatnonzero(is_obs)
        out[idx, self.obs[kernels[idx]]] = self.on
        return out

    def log_matrix(self, x: np.ndarray, num_kernels: int) -> np.ndarray:
        """(m, K) log probability of each point under each kernel."""
        hit = x[:, None] == self.obs[None, :]
        with np.errstate(divide="ignore"):
            out = np.where(hit, math.log(self.on), math.log(self.off) if self.off else -np.inf)
        if num_kernels > self.num_obs:
            out = np.hstack([out, np.full((len(x), 1), -math.log(self.size))])
        return out


class ParzenEstimator:
    """A Parzen estimator over ``dims`` fitted to ``observations`` (rows of values).

    Floats are unit-interval values; ints are unit-interval kernel centres when fitting,
    ``(lo, hi)`` bin edges when evaluating; choices are candidate indices. ``weights`` (one
    per observation, default :func:`default_weights`) weigh the kernels. ``multivariate=True``
    uses one bandwidth per dimension (Scott's rule, as Optuna's multivariate TPE) instead of
    neighbour distances, and samples all dimensions of a point from one kernel.

    >>> import numpy as np
    >>> from symbo.algorithms.parzen import Dim, ParzenEstimator
    >>> est = ParzenEstimator([[0.1, 2], [0.15, 2]], [Dim("float"), Dim("choice", 3)],
    ...                       multivariate=True)
    >>> xs, idx = est.sample(np.random.default_rng(0), 200)
    >>> xs.shape, int(np.bincount(idx, minlength=3).argmax())
    ((200,), 2)
    """

    def __init__(self, observations: Any, dims: Sequence[Dim], *,
                 weights: Any = None, prior_weight: float = 1.0, multivariate: bool = False,
                 consider_endpoints: bool = False, magic_clip: bool = True) -> None:
        self.dims = tuple(dims)
        self.multivariate = multivariate
        obs = np.asarray(observations, dtype=float).reshape(-1, len(self.dims))
        n = self.num_observations = obs.shape[0]
        w = _weights(n) if weights is None else np.asarray(weights, dtype=float)
        if len(w) != n:
            raise ValueError(f"expected {n} weights, got {len(w)}")
        self.has_prior = has_prior = prior_weight > 0 or n == 0
        if n == 0:
            w = np.ones(1)
        elif has_prior:
            w = np.append(w, prior_weight)
        self.weights = w / w.sum()
        self._cum = np.cumsum(self.weights)
        self._cats: dict[int, _Categorical] = {}
        self._rows: dict[int, int] = {}       # dim -> row of the numeric arrays
        numeric = []
        for d, dim in enumerate(self.dims):
            if dim.kind == "choice":
                self._cats[d] = _Categorical(obs[:, d], dim.size, prior_weight, has_prior,
                                             self.weights)
            else:
                self._rows[d] = len(numeric)
                numeric.append(d)
        mus = obs[:, numeric].T                                     # (Dn, n)
        sigmas = _bandwidths(mus, len(self.dims), has_prior, multivariate,
                             consider_endpoints, magic_clip)
        if has_prior:
            mus = np.hstack([mus, np.full((len(numeric), 1), 0.5)])
            sigmas = np.hstack([sigmas, np.ones((len(numeric), 1))])
        self._mus, self._sigmas = mus, sigmas
        self._inv = 1.0 / sigmas
        self._log_norm = _log_norm(mus, self._inv)
        # per kernel: weight / (sigma * sqrt(2 pi) * mass on [0, 1])
        self._coef = self.weights * _INV_SQRT_2PI * self._inv * np.exp(-self._log_norm)
        self._mus32 = mus.astype(np.float32)
        self._inv32 = self._inv.astype(np.float32)
        self._coef32 = self._coef.astype(np.float32)

    # ---- sampling ----------------------------------------------------------------------
    def sample(self, rng: np.random.Generator, size: int, mask: MaskFn | None = None,
               dims: Sequence[int] | None = None) -> list[Any]:
        """``size`` points: one array per dimension (unit values for float and int, indices
        for choices; ``None`` for the dimensions not in ``dims``, when given).

        ``mask(d, sampled)`` may return the candidates allowed in choice dimension ``d``
        given the arrays sampled before it: (size, n) or (n,) booleans.
        """
        dims = range(len(self.dims)) if dims is None else dims
        out: list[Any] = [None] * len(self.dims)
        if self.multivariate:
            shared = np.minimum(np.searchsorted(self._cum, rng.random(size) * self._cum[-1]),
                                len(self.weights) - 1)
        numeric = [d for d in dims if d in self._rows]
        if numeric:
            rows = np.array([self._rows[d] for d in numeric])
            if self.multivariate:
                kernels = np.broadcast_to(shared, (len(rows), size))
            else:
                kernels = np.minimum(
                    np.searchsorted(self._cum, rng.random((len(rows), size)) * self._cum[-1]),
                    len(self.weights) - 1)
            r = rows[:, None]
            u = _trunc_normal(rng, self._mus[r, kernels], self._sigmas[r, kernels])
            for i, d in enumerate(numeric):
                out[d] = u[i]
        for d in dims:
            cat = self._cats.get(d)
            if cat is None:
                continue
            allowed = mask(d, out) if mask is not None else None
            if self.multivariate:
                table = cat.rows(shared)
            else:
                table = np.broadcast_to(cat.probs, (size, cat.size))
            out[d] = _sample_rows(rng, table, allowed)
        return out

    # ---- densities ---------------------------------------------------------------------
    def log_pdf(self, points: Sequence[Point]) -> np.ndarray:
        """Log density (log mass for int and choice dimensions) of each point: (m,).

        ``points`` holds one entry per dimension: an array of unit values (float), a tuple
        ``(lo, hi)`` of bin-edge arrays (int), or an array of candidate indices (choice).
        """
        if not self.multivariate or len(self.dims) == 1:
            return self.log_marginals(points).sum(axis=0)
        m = _num_points(points[0])
        with np.errstate(divide="ignore"):
            total = np.tile(np.log(self.weights), (m, 1))
        floats = [d for d, dim in enumerate(self.dims) if dim.kind == "float"]
        if floats:
            total += self._joint_floats(np.stack([points[d] for d in floats]), floats)
        cats = [d for d in self._cats if self._cats[d].off > 0]
        if len(cats) > 1:
            total += self._joint_choices([np.asarray(points[d], np.intp) for d in cats], cats)
        for d, x in enumerate(points):
            if self.dims[d].kind == "int" or (d in self._cats and (len(cats) < 2
                                                                   or d not in cats)):
                total += self._log_kernels(d, x)
        return _logsumexp(total)

    def _joint_floats(self, u: np.ndarray, dims: list[int]) -> np.ndarray:
        """(m, K) summed log kernel densities of the float dimensions (multivariate: every
        observation's kernel has the same width per dimension, so the squared distances
        come from one matrix product)."""
        rows = [self._rows[d] for d in dims]
        mus, inv, log_norm = self._mus[rows], self._inv[rows], self._log_norm[rows]
        n = self.num_observations
        out = np.empty((u.shape[1], mus.shape[1]))
        const = np.log(inv).sum(axis=0) - log_norm.sum(axis=0) - len(rows) * _LOG_SQRT_2PI
        if n:
            scale = inv[:, :1]                                     # (Df, 1)
            a, b = (u * scale).T, (mus[:, :n] * scale).T           # (m, Df), (n, Df)
            sq = (a * a).sum(axis=1)[:, None] - 2.0 * (a @ b.T) + (b * b).sum(axis=1)[None, :]
            out[:, :n] = -0.5 * np.maximum(sq, 0.0) + const[:n]
        if mus.shape[1] > n:                                       # the prior kernel
            z = (u - mus[:, n:]) * inv[:, n:]
            out[:, n] = -0.5 * (z * z).sum(axis=0) + const[n]
        return out

    def _joint_choices(self, x: list[np.ndarray], dims: list[int]) -> np.ndarray:
        """(m, K) summed log kernel probabilities of the choice dimensions, as one product
        of one-hot matrices."""
        cats = [self._cats[d] for d in dims]
        n, m = self.num_observations, len(x[0])
        offsets = np.cumsum([0] + [c.size for c in cats])
        hits = np.zeros((m, offsets[-1]))
        onehot = np.zeros((offsets[-1], n))
        for c, xi, off in zip(cats, x, offsets, strict=False):
            hits[np.arange(m), off + xi] = math.log(c.on) - math.log(c.off)
            onehot[off + c.obs, np.arange(n)] = 1.0
        out = np.empty((m, len(self.weights)))
        out[:, :n] = hits @ onehot + sum(math.log(c.off) for c in cats)
        if len(self.weights) > n:
            out[:, n] = -sum(math.log(c.size) for c in cats)
        return out

    def log_marginals(self, points: Sequence[Point],
                      dims: Sequence[int] | None = None) -> np.ndarray:
        """Each dimension's own log density at the points: (len(dims), m)."""
        dims = list(range(len(self.dims))) if dims is None else list(dims)
        m = _num_points(points[dims[0]])
        out = np.empty((len(dims), m))
        floats = [i for i, d in enumerate(dims) if self.dims[d].kind == "float"]
        if floats:
            u = np.stack([points[dims[i]] for i in floats])           # (Df, m)
            rows = np.array([self._rows[dims[i]] for i in floats])
            out[floats] = self._float_marginals(u, rows)
        for i, d in enumerate(dims):
            kind = self.dims[d].kind
            if kind == "choice":
                with np.errstate(divide="ignore"):
                    out[i] = np.log(self._cats[d].probs)[np.asarray(points[d], np.intp)]
            elif kind == "int":
                out[i] = self._int_marginal(self._rows[d], *points[d], self.dims[d].size)
        return out

    def _float_marginals(self, u: np.ndarray, rows: np.ndarray) -> np.ndarray:
        if not self.has_prior:
            z = (u[:, :, None] - self._mus[rows][:, None, :]) * self._inv[rows][:, None, :]
            z = -0.5 * z * z + np.log(self._coef[rows])[:, None, :]
            return _logsumexp(z)
        # The prior kernel (sigma 1) keeps every density far above float32's underflow, so
        # the (dims, points, kernels) block is computed in float32: twice as fast.
        z = u.astype(np.float32)[:, :, None] - self._mus32[rows][:, None, :]
        z *= self._inv32[rows][:, None, :]
        np.square(z, out=z)
        z *= np.float32(-0.5)
        np.exp(z, out=z)
        dens = np.matmul(z, self._coef32[rows][:, :, None])[..., 0].astype(float)
        with np.errstate(divide="ignore"):
            return np.log(dens)

    def _int_marginal(self, row: int, lo: np.ndarray, hi: np.ndarray,
                      size: int = 0) -> np.ndarray:
        lo_u, first, inverse = np.unique(lo, return_index=True, return_inverse=True)
        hi_u = hi[first]
        width = hi_u - lo_u
        mus, sigmas, log_norm = self._mus[row], self._sigmas[row], self._log_norm[row]
        narrow = width <= _MIDPOINT * sigmas.min()
        dens = np.empty(len(lo_u))
        with np.errstate(under="ignore"):
            if narrow.any():  # midpoint rule with the curvature correction (_log_midpoint)
                inv, w = self._inv[row], width[narrow]
                z = (0.5 * (lo_u[narrow] + hi_u[narrow]))[:, None] - mus[None, :]
                z *= inv
                np.square(z, out=z)
                h2 = np.square(w[:, None] * inv) / 24.0
                h2 *= z - 1.0
                h2 += 1.0
                z *= -0.5
                np.exp(z, out=z)
                z *= h2
                dens[narrow] = (z @ self._coef[row]) * w
            if not narrow.all():
                # exact masses; with few values, kernels of equal centre and width merged
                w, inv = self.weights * np.exp(-log_norm), self._inv[row]
                if 0 < 3 * size + 1 < len(mus) // 2:
                    keys, merged = np.unique(mus + 1j * sigmas, return_inverse=True)
                    mus, inv = keys.real, 1.0 / keys.imag
                    w = np.bincount(merged.reshape(-1), weights=self.weights,
                                    minlength=len(keys)) * np.exp(-_log_norm(mus, inv))
                wide = ~narrow
                a = (lo_u[wide][:, None] - mus[None, :]) * inv
                b = (hi_u[wide][:, None] - mus[None, :]) * inv
                dens[wide] = _near_masses(a, b) @ w
        with np.errstate(divide="ignore"):
            return np.log(dens)[inverse.reshape(-1)]

    def _log_bins(self, lo: np.ndarray, hi: np.ndarray, r: int) -> np.ndarray:
        """(U, K) log mass of bins [lo, hi] under the kernels of numeric row ``r``."""
        mus, sigmas, log_norm = self._mus[r], self._sigmas[r], self._log_norm[r]
        narrow = (hi - lo) <= _MIDPOINT * sigmas.min()
        out = np.empty((len(lo), len(mus)))
        if narrow.any():
            out[narrow] = _log_midpoint(lo[narrow], hi[narrow], mus, sigmas, log_norm)
        if not narrow.all():
            a = (lo[~narrow][:, None] - mus[None, :]) * self._inv[r]
            b = (hi[~narrow][:, None] - mus[None, :]) * self._inv[r]
            out[~narrow] = log_normal_mass(a, b) - log_norm
        return out

    def _log_kernels(self, d: int, x: Point) -> np.ndarray:
        """(m, K) log density of each point under each kernel, in dimension ``d``."""
        kind = self.dims[d].kind
        if kind == "choice":
            return self._cats[d].log_matrix(np.asarray(x, np.intp), len(self.weights))
        r = self._rows[d]
        if kind == "int":
            lo, hi = x
            lo_u, first, inverse = np.unique(lo, return_index=True, return_inverse=True)
            return self._log_bins(lo_u, hi[first], r)[inverse.reshape(-1)]
        z = (np.asarray(x)[:, None] - self._mus[r][None, :]) * self._inv[r]
        return -0.5 * z * z + np.log(self._inv[r]) - self._log_norm[r] - _LOG_SQRT_2PI


def _near_masses(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``Phi(b) - Phi(a)``, computed only where it is above ~1e-19 (0 elsewhere)."""
    out = np.zeros(a.shape)
    near = (a < _FAR) & (b > -_FAR)
    a, b = a[near], b[near]
    qa, qb = _upper_tail(np.abs(a)), _upper_tail(np.abs(b))
    out[near] = np.maximum(np.where(a >= 0, qa - qb, np.where(b <= 0, qb - qa, 1.0 - qa - qb)),
                           0.0)
    return out


def _log_midpoint(lo: np.ndarray, hi: np.ndarray, mus: np.ndarray, sigmas: np.ndarray,
                  log_norm: np.ndarray) -> np.ndarray:
    """(U, K) log mass of narrow bins: the density at the centre times the width, with the
    second-order (curvature) correction: relative error ~ (w/sigma)^4 z^4 / 1920."""
    inv = 1.0 / sigmas
    z = (0.5 * (lo + hi))[:, None] - mus[None, :]
    z *= inv
    h = (hi - lo)[:, None] * inv
    z2 = z * z
    return -0.5 * z2 + np.log(h) + np.log1p((z2 - 1.0) * (h * h) / 24.0) \
        - _LOG_SQRT_2PI - log_norm


def _num_points(x: Point) -> int:
    return len(x[0]) if isinstance(x, tuple) else len(x)


def _bandwidths(mus: np.ndarray, num_dims: int, has_prior: bool, multivariate: bool,
                consider_endpoints: bool, magic_clip: bool) -> np.ndarray:
    """Optuna's kernel widths on [0, 1] for observations ``mus`` (rows: dimensions)."""
    k, n = mus.shape
    if multivariate:
        sigmas = np.full((k, n), 0.2 * max(n, 1) ** (-1.0 / (num_dims + 4)))
    else:
        with_prior = np.hstack([mus, np.full((k, 1), 0.5)]) if has_prior else mus
        order = np.argsort(with_prior, axis=1, kind="stable")
        ext = np.empty((k, with_prior.shape[1] + 2))
        ext[:, 0], ext[:, -1] = 0.0, 1.0
        ext[:, 1:-1] = np.take_along_axis(with_prior, order, axis=1)
        gaps = np.diff(ext, axis=1)
        sorted_sigmas = np.maximum(gaps[:, :-1], gaps[:, 1:])
        if not consider_endpoints and ext.shape[1] >= 4:
            sorted_sigmas[:, 0] = ext[:, 2] - ext[:, 1]
            sorted_sigmas[:, -1] = ext[:, -2] - ext[:, -3]
        sigmas = np.empty_like(sorted_sigmas)
        np.put_along_axis(sigmas, order, sorted_sigmas, axis=1)
        sigmas = sigmas[:, :n]
    low = 1.0 / min(100.0, 1.0 + n + has_prior) if magic_clip else EPS
    return np.clip(sigmas, low, 1.0)
