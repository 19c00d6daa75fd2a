"""Trials as Ray tasks, on a local Ray instance or a cluster (``ray.init(address=...)``).

Ray is an optional extra (``pip install symbo[ray]``) imported only here, when used. The
coordinating process keeps the algorithm and the study, exactly as with local workers; each
trial runs as a task that materializes the space from the DNA and calls the objective (both
shipped once with ``ray.put``; cloudpickle handles closures). A task that fails, a worker that
dies and a trial past ``timeout`` (cancelled) fail that trial and the study goes on.

Reports made inside a Ray task are recorded when the task ends; early-stopping policies are not
consulted live under Ray (``feedback.should_stop()`` is False there).

Connect to a cluster by calling ``ray.init(address="ray://head:10001")`` before ``sb.tune``;
otherwise a local instance with as many CPUs as the machine (or ``workers``, if more) starts.
"""

from __future__ import annotations

import logging
import os
import time
import traceback
from collections.abc import Callable
from typing import Any

from symbo.backends.loop import Feedback, _Run, finish, takes_feedback
from symbo.backends.parallel import WorkerFeedback
from symbo.backends.storage import dna_from_json, dna_to_json
from symbo.core import SymbolicValueError
from symbo.dsl import DNA, materialize

logger = logging.getLogger("symbo")


class _TaskFeedback(WorkerFeedback):
    """Inside a Ray task: reports are kept and sent back with the result."""

    def __init__(self, number: int, dna: DNA) -> None:
        super().__init__(number, dna)
        self.reports: list[tuple[int, float]] = []

    def report(self, step: int, value: float) -> None:
        self.reports.append((int(step), float(value)))


def _run_trial(payload: tuple, number: int, dna_json: Any) -> tuple:
    objective, space, spec, where = payload
    dna = dna_from_json(dna_json)
    dna = DNA(dna.value, dna.children, spec)
    feedback = _TaskFeedback(number, dna)
    try:
        program = materialize(space, dna, spec=spec, where=where, check=False)
        result = objective(program, feedback) if takes_feedback(objective) else objective(program)
    except Exception as e:  # noqa: BLE001 - the trial's error, sent back
        tb = "".join(traceback.format_exception(type(e), e, e.__traceback__))
        return ("error", tb, feedback.reports)
    if feedback.final is not None:
        return ("final", feedback.final, feedback.reports)
    return ("result", result, feedback.reports)


def run_ray(run: _Run, objective: Callable[..., Any], *, workers: int, timeout: float | None,
            bar: Any) -> None:
    """Runs the search of ``run`` with up to ``workers`` Ray tasks at a time."""
    try:
        import ray
    except ImportError:
        raise SymbolicValueError(
            "backend='ray' needs Ray: pip install 'symbo[ray]' (or pip install ray)"
        ) from None
    if run.policy is not None:
        logger.warning("early stopping is not consulted live under Ray; reports are recorded "
                       "when each trial ends")
    if not ray.is_initialized():
        # as many CPUs as the machine has (or as workers asks, if more): a later search in this
        # process with more workers must not be held to the first one's count
        ray.init(num_cpus=max(workers, os.cpu_count() or 1), include_dashboard=False,
                 log_to_driver=False,
                 configure_logging=False)
    task = ray.remote(num_cpus=1, max_retries=0)(_run_trial)
    payload = ray.put((objective, run.study.space, run.study.spec, run.study.where))
    in_flight: dict[Any, tuple[Feedback, float]] = {}
    exhausted = False
    try:
        while True:
            while not exhausted and len(in_flight) < workers:
                step = run.next_trial()
                if step is None:
                    exhausted = True
                    break
                _program, trial = step
                ref = task.remote(payload, trial.id, dna_to_json(trial.dna))
                in_flight[ref] = (Feedback(run, trial), time.monotonic())
            if not in_flight:
                return
            wait_for = 1.0
            if timeout is not None:
                now = time.monotonic()
                wait_for = max(0.0, min(wait_for, *(s + timeout - now for _, s in in_flight.values())))
            ready, _ = ray.wait(list(in_flight), num_returns=1, timeout=wait_for)
            for ref in ready:
                feedback, _started = in_flight.pop(ref)
                try:
                    outcome = ray.get(ref)
                except Exception as e:  # the worker died, or Ray could not run the task
                    feedback.fail(f"the Ray task failed: {type(e).__name__}: {e}")
                    bar.update(feedback)
                    continue
                _record(feedback, outcome)
                bar.update(feedback)
            if timeout is not None:
                now = time.monotonic()
                for ref, (feedback, started) in list(in_flight.items()):
                    if now - started > timeout:
                        ray.cancel(ref, force=True)
                        in_flight.pop(ref)
                        feedback.fail(f"the trial ran past its timeout of {timeout:g} s and was cancelled")
                        bar.update(feedback)
    finally:
        for ref, (feedback, _started) in in_flight.items():
            ray.cancel(ref, force=True)
            if not feedback.is_finished:
                feedback.fail("the search was interrupted")


def _record(feedback: Feedback, outcome: tuple) -> None:
    kind, payload, reports = outcome
    for step, value in reports:
        try:
            feedback.report(step, value)
        except SymbolicValueError as e:
            feedback.fail(str(e))
            return
    if kind == "result":
        finish(feedback, payload)
    elif kind == "final":
        action, value = payload
        if action == "done":
            feedback.done(value)
        elif action == "stop":
            feedback.stop()
        else:
            feedback.fail(value)
    else:
        feedback.fail(payload)
