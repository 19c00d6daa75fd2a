"""Per-trial cost of TPE and GP-BO at 100 and 1,000 trials: symbo against Optuna, one run.

    OMP_NUM_THREADS=1 nice -n 10 .venv-bench/bin/python benchmarks/cost_bench.py [--sizes 100,1000]

The space is mixed: six ``float_range(0, 1)`` (Hartmann-6's) and two four-way choices. For
each history size ``n``, every algorithm is given the same ``n`` completed random trials
(symbo: ``feedback``; Optuna: ``study.add_trials``), then asked for ``--asks`` proposals, each
told its value right away; the figure is the median wall time of one proposal plus its
feedback after the first (the first pays one-off costs: symbo's GP fits its hyperparameters
from scratch with restarts, later ones warm-start), with the first reported beside it.

Algorithms: symbo ``TPE()``, ``TPE(multivariate=True)``, ``GaussianProcessBO()``; Optuna
``TPESampler()``, ``TPESampler(multivariate=True)``, ``GPSampler()``, through the
:mod:`peers` adapters (the same ask/tell path ``compare_bench.py`` uses).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time

import optuna
import peers
import problems

import symbo as sb


def space() -> sb.Dict:
    return sb.Dict(**{f"x{i}": sb.float_range(0.0, 1.0) for i in range(6)},
                   a=sb.one_of(["p", "q", "r", "s"]), b=sb.one_of([1, 2, 3, 4]))


def value(dna: sb.DNA) -> float:
    numbers = dna.to_numbers()
    return -problems.hartmann6(numbers[:6]) - 0.1 * numbers[6] - 0.05 * numbers[7]


def history(spec: sb.DNASpec, n: int) -> list[tuple[sb.DNA, float]]:
    rng = random.Random(0)
    out = []
    for _ in range(n):
        dna = sb.DNA.from_numbers(spec, [rng.random() for _ in range(6)]
                                  + [rng.randrange(4), rng.randrange(4)])
        out.append((dna, value(dna)))
    return out


def _distributions(spec: sb.DNASpec) -> dict[str, optuna.distributions.BaseDistribution]:
    out: dict[str, optuna.distributions.BaseDistribution] = {}
    for d in spec.space.decisions:
        if isinstance(d, sb.Choice):
            out[d.id] = optuna.distributions.CategoricalDistribution(list(range(d.num_candidates)))
        else:
            out[d.id] = optuna.distributions.FloatDistribution(d.low, d.high)
    return out


def prime(algo: sb.algorithms.Algorithm, spec: sb.DNASpec, past: list[tuple[sb.DNA, float]]) -> None:
    algo.setup(spec)
    if isinstance(algo, peers.OptunaSampler):
        dists = _distributions(spec)
        ids = [d.id for d in spec.space.decisions]
        algo._study.add_trials([
            optuna.trial.create_trial(params=dict(zip(ids, dna.to_numbers())), distributions=dists,
                                      value=v) for dna, v in past])
    else:
        for dna, v in past:
            algo.feedback(dna, v)


def measure(make, spec, past, asks: int) -> tuple[float, float]:
    algo = make()
    prime(algo, spec, past)
    times = []
    for _ in range(asks):
        start = time.perf_counter()
        dna = algo.propose()
        algo.feedback(dna, value(dna))
        times.append(time.perf_counter() - start)
    return times[0], statistics.median(times[1:]) if len(times) > 1 else times[0]


ALGORITHMS = {
    "symbo TPE": lambda: sb.algorithms.TPE(seed=0),
    "symbo TPE multivariate": lambda: sb.algorithms.TPE(multivariate=True, seed=0),
    "symbo GaussianProcessBO": lambda: sb.algorithms.GaussianProcessBO(seed=0),
    "Optuna TPESampler": lambda: peers.OptunaSampler(kind="tpe", seed=0),
    "Optuna TPESampler multivariate": lambda: peers.OptunaSampler(kind="tpe_mv", seed=0),
    "Optuna GPSampler": lambda: peers.OptunaSampler(kind="gp", seed=0),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100,1000")
    parser.add_argument("--asks", type=int, default=5)
    args = parser.parse_args(argv)
    spec = sb.dna_spec(space())
    sizes = [int(s) for s in args.sizes.split(",")]
    rows = {}
    for n in sizes:
        past = history(spec, n)
        for name, make in ALGORITHMS.items():
            rows[(name, n)] = measure(make, spec, past, args.asks)
            print(f"{name} n={n}: first {rows[(name, n)][0] * 1e3:.1f} ms, "
                  f"then {rows[(name, n)][1] * 1e3:.1f} ms", file=sys.stderr, flush=True)
    print("| algorithm | " + " | ".join(f"ms/trial at {n} (first)" for n in sizes) + " |")
    print("|---|" + "---:|" * len(sizes))
    for name in ALGORITHMS:
        cells = [f"{rows[(name, n)][1] * 1e3:.1f} ({rows[(name, n)][0] * 1e3:.0f})" for n in sizes]
        print(f"| {name} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
