"""Trials as Ray tasks, on a local Ray instance or a cluster (``backend="ray"``).

Ray is an optional extra (``pip install symbo[ray]``) imported only here, when used. The
coordinating process keeps the algorithm and the study, exactly as with local workers; each
trial runs as a task that materializes the space from the DNA and calls the objective (both
shipped once with ``ray.put``; cloudpickle handles closures).

Reports reach the coordinator while the task runs: ``feedback.report(step, value)`` in a task
goes through a small actor (the *hub*, on the cluster, using no CPU) to the coordinator,
which records it in the study, asks the early-stopping policy, and answers; so
``feedback.should_stop()`` is live under Ray too. A task that fails, a worker that dies and a
trial past ``timeout`` (cancelled) fail that trial and the study goes on.

Connect to a cluster by calling ``ray.init(address=...)`` before ``sb.tune``; otherwise a
local instance with as many CPUs as the machine (or ``workers``, if more) starts.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from typing import Any

from symbo.backends.executors.base import (
    Executor,
    Outcome,
    Task,
    TrialFeedback,
    WorkerFeedback,
    call_objective,
    format_error,
)
from symbo.backends.executors.processes import _plain
from symbo.backends.storage import dna_from_json, dna_to_json
from symbo.core import SymbolicValueError
from symbo.dsl import DNA

logger = logging.getLogger("symbo")


class _Hub:
    """The Ray actor between tasks and the coordinator: a task's ``report`` waits here until
    the coordinator (which ``take``\\ s the waiting reports) ``answer``\\ s it."""

    def __init__(self) -> None:
        self._queue: list[tuple[int, int, Any]] = []
        self._waiting: dict[tuple[int, int], asyncio.Future] = {}
        self._arrived = asyncio.Event()

    async def report(self, number: int, step: int, value: Any) -> tuple[str, Any]:
        future = asyncio.get_running_loop().create_future()
        self._waiting[(number, step)] = future
        self._queue.append((number, step, value))
        self._arrived.set()
        return await future

    async def take(self) -> list[tuple[int, int, Any]]:
        while not self._queue:
            self._arrived.clear()
            await self._arrived.wait()
        out, self._queue = self._queue, []
        return out

    async def answer(self, answers: list[tuple[int, int, tuple[str, Any]]]) -> None:
        for number, step, answer in answers:
            future = self._waiting.pop((number, step), None)
            if future is not None and not future.done():
                future.set_result(answer)


class _TaskFeedback(WorkerFeedback):
    """Inside a Ray task: a report waits for the coordinator's answer through the hub."""

    def __init__(self, hub: Any, number: int, dna: DNA) -> None:
        super().__init__(number, dna)
        self._hub = hub

    def _send_report(self, step: Any, value: Any) -> bool:
        import ray

        kind, payload = ray.get(self._hub.report.remote(self.trial_id, _plain(step),
                                                        _plain(value)))
        if kind == "error":
            raise SymbolicValueError(payload)
        return bool(payload)


def _run_trial(task: Task, hub: Any, number: int, dna_json: Any, payload: Any = None) -> Outcome:
    feedback: _TaskFeedback | None = None
    try:
        dna = dna_from_json(dna_json)
        dna = DNA(dna.value, dna.children, task.spec)
        program = task.program(dna, payload)
        feedback = _TaskFeedback(hub, number, dna)
        return call_objective(task, program, feedback, catch=(BaseException,))
    except BaseException as e:  # noqa: BLE001 - the trial's error, sent back
        return Outcome("error", format_error(e),
                       feedback.stop_advised if feedback is not None else False)


