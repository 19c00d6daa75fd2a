"""The benchmark problems of benchmarks/compare_bench.py, on the shipped tables, with small
budgets: spaces, objectives and optima agree with the data, and sb.compare runs on them."""

from __future__ import annotations

import itertools
import math
import os
import sys

import pytest

import symbo as sb

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "benchmarks"))
import problems  # noqa: E402


def test_synthetic_optima():
    assert problems.branin([math.pi, 2.275]) == pytest.approx(0.397887, abs=1e-6)
    assert problems.levy([1.0] * 10) == pytest.approx(0.0)
    assert problems.hartmann6([0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573]) \
        == pytest.approx(-3.32237, abs=1e-4)


def test_hpo_table_is_every_grid_configuration():
    table = problems.load_table("hpo_tabular.json")
    for model in table["models"].values():
        size = math.prod(len(values) for values in model["grid"].values())
        assert len(model["accuracy"]) == size
        assert all(0.0 <= a <= 1.0 for a in model["accuracy"])


def test_hpo_objective_snaps_to_the_grid_and_reaches_the_optimum():
    p = problems.PROBLEMS["HPO-cancer"]
    svm = problems.load_table("hpo_tabular.json")["models"]["svm"]
    best = max(range(len(svm["accuracy"])), key=svm["accuracy"].__getitem__)
    c, g, k = next(itertools.islice(itertools.product(*svm["grid"].values()), best, None))
    program = sb.Dict(model=sb.Dict(kind="svm", C=c * 1.01, gamma=g / 1.01, kernel=k))
    assert p.objective(program) == pytest.approx(1.0 - round(svm["accuracy"][best], 4))
    assert p.optimum <= p.objective(program)


@pytest.mark.parametrize("name, dataset", [("NAS-digits", "digits"),
                                           ("NAS-cancer", "breast_cancer")])
def test_nas_table_has_every_cell_and_the_objective_reads_it(name, dataset):
    if not os.path.exists(os.path.join(problems.DATA, f"nas_tabular_{dataset}.json")):
        pytest.skip("the NAS table is not built")
    table = problems.load_table(f"nas_tabular_{dataset}.json")
    assert len(table["edges"]) == 6 and len(table["ops"]) == 4
    val = table["datasets"][dataset]["val"]
    assert len(val) == 4 ** 6
    p = problems.PROBLEMS[name]
    spec = sb.dna_spec(p.space)
    k = 1 + 2 * 4 + 3 * 16       # ops (1, 2, 3, 0, 0, 0): index sum op_e * 4**e
    program = sb.materialize(p.space, sb.DNA.from_numbers(spec, [1, 2, 3, 0, 0, 0]))
    assert p.objective(program) == pytest.approx(1.0 - val[k])
    assert p.optimum == pytest.approx(1.0 - max(val))


@pytest.mark.parametrize("name", ["NAS-like", "HPO-cancer"])
def test_compare_runs_on_a_benchmark_with_a_small_budget(name):
    p = problems.PROBLEMS[name]
    res = sb.compare(p.objective, p.space,
                     {"Random": lambda s: sb.algorithms.Random(seed=s),
                      "TPE": lambda s: sb.algorithms.TPE(seed=s)},
                     seeds=2, num_trials=15, objectives=("min",))
    for algo in ("Random", "TPE"):
        assert (res.best_so_far(algo) >= p.optimum - 1e-12).all()
