"""A fault fails one trial, never the study or the file: rewards and reports the storage cannot
hold, exceptions inside writes, corrupted cells, missing and read-only files, concurrent saves."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
import stat
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

import symbo as sb
from symbo.backends.storage import StorageError, open_storage


def _space() -> sb.Dict:
    return sb.Dict(x=sb.int_range(0, 9, name="x"), k=sb.one_of(["a", "b"], name="k"))


def _writable_by_others(path: Path) -> None:
    """Checks that another connection can take the write lock at once (nothing left open)."""
    conn = sqlite3.connect(path, timeout=0)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
    finally:
        conn.close()


# ---- rewards and reports the storage cannot hold -----------------------------------------------
@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("bad, reason", [
    (10 ** 400, "too large for a float"),
    (-(10 ** 400), "too large for a float"),
    (float("inf"), "rewards must be finite"),
    ("0.5", "expected a number"),
    ((1.0, 2.0), "expected 1 objective value(s), got 2"),
])
def test_a_reward_the_storage_cannot_hold_fails_its_trial(tmp_path: Path, workers: int,
                                                          bad: object, reason: str) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    study = sb.tune(lambda p: bad if p.x == 3 else float(p.x), _space(), sb.algorithms.Grid(),
                    num_trials=None, storage=url, study_name="s", workers=workers)
    trials = sb.load_study(url, "s").trials
    assert len(trials) == 20 == len(study.trials)
    for t in trials:
        if t.program.x == 3:
            assert t.status == "failed" and reason in t.error, t.error
            assert f"trial {t.id}" in t.error
        else:
            assert t.status == "completed"
    _writable_by_others(tmp_path / "s.db")


def test_a_resumed_grid_does_not_propose_a_failed_point_again(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    space = sb.Dict(x=sb.int_range(0, 5, name="x"))
    sb.tune(lambda p: 10 ** 400 if p.x == 2 else float(p.x), space, sb.algorithms.Grid(),
            num_trials=4, storage=url, study_name="s")
    study = sb.load_study(url, "s")
    assert study.trials[2].status == "failed"
    study.resume(lambda p: float(p.x), num_trials=6)
    assert [t.params["x"] for t in study.trials] == [0, 1, 2, 3, 4, 5]
    assert [t.status for t in study.trials] == ["completed"] * 2 + ["failed"] + ["completed"] * 3


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("step, reason", [
    (2 ** 63, "between 0 and 2**63 - 1"),
    (-1, "between 0 and 2**63 - 1"),
    (1.5, "whole number"),
    ("one", "whole number"),
])
def test_a_report_the_storage_cannot_hold_fails_its_trial_and_leaves_the_file_free(
        tmp_path: Path, workers: int, step: object, reason: str) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"

    def objective(p: sb.Dict, feedback: sb.Feedback) -> float:
        feedback.report(1, 0.25)
        if p.x == 4:
            feedback.report(step, 0.5)  # type: ignore[arg-type]
        return float(p.x)

    sb.tune(objective, _space(), sb.algorithms.Grid(), num_trials=None, storage=url,
            study_name="s", workers=workers)
    trials = sb.load_study(url, "s").trials
    assert len(trials) == 20
    for t in trials:
        assert t.reports == [(1, 0.25)]
        if t.program.x == 4:
            assert t.status == "failed" and reason in t.error, t.error
        else:
            assert t.status == "completed"
    _writable_by_others(tmp_path / "s.db")


# ---- every write is one transaction --------------------------------------------------------------
class Boom(BaseException):
    """Raised in the middle of a write (as Ctrl-C or a bug would)."""


class Exploding:
    """A connection that raises Boom right after the first statement that writes."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self.armed = True

    def execute(self, sql: str, *args: object) -> sqlite3.Cursor:
        cursor = self._conn.execute(sql, *args)
        if self.armed and sql.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")):
            self.armed = False
            raise Boom
        return cursor

    def __getattr__(self, name: str) -> object:
        return getattr(self._conn, name)


@pytest.mark.parametrize("write", ["create_trial", "finish_trial", "add_report", "claim_trial",
                                   "enqueue_trial", "set_budget", "create_study"])