class RayExecutor(Executor):
    """Up to ``workers`` Ray tasks at a time; ``timeout`` (seconds) cancels a longer trial."""

    def __init__(self, workers: int = 1, timeout: float | None = None) -> None:
        if workers < 1:
            raise SymbolicValueError(f"workers must be >= 1, got {workers}")
        self.capacity = workers
        self.timeout = timeout
        self._in_flight: dict[Any, tuple[TrialFeedback, float]] = {}
        self._by_number: dict[int, TrialFeedback] = {}

    def start(self, task: Task) -> None:
        try:
            import ray
        except ImportError:
            raise SymbolicValueError(
                "backend='ray' needs Ray: pip install 'symbo[ray]' (or pip install ray)"
            ) from None
        self._ray = ray
        if not ray.is_initialized():
            # as many CPUs as the machine has (or as workers asks, if more): a later search in
            # this process with more workers must not be held to the first one's count
            ray.init(num_cpus=max(self.capacity, os.cpu_count() or 1), include_dashboard=False,
                     log_to_driver=False, configure_logging=False)
        self._remote = ray.remote(num_cpus=1, max_retries=0)(_run_trial)
        self._hub = ray.remote(num_cpus=0)(_Hub).remote()
        self._task = task
        self._payload = ray.put(task)
        self._take = self._hub.take.remote()

    @property
    def running(self) -> int:
        return len(self._in_flight)

    def submit(self, feedback: TrialFeedback) -> None:
        ref = self._remote.remote(self._payload, self._hub, feedback.trial_id,
                                  dna_to_json(feedback.dna), self._task.payload(feedback))
        self._in_flight[ref] = (feedback, time.monotonic())
        self._by_number[feedback.trial_id] = feedback

    def wait(self, timeout: float | None = None) -> list[TrialFeedback]:
        ray = self._ray
        ended: list[TrialFeedback] = []
        deadline = None if timeout is None else time.monotonic() + timeout
        while not ended and self._in_flight:
            now = time.monotonic()
            limits = [] if deadline is None else [deadline - now]
            if self.timeout is not None:
                limits += [s + self.timeout - now for _, s in self._in_flight.values()]
            wait_for = max(0.0, min(limits)) if limits else None
            ready, _ = ray.wait([self._take, *self._in_flight], num_returns=1, timeout=wait_for)
            if self._take in ready:
                self._answer(ray.get(self._take))
                self._take = self._hub.take.remote()
            for ref in ready:
                if ref is not self._take and ref in self._in_flight:
                    self._finish(ref, ended)
            self._check_timeouts(ended)
            if deadline is not None and time.monotonic() >= deadline:
                break
        return ended

    def _answer(self, reports: list[tuple[int, int, Any]]) -> None:
        answers = []
        for number, step, value in reports:
            feedback = self._by_number.get(number)
            if feedback is None or feedback.is_finished:
                answer: tuple[str, Any] = ("error", f"trial {number} is not running")
            else:
                try:
                    feedback.report(step, value)
                    answer = ("ok", feedback.should_stop())
                except SymbolicValueError as e:
                    answer = ("error", str(e))
            answers.append((number, step, answer))
        self._hub.answer.remote(answers)

    def _finish(self, ref: Any, ended: list[TrialFeedback]) -> None:
        feedback, _started = self._in_flight.pop(ref)
        self._by_number.pop(feedback.trial_id, None)
        try:
            outcome = self._ray.get(ref)
        except Exception as e:  # the worker died, or Ray could not run the task
            outcome = Outcome("error", f"the Ray task failed: {type(e).__name__}: {e}")
        outcome.settle(feedback)
        ended.append(feedback)

    def _check_timeouts(self, ended: list[TrialFeedback]) -> None:
        if self.timeout is None:
            return
        now = time.monotonic()
        for ref, (feedback, started) in list(self._in_flight.items()):
            if now - started > self.timeout:
                self._ray.cancel(ref, force=True)
                self._in_flight.pop(ref)
                self._by_number.pop(feedback.trial_id, None)
                if not feedback.is_finished:
                    feedback.fail(f"the trial ran past its timeout of {self.timeout:g} s and "
                                  "was cancelled")
                ended.append(feedback)

    def close(self) -> None:
        ray = getattr(self, "_ray", None)
        for ref, (feedback, _started) in self._in_flight.items():
            if ray is not None:
                ray.cancel(ref, force=True)
            if not feedback.is_finished:
                feedback.fail("the search was interrupted")
        self._in_flight.clear()
        self._by_number.clear()
        hub = getattr(self, "_hub", None)
        if ray is not None and hub is not None:
            ray.kill(hub)
            self._hub = None

    def __repr__(self) -> str:
        return f"RayExecutor(workers={self.capacity}, timeout={self.timeout})"
