"""SQLite storage: one file, WAL mode, one transaction per change; safe for several processes.

>>> import tempfile, os
>>> from symbo.backends.storage import open_storage
>>> path = os.path.join(tempfile.mkdtemp(), "s.db")
>>> storage = open_storage(f"sqlite:///{path}")
>>> info = storage.create_study("demo", objectives=("max",))
>>> n = storage.create_trial(info.id, dna_json=[None, []], worker="w")
>>> storage.finish_trial(info.id, n, "completed", reward=1.0)
>>> open_storage(f"sqlite:///{path}").get_trials(info.id)[0].reward
1.0
"""

from __future__ import annotations

import functools
import json
import math
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from typing import Any

from symbo.backends.storage.base import (
    FINISHED,
    Storage,
    StorageError,
    StudyInfo,
    TrialRecord,
    check_status,
    now,
)

SCHEMA_VERSION = 2
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS studies (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT UNIQUE NOT NULL,
    objectives TEXT NOT NULL,
    space_json TEXT,
    space_text TEXT,
    algorithm_json TEXT,
    algorithm_state TEXT,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS trials (
    study_id INTEGER NOT NULL REFERENCES studies(id),
    number INTEGER NOT NULL,
    dna TEXT NOT NULL,
    status TEXT NOT NULL,
    reward TEXT,
    error TEXT,
    started_at REAL,
    finished_at REAL,
    heartbeat_at REAL,
    worker TEXT,
    program_json TEXT,
    updated_at REAL NOT NULL,
    params TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (study_id, number)
);
CREATE INDEX IF NOT EXISTS trials_updated ON trials (study_id, updated_at);
CREATE TABLE IF NOT EXISTS reports (
    study_id INTEGER NOT NULL,
    number INTEGER NOT NULL,
    step INTEGER NOT NULL,
    value REAL NOT NULL,
    PRIMARY KEY (study_id, number, step)
);
"""
# What brings a file of an older schema version up to date (applied in order, in the
# transaction that opens it): version -> statements.
_MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: ("ALTER TABLE trials ADD COLUMN params TEXT NOT NULL DEFAULT '{}'",),
}


def _dumps(value: Any) -> str | None:
    return None if value is None else json.dumps(value, allow_nan=False, separators=(",", ":"))


class SQLiteStorage(Storage):
    """Studies in one SQLite file. ``timeout`` is how long a writer waits for a lock (s)."""

    def __init__(self, path: str, *, url: str | None = None, timeout: float = 60.0) -> None:
        self.path = path
        self.url = url or f"sqlite:///{path}"
        self.timeout = timeout
        self._local = threading.local()
        self._pid = os.getpid()
        directory = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(directory):
            raise StorageError(f"cannot open {self.url}: the folder {directory} does not exist")
        conn = self._conn()
        try:
            with conn:
                conn.executescript(_SCHEMA)
                row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
                if row is None:
                    conn.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)",
                                 (str(SCHEMA_VERSION),))
                elif row[0] != str(SCHEMA_VERSION):
                    self._migrate(conn, row[0])
        except sqlite3.DatabaseError as e:
            raise StorageError(f"cannot open {self.url}: {e}") from None

    def _migrate(self, conn: sqlite3.Connection, version: str) -> None:
        """Brings a file of an older schema version up to date, in one transaction (a failure
        leaves it as it was; of several processes opening it at once, one migrates)."""
        if not version.isdigit() or int(version) > SCHEMA_VERSION:
            raise StorageError(
                f"{self.url} has schema version {version}; this symbo reads {SCHEMA_VERSION} "
                "and older"
            )
        conn.execute("BEGIN IMMEDIATE")
        try:
            row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            for v in range(int(row[0]), SCHEMA_VERSION):
                for statement in _MIGRATIONS[v]:
                    conn.execute(statement)
            conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'",
                         (str(SCHEMA_VERSION),))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None or self._pid != os.getpid():  # a forked child opens its own connection
            self._pid = os.getpid()
            try:
                conn = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None,
                                       check_same_thread=False)
                self._wal(conn)
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.execute("PRAGMA foreign_keys=ON")
            except sqlite3.DatabaseError as e:
                raise StorageError(f"cannot open {self.url}: {e}") from None
            self._local.conn = conn
        return conn

    def _wal(self, conn: sqlite3.Connection) -> None:
        """Switches the file to WAL mode. While several processes open a new file at once,
        SQLite may answer "locked" here without waiting for ``timeout``: retry until then."""
        deadline = time.monotonic() + self.timeout
        delay = 0.001
        while True:
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as e:
                if "locked" not in str(e) or time.monotonic() > deadline:
                    raise
                time.sleep(delay)
                delay = min(2 * delay, 0.05)

    def _write(self, sql: str, args: tuple | Callable[[], tuple] = ()) -> sqlite3.Cursor:
        """Runs one statement in its own write transaction. ``args`` may be a function, called
        once the write lock is held, so that times taken in it follow the commit order."""
        conn = self._conn()
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                cur = conn.execute(sql, args() if callable(args) else args)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            return cur
        except sqlite3.DatabaseError as e:
            raise StorageError(f"{self.url}: write failed: {e}") from None

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # ---- studies -------------------------------------------------------------------------
    def create_study(self, name: str, *, objectives: tuple[str, ...], space_json: Any = None,
                     space_text: str | None = None, algorithm_json: Any = None,
                     load_if_exists: bool = False) -> StudyInfo:
        conn = self._conn()
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                row = conn.execute("SELECT id FROM studies WHERE name = ?", (name,)).fetchone()
                if row is None:
                    conn.execute(
                        "INSERT INTO studies (name, objectives, space_json, space_text, "
                        "algorithm_json, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                        (name, _dumps(list(objectives)), _dumps(space_json), space_text,
                         _dumps(algorithm_json), now()))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        except sqlite3.DatabaseError as e:
            raise StorageError(f"{self.url}: cannot create study {name!r}: {e}") from None
        if row is not None and not load_if_exists:
            raise StorageError(f"a study named {name!r} already exists in {self.url} "
                               "(pass load_if_exists=True, or resume it)")
        return self.load_study(name)

    def _study_from_row(self, row: tuple) -> StudyInfo:
        sid, name, objectives, space_json, space_text, algorithm_json, created_at = row
        return StudyInfo(sid, name, tuple(self._json(objectives, f"study {name!r}", "objectives")),
                         self._json(space_json, f"study {name!r}", "space_json"), space_text,
                         self._json(algorithm_json, f"study {name!r}", "algorithm_json"),
                         created_at)

    def _json(self, text: str | None, where: str | Callable[[], str], column: str) -> Any:
        """Decodes a JSON column; ``where`` (text, or a function giving it, called only on
        error) says which record it belongs to."""
        if text is None:
            return None
        try:
            return json.loads(text)
        except (json.JSONDecodeError, TypeError) as e:
            place = where() if callable(where) else where
            raise StorageError(
                f"{self.url}: {place}: column {column!r} is corrupted ({e}); the other records "
                "are intact"
            ) from None

    def _label(self, study_id: int, number: int | None = None) -> str:
        """``study 'name'`` (``, trial n``) for error messages; the id if the name is unreadable."""
        try:
            row = self._conn().execute("SELECT name FROM studies WHERE id = ?",
                                       (study_id,)).fetchone()
        except sqlite3.DatabaseError:
            row = None
        label = f"study {row[0]!r}" if row else f"study {study_id}"
        return label if number is None else f"{label}, trial {number}"

    def load_study(self, name: str) -> StudyInfo:
        row = self._conn().execute(
            "SELECT id, name, objectives, space_json, space_text, algorithm_json, created_at "
            "FROM studies WHERE name = ?", (name,)).fetchone()
        if row is None:
            names = [r[0] for r in self._conn().execute("SELECT name FROM studies ORDER BY id")]
            raise StorageError(
                f"no study named {name!r} in {self.url} (studies: {', '.join(names) or 'none'})"
            )
        return self._study_from_row(row)

    def list_studies(self) -> list[StudyInfo]:
        rows = self._conn().execute(
            "SELECT id, name, objectives, space_json, space_text, algorithm_json, created_at "
            "FROM studies ORDER BY id").fetchall()
        return [self._study_from_row(r) for r in rows]

    def save_algorithm_state(self, study_id: int, state: Any) -> None:
        self._write("UPDATE studies SET algorithm_state = ? WHERE id = ?", (_dumps(state), study_id))

    def load_algorithm_state(self, study_id: int) -> Any:
        row = self._conn().execute("SELECT algorithm_state FROM studies WHERE id = ?",
                                   (study_id,)).fetchone()
        return None if row is None else self._json(row[0], functools.partial(self._label, study_id),
                                                   "algorithm_state")

    # ---- trials --------------------------------------------------------------------------
    def create_trial(self, study_id: int, *, dna_json: Any, worker: str,
                     program_json: Any = None, max_trials: int | None = None,
                     params: dict[str, Any] | None = None) -> int | None:
        conn = self._conn()
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                t = now()  # under the write lock: updated_at follows the commit order
                count = conn.execute("SELECT COUNT(*) FROM trials WHERE study_id = ?",
                                     (study_id,)).fetchone()[0]
                if max_trials is not None and count >= max_trials:
                    conn.execute("ROLLBACK")
                    return None
                conn.execute(
                    "INSERT INTO trials (study_id, number, dna, status, started_at, heartbeat_at, "
                    "worker, program_json, updated_at, params) "
                    "VALUES (?, ?, ?, 'running', ?, ?, ?, ?, ?, ?)",
                    (study_id, count, _dumps(dna_json), t, t, worker, _dumps(program_json), t,
                     _dumps(params or {})))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        except sqlite3.DatabaseError as e:
            raise StorageError(f"{self.url}: cannot record a new trial: {e}") from None
        return count

    def _status(self, study_id: int, number: int) -> str:
        row = self._conn().execute("SELECT status FROM trials WHERE study_id = ? AND number = ?",
                                   (study_id, number)).fetchone()
        if row is None:
            raise StorageError(f"no trial {number} in study {study_id}")
        return row[0]

    def restart_trial(self, study_id: int, number: int, *, worker: str) -> None:
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            t = now()  # under the write lock: updated_at follows the commit order
            cur = conn.execute(
                "UPDATE trials SET worker = ?, started_at = ?, heartbeat_at = ?, updated_at = ? "
                "WHERE study_id = ? AND number = ? AND status = 'running'",
                (worker, t, t, t, study_id, number))
            if cur.rowcount == 0:
                conn.execute("ROLLBACK")
                raise StorageError(f"trial {number} is {self._status(study_id, number)}; "
                                   "only running trials restart")
            conn.execute("DELETE FROM reports WHERE study_id = ? AND number = ?", (study_id, number))
            conn.execute("COMMIT")
        except sqlite3.DatabaseError as e:
            conn.execute("ROLLBACK")
            raise StorageError(f"{self.url}: cannot restart trial {number}: {e}") from None

    def finish_trial(self, study_id: int, number: int, status: str, *, reward: Any = None,
                     error: str | None = None) -> None:
        check_status(status)
        value = _dumps(_reward(reward))

        def args() -> tuple:
            t = now()  # under the write lock: updated_at follows the commit order
            return (status, value, error, t, t, study_id, number)

        cur = self._write(
            "UPDATE trials SET status = ?, reward = ?, error = ?, finished_at = ?, updated_at = ? "
            f"WHERE study_id = ? AND number = ? AND status NOT IN {FINISHED!r}", args)
        if cur.rowcount == 0:
            raise StorageError(f"trial {number} is already {self._status(study_id, number)}; "
                               "it is not changed")

    def add_report(self, study_id: int, number: int, step: int, value: float) -> None:
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            t = now()  # under the write lock: updated_at follows the commit order
            cur = conn.execute("UPDATE trials SET updated_at = ?, heartbeat_at = ? "
                               "WHERE study_id = ? AND number = ? AND status = 'running'",
                               (t, t, study_id, number))
            if cur.rowcount == 0:
                conn.execute("ROLLBACK")
                raise StorageError(f"trial {number} is {self._status(study_id, number)}; "
                                   "only running trials take reports")
            conn.execute("INSERT INTO reports VALUES (?, ?, ?, ?)",
                         (study_id, number, int(step), float(value)))
            conn.execute("COMMIT")
        except sqlite3.IntegrityError:
            conn.execute("ROLLBACK")
            raise StorageError(f"trial {number} already has a report at step {step}; "
                               "it is not changed") from None
        except sqlite3.DatabaseError as e:
            conn.execute("ROLLBACK")
            raise StorageError(f"{self.url}: cannot record a report: {e}") from None

    def heartbeat(self, study_id: int, numbers: list[int]) -> None:
        if not numbers:
            return
        marks = ",".join("?" * len(numbers))
        self._write(f"UPDATE trials SET heartbeat_at = ? WHERE study_id = ? AND number IN ({marks})",
                    (now(), study_id, *numbers))

    def get_trials(self, study_id: int, *, updated_after: float | None = None) -> list[TrialRecord]:
        conn = self._conn()
        where, args = "study_id = ?", [study_id]
        if updated_after is not None:
            where += " AND updated_at > ?"
            args.append(updated_after)
        rows = conn.execute(
            "SELECT number, dna, status, reward, error, started_at, finished_at, heartbeat_at, "
            f"worker, program_json, updated_at, params FROM trials WHERE {where} ORDER BY number",
            args).fetchall()
        reports: dict[int, list[tuple[int, float]]] = {}
        if rows:
            low = rows[0][0]
            for number, step, value in conn.execute(
                    "SELECT number, step, value FROM reports WHERE study_id = ? AND number >= ? "
                    "ORDER BY number, step", (study_id, low)):
                reports.setdefault(number, []).append((step, value))
        out = []
        for (number, dna, status, reward, error, started, finished, heartbeat, worker,
             program, updated, params) in rows:
            where_ = functools.partial(self._label, study_id, number)
            if status not in ("pending", "running", "completed", "failed", "stopped"):
                raise StorageError(f"{self.url}: {where_()}: unknown status {status!r} (corrupted)")
            out.append(TrialRecord(number, self._json(dna, where_, "dna"), status,
                                   self._json(reward, where_, "reward"), error,
                                   reports.get(number, []), started, finished, heartbeat, worker,
                                   self._json(program, where_, "program_json"), updated,
                                   self._params(params, where_)))
        return out

    def _params(self, text: str, where: Callable[[], str]) -> dict[str, Any]:
        params = self._json(text, where, "params")
        if not isinstance(params, dict):
            raise StorageError(f"{self.url}: {where()}: column 'params' is corrupted (not a "
                               "JSON object); the other records are intact")
        return params

    def count_trials(self, study_id: int) -> int:
        return self._conn().execute("SELECT COUNT(*) FROM trials WHERE study_id = ?",
                                    (study_id,)).fetchone()[0]

    def set_trial_params(self, study_id: int, number: int, params: dict[str, Any]) -> None:
        text = _dumps(dict(params))

        def args() -> tuple:
            return (text, now(), study_id, number)

        cur = self._write("UPDATE trials SET params = ?, updated_at = ? "
                          "WHERE study_id = ? AND number = ? AND status = 'running'", args)
        if cur.rowcount == 0:
            raise StorageError(f"trial {number} is {self._status(study_id, number)}; its params "
                               "are not changed")

    def update_space(self, study_id: int, update: Any) -> Any:
        conn = self._conn()
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                row = conn.execute("SELECT space_json, space_text FROM studies WHERE id = ?",
                                   (study_id,)).fetchone()
                if row is None:
                    raise StorageError(f"no study {study_id} in {self.url}")
                old = self._json(row[0], functools.partial(self._label, study_id), "space_json")
                space_json, space_text = update(old, row[1])
                conn.execute("UPDATE studies SET space_json = ?, space_text = ? WHERE id = ?",
                             (_dumps(space_json), space_text, study_id))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        except sqlite3.DatabaseError as e:
            raise StorageError(f"{self.url}: cannot change the space of study {study_id}: {e}") from None
        return space_json


def _reward(reward: Any) -> Any:
    if isinstance(reward, tuple):
        return list(reward)
    if isinstance(reward, float) and not math.isfinite(reward):
        raise StorageError(f"rewards must be finite, got {reward}")
    return reward
