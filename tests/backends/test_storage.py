"""Storages: the interface on both implementations, SQLite files, bad URLs, corrupted rows."""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import symbo as sb
from symbo.backends.storage import (
    InMemoryStorage,
    SQLiteStorage,
    Storage,
    StorageError,
    open_storage,
)

DNA0 = [None, [[1, []], [0.5, []]]]
DNA1 = [None, [[2, []], [0.25, []]]]


@pytest.fixture(params=["memory", "sqlite"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Storage]:
    if request.param == "memory":
        store: Storage = open_storage("memory:")
        assert isinstance(store, InMemoryStorage)
    else:
        store = open_storage(f"sqlite:///{tmp_path / 'study.db'}")
        assert isinstance(store, SQLiteStorage)
    yield store
    store.close()


def _sqlite_url(tmp_path: Path, name: str = "study.db") -> str:
    return f"sqlite:///{tmp_path / name}"


# ---- studies -----------------------------------------------------------------------------------
def test_create_load_and_list_studies(storage: Storage) -> None:
    assert storage.list_studies() == []
    a = storage.create_study("a", objectives=("max",), space_json={"x": 1}, space_text="{x=1}",
                             algorithm_json={"_type": "algo"})
    b = storage.create_study("b", objectives=("min", "max"))
    assert a.id != b.id
    loaded = storage.load_study("a")
    assert (loaded.id, loaded.name, tuple(loaded.objectives)) == (a.id, "a", ("max",))
    assert loaded.space_json == {"x": 1} and loaded.space_text == "{x=1}"
    assert loaded.algorithm_json == {"_type": "algo"}
    assert loaded.created_at > 0
    assert tuple(storage.load_study("b").objectives) == ("min", "max")
    assert [s.name for s in storage.list_studies()] == ["a", "b"]


def test_load_if_exists_returns_the_existing_study_unchanged(storage: Storage) -> None:
    first = storage.create_study("s", objectives=("max",), space_text="one")
    again = storage.create_study("s", objectives=("max",), space_text="two", load_if_exists=True)
    assert again.id == first.id
    assert again.space_text == "one"  # the stored study is not overwritten
    assert len(storage.list_studies()) == 1


def test_a_duplicate_study_name_is_refused(storage: Storage) -> None:
    info = storage.create_study("s", objectives=("max",), space_text="one")
    storage.create_trial(info.id, dna_json=DNA0, worker="w")
    with pytest.raises(StorageError, match="'s' already exists"):
        storage.create_study("s", objectives=("min",), space_text="two")
    kept = storage.load_study("s")
    assert kept.space_text == "one" and tuple(kept.objectives) == ("max",)
    assert storage.count_trials(info.id) == 1


def test_an_unknown_study_lists_the_names_there_are(storage: Storage) -> None:
    with pytest.raises(StorageError, match=r"no study named 'nope'.*studies: none"):
        storage.load_study("nope")
    storage.create_study("alpha", objectives=("max",))
    storage.create_study("beta", objectives=("max",))
    with pytest.raises(StorageError) as err:
        storage.load_study("gamma")
    message = str(err.value)
    assert "'gamma'" in message and "alpha" in message and "beta" in message


def test_sb_load_study_of_an_unknown_name_is_a_clear_error(tmp_path: Path) -> None:
    url = _sqlite_url(tmp_path)
    sb.tune(lambda p: p.x, sb.Dict(x=sb.int_range(0, 3)), sb.algorithms.Grid(), num_trials=None,
            storage=url, study_name="present")
    with pytest.raises(StorageError, match=r"no study named 'absent'.*present"):
        sb.load_study(url, "absent")


# ---- trials ------------------------------------------------------------------------------------
def test_trials_are_numbered_from_zero_and_recorded_running(storage: Storage) -> None:
    info = storage.create_study("s", objectives=("max",))
    before = time.time()
    numbers = [storage.create_trial(info.id, dna_json=DNA0 if i % 2 else DNA1, worker=f"w{i}",
                                    program_json={"i": i}) for i in range(5)]
    assert numbers == [0, 1, 2, 3, 4]
    trials = storage.get_trials(info.id)
    assert [t.number for t in trials] == numbers
    assert all(t.status == "running" for t in trials)
    assert [t.worker for t in trials] == ["w0", "w1", "w2", "w3", "w4"]
    assert trials[1].dna_json == DNA0 and trials[2].dna_json == DNA1
    assert trials[3].program_json == {"i": 3}
    assert all(t.started_at is not None and t.started_at >= before for t in trials)
    assert all(t.reward is None and t.finished_at is None for t in trials)
    assert storage.count_trials(info.id) == 5


def test_trials_of_two_studies_are_kept_apart(storage: Storage) -> None:
    a = storage.create_study("a", objectives=("max",))
    b = storage.create_study("b", objectives=("max",))
    assert storage.create_trial(a.id, dna_json=DNA0, worker="w") == 0
    assert storage.create_trial(b.id, dna_json=DNA1, worker="w") == 0
    assert storage.create_trial(a.id, dna_json=DNA1, worker="w") == 1
    assert [t.dna_json for t in storage.get_trials(a.id)] == [DNA0, DNA1]
    assert [t.dna_json for t in storage.get_trials(b.id)] == [DNA1]


def test_create_trial_refuses_past_max_trials(storage: Storage) -> None:
    info = storage.create_study("s", objectives=("max",))
    got = [storage.create_trial(info.id, dna_json=DNA0, worker="w", max_trials=3)
           for _ in range(5)]
    assert got == [0, 1, 2, None, None]
    assert storage.count_trials(info.id) == 3
    assert len(storage.get_trials(info.id)) == 3
    # a larger budget lets the numbering go on
    assert storage.create_trial(info.id, dna_json=DNA0, worker="w", max_trials=4) == 3


def test_finish_trial_records_the_result(storage: Storage) -> None:
    info = storage.create_study("s", objectives=("max",))
    n = storage.create_trial(info.id, dna_json=DNA0, worker="w")
    m = storage.create_trial(info.id, dna_json=DNA1, worker="w")
    k = storage.create_trial(info.id, dna_json=DNA1, worker="w")
    storage.finish_trial(info.id, n, "completed", reward=0.75)
    storage.finish_trial(info.id, m, "failed", error="Traceback ...\nValueError: boom")
    storage.finish_trial(info.id, k, "completed", reward=[1.0, 2.0])
    t0, t1, t2 = storage.get_trials(info.id)
    assert (t0.status, t0.reward, t0.error) == ("completed", 0.75, None)
    assert t0.finished_at is not None and t0.finished_at >= t0.started_at
    assert (t1.status, t1.reward) == ("failed", None) and t1.error.endswith("ValueError: boom")
    assert t2.reward == [1.0, 2.0]


def test_a_finished_trial_is_never_overwritten(storage: Storage) -> None:
    info = storage.create_study("s", objectives=("max",))
    n = storage.create_trial(info.id, dna_json=DNA0, worker="w")
    storage.finish_trial(info.id, n, "completed", reward=1.5)
    finished_at = storage.get_trials(info.id)[0].finished_at
    for status, kwargs in [("completed", {"reward": 9.0}), ("failed", {"error": "late"}),
                           ("stopped", {"reward": 0.0})]:
        with pytest.raises(StorageError, match="already completed"):
            storage.finish_trial(info.id, n, status, **kwargs)
    t = storage.get_trials(info.id)[0]
    assert (t.status, t.reward, t.error, t.finished_at) == ("completed", 1.5, None, finished_at)


def test_finish_trial_checks_its_arguments(storage: Storage) -> None:
    info = storage.create_study("s", objectives=("max",))
    n = storage.create_trial(info.id, dna_json=DNA0, worker="w")
    with pytest.raises(StorageError, match="unknown trial status 'done'"):
        storage.finish_trial(info.id, n, "done", reward=1.0)
    with pytest.raises(StorageError, match="no trial 7"):
        storage.finish_trial(info.id, 7, "completed", reward=1.0)
    assert storage.get_trials(info.id)[0].status == "running"


def test_reports_are_recorded_in_step_order(storage: Storage) -> None:
    info = storage.create_study("s", objectives=("max",))
    a = storage.create_trial(info.id, dna_json=DNA0, worker="w")
    b = storage.create_trial(info.id, dna_json=DNA1, worker="w")
    for step, value in [(1, 0.1), (2, 0.2), (5, 0.4)]:
        storage.add_report(info.id, a, step, value)
    storage.add_report(info.id, b, 3, 0.9)
    ta, tb = storage.get_trials(info.id)
    assert ta.reports == [(1, 0.1), (2, 0.2), (5, 0.4)]
    assert tb.reports == [(3, 0.9)]


def test_reports_never_change_what_is_recorded(storage: Storage) -> None:
    info = storage.create_study("s", objectives=("max",))
    n = storage.create_trial(info.id, dna_json=DNA0, worker="w")
    storage.add_report(info.id, n, 1, 0.1)
    with pytest.raises(StorageError, match="already has a report at step 1"):
        storage.add_report(info.id, n, 1, 0.9)
    storage.add_report(info.id, n, 2, 0.2)
    storage.finish_trial(info.id, n, "completed", reward=0.2)
    with pytest.raises(StorageError, match="completed; only running trials take reports"):
        storage.add_report(info.id, n, 3, 0.3)
    with pytest.raises(StorageError, match="no trial 5"):
        storage.add_report(info.id, 5, 1, 0.3)
    assert storage.get_trials(info.id)[0].reports == [(1, 0.1), (2, 0.2)]


def test_heartbeat_marks_running_trials_alive(storage: Storage) -> None:
    info = storage.create_study("s", objectives=("max",))
    a = storage.create_trial(info.id, dna_json=DNA0, worker="w")
    b = storage.create_trial(info.id, dna_json=DNA0, worker="w")
    first = {t.number: t.heartbeat_at for t in storage.get_trials(info.id)}
    time.sleep(0.02)
    storage.heartbeat(info.id, [b])
    storage.heartbeat(info.id, [])
    now = {t.number: t.heartbeat_at for t in storage.get_trials(info.id)}
    assert now[a] == first[a]
    assert now[b] > first[b]


def test_restart_trial_only_restarts_running_trials(storage: Storage) -> None:
    info = storage.create_study("s", objectives=("max",))
    n = storage.create_trial(info.id, dna_json=DNA0, worker="dead:1")
    storage.add_report(info.id, n, 1, 0.5)
    started = storage.get_trials(info.id)[0].started_at
    time.sleep(0.01)
    storage.restart_trial(info.id, n, worker="alive:2")
    t = storage.get_trials(info.id)[0]
    assert (t.number, t.status, t.worker, t.reports) == (n, "running", "alive:2", [])
    assert t.dna_json == DNA0 and t.started_at > started
    assert storage.count_trials(info.id) == 1  # same number, not a new trial
    storage.finish_trial(info.id, n, "completed", reward=2.0)
    with pytest.raises(StorageError, match="completed; only running trials restart"):
        storage.restart_trial(info.id, n, worker="other:3")
    t = storage.get_trials(info.id)[0]
    assert (t.status, t.reward, t.worker) == ("completed", 2.0, "alive:2")


def test_get_trials_updated_after(storage: Storage) -> None:
    info = storage.create_study("s", objectives=("max",))
    for _ in range(4):
        storage.create_trial(info.id, dna_json=DNA0, worker="w")
    mark = max(t.updated_at for t in storage.get_trials(info.id))
    assert storage.get_trials(info.id, updated_after=mark) == []
    time.sleep(0.01)
    storage.finish_trial(info.id, 2, "completed", reward=1.0)
    storage.add_report(info.id, 0, 1, 0.3)
    changed = storage.get_trials(info.id, updated_after=mark)
    assert [t.number for t in changed] == [0, 2]
    assert changed[0].reports == [(1, 0.3)] and changed[1].reward == 1.0
    assert len(storage.get_trials(info.id, updated_after=0.0)) == 4


def test_algorithm_state_is_saved_and_replaced(storage: Storage) -> None:
    a = storage.create_study("a", objectives=("max",))
    b = storage.create_study("b", objectives=("max",))
    assert storage.load_algorithm_state(a.id) is None
    state = {"history": [[[1, 0.5], 2.0]], "rng": [3, [1, 2, 3], None], "num_trials": 10}
    storage.save_algorithm_state(a.id, state)
    state["history"].append("changed after saving")
    assert storage.load_algorithm_state(a.id) == {
        "history": [[[1, 0.5], 2.0]], "rng": [3, [1, 2, 3], None], "num_trials": 10}
    storage.save_algorithm_state(a.id, {"history": []})
    assert storage.load_algorithm_state(a.id) == {"history": []}
    assert storage.load_algorithm_state(b.id) is None


# ---- opening storages --------------------------------------------------------------------------
def test_open_storage_passes_storages_through_and_defaults_to_memory() -> None:
    store = InMemoryStorage()
    assert open_storage(store) is store
    assert isinstance(open_storage(None), InMemoryStorage)
    assert open_storage("memory:") is not open_storage("memory:")
    assert open_storage("memory:shared-test") is open_storage("memory:shared-test")


@pytest.mark.parametrize("url, message", [
    ("postgres://db/x", "unknown storage scheme 'postgres'.*known: memory, sqlite"),
    ("study.db", "unknown storage scheme 'study.db'"),
    ("sqlite://", "write sqlite:///relative/path.db"),
    ("sqlite://relative.db", "write sqlite:///relative/path.db"),
])
def test_bad_urls_are_clear_errors(url: str, message: str) -> None:
    with pytest.raises(StorageError, match=message):
        open_storage(url)


def test_a_url_that_is_not_a_string_is_refused() -> None:
    with pytest.raises(StorageError, match="URL string, got int"):
        open_storage(42)  # type: ignore[arg-type]


def test_a_missing_folder_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "dir"
    with pytest.raises(StorageError, match=f"folder {missing} does not exist"):
        open_storage(f"sqlite:///{missing / 'study.db'}")
    assert not (tmp_path / "no").exists()  # nothing was created on the way


def test_a_folder_or_a_file_that_is_not_a_database_cannot_be_opened(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="cannot open"):
        open_storage(f"sqlite:///{tmp_path}")
    junk = tmp_path / "notes.db"
    junk.write_bytes(b"these are my notes, not a database\n" * 200)
    with pytest.raises(StorageError, match=r"cannot open .*notes\.db"):
        open_storage(f"sqlite:///{junk}")
    assert junk.read_bytes() == b"these are my notes, not a database\n" * 200  # left alone


def test_tune_with_a_bad_storage_url_records_nothing(tmp_path: Path) -> None:
    calls = []
    with pytest.raises(StorageError, match="does not exist"):
        sb.tune(lambda p: calls.append(p) or 1.0, sb.Dict(x=sb.int_range(0, 3)),
                sb.algorithms.Random(seed=0), num_trials=3,
                storage=f"sqlite:///{tmp_path / 'missing' / 's.db'}", study_name="s")
    assert calls == []


# ---- SQLite files ------------------------------------------------------------------------------
def test_a_sqlite_study_persists_across_opens(tmp_path: Path) -> None:
    url = _sqlite_url(tmp_path)
    first = open_storage(url)
    info = first.create_study("s", objectives=("max",), space_text="space")
    n = first.create_trial(info.id, dna_json=DNA0, worker="w", program_json={"p": 1})
    first.add_report(info.id, n, 1, 0.25)
    first.finish_trial(info.id, n, "completed", reward=0.5)
    first.create_trial(info.id, dna_json=DNA1, worker="w")
    first.save_algorithm_state(info.id, {"num_trials": 3})
    first.close()

    second = open_storage(url)
    assert second is not first
    again = second.load_study("s")
    assert again.id == info.id and again.space_text == "space"
    t0, t1 = second.get_trials(info.id)
    assert (t0.status, t0.reward, t0.reports, t0.program_json) == ("completed", 0.5, [(1, 0.25)],
                                                                   {"p": 1})
    assert (t1.status, t1.dna_json) == ("running", DNA1)
    assert second.load_algorithm_state(info.id) == {"num_trials": 3}
    assert second.create_trial(info.id, dna_json=DNA0, worker="w") == 2


def test_sqlite_uses_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "study.db"
    store = open_storage(f"sqlite:///{path}")
    store.create_study("s", objectives=("max",))
    assert store._conn().execute("PRAGMA journal_mode").fetchone()[0] == "wal"  # type: ignore[attr-defined]
    with sqlite3.connect(path) as conn:  # WAL is a property of the file, seen by others too
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_relative_sqlite_path_is_relative_to_the_working_directory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    store = open_storage("sqlite:///rel.db")
    store.create_study("s", objectives=("max",))
    store.close()
    assert (tmp_path / "rel.db").is_file()


def test_a_sqlite_storage_in_a_forked_child_opens_its_own_connection(tmp_path: Path) -> None:
    store = open_storage(_sqlite_url(tmp_path))
    info = store.create_study("s", objectives=("max",))
    store.create_trial(info.id, dna_json=DNA0, worker="parent")
    pid = os.fork()
    if pid == 0:  # the child writes through the inherited storage object
        code = 1
        try:
            store.create_trial(info.id, dna_json=DNA1, worker="child")
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert [(t.number, t.worker) for t in store.get_trials(info.id)] == [(0, "parent"), (1, "child")]


# ---- corrupted records -------------------------------------------------------------------------
def _five_trials(tmp_path: Path) -> tuple[str, sb.Study]:
    url = _sqlite_url(tmp_path)
    space = sb.Dict(x=sb.int_range(0, 9, name="x"), y=sb.one_of(["a", "b"], name="y"))
    study = sb.tune(lambda p: float(p.x), space, sb.algorithms.Grid(), num_trials=5, storage=url,
                    study_name="precious")
    return url, study


def _raw_rows(path: Path) -> list[tuple]:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT number, dna, status, reward FROM trials ORDER BY number").fetchall()


@pytest.mark.parametrize("column, garbage", [("dna", "[[1, [}"), ("reward", "{not json"),
                                             ("program_json", "nul"), ("params", "{")])
def test_a_corrupted_row_is_named_and_nothing_else_is_lost(tmp_path: Path, column: str,
                                                           garbage: str) -> None:
    url, study = _five_trials(tmp_path)
    rewards = {t.id: t.reward for t in study.trials}
    path = tmp_path / "study.db"
    before = _raw_rows(path)
    with sqlite3.connect(path) as conn:
        conn.execute(f"UPDATE trials SET {column} = ? WHERE number = 3", (garbage,))

    with pytest.raises(StorageError) as err:
        if column in ("dna", "reward"):  # read with every trial
            _ = sb.load_study(url, "precious").trials
        else:  # decoded when read: the trial itself reads, and its reward is intact
            trial = sb.load_study(url, "precious").trials[3]
            assert trial.reward == rewards[3] and trial.program.x == trial.reward
            record = open_storage(url).get_trials(trial_study_id(url))[3]
            assert record.reward == rewards[3]
            _ = getattr(record, column)
    message = str(err.value)
    assert "precious" in message, message  # the study, by name
    assert "trial 3" in message, message
    assert repr(column) in message or f"column {column}" in message, message
    assert "corrupted" in message

    # a fresh connection still reads every other row unchanged; the bad one is left as it was
    after = _raw_rows(path)
    assert [r for r in after if r[0] != 3] == [r for r in before if r[0] != 3]
    for number, dna, status, reward in after:
        if number != 3:
            assert status == "completed" and json.loads(reward) == rewards[number]
            json.loads(dna)
    # the study itself (name, space, algorithm) still loads
    info = open_storage(url).load_study("precious")
    assert info.name == "precious" and info.space_text


def trial_study_id(url: str) -> int:
    return open_storage(url).load_study("precious").id


def test_a_stored_value_of_the_wrong_shape_is_named(tmp_path: Path) -> None:
    url, _ = _five_trials(tmp_path)
    with sqlite3.connect(tmp_path / "study.db") as conn:
        conn.execute("UPDATE trials SET reward = '\"high\"' WHERE number = 1")
    with pytest.raises(StorageError, match=r"study 'precious', trial 1: .*reward.*'high'"):
        _ = sb.load_study(url, "precious").trials
    with sqlite3.connect(tmp_path / "study.db") as conn:
        conn.execute("UPDATE trials SET reward = '1.0', dna = '{\"a\": 1}' WHERE number = 1")
    with pytest.raises(StorageError, match=r"study 'precious', trial 1: .*DNA"):
        _ = sb.load_study(url, "precious").trials


def test_an_unknown_status_is_named(tmp_path: Path) -> None:
    url, _ = _five_trials(tmp_path)
    with sqlite3.connect(tmp_path / "study.db") as conn:
        conn.execute("UPDATE trials SET status = 'exploded' WHERE number = 4")
    with pytest.raises(StorageError, match=r"precious.*trial 4.*'exploded'"):
        _ = sb.load_study(url, "precious").trials


def test_a_corrupted_algorithm_state_is_named_and_the_trials_still_resume(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    url, study = _five_trials(tmp_path)
    with sqlite3.connect(tmp_path / "study.db") as conn:
        conn.execute("UPDATE studies SET algorithm_state = '{{' WHERE name = 'precious'")
    with pytest.raises(StorageError, match=r"precious.*algorithm_state.*corrupted"):
        open_storage(url).load_algorithm_state(study.info.id)
    # the saved state holds only what the trials cannot give back: the study opens and resumes
    loaded = sb.load_study(url, "precious")
    assert len(loaded.trials) == 5
    with caplog.at_level("WARNING", logger="symbo"):
        loaded.resume(lambda p: float(p.x), num_trials=8)
    assert [t.status for t in loaded.trials] == ["completed"] * 8
    assert "algorithm_state" in caplog.text and "from the trials alone" in caplog.text


def test_continuing_a_corrupted_study_skips_and_reports_the_unreadable_trial(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    url, study = _five_trials(tmp_path)
    path = tmp_path / "study.db"
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE trials SET dna = 'garbage' WHERE number = 0")
    before = _raw_rows(path)
    with caplog.at_level("WARNING", logger="symbo"):
        resumed = sb.tune(lambda p: 1.0, study.space, sb.algorithms.Grid(), num_trials=8,
                          storage=url, study_name="precious", load_if_exists=True)
    assert "study 'precious', trial 0: column 'dna' is corrupted" in caplog.text
    assert "skipped" in caplog.text
    assert list(resumed.unreadable) == [0]
    after = _raw_rows(path)
    assert after[:5] == before  # the unreadable row (and every other) is left as it was
    assert [r[0] for r in after] == list(range(8))  # three more, numbered after it
    assert [r[2] for r in after[5:]] == ["completed"] * 3
    with pytest.raises(StorageError, match="trial 0"):  # reading it plainly still says so
        _ = sb.load_study(url, "precious").trials


# ---- several processes on one file -------------------------------------------------------------
def _fork(fn: object) -> int:
    """Runs ``fn()`` in a forked child; the child's exit code says whether it raised."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            fn()  # type: ignore[operator]
            code = 0
        finally:
            os._exit(code)
    return pid


def test_processes_opening_a_new_file_at_once_all_succeed(tmp_path: Path) -> None:
    # SQLite may answer "database is locked" without waiting while a new file turns to WAL
    for repeat in range(25):
        url = f"sqlite:///{tmp_path / f'fresh{repeat}.db'}"
        start = time.time() + 0.02

        def child(i: int, url: str = url, start: float = start) -> None:
            while time.time() < start:
                pass
            store = open_storage(url)
            info = store.create_study("s", objectives=("max",), load_if_exists=True)
            store.create_trial(info.id, dna_json=DNA0, worker=f"w{i}")

        pids = [_fork(lambda i=i: child(i)) for i in range(6)]
        codes = [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in pids]
        assert codes == [0] * 6, f"repeat {repeat}: {codes}"
        store = open_storage(url)
        assert len(store.list_studies()) == 1
        assert [t.number for t in store.get_trials(store.load_study("s").id)] == list(range(6))


def test_incremental_reads_miss_no_change_made_by_other_processes(tmp_path: Path) -> None:
    """``get_trials(updated_after=...)`` polled with the latest ``updated_at`` seen (as
    Study.refresh does) sees every change other processes commit, in any interleaving."""
    url = _sqlite_url(tmp_path)
    store = open_storage(url)
    info = store.create_study("s", objectives=("max",))
    writers, per_writer = 4, 40

    def write(w: int) -> None:
        mine = open_storage(url)
        for i in range(per_writer):
            n = mine.create_trial(info.id, dna_json=DNA0, worker=f"w{w}")
            mine.finish_trial(info.id, n, "completed", reward=float(i))

    pids = {_fork(lambda w=w: write(w)) for w in range(writers)}
    view: dict[int, str] = {}
    mark: float | None = None

    def poll() -> None:
        nonlocal mark
        for t in store.get_trials(info.id, updated_after=mark):
            view[t.number] = t.status
            mark = t.updated_at if mark is None else max(mark, t.updated_at)

    while pids:
        poll()
        for pid in list(pids):
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                assert os.waitstatus_to_exitcode(status) == 0
                pids.discard(pid)
    poll()
    assert sorted(view) == list(range(writers * per_writer))
    assert [n for n, status in sorted(view.items()) if status != "completed"] == []
