"""``sb.sample`` (you evaluate) and ``sb.tune`` (symbo calls your objective): open a study,
then run the search loop on it (:mod:`symbo.backends.loop`).

>>> import symbo as sb
>>> study = sb.tune(lambda p: -(p.x - 3) ** 2, sb.Dict(x=sb.int_range(0, 6)),
...                 sb.algorithms.Grid(), num_trials=7)
>>> study.best_trial.program.x
3
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from symbo.algorithms.base import Algorithm
from symbo.backends.discovery import discovered_space
from symbo.backends.executors import Executor
from symbo.backends.loop import Feedback, coordinator_for, run_search, sample_trials
from symbo.backends.storage import Storage
from symbo.backends.study import Study
from symbo.core import SymbolicValueError


def default_algorithm(algorithm: Algorithm | None = None,
                      num_trials: int | None = None) -> Algorithm:
    """``algorithm``, or when None the default: ``sb.algorithms.Auto`` told the budget."""
    if algorithm is not None:
        return algorithm
    from symbo.algorithms import Auto

    return Auto(num_trials=num_trials)


def _open(space: Any, algorithm: Algorithm, study: Study | None, storage: Any,
          study_name: str | None, objectives: tuple[str, ...], where: Any,
          load_if_exists: bool) -> Study:
    if not isinstance(algorithm, Algorithm):
        raise SymbolicValueError(
            f"the search needs an sb.algorithms.Algorithm, got {type(algorithm).__name__}"
        )
    if study is not None:
        return study
    from symbo.dsl.dynamic import DynamicEvaluationContext

    if isinstance(space, DynamicEvaluationContext):  # PyGlove's pg.sample(context, ...)
        space = space.space
    return Study.create(space, algorithm, storage=storage, study_name=study_name,
                        objectives=objectives, where=where, load_if_exists=load_if_exists)


def sample(
    space: Any,
    algorithm: Algorithm | None = None,
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

    ``algorithm`` defaults to ``sb.algorithms.Auto()``, which picks by the space and by
    ``num_trials``.

    ``storage`` is a URL (``"sqlite:///study.db"``; default: in memory) and ``study_name``
    names the study in it; ``load_if_exists=True`` continues a study of that name (several
    processes may do so at once: each tells its algorithm what the others found, and together
    they stop at ``num_trials``). ``where(marker)`` limits the search to some markers (the
    others stay in the programs, for a nested search). ``objectives`` are ``"max"``/``"min"``.
    ``early_stopping`` is a policy such as ``sb.algorithms.MedianStopping()``.
    ``dead_trials`` says what happens to trials left running by a dead worker: run them again
    (``"retry"``) or record them as failed (``"fail"``).

    >>> import symbo as sb
    >>> for program, feedback in sb.sample(sb.Dict(x=sb.one_of([1, 2])), sb.algorithms.Grid(),
    ...                                    num_trials=None):
    ...     feedback(program.x)
    >>> [t.reward for t in feedback.study.trials]
    [1.0, 2.0]
    """
    if num_trials is not None and num_trials < 0:
        raise SymbolicValueError(f"num_trials must be >= 0, got {num_trials}")
    algorithm = default_algorithm(algorithm, num_trials)
    study = _open(space, algorithm, study, storage, study_name, objectives, where, load_if_exists)
    run = coordinator_for(study).run(study, algorithm, num_trials, early_stopping, dead_trials,
                                     heartbeat_timeout)
    yield from sample_trials(run)


def tune(
    objective: Callable[..., Any],
    space: Any = None,
    algorithm: Algorithm | None = None,
    num_trials: int | None = 100,
    *,
    storage: str | Storage | None = None,
    study_name: str | None = None,
    study: Study | None = None,
    workers: int = 1,
    backend: str | Executor = "local",
    where: Callable[[Any], bool] | None = None,
    objectives: tuple[str, ...] = ("max",),
    early_stopping: Any = None,
    load_if_exists: bool = False,
    dead_trials: str = "retry",
    heartbeat_timeout: float = 60.0,
    timeout: float | None = None,
    time_budget: float | None = None,
    catch: tuple[type[BaseException], ...] = (Exception,),
    progress: bool = False,
) -> Study:
    """Runs ``objective(program)`` (or ``objective(program, feedback)``) for each trial.

    With no ``space``, the objective is the user's own code and the space is discovered as
    trials run (define-by-run, :mod:`symbo.backends.discovery`): ``objective()`` calls named
    markers inline, or ``objective(trial)`` gets an Optuna-style trial (``trial.suggest_float``
    and the rest, :class:`~symbo.backends.live_trial.LiveTrial`). ``algorithm`` defaults to
    ``sb.algorithms.Auto()``.

    The objective returns the reward (a tuple with several objectives); returning None after
    ``feedback.should_stop()`` said yes stops the trial early, and returning None after reports
    completes it with the last reported value. In this process, exceptions of the types in
    ``catch`` fail the trial (recorded with the traceback) and the search goes on; others
    (and KeyboardInterrupt) end it, with everything finished so far recorded. ``workers=N``
    runs N trials at once in worker processes (``backend="local"``) or as Ray tasks
    (``backend="ray"``; or give an :class:`~symbo.backends.executors.Executor`); there,
    every exception fails only its trial. ``timeout`` (seconds, > 0) fails a trial that runs
    longer (it runs trials in worker processes); ``time_budget`` (seconds) starts no new trial
    after that long (the running ones finish). ``progress=True`` shows a progress bar with the
    best value so far. Returns the study; see :func:`sample` for the other arguments.
    """
    if workers < 1:
        raise SymbolicValueError(f"workers must be >= 1, got {workers}")
    algorithm = default_algorithm(algorithm, num_trials)
    if space is None and study is None:
        space = discovered_space(objective)
    study = _open(space, algorithm, study, storage, study_name, objectives, where, load_if_exists)
    return run_search(study, objective, algorithm, num_trials, workers=workers, backend=backend,
                      early_stopping=early_stopping, dead_trials=dead_trials,
                      heartbeat_timeout=heartbeat_timeout, timeout=timeout,
                      time_budget=time_budget, catch=catch, progress=progress)
