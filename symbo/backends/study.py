"""Studies: the record of a search, kept in a storage, and the queries on it.

>>> import symbo as sb
>>> study = sb.tune(lambda p: -(p.x - 3) ** 2, sb.Dict(x=sb.int_range(0, 6)),
...                 sb.algorithms.Grid(), num_trials=7)
>>> study.best_trial.program.x, study.best_trial.reward, len(study.trials)
(3, 0.0, 7)
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

import attrs

from symbo.algorithms.base import Algorithm, Reward, dominates
from symbo.backends.loop import run_search
from symbo.backends.rewards import check_reward  # noqa: F401 - re-exported
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
    TrialRecord,
    dna_from_json,
    dna_to_json,
    open_storage,
    worker_alive,
)
from symbo.backends.storage.base import FINISHED, reward_from_json, reward_to_json
from symbo.core import SymbolicError, SymbolicValueError, from_json, to_json
from symbo.core.formatting import format as sym_format
from symbo.dsl import DNA, DNASpec, dna_spec, materialize

STATUSES = ("pending", "running", "completed", "failed", "stopped")


@attrs.define(eq=False)
class Trial:
    """One evaluation of one point of the space.

    ``params`` are its decisions as literal values, ``{decision name (or id when unnamed):
    value}`` (``64``, not the index ``1``; the formatted text of candidates that are not plain
    data), stored with the trial so that a reader without the user's code sees them;
    ``sb.DNA.from_params(spec, trial.params)`` gives the DNA back. ``reward`` is the
    objective's value as the user gave it (a float, or a tuple with several objectives);
    ``reports`` are intermediate ``(step, value)`` measurements.

    >>> import symbo as sb
    >>> study = sb.tune(lambda p: p.batch, sb.Dict(batch=sb.one_of([32, 64], name="batch")),
    ...                 sb.algorithms.Grid(), num_trials=2)
    >>> [t.params for t in study.trials]
    [{'batch': 32}, {'batch': 64}]
    """

    id: int
    dna: DNA
    program: Any = None
    status: str = "pending"
    reward: Reward | None = None
    error: str | None = None
    reports: list[tuple[int, float]] = attrs.Factory(list)
    started_at: float | None = None
    finished_at: float | None = None
    worker: str | None = None
    heartbeat_at: float | None = None
    metadata: dict[str, Any] = attrs.Factory(dict)
    params: dict[str, Any] = attrs.Factory(dict)
    program_error: str | None = None  # why ``program`` is None (e.g. a type not imported here)

    @property
    def duration(self) -> float | None:
        """Seconds from start to finish (None while it runs)."""
        if self.started_at is None or self.finished_at is None:
            return None
        return self.finished_at - self.started_at

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED

    @property
    def last_report(self) -> tuple[int, float] | None:
        return self.reports[-1] if self.reports else None

    def __repr__(self) -> str:
        reward = "" if self.reward is None else f", reward={self.reward!r}"
        error = "" if self.error is None else f", error={self.error.strip().splitlines()[-1][:60]!r}"
        return f"Trial(id={self.id}, status={self.status!r}{reward}{error}, dna={self.dna!r})"


class Study:
    """The trials of a search over one space, with one set of objectives, in a storage.

    ``objectives`` gives each objective's direction, ``"max"`` or ``"min"``; a trial's reward is
    kept as given and ``signed(reward)`` is the "higher is better" form algorithms see. Open
    one with :func:`symbo.load_study` or get one from :func:`symbo.tune`.
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

    # ---- recording (used by the search loop) -----------------------------------------------
    def new_trial(self, dna: DNA, program: Any, worker: str, max_trials: int | None,
                  params: dict[str, Any] | None = None) -> Trial | None:
        """Records a running trial; None when the study already has ``max_trials`` trials.
        ``params`` default to those of the DNA."""
        # a memory storage keeps the program object itself; others store its JSON for export
        if params is None:
            params = dna.to_params(self.spec) if self.spec is not None else {}
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

    def restart(self, trial: Trial, worker: str) -> None:
        self.storage.restart_trial(self.info.id, trial.id, worker=worker)
        trial.status, trial.worker, trial.reports = "running", worker, []

    def finish(self, trial: Trial, status: str, reward: Reward | None = None,
               error: str | None = None) -> None:
        self.storage.finish_trial(self.info.id, trial.id, status, reward=reward_to_json(reward),
                                  error=error)
        trial.status, trial.reward, trial.error = status, reward, error

    def report(self, trial: Trial, step: int, value: float) -> None:
        self.storage.add_report(self.info.id, trial.id, step, value)
        trial.reports.append((step, value))

    # ---- define-by-run spaces, which grow while trials run ------------------------------------
    def set_params(self, trial: Trial, params: dict[str, Any]) -> None:
        """Records the params of a running trial (a define-by-run trial's are the markers its
        run met, known when it ends)."""
        trial.params = dict(params)
        self.storage.set_trial_params(self.info.id, trial.id, trial.params)

    def update_space(self, update: Callable[[Any, str | None], tuple[Any, str | None]]) -> Any:
        """Changes the stored space in one transaction (``update(space_json, space_text)``
        gives the new JSON and text; see ``Storage.update_space``); returns the new JSON."""
        new = self.storage.update_space(self.info.id, update)
        self.info.space_json = new
        return new

    def stored_space_json(self) -> Any:
        """The study's space as stored now (other processes may have changed it)."""
        return self.storage.load_study(self.name).space_json

    # ---- reading ---------------------------------------------------------------------------
    def refresh(self) -> list[Trial]:
        """Reads trials changed in the storage since the last refresh; returns them."""
        records = self.storage.get_trials(self.info.id, updated_after=self._synced_at)
        changed = []
        for record in records:
            old = self._trials.get(record.number)
            if old is not None and old.status == record.status and \
                    len(old.reports) == len(record.reports) and old.worker == record.worker:
                # this process wrote the change itself: the trial object is already current
                old.started_at, old.finished_at = record.started_at, record.finished_at
                old.heartbeat_at = record.heartbeat_at
                if self._synced_at is None or record.updated_at > self._synced_at:
                    self._synced_at = record.updated_at
                changed.append(old)
                continue
            trial = self._from_record(record)
            self._trials[record.number] = trial
            changed.append(trial)
            if self._synced_at is None or record.updated_at > self._synced_at:
                self._synced_at = record.updated_at
        return changed

    def _from_record(self, record: TrialRecord) -> Trial:
        old = self._trials.get(record.number)
        try:
            dna = dna_from_json(record.dna_json)
            reward = reward_from_json(record.reward)
        except StorageError as e:
            raise StorageError(f"study {self.name!r}, trial {record.number}: {e}") from None
        trial_dna = getattr(self.space, "trial_dna", None)
        if trial_dna is not None and record.params:  # a define-by-run space: read the params
            try:
                dna = trial_dna(record.number, record.params)
            except SymbolicError:
                pass
        if self.spec is not None:
            dna = DNA(dna.value, dna.children, self.spec)
        program = old.program if old is not None else None
        program_error = None
        if program is None and self.space is not None and self.spec is not None:
            try:
                program = materialize(self.space, dna, spec=self.spec, where=self.where)
            except SymbolicError as e:
                program_error = f"trial {record.number}: its DNA does not fit the space: {e}"
        if program is None and record.program_json is not None:
            try:
                program = from_json(record.program_json)
            except SymbolicError as e:
                program_error = f"trial {record.number}: its program cannot be read here: {e}"
        if program is None and program_error is None:
            program_error = self.space_error or f"trial {record.number} has no stored program"
        reports = [(int(s), float(v)) for s, v in record.reports]
        params = record.params
        if not params and self.spec is not None and dna.children:  # a file of schema version 1
            try:
                params = dna.to_params(self.spec)
            except SymbolicError:
                params = {}
        return Trial(record.number, dna, program, record.status, reward, record.error, reports,
                     record.started_at, record.finished_at, record.worker, record.heartbeat_at,
                     params=params, program_error=None if program is not None else program_error)

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

    # ---- resuming --------------------------------------------------------------------------
    def resume(self, objective: Callable[..., Any] | None = None, num_trials: int | None = None,
               **kwargs: Any) -> Study:
        """Continues this study: keeps finished trials, re-runs (or fails, ``dead_trials=
        'fail'``) trials of dead workers, restores the algorithm, and runs until the study has
        ``num_trials`` trials (default: the number asked for when it started). The other
        arguments are :func:`symbo.tune`'s."""
        if objective is None:
            raise SymbolicValueError("resume needs the objective (functions are not stored)")
        if self.space is None:
            why = f" ({self.space_error})" if self.space_error else ""
            raise SymbolicValueError(
                f"study {self.name!r}: its space could not be loaded from {self.storage.url}"
                f"{why}; import the code that defines it, or open it with "
                "sb.load_study(storage, name, space=...)"
            )
        algorithm = self.algorithm
        if algorithm is None:
            raise SymbolicValueError(
                f"study {self.name!r}: its algorithm could not be loaded; pass algorithm= to "
                "sb.load_study"
            )
        target = num_trials if num_trials is not None else self.info.metadata.get("num_trials")
        return run_search(self, objective, algorithm, target, **kwargs)

    # ---- export ----------------------------------------------------------------------------
    def to_records(self) -> list[dict[str, Any]]:
        """One JSON-compatible dict per trial: id, status, reward, ``params`` (the decisions as
        literal values, as stored: readable without the space), ``dna`` (its numbers), the
        program's text, reports, timings, worker and error."""
        out = []
        for t in self.trials:
            out.append({
                "id": t.id, "status": t.status, "reward": reward_to_json(t.reward),
                "params": dict(t.params), "dna": t.dna.to_numbers(),
                "program": None if t.program is None else sym_format(t.program, compact=True),
                "reports": [list(r) for r in t.reports], "started_at": t.started_at,
                "finished_at": t.finished_at, "duration": t.duration, "worker": t.worker,
                "error": t.error,
            })
        return out

    def export(self, path: str | os.PathLike, fmt: str | None = None) -> None:
        """Writes the trials to ``path`` as CSV or JSON (the records of :meth:`to_records`).

        CSV has one column per decision (named by the decision's name, or its id), holding
        the literal value (lists and dicts as JSON); a cell is blank where the decision was
        not active in that trial (under a candidate that was not chosen)."""
        fmt = fmt or ("json" if os.fspath(path).endswith(".json") else "csv")
        records = self.to_records()
        if fmt == "json":
            text = json.dumps({"study": self.name, "objectives": list(self.objectives),
                               "trials": records}, indent=2)
        elif fmt == "csv":
            text = _csv(records)
        else:
            raise SymbolicValueError(f"export format must be 'csv' or 'json', got {fmt!r}")
        with open(path, "w", encoding="utf-8", newline="") as f:
            f.write(text)

    def __repr__(self) -> str:
        s = self.summary()
        best = ""
        if not self.is_multi_objective and self.best_trial is not None:
            best = f", best={self.best_trial.reward!r}"
        return (f"Study({self.name!r}, {s['trials']} trials: {s['completed']} completed, "
                f"{s['failed']} failed, {s['stopped']} stopped, {s['running']} running{best})")


