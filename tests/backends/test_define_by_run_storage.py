"""Define-by-run studies across processes: a script discovers a space in a SQLite study, with
workers; other processes read it (without the script), resume it, and grow it at once."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import symbo as sb

SCRIPT = '''
import sys
import symbo as sb

def objective(trial):
    opt = trial.suggest_categorical("opt", ["sgd", "adam", "rmsprop"])
    lr = trial.suggest_float("lr", 1e-4, 1e-1, log=True)
    if opt == "sgd":
        return -abs(lr - 0.01) - abs(trial.suggest_float("momentum", 0.0, 0.99) - 0.9)
    if opt == "rmsprop":
        return -abs(lr - 0.001) - abs(trial.suggest_float("alpha", 0.8, 0.99) - 0.9)
    return -abs(lr - 0.003) - trial.suggest_int("warmup", 0, 3) * 0.01

ALGORITHMS = {
    "Random": lambda seed: sb.algorithms.Random(seed=seed),
    "TPE": lambda seed: sb.algorithms.TPE(num_startup=4, seed=seed),
    "RegularizedEvolution": lambda seed: sb.algorithms.RegularizedEvolution(
        population_size=6, tournament_size=2, seed=seed),
    "HillClimb": lambda seed: sb.algorithms.HillClimb(seed=seed),
    "MCTS": lambda seed: sb.algorithms.MCTS(seed=seed),
    "GaussianProcessBO": lambda seed: sb.algorithms.GaussianProcessBO(num_startup=4, seed=seed),
}

if __name__ == "__main__":
    url, trials, workers, algorithm, seed = sys.argv[1:6]
    study = sb.tune(objective, algorithm=ALGORITHMS[algorithm](int(seed)),
                    num_trials=int(trials), storage=url, study_name="dbr",
                    load_if_exists=True, workers=int(workers))
    print(len(study.trials))
'''

READER = '''
import json, sys
import symbo as sb
study = sb.load_study(sys.argv[1], "dbr")
spec = sb.dna_spec(study.space)
out = {
    "decisions": list(study.space.decisions),
    "parents": {k: [p[0], list(p[1])] for k, p in study.space.parents.items()},
    "trials": [[t.id, t.status, t.params] for t in study.trials],
    "best": study.best_trial.params,
    "dna_fits": all(sb.DNA.from_numbers(spec, t.dna.to_numbers()) == t.dna for t in study.trials),
    "programs_are_params": all(dict(t.program.values) == t.params for t in study.trials),
}
print(json.dumps(out))
'''


def keys_for(params: dict) -> list[str]:
    extra = {"sgd": ["momentum"], "rmsprop": ["alpha"], "adam": ["warmup"]}[params["opt"]]
    return ["opt", "lr", *extra]


def run(path: Path, *args: str, timeout: float = 240) -> str:
    result = subprocess.run([sys.executable, str(path), *args], capture_output=True, text=True,
                            timeout=timeout, cwd=path.parent)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def read(tmp_path: Path, url: str) -> dict:
    reader = tmp_path / "reader.py"
    reader.write_text(READER)
    return json.loads(run(reader, url).strip().splitlines()[-1])


@pytest.fixture
def script(tmp_path: Path) -> Path:
    path = tmp_path / "search.py"
    path.write_text(textwrap.dedent(SCRIPT))
    return path


@pytest.mark.slow
@pytest.mark.parametrize("algorithm", ["Random", "TPE", "RegularizedEvolution", "HillClimb",
                                       "MCTS", "GaussianProcessBO"])
def test_a_discovered_study_with_workers_is_read_by_another_process(tmp_path, script, algorithm):
    url = f"sqlite:///{tmp_path / 'study.db'}"
    run(script, url, "16", "2", algorithm, "0")
    out = read(tmp_path, url)
    assert out["decisions"][:2] == ["opt", "lr"]
    assert set(out["decisions"]) <= {"opt", "lr", "momentum", "alpha", "warmup"}
    assert len(out["trials"]) == 16
    for number, status, params in out["trials"]:
        assert status == "completed", (number, status)
        assert list(params) == keys_for(params)
    for key, parent in out["parents"].items():
        assert parent[0] == "opt" and len(parent[1]) == 1, (key, parent)
    assert out["dna_fits"]
    assert out["programs_are_params"]  # no filler shown for a decision a trial did not meet


def test_a_discovered_study_resumes_in_another_process_and_grows_from_two_at_once(tmp_path, script):
    url = f"sqlite:///{tmp_path / 'study.db'}"
    run(script, url, "5", "1", "Random", "1")  # seeded: it meets every optimizer
    first = read(tmp_path, url)
    assert len(first["trials"]) == 5
    # two processes continue the study at once (one with workers), up to 30 trials in all
    procs = [subprocess.Popen([sys.executable, str(script), url, "30", str(w), "TPE", str(seed)],
                              cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for seed, w in ((1, 1), (2, 2))]
    for p in procs:
        _, err = p.communicate(timeout=240)
        assert p.returncode == 0, err[-3000:]
    out = read(tmp_path, url)
    assert len(out["trials"]) == 30
    assert [t[:1] for t in out["trials"][:5]] == [t[:1] for t in first["trials"]]
    assert out["trials"][:5] == first["trials"]
    for _number, status, params in out["trials"]:
        assert status == "completed"
        assert list(params) == keys_for(params)
    assert set(out["decisions"]) == {"opt", "lr", "momentum", "alpha", "warmup"}
    assert out["parents"] == {"momentum": ["opt", [0]], "alpha": ["opt", [2]],
                              "warmup": ["opt", [1]]}


def test_a_script_redefining_a_stored_name_fails_its_own_trials_only(tmp_path, script):
    url = f"sqlite:///{tmp_path / 'study.db'}"
    run(script, url, "6", "1", "Random", "0")
    other = tmp_path / "other.py"
    other.write_text(textwrap.dedent('''
        import sys
        import symbo as sb

        def objective(trial):
            trial.suggest_categorical("opt", ["sgd", "adam", "rmsprop"])
            return trial.suggest_float("lr", 0.5, 1.0)   # another definition of 'lr'

        study = sb.tune(objective, algorithm=sb.algorithms.Random(seed=1), num_trials=9,
                        storage=sys.argv[1], study_name="dbr", load_if_exists=True)
    '''))
    run(other, url)
    study = sb.load_study(url, "dbr")
    statuses = [t.status for t in study.trials]
    assert statuses == ["completed"] * 6 + ["failed"] * 3
    assert all("two markers are named 'lr' with different definitions" in t.error
               for t in study.trials[6:])


def test_the_cli_shows_a_discovered_study_with_its_params(tmp_path, script):
    url = f"sqlite:///{tmp_path / 'study.db'}"
    run(script, url, "6", "1", "Random", "0")
    result = subprocess.run([sys.executable, "-m", "symbo", "show", url, "dbr"],
                            capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "opt" in result.stdout and "lr" in result.stdout
    assert any(v in result.stdout for v in ("sgd", "adam", "rmsprop"))
    table = result.stdout[result.stdout.index("\ntrial "):]
    header, _rule, *rows = table.strip().splitlines()
    assert len(rows) == 6
    for word in ("None", "null", "nan"):  # a decision a trial did not meet is left blank
        assert word not in table
    # the file holds one study: `symbo show FILE` shows it (as `symbo best FILE` does)
    alone = subprocess.run([sys.executable, "-m", "symbo", "show", str(tmp_path / "study.db")],
                           capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert alone.returncode == 0, alone.stderr[-2000:]
    assert alone.stdout == result.stdout.replace(url, f"sqlite:///{tmp_path / 'study.db'}")


TRACED = '''
import sys
import symbo as sb

def train():
    opt = sb.one_of(["sgd", "adam"], name="opt")
    lr = sb.float_range(1e-4, 1e-1, scale="log", name="lr")
    if opt == "adam":
        return lr * sb.float_range(0.8, 0.99, name="beta")
    return lr

if __name__ == "__main__":
    url, max_runs, trials = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    study = sb.tune(lambda program: program(), sb.trace(train, max_runs=max_runs),
                    sb.algorithms.TPE(seed=0), num_trials=trials, storage=url, study_name="t",
                    load_if_exists=True)
'''


def test_a_traced_study_grows_in_sqlite_and_is_read_with_and_without_the_script(tmp_path):
    script = tmp_path / "traced.py"
    script.write_text(TRACED)
    url = f"sqlite:///{tmp_path / 't.db'}"
    run(script, url, "1", "8")    # a one-run trace: 'beta' is found by the trials
    run(script, url, "64", "14")  # traced in full this time: the same study goes on
    without = tmp_path / "without.py"
    without.write_text(textwrap.dedent(f'''
        import symbo as sb
        study = sb.load_study({url!r}, "t")
        assert study.space is None and "import 'traced'" in study.space_error
        assert len(study.trials) == 14
        for t in study.trials:
            assert t.status == "completed"
            assert list(t.params) == (["opt", "lr", "beta"] if t.params["opt"] == "adam"
                                      else ["opt", "lr"])
        print("ok")
    '''))
    assert run(without).strip() == "ok"
    with_script = tmp_path / "with_script.py"
    with_script.write_text(textwrap.dedent(f'''
        import symbo as sb
        import traced
        study = sb.load_study({url!r}, "t")
        assert list(study.space.decisions) == ["opt", "lr", "beta"]
        assert dict(study.space.parents) == {{"beta": ("opt", (1,))}}
        best = study.best_trial
        assert best.program() == best.reward
        print("ok")
    '''))
    assert run(with_script).strip() == "ok"


def test_user_attrs_are_read_back_by_another_process(tmp_path):
    writer = tmp_path / "writer.py"
    writer.write_text(textwrap.dedent('''
        import sys
        import symbo as sb

        def objective(trial):
            x = trial.suggest_int("x", 0, 9)
            trial.set_user_attr("note", {"x": x, "tag": "t" + str(trial.number)})
            return x

        study = sb.create_study(sys.argv[1], "attrs")
        study.optimize(objective, sb.algorithms.Random(seed=0), num_trials=4, workers=2)
    '''))
    url = f"sqlite:///{tmp_path / 'a.db'}"
    run(writer, url)
    reader = tmp_path / "attrs_reader.py"
    reader.write_text(textwrap.dedent(f'''
        import json
        import symbo as sb
        study = sb.load_study({url!r}, "attrs")
        print(json.dumps([[t.params["x"], t.user_attrs] for t in study.trials]))
    '''))
    rows = json.loads(run(reader).strip().splitlines()[-1])
    assert len(rows) == 4
    for number, (x, attrs) in enumerate(rows):
        assert attrs == {"note": {"x": x, "tag": f"t{number}"}}


def test_a_file_of_schema_version_3_gets_a_user_attrs_column(tmp_path):
    import sqlite3

    from symbo.backends.storage.sqlite import SCHEMA_VERSION

    url = f"sqlite:///{tmp_path / 'old.db'}"
    sb.tune(lambda p: p.x, sb.Dict(x=sb.int_range(0, 3, name="x")), sb.algorithms.Grid(),
            num_trials=2, storage=url, study_name="old")
    conn = sqlite3.connect(tmp_path / "old.db")
    conn.execute("ALTER TABLE trials DROP COLUMN user_attrs")
    conn.execute("UPDATE meta SET value = '3' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    study = sb.load_study(url, "old")
    assert [t.user_attrs for t in study.trials] == [{}, {}]
    conn = sqlite3.connect(tmp_path / "old.db")
    assert conn.execute("SELECT value FROM meta").fetchone()[0] == str(SCHEMA_VERSION)
    conn.close()


def test_symbo_run_searches_a_script_with_an_objective_and_no_space(tmp_path):
    (tmp_path / "obj.py").write_text(textwrap.dedent('''
        def objective(trial):
            opt = trial.suggest_categorical("opt", ["sgd", "adam"])
            lr = trial.suggest_float("lr", 1e-4, 1e-1, log=True)
            if opt == "sgd":
                lr *= trial.suggest_float("momentum", 0.0, 0.99)
            return lr
    '''))
    (tmp_path / "two.py").write_text("def objective(a, b):\n    return 0.0\n")

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "symbo", *args], capture_output=True,
                              text=True, timeout=120, cwd=tmp_path)

    for trials in ("6", "10"):  # the second run continues the study
        done = cli("run", "obj.py", "--trials", trials, "--storage", "s.db", "--quiet")
        assert done.returncode == 0, done.stderr[-2000:]
    study = sb.load_study(f"sqlite:///{tmp_path / 's.db'}", "obj")
    assert len(study.trials) == 10 and all(t.status == "completed" for t in study.trials)
    for t in study.trials:
        assert list(t.params) == (["opt", "lr", "momentum"] if t.params["opt"] == "sgd"
                                  else ["opt", "lr"])
    bad = cli("run", "two.py", "--trials", "2")
    assert bad.returncode != 0
    assert "two.py defines `objective` but no `space`" in bad.stderr and "takes 2" in bad.stderr
