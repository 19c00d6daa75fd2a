"""Spaces across boundaries: what fresh copies, params and by-reference storage cost.

Run it directly (any venv with symbo and torch; PyGlove and Optuna are not needed)::

    python benchmarks/boundary_bench.py [--part copies|overhead|import|all] [--repeat 7]
        [--trials 1000] [--json out.json]

To compare with another checkout of symbo (e.g. the code before a change), run the same script
with ``PYTHONPATH=/path/to/that/checkout`` from a folder outside both trees; the script prints
where symbo was imported from.

**(a) Fresh copies** (``--part copies``): every materialized program gets its own copies of the
objects in the space (``copy.deepcopy``, one memo per program). The space holds a
1,001,000-parameter ``torch.nn.Linear(1000, 1000)`` *instance* beside a ``float_range``; the
figures are the median wall time of ``sb.materialize`` (check=False, spec given) over
``--repeat`` x 20 calls, next to the same space with the module written as a recipe
(``sbt.nn.Linear(1000, 1000)``: nothing to copy), ``copy.deepcopy(module)`` alone, and
``sbt.build`` of each program (a build copies module instances once more, so that training
the built model never changes the program).

**(b) Per-trial overhead** (``--part overhead``): the search loop's own cost (propose +
materialize + record + feedback) on the 20-decision reference space of ``dsl_bench.py`` (no
instances in it), ``sb.sample`` with the default in-memory storage and an instant objective:
process CPU time per trial of a ``--trials``-trial run, median of ``--repeat`` runs, for
``Random``, ``RegularizedEvolution`` (20/5) and ``TPE``. CPU time, not wall time, because
this machine is shared: wall time would measure the other jobs.

**(c) Import time** (``--part import``): ``import symbo`` in fresh interpreters
(``python -X importtime``, symbo's cumulative figure), min and median of ``--repeat`` x 3
processes, and whether networkx, torch or Ray were imported.
"""

from __future__ import annotations

import argparse
import copy
import gc
import json
import os
import statistics
import subprocess
import sys
import time
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import symbo as sb  # noqa: E402


def _median_time(fn: Any, repeat: int, number: int) -> float:
    """Median seconds per call over ``repeat`` loops of ``number`` calls (gc on)."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - t0) / number)
    return statistics.median(times)


def run_copies(repeat: int) -> dict[str, float]:
    import torch
    from torch import nn

    from symbo.backends import torch as sbt

    torch.set_num_threads(1)
    torch.manual_seed(0)
    module = nn.Linear(1000, 1000)
    params = sum(p.numel() for p in module.parameters())
    with_instance = sb.Dict(model=module, lr=sb.float_range(1e-4, 1e-1, scale="log", name="lr"))
    with_recipe = sb.Dict(model=sbt.nn.Linear(1000, 1000),
                          lr=sb.float_range(1e-4, 1e-1, scale="log", name="lr"))
    out: dict[str, float] = {"parameters": float(params)}
    for label, space in (("instance", with_instance), ("recipe", with_recipe)):
        spec = sb.dna_spec(space)
        dna = sb.random_dna(spec, seed=0)
        out[f"materialize_{label}_ms"] = 1e3 * _median_time(
            lambda space=space, spec=spec, dna=dna: sb.materialize(space, dna, spec=spec,
                                                                   check=False), repeat, 20)
        program = sb.materialize(space, dna, spec=spec)
        out[f"build_{label}_ms"] = 1e3 * _median_time(lambda p=program: sbt.build(p), repeat, 5)
    out["deepcopy_module_ms"] = 1e3 * _median_time(lambda: copy.deepcopy(module), repeat, 20)
    program = sb.materialize(with_instance, sb.random_dna(sb.dna_spec(with_instance), seed=0))
    assert program.model is not module and torch.equal(program.model.weight, module.weight)
    return out


def _reference_space() -> Any:
    from dsl_bench import sb_space

    return sb_space()


def run_overhead(trials: int, repeat: int) -> dict[str, float]:
    from symbo.algorithms.tpe import TPE

    algorithms = {
        "Random": lambda s: sb.algorithms.Random(seed=s),
        "RegularizedEvolution": lambda s: sb.algorithms.RegularizedEvolution(
            population_size=20, tournament_size=5, seed=s),
        "TPE": lambda s: TPE(seed=s),
    }
    out = {}
    for name, make in algorithms.items():
        runs = []
        for r in range(repeat if name != "TPE" else max(1, repeat // 2)):
            space = _reference_space()
            gc.collect()
            t0 = time.process_time()
            for program, feedback in sb.sample(space, make(r), num_trials=trials,
                                               objectives=("min",)):
                feedback(program.lr)
            runs.append((time.process_time() - t0) / trials * 1e6)
        out[f"{name}_us"] = statistics.median(runs)
    return out


def run_import(repeat: int) -> dict[str, Any]:
    code = "import sys, symbo; print(sorted(m for m in ('networkx', 'torch', 'ray') " \
           "if m in sys.modules))"
    figures, loaded = [], None
    for _ in range(3 * repeat):
        done = subprocess.run([sys.executable, "-X", "importtime", "-c", code],
                              capture_output=True, text=True, check=True)
        loaded = done.stdout.strip()
        for line in done.stderr.splitlines():
            parts = line.split("|")
            if len(parts) == 3 and parts[2].strip() == "symbo" and parts[2].startswith(" symbo"):
                figures.append(int(parts[1]) / 1000)
    return {"import_min_ms": min(figures), "import_median_ms": statistics.median(figures),
            "also_imported": loaded}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("copies", "overhead", "import", "all"), default="all")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--json", metavar="PATH")
    args = parser.parse_args(argv)
    print(f"symbo from {os.path.dirname(sb.__file__)}; python {sys.version.split()[0]}",
          flush=True)
    results: dict[str, Any] = {}
    if args.part in ("copies", "all"):
        results["copies"] = run_copies(args.repeat)
        c = results["copies"]
        print(f"\n(a) materialize, a space holding a {int(c['parameters']):,}-parameter module")
        print(f"  instance (copied per program) {c['materialize_instance_ms']:8.2f} ms")
        print(f"  recipe (nothing to copy)      {c['materialize_recipe_ms']:8.2f} ms")
        print(f"  copy.deepcopy(module) alone   {c['deepcopy_module_ms']:8.2f} ms")
        print(f"  sbt.build(program): instance  {c['build_instance_ms']:8.2f} ms, "
              f"recipe {c['build_recipe_ms']:.2f} ms", flush=True)
    if args.part in ("overhead", "all"):
        results["overhead"] = run_overhead(args.trials, args.repeat)
        print(f"\n(b) per-trial overhead, {args.trials} trials, CPU µs per trial (median)")
        for key, value in results["overhead"].items():
            print(f"  {key[:-3]:22} {value:8.1f}")
    if args.part in ("import", "all"):
        results["import"] = run_import(args.repeat)
        i = results["import"]
        print(f"\n(c) import symbo: min {i['import_min_ms']:.0f} ms, median "
              f"{i['import_median_ms']:.0f} ms; also imported: {i['also_imported']}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(results, f, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