def load_study(storage: str | Storage, study_name: str, *, space: Any = None,
               algorithm: Algorithm | None = None) -> Study:
    """Opens a stored study. Its space and algorithm are read back from the storage when the
    types they name are known here (symbolic classes, registered values, and functions and
    classes of modules this process imported: import your script or module first; nothing is
    imported for you); pass ``space=``/``algorithm=`` otherwise (a given space must be the one
    the study was started with). Trials' params, rewards and reports are always readable; when
    the space cannot be read, ``study.space_error`` and each ``trial.program_error`` say why
    (e.g. which module to import) and programs are None.

    >>> import symbo as sb, tempfile, os
    >>> url = "sqlite:///" + os.path.join(tempfile.mkdtemp(), "s.db")
    >>> _ = sb.tune(lambda p: p.x, sb.Dict(x=sb.one_of([1, 2])), sb.algorithms.Grid(),
    ...             num_trials=2, storage=url, study_name="demo")
    >>> study = sb.load_study(url, "demo")
    >>> [t.program.x for t in study.trials], study.best_trial.reward
    ([1, 2], 2.0)
    """
    store = open_storage(storage)
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
    num = store.load_algorithm_state(info.id)
    if isinstance(num, dict) and "num_trials" in num:
        study.info.metadata["num_trials"] = num["num_trials"]
    return study


# ---- helpers ---------------------------------------------------------------------------------
def _space_text(space: Any) -> str:
    return sym_format(space)


def _csv(records: list[dict[str, Any]]) -> str:
    keys: dict[str, None] = {}
    for r in records:
        keys.update(dict.fromkeys(r["params"]))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", "status", "reward", *keys, "duration", "worker", "error", "program"])
    for r in records:
        params = r["params"]
        reward = r["reward"]
        writer.writerow([r["id"], r["status"], "" if reward is None else json.dumps(reward),
                         *(_cell(params[k]) if k in params else "" for k in keys),
                         "" if r["duration"] is None else f"{r['duration']:.6f}", r["worker"] or "",
                         (r["error"] or "").strip().splitlines()[-1] if r["error"] else "",
                         r["program"] or ""])
    return out.getvalue()


def _cell(value: Any) -> str:
    """A param in a CSV cell: numbers and strings as they are, lists and dicts as JSON."""
    if isinstance(value, float) and math.isfinite(value):
        return repr(value)
    return json.dumps(value) if isinstance(value, (list, dict)) else str(value)
