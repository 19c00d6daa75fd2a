"""Writing your own search algorithm: a (1+1) evolution strategy in under 40 lines.

An algorithm sees only the DNA spec and DNA. It proposes DNA and hears rewards back
("higher is better"); the loop does the rest. Run: ``python examples/custom_algorithm.py``.
"""

from __future__ import annotations

import random

import symbo as sb
from symbo.dsl.materialize import random_decision


class OnePlusOne(sb.algorithms.Algorithm, type_name="examples.OnePlusOne"):
    """Keep the best DNA; propose it with one top-level decision re-sampled."""

    seed: int | None = None

    def _setup(self, spec: sb.DNASpec) -> None:
        self._rng = random.Random(self.seed)
        self._best: tuple[sb.DNA, float] | None = None

    def _propose(self) -> sb.DNA:  # propose() calls it and counts the proposal
        if self._best is None:
            return sb.random_dna(self.spec, self._rng)
        parent = self._best[0]
        i = self._rng.randrange(len(self.spec.decisions))
        children = list(parent.children)
        children[i] = random_decision(self.spec.decisions[i], self._rng)
        return sb.DNA(None, tuple(children), self.spec)

    def _feedback(self, dna: sb.DNA, reward: float) -> None:  # after feedback() records it
        if self._best is None or reward > self._best[1]:
            self._best = (dna, reward)


def main() -> None:
    space = sb.Dict(bits=[sb.one_of([0, 1]) for _ in range(16)])
    for algorithm in (sb.algorithms.Random(seed=0), OnePlusOne(seed=0)):
        study = sb.tune(lambda p: float(sum(p.bits)), space, algorithm, num_trials=60)
        print(f"{type(algorithm).__name__:>10}: best {study.best_trial.reward:.0f} of 16 bits")


if __name__ == "__main__":
    main()