def test_an_exception_inside_any_write_rolls_it_back(tmp_path: Path, write: str) -> None:
    path = tmp_path / "s.db"
    store = open_storage(f"sqlite:///{path}")
    info = store.create_study("s", objectives=("max",))
    n = store.create_trial(info.id, dna_json=[None, []], worker="dead:1")
    before = (store.get_trials(info.id), store.load_study("s"))
    calls = {
        "create_trial": lambda: store.create_trial(info.id, dna_json=[None, []], worker="w"),
        "finish_trial": lambda: store.finish_trial(info.id, n, "completed", reward=1.0),
        "add_report": lambda: store.add_report(info.id, n, 1, 0.5),
        "claim_trial": lambda: store.claim_trial(info.id, n, worker="w", holder="dead:1"),
        "enqueue_trial": lambda: store.enqueue_trial(info.id, dna_json=[None, []]),
        "set_budget": lambda: store.set_budget(info.id, 9),
        "create_study": lambda: store.create_study("t", objectives=("max",)),
    }

    real = store._conn()  # type: ignore[attr-defined]
    store._local.conn = Exploding(real)  # type: ignore[attr-defined]
    with pytest.raises(Boom):
        calls[write]()
    store._local.conn = real  # type: ignore[attr-defined]
    assert not real.in_transaction
    _writable_by_others(path)
    after = (store.get_trials(info.id), store.load_study("s"))
    assert [(t.number, t.status, t.worker, t.reports) for t in after[0]] == [
        (t.number, t.status, t.worker, t.reports) for t in before[0]]
    assert after[1].num_trials == before[1].num_trials
    assert [s.name for s in store.list_studies()] == ["s"]
    calls[write]()  # and the same write works afterwards


# ---- corrupted cells -----------------------------------------------------------------------------
@pytest.fixture
def stored(tmp_path: Path) -> tuple[str, Path]:
    url = f"sqlite:///{tmp_path / 's.db'}"

    def objective(p: sb.Dict, feedback: sb.Feedback) -> float:
        feedback.report(1, 0.5)
        return float(p.x)

    sb.tune(objective, _space(), sb.algorithms.Grid(), num_trials=4, storage=url,
            study_name="precious")
    return url, tmp_path / "s.db"


@pytest.mark.parametrize("table, column, value", [
    ("trials", "reward", "1e999"),                  # infinite
    ("trials", "reward", "1" + "0" * 400),          # an int no float holds
    ("trials", "reward", "[]"),
    ("trials", "reward", b"\x00\xff"),              # not JSON text
    ("trials", "dna", "[null, [[1, []]]]"),         # valid JSON, does not fit the space
    ("trials", "dna", "[null, [[99, []], [0, []]]]"),
    ("trials", "dna", "[" * 5000 + "]" * 5000),     # nested too deep
    ("trials", "started_at", "yesterday"),
    ("trials", "worker", b"\x00\xff"),
    ("trials", "error", b"\x00\xff"),
    ("trials", "status", "exploded"),
    ("reports", "value", "high"),
    ("reports", "step", "first"),
])
def test_a_corrupted_cell_is_a_storage_error_naming_study_trial_and_column(
        stored: tuple[str, Path], table: str, column: str, value: object) -> None:
    url, path = stored
    with sqlite3.connect(path) as conn:
        conn.execute(f"UPDATE {table} SET {column} = ? WHERE number = 2", (value,))
    shown = "dna" if column == "dna" else ("reports" if table == "reports" else column)
    with pytest.raises(StorageError) as err:
        _ = sb.load_study(url, "precious").trials
    message = str(err.value)
    assert "study 'precious'" in message and "trial 2" in message, message
    assert f"column {shown!r}" in message, message
    # a resumed search skips it, says so, and goes on
    study = sb.load_study(url, "precious")
    study.resume(lambda p: float(p.x), num_trials=6)
    assert list(study.unreadable) == [2]
    assert [t.id for t in study.trials] == [0, 1, 3, 4, 5]


@pytest.mark.parametrize("value", ["[1]", "{", 7, b"\x00\xff"])
def test_a_corrupted_params_cell_is_named_when_read_and_resume_goes_on(
        stored: tuple[str, Path], value: object) -> None:
    """Resume needs a trial's DNA, status and reward, not its params: a corrupted params
    cell does not stop it (nor is the trial skipped); reading those params names it."""
    url, path = stored
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE trials SET params = ? WHERE number = 2", (value,))
    study = sb.load_study(url, "precious")
    assert [t.reward for t in study.trials] == [0.0, 0.0, 1.0, 1.0]  # Grid: x=0,0,1,1
    with pytest.raises(StorageError, match=r"study 'precious', trial 2: column 'params' is "
                                           r"corrupted"):
        _ = study.trials[2].params
    assert study.trials[3].params == {"x": 1, "k": "b"}
    with pytest.raises(StorageError, match="trial 2: column 'params'"):
        study.export(path.with_suffix(".csv"))
    study.resume(lambda p: float(p.x), num_trials=6)
    assert study.unreadable == {} and [t.id for t in study.trials] == [0, 1, 2, 3, 4, 5]
    assert study.trials[2].program.x == 1  # its program: from its DNA
    with pytest.raises(StorageError, match="trial 2: column 'params'"):
        _ = sb.load_study(url, "precious").trials[2].params


