"""Studies: the record of a search, kept in a storage, and the queries on it.

The storage is the one record: a study's space, objectives, budget and trials are read from
it (and nothing else), by this process or another one; a search resumes from it. A trial is a
:class:`~symbo.backends.trial.Trial` (``symbo.backends.trial``); stored records are read back
as trials by ``symbo.backends.study_records``.

>>> import symbo as sb
>>> study = sb.tune(lambda p: -(p.x - 3) ** 2, sb.Dict(x=sb.int_range(0, 6, name="x")),
...                 sb.algorithms.Grid(), num_trials=7)
>>> study.best_trial.program.x, study.best_value, study.best_params, len(study.trials)
(3, 0.0, {'x': 3}, 7)
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

from symbo.algorithms.base import Algorithm, Reward, dominates
from symbo.backends import export
from symbo.backends.enqueue import check_define_by_run_params, check_params
from symbo.backends.loop import run_search
from symbo.backends.rewards import check_reward, reward_to_json  # noqa: F401 - re-exported
from symbo.backends.space_record import (
    StudyMismatchError,
    check_same_space,
    check_storable,
    read_space,
    storable_json,
)
from symbo.backends.storage import (
    Storage,
    StorageError,
    StudyInfo,
    dna_to_json,
    open_storage,
    worker_alive,
)
from symbo.backends.storage.base import STATUSES
from symbo.backends.storage.rows import bulk
from symbo.backends.study_records import trial_from_record
from symbo.backends.trial import Trial
from symbo.core import SymbolicError, SymbolicValueError, from_json, to_json
from symbo.core.formatting import format as sym_format
from symbo.dsl import DNA, DNASpec, TracedSpace, dna_spec

logger = logging.getLogger("symbo")


class Study:
    """The trials of a search over one space, with one set of objectives, in a storage.

    ``objectives`` gives each objective's direction, ``"max"`` or ``"min"``; a trial's reward is
    kept as given and ``signed(reward)`` is the "higher is better" form algorithms see. Open
    one with :func:`symbo.load_study` or :func:`symbo.create_study`, or get one from
    :func:`symbo.tune`.

    A stored trial that cannot be read (a corrupted row) raises :class:`StorageError` naming
    the study, trial and column; with ``skip_unreadable=True`` (what a resumed search uses) it
    is left out instead, reported once in the log and kept in :attr:`unreadable`.
    """

    def __init__(self, storage: Storage, info: StudyInfo, space: Any, spec: DNASpec | None,
                 algorithm: Algorithm | None = None, where: Callable[[Any], bool] | None = None) -> None:
        objectives = tuple(info.objectives)
        if not objectives or any(o not in ("max", "min") for o in objectives):
            raise SymbolicValueError(f"objectives must be 'max' or 'min' each, got {objectives!r}")
        self.storage = storage
        self.info = info
        self.space = space
        self.spec = spec
        self.algorithm = algorithm
        self.where = where
        self.space_error: str | None = None  # why ``space`` is None, for a loaded study
        self.skip_unreadable = False
        #: trials that could not be read: number -> why
        self.unreadable: dict[int, str] = {}
        self._trials: dict[int, Trial] = {}
        self._synced_at: float | None = None

    # ---- creating and opening --------------------------------------------------------------
    @classmethod
    def create(cls, space: Any, algorithm: Algorithm | None, *, storage: str | Storage | None = None,
               study_name: str | None = None, objectives: tuple[str, ...] = ("max",),
               where: Callable[[Any], bool] | None = None, load_if_exists: bool = False) -> Study:
        """A new study (or, with ``load_if_exists``, the existing one of that name, after
        checking that its space is the same: the structural fingerprints of the two spaces'
        JSON must agree, else a StudyMismatchError shows a diff).

        A storage that keeps data refuses a space (or algorithm) it cannot store with a
        SerializationError naming the path and the fix, before anything is written
        (:func:`symbo.backends.space_record.check_storable`)."""
        objectives = tuple(objectives)
        if not objectives or any(o not in ("max", "min") for o in objectives):
            raise SymbolicValueError(f"objectives must be 'max' or 'min' each, got {objectives!r}")
        store = open_storage(storage)
        spec = dna_spec(space, where=where)
        space_json = check_storable(space, store, algorithm=algorithm)
        info = store.create_study(study_name or "study", objectives=objectives,
                                  space_json=space_json, space_text=_space_text(space),
                                  algorithm_json=storable_json(algorithm, "algorithm", store),
                                  load_if_exists=load_if_exists)
        if tuple(info.objectives) != objectives:
            raise StudyMismatchError(
                f"study {info.name!r} has objectives {tuple(info.objectives)}, not {objectives}")
        continues = getattr(space, "continues", None)  # a space that grows while trials run
        if continues is None or not continues(info.space_json):
            check_same_space(info, space, space_json)
        return cls(store, info, space, spec, algorithm, where)

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def objectives(self) -> tuple[str, ...]:
        return tuple(self.info.objectives)

    @property
    def num_trials(self) -> int | None:
        """The study's budget: the number of trials asked for (None: none recorded)."""
        return self.info.num_trials

    def set_budget(self, num_trials: int | None) -> None:
        """Records the study's budget in the storage."""
        self.storage.set_budget(self.info.id, num_trials)
        self.info.num_trials = num_trials
        self.info.metadata["num_trials"] = num_trials

    # ---- recording (used by the search loop) -----------------------------------------------
    def new_trial(self, dna: DNA, program: Any, worker: str, max_trials: int | None,
                  params: dict[str, Any] | None = None) -> Trial | None:
        """Records a running trial; None when the study already has ``max_trials`` trials.
        ``params`` default to those of the DNA."""
        # a memory storage keeps the program object itself; others store its JSON for export
        if params is None:  # the loop materialized the DNA: it fits the spec
            params = dna.to_params(self.spec, checked=True) if self.spec is not None else {}
        program_json = storable_json(program, "program", self.storage) \
            if self.storage.shared else None
        number = self.storage.create_trial(self.info.id, dna_json=dna_to_json(dna), worker=worker,
                                           program_json=program_json,
                                           max_trials=max_trials, params=params)
        if number is None:
            return None
        trial = Trial(id=number, dna=dna, program=program, status="running", worker=worker,
                      params=params)
        self._trials[number] = trial
        return trial

    def claim(self, trial: Trial, worker: str, dna: DNA | None = None) -> bool:
        """Makes ``worker`` run ``trial`` (pending, or running under a dead worker) if no other
        process claimed it first (compare-and-set on the worker that held it). ``dna``: the
        completed point of a trial enqueued with some of its decisions, recorded with it."""
        holder = None if trial.status == "pending" else trial.worker
        params = None
        if dna is not None:
            params = dna.to_params(self.spec) if self.spec is not None else {}
        if not self.storage.claim_trial(self.info.id, trial.id, worker=worker, holder=holder,
                                        dna_json=None if dna is None else dna_to_json(dna),
                                        params=params):
            return False
        trial.status, trial.worker, trial.reports = "running", worker, []
        if dna is not None:
            trial.dna, trial.params = dna, params  # type: ignore[assignment]
        return True

    def restart(self, trial: Trial, worker: str) -> None:
        """Runs a trial of a dead worker again (StorageError if another process took it)."""
        if not self.claim(trial, worker):
            raise StorageError(f"study {self.name!r}: trial {trial.id} was claimed by another "
                               "process")

    def finish(self, trial: Trial, status: str, reward: Reward | None = None,
               error: str | None = None, *, holder: str | None = None) -> bool:
        """Records a trial's end (with ``holder``: only while that worker runs it; False when
        another took it over)."""
        done = self.storage.finish_trial(self.info.id, trial.id, status,
                                         reward=reward_to_json(reward), error=error, holder=holder)
        if done:
            trial.status, trial.reward, trial.error = status, reward, error
        return done

    def report(self, trial: Trial, step: int, value: float, *, holder: str | None = None) -> None:
        self.storage.add_report(self.info.id, trial.id, step, value, holder=holder)
        trial.reports.append((step, value))

    # ---- define-by-run spaces, which grow while trials run ------------------------------------
    def set_params(self, trial: Trial, params: dict[str, Any],
                   user_attrs: dict[str, Any] | None = None) -> None:
        """Records the params of a running trial (a define-by-run trial's are the markers its
        run met, known when it ends) and its user attrs."""
        trial.params = dict(params)
        if user_attrs is not None:
            trial.user_attrs = dict(user_attrs)
        self.storage.set_trial_params(self.info.id, trial.id, trial.params, trial.user_attrs)

    def update_space(self, update: Callable[[Any, str | None], tuple[Any, str | None]]) -> Any:
        """Changes the stored space in one transaction (``update(space_json, space_text)``
        gives the new JSON and text; see ``Storage.update_space``); returns the new JSON."""
        new = self.storage.update_space(self.info.id, update)
        self.info.space_json = new
        return new

    def stored_space_json(self) -> Any:
        """The study's space as stored now (other processes may have changed it)."""
        return self.storage.load_study(self.name).space_json

    def enqueue_trial(self, params: dict[str, Any]) -> int:
        """Asks for a trial with these params (``{decision name or id: literal value}``, as
        ``trial.params``; all of its decisions or only some, as Optuna's): the next trial of
        any process searching this study runs it, before the algorithm proposes new ones;
        the decisions not given are the algorithm's (drawn at random where the given choices
        make new decisions active). Returns its number.

        Each given decision is checked against the space now: an unknown name, a decision
        made inactive by another given choice, a value that is not a candidate or is out of
        range raise ``DNAError`` naming the study and the decision; nothing is recorded then.

        On a define-by-run study (no space: the objective's ``trial.suggest_*`` calls make
        it) params may name decisions no trial has met yet: the trial's run takes each value
        when it meets that name. A decision the space knows is checked now; one it does not
        know yet is checked when met, and a value that does not fit then fails that trial with
        an error naming the decision and the value (Optuna would warn and sample instead).

        >>> import symbo as sb
        >>> space = sb.Dict(lr=sb.float_range(0.001, 0.1, name="lr"), depth=sb.int_range(1, 4, name="depth"))
        >>> study = sb.create_study("memory:", "s", space)
        >>> study.enqueue_trial({"lr": 0.01, "depth": 3}), study.enqueue_trial({"depth": 2})
        (0, 1)
        >>> study.optimize(lambda p: p.lr * p.depth, sb.algorithms.Random(seed=0), num_trials=3)
        >>> study.trials[0].params, study.trials[1].params["depth"]
        ({'lr': 0.01, 'depth': 3}, 2)
        """
        if self.spec is None:
            raise SymbolicValueError(f"study {self.name!r}: its space is not known here; open it "
                                     "with sb.load_study(storage, name, space=...) to enqueue")
        if isinstance(self.space, TracedSpace):  # define-by-run: names may not be met yet
            fixed = check_define_by_run_params(self.name, self.space, params)
            return self.storage.enqueue_trial(self.info.id, dna_json=[None, []], params=fixed)
        fixed, dna = check_params(self.name, self.spec, params)
        if dna is None:  # some decisions: completed when the trial starts (stored empty)
            return self.storage.enqueue_trial(self.info.id, dna_json=[None, []], params=fixed)
        return self.storage.enqueue_trial(self.info.id, dna_json=dna_to_json(dna),
                                          params=dna.to_params(self.spec))

    # ---- reading ---------------------------------------------------------------------------
    def refresh(self) -> list[Trial]:
        """Reads trials changed in the storage since the last refresh; returns them."""
        with bulk():
            records = self.storage.get_trials(
                self.info.id, updated_after=self._synced_at,
                on_error=self._unreadable if self.skip_unreadable else None)
            trial_dna = getattr(self.space, "trial_dna", None) if records else None
            changed = []
            for record in records:
                if self._synced_at is None or record.updated_at > self._synced_at:
                    self._synced_at = record.updated_at
                old = self._trials.get(record.number)
                if old is not None and old.status == record.status and \
                        len(old.reports) == len(record.reports) and old.worker == record.worker:
                    # this process wrote the change itself: the trial object is already current
                    old.started_at, old.finished_at = record.started_at, record.finished_at
                    old.heartbeat_at = record.heartbeat_at
                    changed.append(old)
                    continue
                try:
                    trial = trial_from_record(self, record, trial_dna)
                except StorageError as e:
                    if not self.skip_unreadable:
                        raise
                    self._unreadable(record.number, e)
                    continue
                self.unreadable.pop(record.number, None)
                self._trials[record.number] = trial
                changed.append(trial)
        return changed

    def _unreadable(self, number: int, error: StorageError) -> None:
        if number not in self.unreadable:
            logger.warning("%s; the trial is skipped", error)
        self.unreadable[number] = str(error)
        self._trials.pop(number, None)

    @property
    def trials(self) -> list[Trial]:
        """All trials, in number order (read from the storage)."""
        self.refresh()
        return [self._trials[n] for n in sorted(self._trials)]

    def __len__(self) -> int:
        return len(self.trials)

    def __iter__(self) -> Iterator[Trial]:
        return iter(self.trials)

    @property
    def is_multi_objective(self) -> bool:
        return len(self.objectives) > 1

    def signed(self, reward: Reward) -> Reward:
        """The reward as "higher is better" (minimized objectives negated)."""
        if isinstance(reward, tuple):
            return tuple(v if o == "max" else -v for v, o in zip(reward, self.objectives))
        return reward if self.objectives[0] == "max" else -reward

    def completed(self) -> list[Trial]:
        return [t for t in self.trials if t.status == "completed"]

    @property
    def best_trial(self) -> Trial | None:
        """The completed trial with the best reward (single objective); None before any."""
        if self.is_multi_objective:
            raise SymbolicValueError(
                "a study with several objectives has no single best trial; use pareto_front"
            )
        done = self.completed()
        if not done:
            return None
        return max(done, key=lambda t: self.signed(t.reward))  # type: ignore[arg-type]

    @property
    def best_params(self) -> dict[str, Any]:
        """The best trial's ``params`` (as Optuna's ``study.best_params``); SymbolicValueError
        before any trial completed."""
        return dict(self._best("best_params").params)

    @property
    def best_value(self) -> float:
        """The best trial's reward (as Optuna's ``study.best_value``)."""
        return self._best("best_value").reward  # type: ignore[return-value]

    def _best(self, what: str) -> Trial:
        best = self.best_trial
        if best is None:
            raise SymbolicValueError(f"study {self.name!r} has no completed trial yet: no {what}")
        return best

    def best_trials(self, k: int = 5) -> list[Trial]:
        """The ``k`` best completed trials, best first (single objective)."""
        done = self.completed()
        return sorted(done, key=lambda t: self.signed(t.reward), reverse=True)[:k]  # type: ignore[arg-type]

    @property
    def pareto_front(self) -> list[Trial]:
        """The completed trials that no other completed trial dominates."""
        done = self.completed()
        signed = [self.signed(t.reward) for t in done]  # type: ignore[arg-type]
        return [t for i, t in enumerate(done)
                if not any(dominates(signed[j], signed[i]) for j in range(len(done)) if j != i)]

    @property
    def history(self) -> list[tuple[int, Reward | None, Reward | None]]:
        """(trial id, reward, best reward so far) for every finished trial, in order."""
        out: list[tuple[int, Reward | None, Reward | None]] = []
        best: Reward | None = None
        for t in self.trials:
            if not t.is_finished:
                continue
            if t.status == "completed" and not self.is_multi_objective:
                if best is None or self.signed(t.reward) > self.signed(best):  # type: ignore[arg-type,operator]
                    best = t.reward
            out.append((t.id, t.reward, best))
        return out

    def summary(self) -> dict[str, Any]:
        counts = {s: 0 for s in STATUSES}
        for t in self.trials:
            counts[t.status] += 1
        return {"name": self.name, "trials": sum(counts.values()), **counts}

    def dead_trials(self, heartbeat_timeout: float) -> list[Trial]:
        """Running trials whose worker is gone (same host: its process ended; elsewhere: no
        heartbeat for ``heartbeat_timeout`` seconds)."""
        out = []
        for t in self.trials:
            if t.status != "running":
                continue
            alive = worker_alive(t.worker)
            if alive is False or (alive is None and (t.heartbeat_at or 0) < time.time() - heartbeat_timeout):
                out.append(t)
        return out

    # ---- searching -------------------------------------------------------------------------
    def optimize(self, objective: Callable[..., Any], algorithm: Algorithm | None = None,
                 num_trials: int | None = None, *, workers: int = 1, **kwargs: Any) -> None:
        """Runs ``num_trials`` more trials of this study, enqueued ones first (as Optuna's
        ``study.optimize``; each process that calls it runs that many; None: until the
        algorithm or the space is exhausted, or ``time_budget`` ends) with ``algorithm``
        (default: the study's). The other arguments are :func:`symbo.tune`'s.

        >>> import symbo as sb
        >>> study = sb.create_study("memory:", "s", sb.Dict(x=sb.int_range(0, 9, name="x")))
        >>> study.optimize(lambda p: p.x, sb.algorithms.Random(seed=0), num_trials=5)
        >>> study.optimize(lambda p: p.x, sb.algorithms.Random(seed=1), num_trials=5)
        >>> len(study.trials), study.best_params == study.best_trial.params
        (10, True)
        """
        run_search(self, objective, self._algorithm(algorithm), None, limit=num_trials,
                   workers=workers, **kwargs)

    def resume(self, objective: Callable[..., Any] | None = None, num_trials: int | None = None,
               **kwargs: Any) -> Study:
        """Continues this study: keeps finished trials, re-runs (or fails, ``dead_trials=
        'fail'``) trials of dead workers, restores the algorithm from the trials, and runs
        until the study has ``num_trials`` trials (default: its budget, the number asked for
        when it started). The other arguments are :func:`symbo.tune`'s."""
        if objective is None:
            raise SymbolicValueError("resume needs the objective (functions are not stored)")
        algorithm = self._algorithm(kwargs.pop("algorithm", None))
        target = num_trials if num_trials is not None else self.num_trials
        return run_search(self, objective, algorithm, target, **kwargs)

    def _algorithm(self, algorithm: Algorithm | None) -> Algorithm:
        if self.space is None:
            why = f" ({self.space_error})" if self.space_error else ""
            raise SymbolicValueError(
                f"study {self.name!r}: its space could not be loaded from {self.storage.url}"
                f"{why}; import the code that defines it, or open it with "
                "sb.load_study(storage, name, space=...)"
            )
        algorithm = algorithm if algorithm is not None else self.algorithm
        if algorithm is None:
            raise SymbolicValueError(
                f"study {self.name!r}: its algorithm could not be loaded; pass algorithm= to "
                "sb.load_study"
            )
        return algorithm

    # ---- export ----------------------------------------------------------------------------
    def to_records(self) -> list[dict[str, Any]]:
        """One JSON-compatible dict per trial: id, status, reward, ``params`` (the decisions as
        literal values, as stored: readable without the space), ``dna`` (its numbers), the
        program's text, reports, timings, worker and error."""
        return export.records(self)

    def export(self, path: str | os.PathLike, fmt: str | None = None) -> None:
        """Writes the trials to ``path`` as CSV or JSON (the records of :meth:`to_records`).

        CSV has one column per decision (named by the decision's name, or its id), holding
        the literal value (lists and dicts as JSON); a cell is blank where the decision was
        not active in that trial (under a candidate that was not chosen)."""
        fmt = fmt or ("json" if os.fspath(path).endswith(".json") else "csv")
        if fmt == "json":
            text = export.to_json_text(self)
        elif fmt == "csv":
            text = export.to_csv(self.to_records())
        else:
            raise SymbolicValueError(f"export format must be 'csv' or 'json', got {fmt!r}")
        with open(path, "w", encoding="utf-8", newline="") as f:
            f.write(text)

    def trials_dataframe(self) -> Any:
        """The trials as a pandas DataFrame (as Optuna's), one row per trial: ``number``,
        ``status`` (and ``state`` in Optuna's words), ``reward`` (``reward_0``, ... with several
        objectives; also as Optuna's ``value``/``values_0``...), ``params_<name>`` for each
        decision (its literal value; None where it was not active), ``user_attrs_<key>`` for
        each user attr (``trial.set_user_attr``), ``datetime_start``,
        ``datetime_complete``, ``duration``, ``reports`` (``[(step, value)]``), ``worker`` and
        ``error``. Needs pandas (``pip install 'symbo[pandas]'``)."""
        return export.data_frame(self)

    def __repr__(self) -> str:
        s = self.summary()
        best = ""
        if not self.is_multi_objective and self.best_trial is not None:
            best = f", best={self.best_trial.reward!r}"
        return (f"Study({self.name!r}, {s['trials']} trials: {s['completed']} completed, "
                f"{s['failed']} failed, {s['stopped']} stopped, {s['running']} running{best})")


