"""The ``symbo`` command line, end to end through ``main([...])`` (and once as a process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import symbo as sb
import symbo.algorithms.tpe  # noqa: F401 - registered before the per-test registry snapshots
import symbo.demo  # noqa: F401 - same: its classes stay registered for every test
from symbo.backends.plots import PNG_SIGNATURE
from symbo.cli import main

REPO = Path(__file__).resolve().parents[1]

SCRIPT = '''
import symbo as sb

space = sb.Dict(x=sb.float_range(-2.0, 2.0, name="x"), k=sb.one_of([1, 2, 3], name="k"))
algorithm = sb.algorithms.Random(seed=1)

def objective(program, feedback):
    for step in (1, 2, 3):
        feedback.report(step, -abs(program.x) * step / 3 + program.k)
    return -abs(program.x) + program.k
'''

OBJECTIVES = '''
import symbo as sb

class CliTrainer(sb.Object):
    lr: float = 0.01
    layers: int = 1
    act: str = "relu"

def objective(program):
    return -abs(program.lr - 0.01) * 10 + program.layers * 0.1 + (program.act == "tanh")
'''

SPACE = '''# a space for tests
CliTrainer(lr=float_range(0.001, 0.1, scale=log, name="lr"),
           layers=int_range(1, 3, name="layers"),
           act=one_of(["relu", "tanh"], name="act"))
'''


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """tmp_path as the working directory and on sys.path, with the test's script, space and
    objective module written there; the module is forgotten afterwards."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "search.py").write_text(SCRIPT)
    (tmp_path / "cli_objectives.py").write_text(OBJECTIVES)
    (tmp_path / "space.sym").write_text(SPACE)
    yield tmp_path
    sys.modules.pop("cli_objectives", None)


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _error(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """Runs a command that must fail with exit code 2 and one line on stderr; returns it."""
    code, _out, err = _run(capsys, *argv)
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("symbo: error: "), err
    assert "Traceback" not in err
    return lines[0]


# ---- run --------------------------------------------------------------------------------------
def test_run_a_script_defining_space_and_objective(work: Path, capsys) -> None:
    code, out, _ = _run(capsys, "run", "search.py", "--trials", "6", "--storage", "s.db", "--quiet")
    assert code == 0
    assert "6 trials: 6 completed" in out and "top 5 trials" in out and "best program" in out
    study = sb.load_study("sqlite:///s.db", "search")  # named after the script
    assert [t.status for t in study.trials] == ["completed"] * 6
    assert all(len(t.reports) == 3 for t in study.trials)
    assert type(study.algorithm).__name__ == "Random"  # the script's algorithm


def test_run_options_override_the_script(work: Path, capsys) -> None:
    code, out, _ = _run(capsys, "run", "search.py", "--trials", "4", "--storage", "s.db",
                        "--study", "evo", "--algorithm",
                        "RegularizedEvolution(population_size=4, tournament_size=2)",
                        "--seed", "7", "--early-stopping", "MedianStopping(min_trials=1)",
                        "--quiet")
    assert code == 0
    study = sb.load_study("sqlite:///s.db", "evo")
    assert len(study.trials) == 4
    assert study.algorithm.population_size == 4 and study.algorithm.seed == 7


def test_run_a_space_file_with_an_objective_module(work: Path, capsys) -> None:
    code, out, _ = _run(capsys, "run", "space.sym", "--objective", "cli_objectives:objective",
                        "--trials", "5", "--storage", "sqlite:///t.db", "--seed", "0", "--quiet")
    assert code == 0
    study = sb.load_study("sqlite:///t.db", "space")
    assert len(study.completed()) == 5
    assert type(study.trials[0].program).__name__ == "CliTrainer"
    assert "lr" in out and "act" in out  # named decisions are columns
    # no --algorithm and none in the code: sb.algorithms.Auto, as sb.tune, told the budget
    assert type(study.algorithm).__name__ == "Auto"
    assert (study.algorithm.seed, study.algorithm.num_trials) == (0, 5)


def test_run_without_an_algorithm_says_it_uses_auto(work: Path, capsys) -> None:
    (work / "plain.py").write_text(SCRIPT.replace("algorithm = sb.algorithms.Random(seed=1)", ""))
    code, out, err = _run(capsys, "run", "plain.py", "--trials", "3", "--storage", "p.db")
    assert code == 0 and "algorithm Auto(num_trials=3)" in err, err
    assert "Auto" in _run(capsys, "run", "--help")[1]


def test_run_a_space_file_with_an_objective_file(work: Path, capsys) -> None:
    code, out, _ = _run(capsys, "run", "space.sym", "--objective", "cli_objectives.py:objective",
                        "--trials", "3", "--quiet")
    assert code == 0
    assert "3 trials: 3 completed" in out and "kept in memory" in out


def test_run_a_plain_script_and_a_main_function(work: Path, capsys) -> None:
    (work / "plain.py").write_text(textwrap.dedent('''
        import symbo as sb
        sb.tune(lambda p: p.x, sb.Dict(x=sb.int_range(0, 3)), sb.algorithms.Grid(),
                num_trials=4, storage="sqlite:///plain.db", study_name="plain")
    '''))
    assert _run(capsys, "run", "plain.py")[0] == 0
    assert len(sb.load_study("sqlite:///plain.db", "plain").trials) == 4
    (work / "withmain.py").write_text(textwrap.dedent('''
        import symbo as sb
        def main():
            return sb.tune(lambda p: p.x, sb.Dict(x=sb.int_range(0, 2)), sb.algorithms.Grid(),
                           num_trials=3)
        if __name__ == "__main__":
            raise SystemExit("the main guard does not run under symbo run")
    '''))
    code, out, _ = _run(capsys, "run", "withmain.py")
    assert code == 0 and "best program" in out


# ---- show, best, export, plot ---------------------------------------------------------------------
@pytest.fixture
def stored(work: Path, capsys) -> Path:
    """A stored study 'search' (8 trials with reports) in s.db, and a second one."""
    assert main(["run", "search.py", "--trials", "8", "--storage", "s.db", "--quiet"]) == 0
    assert main(["run", "space.sym", "--objective", "cli_objectives:objective", "--trials", "2",
                 "--storage", "s.db", "--study", "other", "--quiet"]) == 0
    capsys.readouterr()
    return work / "s.db"


def test_show_lists_studies_then_one_study(stored: Path, capsys) -> None:
    code, out, _ = _run(capsys, "show", "s.db")
    assert code == 0
    assert "search" in out and "other" in out and "completed" in out
    code, out, _ = _run(capsys, "show", "sqlite:///s.db", "--study", "search")
    assert code == 0
    assert "study 'search'" in out and "8 trials: 8 completed" in out
    header = next(line for line in out.splitlines() if line.startswith("trial"))
    assert header.split() == ["trial", "status", "reward", "duration", "x", "k"]
    assert "Random(seed=1)" in out and "float_range(-2.0, 2.0" in out


def test_the_study_name_may_be_positional(stored: Path, capsys) -> None:
    for command in (["show"], ["best", "--k", "2"], ["export", "-o", "p.csv"]):
        code, by_option, err = _run(capsys, command[0], "s.db", "--study", "search", *command[1:])
        assert code == 0, err
        code, positional, err = _run(capsys, command[0], "s.db", "search", *command[1:])
        assert code == 0, err
        assert positional == by_option
    assert "two study names were given: 'search' and --study 'other'" in _error(
        capsys, "show", "s.db", "search", "--study", "other")
    assert "no study named 'nope'" in _error(capsys, "show", "s.db", "nope")


def test_best_prints_the_top_k_and_the_best_program(stored: Path, capsys) -> None:
    code, out, _ = _run(capsys, "best", "s.db", "--study", "search", "--k", "3")
    assert code == 0
    rows = [line for line in out.splitlines() if line.strip()[:1].isdigit()]
    assert len(rows) == 3
    study = sb.load_study("sqlite:///s.db", "search")
    best = study.best_trial
    assert f"best program (trial {best.id}" in out
    assert sb.format(best.program) in out


def test_export_csv_and_json(stored: Path, capsys) -> None:
    assert _run(capsys, "export", "s.db", "--study", "search", "-o", "t.csv")[0] == 0
    lines = Path("t.csv").read_text().splitlines()
    assert lines[0].startswith("id,status,reward,x,k") and len(lines) == 9
    assert _run(capsys, "export", "s.db", "--study", "search", "-o", "t.json")[0] == 0
    data = json.loads(Path("t.json").read_text())
    assert data["study"] == "search" and len(data["trials"]) == 8


@pytest.mark.parametrize("kind", ["history", "parallel", "intermediate"])
def test_plot_writes_a_png(stored: Path, capsys, kind: str) -> None:
    pytest.importorskip("matplotlib")
    code, out, err = _run(capsys, "plot", "s.db", "--study", "search", "-o", f"{kind}.png",
                          "--kind", kind)
    assert code == 0, err
    assert Path(f"{kind}.png").read_bytes()[:8] == PNG_SIGNATURE


def test_plot_darts_alphas_from_a_json_file(work: Path, capsys) -> None:
    pytest.importorskip("matplotlib")
    history = [{"epoch": e, "alphas": {"op": [0.5 + 0.1 * e, 0.5 - 0.1 * e], "act": [0.3, 0.3, 0.4]}}
               for e in range(4)]
    Path("alphas.json").write_text(json.dumps(history))
    code, out, err = _run(capsys, "plot", "--kind", "darts", "--alphas", "alphas.json",
                          "-o", "alphas.png")
    assert code == 0, err
    assert Path("alphas.png").read_bytes()[:8] == PNG_SIGNATURE
    assert "--alphas" in _error(capsys, "plot", "--kind", "darts", "-o", "x.png")


def test_plots_from_python(stored: Path) -> None:
    pytest.importorskip("matplotlib")
    from symbo.backends import plots

    study = sb.load_study("sqlite:///s.db", "search")
    fig = plots.plot_parallel_coordinates(study, "p.png", params=["k"])
    assert fig.axes and Path("p.png").read_bytes()[:8] == PNG_SIGNATURE
    plots.plot_alpha_history({"op": [[0.1, 0.2], [0.3, 0.1]]}, "a.png")  # raw alphas: softmaxed
    assert Path("a.png").exists()
    with pytest.raises(plots.PlotError, match="no intermediate values"):
        plots.plot_intermediate(sb.load_study("sqlite:///s.db", "other"))


# ---- resume ---------------------------------------------------------------------------------------
def test_resume_continues_to_the_requested_count(stored: Path, capsys) -> None:
    code, out, _ = _run(capsys, "resume", "s.db", "--study", "search", "--script", "search.py",
                        "--trials", "11", "--quiet")
    assert code == 0
    assert "ran 3 trial(s)" in out
    study = sb.load_study("sqlite:///s.db", "search")
    assert [t.id for t in study.trials] == list(range(11))
    assert all(t.status == "completed" for t in study.trials)
    code, out, _ = _run(capsys, "resume", "s.db", "--study", "other", "--objective",
                        "cli_objectives:objective", "--trials", "4", "--workers", "2", "--quiet")
    assert code == 0
    assert len(sb.load_study("sqlite:///s.db", "other").completed()) == 4


# ---- errors ---------------------------------------------------------------------------------------
def test_errors_are_one_line_with_exit_code_2(stored: Path, capsys) -> None:
    assert "no such file: missing.db" in _error(capsys, "show", "missing.db")
    Path("notes.db").write_text("not a database")
    assert "not a database" in _error(capsys, "show", "notes.db")
    assert "no study named 'nope'" in _error(capsys, "best", "s.db", "--study", "nope")
    assert "holds 2 studies" in _error(capsys, "best", "s.db")
    assert "unknown storage scheme" in _error(capsys, "show", "postgres://db/x")
    assert "no such file" in _error(capsys, "resume", "gone.db", "--study", "x", "--objective",
                                    "cli_objectives:objective")
    assert "resume needs the objective" in _error(capsys, "resume", "s.db", "--study", "search")


@pytest.mark.parametrize("text, message", [
    ("Nope()", "unknown class 'Nope'"),
    ("Random(seed=", "unexpected end of text"),
    ("[1, 2]", "not an algorithm"),
    ("Random(sed=1)", "sed"),
])
def test_a_bad_algorithm_is_one_line_with_exit_code_2(work: Path, capsys, text: str,
                                                      message: str) -> None:
    line = _error(capsys, "run", "search.py", "--algorithm", text, "--trials", "1")
    assert "bad --algorithm" in line and message in line


def test_bad_objectives_and_spaces(work: Path, capsys) -> None:
    assert "pass --objective" in _error(capsys, "run", "space.sym")
    assert "cannot import module 'no_such_mod'" in _error(
        capsys, "run", "space.sym", "--objective", "no_such_mod:f")
    assert "has no function 'nope'" in _error(
        capsys, "run", "space.sym", "--objective", "cli_objectives:nope")
    assert "module:function" in _error(capsys, "run", "space.sym", "--objective", "cli_objectives")
    Path("broken.sym").write_text("CliTrainer(lr=float_range(0.1, 1.0),\n  act=)\n")
    code, _, err = _run(capsys, "run", "broken.sym", "--objective", "cli_objectives:objective")
    assert code == 2 and "Traceback" not in err  # the line, then the text there with a caret
    assert err.startswith("symbo: error: broken.sym:2:7: unexpected ')'") and "act=)" in err
    assert _run(capsys, "run")[0] == 2  # argparse's usage error


def test_an_error_in_user_code_shows_its_traceback_with_exit_code_1(work: Path, capsys) -> None:
    Path("crash.py").write_text("import symbo\n\n1 / 0\n")
    code, _, err = _run(capsys, "run", "crash.py")
    assert code == 1
    assert "Traceback" in err and 'crash.py", line 3' in err
    assert err.strip().splitlines()[-1] == "symbo: error: crash.py raised ZeroDivisionError: division by zero"


def test_python_dash_m_symbo(stored: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-m", "symbo", "best", "s.db", "--study", "search",
                           "--k", "2"], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "top 2 trials" in done.stdout
    # a process that never imported cli_objectives: CliTrainer objects are shown as dicts
    done = subprocess.run([sys.executable, "-m", "symbo", "best", "s.db", "--study", "other"],
                          capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "unknown type 'cli_objectives.CliTrainer'" in done.stderr
    assert "{'lr': " in done.stdout and " act" in done.stdout
    done = subprocess.run([sys.executable, "-m", "symbo", "show", "s.db", "--study", "nope"],
                          capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 2
    assert done.stderr.startswith("symbo: error: no study named 'nope'")
    assert "Traceback" not in done.stderr


# ---- the demo -------------------------------------------------------------------------------------
@pytest.mark.slow
def test_demo_runs_stores_plots_and_continues(work: Path, capsys) -> None:
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    try:
        code, out, err = _run(capsys, "demo", "--trials", "3", "--epochs", "2", "--workers", "1",
                              "--storage", "demo.db", "--plot", "demo.png", "--quiet")
        assert code == 0, err
        assert "3 trials" in out and "top 3 trials" in out and "best program" in out
        assert "symbo resume demo.db --study digits-mlp --objective symbo.demo:objective" in out
        if "no plot" not in out:
            assert Path("demo.png").read_bytes()[:8] == PNG_SIGNATURE
        study = sb.load_study("sqlite:///demo.db", "digits-mlp")
        assert len(study.trials) == 3 and study.best_trial.reward > 0.5
        assert all(t.reports for t in study.trials)
        code, out, err = _run(capsys, "resume", "demo.db", "--study", "digits-mlp",
                              "--objective", "symbo.demo:objective", "--trials", "4", "--quiet")
        assert code == 0, err
        assert len(sb.load_study("sqlite:///demo.db", "digits-mlp").trials) == 4
    finally:
        torch.set_num_threads(threads)


@pytest.mark.slow
def test_demo_as_a_process_with_workers(work: Path) -> None:
    pytest.importorskip("torch")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-m", "symbo", "demo", "--trials", "4", "--epochs", "2",
                           "--workers", "2", "--no-plot"], capture_output=True, text=True,
                          env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "4 trials" in done.stdout and "symbo show symbo-demo.db" in done.stdout
    assert len(sb.load_study("sqlite:///symbo-demo.db", "digits-mlp").trials) == 4


CLASS_SCRIPT = '''
import symbo as sb

class CliNet(sb.Object):
    width: int = 8

space = sb.Dict(net=CliNet(width=sb.one_of([8, 16], name="width")))

def objective(program):
    return float(program.net.width)
'''


def test_a_script_runs_as_a_module_named_after_it_so_others_read_its_classes(work: Path,
                                                                             capsys) -> None:
    """``symbo run netsearch.py`` stores the script's classes as ``netsearch.CliNet``: another
    process reads the programs after ``import netsearch`` (or ``--import netsearch.py``)."""
    (work / "netsearch.py").write_text(CLASS_SCRIPT)
    code, _, _ = _run(capsys, "run", "netsearch.py", "--trials", "2", "--storage", "n.db",
                      "--quiet")
    assert code == 0
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(work)])}
    read = ("import symbo as sb, netsearch\n"
            f"study = sb.load_study('sqlite:///{work / 'n.db'}', 'netsearch')\n"
            "print(type(study.best_trial.program.net).__name__, study.space_error)")
    done = subprocess.run([sys.executable, "-c", read], cwd=work.parent, env=env,
                          capture_output=True, text=True)
    assert done.stdout.split() == ["CliNet", "None"], done.stderr
    done = subprocess.run([sys.executable, "-m", "symbo", "best", str(work / "n.db"), "--import",
                           str(work / "netsearch.py"), "--k", "1"], cwd=work.parent, env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0 and "CliNet(width=16)" in done.stdout, done.stdout + done.stderr
    done = subprocess.run([sys.executable, "-m", "symbo", "show", str(work / "n.db")],
                          cwd=work.parent, env=env, capture_output=True, text=True)
    assert "import 'netsearch'" in done.stderr  # the hint names the script's module
