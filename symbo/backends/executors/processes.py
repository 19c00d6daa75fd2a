"""Trials in worker processes on this machine (``workers=N``, or ``timeout=``).

Each worker receives a trial's DNA, materializes the space itself (inherited at fork, so
objectives and spaces need not be picklable on Linux), runs the objective, and sends reports
(answered with the early-stopping policy's verdict) and the outcome back through its pipe.
A worker that dies, or a trial that runs past ``timeout``, fails that trial with the reason;
the worker (with its process group) is killed and replaced, and the search goes on. Any
exception the objective raises in a worker, KeyboardInterrupt and SystemExit included, fails
only its trial, named for what it is.

Workers end with their coordinator however it dies, taking their own children with them,
and may run parallel searches themselves (see :mod:`symbo.backends.executors.lifeline`).

>>> import symbo as sb
>>> study = sb.tune(lambda p: p.x, sb.Dict(x=sb.int_range(0, 9)), sb.algorithms.Grid(),
...                 num_trials=None, workers=2)
>>> sorted(t.program.x for t in study.trials) == list(range(10))
True
"""

from __future__ import annotations

import multiprocessing as mp
import pickle
import time
from multiprocessing.connection import Connection, wait
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
from symbo.backends.executors.lifeline import Lifeline, become_worker, kill_group
from symbo.backends.storage import dna_from_json, dna_to_json
from symbo.core import SymbolicValueError
from symbo.dsl import DNA


# ---- the worker side -----------------------------------------------------------------------
class RemoteFeedback(WorkerFeedback):
    """In a worker process: reports go to the coordinator, which answers ``should_stop``."""

    def __init__(self, conn: Connection, number: int, dna: DNA) -> None:
        super().__init__(number, dna)
        self._conn = conn

    def _send_report(self, step: Any, value: Any) -> bool:
        self._conn.send(("report", self.trial_id, _plain(step), _plain(value)))
        kind, payload = self._conn.recv()
        if kind == "error":
            raise SymbolicValueError(payload)
        return bool(payload)


def _plain(value: Any) -> Any:
    """A value the pipe can carry: numbers and text as they are, numpy/torch scalars as
    floats, anything else as its repr (which the coordinator refuses with its reason)."""
    if isinstance(value, (int, float, str)):
        return value
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError):
        return repr(value)[:200]  # the coordinator refuses it with its own message


def _worker_main(conn: Connection, task: Task, lifeline: Lifeline | None,
                 inherited: list[int]) -> None:
    if lifeline is not None:  # forked (spawned workers inherit no descriptors)
        become_worker(lifeline, inherited)
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError, KeyboardInterrupt):
            return
        if message is None:
            return
        number, dna_json, payload = message
        feedback: RemoteFeedback | None = None
        try:
            dna = dna_from_json(dna_json)
            dna = DNA(dna.value, dna.children, task.spec)
            program = task.program(dna, payload)
            feedback = RemoteFeedback(conn, number, dna)
            # every exception is this trial's: a worker has no terminal to be interrupted from
            outcome = call_objective(task, program, feedback, catch=(BaseException,))
        except BaseException as e:  # noqa: BLE001 - materializing failed, or the pipe broke
            outcome = Outcome("error", format_error(e),
                              feedback.stop_advised if feedback is not None else False)
        try:
            conn.send(("outcome", number, outcome))
        except (pickle.PicklingError, TypeError, AttributeError) as e:
            conn.send(("outcome", number, Outcome(
                "error", f"the objective returned {type(outcome.value).__name__}, which cannot "
                f"be sent to the coordinator ({e}); return a number", outcome.stop_advised)))
        except (OSError, EOFError):
            return


# ---- the coordinator side ------------------------------------------------------------------
class _Worker:
    def __init__(self, ctx: Any, task: Task, lifeline: Lifeline | None,
                 inherited: list[int]) -> None:
        parent, child = ctx.Pipe()
        self.conn: Connection = parent
        self.process = ctx.Process(target=_worker_main, name="symbo-worker",
                                   args=(child, task, lifeline, [*inherited, parent.fileno()]))
        self.process.start()
        child.close()
        self.feedback: TrialFeedback | None = None
        self.started = 0.0

    def kill(self) -> None:
        if self.process.pid is not None:
            kill_group(self.process.pid)
        self.process.join(timeout=10)
        self.conn.close()


