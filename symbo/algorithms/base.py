"""The algorithm interface: algorithms see only DNA specs and DNA, never the user's program.

An algorithm is a symbolic object (its settings are fields, so they serialize and can be
searched by an outer loop). The loop calls ``setup(spec)`` once, then ``propose()`` for each
new trial and ``feedback(dna, reward)`` when a trial completes (``on_failure`` when it fails).
Rewards are always "higher is better": the loop negates objectives that are minimized. With
several objectives the reward is a tuple.

A custom algorithm in a few lines:

>>> import symbo as sb
>>> class FirstChoices(sb.algorithms.Algorithm):
...     '''Always proposes candidate 0 / the low end (a toy, to show the interface).'''
...     def propose(self) -> sb.DNA:
...         numbers = [0 if isinstance(d, sb.Choice) else d.low for d in self.spec.decisions]
...         return sb.DNA.from_numbers(self.spec, numbers)
>>> algo = FirstChoices()
>>> algo.setup(sb.dna_spec(sb.Dict(a=sb.one_of([1, 2]), b=sb.int_range(3, 5))))
>>> algo.propose()
DNA([0, 3])
"""

from __future__ import annotations

import math
import random
from typing import Any, ClassVar

from symbo.core import Object, SymbolicValueError
from symbo.dsl import DNA, DNASpec

Reward = float | tuple[float, ...]


class AlgorithmError(SymbolicValueError):
    """An algorithm cannot handle a space (said at setup) or was used out of order."""


class Algorithm(Object):
    """Base of search algorithms. Subclasses implement ``propose`` (and usually ``feedback``).

    Override ``_setup(spec)`` to check the spec and build per-search state; keep state in
    attributes starting with ``_`` (they are not fields). ``state``/``load_state`` save and
    restore that state as JSON-compatible data for resuming a study; the default replays the
    recorded history (``history``) through ``feedback``, which suits algorithms whose state is
    a function of the history and their random generator.
    """

    supports_multi_objective: ClassVar[bool] = False
    needs_finite_space: ClassVar[bool] = False
    supports_custom_decisions: ClassVar[bool] = False  # sb.CustomHyper decisions (strings)

    # ---- lifecycle --------------------------------------------------------------------------
    def setup(self, spec: DNASpec, *, num_objectives: int = 1) -> None:
        """Prepares a search over ``spec``; raises AlgorithmError if the space is unsupported."""
        if num_objectives > 1 and not self.supports_multi_objective:
            raise AlgorithmError(
                f"{type(self).__name__} optimizes one objective; {num_objectives} were given "
                "(use Random, Grid or RegularizedEvolution, or combine the objectives)"
            )
        if self.needs_finite_space and not spec.is_finite:
            raise AlgorithmError(
                f"{type(self).__name__} needs a finite space; this one has continuous decisions"
            )
        if not self.supports_custom_decisions:
            from symbo.dsl.custom import CustomDecision

            custom = [d.id for d in spec.decision_points if isinstance(d, CustomDecision)]
            if custom:
                raise AlgorithmError(
                    f"{type(self).__name__} models numbers and categories; the custom "
                    f"decision(s) {', '.join(custom)} (sb.CustomHyper) need an algorithm that "
                    "samples and mutates through them: Random, RegularizedEvolution or HillClimb"
                )
        self._spec = spec
        self._num_objectives = num_objectives
        self._history: list[tuple[DNA, Reward]] = []
        self._num_proposed = 0
        self._setup(spec)

    def _setup(self, spec: DNASpec) -> None:
        """Hook for subclasses: build state for ``spec`` (called by ``setup``)."""

    @property
    def spec(self) -> DNASpec:
        try:
            return self._spec
        except AttributeError:
            raise AlgorithmError(f"{type(self).__name__}.setup(spec) was not called") from None

    @property
    def is_setup(self) -> bool:
        return hasattr(self, "_spec")

    def propose(self) -> DNA:
        """The next DNA to evaluate."""
        raise NotImplementedError

    def feedback(self, dna: DNA, reward: Reward) -> None:
        """Records the reward (higher is better) of a completed trial."""
        self._history.append((dna, reward))

    def on_failure(self, dna: DNA, error: str) -> None:
        """Told when a proposed trial failed or was skipped (no reward). Default: nothing."""

    @property
    def history(self) -> list[tuple[DNA, Reward]]:
        """(DNA, reward) of the completed trials told to this algorithm, in order."""
        return list(self._history)

    @property
    def num_proposed(self) -> int:
        return self._num_proposed

    # ---- state -------------------------------------------------------------------------------
    @property
    def state(self) -> dict[str, Any]:
        """JSON-compatible state: the history (as numbers) and the random generator."""
        rng = getattr(self, "_rng", None)
        return {
            "history": [[dna.to_numbers(), _reward_json(r)] for dna, r in self._history],
            "num_proposed": self._num_proposed,
            "rng": _rng_state(rng) if rng is not None else None,
        }

    def load_state(self, state: dict[str, Any]) -> None:
        """Restores a state from :attr:`state` (after ``setup`` with the same spec)."""
        self._history = []
        for numbers, reward in state.get("history", []):
            self.feedback(DNA.from_numbers(self.spec, numbers), _reward_from_json(reward))
        self._num_proposed = int(state.get("num_proposed", len(self._history)))
        if state.get("rng") is not None and getattr(self, "_rng", None) is not None:
            self._rng.setstate(_rng_from_json(state["rng"]))

    def _count(self, dna: DNA) -> DNA:
        """Counts a proposal; subclasses return ``self._count(dna)`` from ``propose``."""
        self._num_proposed += 1
        return dna


def make_rng(seed: int | None) -> random.Random:
    return random.Random(seed)


def _rng_state(rng: random.Random) -> list:
    version, internal, gauss = rng.getstate()
    return [version, list(internal), gauss]


def _rng_from_json(state: list) -> tuple:
    return (state[0], tuple(state[1]), state[2])


def _reward_json(reward: Reward) -> Any:
    return list(reward) if isinstance(reward, tuple) else reward


def _reward_from_json(reward: Any) -> Reward:
    return tuple(reward) if isinstance(reward, list) else float(reward)


def scalar(reward: Reward) -> float:
    """A single-objective reward as a float (the first objective of a tuple)."""
    return float(reward[0]) if isinstance(reward, tuple) else float(reward)


def dominates(a: Reward, b: Reward) -> bool:
    """Pareto dominance for "higher is better" rewards."""
    ta = a if isinstance(a, tuple) else (a,)
    tb = b if isinstance(b, tuple) else (b,)
    return all(x >= y for x, y in zip(ta, tb)) and any(x > y for x, y in zip(ta, tb))


def pareto_ranks(rewards: list[Reward]) -> list[int]:
    """Non-dominated sorting: rank 0 is the Pareto front, rank 1 the front without it, ..."""
    n = len(rewards)
    ranks = [-1] * n
    remaining = set(range(n))
    rank = 0
    while remaining:
        front = {i for i in remaining
                 if not any(dominates(rewards[j], rewards[i]) for j in remaining if j != i)}
        for i in front:
            ranks[i] = rank
        remaining -= front
        rank += 1
    return ranks


def finite(reward: Reward) -> bool:
    values = reward if isinstance(reward, tuple) else (reward,)
    return all(isinstance(v, (int, float)) and math.isfinite(v) for v in values)
