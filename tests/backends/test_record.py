"""The storage is the one record: budget and objectives stored, the algorithm restored from the
trials, dead trials claimed once by concurrent resumes, the progress bar goes on counting."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

import symbo as sb
from symbo.backends.storage import dna_to_json, open_storage

ROOT = Path(__file__).resolve().parents[2]


def _space() -> sb.Dict:
    return sb.Dict(x=sb.int_range(0, 10 ** 6, name="x"))


def _env() -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))


def test_the_budget_and_objectives_are_stored_with_the_study(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    sb.tune(lambda p: (float(p.x), 1.0), _space(), sb.algorithms.Random(seed=0), num_trials=3,
            storage=url, study_name="s", objectives=("min", "max"))
    info = open_storage(url).load_study("s")
    assert info.num_trials == 3 and info.objectives == ("min", "max")
    study = sb.load_study(url, "s")
    assert study.num_trials == 3 and study.objectives == ("min", "max")
    study.resume(lambda p: (float(p.x), 1.0), num_trials=5)
    assert sb.load_study(url, "s").num_trials == 5  # the latest budget asked for


def test_the_saved_state_is_small_and_bounded(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    sizes = []
    for n in (20, 200):
        sb.tune(lambda p: float(p.x % 7), _space(), sb.algorithms.TPE(seed=0), num_trials=n,
                storage=url, study_name=f"s{n}")
        study = sb.load_study(url, f"s{n}")
        sizes.append(len(json.dumps(study.storage.load_algorithm_state(study.info.id))))
    assert abs(sizes[0] - sizes[1]) < 100 and sizes[1] < 20_000  # as small for 200 as for 20


def test_a_resumed_study_continues_as_if_uninterrupted(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    space = sb.Dict(bits=sb.List([sb.one_of([0, 1]) for _ in range(10)]),
                    lr=sb.float_range(0.01, 1.0, scale="log"))

    def objective(p: sb.Dict) -> float:
        return sum(p.bits) + p.lr

    for make in (lambda: sb.algorithms.TPE(seed=3, num_startup=5),
                 lambda: sb.algorithms.RegularizedEvolution(population_size=8, seed=3),
                 lambda: sb.algorithms.MCTS(seed=3),
                 lambda: sb.algorithms.GaussianProcessBO(seed=3, num_startup=4)):
        whole = sb.tune(objective, space, make(), num_trials=14)
        name = type(make()).__name__
        sb.tune(objective, space, make(), num_trials=9, storage=url, study_name=name)
        resumed = sb.load_study(url, name).resume(objective, num_trials=14)
        assert [t.dna for t in resumed.trials] == [t.dna for t in whole.trials], name


CONCURRENT_RESUME = '''
import json, os, sys, time
import symbo as sb

url, folder, me = sys.argv[1:4]
open(os.path.join(folder, "ready." + me), "w").close()
while not os.path.exists(os.path.join(folder, "go")):
    time.sleep(0.001)

def objective(program):
    with open(os.path.join(folder, "ran." + me), "a") as f:
        f.write(json.dumps(program.x) + "\\n")
    time.sleep(0.01)
    return float(program.x)

study = sb.load_study(url, "s")
study.resume(objective, num_trials=12)
print("done")
'''


@pytest.mark.parametrize("repeat", range(3))
def test_concurrent_resumes_run_a_dead_trial_once(tmp_path: Path, repeat: int) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    sb.tune(lambda p: float(p.x), _space(), sb.algorithms.Random(seed=repeat), num_trials=4,
            storage=url, study_name="s")
    study = sb.load_study(url, "s")
    dead = f"{socket.gethostname()}:{2 ** 22 + 12345}"  # a pid no process has
    dna = sb.DNA.from_params(study.spec, {"x": 424242})
    trial = study.new_trial(dna, None, dead, None)
    assert trial is not None and trial.id == 4
    script = tmp_path / "resume.py"
    script.write_text(CONCURRENT_RESUME)
    procs = [subprocess.Popen([sys.executable, str(script), url, str(tmp_path), str(i)],
                              env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for i in range(2)]
    try:
        while sum((tmp_path / f"ready.{i}").exists() for i in range(2)) < 2:
            assert all(p.poll() is None for p in procs), [p.communicate() for p in procs]
        (tmp_path / "go").touch()
        for p in procs:
            out, err = p.communicate(timeout=120)
            assert p.returncode == 0 and b"done" in out, err.decode()[-3000:]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    ran = [json.loads(line) for i in range(2) if (tmp_path / f"ran.{i}").exists()
           for line in (tmp_path / f"ran.{i}").read_text().splitlines()]
    assert ran.count(424242) == 1  # the dead trial ran once, in one of them
    trials = sb.load_study(url, "s").trials
    assert [t.id for t in trials] == list(range(12))
    assert all(t.status == "completed" for t in trials)
    assert trials[4].params == {"x": 424242} and trials[4].worker != dead
    assert len(ran) == 8  # trials 4..11, each run once


def test_trials_of_another_worker_are_finished_only_by_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    store = open_storage(url)
    info = store.create_study("s", objectives=("max",))
    n = store.create_trial(info.id, dna_json=dna_to_json(sb.DNA(None, (sb.DNA(1),))), worker="a:1")
    assert store.claim_trial(info.id, n, worker="b:2", holder="a:1")
    assert not store.claim_trial(info.id, n, worker="c:3", holder="a:1")  # b was first
    assert not store.finish_trial(info.id, n, "completed", reward=1.0, holder="a:1")
    with pytest.raises(sb.StorageError, match="run by another worker"):
        store.add_report(info.id, n, 1, 0.5, holder="a:1")
    assert store.finish_trial(info.id, n, "completed", reward=2.0, holder="b:2")
    record = store.get_trials(info.id)[0]
    assert (record.status, record.reward, record.worker) == ("completed", 2.0, "b:2")


def test_the_progress_bar_of_a_resumed_study_counts_the_trials_done(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("tqdm")
    url = f"sqlite:///{tmp_path / 's.db'}"
    space = sb.Dict(x=sb.int_range(0, 9, name="x"))
    sb.tune(lambda p: float(p.x), space, sb.algorithms.Grid(), num_trials=6, storage=url,
            study_name="s")
    capsys.readouterr()
    sb.load_study(url, "s").resume(lambda p: -1.0, num_trials=8, progress=True)
    err = capsys.readouterr().err
    assert "6/8" in err and "8/8" in err
    assert "best=5" in err  # the best of the earlier trials, not of the new ones alone
    assert "0/8" not in err


@pytest.mark.slow
def test_the_demo_run_again_continues_and_says_how_many_trials_it_adds(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("torch")
    pytest.importorskip("sklearn")
    import io

    import torch

    from symbo import demo

    threads = torch.get_num_threads()
    monkeypatch.setattr(demo, "TRIALS", 2)
    monkeypatch.setattr(demo, "MORE", 1)
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    try:
        outs = []
        for _ in range(2):
            out = io.StringIO()
            demo.run_demo(storage=url, epochs=1, workers=1, plot=None, quiet=True, out=out)
            outs.append(out.getvalue())
    finally:
        torch.set_num_threads(threads)
    assert "added 2 trial(s)" in outs[0]
    assert "continuing: the study has 2 trial(s); adding 1 (until it has 3)" in outs[1]
    assert "added 1 trial(s)" in outs[1]
    assert len(sb.load_study(url, demo.STUDY_NAME).trials) == 3


class Told(sb.algorithms.Random, type_name="tests.record.Told"):
    """Random search that keeps what restore told it."""

    def restore(self, trials):  # type: ignore[no-untyped-def]
        self.__dict__["told"] = list(trials)
        super().restore(trials)


def test_a_resumed_algorithm_is_told_the_stored_trials_through_restore(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    space = sb.Dict(x=sb.int_range(0, 9, name="x"))
    sb.tune(lambda p: -float(p.x) if p.x != 4 else 10 ** 400, space, sb.algorithms.Grid(),
            num_trials=6, storage=url, study_name="s", objectives=("min",))
    algo = Told(seed=0)
    sb.load_study(url, "s", algorithm=algo).resume(lambda p: 1.0, num_trials=8)
    told = algo.__dict__["told"]
    assert [t.number for t in told] == list(range(6))
    assert [t.params for t in told] == [{"x": i} for i in range(6)]
    assert [t.status for t in told] == ["completed"] * 4 + ["failed", "completed"]
    assert [t.reward for t in told] == [0.0, 1.0, 2.0, 3.0, None, 5.0]  # signed: higher is better
    assert "too large for a float" in told[4].error
