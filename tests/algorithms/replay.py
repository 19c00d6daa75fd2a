"""What a study would have stored of an algorithm's search, to resume a fresh instance from it
(``restore`` with the trials, then ``load_state`` with the little they cannot give back)."""

from __future__ import annotations

import json
from typing import Any

import symbo as sb
from symbo.algorithms import Algorithm, PastTrial


class Log:
    """The trials of a search, in proposal order, as a study keeps them."""

    def __init__(self, algo: Algorithm) -> None:
        self.algo = algo
        self.trials: list[list[Any]] = []  # [dna, status, reward]

    def propose(self) -> sb.DNA:
        dna = self.algo.propose()
        self.trials.append([dna, "running", None])
        return dna

    def feedback(self, dna: sb.DNA, reward: Any) -> None:
        self.algo.feedback(dna, reward)
        self._end(dna, "completed", reward)

    def on_failure(self, dna: sb.DNA, error: str = "failed") -> None:
        self.algo.on_failure(dna, error)
        self._end(dna, "failed", None)

    def _end(self, dna: sb.DNA, status: str, reward: Any) -> None:
        entry = next(t for t in self.trials if t[0] == dna and t[1] == "running")
        entry[1:] = [status, reward]

    def past(self) -> list[PastTrial]:
        return [PastTrial(dna, status, reward) for dna, status, reward in self.trials]


def resumed(fresh: Algorithm, spec: sb.DNASpec, log: Log) -> Algorithm:
    """``fresh`` set up on ``spec``, told the logged trials, and given the logged algorithm's
    state (through JSON, as a storage keeps it)."""
    fresh.setup(spec)
    fresh.restore(log.past())
    fresh.load_state(json.loads(json.dumps(log.algo.state)))
    return fresh