def test_a_corrupted_program_cell_is_named_when_the_program_is_read(tmp_path: Path) -> None:
    """Without the space's code the program comes from its stored JSON, decoded when read."""
    url = f"sqlite:///{tmp_path / 's.db'}"
    script = tmp_path / "make.py"
    script.write_text(
        "import sys, symbo as sb\n"
        "class Net(sb.Object):\n    width: int = 1\n"
        "sb.tune(lambda p: float(p.net.width), sb.Dict(net=Net(width=sb.int_range(1, 4))),\n"
        "        sb.algorithms.Grid(), num_trials=3, storage=sys.argv[1], study_name='s')\n")
    import subprocess
    import sys

    subprocess.run([sys.executable, str(script), url], check=True, cwd=tmp_path)
    with sqlite3.connect(tmp_path / "s.db") as conn:
        conn.execute("UPDATE trials SET program_json = '{\"a\": ' WHERE number = 1")
    study = sb.load_study(url, "s")  # Net is not defined here: programs come from their JSON
    assert study.space is None and [t.reward for t in study.trials] == [1.0, 2.0, 3.0]
    assert study.trials[0].program is None and "Net" in study.trials[0].program_error
    with pytest.raises(StorageError, match="study 's', trial 1: column 'program_json' is corrupted"):
        _ = study.trials[1].program
    with pytest.raises(StorageError, match="trial 1: column 'program_json'"):
        _ = study.trials[1].program  # named every time it is read, never None


def test_a_malformed_file_is_a_storage_error(stored: tuple[str, Path]) -> None:
    url, path = stored
    data = bytearray(path.read_bytes())
    page = 4096
    for i in range(page, len(data)):  # every page but the header
        data[i] = 0xA5
    path.write_bytes(bytes(data))
    for suffix in ("-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            os.remove(f"{path}{suffix}")
    with pytest.raises(StorageError, match="s.db"):
        _ = sb.load_study(url, "precious").trials


# ---- opening files -------------------------------------------------------------------------------
def test_load_study_never_creates_a_file(tmp_path: Path) -> None:
    missing = tmp_path / "missing.db"
    with pytest.raises(StorageError, match="no such file"):
        sb.load_study(f"sqlite:///{missing}", "s")
    assert not missing.exists() and list(tmp_path.iterdir()) == []


@pytest.fixture
def shared_folder() -> Iterator[Path]:
    """A folder others may read (pytest's tmp_path is the owner's alone)."""
    folder = Path(tempfile.mkdtemp(prefix="symbo-ro-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _as_nobody(fn: object) -> tuple[int, str]:
    """Runs ``fn()`` in a forked child as the user nobody; (exit code, what it printed)."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.close(read)
            os.setgid(65534)
            os.setuid(65534)
            out = fn()  # type: ignore[operator]
            os.write(write, json.dumps(out).encode())
            code = 0
        except BaseException as e:  # noqa: BLE001 - reported to the parent
            os.write(write, json.dumps(f"{type(e).__name__}: {e}").encode())
        finally:
            os._exit(code)
    os.close(write)
    with os.fdopen(read) as f:
        text = f.read()
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), json.loads(text)


@pytest.mark.skipif(os.geteuid() != 0, reason="switches to another user to lose write access")
@pytest.mark.parametrize("checkpointed", [True, False])
def test_a_read_only_study_opens_for_reading(shared_folder: Path, checkpointed: bool) -> None:
    path = shared_folder / "s.db"
    url = f"sqlite:///{path}"
    sb.tune(lambda p: float(p.x), _space(), sb.algorithms.Grid(), num_trials=5, storage=url,
            study_name="ro")
    if checkpointed:
        with sqlite3.connect(path) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    for f in shared_folder.iterdir():
        f.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)

    def read() -> object:
        study = sb.load_study(url, "ro")
        out = [[t.id, t.status, t.reward, t.params] for t in study.trials]
        try:
            study.enqueue_trial({"x": 1, "k": "a"})
        except StorageError as e:
            return [out, str(e)]
        return [out, "written"]

    code, out = _as_nobody(read)
    assert code == 0, out
    trials, refused = out  # type: ignore[misc]
    assert trials == [[i, "completed", float(i // 2), {"x": i // 2, "k": "ab"[i % 2]}]
                      for i in range(5)]
    assert "read-only" in refused


# ---- saving objects ------------------------------------------------------------------------------
def test_concurrent_saves_to_one_path_all_succeed(tmp_path: Path) -> None:
    path = tmp_path / "value.json"
    errors: list[BaseException] = []

    def save(i: int) -> None:
        try:
            for j in range(30):
                sb.save(sb.Dict(writer=i, j=j, payload=list(range(200))), path)
        except BaseException as e:  # noqa: BLE001 - collected for the assertion
            errors.append(e)

    threads = [threading.Thread(target=save, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    value = sb.load(path)
    assert value.j == 29 and len(value.payload) == 200
    assert [p.name for p in tmp_path.iterdir()] == ["value.json"]  # no temporary file left
