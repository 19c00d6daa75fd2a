"""The executor interface: how the search loop hands trials to whatever runs them.

The loop (the coordinator) keeps the algorithm, the early-stopping policy and the study. For
each new trial it makes a :class:`TrialFeedback` (the coordinator's side of the trial: it
records reports and the result in the study) and gives it to an executor, which runs the
objective somewhere (this process, a worker process, a Ray task) and sends what the objective
did back to that feedback:

* reports, while the trial runs: ``feedback.report(step, value)`` then
  ``feedback.should_stop()`` (the answer goes back to the objective);
* how it ended, once: an :class:`Outcome`, applied by :meth:`Outcome.settle` (the one place
  where a return value, ``done``/``stop``/``skip``/``fail`` and an exception become a
  completed, stopped or failed trial).

An executor implements five methods (the loop calls them in this order)::

    executor.start(task)              # once: the objective and the space to materialize
    while ...:
        if executor.running < executor.capacity:
            executor.submit(feedback) # a new trial
        for feedback in executor.wait(timeout):   # trials that ended during the call
            ...
    executor.close()                  # always; trials still running fail as interrupted

A toy executor that runs trials one at a time, right here, is the whole interface:

>>> import symbo as sb
>>> from symbo.backends.executors import Executor, call_objective
>>> class Here(Executor):
...     capacity = 1
...     def start(self, task): self.task, self.queue = task, []
...     @property
...     def running(self): return len(self.queue)
...     def submit(self, feedback): self.queue.append(feedback)
...     def wait(self, timeout=None):
...         done, self.queue = self.queue, []
...         for fb in done:
...             call_objective(self.task, fb.program, fb).settle(fb)
...         return done
...     def close(self): pass
>>> study = sb.tune(lambda p: p.x, sb.Dict(x=sb.int_range(0, 3)), sb.algorithms.Grid(),
...                 num_trials=None, backend=Here())
>>> [t.reward for t in study.trials]
[0.0, 1.0, 2.0, 3.0]
"""

from __future__ import annotations

import abc
import functools
import inspect
import traceback
from collections.abc import Callable
from typing import Any, Protocol

import attrs

from symbo.backends.live_trial import is_pruned
from symbo.core import SymbolicValueError
from symbo.dsl import DNA, DNASpec, materialize


class TrialFeedback(Protocol):
    """The coordinator's side of one running trial (``sb.Feedback`` is one)."""

    trial_id: int
    dna: DNA
    program: Any
    stop_advised: bool

    @property
    def is_finished(self) -> bool: ...

    @property
    def last_report(self) -> tuple[int, float] | None: ...

    def report(self, step: int, value: float) -> None: ...

    def should_stop(self) -> bool: ...

    def done(self, reward: Any) -> None: ...

    def stop(self) -> None: ...

    def fail(self, error: str | BaseException) -> None: ...


@attrs.frozen
class Task:
    """What an executor needs to run trials: the objective, and the space to materialize each
    trial's DNA in (``where``: the markers this search decides). ``catch``: the exceptions
    that fail one trial (others end the search, where the objective runs in this process)."""

    objective: Callable[..., Any]
    space: Any
    spec: DNASpec
    where: Callable[[Any], bool] | None = None
    catch: tuple[type[BaseException], ...] = (Exception,)

    @property
    def wants_feedback(self) -> bool:
        """Whether the objective takes the feedback (see :func:`takes_feedback`)."""
        return takes_feedback(self.objective)

    # Three hooks for spaces that grow while the search runs (define-by-run studies): an
    # executor sends ``payload(feedback)`` with the DNA, makes the program where the trial
    # runs with ``program(dna, payload)``, and sends ``record(program)`` back in the Outcome.
    def payload(self, feedback: TrialFeedback) -> Any:
        """What a worker needs besides the DNA to make the trial's program (None: nothing)."""
        return None

    def program(self, dna: DNA, payload: Any) -> Any:
        """The trial's program, made where the trial runs."""
        return materialize(self.space, dna, spec=self.spec, where=self.where, check=False)

    def record(self, program: Any) -> Any:
        """What the coordinator learns from a run besides how it ended (picklable; None:
        nothing); given to the trial's feedback as ``take_record(record, kind)``."""
        return None


@attrs.frozen
class Outcome:
    """How a trial ended, as seen where it ran; plain data, so it crosses process boundaries.

    ``kind`` is ``"result"`` (the objective returned ``value``), ``"done"`` (it called
    ``feedback.done(value)``), ``"stop"`` (``feedback.stop()``, or it raised
    ``sb.TrialPruned``), ``"fail"`` (``feedback.fail`` or ``skip``, ``value`` is the message)
    or ``"error"`` (it raised; ``value`` is the traceback). ``stop_advised``: the
    early-stopping policy said stop before it ended. ``record``: what :meth:`Task.record`
    made of the run.
    """

    kind: str
    value: Any = None
    stop_advised: bool = False
    record: Any = None

    def settle(self, feedback: TrialFeedback) -> None:
        """Completes, stops or fails the trial of ``feedback`` accordingly (nothing when the
        trial is finished already, e.g. the objective called ``done`` in this process).

        A return value of None stops the trial when the policy advised it, and completes it
        with the last reported value when there are reports."""
        if feedback.is_finished:
            return
        take_record = getattr(feedback, "take_record", None)
        if self.record is not None and take_record is not None:
            take_record(self.record, self.kind)  # may fail the trial (a bad record)
            if feedback.is_finished:
                return
        feedback.stop_advised = feedback.stop_advised or self.stop_advised
        if self.kind == "result":
            last = feedback.last_report
            if self.value is None and feedback.stop_advised:
                feedback.stop()
            elif self.value is None and last is not None:
                feedback.done(last[1])
            else:
                feedback.done(self.value)
        elif self.kind == "done":
            feedback.done(self.value)
        elif self.kind == "stop":
            feedback.stop()
        elif self.kind in ("fail", "error"):
            feedback.fail(str(self.value))
        else:
            raise SymbolicValueError(f"unknown trial outcome {self.kind!r}")


