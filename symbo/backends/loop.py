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
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from symbo.algorithms.base import Algorithm, AlgorithmError, PastTrial
from symbo.backends.enqueue import complete, is_partial
from symbo.backends.executors import Executor, Task, executor_for, format_error
from symbo.backends.rewards import check_reward
from symbo.backends.storage import StorageError, worker_alive, worker_id
from symbo.backends.storage.base import check_step
from symbo.backends.storage.rows import bulk
from symbo.core import SymbolicError, SymbolicValueError
from symbo.dsl import DNA, materialize

if TYPE_CHECKING:
    from symbo.backends.study import Study
    from symbo.backends.trial import Trial

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
        try:
            step = check_step(step)
        except StorageError as e:
            raise SymbolicValueError(f"trial {self.trial.id}: {e}") from None
        reward, error = check_reward(value, 1)
        if error is not None:
            raise SymbolicValueError(f"trial {self.trial.id}: report at step {step}: "
                                     f"{error.replace('the objective returned', 'the value is')}")
        if self.trial.reports and step <= self.trial.reports[-1][0]:
            raise SymbolicValueError(
                f"trial {self.trial.id}: report steps must increase "
                f"(got {step} after {self.trial.reports[-1][0]})"
            )
        self.study.report(self.trial, step, reward, holder=self._run.worker)  # type: ignore[arg-type]

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
    exhausted); ``limit`` is how many trials this run starts at most (Optuna's ``n_trials``;
    None: no limit). ``dead_trials`` says what happens to trials left running by a dead
    worker: run them again (``"retry"``) or record them as failed (``"fail"``).
    """

    def __init__(self, study: Study, algorithm: Algorithm, num_trials: int | None,
                 early_stopping: Any = None, dead_trials: str = "retry",
                 heartbeat_timeout: float = 60.0, *, limit: int | None = None) -> None:
        if dead_trials not in ("retry", "fail"):
            raise SymbolicValueError(f"dead_trials must be 'retry' or 'fail', got {dead_trials!r}")
        if not isinstance(algorithm, Algorithm):
            raise SymbolicValueError(
                f"the search needs an sb.algorithms.Algorithm, got {type(algorithm).__name__}")
        for name, value in (("num_trials", num_trials), ("limit", limit)):
            if value is not None and value < 0:
                raise SymbolicValueError(f"{name} must be >= 0, got {value}")
        self.limit = limit
        self.started = 0  # trials this run started
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
        self.retry: list[Trial] = []   # trials of dead workers, to run again
        self.queued: list[Trial] = []  # enqueued trials (pending), to run before new ones
        self.restored: set[int] = set()  # trials the algorithm was told of as proposed
        self._spare: DNA | None = None  # proposed, not used by an enqueued trial: runs next
        self._restore(dead_trials, heartbeat_timeout)
        budget = num_trials
        if limit is not None:  # Optuna's way: this many more (enqueued ones among them)
            budget = sum(t.status != "pending" for t in study.trials) + limit
        if budget is not None and study.num_trials != budget:  # the budget is in the record
            study.set_budget(budget)
        self._stop_heartbeat = threading.Event()
        self._heartbeat: threading.Thread | None = None
        if study.storage.shared:
            self._heartbeat = threading.Thread(target=self._beat, daemon=True,
                                               name="symbo-heartbeat")
            self._heartbeat.start()

    # ---- restoring a study ---------------------------------------------------------------
    def _restore(self, dead_trials: str, heartbeat_timeout: float) -> None:
        """Tells the algorithm the stored trials (the one record of the search), then gives
        it back what they cannot: its saved state, when that state is of this record."""
        with bulk():
            self._replay(dead_trials, heartbeat_timeout)

    def _replay(self, dead_trials: str, heartbeat_timeout: float) -> None:
        study = self.study
        study.skip_unreadable = True  # a trial that cannot be read is reported and left out
        trials = study.trials
        for trial in study.dead_trials(heartbeat_timeout) if trials else []:
            if dead_trials == "retry":
                self.retry.append(trial)  # claimed (compare-and-set) when its turn comes
                logger.info("trial %d of a dead worker will run again", trial.id)
            elif study.finish(trial, "failed", None, "its worker died (dead_trials='fail')",
                              holder=trial.worker):
                logger.info("trial %d of a dead worker is recorded as failed", trial.id)
        stored = study.trials
        trials = [t for t in stored  # (enqueued with some decisions: told as they start)
                  if t.status != "pending" or not is_partial(t.dna, study.spec)]  # type: ignore[arg-type]
        self.algorithm.restore([self._past(t) for t in trials])
        self.restored.update(t.id for t in trials)
        self.told.update(t.id for t in trials if t.is_finished)
        self.queued.extend(t for t in stored if t.status == "pending")
        self._load_state(len(stored) + len(study.unreadable))

    def _past(self, trial: Trial) -> PastTrial:
        reward = self.study.signed(trial.reward) if self._rewarded(trial) else None  # type: ignore[arg-type]
        return PastTrial(trial.dna, trial.status, reward, trial.error, trial.id,
                         _Params(trial))

    def _load_state(self, count: int) -> None:
        try:
            saved = self.study.storage.load_algorithm_state(self.study.info.id)
        except StorageError as e:  # only what trials cannot give back is lost: reseeded
            logger.warning("%s; the algorithm goes on from the trials alone", e)
            saved = None
        state = saved.get("state") if isinstance(saved, dict) else None
        writer = saved.get("worker") if isinstance(saved, dict) else None
        usable = (isinstance(state, dict) and saved.get("trials") == count
                  and saved.get("algorithm") == type(self.algorithm).__name__
                  and (writer == self.worker or worker_alive(writer) is False))
        if usable:
            try:
                self.algorithm.load_state(state)  # type: ignore[arg-type]
                return
            except Exception as e:  # a state of another version of the algorithm
                logger.info("the saved algorithm state is not used (%s)", e)
        if count:
            # a stale state (saved before the last trials), another live process's, or none:
            # a fresh random stream (starting the seed's over would repeat those trials)
            self.algorithm.reseed(str(count))

    # ---- the loop's steps ----------------------------------------------------------------
    def next_trial(self) -> Trial | None:
        """Records the next trial (its program materialized); None when the search is over.

        Trials of dead workers run again first, then enqueued ones (each claimed by
        compare-and-set, so that of several processes exactly one runs it), then new ones
        the algorithm proposes, up to the budget."""
        self.sync()
        if self.limit is not None and self.started >= self.limit:
            return None
        trial = self._claim_next() or self._new_trial()
        if trial is not None:
            self.started += 1
            self.mine.add(trial.id)  # ours now: the heartbeat keeps it alive
        return trial

    def _claim_next(self) -> Trial | None:
        while self.retry or self.queued:
            trial = (self.retry or self.queued).pop(0)
            proposal = dna = None
            if trial.status == "pending" and is_partial(trial.dna, self.study.spec):  # type: ignore[arg-type]
                proposal, dna = self._complete(trial)
            if not self.study.claim(trial, self.worker, dna):
                self._spare = proposal  # (still the algorithm's: the next new trial runs it)
                continue  # another process claimed it first
            if proposal is not None and proposal == trial.dna:
                self.restored.add(trial.id)  # the algorithm's own proposal, as it stands
            else:
                self._spare = proposal  # not run here: the next new trial runs it
            if trial.id not in self.restored:  # enqueued since: the algorithm hears of it now
                self.restored.add(trial.id)
                self.algorithm.restore([PastTrial(trial.dna, "running", number=trial.id,
                                                  params=dict(trial.params))])
            trial.program = self.make_program(trial.dna, check=True)
            return trial
        return None

    def _complete(self, trial: Trial) -> tuple[DNA | None, DNA]:
        """The algorithm's proposal (None when it has none left) and the DNA of a trial
        enqueued with some of its decisions: those, the others the proposal's."""
        spec = self.study.spec
        assert spec is not None
        proposal, self._spare = self._spare, None
        if proposal is None:
            try:
                proposal = self.algorithm.propose()
            except AlgorithmError:
                proposal = None  # (e.g. a grid that has proposed every point: random then)
        rng = random.Random(f"{self.study.name}:{trial.id}:{self.algorithm.num_proposed}")
        try:
            return proposal, complete(spec, dict(trial.params), proposal, rng)
        except SymbolicError as e:  # (checked when enqueued: another version of the space?)
            self._spare = proposal
            raise StorageError(f"study {self.study.name!r}: enqueued trial {trial.id}: its "
                               f"params {dict(trial.params)} do not fit the space ({e})") from None

    def _new_trial(self) -> Trial | None:
        storage, study_id = self.study.storage, self.study.info.id
        if self.num_trials is not None and storage.count_trials(study_id) >= self.num_trials:
            return None
        dna, self._spare = self._spare, None  # a proposal an enqueued trial did not use
        try:
            dna = dna if dna is not None else self.algorithm.propose()
        except AlgorithmError as e:
            if getattr(self.algorithm, "exhausted", False):
                logger.info("search ended: %s", e)
                return None
            raise
        # symbo's own algorithms make valid DNA by construction; others' DNA is checked
        program = self.make_program(dna, check=not _trusted(self.algorithm))
        trial = self.study.new_trial(dna, program, self.worker, self.num_trials,
                                     params=self.initial_params(dna))
        if trial is None:  # other workers used up the budget meanwhile
            self.algorithm.on_failure(dna, "not run: the study reached its number of trials")
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
        """Tells the algorithm about trials other workers finished since the last sync, and
        queues trials enqueued since."""
        for trial in self.study.refresh():
            if trial.status == "pending" and trial.id not in self.mine \
                    and all(q.id != trial.id for q in self.queued):
                self.queued.append(trial)
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
        self._finish(trial, "completed", value, None)

    def stop(self, trial: Trial) -> None:
        last = trial.last_report
        self._finish(trial, "stopped", last[1] if last else None, None)

    def fail(self, trial: Trial, error: str) -> None:
        if self._finish(trial, "failed", None, error):
            last = error.strip().splitlines()[-1] if error.strip() else error
            logger.warning("trial %d failed: %s", trial.id, last)

    def _finish(self, trial: Trial, status: str, reward: Any, error: str | None) -> bool:
        self.mine.discard(trial.id)
        if not self.study.finish(trial, status, reward, error, holder=self.worker):
            # another process took the trial over (its worker seemed dead): its result counts
            logger.warning("trial %d was taken over by another process; this run's result is "
                           "not recorded", trial.id)
            return False
        self.told.add(trial.id)
        self._tell(trial)
        if time.monotonic() - self._saved_at > STATE_SAVE_INTERVAL:
            self.save_state()
        return True

    def should_stop(self, trial: Trial) -> bool:
        if self.policy is None or not trial.reports:
            return False
        return bool(self.policy.should_stop(trial, self.study.trials))

    def save_state(self) -> None:
        """Saves what the trials cannot give back (the algorithm's small state), marked with
        the number of trials it goes with: a resumed search uses it only for that record."""
        self._saved_at = time.monotonic()
        try:
            state = self.algorithm.state
        except Exception as e:  # an algorithm whose state is not serializable: reseeded
            logger.debug("algorithm state not saved: %s", e)
            state = None
        storage, study_id = self.study.storage, self.study.info.id
        try:
            storage.save_algorithm_state(study_id, {
                "algorithm": type(self.algorithm).__name__, "state": state,
                "trials": storage.count_trials(study_id), "worker": self.worker})
        except StorageError as e:  # e.g. a state JSON cannot hold: the trials still count
            logger.warning("the algorithm's state was not saved: %s", e)

    def close(self) -> None:
        self._stop_heartbeat.set()
        if self._spare is not None:  # proposed, never run: the algorithm stops waiting for it
            self.algorithm.on_failure(self._spare, "not run: the search ended")
            self._spare = None
        self.save_state()

    def _beat(self) -> None:
        while not self._stop_heartbeat.wait(HEARTBEAT_INTERVAL):
            running = list(self.mine)
            try:
                self.study.storage.heartbeat(self.study.info.id, running)
            except Exception as e:  # never let the heartbeat thread kill the search
                logger.debug("heartbeat failed: %s", e)


