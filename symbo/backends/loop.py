"""The search loop: ``sb.sample`` (you evaluate) and ``sb.tune`` (symbo calls your objective).

The loop asks the algorithm for DNA, materializes the space, hands the program to the user or
the objective, records the trial in the study, and feeds the reward back. A trial that raises,
returns NaN/inf or a non-number is recorded as failed with the error; the algorithm is told
and the search goes on. A trial left without feedback is recorded as failed, never re-yielded.

>>> import symbo as sb
>>> space = sb.Dict(x=sb.float_range(-5.0, 5.0), y=sb.one_of([0, 1, 2]))
>>> for program, feedback in sb.sample(space, sb.algorithms.Random(seed=1), num_trials=20):
...     feedback(-(program.x ** 2) - program.y)
>>> study = feedback.study
>>> len(study.trials), study.best_trial.reward > -2
(20, True)
"""

from __future__ import annotations

import inspect
import logging
import traceback
from collections.abc import Callable, Iterator
from typing import Any

from symbo.algorithms.base import Algorithm, AlgorithmError
from symbo.backends.study import Study, Trial, check_reward
from symbo.core import SymbolicValueError
from symbo.dsl import DNA, dna_spec, materialize

logger = logging.getLogger("symbo")


class Feedback:
    """What the loop hands out with each program: report progress and the result through it.

    ``feedback(reward)`` (or ``done``) completes the trial; ``report(step, value)`` records an
    intermediate value and ``should_stop()`` asks the early-stopping policy; ``stop()`` ends
    the trial early (its last report counts as its reward); ``skip(reason)`` and
    ``fail(error)`` record a trial without a reward.
    """

    def __init__(self, study: Study, trial: Trial, algorithm: Algorithm, policy: Any) -> None:
        self.study = study
        self.trial = trial
        self._algorithm = algorithm
        self._policy = policy
        self._finished = False
        self.stop_advised = False

    @property
    def dna(self) -> DNA:
        return self.trial.dna

    @property
    def trial_id(self) -> int:
        return self.trial.id

    @property
    def is_finished(self) -> bool:
        return self._finished

    def __call__(self, reward: Any) -> None:
        self.done(reward)

    def done(self, reward: Any) -> None:
        """Completes the trial with ``reward`` (a number, or a tuple with several objectives)."""
        self._check_open()
        value, error = check_reward(reward, len(self.study.objectives))
        if error is not None:
            self.fail(error)
            return
        self._finished = True
        self.study.finish(self.trial, "completed", value)
        self._algorithm.feedback(self.trial.dna, self.study.signed(value))  # type: ignore[arg-type]

    def report(self, step: int, value: float) -> None:
        """Records an intermediate value (e.g. validation accuracy after ``step`` epochs)."""
        self._check_open()
        reward, error = check_reward(value, 1)
        if error is not None:
            raise SymbolicValueError(f"trial {self.trial.id}: report at step {step}: {error}")
        if self.trial.reports and step <= self.trial.reports[-1][0]:
            raise SymbolicValueError(
                f"trial {self.trial.id}: report steps must increase "
                f"(got {step} after {self.trial.reports[-1][0]})"
            )
        self.study.report(self.trial, int(step), reward)  # type: ignore[arg-type]

    def should_stop(self) -> bool:
        """Whether the early-stopping policy says to stop this trial now."""
        if self._policy is None or not self.trial.reports:
            return False
        stop = bool(self._policy.should_stop(self.trial, self.study.trials))
        self.stop_advised = self.stop_advised or stop
        return stop

    def stop(self) -> None:
        """Ends the trial early; its last reported value is passed to the algorithm."""
        self._check_open()
        self._finished = True
        last = self.trial.last_report
        reward = last[1] if last else None
        self.study.finish(self.trial, "stopped", reward, None)
        if reward is not None and not self.study.is_multi_objective:
            self._algorithm.feedback(self.trial.dna, self.study.signed(reward))
        else:
            self._algorithm.on_failure(self.trial.dna, "stopped early")

    def skip(self, reason: str = "skipped") -> None:
        """Records the trial as failed with ``reason`` (e.g. an invalid architecture)."""
        self.fail(f"skipped: {reason}")

    def fail(self, error: str | BaseException) -> None:
        """Records the trial as failed with ``error`` (a message or an exception)."""
        self._check_open()
        if isinstance(error, BaseException):
            error = "".join(traceback.format_exception(type(error), error, error.__traceback__))
        self._finished = True
        self.study.finish(self.trial, "failed", None, str(error))
        logger.warning("trial %d failed: %s", self.trial.id, str(error).strip().splitlines()[-1])
        self._algorithm.on_failure(self.trial.dna, str(error))

    def _check_open(self) -> None:
        if self._finished:
            raise SymbolicValueError(
                f"trial {self.trial.id} is already {self.trial.status}; feedback goes once"
            )


