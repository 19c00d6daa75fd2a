"""``Auto``: the default algorithm, chosen by the space and the budget.

The rule, in order (``n`` is ``num_trials`` when the loop knows it; the figures are the mean
simple regret at 100 trials over 20 seeds in BENCHMARKS.md, "Search quality: sb.compare
against the peers", each row named by its benchmark):

1. **Several objectives** -> :class:`RegularizedEvolution` (the one model-free algorithm here
   that ranks by Pareto dominance).
2. **Size: a finite space no larger than the budget** (``space_size <= n``) -> :class:`Grid`:
   every point once, nothing re-evaluated.
3. **Budget: more than** ``tpe_from`` **(1,000) trials** -> :class:`TPE`
   (``multivariate=True``) from the start: a few milliseconds per trial at thousands of
   trials, where a GP's cubic cost dominates (GaussianProcessBO: 12 s per trial at 1,000
   trials; the cost table).
4. **Kinds of decisions: a finite space of choices** (every decision a ``one_of``/``many_of``/
   ``permutate``, an ``int_range`` of at most 16 values or a decision of a DAG cell, whether
   or not some are conditional; more points than the budget), **for the first**
   ``gp_trials`` **(200) trials** -> :class:`BOWL`: a GP over the Weisfeiler-Lehman features
   of the **graph cells** (read through ``spec.cells``) and an overlap kernel over the other
   choices (active ones only, so conditional sub-decisions count where they apply).
   *NAS-like* (conditional categorical, 5,376 points): regret 0 on every seed, against
   8.4e-4 for the next symbo algorithm (LocalSearch) and 0.0073 for the best peer (Optuna TPE
   multivariate+group). *NAS-cancer* (4,096 cells): 0.0026, the lowest of all (best peer
   GPSampler 0.0040, 0.67x). *NAS-digits* (4,096 cells, one training seed): 0.0060, behind
   GaussianProcessBO's 0.0047, at 1.13x the best peer (GPSampler 0.0053), with overlapping
   intervals (one validation sample is 0.0028 there): the one table where BOWL is not
   symbo's best.
5. **Otherwise (some ranges: continuous, mixed or conditional spaces), the first**
   ``gp_trials`` **trials** -> :class:`GaussianProcessBO` (inactive decisions' slots held
   constant, so trials that share a sub-space are compared on it). On spaces of ranges only
   (every decision a ``float_range``/``int_range``: :func:`of_ranges`) with the Optuna-like
   setting :data:`CONTINUOUS_GP` (``prior="gamma"``, Optuna GPSampler's priors;
   ``num_best=0, refine_rounds=0``: random candidates, then the ascent of log EI): *Branin*
   8.4e-6 (0.18x the best peer, GPSampler 4.7e-5), *Hartmann-6* 0.076 (0.64x GPSampler's
   0.119; 9 of 20 runs end in a local basin, against 4 of GPSampler's, which sticks worse),
   *Levy-10* 3.80 (0.78x GPSampler's 4.90: short of 0.7x; 1.31x with the defaults), 20
   seeds x 100 trials each (``compare_bench.py --only auto``). GaussianProcessBO's own
   defaults stay on mixed spaces, where they were measured: tied at the optimum on
   *HPO-cancer* (mixed, conditional: 0 at 100 trials). 0.1-0.3 s per proposal.
6. **Budget: past** ``gp_trials`` **completed trials** -> :class:`TPE`
   (``multivariate=True``), fed the whole history, for the cost of point 3.

If the chosen algorithm refuses the space (:class:`AlgorithmError` at setup), the next one
of BOWL, GaussianProcessBO, TPE, RegularizedEvolution, Random is taken. :attr:`Auto.chosen`
names the algorithm in use; it changes only at the switch of point 6. In a finite space, the
search ends (``exhausted``) once every point has been proposed.

>>> import symbo as sb
>>> auto = sb.algorithms.Auto(seed=0)
>>> auto.setup(sb.dna_spec(sb.Dict(x=sb.float_range(0.0, 1.0), k=sb.one_of([1, 2, 3]))))
>>> auto.chosen
'GaussianProcessBO'
>>> ranges = sb.algorithms.Auto(seed=0)
>>> ranges.setup(sb.dna_spec(sb.Dict(x=sb.float_range(0.0, 1.0), n=sb.int_range(0, 99))))
>>> ranges.inner.prior, ranges.inner.num_best, ranges.inner.refine_rounds
('gamma', 0, 0)
>>> small = sb.algorithms.Auto(num_trials=10)
>>> small.setup(sb.dna_spec(sb.Dict(k=sb.one_of([1, 2, 3]))))
>>> small.chosen
'Grid'
>>> cells = sb.algorithms.Auto(seed=0)
>>> cells.setup(sb.dna_spec(sb.dag_cell(num_nodes=3, ops=["conv", "pool", "skip"])))
>>> cells.chosen
'BOWL'
"""

