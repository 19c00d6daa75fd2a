"""The storage interface: where studies and their trials are recorded.

One small interface (as Optuna's storages), swapped by URL: ``memory:`` (the default, for
tests and notebooks) and ``sqlite:///path.db`` (the embedded default for real searches).

The contract every storage keeps:

* every method that changes something is one transaction: it happens whole or not at all
  (an exception of any kind, a value the storage cannot hold included, rolls it back), and it
  is committed before the method returns, so the loop acts only on what is recorded;
* trials are numbered 0, 1, ... per study; ``create_trial`` never goes past ``max_trials``,
  however many processes create trials at once;
* a trial changes hands only by compare-and-set (``claim_trial``): of several processes
  claiming one trial, exactly one gets it;
* a finished trial is never changed;
* a row that cannot be read raises :class:`StorageError` naming the study, the trial and the
  column (or is passed to ``on_error`` and skipped); the others are read as they are.

>>> from symbo.backends.storage import open_storage
>>> storage = open_storage("memory:")
>>> info = storage.create_study("demo", objectives=("max",))
>>> number = storage.create_trial(info.id, dna_json=[None, [[1, []]]], worker="w")
>>> storage.finish_trial(info.id, number, "completed", reward=0.5)
True
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
#: the largest step a report may have (SQLite stores 64-bit integers)
MAX_STEP = 2 ** 63 - 1


class StorageError(SymbolicValueError):
    """A storage that cannot be opened, a missing study, a corrupted record, a refused write."""


@attrs.define(eq=False)
class StudyInfo:
    """What a storage keeps about a study besides its trials: its name, objectives, space,
    algorithm, and budget (``num_trials``: the number of trials asked for; None: as many as
    the algorithm proposes)."""

    id: int
    name: str
    objectives: tuple[str, ...]
    space_json: Any = None
    space_text: str | None = None
    algorithm_json: Any = None
    created_at: float = 0.0
    metadata: dict[str, Any] = attrs.Factory(dict)
    num_trials: int | None = None


class Deferred:
    """A stored cell decoded when it is first read, not when its row is: reading a study's
    trials costs only the cells that are used (a resumed search reads DNA, status and reward;
    programs and params are decoded where they are read). A cell that cannot be decoded raises
    :class:`StorageError` naming the study, trial and column each time it is read.

    >>> cell = Deferred(lambda: {"x": 1})
    >>> cell.value(), Deferred.resolve(cell), Deferred.resolve(5)
    ({'x': 1}, {'x': 1}, 5)
    """

    __slots__ = ("_decode", "_value")

    def __init__(self, decode: Callable[[], Any]) -> None:
        self._decode: Callable[[], Any] | None = decode
        self._value: Any = None

    def value(self) -> Any:
        """The decoded cell (decoded once; a corrupted cell raises every time)."""
        if self._decode is not None:
            self._value = self._decode()
            self._decode = None
        return self._value

    @staticmethod
    def resolve(value: Any) -> Any:
        """``value.value()`` for a Deferred, else ``value`` itself."""
        return value.value() if type(value) is Deferred else value

    def __repr__(self) -> str:
        return "Deferred(...)" if self._decode is not None else f"Deferred({self._value!r})"


@attrs.define(eq=False)
class TrialRecord:
    """A trial as stored: the DNA in its JSON form, its params (``{name_or_id: literal
    value}``, readable without the space), reward as given, reports, timings.

    ``params`` and ``program_json`` may be given as :class:`Deferred` cells (a storage that
    decodes them only when they are read); reading them decodes them (StorageError for a
    corrupted cell). :meth:`cell` hands on the cell undecoded."""

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
    _program_json: Any = attrs.field(default=None, alias="program_json")
    updated_at: float = 0.0
    _params: Any = attrs.field(factory=dict, alias="params")
    user_attrs: dict[str, Any] = attrs.Factory(dict)

    @property
    def params(self) -> dict[str, Any]:
        return Deferred.resolve(self._params)  # type: ignore[no-any-return]

    @params.setter
    def params(self, value: dict[str, Any]) -> None:
        self._params = value

    @property
    def program_json(self) -> Any:
        return Deferred.resolve(self._program_json)

    @program_json.setter
    def program_json(self, value: Any) -> None:
        self._program_json = value

    def cell(self, column: str) -> Any:
        """The ``"params"`` or ``"program_json"`` cell as stored here: its value, or a
        :class:`Deferred` not decoded yet."""
        if column == "params":
            return self._params
        if column == "program_json":
            return self._program_json
        raise KeyError(column)


#: what ``get_trials(on_error=...)`` calls for a row it cannot read: (trial number, error)
OnError = Callable[[int, "StorageError"], None]


class Storage(abc.ABC):
    """Records studies and trials (see the module docstring for the contract).
    Implementations must be safe for several processes when their URL names something shared
    (a file)."""

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
    def set_budget(self, study_id: int, num_trials: int | None) -> None:
        """Records the study's budget (see :class:`StudyInfo`)."""

    @abc.abstractmethod
    def save_algorithm_state(self, study_id: int, state: Any) -> None:
        """Stores the algorithm's JSON-compatible state (replacing the previous one): only
        what the trials cannot give back (its random generator, fitted settings)."""

    @abc.abstractmethod
    def load_algorithm_state(self, study_id: int) -> Any:
        """The last stored algorithm state, or None."""

    # ---- trials ------------------------------------------------------------------------------
    @abc.abstractmethod
    def create_trial(self, study_id: int, *, dna_json: Any, worker: str,
                     program_json: Any = None, max_trials: int | None = None,
                     params: dict[str, Any] | None = None) -> int | None:
        """Records a new running trial and returns its number (0, 1, ...); atomically returns
        None instead when the study already has ``max_trials`` trials (so concurrent workers
        never overshoot the budget). ``params`` (JSON-compatible ``{name_or_id: literal
        value}``, default ``{}``) is stored with the trial."""

    @abc.abstractmethod
    def enqueue_trial(self, study_id: int, *, dna_json: Any,
                      params: dict[str, Any] | None = None) -> int:
        """Records a pending trial (to be run next by whichever process claims it first);
        returns its number."""

    @abc.abstractmethod
    def claim_trial(self, study_id: int, number: int, *, worker: str,
                    holder: str | None, dna_json: Any = None,
                    params: dict[str, Any] | None = None) -> bool:
        """Compare-and-set: makes ``worker`` the runner of a trial that is pending (``holder``
        None) or running under ``holder`` (a dead worker); its reports are cleared and its
        start time is now. False (nothing changed) when the trial is not in that state any
        more, e.g. another process claimed it first. ``dna_json`` and ``params`` (a pending
        trial enqueued with some of its decisions, completed as it starts) are written in
        the same step."""

    def restart_trial(self, study_id: int, number: int, *, worker: str) -> None:
        """Runs a trial left running by a dead worker again, whoever held it (prefer
        :meth:`claim_trial`); a trial that is not running is refused."""
        for record in self.get_trials(study_id):
            if record.number == number:
                if record.status != "running" or not self.claim_trial(
                        study_id, number, worker=worker, holder=record.worker):
                    status = self._status_of(study_id, number)
                    raise StorageError(f"trial {number} is {status}; only running trials restart")
                return
        raise StorageError(f"no trial {number} in study {study_id}")

    def _status_of(self, study_id: int, number: int) -> str:
        for record in self.get_trials(study_id):
            if record.number == number:
                return record.status
        raise StorageError(f"no trial {number} in study {study_id}")

    @abc.abstractmethod
    def finish_trial(self, study_id: int, number: int, status: str, *, reward: Any = None,
                     error: str | None = None, holder: str | None = None) -> bool:
        """Sets a running trial's final status. A finished trial is never overwritten
        (StorageError). With ``holder``: only while ``holder`` runs it; False (nothing
        changed) when another worker took it over or finished it."""

    @abc.abstractmethod
    def add_report(self, study_id: int, number: int, step: int, value: float, *,
                   holder: str | None = None) -> None:
        """Records an intermediate value of a running trial (with ``holder``: only while
        ``holder`` runs it); a finished trial, a step already recorded, or a step past
        :data:`MAX_STEP` is refused (nothing recorded is changed)."""

    @abc.abstractmethod
    def heartbeat(self, study_id: int, numbers: list[int]) -> None:
        """Marks running trials as alive now."""

    @abc.abstractmethod
    def get_trials(self, study_id: int, *, updated_after: float | None = None,
                   on_error: OnError | None = None) -> list[TrialRecord]:
        """Trials in number order (only those changed after ``updated_after`` when given).

        ``updated_at`` must follow the commit order (take the time while holding the write
        lock): readers that poll with the latest ``updated_at`` they saw miss nothing. A row
        that cannot be read raises StorageError naming the study, trial and column, or, with
        ``on_error``, is passed to it and left out."""

    @abc.abstractmethod
    def count_trials(self, study_id: int) -> int:
        """The number of trials of the study (all of them count against the budget)."""

    # ---- define-by-run studies: params known when a trial ends, a space that grows ----------
    def set_trial_params(self, study_id: int, number: int, params: dict[str, Any],
                         user_attrs: dict[str, Any] | None = None) -> None:
        """Replaces a running trial's params (a define-by-run trial's are the markers its run
        met, known when it ends) and user attrs (JSON values the objective set with
        ``trial.set_user_attr``); a finished trial is refused (StorageError)."""
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
    """Refuses a status that is not one of :data:`STATUSES`."""
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
    """The time storages record (seconds since the epoch)."""
    return time.time()


