"""``trial.params``: literal values stored with each trial, readable without the user's code."""

from __future__ import annotations

import csv
import json
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import symbo as sb
from symbo.algorithms import Grid, Random
from symbo.backends.storage import open_storage
from symbo.backends.storage.sqlite import SCHEMA_VERSION

ROOT = Path(__file__).resolve().parents[2]


def _space() -> sb.Dict:
    return sb.Dict(
        batch=sb.one_of([32, 64], name="batch_size"),
        opt=sb.one_of(["sgd", sb.Dict(kind="adam", beta=sb.float_range(0.8, 0.99, name="beta"))],
                      name="optimizer"),
        depth=sb.int_range(1, 3),
    )


@pytest.fixture(params=["memory", "sqlite"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return "memory:" if request.param == "memory" else f"sqlite:///{tmp_path / 'study.db'}"


def test_every_trial_has_params_with_literal_values(url: str) -> None:
    study = sb.tune(lambda p: float(p.batch), _space(), Random(seed=0), num_trials=8,
                    storage=url, study_name="p")
    spec = sb.dna_spec(_space())
    for t in study.trials:
        assert t.params == t.dna.to_params(spec)
        assert t.params["batch_size"] == t.program.batch  # 64, not the index 1
        assert ("beta" in t.params) == (t.program.opt != "sgd")
        assert sb.eq(sb.materialize(_space(), sb.DNA.from_params(spec, t.params)), t.program)
    reopened = sb.load_study(url if url != "memory:" else study.storage, "p")
    assert [t.params for t in reopened.trials] == [t.params for t in study.trials]


def test_export_has_literal_values_and_blank_cells_for_inactive_decisions(tmp_path: Path) -> None:
    study = sb.tune(lambda p: float(p.depth), _space(), Grid(grid_size=2), num_trials=12)
    study.export(tmp_path / "t.csv")
    with open(tmp_path / "t.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0])[3:7] == ["batch_size", "optimizer", "depth", "beta"] or \
        list(rows[0])[3:7] == ["batch_size", "optimizer", "beta", "depth"]
    for row, t in zip(rows, study.trials):
        assert row["batch_size"] == str(t.program.batch)
        if t.program.opt == "sgd":
            assert row["optimizer"] == "sgd" and row["beta"] == ""
        else:
            assert float(row["beta"]) == t.program.opt.beta


SCRIPT = textwrap.dedent('''
    import sys
    import symbo as sb

    class Head(sb.Object):
        width: int = 8
        act: str = "relu"

    space = sb.Dict(head=sb.one_of([Head(16), Head(32, "gelu")], name="head"),
                    lr=sb.float_range(1e-3, 1e-1, scale="log", name="lr"),
                    batch=sb.one_of([32, 64, 128], name="batch_size"))
    sb.tune(lambda p: p.head.width * p.lr, space, sb.algorithms.Random(seed=1), num_trials=5,
            storage=sys.argv[1], study_name="s")
''')

READER = textwrap.dedent('''
    import json, sys
    import symbo as sb

    study = sb.load_study(sys.argv[1], "s")   # the script's class Head is not known here
    print(json.dumps([t.params for t in study.trials]))
''')


def _python(tmp_path: Path, code: str, *args: str) -> str:
    path = tmp_path / f"s{abs(hash(code))}.py"
    path.write_text(code)
    done = subprocess.run([sys.executable, str(path), *args], capture_output=True, text=True,
                          cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_params_are_read_back_by_another_process_without_the_users_code(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'study.db'}"
    _python(tmp_path, SCRIPT, url)
    params = json.loads(_python(tmp_path, READER, url))
    assert len(params) == 5
    for p in params:
        assert set(p) == {"head", "lr", "batch_size"}
        assert p["head"] in ("Head(width=16, act='relu')", "Head(width=32, act='gelu')")
        assert p["batch_size"] in (32, 64, 128) and 1e-3 <= p["lr"] <= 1e-1


def test_a_schema_version_1_file_gets_a_params_column(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        INSERT INTO meta VALUES ('schema_version', '1');
        CREATE TABLE studies (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE NOT NULL,
            objectives TEXT NOT NULL, space_json TEXT, space_text TEXT, algorithm_json TEXT,
            algorithm_state TEXT, created_at REAL NOT NULL);
        CREATE TABLE trials (study_id INTEGER NOT NULL REFERENCES studies(id),
            number INTEGER NOT NULL, dna TEXT NOT NULL, status TEXT NOT NULL, reward TEXT,
            error TEXT, started_at REAL, finished_at REAL, heartbeat_at REAL, worker TEXT,
            program_json TEXT, updated_at REAL NOT NULL, PRIMARY KEY (study_id, number));
        CREATE TABLE reports (study_id INTEGER NOT NULL, number INTEGER NOT NULL,
            step INTEGER NOT NULL, value REAL NOT NULL, PRIMARY KEY (study_id, number, step));
    """)
    space = sb.Dict(batch=sb.one_of([32, 64], name="batch_size"))
    conn.execute("INSERT INTO studies (name, objectives, space_json, space_text, created_at) "
                 "VALUES ('old', '[\"max\"]', ?, ?, 0)",
                 (json.dumps(sb.to_json(space)), sb.format(space)))
    conn.execute("INSERT INTO trials (study_id, number, dna, status, reward, updated_at) "
                 "VALUES (1, 0, '[null, [[1, []]]]', 'completed', '1.0', 0)")
    conn.commit()
    conn.close()
    store = open_storage(f"sqlite:///{path}")
    assert store.get_trials(1)[0].params == {}  # NOT NULL: an empty dict, never NULL
    study = sb.load_study(store, "old")
    assert study.trials[0].params == {"batch_size": 64}  # derived from the stored space
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT value FROM meta").fetchone()[0] == str(SCHEMA_VERSION)
    conn.close()


def test_a_newer_schema_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    open_storage(f"sqlite:///{path}")
    conn = sqlite3.connect(path)
    conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    with pytest.raises(sb.StorageError,
                       match=f"schema version 99; this symbo reads {SCHEMA_VERSION} and older"):
        open_storage(f"sqlite:///{path}")


def test_a_corrupted_params_column_names_the_trial(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    sb.tune(lambda p: 1.0, _space(), Random(seed=0), num_trials=2, storage=url, study_name="c")
    conn = sqlite3.connect(tmp_path / "s.db")
    conn.execute("UPDATE trials SET params = '[1]' WHERE number = 1")
    conn.commit()
    conn.close()
    record = open_storage(url).get_trials(1)[1]  # (params are decoded when read)
    with pytest.raises(sb.StorageError, match="study 'c', trial 1: column 'params' is corrupted"):
        _ = record.params
