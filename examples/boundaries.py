"""Spaces across process boundaries: a script writes a study, other processes read it.

The space holds functions, a class, a ``functools.partial`` with a decision in its arguments,
a decision inside a tuple and one name used in two places. A first process (this file, run as
a script) searches it into a SQLite file; a second process reads the study without the
script's code (params and the reason programs are not available), a third imports the script
(programs back, equal to the ones rebuilt from params) and resumes the study without a
mismatch. Run it: ``python examples/boundaries.py`` (a few seconds; writes into a temporary
folder).
"""

from __future__ import annotations

import functools
import math
import os
import subprocess
import sys
import tempfile
import textwrap

import symbo as sb


def swish(x: float, beta: float = 1.0) -> float:
    return x / (1 + math.exp(-beta * x))


class Layer(sb.Object):
    act: object = math.tanh
    width: int = 16


class Optimizer(sb.Object):
    lr: float = 1e-3
    betas: tuple[float, float] = (0.9, 0.999)


def make_space() -> sb.Dict:
    act = sb.one_of([math.tanh, functools.partial(swish, beta=sb.float_range(0.5, 2.0,
                                                                             name="beta"))],
                    name="act")
    return sb.Dict(encoder=Layer(act=act, width=sb.one_of([16, 32], name="width")),
                   decoder=Layer(act=sb.clone(act), width=sb.int_range(8, 64, scale="log")),
                   optimizer=Optimizer(betas=(sb.float_range(0.8, 0.95, name="b1"), 0.999)))


def objective(program: sb.Dict) -> float:
    return program.encoder.act(1.0) * program.encoder.width + program.optimizer.betas[0]


def search(url: str, num_trials: int) -> sb.Study:
    return sb.tune(objective, make_space(), sb.algorithms.Random(seed=num_trials),
                   num_trials=num_trials, storage=url, study_name="boundaries",
                   load_if_exists=True)


READ_WITHOUT_THE_SCRIPT = """
import sys
import symbo as sb
study = sb.load_study(sys.argv[1], "boundaries")
print("  params:", study.trials[0].params)
print("  programs here:", study.trials[0].program, "-", study.trials[0].program_error)
"""

READ_WITH_THE_SCRIPT = """
import sys
sys.path.insert(0, sys.argv[2])
import symbo as sb
import boundaries
study = sb.load_study(sys.argv[1], "boundaries")
space = boundaries.make_space()
spec = sb.dna_spec(space)
same = all(sb.eq(sb.materialize(space, sb.DNA.from_params(spec, t.params)), t.program)
           for t in study.trials)
print(f"  {len(study.trials)} programs back; equal to those rebuilt from params: {same}")
study = boundaries.search(sys.argv[1], 8)     # resumes: the same space, from a module
print(f"  resumed to {len(study.trials)} trials; best {study.best_trial.reward:.3f}")
"""


def _run(code: str, *args: str) -> None:
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code), *args],
                          capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    print(done.stdout.rstrip())


def main() -> None:
    folder = tempfile.mkdtemp()
    url = f"sqlite:///{os.path.join(folder, 'study.db')}"
    study = search(url, 5)
    spec = sb.dna_spec(make_space())
    print(f"decisions: {[d.name or d.id for d in spec]} (one 'act' for two places)")
    print(f"wrote {len(study.trials)} trials; fingerprint {sb.fingerprint(make_space())[:12]}")
    print("a process without this script's code:")
    _run(READ_WITHOUT_THE_SCRIPT, url)
    print("a process that imports it:")
    _run(READ_WITH_THE_SCRIPT, url, os.path.dirname(os.path.abspath(__file__)))


if __name__ == "__main__":
    main()
