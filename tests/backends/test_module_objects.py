"""Module-level objects in a space: written by reference (``train_objs.DEFAULT_HEAD``), every
program gets its own copy (written under the same name, so programs are stored as the space
is), and a process importing the script reads and resumes the study.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import symbo as sb

LIBRARY = textwrap.dedent('''
    import argparse

    SCALE = argparse.Namespace(factor=2)   # an object of a stdlib class, bound in a user module
''')

SCRIPT = textwrap.dedent('''
    import argparse
    import sys

    import symbo as sb
    import objs_lib


    class Head:
        def __init__(self, k=1):
            self.k = k


    DEFAULT_HEAD = Head(3)                       # an instance of the script's own class
    STATE = argparse.Namespace(steps=0)          # a stdlib object bound in the script


    def make_space():
        return sb.Dict(head=sb.one_of([DEFAULT_HEAD, None], name="head"), state=STATE,
                       scale=sb.one_of([objs_lib.SCALE, None], name="scale"),
                       x=sb.int_range(0, 3, name="x"))


    def objective(p):
        assert p.state is not STATE and p.state.steps == 0  # a fresh copy: nothing leaks
        p.state.steps += 1
        if p.head is not None:
            assert p.head is not DEFAULT_HEAD and p.head.k == 3
        return p.x + (p.head.k if p.head else 0) + (p.scale.factor if p.scale else 0)


    if __name__ == "__main__":
        study = sb.tune(objective, make_space(), sb.algorithms.Random(seed=int(sys.argv[3])),
                        num_trials=int(sys.argv[2]), storage=sys.argv[1], study_name="s",
                        load_if_exists=True)
        print(len(study.trials), sum(t.status == "completed" for t in study.trials))
''')

READER = textwrap.dedent('''
    import json, sys
    sys.path.insert(0, sys.argv[2])
    import symbo as sb
    if sys.argv[3] == "import":
        import train_objs
        study = sb.tune(train_objs.objective, train_objs.make_space(), sb.algorithms.Random(seed=7),
                        num_trials=12, storage=sys.argv[1], study_name="s", load_if_exists=True)
    study = sb.load_study(sys.argv[1], "s")
    print(json.dumps({"status": [t.status for t in study.trials],
                      "params": [t.params for t in study.trials],
                      "errors": sorted({str(t.program_error) for t in study.trials})}))
''')


def _python(tmp_path: Path, path: Path, *args: str) -> str:
    done = subprocess.run([sys.executable, str(path), *args], capture_output=True, text=True,
                          cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_module_level_objects_are_stored_by_reference_and_copied_per_trial(tmp_path: Path):
    work = tmp_path / "work"
    work.mkdir()
    (work / "objs_lib.py").write_text(LIBRARY)
    script = work / "train_objs.py"
    script.write_text(SCRIPT)
    reader = tmp_path / "reader.py"
    reader.write_text(READER)
    url = f"sqlite:///{tmp_path / 'study.db'}"
    assert _python(tmp_path, script, url, "8", "0").split() == ["8", "8"]
    without = json.loads(_python(tmp_path, reader, url, str(tmp_path / "nowhere"), "no"))
    assert without["status"] == ["completed"] * 8
    assert {p["head"] for p in without["params"]} <= {"train_objs.DEFAULT_HEAD", None}
    assert {p["scale"] for p in without["params"]} == {"objs_lib.SCALE", None}
    assert any("import 'train_objs'" in e for e in without["errors"])
    # a process that imports the script resumes it: the same space (no mismatch), programs
    # read back, their objects written under the same names
    with_script = json.loads(_python(tmp_path, reader, url, str(work), "import"))
    assert with_script["status"] == ["completed"] * 12
    assert with_script["errors"] == ["None"]
    assert _python(tmp_path, script, url, "14", "1").split() == ["14", "14"]  # as __main__ again


class _Registered:
    def __init__(self) -> None:
        self.calls = 0


def test_a_registered_instance_is_stored_with_the_programs_that_copy_it(tmp_path: Path):
    instance = sb.register(_Registered(), "tests.module_objects.instance")
    url = f"sqlite:///{tmp_path / 's.db'}"
    space = sb.Dict(thing=sb.one_of([instance, None], name="thing"), x=sb.int_range(0, 2))

    def objective(p: sb.Dict) -> float:
        if p.thing is not None:
            assert p.thing is not instance
            p.thing.calls += 1
        return float(p.x)

    sb.tune(objective, space, sb.algorithms.Grid(), num_trials=6, storage=url, study_name="r")
    study = sb.load_study(url, "r")
    assert [t.status for t in study.trials] == ["completed"] * 6
    assert {t.params["thing"] for t in study.trials} == {"tests.module_objects.instance", None}
    assert instance.calls == 0  # every program had its own copy
    assert all(t.program_error is None for t in study.trials)
