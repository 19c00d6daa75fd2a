"""The search loop: the coordinator of a search, over a study, handing trials to an executor.

A :class:`Run` is one process's part of a search: it asks the algorithm for DNA, records each
new trial in the study (committed before the program is handed out), and records results and
feeds rewards back as they arrive, through each trial's :class:`Feedback`. :func:`run_search`
drives a Run with an executor (see :mod:`symbo.backends.executors`); :func:`sample_trials`
hands the trials to the caller instead (``sb.sample``). A trial that raises, returns NaN/inf
or a non-number is recorded as failed with the error; the algorithm is told and the search goes
on. A trial left without feedback is recorded as failed, never handed out again.

This module knows the study only through its methods (it does not import
:mod:`symbo.backends.study`, which imports it).

>>> import symbo as sb
>>> space = sb.Dict(x=sb.float_range(-5.0, 5.0), y=sb.one_of([0, 1, 2]))
>>> for program, feedback in sb.sample(space, sb.algorithms.Random(seed=1), num_trials=20):
...     feedback(-(program.x ** 2) - program.y)
>>> study = feedback.study
>>> len(study.trials), study.best_trial.reward > -2
(20, True)
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import attrs

from symbo.algorithms.base import Algorithm, AlgorithmError, _rng_state
from symbo.backends.executors import Executor, Task, executor_for, format_error
from symbo.backends.rewards import check_reward
from symbo.backends.storage import worker_alive, worker_id
from symbo.core import SymbolicValueError
from symbo.dsl import DNA, materialize

if TYPE_CHECKING:
    from symbo.backends.study import Study, Trial

logger = logging.getLogger("symbo")

STATE_SAVE_INTERVAL = 5.0  # seconds between saves of the algorithm's state
HEARTBEAT_INTERVAL = 10.0


class Feedback:
    """What the loop hands out with each program: report progress and the result through it.

    ``feedback(reward)`` (or ``done``) completes the trial; ``report(step, value)`` records an
    intermediate value and ``should_stop()`` asks the early-stopping policy; ``stop()`` ends
    the trial early (its last report counts as its reward); ``skip(reason)`` and
    ``fail(error)`` record a trial without a reward.
    """

    def __init__(self, run: Run, trial: Trial) -> None:
        self._run = run
        self.study = run.study
        self.trial = trial
        self._finished = False
        self.stop_advised = False

    @property
    def dna(self) -> DNA:
        return self.trial.dna

    @property
    def trial_id(self) -> int:
        return self.trial.id

    @property
    def program(self) -> Any:
        return self.trial.program

    @property
    def is_finished(self) -> bool:
        return self._finished

    @property
    def last_report(self) -> tuple[int, float] | None:
        return self.trial.last_report

    def __call__(self, reward: Any) -> None:
        self.done(reward)

    def done(self, reward: Any) -> None:
        """Completes the trial with ``reward`` (a number, or a tuple with several objectives)."""
        self._check_open()
        value, error = check_reward(reward, len(self.study.objectives))
        if error is not None:
            self.fail(f"trial {self.trial.id}: {error}")
            return
        self._finished = True
        self._run.complete(self.trial, value)

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
        stop = self._run.should_stop(self.trial)
        self.stop_advised = self.stop_advised or stop
        return stop

    def stop(self) -> None:
        """Ends the trial early; its last reported value is passed to the algorithm."""
        self._check_open()
        self._finished = True
        self._run.stop(self.trial)

    def skip(self, reason: str = "skipped") -> None:
        """Records the trial as failed with ``reason`` (e.g. an invalid architecture)."""
        self.fail(f"skipped: {reason}")

    def fail(self, error: str | BaseException) -> None:
        """Records the trial as failed with ``error`` (a message or an exception)."""
        self._check_open()
        if isinstance(error, BaseException):
            error = format_error(error)
        self._finished = True
        self._run.fail(self.trial, str(error))

    def _check_open(self) -> None:
        if self._finished:
            raise SymbolicValueError(
                f"trial {self.trial.id} is already {self.trial.status}; feedback goes once"
            )


class Run:
    """One process's part of a search: its algorithm, policy and trials, over a study.

    ``num_trials`` is the study's budget (None: until the algorithm or the space is
    exhausted); ``dead_trials`` says what happens to trials left running by a dead worker:
    run them again (``"retry"``) or record them as failed (``"fail"``).
    """

    def __init__(self, study: Study, algorithm: Algorithm, num_trials: int | None,
                 early_stopping: Any = None, dead_trials: str = "retry",
                 heartbeat_timeout: float = 60.0) -> None:
        if dead_trials not in ("retry", "fail"):
            raise SymbolicValueError(f"dead_trials must be 'retry' or 'fail', got {dead_trials!r}")
        if not isinstance(algorithm, Algorithm):
            raise SymbolicValueError(
                f"the search needs an sb.algorithms.Algorithm, got {type(algorithm).__name__}")
        if num_trials is not None and num_trials < 0:
            raise SymbolicValueError(f"num_trials must be >= 0, got {num_trials}")
        self.study = study
        self.algorithm = algorithm
        self.num_trials = num_trials
        self.policy = early_stopping
        self.worker = worker_id()
        self.told: set[int] = set()  # trials whose result the algorithm has heard
        self.mine: set[int] = set()  # trials proposed by this run's algorithm and still open
        self._saved_at = 0.0
        spec = study.spec
        assert spec is not None
        algorithm.setup(spec, num_objectives=len(study.objectives))
        if early_stopping is not None:
            early_stopping.setup(study.objectives[0])
        self.retry: list[Trial] = []
        self._restore(dead_trials, heartbeat_timeout)
        self.save_state()  # records num_trials at once, so a study killed early resumes to it
        self._stop_heartbeat = threading.Event()
        self._heartbeat: threading.Thread | None = None
        if study.storage.shared:
            self._heartbeat = threading.Thread(target=self._beat, daemon=True,
                                               name="symbo-heartbeat")
            self._heartbeat.start()

    # ---- restoring a study ---------------------------------------------------------------
    def _restore(self, dead_trials: str, heartbeat_timeout: float) -> None:
        study = self.study
        trials = study.trials
        if not trials:
            return
        for trial in study.dead_trials(heartbeat_timeout):
            if dead_trials == "retry":
                self.retry.append(trial)
                logger.info("trial %d of a dead worker will run again", trial.id)
            else:
                study.finish(trial, "failed", None, "its worker died (dead_trials='fail')")
        trials = study.trials
        finished = [t for t in trials if t.is_finished]
        rewarded = [t for t in finished if self._rewarded(t)]
        saved = study.storage.load_algorithm_state(study.info.id)
        state = saved.get("state") if isinstance(saved, dict) else None
        writer = saved.get("worker") if isinstance(saved, dict) else None
        if writer not in (None, self.worker) and worker_alive(writer) is not False:
            state = None  # the state of a process still searching: not ours to copy (its rng)
        if isinstance(state, dict) and len(state.get("history", ())) == len(rewarded):
            try:
                self.algorithm.load_state(state)
            except Exception:  # a state of another algorithm version: replay instead
                state = None
        else:
            state = None
        if state is None:
            # replay the record: failed and running DNA are not proposed again, and a seeded
            # random generator goes on from the seed and the record's size (not from the start,
            # which would propose the trials before the crash again)
            seed = getattr(self.algorithm, "seed", None)
            self.algorithm.load_state({
                "history": [[t.dna.to_numbers(), _json_reward(study.signed(t.reward))]
                            for t in rewarded],
                "num_proposed": len(trials),
                "failed": [t.dna.to_numbers() for t in finished if not self._rewarded(t)],
                "pending": [t.dna.to_numbers() for t in trials if t.status == "running"],
                "rng": None if seed is None else _rng_state(random.Random(f"{seed}/{len(trials)}")),
            })
        self.told.update(t.id for t in finished)

    # ---- the loop's steps ----------------------------------------------------------------
    def next_trial(self) -> Trial | None:
        """Records the next trial (its program materialized); None when the search is over."""
        self.sync()
        if self.retry:
            trial = self.retry.pop(0)
            self.study.restart(trial, self.worker)
            self.mine.add(trial.id)  # ours now: the heartbeat keeps it alive
            trial.program = self.make_program(trial.dna, check=True)
            return trial
        storage, study_id = self.study.storage, self.study.info.id
        if self.num_trials is not None and storage.count_trials(study_id) >= self.num_trials:
            return None
        try:
            dna = self.algorithm.propose()
        except AlgorithmError as e:
            if getattr(self.algorithm, "exhausted", False):
                logger.info("search ended: %s", e)
                return None
            raise
        # symbo's own algorithms make valid DNA by construction; others' DNA is checked
        trusted = type(self.algorithm).__module__.startswith("symbo.algorithms.")
        program = self.make_program(dna, check=not trusted)
        trial = self.study.new_trial(dna, program, self.worker, self.num_trials,
                                     params=self.initial_params(dna))
        if trial is None:  # other workers used up the budget meanwhile
            self.algorithm.on_failure(dna, "not run: the study reached its number of trials")
            return None
        self.mine.add(trial.id)
        return trial

    def make_program(self, dna: DNA, check: bool) -> Any:
        """The program of a trial (a hook: define-by-run studies make programs that decide
        markers met for the first time)."""
        return materialize(self.study.space, dna, spec=self.study.spec, where=self.study.where,
                           check=check)

    def initial_params(self, dna: DNA) -> dict[str, Any] | None:
        """The params a new trial is recorded with (None: those of its DNA)."""
        return None

    def more_later(self) -> bool:
        """Whether a search that has no trial to start now may have some once the running
        ones end (a space that grows as trials run)."""
        return False

    def next_feedback(self) -> Feedback | None:
        """The feedback of the next trial (see :meth:`next_trial`); None when it is over."""
        trial = self.next_trial()
        return None if trial is None else Feedback(self, trial)

    def sync(self) -> None:
        """Tells the algorithm about trials other workers finished since the last sync."""
        for trial in self.study.refresh():
            if trial.id in self.told or trial.id in self.mine or not trial.is_finished:
                continue
            self.told.add(trial.id)
            self._tell(trial)

    def _rewarded(self, trial: Trial) -> bool:
        """Whether a finished trial's reward goes to the algorithm (else it is a failure)."""
        return trial.status == "completed" or (
            trial.status == "stopped" and trial.reward is not None
            and not self.study.is_multi_objective)

    def _tell(self, trial: Trial) -> None:
        if self._rewarded(trial):
            self.algorithm.feedback(trial.dna, self.study.signed(trial.reward))  # type: ignore[arg-type]
        else:
            self.algorithm.on_failure(trial.dna, trial.error or trial.status)

    def complete(self, trial: Trial, value: Any) -> None:
        self.study.finish(trial, "completed", value)
        self._told(trial)

    def stop(self, trial: Trial) -> None:
        last = trial.last_report
        self.study.finish(trial, "stopped", last[1] if last else None, None)
        self._told(trial)

    def fail(self, trial: Trial, error: str) -> None:
        self.study.finish(trial, "failed", None, error)
        last = error.strip().splitlines()[-1] if error.strip() else error
        logger.warning("trial %d failed: %s", trial.id, last)
        self._told(trial)

    def _told(self, trial: Trial) -> None:
        self.mine.discard(trial.id)
        self.told.add(trial.id)
        self._tell(trial)
        if time.monotonic() - self._saved_at > STATE_SAVE_INTERVAL:
            self.save_state()

    def should_stop(self, trial: Trial) -> bool:
        if self.policy is None or not trial.reports:
            return False
        return bool(self.policy.should_stop(trial, self.study.trials))

    def save_state(self) -> None:
        self._saved_at = time.monotonic()
        try:
            state = self.algorithm.state
        except Exception as e:  # an algorithm whose state is not serializable: replay on resume
            logger.debug("algorithm state not saved: %s", e)
            state = None
        self.study.storage.save_algorithm_state(
            self.study.info.id, {"state": state, "num_trials": self.num_trials,
                                 "worker": self.worker})

    def close(self) -> None:
        self._stop_heartbeat.set()
        self.save_state()

    def _beat(self) -> None:
        while not self._stop_heartbeat.wait(HEARTBEAT_INTERVAL):
            running = list(self.mine)
            try:
                self.study.storage.heartbeat(self.study.info.id, running)
            except Exception as e:  # never let the heartbeat thread kill the search
                logger.debug("heartbeat failed: %s", e)


