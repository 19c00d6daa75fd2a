"""SQLite storage: one file, WAL mode, one transaction per change; safe for several processes.

Every change goes through one helper, :meth:`SQLiteStorage._transaction`: ``BEGIN
IMMEDIATE`` (the write lock, so times taken inside follow the commit order), the change,
``COMMIT``; any exception on the way (a value SQLite cannot hold, a full disk, Ctrl-C) rolls
it back, so a file is never left locked or half-written. A file opened with ``create=False``
(``sb.load_study``) must exist; a file this process may not write is opened read-only.

>>> import tempfile, os
>>> from symbo.backends.storage import open_storage
>>> path = os.path.join(tempfile.mkdtemp(), "s.db")
>>> storage = open_storage(f"sqlite:///{path}")
>>> info = storage.create_study("demo", objectives=("max",))
>>> n = storage.create_trial(info.id, dna_json=[None, []], worker="w")
>>> storage.finish_trial(info.id, n, "completed", reward=1.0)
True
>>> open_storage(f"sqlite:///{path}").get_trials(info.id)[0].reward
1.0
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import sqlite3
import threading
import time
import urllib.parse
from collections.abc import Iterator
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
from symbo.backends.storage.rows import decode_study, decode_trial

SCHEMA_VERSION = 4
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
    created_at REAL NOT NULL,
    num_trials INTEGER
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
    user_attrs TEXT NOT NULL DEFAULT '{}',
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
    2: ("ALTER TABLE studies ADD COLUMN num_trials INTEGER",),
    3: ("ALTER TABLE trials ADD COLUMN user_attrs TEXT NOT NULL DEFAULT '{}'",),
}
# Columns added by migrations: a read-only file of an older version is read with defaults.
_ADDED = {("trials", "params"): "'{}'", ("studies", "num_trials"): "NULL",
          ("trials", "user_attrs"): "'{}'"}
_STUDY_COLUMNS = ("id", "name", "objectives", "space_json", "space_text", "algorithm_json",
                  "created_at", "num_trials")
_TRIAL_COLUMNS = ("number", "dna", "status", "reward", "error", "started_at", "finished_at",
                  "heartbeat_at", "worker", "program_json", "updated_at", "params", "user_attrs")


def _dumps(value: Any) -> str | None:
    return None if value is None else json.dumps(value, allow_nan=False, separators=(",", ":"))


class SQLiteStorage(Storage):
    """Studies in one SQLite file. ``timeout`` is how long a writer waits for a lock (s);
    ``create=False`` refuses a file that does not exist (instead of creating it)."""

    def __init__(self, path: str, *, url: str | None = None, timeout: float = 60.0,
                 create: bool = True) -> None:
        self.path = path
        self.url = url or f"sqlite:///{path}"
        self.timeout = timeout
        self._local = threading.local()
        self._pid = os.getpid()
        directory = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(directory):
            raise StorageError(f"cannot open {self.url}: the folder {directory} does not exist")
        if os.path.isdir(path):
            raise StorageError(f"cannot open {self.url}: {path} is a folder")
        exists = os.path.exists(path)
        if not exists and not create:
            raise StorageError(f"cannot open {self.url}: no such file {path}")
        self.readonly = exists and not (os.access(path, os.W_OK) and os.access(directory, os.W_OK))
        try:
            if self.readonly:
                self._check_readable()
            else:
                self._create_or_migrate()
        except sqlite3.DatabaseError as e:
            raise StorageError(f"cannot open {self.url}: {e}") from None

    # ---- connections and transactions ------------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None or self._pid != os.getpid():  # a forked child opens its own connection
            self._pid = os.getpid()
            try:
                if self.readonly:
                    uri = f"file:{urllib.parse.quote(os.path.abspath(self.path))}?mode=ro"
                    conn = sqlite3.connect(uri, uri=True, timeout=self.timeout,
                                           isolation_level=None, check_same_thread=False)
                else:
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

    @contextlib.contextmanager
    def _transaction(self, what: str) -> Iterator[sqlite3.Connection]:
        """One write transaction: committed when the block ends, rolled back on any exception
        (re-raised; a value SQLite cannot hold and SQLite's own errors as StorageError)."""
        if self.readonly:
            raise StorageError(f"{self.url} is read-only here (no permission to write it): "
                               f"cannot {what}")
        conn = self._conn()
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.DatabaseError as e:
            raise StorageError(f"{self.url}: cannot {what}: {e}") from None
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException as e:
            if conn.in_transaction:
                with contextlib.suppress(sqlite3.DatabaseError):
                    conn.execute("ROLLBACK")
            if isinstance(e, (sqlite3.DatabaseError, OverflowError, ValueError, TypeError)) \
                    and not isinstance(e, StorageError):
                raise StorageError(f"{self.url}: cannot {what}: {e}") from None
            raise

    @contextlib.contextmanager
    def _reading(self, what: str) -> Iterator[sqlite3.Connection]:
        try:
            yield self._conn()
        except sqlite3.DatabaseError as e:
            raise StorageError(f"{self.url}: cannot {what}: {e}") from None

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # ---- the schema ------------------------------------------------------------------------
    def _create_or_migrate(self) -> None:
        conn = self._conn()
        row = self._version(conn)
        if row is None:  # a new file (of several processes creating it at once, one does)
            with self._transaction("create the tables") as conn:
                for statement in _SCHEMA.split(";"):  # (executescript would commit first)
                    if statement.strip():
                        conn.execute(statement)
                conn.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)",
                             (str(SCHEMA_VERSION),))
            row = self._version(conn)
        if row is not None and row != str(SCHEMA_VERSION):
            self._migrate(row)
        self._columns = self._read_columns()

    def _version(self, conn: sqlite3.Connection) -> str | None:
        try:
            row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        except sqlite3.OperationalError as e:
            if "no such table" in str(e):
                return None
            raise
        return None if row is None else str(row[0])

    def _check_version(self, version: str) -> None:
        if not version.isdigit() or int(version) > SCHEMA_VERSION:
            raise StorageError(
                f"{self.url} has schema version {version}; this symbo reads {SCHEMA_VERSION} "
                "and older"
            )

    def _migrate(self, version: str) -> None:
        """Brings a file of an older schema version up to date, in one transaction (a failure
        leaves it as it was; of several processes opening it at once, one migrates)."""
        self._check_version(version)
        with self._transaction("update the file's schema") as conn:
            current = self._version(conn) or version
            for v in range(int(current), SCHEMA_VERSION):
                for statement in _MIGRATIONS[v]:
                    conn.execute(statement)
            conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'",
                         (str(SCHEMA_VERSION),))

    def _check_readable(self) -> None:
        conn = self._conn()
        version = self._version(conn)
        if version is None:
            raise StorageError(f"cannot open {self.url}: it is read-only here and holds no "
                               "symbo studies")
        self._check_version(version)
        self._columns = self._read_columns()

    def _read_columns(self) -> set[tuple[str, str]]:
        conn = self._conn()
        return {(table, row[1]) for table in ("studies", "trials")
                for row in conn.execute(f"PRAGMA table_info({table})")}

    def _select(self, table: str, columns: tuple[str, ...]) -> str:
        """The column list of a SELECT, with defaults for columns an old file lacks."""
        return ", ".join(c if (table, c) in self._columns or (table, c) not in _ADDED
                         else f"{_ADDED[(table, c)]} AS {c}" for c in columns)

    # ---- studies -------------------------------------------------------------------------
    def create_study(self, name: str, *, objectives: tuple[str, ...], space_json: Any = None,
                     space_text: str | None = None, algorithm_json: Any = None,
                     load_if_exists: bool = False) -> StudyInfo:
        with self._transaction(f"create study {name!r}") as conn:
            row = conn.execute("SELECT id FROM studies WHERE name = ?", (name,)).fetchone()
            if row is None:
                conn.execute(
                    "INSERT INTO studies (name, objectives, space_json, space_text, "
                    "algorithm_json, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                    (name, _dumps(list(objectives)), _dumps(space_json), space_text,
                     _dumps(algorithm_json), now()))
        if row is not None and not load_if_exists:
            raise StorageError(f"a study named {name!r} already exists in {self.url} "
                               "(pass load_if_exists=True, or resume it)")
        return self.load_study(name)

    def _studies(self, where: str = "", args: tuple = ()) -> list[StudyInfo]:
        with self._reading("read its studies") as conn:
            rows = conn.execute(f"SELECT {self._select('studies', _STUDY_COLUMNS)} FROM studies "
                                f"{where} ORDER BY id", args).fetchall()
        return [decode_study(self.url, row) for row in rows]

    def load_study(self, name: str) -> StudyInfo:
        found = self._studies("WHERE name = ?", (name,))
        if not found:
            names = [s.name for s in self._studies()]
            raise StorageError(
                f"no study named {name!r} in {self.url} (studies: {', '.join(names) or 'none'})"
            )
        return found[0]

    def list_studies(self) -> list[StudyInfo]:
        return self._studies()

    def set_budget(self, study_id: int, num_trials: int | None) -> None:
        with self._transaction("record the study's budget") as conn:
            conn.execute("UPDATE studies SET num_trials = ? WHERE id = ?", (num_trials, study_id))

    def save_algorithm_state(self, study_id: int, state: Any) -> None:
        text = _dumps(state)
        with self._transaction("save the algorithm's state") as conn:
            conn.execute("UPDATE studies SET algorithm_state = ? WHERE id = ?", (text, study_id))

    def load_algorithm_state(self, study_id: int) -> Any:
        with self._reading("read the algorithm's state") as conn:
            row = conn.execute("SELECT name, algorithm_state FROM studies WHERE id = ?",
                               (study_id,)).fetchone()
        if row is None or row[1] is None:
            return None
        try:
            return json.loads(row[1])
        except (json.JSONDecodeError, TypeError, ValueError, RecursionError) as e:
            raise StorageError(f"{self.url}: study {row[0]!r}: column 'algorithm_state' is "
                               f"corrupted ({e}); the other records are intact") from None

    # ---- trials --------------------------------------------------------------------------
    def create_trial(self, study_id: int, *, dna_json: Any, worker: str,
                     program_json: Any = None, max_trials: int | None = None,
                     params: dict[str, Any] | None = None) -> int | None:
        dna, program, params_text = _dumps(dna_json), _dumps(program_json), _dumps(params or {})
        with self._transaction("record a new trial") as conn:
            t = self._stamp(conn, study_id)  # under the write lock: in commit order
            count = self._count(conn, study_id)
            if max_trials is not None and count >= max_trials:
                return None
            conn.execute(
                "INSERT INTO trials (study_id, number, dna, status, started_at, heartbeat_at, "
                "worker, program_json, updated_at, params) "
                "VALUES (?, ?, ?, 'running', ?, ?, ?, ?, ?, ?)",
                (study_id, count, dna, t, t, worker, program, t, params_text))
        return count

    def enqueue_trial(self, study_id: int, *, dna_json: Any,
                      params: dict[str, Any] | None = None) -> int:
        dna, params_text = _dumps(dna_json), _dumps(params or {})
        with self._transaction("enqueue a trial") as conn:
            t = self._stamp(conn, study_id)
            count = self._count(conn, study_id)
            conn.execute("INSERT INTO trials (study_id, number, dna, status, updated_at, params) "
                         "VALUES (?, ?, ?, 'pending', ?, ?)", (study_id, count, dna, t, params_text))
        return count

    @staticmethod
    def _stamp(conn: sqlite3.Connection, study_id: int) -> float:
        """The ``updated_at`` of a change: now, or just after the study's latest one, so that
        times strictly follow the commit order (readers polling ``updated_after`` the latest
        time they saw miss nothing, even with a clock that steps back or two commits in one
        tick). Called under the write lock."""
        latest = conn.execute("SELECT MAX(updated_at) FROM trials WHERE study_id = ?",
                              (study_id,)).fetchone()[0]
        t = now()
        return t if latest is None or t > latest else math.nextafter(latest, math.inf)

    @staticmethod
    def _count(conn: sqlite3.Connection, study_id: int) -> int:
        row = conn.execute("SELECT MAX(number) FROM trials WHERE study_id = ?",
                           (study_id,)).fetchone()
        return 0 if row[0] is None else int(row[0]) + 1

    def _status(self, conn: sqlite3.Connection, study_id: int, number: int) -> str:
        row = conn.execute("SELECT status FROM trials WHERE study_id = ? AND number = ?",
                           (study_id, number)).fetchone()
        if row is None:
            raise StorageError(f"no trial {number} in study {study_id}")
        return str(row[0])

    def claim_trial(self, study_id: int, number: int, *, worker: str,
                    holder: str | None, dna_json: Any = None,
                    params: dict[str, Any] | None = None) -> bool:
        dna = None if dna_json is None else _dumps(dna_json)
        params_text = None if params is None else _dumps(params)
        with self._transaction(f"claim trial {number}") as conn:
            t = self._stamp(conn, study_id)  # under the write lock: in commit order
            if holder is None:
                cur = conn.execute(
                    "UPDATE trials SET status = 'running', worker = ?, started_at = ?, "
                    "heartbeat_at = ?, updated_at = ?, dna = COALESCE(?, dna), "
                    "params = COALESCE(?, params) "
                    "WHERE study_id = ? AND number = ? AND status = 'pending'",
                    (worker, t, t, t, dna, params_text, study_id, number))
            else:
                cur = conn.execute(
                    "UPDATE trials SET worker = ?, started_at = ?, heartbeat_at = ?, "
                    "updated_at = ? WHERE study_id = ? AND number = ? AND status = 'running' "
                    "AND worker = ?", (worker, t, t, t, study_id, number, holder))
            if cur.rowcount == 0:
                self._status(conn, study_id, number)  # "no trial n" when there is none
                return False
            conn.execute("DELETE FROM reports WHERE study_id = ? AND number = ?",
                         (study_id, number))
        return True

    def finish_trial(self, study_id: int, number: int, status: str, *, reward: Any = None,
                     error: str | None = None, holder: str | None = None) -> bool:
        check_status(status)
        value = _dumps(reward)
        with self._transaction(f"record the result of trial {number}") as conn:
            t = self._stamp(conn, study_id)  # under the write lock: in commit order
            sql = ("UPDATE trials SET status = ?, reward = ?, error = ?, finished_at = ?, "
                   f"updated_at = ? WHERE study_id = ? AND number = ? AND status NOT IN {FINISHED!r}")
            args: tuple = (status, value, error, t, t, study_id, number)
            if holder is not None:
                sql += " AND worker = ?"
                args += (holder,)
            if conn.execute(sql, args).rowcount:
                return True
            current = self._status(conn, study_id, number)
        if holder is not None:
            return False  # taken over by another worker, or finished
        raise StorageError(f"trial {number} is already {current}; it is not changed")

    def add_report(self, study_id: int, number: int, step: int, value: float, *,
                   holder: str | None = None) -> None:
        step = check_step(step)
        with self._transaction(f"record a report of trial {number}") as conn:
            t = self._stamp(conn, study_id)  # under the write lock: in commit order
            sql = ("UPDATE trials SET updated_at = ?, heartbeat_at = ? "
                   "WHERE study_id = ? AND number = ? AND status = 'running'")
            args: tuple = (t, t, study_id, number)
            if holder is not None:
                sql += " AND worker = ?"
                args += (holder,)
            if conn.execute(sql, args).rowcount == 0:
                status = self._status(conn, study_id, number)
                if status == "running":
                    raise StorageError(f"trial {number} is run by another worker now; the report "
                                       "is not recorded")
                raise StorageError(f"trial {number} is {status}; only running trials take reports")
            try:
                conn.execute("INSERT INTO reports VALUES (?, ?, ?, ?)",
                             (study_id, number, step, float(value)))
            except sqlite3.IntegrityError:
                raise StorageError(f"trial {number} already has a report at step {step}; "
                                   "it is not changed") from None

    def heartbeat(self, study_id: int, numbers: list[int]) -> None:
        if not numbers:
            return
        marks = ",".join("?" * len(numbers))
        with self._transaction("mark running trials alive") as conn:
            conn.execute(f"UPDATE trials SET heartbeat_at = ? WHERE study_id = ? "
                         f"AND number IN ({marks}) AND status = 'running'",
                         (now(), study_id, *numbers))

    def get_trials(self, study_id: int, *, updated_after: float | None = None,
                   on_error: OnError | None = None) -> list[TrialRecord]:
        where, args = "study_id = ?", [study_id]
        if updated_after is not None:
            where += " AND updated_at > ?"
            args.append(updated_after)
        with self._reading("read its trials") as conn:
            rows = conn.execute(f"SELECT {self._select('trials', _TRIAL_COLUMNS)} FROM trials "
                                f"WHERE {where} ORDER BY number", args).fetchall()
            reports: dict[Any, list[tuple[Any, Any]]] = {}
            if rows:
                for number, step, value in conn.execute(
                        "SELECT number, step, value FROM reports WHERE study_id = ? AND number IN "
                        f"(SELECT number FROM trials WHERE {where}) ORDER BY number, step",
                        [study_id, *args]):
                    reports.setdefault(number, []).append((step, value))
            name = self._study_name(conn, study_id)
        out = []
        for row in rows:
            try:
                out.append(decode_trial(self.url, name, row, reports.get(row[0], [])))
            except StorageError as e:
                if on_error is None:
                    raise
                on_error(row[0] if isinstance(row[0], int) else -1, e)
        return out

    def _study_name(self, conn: sqlite3.Connection, study_id: int) -> str:
        row = conn.execute("SELECT name FROM studies WHERE id = ?", (study_id,)).fetchone()
        return f"study {row[0]!r}" if row else f"study {study_id}"

    def count_trials(self, study_id: int) -> int:
        with self._reading("count its trials") as conn:
            return self._count(conn, study_id)

    def set_trial_params(self, study_id: int, number: int, params: dict[str, Any],
                         user_attrs: dict[str, Any] | None = None) -> None:
        text, attrs_text = _dumps(dict(params)), _dumps(dict(user_attrs or {}))
        with self._transaction(f"record the params of trial {number}") as conn:
            if conn.execute("UPDATE trials SET params = ?, user_attrs = ?, updated_at = ? "
                            "WHERE study_id = ? AND number = ? AND status = 'running'",
                            (text, attrs_text, self._stamp(conn, study_id), study_id,
                             number)).rowcount == 0:
                raise StorageError(f"trial {number} is {self._status(conn, study_id, number)}; "
                                   "its params are not changed")

    def update_space(self, study_id: int, update: Any) -> Any:
        with self._transaction(f"change the space of study {study_id}") as conn:
            row = conn.execute("SELECT name, space_json, space_text FROM studies WHERE id = ?",
                               (study_id,)).fetchone()
            if row is None:
                raise StorageError(f"no study {study_id} in {self.url}")
            try:
                old = None if row[1] is None else json.loads(row[1])
            except (json.JSONDecodeError, TypeError, ValueError, RecursionError) as e:
                raise StorageError(f"{self.url}: study {row[0]!r}: column 'space_json' is "
                                   f"corrupted ({e}); the other records are intact") from None
            space_json, space_text = update(old, row[2])
            conn.execute("UPDATE studies SET space_json = ?, space_text = ? WHERE id = ?",
                         (_dumps(space_json), space_text, study_id))
        return space_json
