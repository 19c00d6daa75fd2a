"""The storage interface: where studies and their trials are recorded.

One small interface (as Optuna's storages), swapped by URL: ``memory:`` (the default, for
tests and notebooks) and ``sqlite:///path.db`` (the embedded default for real searches). Every
state change is one committed call, made before the loop acts on it.

>>> from symbo.backends.storage import open_storage
>>> storage = open_storage("memory:")
>>> info = storage.create_study("demo", objectives=("max",))
>>> number = storage.create_trial(info.id, dna_json=[None, [[1, []]]], worker="w")
>>> storage.finish_trial(info.id, number, "completed", reward=0.5)
>>> [(t.number, t.status, t.reward) for t in storage.get_trials(info.id)]
[(0, 'completed', 0.5)]
"""

from __future__ import annotations

import abc
import math
import os
import socket
import time
from collections.abc import Callable
from typing import Any

import attrs

from symbo.core import SymbolicValueError
from symbo.dsl import DNA

STATUSES = ("pending", "running", "completed", "failed", "stopped")
FINISHED = ("completed", "failed", "stopped")


class StorageError(SymbolicValueError):
    """A storage that cannot be opened, a missing study, a corrupted record, a refused write."""


@attrs.define(eq=False)
class StudyInfo:
    """What a storage keeps about a study besides its trials."""

    id: int
    name: str
    objectives: tuple[str, ...]
    space_json: Any = None
    space_text: str | None = None
    algorithm_json: Any = None
    created_at: float = 0.0
    metadata: dict[str, Any] = attrs.Factory(dict)


@attrs.define(eq=False)
class TrialRecord:
    """A trial as stored: the DNA in its JSON form, its params (``{name_or_id: literal
    value}``, readable without the space), reward as given, reports, timings."""

    number: int
    dna_json: Any
    status: str = "running"
    reward: Any = None
    error: str | None = None
    reports: list[tuple[int, float]] = attrs.Factory(list)
    started_at: float | None = None
    finished_at: float | None = None
    heartbeat_at: float | None = None
    worker: str | None = None
    program_json: Any = None
    updated_at: float = 0.0
    params: dict[str, Any] = attrs.Factory(dict)