from __future__ import annotations

from typing import Any

from symbo.algorithms.base import Algorithm, AlgorithmError, Reward
from symbo.algorithms.bowl import BOWL
from symbo.algorithms.evolution import RegularizedEvolution
from symbo.algorithms.gp import GaussianProcessBO
from symbo.algorithms.grid import Grid
from symbo.algorithms.random_search import Random
from symbo.algorithms.tpe import TPE
from symbo.dsl import DNA, DNASpec
from symbo.dsl.spec import Choice, FloatDecision, IntDecision

_SMALL_INT_RANGE = 16   # an int_range of at most this many values counts as a choice
# GaussianProcessBO on spaces of ranges only (rule 5): Optuna GPSampler's gamma priors, the
# ascent from random and EI-ranked starts only (no perturbations of the best trials)
CONTINUOUS_GP: dict[str, Any] = {"prior": "gamma", "num_best": 0, "refine_rounds": 0}


class Auto(Algorithm, type_name="symbo.algorithms.Auto"):
    """Picks an algorithm by the space and the budget (the rule is in the module docstring)
    and delegates to it. ``num_trials`` is the budget when known (``sb.tune`` and
    ``sb.sample`` pass theirs when they create the default ``Auto``); ``gp_trials`` is the
    number of trials searched with BOWL or GaussianProcessBO before switching to TPE, and
    ``tpe_from`` the budget from which TPE is used from the start.

    >>> import symbo as sb
    >>> study = sb.tune(lambda p: -(p.x - 0.3) ** 2, sb.Dict(x=sb.float_range(0.0, 1.0)),
    ...                 sb.algorithms.Auto(seed=1), num_trials=15)
    >>> study.best_trial.reward > -1e-3
    True
    """

    seed: int | None = None
    num_trials: int | None = None
    gp_trials: int = 200
    tpe_from: int = 1000
    supports_multi_objective = True

    def _setup(self, spec: DNASpec) -> None:
        if self.gp_trials < 0:
            raise AlgorithmError(f"Auto: gp_trials must be >= 0, got {self.gp_trials}")
        self._completed = 0
        self._seen: set[DNA] = set()
        self._inner = self._first(spec)

    # ---- the rule ---------------------------------------------------------------------------
    def _candidates(self, spec: DNASpec) -> list[str]:
        if self._num_objectives > 1:
            return ["RegularizedEvolution", "Random"]
        if spec.is_finite and self.num_trials is not None and spec.space_size <= self.num_trials:
            return ["Grid", "Random"]
        if self.num_trials is not None and self.num_trials > self.tpe_from:
            return ["TPE", "RegularizedEvolution", "Random"]
        if self._completed >= self.gp_trials:
            return ["TPE", "RegularizedEvolution", "Random"]
        if of_choices(spec):
            return ["BOWL", "GaussianProcessBO", "TPE", "RegularizedEvolution", "Random"]
        return ["GaussianProcessBO", "TPE", "RegularizedEvolution", "Random"]

    def _make(self, name: str) -> Algorithm:
        seed = self.seed
        return {
            "BOWL": lambda: BOWL(seed=seed),
            "GaussianProcessBO": lambda: GaussianProcessBO(seed=seed, **self._gp_setting()),
            "TPE": lambda: TPE(seed=seed, multivariate=True),
            "RegularizedEvolution": lambda: RegularizedEvolution(seed=seed),
            "Grid": lambda: Grid(),
            "Random": lambda: Random(seed=seed),
        }[name]()

    def _gp_setting(self) -> dict[str, Any]:
        """GaussianProcessBO's setting: Optuna-like on spaces of ranges only (rule 5)."""
        return dict(CONTINUOUS_GP) if of_ranges(self.spec) else {}

    def _first(self, spec: DNASpec, history: list[tuple[DNA, Reward]] | None = None) -> Algorithm:
        errors = []
        for name in self._candidates(spec):
            algo = self._make(name)
            try:
                algo.setup(spec, num_objectives=self._num_objectives)
            except AlgorithmError as e:
                errors.append(f"{name}: {e}")
                continue
            for dna, reward in history or ():
                algo.feedback(dna, reward)
            return algo
        raise AlgorithmError("Auto: no algorithm can search this space: " + "; ".join(errors))

    @property
    def chosen(self) -> str:
        """The name of the algorithm Auto delegates to now."""
        return type(self._inner).__name__ if self.is_setup else "(not set up)"

    @property
    def exhausted(self) -> bool:
        """True when the delegate has proposed every point it can (Grid)."""
        if getattr(self._inner, "exhausted", False):
            return True
        return self.spec.is_finite and len(self._seen) >= self.spec.space_size

    @property
    def inner(self) -> Algorithm:
        """The algorithm Auto delegates to now."""
        return self._inner

    # ---- delegation -------------------------------------------------------------------------
    def _propose(self) -> DNA:
        if self.exhausted:
            raise AlgorithmError(f"Auto: all {self.spec.space_size} points have been proposed")
        dna = self._inner.propose()
        if self.spec.is_finite:
            self._seen.add(dna)
        return dna

    def _feedback(self, dna: DNA, reward: Reward) -> None:
        self._inner.feedback(dna, reward)
        self._completed += 1
        if self._completed == self.gp_trials and isinstance(self._inner, (GaussianProcessBO, BOWL)):
            self._inner = self._first(self.spec, self._history)

    def _on_failure(self, dna: DNA, error: str) -> None:
        self._inner.on_failure(dna, error)

    # ---- resuming ------------------------------------------------------------------------------
    def _restore_proposed(self, dna: DNA) -> None:
        """A stored trial's DNA (see ``Algorithm.restore``): the delegate hears of it; replayed
        results then go through :meth:`feedback`, which switches delegates where the search
        did."""
        if self.spec.is_finite:
            self._seen.add(dna)
        self._inner._restore_proposed(dna)

    def reseed(self, salt: str) -> None:
        self._inner.reseed(salt)

    @property
    def state(self) -> dict[str, Any]:
        """The delegate's name and its state (what the trials cannot give back)."""
        return {"chosen": self.chosen, "inner": self._inner.state}

    def load_state(self, state: dict[str, Any]) -> None:
        """Restores the delegate's state when the restored trials chose the same delegate."""
        if state.get("chosen") == self.chosen and isinstance(state.get("inner"), dict):
            self._inner.load_state(state["inner"])


