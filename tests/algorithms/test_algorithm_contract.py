"""The Algorithm contract as a template method (issue 14): ``propose``/``feedback``/
``on_failure`` check, count and record, and call the subclass's ``_propose``/``_feedback``/
``_on_failure``; capabilities are declared as class attributes and checked at setup."""

import math

import pytest

import symbo as sb
from symbo.algorithms import Algorithm, AlgorithmError
from symbo.algorithms.base import PastTrial

SPACE = sb.Dict(a=sb.one_of([1, 2, 3]), b=sb.int_range(0, 4))


class Lowest(Algorithm, type_name="tests.contract.Lowest"):
    """Proposes candidate 0 / the low end; remembers what it was told."""

    def _setup(self, spec):
        self.told = []
        self.failed = []

    def _propose(self):
        numbers = [0 if isinstance(d, sb.Choice) else d.low for d in self.spec.decisions]
        return sb.DNA.from_numbers(self.spec, numbers)

    def _feedback(self, dna, reward):
        assert self.history[-1] == (dna, reward)  # recorded before the hook runs
        self.told.append(reward)

    def _on_failure(self, dna, error):
        self.failed.append(error)


class Picky(Lowest, type_name="tests.contract.Picky"):
    def _feedback(self, dna, reward):
        raise AlgorithmError("not a DNA of my space")


class OldStyle(Algorithm, type_name="tests.contract.OldStyle"):
    """The older form: overrides ``propose`` and counts with ``_count``."""

    def propose(self):
        return self._count(sb.DNA.from_numbers(self.spec, [0, 0]))


def _setup(algo, space=SPACE, **kw):
    algo.setup(sb.dna_spec(space), **kw)
    return algo


def test_template_methods_count_record_and_call_the_hooks():
    algo = _setup(Lowest())
    dna = algo.propose()
    assert dna == sb.DNA.from_numbers(algo.spec, [0, 0]) and algo.num_proposed == 1
    algo.feedback(dna, 2.0)
    algo.on_failure(algo.propose(), "boom")
    assert algo.told == [2.0] and algo.failed == ["boom"]
    assert algo.history == [(dna, 2.0)] and algo.num_proposed == 2
    study = sb.tune(lambda p: float(p.a + p.b), SPACE, Lowest(), num_trials=3)
    assert [t.reward for t in study.trials] == [1.0, 1.0, 1.0]


def test_a_non_finite_reward_is_a_failure():
    algo = _setup(Lowest())
    for bad in (math.nan, math.inf, (1.0, -math.inf)):
        algo.feedback(algo.propose(), bad)
    assert algo.history == [] and algo.told == [] and len(algo.failed) == 3
    assert "non-finite" in algo.failed[0]


def test_a_refused_feedback_leaves_the_history_as_it_was():
    algo = _setup(Picky())
    with pytest.raises(AlgorithmError, match="not a DNA"):
        algo.feedback(algo.propose(), 1.0)
    assert algo.history == []


def test_the_older_propose_override_still_works():
    algo = _setup(OldStyle())
    algo.feedback(algo.propose(), 1.0)
    assert algo.num_proposed == 1 and len(algo.history) == 1


def test_an_algorithm_without_propose_says_so():
    class Nothing(Algorithm, type_name="tests.contract.Nothing"):
        pass

    with pytest.raises(NotImplementedError, match="_propose"):
        _setup(Nothing()).propose()


