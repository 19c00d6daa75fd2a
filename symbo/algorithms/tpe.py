"""Tree-structured Parzen estimator (TPE; Bergstra et al. 2011, as Optuna implements it).

After ``num_startup`` completed trials (random proposals until then), the completed trials
are split into good (the best ``min(ceil(gamma * n), max_good)``) and bad. Each decision gets
two Parzen estimators (:mod:`symbo.algorithms.parzen`), ``l`` fitted on the good trials and
``g`` on the bad: truncated Gaussian mixtures in the unit interval for ranges (log ranges in
log space, ints as bins), smoothed counts for choices, each with a prior component.
``num_candidates`` points are drawn from ``l`` and the one with the largest ``l(x) / g(x)``
is proposed.

The space is modelled as the tree it is, not flattened: the decisions of one space (the
whole space, or one candidate's space at one position of its choice) are active together and
form a *group*; a group's estimators are fitted only on the trials where it was active.
``propose`` walks the tree top-down: it picks the choices of a group, then samples the groups
under the chosen candidates from their own estimators. The positions of a ``many_of`` or
``permutate`` are choices of their own, sampled in order with the candidates that
``distinct``/``sorted`` rule out masked. ``multivariate=True`` models each group jointly
(product kernels, candidates drawn and scored as vectors), like Optuna's
``multivariate=True, group=True``.

Proposals still waiting for feedback count as bad trials (``constant_liar``), so parallel
workers spread out instead of proposing the same point. Failed trials are dropped.
``dedup=True`` (the default) never proposes a point twice while it can help it: a proposal
equal to an earlier one is drawn again (up to 20 times), then replaced by a random unseen
point. On categorical spaces Optuna's TPE (and ours without it) spends most of a 200-trial
budget re-evaluating the same few points (74 distinct of 200 on NAS-like).

>>> import symbo as sb
>>> from symbo.algorithms.tpe import TPE
>>> space = sb.Dict(x=sb.float_range(-5.0, 5.0),
...                 head=sb.one_of(["linear", sb.Dict(width=sb.int_range(8, 512, scale="log"))]))
>>> study = sb.tune(lambda p: -p.x ** 2, space, TPE(seed=0), num_trials=40)
>>> study.best_trial.reward > -0.05
True
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from symbo.algorithms.base import Algorithm, Reward, make_rng, scalar
from symbo.algorithms.parzen import Dim, ParzenEstimator
from symbo.core import field
from symbo.dsl import DNA, DNASpec
from symbo.dsl.materialize import random_dna
from symbo.dsl.spec import Choice, FloatDecision, Space

_FLOAT, _INT, _CHOICE = "float", "int", "choice"
_DEDUP_TRIES = 20   # redraws (then random points) before a proposal may repeat an earlier one


class _Dim:
    """One decision point (at one position of a choice), compiled for fitting and sampling.

    Ranges are kept on the unit interval: floats as ``(t(v) - lo) / span`` where ``t`` is the
    identity or ``log``; ints as bins of width 1 (in log space for log scales) whose centres
    are the kernel centres.
    """

    __slots__ = ("decision", "kind", "pdim", "position", "first", "children", "fixed",
                 "lo", "span", "log", "low", "high", "count", "is_position")

    def __init__(self, decision: Any, position: int = 0, first: int = 0,
                 children: tuple[_Group | None, ...] = ()) -> None:
        self.decision = decision
        self.position = position
        self.first = first
        self.children = children
        self.lo = self.span = 0.0
        self.low = self.high = 0
        self.count = 0
        self.log = getattr(decision, "scale", "linear") == "log"
        if isinstance(decision, Choice):
            self.kind = _CHOICE
            self.pdim = Dim(_CHOICE, decision.num_candidates)
            self.fixed: int | float | None = 0 if decision.num_candidates == 1 else None
            self.is_position = decision.num_choices > 1
            return
        self.is_position = False
        self.low, self.high = decision.low, decision.high
        if isinstance(decision, FloatDecision):
            self.kind = _FLOAT
            self.lo = math.log(decision.low) if self.log else float(decision.low)
            hi = math.log(decision.high) if self.log else float(decision.high)
            self.fixed = float(decision.low) if hi <= self.lo else None
        else:
            self.kind = _INT
            self.count = decision.high - decision.low + 1
            if self.log:
                self.lo = math.log(decision.low - 0.5)
                hi = math.log(decision.high + 0.5)
            else:
                self.lo, hi = decision.low - 0.5, decision.high + 0.5
            self.fixed = int(decision.low) if self.count == 1 else None
        self.span = hi - self.lo
        self.pdim = Dim(self.kind, self.count)

    # ---- values <-> unit interval ------------------------------------------------------------
    def unit(self, value: float) -> float:
        """A range value as a kernel centre in [0, 1]."""
        if self.span <= 0:
            return 0.5
        t = math.log(value) if self.log else float(value)
        return min(max((t - self.lo) / self.span, 0.0), 1.0)

    def values(self, u: np.ndarray) -> np.ndarray:
        """Unit samples as range values (ints rounded into their bins), clipped to the range."""
        t = self.lo + u * self.span
        if self.log:
            t = np.exp(t)
        if self.kind == _INT:
            t = np.floor(t + 0.5)
        return np.clip(t, self.low, self.high)

    def edges(self, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The unit-interval bin of each int value."""
        lo, hi = v - 0.5, v + 0.5
        if self.log:
            lo, hi = np.log(lo), np.log(hi)
        return (lo - self.lo) / self.span, (hi - self.lo) / self.span

    def decode(self, s: np.ndarray) -> tuple[np.ndarray, Any]:
        """Samples of the estimator as (values, points to evaluate the estimators at)."""
        if self.kind == _CHOICE:
            return s, s
        values = self.values(s)
        return values, (self.edges(values) if self.kind == _INT else s)

    def python(self, value: Any) -> int | float:
        return float(value) if self.kind == _FLOAT else int(value)

    def allowed(self, prev: list[np.ndarray]) -> np.ndarray | None:
        """The candidates this many_of position may take after the earlier positions' picks."""
        d = self.decision
        if self.kind != _CHOICE or d.num_choices == 1:
            return None
        n, k, j = d.num_candidates, d.num_choices, self.position
        cand = np.arange(n)
        mask: np.ndarray | None = None
        if d.sorted:
            if j > 0:
                mask = cand[None, :] >= prev[-1][:, None] + int(d.distinct)
            if d.distinct:
                room = cand[None, :] <= n - (k - j)
                mask = room if mask is None else mask & room
        elif d.distinct and j > 0:
            mask = np.ones((len(prev[0]), n), dtype=bool)
            rows = np.arange(len(prev[0]))
            for p in prev:
                mask[rows, p.astype(np.intp)] = False
        return mask


