"""Studies: the record of a search (its trials, their rewards and reports) and queries on it.

>>> import symbo as sb
>>> study = sb.tune(lambda p: -(p.x - 3) ** 2, sb.Dict(x=sb.int_range(0, 6)),
...                 sb.algorithms.Grid(), num_trials=7)
>>> study.best_trial.program.x, study.best_trial.reward, len(study.trials)
(3, 0.0, 7)
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from typing import Any

import attrs

from symbo.algorithms.base import Reward, dominates
from symbo.core import SymbolicValueError
from symbo.dsl import DNA, DNASpec

STATUSES = ("pending", "running", "completed", "failed", "stopped")


@attrs.define(eq=False)
class Trial:
    """One evaluation of one point of the space.

    ``reward`` is the objective's value as the user gave it (a float, or a tuple with several
    objectives); ``reports`` are intermediate ``(step, value)`` measurements.
    """

    id: int
    dna: DNA
    program: Any = None
    status: str = "pending"
    reward: Reward | None = None
    error: str | None = None
    reports: list[tuple[int, float]] = attrs.Factory(list)
    started_at: float | None = None
    finished_at: float | None = None
    worker: str | None = None
    metadata: dict[str, Any] = attrs.Factory(dict)

    @property
    def duration(self) -> float | None:
        """Seconds from start to finish (None while it runs)."""
        if self.started_at is None or self.finished_at is None:
            return None
        return self.finished_at - self.started_at

    @property
    def is_finished(self) -> bool:
        return self.status in ("completed", "failed", "stopped")

    @property
    def last_report(self) -> tuple[int, float] | None:
        return self.reports[-1] if self.reports else None

    def __repr__(self) -> str:
        reward = "" if self.reward is None else f", reward={self.reward!r}"
        error = "" if self.error is None else f", error={self.error.splitlines()[-1][:60]!r}"
        return f"Trial(id={self.id}, status={self.status!r}{reward}{error}, dna={self.dna!r})"


class Study:
    """The trials of a search over one space, with one set of objectives.

    ``objectives`` gives each objective's direction, ``"max"`` or ``"min"``. A trial's reward
    is kept as given; ``signed(reward)`` is the "higher is better" form algorithms see.
    """

    def __init__(self, name: str, space: Any, spec: DNASpec, algorithm: Any = None,
                 objectives: tuple[str, ...] = ("max",)) -> None:
        objectives = tuple(objectives)
        if not objectives or any(o not in ("max", "min") for o in objectives):
            raise SymbolicValueError(f"objectives must be 'max' or 'min' each, got {objectives!r}")
        self.name = name
        self.space = space
        self.spec = spec
        self.algorithm = algorithm
        self.objectives = objectives
        self._trials: list[Trial] = []
        self.created_at = time.time()

    # ---- recording (used by the search loop) ---------------------------------------------
    def new_trial(self, dna: DNA, program: Any) -> Trial:
        trial = Trial(id=len(self._trials), dna=dna, program=program, status="running",
                      started_at=time.time())
        self._trials.append(trial)
        return trial

    def finish(self, trial: Trial, status: str, reward: Reward | None = None,
               error: str | None = None) -> None:
        if status not in STATUSES:
            raise SymbolicValueError(f"unknown trial status {status!r}")
        trial.status = status
        trial.reward = reward
        trial.error = error
        trial.finished_at = time.time()

    def report(self, trial: Trial, step: int, value: float) -> None:
        trial.reports.append((step, value))

    # ---- queries -------------------------------------------------------------------------
    @property
    def trials(self) -> list[Trial]:
        """All trials, in the order they started."""
        return list(self._trials)

    def __len__(self) -> int:
        return len(self._trials)

    def __iter__(self) -> Iterator[Trial]:
        return iter(list(self._trials))

    @property
    def is_multi_objective(self) -> bool:
        return len(self.objectives) > 1

    def signed(self, reward: Reward) -> Reward:
        """The reward as "higher is better" (minimized objectives negated)."""
        if isinstance(reward, tuple):
            return tuple(v if o == "max" else -v for v, o in zip(reward, self.objectives))
        return reward if self.objectives[0] == "max" else -reward

    def completed(self) -> list[Trial]:
        return [t for t in self._trials if t.status == "completed"]

    @property
    def best_trial(self) -> Trial | None:
        """The completed trial with the best reward (single objective); None before any."""
        if self.is_multi_objective:
            raise SymbolicValueError(
                "a study with several objectives has no single best trial; use pareto_front"
            )
        done = self.completed()
        if not done:
            return None
        return max(done, key=lambda t: self.signed(t.reward))  # type: ignore[arg-type]

    @property
    def pareto_front(self) -> list[Trial]:
        """The completed trials that no other completed trial dominates."""
        done = self.completed()
        signed = [self.signed(t.reward) for t in done]  # type: ignore[arg-type]
        return [t for i, t in enumerate(done)
                if not any(dominates(signed[j], signed[i]) for j in range(len(done)) if j != i)]

    @property
    def history(self) -> list[tuple[int, Reward | None, Reward | None]]:
        """(trial id, reward, best reward so far) for every finished trial, in order."""
        out: list[tuple[int, Reward | None, Reward | None]] = []
        best: Reward | None = None
        for t in self._trials:
            if not t.is_finished:
                continue
            if t.status == "completed" and not self.is_multi_objective:
                if best is None or self.signed(t.reward) > self.signed(best):  # type: ignore[arg-type,operator]
                    best = t.reward
            out.append((t.id, t.reward, best))
        return out

    def summary(self) -> dict[str, Any]:
        counts = {s: 0 for s in STATUSES}
        for t in self._trials:
            counts[t.status] += 1
        return {"name": self.name, "trials": len(self._trials), **counts}

    def __repr__(self) -> str:
        s = self.summary()
        best = ""
        if not self.is_multi_objective and self.best_trial is not None:
            best = f", best={self.best_trial.reward!r}"
        return (f"Study({self.name!r}, {s['trials']} trials: {s['completed']} completed, "
                f"{s['failed']} failed, {s['stopped']} stopped{best})")


def check_reward(value: Any, num_objectives: int) -> tuple[Reward | None, str | None]:
    """Validates an objective's value: returns (reward, None) or (None, error message)."""
    values = value if isinstance(value, (tuple, list)) else (value,)
    if len(values) != num_objectives:
        return None, (f"expected {num_objectives} objective value(s), got {len(values)}: "
                      f"{value!r:.80}")
    out = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            # numpy and torch scalars convert through float()
            try:
                if isinstance(v, bool) or not hasattr(v, "__float__"):
                    raise TypeError
                v = float(v)
            except (TypeError, ValueError):
                return None, f"the objective returned {type(v).__name__} {v!r:.60}; expected a number"
        v = float(v)
        if not math.isfinite(v):
            return None, f"the objective returned {v}; rewards must be finite"
        out.append(v)
    return (tuple(out) if num_objectives > 1 else out[0]), None