def sample(
    space: Any,
    algorithm: Algorithm,
    num_trials: int | None = 100,
    study: Study | None = None,
    *,
    where: Callable[[Any], bool] | None = None,
    objectives: tuple[str, ...] = ("max",),
    early_stopping: Any = None,
    study_name: str | None = None,
) -> Iterator[tuple[Any, Feedback]]:
    """Yields ``(program, feedback)`` for ``num_trials`` trials (None: until the space or the
    algorithm is exhausted, or you stop iterating).

    ``where(marker)`` limits the search to some markers (the others stay in the programs, for
    a nested search). ``objectives`` are ``"max"``/``"min"`` per objective. ``early_stopping``
    is a policy such as ``sb.algorithms.MedianStopping()``; ``feedback.should_stop()`` asks it.
    """
    if not isinstance(algorithm, Algorithm):
        raise SymbolicValueError(
            f"sample needs an sb.algorithms.Algorithm, got {type(algorithm).__name__}"
        )
    if num_trials is not None and num_trials < 0:
        raise SymbolicValueError(f"num_trials must be >= 0, got {num_trials}")
    spec = dna_spec(space, where=where)
    if study is None:
        study = Study(study_name or "study", space, spec, algorithm, objectives)
    algorithm.setup(spec, num_objectives=len(study.objectives))
    if early_stopping is not None:
        early_stopping.setup(study.objectives[0])
    count = 0
    while num_trials is None or count < num_trials:
        try:
            dna = algorithm.propose()
        except AlgorithmError as e:
            if getattr(algorithm, "exhausted", False):
                logger.info("search ended: %s", e)
                return
            raise
        program = materialize(space, dna, spec=spec, where=where)
        trial = study.new_trial(dna, program)
        feedback = Feedback(study, trial, algorithm, early_stopping)
        count += 1
        try:
            yield program, feedback
        finally:
            if not feedback.is_finished:
                feedback.fail("no feedback was given for this trial (the loop moved on)")


def tune(
    objective: Callable[..., Any],
    space: Any,
    algorithm: Algorithm,
    num_trials: int | None = 100,
    *,
    study_name: str | None = None,
    where: Callable[[Any], bool] | None = None,
    objectives: tuple[str, ...] = ("max",),
    early_stopping: Any = None,
    catch: tuple[type[BaseException], ...] = (Exception,),
) -> Study:
    """Runs ``objective(program)`` (or ``objective(program, feedback)``) for each trial.

    The objective returns the reward (a tuple with several objectives); returning None after
    ``feedback.should_stop()`` said yes stops the trial early, and returning None after reports
    completes it with the last reported value. Exceptions of the types
    in ``catch`` fail the trial (recorded with the traceback) and the search goes on; others
    (and KeyboardInterrupt) end it. Returns the study.
    """
    wants_feedback = _takes_two(objective)
    study: Study | None = None
    for program, feedback in sample(space, algorithm, num_trials, where=where,
                                    objectives=objectives, early_stopping=early_stopping,
                                    study_name=study_name):
        study = feedback.study
        try:
            result = objective(program, feedback) if wants_feedback else objective(program)
        except catch as e:
            if not feedback.is_finished:
                feedback.fail(e)
            continue
        if not feedback.is_finished:
            if result is None and feedback.stop_advised:
                feedback.stop()
            elif result is None and feedback.trial.reports:
                feedback.done(feedback.trial.reports[-1][1])
            else:
                feedback.done(result)
    if study is None:  # no trial ran (num_trials=0)
        study = Study(study_name or "study", space, dna_spec(space, where=where), algorithm,
                      objectives)
    return study


def _takes_two(fn: Callable[..., Any]) -> bool:
    """Whether the objective wants the feedback: a second positional parameter without a
    default, or a parameter named ``feedback``."""
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return False
    if any(p.name == "feedback" for p in params):
        return True
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) >= 2 and positional[1].default is inspect.Parameter.empty