class Executor(abc.ABC):
    """Runs the loop's trials; see the module docstring for the protocol.

    ``capacity`` is how many trials may run at once. An executor fails a trial it cannot run
    to its end (a worker that died, a timeout) through the trial's feedback, and goes on.
    """

    capacity: int = 1

    @abc.abstractmethod
    def start(self, task: Task) -> None:
        """Prepares to run trials of ``task`` (starts workers)."""

    @property
    @abc.abstractmethod
    def running(self) -> int:
        """The number of trials submitted and not yet returned by :meth:`wait`."""

    @abc.abstractmethod
    def submit(self, feedback: TrialFeedback) -> None:
        """Starts running a trial (its DNA and program are on ``feedback``)."""

    @abc.abstractmethod
    def wait(self, timeout: float | None = None) -> list[TrialFeedback]:
        """Passes on reports and results for up to ``timeout`` seconds (None: until one
        trial ends); returns the trials that ended during the call."""

    @abc.abstractmethod
    def close(self) -> None:
        """Stops everything it started; trials still running are failed as interrupted."""


# ---- running the objective (shared by every executor) -----------------------------------------
class WorkerFeedback:
    """The feedback an objective sees away from the coordinator (a worker process, a Ray
    task): the final action (``done``/``stop``/``skip``/``fail``) is kept and sent back as
    the :class:`Outcome`; subclasses say how reports travel (``_send_report`` returns
    whether the policy says stop, or raises when the coordinator refused the report)."""

    def __init__(self, number: int, dna: DNA) -> None:
        self.trial_id = number
        self.dna = dna
        self.stop_advised = False
        self.final: tuple[str, Any] | None = None

    @property
    def is_finished(self) -> bool:
        return self.final is not None

    def report(self, step: int, value: float) -> None:
        if self.final is not None:
            raise SymbolicValueError(f"trial {self.trial_id} is finished; feedback goes once")
        # sent as given: the coordinator checks step and value and answers with the reason
        self.stop_advised = self._send_report(step, value) or self.stop_advised

    def _send_report(self, step: Any, value: Any) -> bool:
        raise NotImplementedError

    def should_stop(self) -> bool:
        return self.stop_advised

    def __call__(self, reward: Any) -> None:
        self.done(reward)

    def done(self, reward: Any) -> None:
        self._final("done", reward)

    def stop(self) -> None:
        self._final("stop", None)

    def skip(self, reason: str = "skipped") -> None:
        self._final("fail", f"skipped: {reason}")

    def fail(self, error: str | BaseException) -> None:
        self._final("fail", format_error(error) if isinstance(error, BaseException) else str(error))

    def _final(self, kind: str, value: Any) -> None:
        if self.final is not None:
            raise SymbolicValueError(f"trial {self.trial_id} is finished; feedback goes once")
        self.final = (kind, value)


def call_objective(task: Task, program: Any, feedback: Any, *,
                   catch: tuple[type[BaseException], ...] | None = None) -> Outcome:
    """Runs the objective on ``program`` and says how the trial ended.

    Exceptions of the types in ``catch`` (default: ``task.catch``) become an ``"error"``
    outcome with the traceback; others propagate. A final action taken on a
    :class:`WorkerFeedback` becomes the outcome.
    """
    catch = task.catch if catch is None else catch
    try:
        if task.wants_feedback:
            result = task.objective(program, feedback)
        else:
            result = task.objective(program)
    except BaseException as e:
        if is_pruned(e):
            return Outcome("stop", None, feedback.stop_advised, _record(task, program))
        if not isinstance(e, catch):
            raise
        return Outcome("error", format_error(e), feedback.stop_advised, _record(task, program))
    record = _record(task, program)
    final = getattr(feedback, "final", None)
    if final is not None:
        return Outcome(final[0], final[1], feedback.stop_advised, record)
    return Outcome("result", result, feedback.stop_advised, record)


def _record(task: Task, program: Any) -> Any:
    try:
        return task.record(program)
    except Exception as e:  # noqa: BLE001 - the run's outcome still counts
        return {"error": format_error(e)}


def format_error(error: BaseException) -> str:
    """An exception with its traceback, as recorded in a failed trial's ``error``."""
    return "".join(traceback.format_exception(type(error), error, error.__traceback__))


def takes_feedback(fn: Callable[..., Any]) -> bool:
    """Whether an objective wants the feedback: a second positional parameter without a
    default, or a parameter named ``feedback``.

    >>> takes_feedback(lambda program: 0), takes_feedback(lambda program, feedback: 0)
    (False, True)
    """
    try:
        return _takes_feedback(fn)
    except TypeError:  # not hashable
        return _takes_feedback.__wrapped__(fn)


@functools.lru_cache(maxsize=256)
def _takes_feedback(fn: Callable[..., Any]) -> bool:
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return False
    if any(p.name == "feedback" for p in params):
        return True
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) >= 2 and positional[1].default is inspect.Parameter.empty
