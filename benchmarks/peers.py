"""The peers as symbo algorithms, so that ``sb.compare`` runs them beside symbo's own.

Each adapter is an :class:`sb.algorithms.Algorithm` that drives the peer through its own
ask/tell interface and translates between the DNA spec and the peer's terms:

- :class:`OptunaSampler`: an Optuna study with a given sampler (``TPESampler()``,
  ``TPESampler(multivariate=True, group=True)``, ``GPSampler()``), asked one trial per
  proposal. The decision tree is asked define-by-run: a choice is a ``suggest_categorical``
  over candidate indices, and only the chosen candidate's sub-decisions are asked (named by
  their decision ids, so every sub-space has its own parameters, as an Optuna user would
  write it); ranges are ``suggest_float``/``suggest_int`` with ``log=`` for log scales.
  Rewards are told as they are (the study maximizes). ``GPSampler`` models only a fixed
  search space (it samples the parameters of a changing one at random), so for it every
  candidate's sub-decisions are asked in every trial and only the chosen one's are used: the
  flat space an Optuna user writes for GPSampler.
- :class:`PyGloveEvolution`: PyGlove 0.4.5's ``pg.evolution.regularized_evolution`` with the
  uniform mutator, on the PyGlove DNA spec of the same tree (``pg.geno`` choices and float
  values; int ranges as choices over their values), DNA converted through the flat numbers
  (both libraries write them in the same preorder).

Only the benchmark venv has Optuna and PyGlove (``make bench``).
"""

from __future__ import annotations

import warnings
from typing import Any

import optuna
import pyglove as pg

import symbo as sb
from symbo.dsl.spec import Choice, FloatDecision, Space

optuna.logging.set_verbosity(optuna.logging.WARNING)
warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)

SAMPLERS = {
    "tpe": lambda seed: optuna.samplers.TPESampler(seed=seed),
    "tpe_mv": lambda seed: optuna.samplers.TPESampler(multivariate=True, group=True, seed=seed),
    "gp": lambda seed: optuna.samplers.GPSampler(seed=seed, warn_independent_sampling=False),
    "random": lambda seed: optuna.samplers.RandomSampler(seed=seed),
}


class OptunaSampler(sb.algorithms.Algorithm, register=False):
    """An Optuna sampler (``kind`` in :data:`SAMPLERS`) behind the symbo algorithm interface."""

    kind: str = "tpe"
    seed: int | None = None

    def _setup(self, spec: sb.DNASpec) -> None:
        if self.kind not in SAMPLERS:
            raise sb.algorithms.AlgorithmError(f"unknown Optuna sampler {self.kind!r}")
        self._study = optuna.create_study(direction="maximize", sampler=SAMPLERS[self.kind](self.seed))
        self._asked: dict[sb.DNA, list[optuna.Trial]] = {}

    def propose(self) -> sb.DNA:
        trial = self._study.ask()
        dna = sb.DNA(None, _ask_space(self.spec.space, trial, flat=self.kind == "gp"), self.spec)
        self._asked.setdefault(dna, []).append(trial)
        return self._count(dna)

    def feedback(self, dna: sb.DNA, reward: Any) -> None:
        super().feedback(dna, reward)
        trials = self._asked.get(dna)
        if trials:
            self._study.tell(trials.pop(0), float(sb.algorithms.base.scalar(reward)))

    def on_failure(self, dna: sb.DNA, error: str) -> None:
        trials = self._asked.get(dna)
        if trials:
            self._study.tell(trials.pop(0), state=optuna.trial.TrialState.FAIL)


def _ask_space(space: Space, trial: optuna.Trial, flat: bool = False) -> tuple[sb.DNA, ...]:
    """The DNA of ``space`` asked of ``trial``; ``flat`` asks every candidate's sub-decisions
    (the chosen one's are used): GPSampler models only a fixed search space."""
    out = []
    for d in space.decisions:
        if isinstance(d, Choice):
            if d.num_choices != 1:
                raise sb.algorithms.AlgorithmError("the Optuna adapter has no many_of")
            i = trial.suggest_categorical(d.id, list(range(d.num_candidates)))
            subs = [_ask_space(c.space, trial, flat) if flat or j == i else ()
                    for j, c in enumerate(d.candidates)]
            out.append(sb.DNA(i, subs[i]))
        elif isinstance(d, FloatDecision):
            out.append(sb.DNA(trial.suggest_float(d.id, d.low, d.high, log=d.scale == "log")))
        else:
            out.append(sb.DNA(trial.suggest_int(d.id, d.low, d.high, log=d.scale == "log")))
    return tuple(out)


class PyGloveEvolution(sb.algorithms.Algorithm, register=False):
    """PyGlove's regularized evolution (uniform mutator) behind the symbo interface."""

    population_size: int = 20
    tournament_size: int = 5
    seed: int | None = None

    def _setup(self, spec: sb.DNASpec) -> None:
        self._ints: dict[int, int] = {}
        self._pg_spec = _pg_space(spec.space)
        self._algo = pg.evolution.regularized_evolution(
            mutator=pg.evolution.mutators.Uniform(seed=self.seed),
            population_size=self.population_size, tournament_size=self.tournament_size,
            seed=self.seed)
        self._algo.setup(self._pg_spec)
        self._asked: dict[sb.DNA, list[pg.DNA]] = {}

    def propose(self) -> sb.DNA:
        pg_dna = self._algo.propose()
        numbers = pg_dna.to_numbers()
        dna = sb.DNA.from_numbers(self.spec, _from_pg(self.spec, numbers))
        self._asked.setdefault(dna, []).append(pg_dna)
        return self._count(dna)

    def feedback(self, dna: sb.DNA, reward: Any) -> None:
        super().feedback(dna, reward)
        asked = self._asked.get(dna)
        if asked:
            self._algo.feedback(asked.pop(0), float(sb.algorithms.base.scalar(reward)))


def _pg_space(space: Space) -> Any:
    items = []
    for d in space.decisions:
        if isinstance(d, Choice):
            items.append(pg.geno.oneof([_pg_space(c.space) for c in d.candidates]))
        elif isinstance(d, FloatDecision):
            items.append(pg.geno.floatv(d.low, d.high, scale="log" if d.scale == "log" else None))
        else:
            items.append(pg.geno.oneof([pg.geno.space([]) for _ in range(d.low, d.high + 1)]))
    return pg.geno.space(items)


def _from_pg(spec: sb.DNASpec, numbers: list[Any]) -> list[Any]:
    """PyGlove's numbers as symbo's: int ranges come back as choice indices (offset by low)."""
    out = []
    it = iter(numbers)

    def walk(space: Space) -> None:
        for d in space.decisions:
            if isinstance(d, Choice):
                i = int(next(it))
                out.append(i)
                walk(d.candidates[i].space)
            elif isinstance(d, FloatDecision):
                out.append(float(next(it)))
            else:
                out.append(d.low + int(next(it)))

    walk(spec.space)
    return out
