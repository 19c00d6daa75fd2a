"""Executors: what runs the trials the search loop hands out (see :mod:`.base` for the
interface).

* :class:`InlineExecutor`: one trial at a time in this process (``workers=1``, the default);
* :class:`ProcessExecutor`: worker processes on this machine (``workers=N``, or ``timeout=``);
* :class:`RayExecutor`: Ray tasks on a local instance or a cluster (``backend="ray"``).

``sb.tune(..., backend=...)`` takes a name of :data:`BACKENDS` or an :class:`Executor`.

>>> executor_for("local", workers=1, timeout=None)
InlineExecutor()
>>> executor_for("local", workers=3, timeout=None)
ProcessExecutor(workers=3, timeout=None)
"""

from __future__ import annotations

from collections.abc import Callable

from symbo.backends.executors.base import (
    Executor,
    Outcome,
    Task,
    TrialFeedback,
    WorkerFeedback,
    call_objective,
    format_error,
    takes_feedback,
)
from symbo.backends.executors.inline import InlineExecutor
from symbo.backends.executors.processes import ProcessExecutor
from symbo.core import SymbolicValueError


def _local(workers: int, timeout: float | None) -> Executor:
    if workers == 1 and timeout is None:
        return InlineExecutor()
    return ProcessExecutor(workers, timeout)  # a timeout needs a process to kill


def _ray(workers: int, timeout: float | None) -> Executor:
    from symbo.backends.executors.ray_tasks import RayExecutor

    return RayExecutor(workers, timeout)


#: backend name -> a function of (workers, timeout) making its executor
BACKENDS: dict[str, Callable[[int, float | None], Executor]] = {"local": _local, "ray": _ray}


def executor_for(backend: str | Executor, *, workers: int, timeout: float | None) -> Executor:
    """The executor of a backend name (see :data:`BACKENDS`); an Executor is returned as is."""
    if isinstance(backend, Executor):
        return backend
    if workers < 1:
        raise SymbolicValueError(f"workers must be >= 1, got {workers}")
    if timeout is not None and not timeout > 0:
        raise SymbolicValueError(f"timeout must be a number of seconds > 0, got {timeout!r}")
    factory = BACKENDS.get(backend) if isinstance(backend, str) else None
    if factory is None:
        raise SymbolicValueError(f"backend must be one of {', '.join(map(repr, BACKENDS))} or an "
                                 f"Executor, got {backend!r}")
    return factory(workers, timeout)


__all__ = [
    "BACKENDS", "Executor", "InlineExecutor", "Outcome", "ProcessExecutor", "Task",
    "TrialFeedback", "WorkerFeedback", "call_objective", "executor_for", "format_error",
    "takes_feedback",
]
