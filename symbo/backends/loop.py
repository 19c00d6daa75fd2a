"""The search loop: ``sb.sample`` (you evaluate) and ``sb.tune`` (symbo calls your objective).

The loop asks the algorithm for DNA, materializes the space, records the trial in the study
(committed before the program is handed out), hands the program to the user or the
objective, records the result, and feeds the reward back. A trial that raises, returns
NaN/inf or a non-number is recorded as failed with the error; the algorithm is told and the
search goes on. A trial left without feedback is recorded as failed, never re-yielded.

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
import random
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from typing import Any

from symbo.algorithms.base import Algorithm, AlgorithmError, _rng_state
from symbo.backends.storage import Storage, worker_alive, worker_id
from symbo.backends.study import Study, Trial, check_reward
from symbo.core import SymbolicValueError
from symbo.dsl import DNA, materialize

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

    def __init__(self, run: _Run, trial: Trial) -> None:
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
            error = "".join(traceback.format_exception(type(error), error, error.__traceback__))
        self._finished = True
        self._run.fail(self.trial, str(error))

    def _check_open(self) -> None:
        if self._finished:
            raise SymbolicValueError(
                f"trial {self.trial.id} is already {self.trial.status}; feedback goes once"
            )


class _Run:
    """One process's part of a search: its algorithm, policy and trials, over a study."""

    def __init__(self, study: Study, algorithm: Algorithm, num_trials: int | None,
                 early_stopping: Any, dead_trials: str, heartbeat_timeout: float) -> None:
        if dead_trials not in ("retry", "fail"):
            raise SymbolicValueError(f"dead_trials must be 'retry' or 'fail', got {dead_trials!r}")
        self.study = study
        self.algorithm = algorithm
        self.num_trials = num_trials
        self.policy = early_stopping
        self.worker = worker_id()
        self.told: set[int] = set()  # trials whose result the algorithm has heard
        self.mine: set[int] = set()  # trials proposed by this run's algorithm and still open
        self._saved_at = 0.0
        self._lock = threading.Lock()
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
        if not _is_memory(study.storage):
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
    def next_trial(self) -> tuple[Any, Trial] | None:
        """Records the next trial and returns (program, trial); None when the search is over."""
        self.sync()
        if self.retry:
            trial = self.retry.pop(0)
            self.study.restart(trial, self.worker)
            self.mine.add(trial.id)  # ours now: the heartbeat keeps it alive
            program = materialize(self.study.space, trial.dna, spec=self.study.spec,
                                  where=self.study.where)
            trial.program = program
            return program, trial
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
        program = materialize(self.study.space, dna, spec=self.study.spec, where=self.study.where,
                              check=not trusted)
        trial = self.study.new_trial(dna, program, self.worker, self.num_trials)
        if trial is None:  # other workers used up the budget meanwhile
            self.algorithm.on_failure(dna, "not run: the study reached its number of trials")
            return None
        self.mine.add(trial.id)
        return program, trial

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
            running = [n for n in list(self.mine)]
            try:
                self.study.storage.heartbeat(self.study.info.id, running)
            except Exception as e:  # never let the heartbeat thread kill the search
                logger.debug("heartbeat failed: %s", e)


def _is_memory(storage: Storage) -> bool:
    return type(storage).__name__ == "InMemoryStorage"


def _json_reward(reward: Any) -> Any:
    return list(reward) if isinstance(reward, tuple) else reward


def _open(space: Any, algorithm: Algorithm, study: Study | None, storage: Any,
          study_name: str | None, objectives: tuple[str, ...], where: Any,
          load_if_exists: bool) -> Study:
    if not isinstance(algorithm, Algorithm):
        raise SymbolicValueError(
            f"the search needs an sb.algorithms.Algorithm, got {type(algorithm).__name__}"
        )
    if study is not None:
        return study
    return Study.create(space, algorithm, storage=storage, study_name=study_name,
                        objectives=objectives, where=where, load_if_exists=load_if_exists)


