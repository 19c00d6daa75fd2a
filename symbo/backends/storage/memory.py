"""In-memory storage: the same interface as SQLite, for tests, notebooks and nested searches.

>>> from symbo.backends.storage import open_storage
>>> open_storage("memory:").list_studies()
[]
"""

from __future__ import annotations

import copy
import threading
from typing import Any

from symbo.backends.storage.base import (
    FINISHED,
    OnError,
    Storage,
    StorageError,
    StudyInfo,
    TrialRecord,
    check_status,
    check_step,
    now,
)


class InMemoryStorage(Storage):
    """Keeps everything in this process (thread-safe); gone when the process ends."""

    shared = False

    def __init__(self, url: str = "memory:") -> None:
        self.url = url
        self._lock = threading.RLock()
        self._studies: dict[str, StudyInfo] = {}
        self._trials: dict[int, list[TrialRecord]] = {}
        self._states: dict[int, Any] = {}

    # ---- studies -----------------------------------------------------------------------------
    def create_study(self, name: str, *, objectives: tuple[str, ...], space_json: Any = None,
                     space_text: str | None = None, algorithm_json: Any = None,
                     load_if_exists: bool = False) -> StudyInfo:
        with self._lock:
            if name in self._studies:
                if load_if_exists:
                    return self._studies[name]
                raise StorageError(f"a study named {name!r} already exists in {self.url} "
                                   "(pass load_if_exists=True, or resume it)")
            info = StudyInfo(len(self._studies), name, tuple(objectives), space_json, space_text,
                             algorithm_json, now())
            self._studies[name] = info
            self._trials[info.id] = []
            return info

    def load_study(self, name: str) -> StudyInfo:
        with self._lock:
            try:
                return self._studies[name]
            except KeyError:
                names = ", ".join(sorted(self._studies)) or "none"
                raise StorageError(f"no study named {name!r} in {self.url} (studies: {names})") from None

    def list_studies(self) -> list[StudyInfo]:
        with self._lock:
            return sorted(self._studies.values(), key=lambda s: s.id)

    def set_budget(self, study_id: int, num_trials: int | None) -> None:
        with self._lock:
            for info in self._studies.values():
                if info.id == study_id:
                    info.num_trials = num_trials
                    info.metadata["num_trials"] = num_trials

    def save_algorithm_state(self, study_id: int, state: Any) -> None:
        with self._lock:
            self._states[study_id] = copy.deepcopy(state)

    def load_algorithm_state(self, study_id: int) -> Any:
        with self._lock:
            return copy.deepcopy(self._states.get(study_id))

    # ---- trials ------------------------------------------------------------------------------
    def create_trial(self, study_id: int, *, dna_json: Any, worker: str,
                     program_json: Any = None, max_trials: int | None = None,
                     params: dict[str, Any] | None = None) -> int | None:
        with self._lock:
            trials = self._trials[study_id]
            if max_trials is not None and len(trials) >= max_trials:
                return None
            t = now()
            trials.append(TrialRecord(len(trials), dna_json, "running", started_at=t,
                                      heartbeat_at=t, worker=worker, program_json=program_json,
                                      updated_at=t, params=dict(params or ())))
            return len(trials) - 1

    def enqueue_trial(self, study_id: int, *, dna_json: Any,
                      params: dict[str, Any] | None = None) -> int:
        with self._lock:
            trials = self._trials[study_id]
            trials.append(TrialRecord(len(trials), dna_json, "pending", updated_at=now(),
                                      params=dict(params or ())))
            return len(trials) - 1

    def _trial(self, study_id: int, number: int) -> TrialRecord:
        try:
            return self._trials[study_id][number]
        except (KeyError, IndexError):
            raise StorageError(f"no trial {number} in study {study_id}") from None

    def claim_trial(self, study_id: int, number: int, *, worker: str,
                    holder: str | None, dna_json: Any = None,
                    params: dict[str, Any] | None = None) -> bool:
        with self._lock:
            trial = self._trial(study_id, number)
            expected = "pending" if holder is None else "running"
            if trial.status != expected or (holder is not None and trial.worker != holder):
                return False
            if dna_json is not None:
                trial.dna_json = copy.deepcopy(dna_json)
            if params is not None:
                trial.params = copy.deepcopy(params)
            t = now()
            trial.status, trial.worker, trial.reports = "running", worker, []
            trial.started_at = trial.heartbeat_at = trial.updated_at = t
            return True

    def finish_trial(self, study_id: int, number: int, status: str, *, reward: Any = None,
                     error: str | None = None, holder: str | None = None) -> bool:
        check_status(status)
        with self._lock:
            trial = self._trial(study_id, number)
            if trial.status in FINISHED or (holder is not None and trial.worker != holder):
                if holder is not None:
                    return False
                raise StorageError(f"trial {number} is already {trial.status}; it is not changed")
            reward = copy.deepcopy(reward)  # first: nothing changes if this raises
            trial.status = status
            trial.reward = reward
            trial.error = error
            trial.finished_at = trial.updated_at = now()
            return True

    def add_report(self, study_id: int, number: int, step: int, value: float, *,
                   holder: str | None = None) -> None:
        step = check_step(step)
        with self._lock:
            trial = self._trial(study_id, number)
            if trial.status != "running":
                raise StorageError(f"trial {number} is {trial.status}; only running trials take "
                                   "reports")
            if holder is not None and trial.worker != holder:
                raise StorageError(f"trial {number} is run by another worker now; the report "
                                   "is not recorded")
            if any(s == step for s, _ in trial.reports):
                raise StorageError(f"trial {number} already has a report at step {step}; "
                                   "it is not changed")
            trial.reports.append((step, float(value)))
            trial.updated_at = now()

    def heartbeat(self, study_id: int, numbers: list[int]) -> None:
        with self._lock:
            t = now()
            for n in numbers:
                self._trial(study_id, n).heartbeat_at = t

    def get_trials(self, study_id: int, *, updated_after: float | None = None,
                   on_error: OnError | None = None) -> list[TrialRecord]:
        with self._lock:
            trials = self._trials.get(study_id, [])
            if updated_after is None:
                return list(trials)
            return [t for t in trials if t.updated_at > updated_after]

    def count_trials(self, study_id: int) -> int:
        with self._lock:
            return len(self._trials.get(study_id, []))

    def set_trial_params(self, study_id: int, number: int, params: dict[str, Any],
                         user_attrs: dict[str, Any] | None = None) -> None:
        with self._lock:
            trial = self._trial(study_id, number)
            if trial.status != "running":
                raise StorageError(f"trial {number} is {trial.status}; its params are not changed")
            trial.params = copy.deepcopy(dict(params))
            trial.user_attrs = copy.deepcopy(dict(user_attrs or {}))
            trial.updated_at = now()

    def update_space(self, study_id: int, update: Any) -> Any:
        with self._lock:
            info = next((s for s in self._studies.values() if s.id == study_id), None)
            if info is None:
                raise StorageError(f"no study {study_id} in {self.url}")
            space_json, space_text = update(copy.deepcopy(info.space_json), info.space_text)
            info.space_json, info.space_text = copy.deepcopy(space_json), space_text
            return space_json