def _json_reward(reward: Any) -> Any:
    return list(reward) if isinstance(reward, tuple) else reward


# ---- driving a run ---------------------------------------------------------------------------
@attrs.frozen
class Coordinator:
    """How studies of one kind are searched: their :class:`Run` class, and the
    :class:`~symbo.backends.executors.Task` their objective runs as (``make_task(objective,
    study, catch)``). The first of :data:`COORDINATORS` that ``accepts`` a study searches it;
    other studies get the plain Run and Task."""

    accepts: Callable[[Any], bool]
    run: type[Run]
    make_task: Callable[[Callable[..., Any], Any, tuple[type[BaseException], ...]], Task]


#: coordinators of kinds of studies that need their own (define-by-run studies register one)
COORDINATORS: list[Coordinator] = []


def coordinator_for(study: Study) -> Coordinator:
    """The coordinator of ``study`` (see :class:`Coordinator`)."""
    for coordinator in COORDINATORS:
        if coordinator.accepts(study):
            return coordinator
    return _PLAIN


def _plain_task(objective: Callable[..., Any], study: Any,
                catch: tuple[type[BaseException], ...]) -> Task:
    assert study.spec is not None
    return Task(objective, study.space, study.spec, study.where, tuple(catch))


_PLAIN = Coordinator(lambda study: True, Run, _plain_task)