class ProcessExecutor(Executor):
    """``workers`` worker processes; ``timeout`` (seconds, > 0) fails a trial that runs longer."""

    def __init__(self, workers: int = 1, timeout: float | None = None) -> None:
        if workers < 1:
            raise SymbolicValueError(f"workers must be >= 1, got {workers}")
        self.capacity = workers
        self.timeout = timeout
        self._pool: list[_Worker] = []
        self._task: Task | None = None
        self._lifeline: Lifeline | None = None

    def start(self, task: Task) -> None:
        self._task = task
        forking = "fork" in mp.get_all_start_methods()
        self._ctx = mp.get_context("fork" if forking else "spawn")
        self._lifeline = Lifeline() if forking else None
        self._pool = []
        for _ in range(self.capacity):
            self._pool.append(self._new_worker())

    def _new_worker(self) -> _Worker:
        assert self._task is not None
        inherited = [w.conn.fileno() for w in self._pool if not w.conn.closed]
        return _Worker(self._ctx, self._task, self._lifeline, inherited)

    @property
    def running(self) -> int:
        return sum(w.feedback is not None for w in self._pool)

    def submit(self, feedback: TrialFeedback) -> None:
        for i, w in enumerate(self._pool):
            if w.feedback is None:
                if not w.process.is_alive():
                    w.kill()
                    w = self._pool[i] = self._new_worker()
                w.feedback, w.started = feedback, time.monotonic()
                w.conn.send((feedback.trial_id, dna_to_json(feedback.dna),
                             self._task.payload(feedback) if self._task is not None else None))
                return
        raise SymbolicValueError(f"all {self.capacity} workers are busy")

    def wait(self, timeout: float | None = None) -> list[TrialFeedback]:
        ended: list[TrialFeedback] = []
        deadline = None if timeout is None else time.monotonic() + timeout
        while not ended:
            busy = [w for w in self._pool if w.feedback is not None]
            if not busy:
                return ended
            now = time.monotonic()
            limits = [] if deadline is None else [deadline - now]
            if self.timeout is not None:
                limits += [w.started + self.timeout - now for w in busy]
            wait_for = max(0.0, min(limits)) if limits else None
            ready = set(wait([w.conn for w in busy] + [w.process.sentinel for w in busy],
                             timeout=wait_for))
            for w in busy:
                if w.conn in ready:
                    self._receive(w, ended)
            self._check(ended)
            if deadline is not None and time.monotonic() >= deadline:
                break
        return ended

    def _receive(self, w: _Worker, ended: list[TrialFeedback]) -> None:
        feedback = w.feedback
        assert feedback is not None
        try:
            message = w.conn.recv()
        except (EOFError, OSError):
            return  # the process died: _check notices
        if message[0] == "report":
            _kind, number, step, value = message
            if number != feedback.trial_id:
                return
            try:
                feedback.report(step, value)
                answer: tuple[str, Any] = ("ok", feedback.should_stop())
            except SymbolicValueError as e:
                answer = ("error", str(e))
            w.conn.send(answer)
            return
        _kind, number, outcome = message
        if number != feedback.trial_id:
            return
        outcome.settle(feedback)
        w.feedback = None
        ended.append(feedback)

    def _check(self, ended: list[TrialFeedback]) -> None:
        """Fails the trials of workers that died or ran past the timeout; replaces those."""
        now = time.monotonic()
        for i, w in enumerate(self._pool):
            feedback = w.feedback
            if feedback is None:
                continue
            if self.timeout is not None and now - w.started > self.timeout:
                reason = f"the trial ran past its timeout of {self.timeout:g} s and was killed"
            elif not w.process.is_alive():
                reason = f"its worker process died (exit code {w.process.exitcode})"
            else:
                continue
            w.kill()
            if not feedback.is_finished:
                feedback.fail(reason)
            w.feedback = None
            ended.append(feedback)
            self._pool[i] = self._new_worker()

    def close(self) -> None:
        for w in self._pool:
            if w.feedback is not None and not w.feedback.is_finished:
                w.feedback.fail("the search was interrupted")
            w.feedback = None
            try:
                w.conn.send(None)
            except (OSError, ValueError):
                pass
        deadline = time.monotonic() + 2.0
        for w in self._pool:
            w.process.join(timeout=max(0.0, deadline - time.monotonic()))
            w.kill()  # its children and its guard, too
        self._pool = []
        if self._lifeline is not None:
            self._lifeline.close()
            self._lifeline = None

    def __repr__(self) -> str:
        return f"ProcessExecutor(workers={self.capacity}, timeout={self.timeout})"

