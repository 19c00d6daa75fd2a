"""Trials run one at a time in this process (``workers=1``, the default).

The objective gets the coordinator's feedback itself, so reports are recorded and
``should_stop`` is answered as they happen. Exceptions of the types in ``catch`` fail their
trial; others (KeyboardInterrupt included) end the search: the trial is recorded as failed
with the reason, and the exception goes on to the caller.

>>> import symbo as sb
>>> study = sb.tune(lambda p: p.x, sb.Dict(x=sb.int_range(0, 2)), sb.algorithms.Grid(),
...                 num_trials=None, backend=InlineExecutor())
>>> [t.reward for t in study.trials]
[0.0, 1.0, 2.0]
"""

from __future__ import annotations

from symbo.backends.executors.base import (
    Executor,
    Task,
    TrialFeedback,
    call_objective,
    format_error,
)


class InlineExecutor(Executor):
    """Runs each trial in this process when :meth:`wait` is called."""

    capacity = 1

    def __init__(self) -> None:
        self._task: Task | None = None
        self._queue: list[TrialFeedback] = []

    def start(self, task: Task) -> None:
        self._task = task

    @property
    def running(self) -> int:
        return len(self._queue)

    def submit(self, feedback: TrialFeedback) -> None:
        self._queue.append(feedback)

    def wait(self, timeout: float | None = None) -> list[TrialFeedback]:
        assert self._task is not None, "start(task) first"
        if not self._queue:
            return []
        feedback = self._queue.pop(0)
        try:
            outcome = call_objective(self._task, feedback.program, feedback)
        except BaseException as e:  # not in catch: the search ends, the trial says why
            if not feedback.is_finished:
                feedback.fail(f"the search was interrupted: {format_error(e)}")
            raise
        outcome.settle(feedback)
        return [feedback]

    def close(self) -> None:
        for feedback in self._queue:
            if not feedback.is_finished:
                feedback.fail("the search was interrupted")
        self._queue = []

    def __repr__(self) -> str:
        return "InlineExecutor()"