class Storage(abc.ABC):
    """Records studies and trials. Implementations must be safe for several processes when
    their URL names something shared (a file); every method is one transaction."""

    url: str
    #: whether other processes can see this storage (a file): then running trials are kept
    #: alive by heartbeats, and programs are stored as JSON for readers without the space
    shared: bool = True

    # ---- studies -----------------------------------------------------------------------------
    @abc.abstractmethod
    def create_study(self, name: str, *, objectives: tuple[str, ...], space_json: Any = None,
                     space_text: str | None = None, algorithm_json: Any = None,
                     load_if_exists: bool = False) -> StudyInfo:
        """Creates a study; with ``load_if_exists`` an existing one of that name is returned."""

    @abc.abstractmethod
    def load_study(self, name: str) -> StudyInfo:
        """The study named ``name``; StorageError (listing the names there are) if none."""

    @abc.abstractmethod
    def list_studies(self) -> list[StudyInfo]:
        """All studies, oldest first."""

    @abc.abstractmethod
    def save_algorithm_state(self, study_id: int, state: Any) -> None:
        """Stores the algorithm's JSON-compatible state (replacing the previous one)."""

    @abc.abstractmethod
    def load_algorithm_state(self, study_id: int) -> Any:
        """The last stored algorithm state, or None."""

    # ---- trials ------------------------------------------------------------------------------
    @abc.abstractmethod
    def create_trial(self, study_id: int, *, dna_json: Any, worker: str,
                     program_json: Any = None, max_trials: int | None = None,
                     params: dict[str, Any] | None = None) -> int | None:
        """Records a new running trial and returns its number (0, 1, ...); atomically returns
        None instead when the study already has ``max_trials`` trials that are not failed-and-
        retried (so concurrent workers never overshoot the budget). ``params`` (JSON-compatible
        ``{name_or_id: literal value}``, default ``{}``) is stored with the trial."""

    @abc.abstractmethod
    def restart_trial(self, study_id: int, number: int, *, worker: str) -> None:
        """Runs a trial left running by a dead worker again under the same number (its reports
        are cleared); a finished trial is refused."""

    @abc.abstractmethod
    def finish_trial(self, study_id: int, number: int, status: str, *, reward: Any = None,
                     error: str | None = None) -> None:
        """Sets a running trial's final status; a finished trial is never overwritten."""

    @abc.abstractmethod
    def add_report(self, study_id: int, number: int, step: int, value: float) -> None:
        """Records an intermediate value of a running trial; a finished trial, or a step
        already recorded, is refused (nothing recorded is changed)."""

    @abc.abstractmethod
    def heartbeat(self, study_id: int, numbers: list[int]) -> None:
        """Marks running trials as alive now."""

    @abc.abstractmethod
    def get_trials(self, study_id: int, *, updated_after: float | None = None) -> list[TrialRecord]:
        """Trials in number order (only those changed after ``updated_after`` when given).

        ``updated_at`` must follow the commit order (take the time while holding the write
        lock): readers that poll with the latest ``updated_at`` they saw miss nothing."""

    @abc.abstractmethod
    def count_trials(self, study_id: int) -> int:
        """The number of trials that count against the budget."""

    # ---- define-by-run studies: params known when a trial ends, a space that grows ----------
    def set_trial_params(self, study_id: int, number: int, params: dict[str, Any]) -> None:
        """Replaces a running trial's params (a define-by-run trial's are the markers its run
        met, known when it ends); a finished trial is refused (StorageError)."""
        raise StorageError(f"{type(self).__name__} cannot record params after a trial started")

    def update_space(self, study_id: int,
                     update: Callable[[Any, str | None], tuple[Any, str | None]]) -> Any:
        """Replaces the study's space with ``update(space_json, space_text)`` (its new JSON
        and text), in one transaction: of several processes growing one space at once, none
        loses another's change. ``update`` may raise to change nothing. Returns the new JSON."""
        raise StorageError(f"{type(self).__name__} cannot change a study's space")

    def close(self) -> None:  # noqa: B027 - optional for storages that hold nothing
        """Releases resources (connections)."""


# ---- helpers shared by storages ---------------------------------------------------------------
def check_status(status: str) -> None:
    if status not in STATUSES:
        raise StorageError(f"unknown trial status {status!r}; expected one of {STATUSES}")


def worker_id() -> str:
    """``host:pid`` of this process: how trials remember who runs them."""
    return f"{socket.gethostname()}:{os.getpid()}"


def worker_alive(worker: str | None) -> bool | None:
    """True/False for a worker of this host (by its pid), None when it is on another host."""
    if not worker or ":" not in worker:
        return None
    host, _, pid = worker.rpartition(":")
    if host != socket.gethostname():
        return None
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, ValueError):
        return True
    return _not_zombie(int(pid))


def _not_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return True


def now() -> float:
    return time.time()


def dna_to_json(dna: DNA) -> Any:
    """A DNA as nested lists ``[value, [children...]]`` (independent of any spec)."""
    return [dna.value, [dna_to_json(c) for c in dna.children]]


def dna_from_json(data: Any) -> DNA:
    """The inverse of :func:`dna_to_json`."""
    if not (isinstance(data, list) and len(data) == 2 and isinstance(data[1], list)):
        raise StorageError(f"a stored DNA is written [value, [children]], got {data!r:.80}")
    value = data[0]
    if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
        raise StorageError(f"a stored DNA value must be a number or null, got {value!r:.40}")
    return DNA(value, tuple(dna_from_json(c) for c in data[1]))


def reward_to_json(reward: Any) -> Any:
    if isinstance(reward, tuple):
        return list(reward)
    return reward


def reward_from_json(data: Any) -> Any:
    if data is None:
        return None
    if isinstance(data, list):
        return tuple(float(v) for v in data)
    if isinstance(data, (int, float)) and not isinstance(data, bool) and math.isfinite(data):
        return float(data)
    raise StorageError(f"a stored reward must be a finite number or a list, got {data!r:.40}")
