"""The trial a one-argument objective gets: Optuna's ``trial``, mapped onto symbo's markers.

An objective written for Optuna runs under ``sb.tune`` (or ``study.optimize``) with no other
change than its imports::

    def objective(trial):
        x = trial.suggest_float("x", -10, 10)
        n = trial.suggest_int("n", 1, 4)
        kind = trial.suggest_categorical("kind", ["a", "b"])
        for step in range(3):
            trial.report(x * step, step)
            if trial.should_prune():
                raise sb.TrialPruned()
        return (x - 2) ** 2 + n

Each ``suggest_*`` is the named marker of the same meaning, decided as the run meets it (the
algorithm proposes the decisions it knows; one met for the first time joins the study's
space and is decided at once):

=====================================================  =======================================
``suggest_float(name, low, high)``                     ``sb.float_range(low, high, name=name)``
``suggest_float(name, low, high, log=True)``           ``... scale="log"``
``suggest_float(name, low, high, step=s)``             ``sb.one_of([low, low + s, ...])``
``suggest_int(name, low, high, step=1, log=False)``    ``sb.int_range(low, high, ...)`` (a
                                                       ``one_of`` of the values when ``step>1``)
``suggest_categorical(name, choices)``                 ``sb.one_of(choices, name=name)``
``low == high``                                        a ``one_of`` of that one value
=====================================================  =======================================

``report(value, step)`` (Optuna's order), ``should_prune()`` and ``raise sb.TrialPruned()``
(recorded as a stopped trial, with its last report as its value; ``optuna.TrialPruned`` is
understood too) use the study's early-stopping policy. ``params`` are the decisions so far,
``number`` the trial's number, ``set_user_attr`` stores a JSON value with the trial.
"""

from __future__ import annotations

import json
import math
import numbers
from collections.abc import Sequence
from typing import Any

from symbo.core import SymbolicValueError
from symbo.dsl.markers import FloatRange, IntRange, OneOf
from symbo.dsl.trace_run import fingerprint

MAX_STEPS = 10_000  # values of a stepped range (it becomes a one_of of them)


class TrialPruned(Exception):  # noqa: N818 - Optuna's name, so objectives move unchanged
    """Raise it in an objective to stop the trial early: it is recorded as ``stopped``, with
    its last reported value, and the algorithm is told that value (as Optuna's)."""


def is_pruned(error: BaseException) -> bool:
    """Whether an exception is symbo's or Optuna's ``TrialPruned``."""
    if isinstance(error, TrialPruned):
        return True
    cls = type(error)
    return cls.__name__ == "TrialPruned" and cls.__module__.split(".")[0] == "optuna"


