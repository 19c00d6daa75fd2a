"""The algorithm interface: algorithms see only DNA specs and DNA, never the user's program.

An algorithm is a symbolic object (its settings are fields, so they serialize and can be
searched by an outer loop). The loop calls ``setup(spec)`` once, then ``propose()`` for each
new trial and ``feedback(dna, reward)`` when a trial completes (``on_failure`` when it fails).
These are template methods: the base checks, counts and records, and calls the subclass's
hooks ``_setup``, ``_propose``, ``_feedback`` and ``_on_failure``. What an algorithm can do is
declared in class attributes (``supports_multi_objective``, ``needs_finite_space``,
``supports_custom_decisions``, ``proposes_valid_dna``), which ``setup`` checks against the
space.
Rewards are always "higher is better": the loop negates objectives that are minimized. With
several objectives the reward is a tuple.

Resuming a study, the loop calls ``setup(spec)``, then ``restore(trials)`` with the study's
stored trials (the one record of the search), then ``load_state(state)`` with the little the
trials cannot give back (the random generator, fitted settings) when it has it.

A custom algorithm in a few lines:

>>> import symbo as sb
>>> class FirstChoices(sb.algorithms.Algorithm):
...     '''Always proposes candidate 0 / the low end (a toy, to show the interface).'''
...     supports_multi_objective = True
...     def _propose(self) -> sb.DNA:
...         numbers = [0 if isinstance(d, sb.Choice) else d.low for d in self.spec.decisions]
...         return sb.DNA.from_numbers(self.spec, numbers)
>>> algo = FirstChoices()
>>> algo.setup(sb.dna_spec(sb.Dict(a=sb.one_of([1, 2]), b=sb.int_range(3, 5))))
>>> algo.propose(), algo.num_proposed
(DNA([0, 3]), 1)
>>> algo.feedback(algo.propose(), 1.0)
>>> algo.history, algo.num_proposed
([(DNA([0, 3]), 1.0)], 2)
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from typing import Any, ClassVar

import attrs

from symbo.core import Object, SymbolicValueError
from symbo.dsl import DNA, DNASpec

Reward = float | tuple[float, ...]


class AlgorithmError(SymbolicValueError):
    """An algorithm cannot handle a space (said at setup) or was used out of order."""


@attrs.frozen
class PastTrial:
    """A stored trial as :meth:`Algorithm.restore` is told of it: its DNA, its status
    (``"completed"``, ``"stopped"``, ``"failed"``, ``"running"`` or ``"pending"``), its reward
    as the algorithm sees rewards (higher is better; None when it has none to count), for a
    failed one the error, and its number in the study and params (``{name: literal value}``)
    where known."""

    dna: DNA
    status: str
    reward: Reward | None = None
    error: str | None = None
    number: int | None = None
    params: Any = None


class Algorithm(Object):
    """Base of search algorithms. Subclasses implement ``_propose`` (and usually
    ``_feedback``; ``_on_failure`` where a failure changes their state).

    Override ``_setup(spec)`` to check the spec and build per-search state; keep state in
    attributes starting with ``_`` (they are not fields). A resumed search rebuilds that state
    from the study's trials through :meth:`restore` (by default: as if each stored trial had
    been proposed, then answered); :attr:`state`/:meth:`load_state` carry only what trials
    cannot give back, as small JSON-compatible data (by default the random generator ``_rng``).
    """

    supports_multi_objective: ClassVar[bool] = False
    needs_finite_space: ClassVar[bool] = False
    supports_custom_decisions: ClassVar[bool] = False  # sb.CustomHyper decisions (strings)
    #: whether ``propose`` makes DNA that fits the spec by construction (the loop then skips
    #: checking it); leave False in your own algorithms unless you are sure
    proposes_valid_dna: ClassVar[bool] = False

    # ---- lifecycle --------------------------------------------------------------------------
    def setup(self, spec: DNASpec, *, num_objectives: int = 1) -> None:
        """Prepares a search over ``spec``; raises AlgorithmError if the space is unsupported."""
        if num_objectives > 1 and not (self.supports_multi_objective or
                                       getattr(self, "multi_objective", False) is True):
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
        self._no_more = False
        if _takes_no_spec(type(self)._setup):  # PyGlove's DNAGenerator._setup(self)
            self._setup()  # type: ignore[call-arg]
        else:
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
    def dna_spec(self) -> DNASpec | None:
        """The spec given to ``setup`` (None before): PyGlove's ``DNAGenerator.dna_spec``."""
        return getattr(self, "_spec", None)

    @property
    def num_proposals(self) -> int:
        """PyGlove's name of :attr:`num_proposed`."""
        return self.num_proposed

    @property
    def num_feedbacks(self) -> int:
        """How many completed trials were told to :meth:`feedback`."""
        return len(getattr(self, "_history", ()))

    @property
    def is_setup(self) -> bool:
        return hasattr(self, "_spec")

    def propose(self) -> DNA:
        """The next DNA to evaluate: the subclass's :meth:`_propose`, counted. A ``_propose``
        that raises ``StopIteration`` (PyGlove's way to say "no more") ends the search: the
        algorithm is then :attr:`exhausted` and ``propose`` raises AlgorithmError."""
        try:
            dna = self._propose()
        except StopIteration:
            self._no_more = True
            raise AlgorithmError(f"{type(self).__name__} has nothing more to propose "
                                 "(its _propose raised StopIteration)") from None
        self._num_proposed += 1
        return dna

    def _propose(self) -> DNA:
        """Hook for subclasses: the next DNA (``propose`` counts it)."""
        raise NotImplementedError(f"{type(self).__name__} must implement _propose()")

    def feedback(self, dna: DNA, reward: Reward) -> None:
        """Records the reward (higher is better) of a completed trial, then tells the
        subclass's :meth:`_feedback`. A non-finite reward (which the search loop never sends)
        counts as a failure: it goes to :meth:`on_failure` instead. If ``_feedback`` refuses
        the DNA (one of another space), the history is left as it was."""
        if not finite(reward):
            self.on_failure(dna, f"non-finite reward {reward!r}")
            return
        history = self._history
        history.append((dna, reward))
        try:
            self._feedback(dna, reward)
        except BaseException:
            history.pop()
            raise

    def _feedback(self, dna: DNA, reward: Reward) -> None:
        """Hook for subclasses: a completed trial's reward (already in ``history``)."""

    def on_failure(self, dna: DNA, error: str) -> None:
        """Told when a proposed trial failed or was skipped (no reward): the subclass's
        :meth:`_on_failure`."""
        self._on_failure(dna, error)

    def _on_failure(self, dna: DNA, error: str) -> None:
        """Hook for subclasses: a proposed trial failed (default: nothing)."""

    @property
    def exhausted(self) -> bool:
        """Whether the algorithm has nothing new to propose (a finite space all proposed, or
        ``_propose`` raised StopIteration)."""
        return getattr(self, "_no_more", False)

    @property
    def history(self) -> list[tuple[DNA, Reward]]:
        """(DNA, reward) of the completed trials told to this algorithm, in order."""
        return list(self._history)

    @property
    def num_proposed(self) -> int:
        return self._num_proposed

    # ---- resuming ----------------------------------------------------------------------------
    def restore(self, trials: Sequence[PastTrial]) -> None:
        """Tells the algorithm of trials it did not propose: when a study resumes, all its
        stored trials, in number order (right after ``setup``); later, trials enqueued by the
        user, as they start.

        The default replays them as they happened: each trial is first marked as proposed
        (:meth:`_restore_proposed`), then a rewarded one goes to :meth:`feedback` and a failed
        one to :meth:`on_failure`; running and pending ones stay outstanding (their results
        come later, through ``feedback``). Override it where a shortcut exists.

        >>> import symbo as sb
        >>> from symbo.algorithms.base import PastTrial
        >>> spec = sb.dna_spec(sb.Dict(x=sb.int_range(0, 9)))
        >>> algo = sb.algorithms.Random(seed=0)
        >>> algo.setup(spec)
        >>> algo.restore([PastTrial(sb.DNA.from_numbers(spec, [3]), "completed", 1.0),
        ...               PastTrial(sb.DNA.from_numbers(spec, [5]), "failed", error="boom")])
        >>> algo.history, algo.num_proposed
        ([(DNA([3]), 1.0)], 2)
        """
        for t in trials:
            self._restore_proposed(t.dna)
            self._num_proposed += 1
            if t.reward is not None and t.status in ("completed", "stopped"):
                self.feedback(t.dna, t.reward)
            elif t.status not in ("running", "pending"):
                self.on_failure(t.dna, t.error or t.status)

    def _restore_proposed(self, dna: DNA) -> None:
        """Hook for :meth:`restore`: ``dna`` was proposed (before a restart, or by another
        process); count it as outstanding, as ``propose`` would have. Default: nothing."""

    def reseed(self, salt: str) -> None:
        """Starts the random generator afresh from the seed and ``salt`` (a resumed search
        whose saved state is stale uses the number of stored trials, so that it neither
        starts the seed's stream over nor repeats it). Nothing without a seed or ``_rng``."""
        seed = getattr(self, "seed", None)
        if seed is not None and isinstance(getattr(self, "_rng", None), random.Random):
            self._rng = random.Random(f"{seed}/{salt}")

    # ---- state -------------------------------------------------------------------------------
    @property
    def state(self) -> dict[str, Any]:
        """What the stored trials cannot give back, as small JSON-compatible data: the random
        generator (subclasses add fitted settings)."""
        return self.rng_state

    @property
    def rng_state(self) -> dict[str, Any]:
        """Just the random generator's part of :attr:`state` (``{"rng": None}`` without one),
        which :meth:`load_state` takes back: for a caller that sets the algorithm up again on
        a space that grew and keeps its random stream going.

        >>> import symbo as sb
        >>> algorithm = sb.algorithms.Random(seed=0)
        >>> algorithm.setup(sb.dna_spec(sb.Dict(x=sb.one_of([1, 2]))))
        >>> sorted(algorithm.rng_state)
        ['rng']
        """
        rng = getattr(self, "_rng", None)
        return {"rng": _rng_state(rng) if isinstance(rng, random.Random) else None}

    def load_state(self, state: dict[str, Any]) -> None:
        """Restores :attr:`state` (after ``setup`` and ``restore``); keys it does not know
        (a state written by an older version) are ignored."""
        if state.get("rng") is not None and isinstance(getattr(self, "_rng", None), random.Random):
            self._rng.setstate(_rng_from_json(state["rng"]))

    def _count(self, dna: DNA) -> DNA:
        """Counts a proposal: for a subclass that overrides ``propose`` itself (the older
        form, still supported) and returns ``self._count(dna)``; ``_propose`` needs nothing."""
        self._num_proposed += 1
        return dna


def _takes_no_spec(method: Any) -> bool:
    """Whether a ``_setup`` override takes no argument besides ``self``."""
    code = getattr(method, "__code__", None)
    return code is not None and code.co_argcount == 1 and not code.co_flags & 0x04


def make_rng(seed: int | None) -> random.Random:
    return random.Random(seed)


def _rng_state(rng: random.Random) -> list:
    version, internal, gauss = rng.getstate()
    return [version, list(internal), gauss]


def _rng_from_json(state: list) -> tuple:
    return (state[0], tuple(state[1]), state[2])


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