def dna_to_json(dna: DNA) -> Any:
    """A DNA as nested lists ``[value, [children...]]`` (independent of any spec)."""
    return [dna.value, [dna_to_json(c) if c.children else [c.value, []] for c in dna.children]]


def dna_from_json(data: Any) -> DNA:
    """The inverse of :func:`dna_to_json` (StorageError naming what is wrong for anything else)."""
    if not (type(data) is list and len(data) == 2 and type(data[1]) is list):
        raise StorageError(f"a stored DNA is written [value, [children]], got {_short(data)}")
    value = data[0]
    if value is not None:
        kind = type(value)
        if kind is float:
            if not math.isfinite(value):
                raise StorageError(f"a stored DNA value must be finite, got {value}")
        elif kind is not int and kind is not str:  # str: a CustomHyper's genome
            raise StorageError(
                f"a stored DNA value must be a number, a string or null, got {_short(value)}")
    children = data[1]
    return DNA(value, tuple([dna_from_json(c) for c in children]) if children else ())


def reward_to_json(reward: Any) -> Any:
    """A reward as JSON data (tuples as lists)."""
    if isinstance(reward, tuple):
        return list(reward)
    return reward


def reward_from_json(data: Any) -> Any:
    """A stored reward: None, a float, or a tuple of floats (StorageError otherwise)."""
    if data is None:
        return None
    if isinstance(data, list) and data and all(_finite(v) for v in data):
        return tuple(float(v) for v in data)
    if _finite(data):
        return float(data)
    raise StorageError(f"a stored reward must be a finite number or a list of them, "
                       f"got {_short(data)}")


def _finite(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


def _short(value: Any) -> str:
    try:
        return repr(value)[:40]
    except ValueError:  # an int too long to print
        return f"<{type(value).__name__}>"


def check_step(step: Any) -> int:
    """A report's step as an int within what storages hold (StorageError otherwise)."""
    if isinstance(step, bool) or not isinstance(step, int):
        try:
            as_int = int(step)
        except (TypeError, ValueError, OverflowError):
            raise StorageError(f"a report's step must be a whole number, got {_short(step)}") from None
        if as_int != step:
            raise StorageError(f"a report's step must be a whole number, got {_short(step)}")
        step = as_int
    if not 0 <= step <= MAX_STEP:
        raise StorageError(f"a report's step must be between 0 and 2**63 - 1, got {_short(step)}")
    return step
