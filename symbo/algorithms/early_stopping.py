"""Early-stopping policies: stop unpromising trials from their intermediate reports.

A policy is used with any algorithm: the program reports ``feedback.report(step, value)`` and
asks ``feedback.should_stop()``; the loop consults the policy with the trial and all trials.
Policies see only trial records (``id``, ``status``, ``reports``), never programs.

>>> import symbo as sb
>>> def objective(program, feedback):
...     for epoch in range(1, 10):
...         feedback.report(epoch, program.quality * epoch)
...         if feedback.should_stop():
...             return None   # the last report becomes the (stopped) trial's reward
...     return program.quality * 9
>>> study = sb.tune(objective, sb.Dict(quality=sb.float_range(0.0, 1.0)),
...                 sb.algorithms.Random(seed=0), num_trials=30,
...                 early_stopping=sb.algorithms.MedianStopping(min_trials=3))
>>> 0 < sum(t.status == "stopped" for t in study.trials) < 30
True
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from typing import Any

from symbo.core import Object, SymbolicValueError


class EarlyStoppingPolicy(Object):
    """Base of early-stopping policies: ``should_stop(trial, trials) -> bool``.

    ``setup(direction)`` is called by the loop with the objective's direction
    (``"max"`` or ``"min"``); policies compare values as "higher is better" internally.
    """

    def setup(self, direction: str) -> None:
        if direction not in ("max", "min"):
            raise SymbolicValueError(f"direction must be 'max' or 'min', got {direction!r}")
        self._sign = 1.0 if direction == "max" else -1.0
        self._decided: dict[tuple[int, int], bool] = {}

    def _signed(self, value: float) -> float:
        return getattr(self, "_sign", 1.0) * value

    def should_stop(self, trial: Any, trials: Sequence[Any]) -> bool:
        raise NotImplementedError


def _best_until(reports: Sequence[tuple[int, float]], step: int, sign: float) -> float | None:
    values = [sign * v for s, v in reports if s <= step]
    return max(values) if values else None


class MedianStopping(EarlyStoppingPolicy, type_name="symbo.algorithms.MedianStopping"):
    """The median stopping rule (Golovin et al., Google Vizier).

    A trial is stopped at step ``s`` when its best value up to ``s`` is worse than the median
    (``percentile=50``) of the best values up to ``s`` of the finished trials that reported by
    ``s`` — once at least ``min_trials`` such trials exist and ``s >= warmup_steps``.
    """

    min_trials: int = 5
    warmup_steps: int = 0
    percentile: float = 50.0

    def _on_bound(self) -> None:
        if self.min_trials < 1:
            raise SymbolicValueError(f"min_trials must be >= 1, got {self.min_trials}")
        if not 0.0 < self.percentile < 100.0:
            raise SymbolicValueError(f"percentile must be in (0, 100), got {self.percentile}")

    def should_stop(self, trial: Any, trials: Sequence[Any]) -> bool:
        if not trial.reports:
            return False
        step = trial.reports[-1][0]
        if step < self.warmup_steps:
            return False
        sign = getattr(self, "_sign", 1.0)
        mine = _best_until(trial.reports, step, sign)
        others = []
        for t in trials:
            if t.id == trial.id or t.status not in ("completed", "stopped") or not t.reports:
                continue
            value = _best_until(t.reports, step, sign)
            if value is not None:
                others.append(value)
        if len(others) < self.min_trials or mine is None:
            return False
        threshold = _percentile(others, self.percentile)
        return mine < threshold


def _percentile(values: list[float], q: float) -> float:
    if q == 50.0:
        return statistics.median(values)
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


class ASHA(EarlyStoppingPolicy, type_name="symbo.algorithms.ASHA"):
    """Asynchronous successive halving (Li et al., 2020).

    Rungs sit at steps ``min_resource * reduction_factor ** (k + min_early_stopping_rate)``.
    When a trial first reports at or past a rung, its value there is compared with every value
    recorded at that rung so far: it goes on only if it is in the top ``1 / reduction_factor``
    of them (with fewer than ``reduction_factor`` values, only the best goes on). Nothing waits
    for a rung to fill. Trials at or past ``max_resource`` are never stopped.
    """

    min_resource: int = 1
    reduction_factor: int = 3
    min_early_stopping_rate: int = 0
    max_resource: int | None = None

    def _on_bound(self) -> None:
        if self.min_resource < 1 or self.reduction_factor < 2:
            raise SymbolicValueError("ASHA needs min_resource >= 1 and reduction_factor >= 2")

    def rung_steps(self, up_to: int) -> list[int]:
        """The rung budgets not larger than ``up_to``."""
        out = []
        k = self.min_early_stopping_rate
        while True:
            r = self.min_resource * self.reduction_factor ** k
            if r > up_to:
                return out
            out.append(r)
            k += 1

    def should_stop(self, trial: Any, trials: Sequence[Any]) -> bool:
        if not trial.reports:
            return False
        step = trial.reports[-1][0]
        if self.max_resource is not None and step >= self.max_resource:
            return False
        rungs = self.rung_steps(step)
        if not rungs:
            return False
        decided = getattr(self, "_decided", None)
        if decided is None:
            decided = self._decided = {}
        for rung, budget in enumerate(rungs):
            key = (trial.id, rung)
            if key in decided:
                if not decided[key]:
                    return True
                continue
            mine = _value_at(trial.reports, budget)
            competing = [v for v in (_value_at(t.reports, budget) for t in trials if t.reports)
                         if v is not None]
            promote = _promotable(self._signed(mine), [self._signed(v) for v in competing],
                                  self.reduction_factor)
            decided[key] = promote
            if not promote:
                return True
        return False


def _value_at(reports: Sequence[tuple[int, float]], budget: int) -> float | None:
    """The value of the first report at or past ``budget``."""
    for s, v in reports:
        if s >= budget:
            return v
    return None


def _promotable(value: float | None, competing: list[float], eta: int) -> bool:
    if value is None:
        return True
    ordered = sorted(competing, reverse=True)
    k = max(len(ordered) // eta, 1)
    return value >= ordered[k - 1]
