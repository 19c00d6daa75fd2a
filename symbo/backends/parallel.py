"""Running several trials at once: worker processes on this machine, or Ray tasks.

The coordinating process keeps the algorithm, the early-stopping policy and the study; workers
only evaluate. A worker receives a trial's DNA, materializes the space itself (inherited at
fork, so objectives and spaces need not be picklable on Linux), runs the objective, and sends
reports and the result back. A worker that dies or a trial that runs past ``timeout`` fails
that trial (with the reason) and the worker is replaced; the study goes on.

>>> import symbo as sb
>>> study = sb.tune(lambda p: p.x, sb.Dict(x=sb.int_range(0, 9)), sb.algorithms.Grid(),
...                 num_trials=None, workers=2)
>>> sorted(t.program.x for t in study.trials) == list(range(10))
True
"""

from __future__ import annotations

import multiprocessing as mp
import time
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection, wait
from typing import Any

from symbo.backends.loop import Feedback, _Run, finish, takes_feedback
from symbo.backends.storage import dna_from_json, dna_to_json
from symbo.backends.study import Trial
from symbo.core import SymbolicValueError
from symbo.dsl import DNA, materialize


# ---- the worker side -----------------------------------------------------------------------
class WorkerFeedback:
    """The feedback an objective sees away from the coordinator (a worker process or a Ray
    task): the final action (``done``/``stop``/``skip``/``fail``) is kept and sent back with
    the result; subclasses say how reports travel."""

    def __init__(self, number: int, dna: DNA) -> None:
        self.trial_id = number
        self.dna = dna
        self.stop_advised = False
        self.final: tuple[str, Any] | None = None

    def report(self, step: int, value: float) -> None:
        raise NotImplementedError

    def should_stop(self) -> bool:
        return self.stop_advised

    def __call__(self, reward: Any) -> None:
        self.done(reward)

    def done(self, reward: Any) -> None:
        self.final = ("done", reward)

    def stop(self) -> None:
        self.final = ("stop", None)

    def skip(self, reason: str = "skipped") -> None:
        self.final = ("fail", f"skipped: {reason}")

    def fail(self, error: str | BaseException) -> None:
        if isinstance(error, BaseException):
            error = "".join(traceback.format_exception(type(error), error, error.__traceback__))
        self.final = ("fail", str(error))


class RemoteFeedback(WorkerFeedback):
    """In a worker process: reports go to the coordinator, which answers ``should_stop``."""

    def __init__(self, conn: Connection, number: int, dna: DNA) -> None:
        super().__init__(number, dna)
        self._conn = conn

    def report(self, step: int, value: float) -> None:
        self._conn.send(("report", self.trial_id, int(step), float(value)))
        kind, payload = self._conn.recv()
        if kind == "error":
            raise SymbolicValueError(payload)
        self.stop_advised = self.stop_advised or bool(payload)


def _worker_main(conn: Connection, objective: Callable[..., Any], space: Any, spec: Any,
                 where: Any) -> None:
    wants = takes_feedback(objective)
    while True:
        try:
            message = conn.recv()
        except (EOFError, KeyboardInterrupt):
            return
        if message is None:
            return
        number, dna_json = message
        try:
            dna = dna_from_json(dna_json)
            dna = DNA(dna.value, dna.children, spec)
            program = materialize(space, dna, spec=spec, where=where, check=False)
            feedback = RemoteFeedback(conn, number, dna)
            result = objective(program, feedback) if wants else objective(program)
            if feedback.final is not None:
                conn.send(("final", number, feedback.final, feedback.stop_advised))
            else:
                conn.send(("result", number, result, feedback.stop_advised))
        except KeyboardInterrupt:
            return
        except BaseException as e:  # noqa: BLE001 - every error is the trial's, reported back
            tb = "".join(traceback.format_exception(type(e), e, e.__traceback__))
            try:
                conn.send(("error", number, tb, False))
            except Exception:
                return


class _Worker:
    def __init__(self, ctx: Any, objective: Callable[..., Any], run: _Run) -> None:
        parent, child = ctx.Pipe()
        self.conn = parent
        self.process = ctx.Process(target=_worker_main, args=(child, objective, run.study.space,
                                                              run.study.spec, run.study.where),
                                   daemon=True, name="symbo-worker")
        self.process.start()
        child.close()
        self.trial: Trial | None = None
        self.feedback: Feedback | None = None
        self.started = 0.0

    def kill(self) -> None:
        try:
            self.process.kill()
        except Exception:
            pass
        self.process.join(timeout=5)
        self.conn.close()


