"""Spaces that survive process boundaries: values by reference, scripts run as ``__main__``,
identity by fingerprint, params readable anywhere, unstorable spaces refused at once.

A script (written to ``tmp_path``) runs a study whose space holds functions, classes, partials
and a shared name; other processes read it without and with importing the script, resume it,
and show it with the CLI.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import symbo as sb
from symbo.backends.storage import open_storage

SCRIPT = textwrap.dedent('''
    """A study over a space of functions, classes, partials and a shared name."""
    import functools
    import sys
    from typing import Any

    import symbo as sb


    def double(x):
        return 2 * x


    def square(x):
        return x * x


    class Scaler:
        """A plain (not symbolic) class, given to the space as a class."""

        def __init__(self, k=1):
            self.k = k


    class Block(sb.Object):
        act: Any = double
        width: int = 8


    def make_space():
        act = sb.one_of([double, square, functools.partial(pow, exp=3)], name="act")
        return sb.Dict(enc=Block(act=act, width=sb.one_of([8, 16], name="width")),
                       dec=Block(act=sb.clone(act), width=sb.int_range(1, 4)),
                       scaler=sb.one_of([Scaler, functools.partial(Scaler, k=2)], name="scaler"),
                       lr=sb.float_range(1e-3, 1e-1, scale="log", name="lr"))


    def objective(p):
        return p.enc.act(3) + p.dec.act(1) + p.dec.width + p.scaler().k * p.lr


    if __name__ == "__main__":
        url, name, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
        study = sb.tune(objective, make_space(), sb.algorithms.Random(seed=len(sys.argv)),
                        num_trials=n, storage=url, study_name=name, load_if_exists=True)
        print(len(study.trials))
''')

READ_WITHOUT = textwrap.dedent('''
    import json, sys
    import symbo as sb

    study = sb.load_study(sys.argv[1], "s")
    print(json.dumps({"params": [t.params for t in study.trials],
                      "programs": [t.program is None for t in study.trials],
                      "space_error": study.space_error,
                      "program_error": study.trials[0].program_error,
                      "modules": sorted(m for m in sys.modules if m.startswith("train_"))}))
''')

READ_WITH = textwrap.dedent('''
    import json, sys
    sys.path.insert(0, sys.argv[2])
    import symbo as sb
    import train_study

    study = sb.load_study(sys.argv[1], "s")
    spec = sb.dna_spec(train_study.make_space())
    out = []
    for t in study.trials:
        p = t.program
        again = sb.materialize(train_study.make_space(), sb.DNA.from_params(spec, t.params))
        out.append({"same": sb.eq(p, again), "act": sb.eq(p.enc.act, p.dec.act),
                    "fn": p.enc.act in (train_study.double, train_study.square),
                    "reward": t.reward == train_study.objective(p)})
    print(json.dumps(out))
''')

RESUME_AS_MODULE = textwrap.dedent('''
    import sys
    sys.path.insert(0, sys.argv[2])
    import symbo as sb

    class Block(sb.Object):   # an unrelated class with the same short name, registered first
        size: int = 1

    import train_study

    study = sb.tune(train_study.objective, train_study.make_space(), sb.algorithms.Random(seed=9),
                    num_trials=int(sys.argv[3]), storage=sys.argv[1], study_name="s",
                    load_if_exists=True)
    print(len(study.trials))
''')


def _run(tmp_path: Path, code_or_path: str | Path, *args: str) -> str:
    if isinstance(code_or_path, Path):
        path = code_or_path
    else:
        path = tmp_path / f"snippet_{abs(hash(code_or_path)) % 10**8}.py"
        path.write_text(code_or_path)
    done = subprocess.run([sys.executable, str(path), *args], capture_output=True, text=True,
                          cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture
def stored(tmp_path: Path) -> tuple[Path, str]:
    script = tmp_path / "work" / "train_study.py"
    script.parent.mkdir()
    script.write_text(SCRIPT)
    url = f"sqlite:///{tmp_path / 'study.db'}"
    assert _run(tmp_path, script, url, "s", "6").strip() == "6"
    return script, url


def test_a_reader_without_the_script_sees_params_and_is_told_what_to_import(tmp_path, stored):
    _, url = stored
    out = json.loads(_run(tmp_path, READ_WITHOUT, url))
    assert out["modules"] == []  # nothing imported the script for the reader
    assert all(out["programs"])
    assert "import 'train_study'" in out["space_error"]
    assert "import 'train_study'" in out["program_error"]
    for params in out["params"]:
        assert set(params) == {"act", "width", "dec.width", "scaler", "lr"}  # one "act"
        assert params["act"] in ("train_study.double", "train_study.square",
                                 "partial(builtins.pow, exp=3)")
        assert params["width"] in (8, 16) and 1 <= params["dec.width"] <= 4
        assert params["scaler"] in ("train_study.Scaler", "partial(train_study.Scaler, k=2)")
        assert 1e-3 <= params["lr"] <= 1e-1


def test_a_reader_that_imports_the_script_gets_the_programs_back(tmp_path, stored):
    script, url = stored
    out = json.loads(_run(tmp_path, READ_WITH, url, str(script.parent)))
    assert len(out) == 6
    assert all(r["same"] and r["act"] and r["reward"] for r in out)
    assert any(r["fn"] for r in out)


def test_the_study_resumes_as_a_script_and_from_a_module_without_mismatch(tmp_path, stored):
    script, url = stored
    assert _run(tmp_path, script, url, "s", "9").strip() == "9"  # run as __main__ again
    assert _run(tmp_path, RESUME_AS_MODULE, url, str(script.parent), "12").strip() == "12"
    study = sb.load_study(url, "s")
    assert [t.status for t in study.trials] == ["completed"] * 12


def test_the_cli_shows_literal_values(tmp_path, stored):
    _, url = stored
    done = subprocess.run([sys.executable, "-m", "symbo", "show", url, "--study", "s"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "train_study.double" in done.stdout or "train_study.square" in done.stdout \
        or "pow" in done.stdout


def _symbo(tmp_path: Path, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "symbo", *args], capture_output=True,
                          text=True, cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_a_study_of_symbo_run_is_read_by_importing_the_script_and_resumed_by_python(tmp_path):
    """``symbo run train_study.py`` stores the script's functions and classes as
    ``train_study.Name`` (not under a module nobody can import), so a reader importing the
    script gets the programs, and ``python train_study.py`` resumes it without a mismatch."""
    script = tmp_path / "work" / "train_study.py"
    script.parent.mkdir()
    script.write_text(SCRIPT + "\n\nspace = make_space()\nalgorithm = sb.algorithms.Random(seed=5)\n")
    url = f"sqlite:///{tmp_path / 'study.db'}"
    _symbo(tmp_path, "run", str(script), "--storage", url, "--study", "s", "--trials", "4",
           "--quiet")
    info = open_storage(url).load_study("s")
    assert "train_study.Block" in json.dumps(info.space_json)
    out = json.loads(_run(tmp_path, READ_WITH, url, str(script.parent)))
    assert len(out) == 4 and all(r["same"] and r["act"] and r["reward"] for r in out)
    assert _run(tmp_path, script, url, "s", "6").strip() == "6"  # python train_study.py
    _symbo(tmp_path, "resume", url, "--study", "s", "--script", str(script), "--trials", "8",
           "--quiet")
    assert [t.status for t in sb.load_study(url, "s").trials] == ["completed"] * 8


def test_a_changed_space_is_a_mismatch_with_a_diff(tmp_path, stored):
    script, url = stored
    changed = SCRIPT.replace("[8, 16]", "[8, 32]")
    (script.parent / "train_study.py").write_text(changed)
    done = subprocess.run([sys.executable, str(script), url, "s", "8"], capture_output=True,
                          text=True, cwd=tmp_path, timeout=300)
    assert done.returncode != 0
    assert "StudyMismatchError" in done.stderr and "was started with another space" in done.stderr
    assert "-" in done.stderr and "16" in done.stderr and "32" in done.stderr


# ---- refused loudly ---------------------------------------------------------------------------
def test_an_unstorable_space_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    space = sb.Dict(opt=sb.Dict(act=sb.one_of([abs, lambda x: x], name="act")))
    with pytest.raises(sb.SerializationError) as info:
        sb.tune(lambda p: 1.0, space, sb.algorithms.Random(seed=0), num_trials=2, storage=url,
                study_name="bad")
    message = str(info.value)
    assert "the space cannot be stored" in message and "opt.act.candidates[1]" in message
    assert "define it at module level" in message
    assert open_storage(url).list_studies() == []  # nothing half-written
    with pytest.raises(sb.SerializationError, match="opt.act.candidates"):
        next(iter(sb.sample(space, sb.algorithms.Random(), storage=url, study_name="bad")))
    assert open_storage(url).list_studies() == []
    # in memory, nothing needs storing: the same space is searched
    assert len(sb.tune(lambda p: 1.0, space, sb.algorithms.Random(seed=0), num_trials=2).trials) \
        == 2


def test_an_instance_in_a_stored_space_is_refused_with_the_fix(tmp_path: Path) -> None:
    class Opaque:
        pass

    space = sb.Dict(x=sb.one_of([1, 2]), thing=Opaque())
    with pytest.raises(sb.SerializationError, match="thing: cannot write a Opaque object.*"
                       "symbolic recipe"):
        sb.tune(lambda p: 1.0, space, sb.algorithms.Random(seed=0), num_trials=1,
                storage=f"sqlite:///{tmp_path / 's.db'}")


def traced_objective_fn() -> float:
    lr = sb.float_range(1e-3, 1e-1, scale="log", name="lr")
    act = sb.one_of(["relu", "gelu"], name="act")
    return lr * (2 if act == "gelu" else 1)


def test_a_traced_space_is_stored_with_its_function_by_reference(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    sb.tune(lambda program: program(), sb.trace(traced_objective_fn),
            sb.algorithms.Random(seed=0), num_trials=3, storage=url, study_name="t")
    info = open_storage(url).load_study("t")
    assert info.space_json is not None
    assert json.dumps(info.space_json).count(f"{__name__}.traced_objective_fn") == 1
    study = sb.load_study(url, "t")
    assert study.space_error is None
    assert all(t.program() == t.reward for t in study.trials)


def test_identity_does_not_depend_on_other_registered_names(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"

    class UniqueBoundaryHead(sb.Object):
        width: int = 4

    space = sb.Dict(head=UniqueBoundaryHead(width=sb.one_of([4, 8], name="w")))
    sb.tune(lambda p: float(p.head.width), space, sb.algorithms.Grid(), num_trials=1,
            storage=url, study_name="i")
    before = sb.format(space)

    class OtherHead(sb.Object, type_name="elsewhere.UniqueBoundaryHead"):  # same short name
        size: int = 1

    assert before.startswith("{'head': UniqueBoundaryHead(")
    assert sb.format(space) != before  # the printed text changed (the short name is ambiguous)
    study = sb.tune(lambda p: float(p.head.width), space, sb.algorithms.Grid(), num_trials=2,
                    storage=url, study_name="i", load_if_exists=True)
    assert len(study.trials) == 2


TORCH_WRITER = textwrap.dedent('''
    import sys
    import torch.nn.functional as F
    import symbo as sb

    space = sb.Dict(act=sb.one_of([F.relu, F.gelu], name="act"),
                    lr=sb.float_range(0.01, 0.1, name="lr"))
    sb.tune(lambda p: p.lr, space, sb.algorithms.Random(seed=0), num_trials=4,
            storage=sys.argv[1], study_name="t")
''')


@pytest.mark.slow
def test_torch_functions_are_shown_by_a_process_that_did_not_import_torch(tmp_path: Path):
    pytest.importorskip("torch")
    url = f"sqlite:///{tmp_path / 't.db'}"
    _run(tmp_path, TORCH_WRITER, url)
    for command in ("show", "best"):
        done = subprocess.run([sys.executable, "-m", "symbo", command, url, "--study", "t"],
                              capture_output=True, text=True, cwd=tmp_path, timeout=300)
        assert done.returncode == 0, done.stderr
        assert "torch.nn.functional.relu" in done.stdout or \
            "torch.nn.functional.gelu" in done.stdout
    out = _run(tmp_path, textwrap.dedent('''
        import json, sys
        import symbo as sb
        study = sb.load_study(sys.argv[1], "t")
        print(json.dumps(["torch" in sys.modules, study.space_error,
                          [t.params["act"] for t in study.trials]]))
    '''), url)
    imported, error, acts = json.loads(out)
    assert not imported and "import 'torch.nn.functional'" in error
    assert set(acts) <= {"torch.nn.functional.relu", "torch.nn.functional.gelu"}


TRACED_SCRIPT = textwrap.dedent('''
    import sys
    import symbo as sb


    def make_sgd():
        return {"kind": "sgd", "m": sb.one_of([0.0, 0.9], name="m")}


    def model():
        opt = sb.one_of([make_sgd, "adam"], name="opt")
        lr = sb.float_range(1e-3, 1e-1, scale="log", name="lr")
        return lr * (2 if opt == "adam" else 1)


    if __name__ == "__main__":
        sb.tune(lambda program: program(), sb.trace(model), sb.algorithms.Random(seed=0),
                num_trials=4, storage=sys.argv[1], study_name="t")
''')


def test_a_traced_script_stores_its_callable_candidates_under_the_scripts_module(tmp_path):
    script = tmp_path / "traced_study.py"
    script.write_text(TRACED_SCRIPT)
    url = f"sqlite:///{tmp_path / 't.db'}"
    _run(tmp_path, script, url)
    text = json.dumps(open_storage(url).load_study("t").space_json)
    assert "traced_study.make_sgd" in text and "__main__" not in text