def test_capabilities_are_declared_and_checked_at_setup():
    assert Lowest.supports_multi_objective is False and Lowest.needs_finite_space is False
    assert Lowest.proposes_valid_dna is False and Lowest.supports_custom_decisions is False
    with pytest.raises(AlgorithmError, match="one objective"):
        _setup(Lowest(), num_objectives=2)

    class Finite(Lowest, type_name="tests.contract.Finite"):
        needs_finite_space = True
        supports_multi_objective = True

    with pytest.raises(AlgorithmError, match="finite space"):
        _setup(Finite(), sb.Dict(x=sb.float_range(0.0, 1.0)))
    _setup(Finite(), num_objectives=2)
    for name in ("Random", "Grid", "RegularizedEvolution", "HillClimb", "MCTS", "TPE",
                 "GaussianProcessBO", "NSGA2"):
        cls = getattr(sb.algorithms, name)
        for flag in ("supports_multi_objective", "needs_finite_space",
                     "supports_custom_decisions", "proposes_valid_dna"):
            assert isinstance(getattr(cls, flag), bool), (name, flag)
    assert sb.algorithms.NSGA2.supports_multi_objective
    assert not sb.algorithms.TPE.supports_multi_objective


def test_restore_goes_through_the_hooks():
    algo = _setup(Lowest())
    spec = algo.spec
    algo.restore([PastTrial(sb.DNA.from_numbers(spec, [1, 2]), "completed", 3.0),
                  PastTrial(sb.DNA.from_numbers(spec, [2, 2]), "failed", error="boom"),
                  PastTrial(sb.DNA.from_numbers(spec, [0, 1]), "running")])
    assert algo.told == [3.0] and algo.failed == ["boom"] and algo.num_proposed == 3


def test_exhausted_is_false_unless_an_algorithm_says_otherwise():
    assert not _setup(Lowest()).exhausted
    grid = _setup(sb.algorithms.Grid(), sb.Dict(x=sb.one_of([1, 2])))
    grid.propose(), grid.propose()
    with pytest.raises(AlgorithmError, match="all 2 points"):
        grid.propose()
    assert grid.exhausted


class FromList(Algorithm, type_name="tests.contract.FromList"):
    """Written as a PyGlove DNAGenerator: ``_setup(self)``, ``self.dna_spec``, and
    ``StopIteration`` when there is nothing more to propose."""

    def _setup(self):
        self._left = [0, 1, 2]

    def _propose(self):
        if not self._left:
            raise StopIteration()
        return sb.DNA.from_numbers(self.dna_spec, [self._left.pop(0), 0])


def test_a_pyglove_style_generator_runs_and_ends_the_search():
    algo = _setup(FromList())
    assert algo.dna_spec is algo.spec and algo.num_proposals == 0 and algo.num_feedbacks == 0
    study = sb.tune(lambda p: float(p.a), SPACE, FromList(), num_trials=10)
    assert [t.reward for t in study.trials] == [1.0, 2.0, 3.0]  # then StopIteration: the end
    assert study.algorithm.exhausted and study.algorithm.num_feedbacks == 3
    with pytest.raises(AlgorithmError, match="nothing more to propose"):
        study.algorithm.propose()


def test_settings_are_field_checks_refused_at_construction():
    for build, message in [
        (lambda: sb.algorithms.TPE(num_startup=-1), "num_startup must be >= 0"),
        (lambda: sb.algorithms.TPE(gamma=0.0), r"gamma must be in \(0, 1\]"),
        (lambda: sb.algorithms.GaussianProcessBO(xi=-1.0), "xi must be >= 0"),
        (lambda: sb.algorithms.RegularizedEvolution(population_size=3, tournament_size=5),
         r"tournament_size \(5\) must be <= population_size \(3\)"),
    ]:
        with pytest.raises(sb.SymbolicValueError, match=message):
            build()


def test_settings_that_are_markers_are_checked_once_decided():
    space = sb.algorithms.RegularizedEvolution(population_size=sb.one_of([4, 8]),
                                               tournament_size=sb.one_of([2, 6]))
    assert sb.materialize(space, sb.DNA([1, 1])).tournament_size == 6
    with pytest.raises(AlgorithmError, match="tournament_size"):
        sb.materialize(space, sb.DNA([0, 1]))
    assert isinstance(sb.algorithms.GaussianProcessBO(xi=sb.float_range(0.0, 1.0)).xi, sb.Marker)