def run_parallel(run: _Run, objective: Callable[..., Any], *, workers: int, backend: str,
                 timeout: float | None, progress: bool) -> None:
    """Runs the search of ``run`` with ``workers`` trials at a time."""
    from symbo.backends.loop import _progress

    bar = _progress(progress, run.num_trials)
    try:
        if backend == "ray":
            from symbo.backends.ray_backend import run_ray

            run_ray(run, objective, workers=workers, timeout=timeout, bar=bar)
        else:
            _run_local(run, objective, workers, timeout, bar)
    finally:
        bar.close()


def _context() -> Any:
    methods = mp.get_all_start_methods()
    return mp.get_context("fork" if "fork" in methods else "spawn")


def _run_local(run: _Run, objective: Callable[..., Any], workers: int, timeout: float | None,
               bar: Any) -> None:
    ctx = _context()
    pool = [_Worker(ctx, objective, run) for _ in range(workers)]
    exhausted = False
    try:
        while True:
            for i, w in enumerate(pool):
                if w.trial is None and not exhausted:
                    step = run.next_trial()
                    if step is None:
                        exhausted = True
                        break
                    _program, trial = step
                    if not w.process.is_alive():
                        w = pool[i] = _Worker(ctx, objective, run)
                    w.trial, w.feedback, w.started = trial, Feedback(run, trial), time.monotonic()
                    w.conn.send((trial.id, dna_to_json(trial.dna)))
            busy = [w for w in pool if w.trial is not None]
            if not busy:
                return
            wait_for = 1.0
            if timeout is not None:
                now = time.monotonic()
                wait_for = max(0.0, min(wait_for, *(w.started + timeout - now for w in busy)))
            ready = wait([w.conn for w in busy], timeout=wait_for)
            for w in busy:
                if w.conn in ready:
                    _receive(run, w, bar)
            now = time.monotonic()
            for i, w in enumerate(pool):
                if w.trial is None:
                    continue
                if timeout is not None and now - w.started > timeout:
                    _lost(w, f"the trial ran past its timeout of {timeout:g} s and was killed", bar)
                    w.kill()
                    pool[i] = _Worker(ctx, objective, run)
                elif not w.process.is_alive():
                    code = w.process.exitcode
                    _lost(w, f"its worker process died (exit code {code})", bar)
                    w.kill()
                    pool[i] = _Worker(ctx, objective, run)
    finally:
        for w in pool:
            if w.trial is not None and w.feedback is not None and not w.feedback.is_finished:
                w.feedback.fail("the search was interrupted")
            try:
                w.conn.send(None)
            except Exception:
                pass
        for w in pool:
            w.process.join(timeout=2)
            if w.process.is_alive():
                w.kill()


def _receive(run: _Run, w: _Worker, bar: Any) -> None:
    assert w.trial is not None and w.feedback is not None
    try:
        message = w.conn.recv()
    except (EOFError, OSError):
        return  # the process died; the caller notices it is not alive
    kind, number = message[0], message[1]
    feedback = w.feedback
    if number != w.trial.id:
        return
    if kind == "report":
        step, value = message[2], message[3]
        try:
            feedback.report(step, value)
            answer = ("ok", feedback.should_stop())
        except SymbolicValueError as e:
            answer = ("error", str(e))
        w.conn.send(answer)
        return
    feedback.stop_advised = feedback.stop_advised or bool(message[3])
    if kind == "result":
        finish(feedback, message[2])
    elif kind == "final":
        action, payload = message[2]
        if action == "done":
            feedback.done(payload)
        elif action == "stop":
            feedback.stop()
        else:
            feedback.fail(payload)
    else:  # "error"
        feedback.fail(message[2])
    bar.update(feedback)
    w.trial, w.feedback = None, None


def _lost(w: _Worker, reason: str, bar: Any) -> None:
    if w.feedback is not None and not w.feedback.is_finished:
        w.feedback.fail(reason)
        bar.update(w.feedback)
    w.trial, w.feedback = None, None