class _Group:
    """The decisions of one space instance (the root space, or a candidate's space at one
    position of its choice): active together, so they share their observations."""

    __slots__ = ("id", "space", "dims", "model", "tids", "rows", "n")

    def __init__(self, gid: int, space: Space) -> None:
        self.id = gid
        self.space = space
        self.dims: list[_Dim] = []
        self.model: list[int] = []          # dims that are not fixed (modelled jointly)
        self.tids = np.empty(0, dtype=np.intp)
        self.rows = np.empty((0, 0))
        self.n = 0

    def add(self, tid: int, row: np.ndarray) -> None:
        if self.n == len(self.tids):
            cap = max(16, 2 * self.n)
            tids = np.empty(cap, dtype=np.intp)
            rows = np.empty((cap, len(self.dims)))
            tids[: self.n] = self.tids[: self.n]
            rows[: self.n] = self.rows[: self.n]
            self.tids, self.rows = tids, rows
        self.tids[self.n] = tid
        self.rows[self.n] = row
        self.n += 1


class TPE(Algorithm, type_name="symbo.algorithms.TPE"):
    """Tree-structured Parzen estimator over the decision tree (conditional spaces modelled).

    ``num_startup`` completed trials are proposed at random first. ``gamma`` and
    ``max_good`` set the number of good trials, ``min(ceil(gamma * n), max_good)`` of ``n``
    (Optuna's default). ``num_candidates`` points are drawn from the good density per
    decision (per group with ``multivariate``). ``prior_weight`` weighs the prior component;
    ``consider_endpoints`` lets the kernels at the ends of a range widen to the ends.
    ``constant_liar`` counts proposals without feedback as bad trials. ``dedup`` redraws
    proposals equal to earlier ones (turn it off for noisy objectives you want re-measured).

    >>> import symbo as sb
    >>> from symbo.algorithms.tpe import TPE
    >>> algo = TPE(num_startup=5, seed=1)
    >>> algo.setup(sb.dna_spec(sb.Dict(x=sb.float_range(0.0, 1.0))))
    >>> for _ in range(30):
    ...     dna = algo.propose()
    ...     algo.feedback(dna, -abs(dna.to_numbers()[0] - 0.25))
    >>> best = max(algo.history, key=lambda h: h[1])[0]
    >>> abs(best.to_numbers()[0] - 0.25) < 0.02
    True
    """

    proposes_valid_dna = True

    # settings are checked as fields: at construction and rebind (SymbolicValueError)
    num_startup: int = field(10, check=lambda v: v >= 0, message="num_startup must be >= 0")
    num_candidates: int = field(24, check=lambda v: v >= 1,
                                message="num_candidates must be >= 1")
    gamma: float = field(0.1, check=lambda v: 0 < v <= 1, message="gamma must be in (0, 1]")
    prior_weight: float = field(1.0, check=lambda v: v >= 0,
                                message="prior_weight must be >= 0")
    multivariate: bool = False
    consider_endpoints: bool = False
    constant_liar: bool = True
    seed: int | None = None
    max_good: int = field(25, check=lambda v: v >= 1, message="max_good must be >= 1")
    dedup: bool = True

    def _setup(self, spec: DNASpec) -> None:
        self._rng = make_rng(self.seed)
        self._groups: list[_Group] = []
        self._root = self._build(spec.space)
        self._reset()

    def _build(self, space: Space) -> _Group:
        group = _Group(len(self._groups), space)
        self._groups.append(group)
        for d in space.decisions:
            if isinstance(d, Choice):
                first = len(group.dims)
                for position in range(d.num_choices):
                    children = tuple(self._build(c.space) if c.space.decisions else None
                                     for c in d.candidates)
                    group.dims.append(_Dim(d, position, first, children))
            else:
                group.dims.append(_Dim(d))
        group.model = [i for i, dim in enumerate(group.dims) if dim.fixed is None]
        group.rows = np.empty((0, len(group.dims)))
        return group

    def _reset(self) -> None:
        for group in self._groups:
            group.tids = np.empty(0, dtype=np.intp)
            group.rows = np.empty((0, len(group.dims)))
            group.n = 0
        self._scores = np.empty(0)
        self._num_completed = 0
        self._pending: list[tuple[DNA, dict[int, np.ndarray]]] = []
        self._seen: set[DNA] = set()

    # ---- the algorithm interface ---------------------------------------------------------------
    def _propose(self) -> DNA:
        if self._num_completed < max(self.num_startup, 1):
            dna = random_dna(self.spec, self._rng)
        else:
            rng = np.random.default_rng(self._rng.getrandbits(64))
            good = self._good_mask()
            dna = DNA(None, self._sample_group(self._root, rng, good), self.spec)
            for _ in range(_DEDUP_TRIES if self.dedup else 0):
                if dna not in self._seen:
                    break
                dna = DNA(None, self._sample_group(self._root, rng, good), self.spec)
        if self.dedup and dna in self._seen:
            for _ in range(_DEDUP_TRIES):
                dna = random_dna(self.spec, self._rng)
                if dna not in self._seen:
                    break
        self._seen.add(dna)
        if self.constant_liar:
            self._pending.append((dna, self._rows_of(dna)))
        return dna

    def _feedback(self, dna: DNA, reward: Reward) -> None:
        rows = self._rows_of(dna)            # first: a DNA of another space changes nothing
        self._seen.add(dna)
        self._drop_pending(dna)
        value = scalar(reward)
        if math.isnan(value):
            return
        tid = self._num_completed
        if tid == len(self._scores):
            scores = np.empty(max(16, 2 * tid))
            scores[:tid] = self._scores
            self._scores = scores
        self._scores[tid] = value
        self._num_completed += 1
        for gid, row in rows.items():
            self._groups[gid].add(tid, row)

    def _on_failure(self, dna: DNA, error: str) -> None:
        self._drop_pending(dna)

    def _restore_proposed(self, dna: DNA) -> None:
        """A stored trial's DNA: a pending proposal (constant liar) until its result comes."""
        if self.constant_liar:
            self._pending.append((dna, self._rows_of(dna)))

    def observations(self, key: str) -> np.ndarray:
        """The values of decision ``key`` (name or id) in the completed trials where it was
        active, which its estimators are fitted on (candidate indices for choices).

        >>> import symbo as sb
        >>> from symbo.algorithms.tpe import TPE
        >>> algo = TPE(seed=0)
        >>> algo.setup(sb.dna_spec(sb.Dict(a=sb.one_of([1, sb.Dict(b=sb.int_range(0, 3))]))))
        >>> algo.feedback(sb.DNA(None, (sb.DNA(1, (sb.DNA(2),)),)), 1.0)
        >>> algo.feedback(sb.DNA(None, (sb.DNA(0),)), 0.0)
        >>> algo.observations("a").tolist(), algo.observations("a[=1].b").tolist()
        ([1, 0], [2])
        """
        decision = self.spec[key]
        parts = []
        for group in self._groups:
            for d, dim in enumerate(group.dims):
                if dim.decision is decision:
                    column = group.rows[: group.n, d]
                    if dim.kind != _CHOICE:
                        column = dim.values(column)
                    parts.append(column if dim.kind == _FLOAT else column.astype(int))
        return np.concatenate(parts) if parts else np.empty(0)

    # ---- bookkeeping ---------------------------------------------------------------------------
    def _rows_of(self, dna: DNA) -> dict[int, np.ndarray]:
        """The row of every group active in ``dna``: unit values and candidate indices."""
        out: dict[int, np.ndarray] = {}
        self._collect(self._root, dna.children, out)
        return out

    def _collect(self, group: _Group, children: tuple[DNA, ...],
                 out: dict[int, np.ndarray]) -> None:
        row = np.empty(len(group.dims))
        k = 0
        for decision, child in zip(group.space.decisions, children, strict=True):
            if isinstance(decision, Choice):
                picks = child.children if decision.num_choices > 1 else (child,)
                for pick in picks:
                    i: int = pick.value  # type: ignore[assignment]
                    row[k] = i
                    sub = group.dims[k].children[i]
                    if sub is not None:
                        self._collect(sub, pick.children, out)
                    k += 1
            else:
                row[k] = group.dims[k].unit(child.value)  # type: ignore[arg-type]
                k += 1
        out[group.id] = row

    def _drop_pending(self, dna: DNA) -> None:
        for i, (pending, _) in enumerate(self._pending):
            if pending == dna:
                del self._pending[i]
                return

    def _good_mask(self) -> np.ndarray:
        n = self._num_completed
        num_good = min(math.ceil(self.gamma * n), self.max_good, n)
        order = np.argsort(-self._scores[:n], kind="stable")
        good = np.zeros(n, dtype=bool)
        good[order[:num_good]] = True
        return good

    def _split(self, group: _Group, good_mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The group's rows in good trials, and in bad trials (then pending ones, as liars)."""
        rows = group.rows[: group.n]
        good = good_mask[group.tids[: group.n]]
        bad_rows = rows[~good]
        if self._pending:
            lies = [r[group.id] for _, r in self._pending if group.id in r]
            if lies:
                bad_rows = np.vstack([bad_rows, np.array(lies)])
        return rows[good], bad_rows

    # ---- sampling ------------------------------------------------------------------------------
    def _estimators(self, good: np.ndarray, bad: np.ndarray,
                    dims: list[Dim]) -> tuple[ParzenEstimator, ParzenEstimator]:
        options = dict(prior_weight=self.prior_weight, multivariate=self.multivariate,
                       consider_endpoints=self.consider_endpoints)
        return ParzenEstimator(good, dims, **options), ParzenEstimator(bad, dims, **options)

    def _sample_group(self, group: _Group, rng: np.random.Generator,
                      good_mask: np.ndarray) -> tuple[DNA, ...]:
        if not group.dims:
            return ()
        values: list[Any] = [dim.fixed for dim in group.dims]
        model = group.model
        if model:
            good, bad = self._split(group, good_mask)
            dims = [group.dims[d] for d in model]
            l_est, g_est = self._estimators(good[:, model], bad[:, model],
                                            [dim.pdim for dim in dims])
            if self.multivariate:
                self._joint(group, dims, l_est, g_est, rng, values)
            else:
                self._independent(group, dims, l_est, g_est, rng, values)
        return self._assemble(group, values, rng, good_mask)

    def _joint(self, group: _Group, dims: list[_Dim], l_est: ParzenEstimator,
               g_est: ParzenEstimator, rng: np.random.Generator, values: list[Any]) -> None:
        """Draws candidate vectors from the good density; keeps the best by l(x) / g(x)."""
        where = {d: i for i, d in enumerate(group.model)}

        def mask(i: int, sampled: list[Any]) -> np.ndarray | None:
            dim = dims[i]
            return dim.allowed([sampled[where[dim.first + j]] for j in range(dim.position)])

        samples = l_est.sample(rng, self.num_candidates, mask)
        decoded = [dim.decode(s) for dim, s in zip(dims, samples, strict=True)]
        points = [p for _, p in decoded]
        best = int(np.argmax(l_est.log_pdf(points) - g_est.log_pdf(points)))
        for d, (vals, _) in zip(group.model, decoded, strict=True):
            values[d] = vals[best]

    def _independent(self, group: _Group, dims: list[_Dim], l_est: ParzenEstimator,
                     g_est: ParzenEstimator, rng: np.random.Generator, values: list[Any]) -> None:
        """Per decision: draws from its good density, keeps the best by l(x) / g(x). The
        positions of a many_of go one after another, masked by the earlier picks."""
        m = self.num_candidates
        free = [i for i, dim in enumerate(dims) if not dim.is_position]
        if free:
            samples = l_est.sample(rng, m, dims=free)
            decoded = {i: dims[i].decode(samples[i]) for i in free}
            points: list[Any] = [None] * len(dims)
            for i in free:
                points[i] = decoded[i][1]
            scores = l_est.log_marginals(points, free) - g_est.log_marginals(points, free)
            for i, best in zip(free, scores.argmax(axis=1), strict=True):
                values[group.model[i]] = decoded[i][0][best]
        for i, dim in enumerate(dims):
            if not dim.is_position:
                continue
            allowed = dim.allowed([np.array([values[dim.first + j]])
                                   for j in range(dim.position)])
            samples = l_est.sample(rng, m, None if allowed is None else (lambda d, s, a=allowed: a),
                                   dims=[i])
            points = [None] * len(dims)
            points[i] = samples[i]
            score = l_est.log_marginals(points, [i]) - g_est.log_marginals(points, [i])
            values[group.model[i]] = samples[i][int(np.argmax(score[0]))]

    def _assemble(self, group: _Group, values: list[Any], rng: np.random.Generator,
                  good_mask: np.ndarray) -> tuple[DNA, ...]:
        out: list[DNA] = []
        k = 0
        for decision in group.space.decisions:
            if isinstance(decision, Choice):
                picks = []
                for _ in range(decision.num_choices):
                    i = int(values[k])
                    sub = group.dims[k].children[i]
                    children = self._sample_group(sub, rng, good_mask) if sub is not None else ()
                    picks.append(DNA(i, children))
                    k += 1
                out.append(picks[0] if decision.num_choices == 1 else DNA(None, tuple(picks)))
            else:
                out.append(DNA(group.dims[k].python(values[k])))
                k += 1
        return tuple(out)