class _Params(Mapping[str, Any]):
    """A trial's params as :class:`PastTrial` hands them on: read from the trial (decoded
    from the storage) only if the algorithm reads them."""

    __slots__ = ("_trial",)

    def __init__(self, trial: Trial) -> None:
        self._trial = trial

    def __getitem__(self, key: str) -> Any:
        return self._trial.params[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._trial.params)

    def __len__(self) -> int:
        return len(self._trial.params)

    def __repr__(self) -> str:
        return repr(self._trial.params)


def _trusted(algorithm: Algorithm) -> bool:
    """Whether the class that defines the algorithm's ``propose`` declares that it makes
    valid DNA (a subclass overriding ``propose`` is checked again)."""
    for cls in type(algorithm).__mro__:
        if cls is Algorithm:  # its propose is the template that calls _propose
            break
        if "propose" in cls.__dict__ or "_propose" in cls.__dict__:
            return bool(cls.__dict__.get("proposes_valid_dna", False))
    return False


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
               num_trials: int | None, *, limit: int | None = None, workers: int = 1,
               backend: str | Executor = "local",
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
                          heartbeat_timeout, limit=limit)
    task = coordinator.make_task(objective, study, tuple(catch))
    bar = _progress(progress, study, study.num_trials if limit is not None else num_trials)
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
