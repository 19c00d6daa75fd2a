"""Nested search flows: an outer search over one part of a program, an inner one over another.

1. Hardware outside, architecture inside: ``where=`` gives the outer loop only the hardware
   decision; each outer program still has the architecture markers, searched by an inner loop.
2. Searching an algorithm's own settings: an algorithm is a symbolic object, so its fields can
   be markers too.

Run: ``python examples/nested_search.py`` (a second or two).
"""

from __future__ import annotations

import symbo as sb


class Model(sb.Object):
    width: int = 64
    depth: int = 2


class Deployment(sb.Object):
    device: str = "cpu"
    batch_size: int = 32
    model: Model = Model()


def score(d: Deployment) -> float:
    """A made-up objective: accuracy grows with capacity, latency must fit the device."""
    capacity = d.model.width * d.model.depth
    budget = {"cpu": 256, "gpu": 2048}[d.device]
    latency_penalty = max(0.0, capacity * d.batch_size / 32 - budget) / budget
    return capacity ** 0.5 - 10 * latency_penalty


def hardware_outside_architecture_inside() -> None:
    space = Deployment(
        device=sb.one_of(["cpu", "gpu"], name="device"),
        batch_size=sb.one_of([16, 32, 64], name="batch_size"),
        model=Model(width=sb.one_of([32, 64, 128, 256], name="width"),
                    depth=sb.int_range(1, 8, name="depth")),
    )
    outer_names = {"device", "batch_size"}
    for deployment, feedback in sb.sample(space, sb.algorithms.Grid(), num_trials=None,
                                          where=lambda m: m.name in outer_names):
        inner = sb.tune(score, deployment, sb.algorithms.RegularizedEvolution(
            population_size=10, tournament_size=3, seed=0), num_trials=40)
        best = inner.best_trial
        print(f"{deployment.device} x {deployment.batch_size:>2}: best width {best.program.model.width:>3}, "
              f"depth {best.program.model.depth}, score {best.reward:.2f}")
        feedback(best.reward)
    best = feedback.study.best_trial
    print(f"best hardware setting: {best.program.device}, batch {best.program.batch_size}\n")


def searching_the_algorithms_settings() -> None:
    arch_space = Deployment(device="gpu", batch_size=64,
                            model=Model(width=sb.one_of([32, 64, 128, 256]),
                                        depth=sb.int_range(1, 8)))
    algorithm_space = sb.algorithms.RegularizedEvolution(
        population_size=sb.one_of([5, 10, 20]), tournament_size=sb.one_of([2, 4]), seed=0)
    for algorithm, feedback in sb.sample(algorithm_space, sb.algorithms.Grid(), num_trials=None):
        inner = sb.tune(score, arch_space, algorithm, num_trials=12)
        print(f"{sb.format(algorithm, hide_default=True)}: {inner.best_trial.reward:.2f}")
        feedback(inner.best_trial.reward)
    print("best settings:", sb.format(feedback.study.best_trial.program, hide_default=True))


if __name__ == "__main__":
    hardware_outside_architecture_inside()
    searching_the_algorithms_settings()