def sample(
    space: Any,
    algorithm: Algorithm,
    num_trials: int | None = 100,
    study: Study | None = None,
    *,
    storage: str | Storage | None = None,
    study_name: str | None = None,
    where: Callable[[Any], bool] | None = None,
    objectives: tuple[str, ...] = ("max",),
    early_stopping: Any = None,
    load_if_exists: bool = False,
    dead_trials: str = "retry",
    heartbeat_timeout: float = 60.0,
) -> Iterator[tuple[Any, Feedback]]:
    """Yields ``(program, feedback)`` until the study has ``num_trials`` trials (None: until
    the space or the algorithm is exhausted, or you stop iterating).

    ``storage`` is a URL (``"sqlite:///study.db"``; default: in memory) and ``study_name``
    names the study in it; ``load_if_exists=True`` continues a study of that name (several
    processes may do so at once: each tells its algorithm what the others found, and together
    they stop at ``num_trials``). ``where(marker)`` limits the search to some markers (the
    others stay in the programs, for a nested search). ``objectives`` are ``"max"``/``"min"``.
    ``early_stopping`` is a policy such as ``sb.algorithms.MedianStopping()``.
    ``dead_trials`` says what happens to trials left running by a dead worker: run them again
    (``"retry"``) or record them as failed (``"fail"``).
    """
    if num_trials is not None and num_trials < 0:
        raise SymbolicValueError(f"num_trials must be >= 0, got {num_trials}")
    study = _open(space, algorithm, study, storage, study_name, objectives, where, load_if_exists)
    run = _Run(study, algorithm, num_trials, early_stopping, dead_trials, heartbeat_timeout)
    try:
        while True:
            step = run.next_trial()
            if step is None:
                return
            program, trial = step
            feedback = Feedback(run, trial)
            try:
                yield program, feedback
            finally:
                if not feedback.is_finished:
                    feedback.fail("no feedback was given for this trial (the loop moved on)")
    finally:
        run.close()


def tune(
    objective: Callable[..., Any],
    space: Any,
    algorithm: Algorithm,
    num_trials: int | None = 100,
    *,
    storage: str | Storage | None = None,
    study_name: str | None = None,
    study: Study | None = None,
    workers: int = 1,
    backend: str = "local",
    where: Callable[[Any], bool] | None = None,
    objectives: tuple[str, ...] = ("max",),
    early_stopping: Any = None,
    load_if_exists: bool = False,
    dead_trials: str = "retry",
    heartbeat_timeout: float = 60.0,
    timeout: float | None = None,
    catch: tuple[type[BaseException], ...] = (Exception,),
    progress: bool = False,
) -> Study:
    """Runs ``objective(program)`` (or ``objective(program, feedback)``) for each trial.

    The objective returns the reward (a tuple with several objectives); returning None after
    ``feedback.should_stop()`` said yes stops the trial early, and returning None after reports
    completes it with the last reported value. Exceptions of the types in ``catch`` fail the
    trial (recorded with the traceback) and the search goes on; others (and
    KeyboardInterrupt) end it, with everything finished so far recorded. ``workers=N`` runs N
    trials at once in processes (``backend="local"``) or as Ray tasks (``backend="ray"``);
    ``timeout`` (seconds) fails a trial that runs longer (with workers). ``progress=True``
    shows a progress bar with the best value so far. Returns the study; see :func:`sample`
    for the other arguments.
    """
    if workers < 1:
        raise SymbolicValueError(f"workers must be >= 1, got {workers}")
    if backend not in ("local", "ray"):
        raise SymbolicValueError(f"backend must be 'local' or 'ray', got {backend!r}")
    if workers > 1 or backend == "ray" or timeout is not None:
        from symbo.backends.parallel import run_parallel

        study = _open(space, algorithm, study, storage, study_name, objectives, where,
                      load_if_exists)
        run = _Run(study, algorithm, num_trials, early_stopping, dead_trials, heartbeat_timeout)
        try:
            run_parallel(run, objective, workers=workers, backend=backend, timeout=timeout,
                         progress=progress)
        finally:
            run.close()
        return study
    wants_feedback = takes_feedback(objective)
    bar = _progress(progress, num_trials)
    out: Study | None = study
    try:
        for program, feedback in sample(space, algorithm, num_trials, study, storage=storage,
                                        study_name=study_name, where=where, objectives=objectives,
                                        early_stopping=early_stopping,
                                        load_if_exists=load_if_exists, dead_trials=dead_trials,
                                        heartbeat_timeout=heartbeat_timeout):
            out = feedback.study
            try:
                result = objective(program, feedback) if wants_feedback else objective(program)
            except catch as e:
                if not feedback.is_finished:
                    feedback.fail(e)
                bar.update(feedback)
                continue
            finish(feedback, result)
            bar.update(feedback)
    finally:
        bar.close()
    if out is None:  # no trial ran: open (or create) the study to return it
        out = _open(space, algorithm, None, storage, study_name, objectives, where, True)
    return out


def finish(feedback: Feedback, result: Any) -> None:
    """Completes a trial from an objective's return value (see :func:`tune`)."""
    if feedback.is_finished:
        return
    if result is None and feedback.stop_advised:
        feedback.stop()
    elif result is None and feedback.trial.reports:
        feedback.done(feedback.trial.reports[-1][1])
    else:
        feedback.done(result)


def takes_feedback(fn: Callable[..., Any]) -> bool:
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


class _NoBar:
    def update(self, feedback: Any) -> None:
        pass

    def close(self) -> None:
        pass


def _progress(enabled: bool, total: int | None) -> Any:
    if not enabled:
        return _NoBar()
    from symbo.backends.progress import ProgressBar

    return ProgressBar(total)