def of_choices(spec: DNASpec) -> bool:
    """Whether ``spec`` is a finite space of choices (rule 4 of the module docstring).

    >>> import symbo as sb
    >>> of_choices(sb.dna_spec(sb.Dict(k=sb.one_of([1, 2]), n=sb.int_range(0, 9))))
    True
    >>> of_choices(sb.dna_spec(sb.Dict(k=sb.one_of([1, 2]), x=sb.float_range(0.0, 1.0))))
    False
    """
    if not spec.is_finite:
        return False
    in_cells = {d for layout in spec.cells for d in layout.decisions}
    return all(d.id in in_cells or isinstance(d, Choice)
               or (isinstance(d, IntDecision) and d.size <= _SMALL_INT_RANGE)
               for d in spec.decision_points)


def of_ranges(spec: DNASpec) -> bool:
    """Whether every decision of ``spec`` is a ``float_range`` or ``int_range`` (rule 5's
    continuous spaces, searched with :data:`CONTINUOUS_GP`).

    >>> import symbo as sb
    >>> of_ranges(sb.dna_spec(sb.Dict(x=sb.float_range(0.0, 1.0), n=sb.int_range(0, 99))))
    True
    >>> of_ranges(sb.dna_spec(sb.Dict(k=sb.one_of([1, 2]), x=sb.float_range(0.0, 1.0))))
    False
    """
    points = spec.decision_points
    return bool(points) and not spec.cells and all(
        isinstance(d, (FloatDecision, IntDecision)) for d in points)