def load_study(storage: str | Storage, study_name: str, *, space: Any = None,
               algorithm: Algorithm | None = None) -> Study:
    """Opens a stored study (a file that does not exist is an error, never created). Its space
    and algorithm are read back from the storage when the types they name are known here
    (symbolic classes, registered values, and functions and classes of modules this process
    imported: import your script or module first; nothing is imported for you); pass
    ``space=``/``algorithm=`` otherwise (a given space must be the one the study was started
    with). Trials' params, rewards and reports are always readable; when the space cannot be
    read, ``study.space_error`` and each ``trial.program_error`` say why (e.g. which module to
    import) and programs are None.

    >>> import symbo as sb, tempfile, os
    >>> url = "sqlite:///" + os.path.join(tempfile.mkdtemp(), "s.db")
    >>> _ = sb.tune(lambda p: p.x, sb.Dict(x=sb.one_of([1, 2])), sb.algorithms.Grid(),
    ...             num_trials=2, storage=url, study_name="demo")
    >>> study = sb.load_study(url, "demo")
    >>> [t.program.x for t in study.trials], study.best_trial.reward
    ([1, 2], 2.0)
    """
    store = open_storage(storage, create=False)
    info = store.load_study(study_name)
    space_error = None
    if space is None:
        space, space_error = read_space(info)
    else:
        try:
            given = to_json(space)
        except SymbolicError:
            given = None
        check_same_space(info, space, given)
    if algorithm is None and info.algorithm_json is not None:
        try:
            algorithm = from_json(info.algorithm_json)
        except SymbolicError:
            algorithm = None
    spec = dna_spec(space) if space is not None else None
    study = Study(store, info, space, spec, algorithm)
    study.space_error = space_error
    if info.num_trials is None:  # a file written before the budget had its column
        saved = store.load_algorithm_state(info.id)
        if isinstance(saved, dict) and isinstance(saved.get("num_trials"), int):
            info.num_trials = info.metadata["num_trials"] = saved["num_trials"]
    return study


