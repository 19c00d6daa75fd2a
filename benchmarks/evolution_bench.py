"""Regularized evolution written with the operator algebra vs. before, and vs. PyGlove, in one run.

Run it with the benchmark venv (``make bench`` builds ``.venv-bench``)::

    .venv-bench/bin/python benchmarks/evolution_bench.py [--trials 1000] [--repeat 7]
        [--pg-repeat 1] [--json out.json]

The cost per trial of the whole search loop (propose + materialize + feedback) on the
20-decision reference space of ``dsl_bench.py``, with an instant objective (the program's
``lr``), population 20, tournament 5, for ``--trials`` trials:

- symbo ``RegularizedEvolution`` (selectors ``Random(5) >> Top(1)``, then the mutator: the
  operator algebra, issue 14);
- the same algorithm as it was before the rewrite (``legacy_evolution.py``: symbo d4ed5f1);
- PyGlove ``pg.evolution.regularized_evolution(Uniform(), 20, 5)`` through ``pg.sample``.

The two symbo variants alternate run by run (so load changes hit both alike); each figure is
the median over ``--repeat`` runs (``--pg-repeat`` for PyGlove, half a minute per run) of the
wall time of a run divided by the number of trials (the median of the run-by-run ratios of the
two symbo variants is printed too). Targets (issue 14): the algebra costs at
most 1.10x the old per trial, and stays at least 100x faster than PyGlove. The script prints
PASS/MISS for information and exits 0 either way.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from typing import Any

import pyglove as pg
from _timing import environment, finish, fmt_us, markdown_table
from dsl_bench import pg_space, sb_space
from legacy_evolution import LegacyRegularizedEvolution

import symbo as sb

POPULATION, TOURNAMENT = 20, 5
COST_TARGET = 1.10  # algebra / legacy, at most
SPEEDUP_TARGET = 100.0  # PyGlove / algebra, at least


def run_symbo(make: Any, trials: int, seed: int) -> float:
    space = sb_space()
    algorithm = make(population_size=POPULATION, tournament_size=TOURNAMENT, seed=seed)
    gc.collect()
    start = time.perf_counter()
    n = 0
    for program, feedback in sb.sample(space, algorithm, num_trials=trials, objectives=("min",)):
        feedback(program.lr)
        n += 1
    elapsed = time.perf_counter() - start
    if n != trials:
        raise SystemExit(f"evolution_bench: a symbo run made {n} trials, not {trials}")
    return elapsed / trials * 1e6


def run_pyglove(trials: int, seed: int) -> float:
    space = pg_space()
    algorithm = pg.evolution.regularized_evolution(
        mutator=pg.evolution.mutators.Uniform(seed=seed), population_size=POPULATION,
        tournament_size=TOURNAMENT, seed=seed)
    gc.collect()
    start = time.perf_counter()
    n = 0
    for program, feedback in pg.sample(space, algorithm, num_examples=trials):
        feedback(-program.lr)  # PyGlove maximizes
        n += 1
    elapsed = time.perf_counter() - start
    if n != trials:
        raise SystemExit(f"evolution_bench: a PyGlove run made {n} trials, not {trials}")
    return elapsed / trials * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--pg-repeat", type=int, default=1)
    parser.add_argument("--json", metavar="PATH")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    for key, value in environment(pyglove=pg.__version__).items():
        print(f"{key + ':':10} {value}")
    print(flush=True)
    algebra, legacy = [], []
    for r in range(args.repeat):
        for label, make, out in (("algebra", sb.algorithms.RegularizedEvolution, algebra),
                                 ("legacy", LegacyRegularizedEvolution, legacy)):
            out.append(run_symbo(make, args.trials, seed=r))
            print(f"  run {r + 1}: {label:8} {fmt_us(out[-1]):>8} µs/trial", flush=True)
    pyglove = []
    for r in range(args.pg_repeat):
        pyglove.append(run_pyglove(args.trials, seed=r))
        print(f"  run {r + 1}: pyglove  {fmt_us(pyglove[-1]):>8} µs/trial", flush=True)
    a, lg, p = (statistics.median(x) for x in (algebra, legacy, pyglove))
    cost, speedup = a / lg, p / a
    paired = statistics.median(x / y for x, y in zip(algebra, legacy))  # run by run
    rows = [
        ["symbo RegularizedEvolution (operator algebra)", fmt_us(a), f"{cost:.2f}x",
         f"{speedup:.0f}x"],
        ["symbo RegularizedEvolution before (d4ed5f1)", fmt_us(lg), "1.00x", f"{p / lg:.0f}x"],
        ["PyGlove regularized_evolution", fmt_us(p), "-", "1x"],
    ]
    print()
    print(markdown_table(["algorithm", "µs/trial", "vs before", "PyGlove/this"], rows))
    print()
    print(f"algebra / before = {cost:.3f} (ratio of the medians; median of the run-by-run "
          f"ratios {paired:.3f}) (target <= {COST_TARGET}): "
          f"{'PASS' if cost <= COST_TARGET else 'MISS'}")
    print(f"PyGlove / algebra = {speedup:.0f}x (target >= {SPEEDUP_TARGET:.0f}x): "
          f"{'PASS' if speedup >= SPEEDUP_TARGET else 'MISS'}")
    misses = (cost > COST_TARGET) + (speedup < SPEEDUP_TARGET)
    return finish(misses, started, {"algebra_us": algebra, "legacy_us": legacy,
                                    "pyglove_us": pyglove, "cost_ratio": cost, "paired_ratio": paired,
                                    "speedup": speedup}, args.json)


if __name__ == "__main__":
    sys.exit(main())