def run_trials(run: Run, executor: Executor, task: Task, *, time_budget: float | None = None,
               bar: Any = None) -> None:
    """Hands the run's trials to ``executor`` until the search is over: the budget is reached,
    the algorithm or the space is exhausted, or ``time_budget`` seconds have passed (no new
    trial starts then; running ones finish). ``bar`` (a progress bar) is told of every trial
    that ends."""
    deadline = None if time_budget is None else time.monotonic() + time_budget
    executor.start(task)
    try:
        exhausted = False
        while True:
            while not exhausted and executor.running < executor.capacity:
                if deadline is not None and time.monotonic() >= deadline:
                    exhausted = True
                    break
                feedback = run.next_feedback()
                if feedback is None:
                    if executor.running and run.more_later():
                        break  # ask again when a running trial has ended
                    exhausted = True
                    break
                executor.submit(feedback)
            if not executor.running:
                return
            for feedback in executor.wait():
                if bar is not None:
                    bar.update(feedback)
    finally:
        executor.close()


def run_search(study: Study, objective: Callable[..., Any], algorithm: Algorithm,
               num_trials: int | None, *, workers: int = 1, backend: str | Executor = "local",
               early_stopping: Any = None, dead_trials: str = "retry",
               heartbeat_timeout: float = 60.0, timeout: float | None = None,
               time_budget: float | None = None,
               catch: tuple[type[BaseException], ...] = (Exception,),
               progress: bool = False) -> Study:
    """Runs ``objective`` on trials of ``study`` (see :func:`symbo.tune`); returns the study."""
    if time_budget is not None and not time_budget > 0:
        raise SymbolicValueError(f"time_budget must be a number of seconds > 0, got {time_budget!r}")
    executor = executor_for(backend, workers=workers, timeout=timeout)
    coordinator = coordinator_for(study)
    run = coordinator.run(study, algorithm, num_trials, early_stopping, dead_trials,
                          heartbeat_timeout)
    task = coordinator.make_task(objective, study, tuple(catch))
    bar = _progress(progress, study, num_trials)
    try:
        run_trials(run, executor, task, time_budget=time_budget, bar=bar)
    finally:
        bar.close()
        run.close()
    return study


def sample_trials(run: Run) -> Iterator[tuple[Any, Feedback]]:
    """Yields ``(program, feedback)`` for each trial of ``run`` until the search is over (see
    :func:`symbo.sample`); a trial left without feedback is recorded as failed."""
    try:
        while True:
            feedback = run.next_feedback()
            if feedback is None:
                return
            try:
                yield feedback.program, feedback
            finally:
                if not feedback.is_finished:
                    feedback.fail("no feedback was given for this trial (the loop moved on)")
    finally:
        run.close()


class _NoBar:
    def update(self, feedback: Any) -> None:
        pass

    def close(self) -> None:
        pass


def _progress(enabled: bool, study: Study, total: int | None) -> Any:
    if not enabled:
        return _NoBar()
    from symbo.backends.progress import ProgressBar

    return ProgressBar.for_study(study, total)