def create_study(storage: str | Storage | None, study_name: str, space: Any = None, *,
                 objectives: tuple[str, ...] = ("max",), load_if_exists: bool = False,
                 algorithm: Algorithm | None = None) -> Study:
    """A new study of ``space`` in ``storage`` (as Optuna's ``create_study``); with
    ``load_if_exists=True`` the stored one of that name (its space must be the same), else a
    name already there is an error. Run it with :meth:`Study.optimize`. With no space, the
    objective given to ``optimize`` is the user's own code, and the space is discovered as
    trials run (define-by-run: ``objective(trial)`` with ``trial.suggest_*``, or
    ``objective()`` calling named markers inline).

    >>> import symbo as sb
    >>> study = sb.create_study("memory:", "quick", sb.Dict(x=sb.float_range(0.0, 1.0, name="x")),
    ...                         objectives=("min",))
    >>> study.optimize(lambda p: (p.x - 0.3) ** 2, sb.algorithms.Random(seed=0), num_trials=20)
    >>> round(study.best_params["x"], 1)
    0.3
    >>> study = sb.create_study("memory:", "optuna-style", objectives=("min",))
    >>> study.optimize(lambda trial: (trial.suggest_float("x", 0.0, 1.0) - 0.3) ** 2,
    ...                sb.algorithms.Random(seed=0), num_trials=20)
    >>> round(study.best_params["x"], 1)
    0.3
    """
    if space is None:  # define-by-run: the space is discovered as trials run
        space = TracedSpace(discovered=True)
    return Study.create(space, algorithm, storage=storage, study_name=study_name,
                        objectives=objectives, load_if_exists=load_if_exists)


# ---- helpers ---------------------------------------------------------------------------------
def _space_text(space: Any) -> str:
    return sym_format(space)

