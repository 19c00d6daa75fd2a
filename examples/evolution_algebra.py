"""Evolution assembled from parts: selectors, recombinators and mutators composed with ``>>``.

A travelling-salesman tour (a ``permutate``) is evolved with tournament selection, order
crossover (OX) and swap mutations; the same operators make NSGA-II's children for a
two-objective problem, and ``Deduping`` keeps any algorithm from proposing a point twice.

Run: python examples/evolution_algebra.py  (a few seconds, CPU only)
"""

from __future__ import annotations

import math
import random

import symbo as sb
from symbo.algorithms import selectors

CITIES = [(math.cos(2 * math.pi * k / 9) * (1 + 0.3 * (k % 3)),
           math.sin(2 * math.pi * k / 9) * (1 + 0.3 * (k % 3))) for k in range(9)]


def tour_length(order: list[int]) -> float:
    points = [CITIES[i] for i in order]
    return sum(math.dist(a, b) for a, b in zip(points, points[1:] + points[:1]))


def main() -> None:
    space = sb.Dict(tour=sb.permutate(list(range(len(CITIES)))))

    # Tournament of 4, the best two crossed by OX, then a swap: one child per proposal.
    reproduction = (selectors.Random(4) >> selectors.Top(2) >> sb.algorithms.Order()
                    >> selectors.First(1) >> sb.algorithms.Swap())
    evolution = sb.algorithms.Evolution(reproduction, population_size=16,
                                        population_update=selectors.Last(16), seed=0)
    study = sb.tune(lambda p: -tour_length(list(p.tour)), space, evolution, num_trials=300)
    random_study = sb.tune(lambda p: -tour_length(list(p.tour)), space,
                           sb.algorithms.Random(seed=0), num_trials=300)
    print(f"tour length: evolution {-study.best_trial.reward:.3f}, "
          f"random {-random_study.best_trial.reward:.3f}")

    # Regularized evolution is the same algebra: Random(tournament) >> Top(1) >> mutator.
    aging = sb.algorithms.RegularizedEvolution(population_size=16, tournament_size=4,
                                               mutator=sb.algorithms.Swap(), seed=0)
    study = sb.tune(lambda p: -tour_length(list(p.tour)), space, aging, num_trials=300)
    print(f"regularized evolution with Swap: {-study.best_trial.reward:.3f}")

    # Two objectives: NSGA-II keeps a spread Pareto front.
    box = sb.List([sb.float_range(0.0, 1.0) for _ in range(3)])

    def two(x):  # ZDT1, both maximized (the negated minimization objectives)
        g = 1 + 9 * sum(x[1:]) / (len(x) - 1)
        return (-x[0], -(g * (1 - math.sqrt(x[0] / g))))

    nsga = sb.algorithms.NSGA2(population_size=20, seed=0)
    sb.tune(two, box, nsga, num_trials=300, objectives=("max", "max"))
    front = sorted((-r[0], -r[1]) for _, r in nsga.pareto_front)
    print(f"NSGA-II front: {len(front)} points, f1 from {front[0][0]:.2f} to {front[-1][0]:.2f}")

    # Any algorithm without duplicates.
    grid = sb.Dict(a=sb.one_of([1, 2, 3]), b=sb.one_of(["x", "y"]))
    deduped = sb.algorithms.Deduping(sb.algorithms.Random(seed=random.Random(0).randrange(99)))
    study = sb.tune(lambda p: float(p.a), grid, deduped, num_trials=20)
    print(f"Deduping(Random) on a 6-point space: {len(study.trials)} distinct trials")


if __name__ == "__main__":
    main()