class LiveTrial:
    """A running trial as an objective sees it (see the module docstring).

    >>> import symbo as sb
    >>> def objective(trial):
    ...     x = trial.suggest_float("x", -3.0, 3.0)
    ...     return -x * x
    >>> study = sb.tune(objective, algorithm=sb.algorithms.Random(seed=0), num_trials=5)
    >>> sorted(study.trials[0].params)
    ['x']
    """

    def __init__(self, program: Any, feedback: Any) -> None:
        self._program = program
        self._feedback = feedback
        self._context = program.context

    # ---- what Optuna's trial has -------------------------------------------------------------
    @property
    def number(self) -> int:
        """The trial's number in its study (0, 1, ...)."""
        return int(self._feedback.trial_id)

    @property
    def params(self) -> dict[str, Any]:
        """The decisions met so far, ``{name: value}``."""
        return self._program.params

    @property
    def user_attrs(self) -> dict[str, Any]:
        return dict(self._program.user_attrs)

    def set_user_attr(self, key: str, value: Any) -> None:
        """Stores ``value`` (JSON-compatible) with the trial under ``key``."""
        if not isinstance(key, str):
            raise SymbolicValueError(f"set_user_attr: the key must be a str, got {key!r}")
        try:
            json.dumps(value, allow_nan=False)
        except (TypeError, ValueError) as e:
            raise SymbolicValueError(f"set_user_attr({key!r}): the value must be JSON data "
                                     f"(numbers, strings, lists, dicts), got {value!r:.60} ({e})"
                                     ) from None
        self._program.user_attrs[key] = value

    def suggest_float(self, name: str, low: float, high: float, *, step: float | None = None,
                      log: bool = False) -> float:
        """A float in ``[low, high]`` (``log``: on a log scale; ``step``: on a grid)."""
        low, high = _number(name, "low", low), _number(name, "high", high)
        _check_bounds("suggest_float", name, low, high, log, positive=0.0)
        if step is not None:
            step = _number(name, "step", step)
            if log:
                raise SymbolicValueError(f"suggest_float({name!r}): step and log=True cannot "
                                         "be used together")
            if not step > 0:
                raise SymbolicValueError(f"suggest_float({name!r}): step must be > 0, got {step}")
            count = int(math.floor((high - low) / step + 1e-9)) + 1
            values = [float(round(low + i * step, 12)) for i in range(_steps(name, count))]
            return float(self._decide(_marker(OneOf, candidates=values, name=_name(name))))
        if low == high:
            return float(self._decide(_marker(OneOf, candidates=[float(low)], name=_name(name))))
        return float(self._decide(_marker(FloatRange, low=float(low), high=float(high),
                                             scale="log" if log else "linear", name=_name(name))))

    def suggest_int(self, name: str, low: int, high: int, *, step: int = 1, log: bool = False) -> int:
        """An int in ``[low, high]`` (both included; ``log``: on a log scale; ``step``: every
        ``step``-th value from ``low``)."""
        low, high = _integer(name, "low", low), _integer(name, "high", high)
        _check_bounds("suggest_int", name, low, high, log, positive=1)
        step = _integer(name, "step", step)
        if step < 1:
            raise SymbolicValueError(f"suggest_int({name!r}): step must be >= 1, got {step}")
        if step > 1 and log:
            raise SymbolicValueError(f"suggest_int({name!r}): step > 1 and log=True cannot be "
                                     "used together")
        values = range(low, high + 1, step)
        if len(values) == 1 or step > 1:
            _steps(name, len(values))
            return int(self._decide(_marker(OneOf, candidates=list(values), name=_name(name))))
        return int(self._decide(_marker(IntRange, low=low, high=high, scale="log" if log else "linear",
                                         name=_name(name))))

    def suggest_categorical(self, name: str, choices: Sequence[Any]) -> Any:
        """One of ``choices``."""
        if isinstance(choices, (str, bytes)) or not isinstance(choices, Sequence):
            raise SymbolicValueError(f"suggest_categorical({name!r}): choices must be a list or "
                                     f"tuple, got {type(choices).__name__}")
        if len(choices) == 0:
            raise SymbolicValueError(f"suggest_categorical({name!r}): choices must not be empty")
        return self._decide(_marker(OneOf, candidates=list(choices), name=_name(name)))

    # Optuna's older names (deprecated there, still found in objectives)
    def suggest_uniform(self, name: str, low: float, high: float) -> float:
        return self.suggest_float(name, low, high)

    def suggest_loguniform(self, name: str, low: float, high: float) -> float:
        return self.suggest_float(name, low, high, log=True)

    def suggest_discrete_uniform(self, name: str, low: float, high: float, q: float) -> float:
        return self.suggest_float(name, low, high, step=q)

    def report(self, value: float, step: int) -> None:
        """Records an intermediate ``value`` at ``step`` (Optuna's argument order)."""
        if isinstance(step, bool) or not isinstance(step, numbers.Integral):
            raise SymbolicValueError(f"trial {self.number}: report(value, step): step must be an "
                                     f"int, got {step!r}")
        self._feedback.report(int(step), value)

    def should_prune(self) -> bool:
        """Whether the study's early-stopping policy says to stop this trial now."""
        return bool(self._feedback.should_stop())

    def __repr__(self) -> str:
        return f"LiveTrial(number={self.number}, params={self.params!r})"

    # ---- markers ------------------------------------------------------------------------------
    def _decide(self, marker: Any) -> Any:
        """The value of a marker met now, from the context of this trial's run (not the
        calling thread's, so objectives may suggest from threads of their own)."""
        return self._context.decide(marker)


_MARKERS: dict[tuple, Any] = {}


def _marker(cls: type, **fields: Any) -> Any:
    """The marker of these fields; made once per process for plain fields (a trial makes the
    same few markers over and over)."""
    key: list[Any] = [cls]
    for k, v in sorted(fields.items()):
        if isinstance(v, list):
            if not all(type(c) in (int, float, str, bool) or c is None for c in v):
                return cls(**fields)
            key.append((k, tuple((type(c), c) for c in v)))
        else:
            key.append((k, type(v), v))
    marker = _MARKERS.get(tuple(key))
    if marker is None:
        if len(_MARKERS) > 4096:
            _MARKERS.clear()
        marker = _MARKERS[tuple(key)] = cls(**fields)
        marker._fingerprint = fingerprint(marker)  # never changed: computed once
    return marker


def _name(name: Any) -> str:
    if not isinstance(name, str) or not name:
        raise SymbolicValueError(f"a suggested parameter needs a name (a non-empty str), got "
                                 f"{name!r}")
    return name


def _number(name: str, what: str, value: Any) -> float:
    if type(value) is float and math.isfinite(value) or type(value) is int:
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise SymbolicValueError(f"suggest_float({name!r}): {what} must be a finite number, got "
                                 f"{value!r}")
    return float(value) if not isinstance(value, numbers.Integral) else value  # type: ignore[return-value]


def _integer(name: str, what: str, value: Any) -> int:
    if type(value) is int:
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise SymbolicValueError(f"suggest_int({name!r}): {what} must be an int, got {value!r}")
    return int(value)


def _check_bounds(method: str, name: str, low: float, high: float, log: bool,
                  positive: float) -> None:
    if low > high:
        raise SymbolicValueError(f"{method}({name!r}): low must be <= high, got low={low}, "
                                 f"high={high}")
    if log and (low < positive if positive else low <= 0):
        need = f">= {positive}" if positive else "> 0"
        raise SymbolicValueError(f"{method}({name!r}): log=True needs low {need}, got low={low}")


def _steps(name: str, count: int) -> int:
    if count > MAX_STEPS:
        raise SymbolicValueError(f"suggest({name!r}): {count} values on the step grid; at most "
                                 f"{MAX_STEPS} (use a larger step, or no step)")
    return count
