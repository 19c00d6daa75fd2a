"""Maximizing log expected improvement over a mixed space, from several starts.

The scored candidates of :class:`~symbo.algorithms.gp.GaussianProcessBO` (random points and
perturbations of the best trials) give the starts, as Optuna's GPSampler chooses them: the
best candidate, more candidates drawn with probability proportional to their expected
improvement (so several promising regions are climbed, not only the incumbent's), and the
best observed point. From each start, rounds of (1) L-BFGS over the range slots with the
exact gradient of log EI (:func:`~symbo.algorithms.gp_model.log_ei_with_grad`), in
coordinates scaled by the GP's length scales so that every direction is equally curved, and
(2) an exhaustive search over each choice's candidates, the rest held fixed, until neither
improves.

>>> import numpy as np
>>> import symbo as sb
>>> from symbo.algorithms.gp_acquisition import ascend
>>> from symbo.algorithms.gp_model import GaussianProcess
>>> from symbo.algorithms.gp_space import VectorLayout
>>> from symbo.dsl.encoding import VectorEncoder
>>> layout = VectorLayout(VectorEncoder(sb.dna_spec(sb.Dict(x=sb.float_range(0.0, 1.0)))))
>>> X = np.array([[0.1], [0.4], [0.9]])
>>> gp = GaussianProcess(1).condition(X, np.array([-1.0, 1.0, -1.0]))
>>> A, S = ascend(gp, layout, np.array([[0.6]]), best=1.0)
>>> bool(0.4 < A[0, 0] < 0.6)
True
"""

from __future__ import annotations

import numpy as np

from symbo.algorithms.gp_model import (
    GaussianProcess,
    log_ei_with_grad,
    log_expected_improvement,
    minimize_in_box,
)
from symbo.algorithms.gp_space import VectorLayout

__all__ = ["ascend", "starts"]


def starts(C: np.ndarray, S: np.ndarray, incumbent: np.ndarray | None, k: int,
           rng: np.random.Generator) -> np.ndarray:
    """``k`` starting points: the best-scored row of ``C``, rows drawn without replacement
    with probability ``exp(S - max S)`` (log EI scores), and ``incumbent`` when given."""
    best = int(np.argmax(S))
    chosen = [best]
    p = np.exp(np.nan_to_num(S - S[best], nan=-np.inf, neginf=-np.inf))
    p[best] = 0.0
    extra = min(k - 1 - (incumbent is not None), int(np.count_nonzero(p > 0)))
    if extra > 0:
        chosen.extend(rng.choice(len(C), size=extra, replace=False, p=p / p.sum()).tolist())
    rows = [C[i] for i in chosen]
    if incumbent is not None and k > 1:
        rows.append(incumbent)
    return np.asarray(rows)


def ascend(gp: GaussianProcess, layout: VectorLayout, starts: np.ndarray, best: float,
           xi: float = 0.0, max_evals: int = 50, rounds: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """The points reached from each row of ``starts`` (valid encodings) and their log EI."""
    r = layout.ranges_arr
    scales = np.exp(gp.theta[: gp.dim])[r] if len(r) else np.zeros(0)

    def score(V: np.ndarray) -> np.ndarray:
        mean, var = gp.predict(V)
        return log_expected_improvement(mean, var, best, xi)

    out, values = [], []
    for x0 in layout.project(np.atleast_2d(starts)):
        x = x0.copy()
        value = float(score(x[None])[0])
        for _ in range(rounds):
            changed = False
            if len(r):
                y = _climb(gp, x, r, scales, best, xi, max_evals)
                y = layout.project(y[None])[0]          # ints rounded, inactive slots reset
                v = float(score(y[None])[0])
                if v > value:
                    x, value, changed = y, v, True
            for start, width in layout.blocks:
                trial = np.tile(x, (width, 1))
                trial[:, start: start + width] = np.eye(width)
                trial = layout.project(trial)
                s = score(trial)
                j = int(np.argmax(s))
                if s[j] > value + 1e-12:
                    x, value, changed = trial[j], float(s[j]), True
            if not changed:
                break
        out.append(x)
        values.append(value)
    return np.asarray(out), np.asarray(values)


def _climb(gp: GaussianProcess, x: np.ndarray, r: np.ndarray, scales: np.ndarray, best: float,
           xi: float, max_evals: int) -> np.ndarray:
    """L-BFGS on ``-log EI`` over the range slots ``r`` of ``x`` (in units of the length
    scales), the other slots held fixed."""
    z = x.copy()

    def f(u: np.ndarray) -> tuple[float, np.ndarray]:
        z[r] = u * scales
        m, v, dm, dv = gp.predict_with_grad(z[None])
        value, grad = log_ei_with_grad(m, v, dm, dv, best, xi)
        if not np.isfinite(value[0]):
            return float("inf"), np.zeros_like(u)
        return -float(value[0]), -grad[0, r] * scales

    u, _ = minimize_in_box(f, x[r] / scales, np.zeros(len(r)), 1.0 / scales, max_evals)
    out = x.copy()
    out[r] = np.clip(u * scales, 0.0, 1.0)
    return out
