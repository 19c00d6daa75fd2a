"""sb.compare: every algorithm with every seed under one budget; tables, intervals, plots,
save/load, resuming from a storage, and bad input."""

from __future__ import annotations

import math
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import symbo as sb
from symbo.backends.compare import t_quantile

SPACE = sb.Dict(x=sb.float_range(-2.0, 2.0), k=sb.one_of(["a", "b", "c"]))


def objective(p):
    return (p.x - 0.5) ** 2 + {"a": 1.0, "b": 0.0, "c": 2.0}[p.k]


ALGOS = {
    "Random": lambda seed: sb.algorithms.Random(seed=seed),
    "TPE": lambda seed: sb.algorithms.TPE(seed=seed, num_startup=5),
}


@pytest.fixture(scope="module")
def result():
    return sb.compare(objective, SPACE, ALGOS, seeds=4, num_trials=30, objectives=("min",))


def test_every_algorithm_runs_every_seed_with_the_same_budget(result):
    assert result.algorithms == ["Random", "TPE"]
    assert result.seeds == [0, 1, 2, 3]
    for name in ALGOS:
        curves = result.best_so_far(name)
        assert curves.shape == (4, 30)
        assert np.all(np.diff(curves, axis=1) <= 0)      # minimizing: never gets worse
        assert not np.isnan(curves).any()


def test_best_so_far_matches_the_studies_it_came_from():
    store = sb.Dict(x=sb.int_range(0, 20))
    res = sb.compare(lambda p: abs(p.x - 7), store, {"R": lambda s: sb.algorithms.Random(seed=s)},
                     seeds=[3, 5], num_trials=12, objectives=("min",))
    for row, seed in zip(res.best_so_far("R"), [3, 5]):
        study = sb.tune(lambda p: abs(p.x - 7), store, sb.algorithms.Random(seed=seed), 12,
                        objectives=("min",))
        rewards = [t.reward for t in study.trials]
        assert row.tolist() == np.minimum.accumulate(rewards).tolist()


def test_interval_is_a_t_interval_of_the_final_values(result):
    finals = result.best_so_far("TPE")[:, 24]
    low, mean, high = result.interval("TPE", 25)
    assert mean == pytest.approx(finals.mean())
    half = t_quantile(0.975, 3) * finals.std(ddof=1) / 2
    assert (low, high) == pytest.approx((mean - half, mean + half))


def test_table_rows_per_algorithm_and_budget(result):
    rows = result.table(as_frame=False)
    assert [(r["algorithm"], r["budget"]) for r in rows] == [
        ("Random", 25), ("Random", 30), ("TPE", 25), ("TPE", 30)]
    for r in rows:
        assert r["ci_low"] <= r["mean"] <= r["ci_high"]
        assert r["runs"] == 4 and r["errors"] == 0
    assert [r["budget"] for r in result.table([5, 10], as_frame=False)] == [5, 10, 5, 10]


def test_table_is_a_dataframe_with_pandas(result):
    pd = pytest.importorskip("pandas")
    frame = result.table()
    assert isinstance(frame, pd.DataFrame)
    assert set(frame["algorithm"]) == {"Random", "TPE"}
    assert {"mean", "std", "ci_low", "ci_high", "budget"} <= set(frame.columns)


def test_table_without_pandas_is_a_list_of_dicts(result, monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)     # import pandas raises ImportError
    rows = result.table()
    assert isinstance(rows, list) and rows[0]["algorithm"] == "Random"


def test_save_and_load_round_trip(result, tmp_path):
    path = tmp_path / "compare.json"
    result.save(path)
    back = sb.Comparison.load(path)
    for name in ALGOS:
        assert np.array_equal(back.best_so_far(name), result.best_so_far(name))
    assert back.table(as_frame=False) == result.table(as_frame=False)
    (tmp_path / "bad.json").write_text('{"format": "other"}')
    with pytest.raises(sb.SymbolicValueError, match="not a saved comparison"):
        sb.Comparison.load(tmp_path / "bad.json")


def test_plot_writes_a_png(result, tmp_path):
    pytest.importorskip("matplotlib")
    path = tmp_path / "compare.png"
    result.plot(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_runs_are_studies_in_the_storage_and_a_compare_resumes(tmp_path):
    url = f"sqlite:///{tmp_path / 'c.db'}"
    calls = []

    def counted(p):
        calls.append(1)
        return objective(p)

    first = sb.compare(counted, SPACE, ALGOS, seeds=2, num_trials=8, storage=url,
                       objectives=("min",))
    assert len(calls) == 2 * 2 * 8
    study = sb.load_study(url, "compare.TPE.seed1")
    assert len(study.trials) == 8
    again = sb.compare(counted, SPACE, ALGOS, seeds=2, num_trials=8, storage=url,
                       objectives=("min",))
    assert len(calls) == 2 * 2 * 8                        # nothing re-run
    assert np.array_equal(again.best_so_far("TPE"), first.best_so_far("TPE"))
    longer = sb.compare(counted, SPACE, ALGOS, seeds=2, num_trials=10, storage=url,
                        objectives=("min",))
    assert len(calls) == 2 * 2 * 10                       # only the 2 new trials of each run
    assert np.array_equal(longer.best_so_far("TPE")[:, :8], first.best_so_far("TPE"))


def test_compare_resumes_in_another_process(tmp_path):
    script = tmp_path / "cmp.py"
    script.write_text(textwrap.dedent("""
        import sys
        import symbo as sb
        space = sb.Dict(x=sb.int_range(0, 50))
        res = sb.compare(lambda p: -abs(p.x - 20), space,
                         {"Random": lambda seed: sb.algorithms.Random(seed=seed)},
                         seeds=3, num_trials=int(sys.argv[1]), storage=sys.argv[2])
        print(res.best_so_far("Random")[:, -1].tolist())
    """))
    url = f"sqlite:///{tmp_path / 'c.db'}"
    out = [subprocess.run([sys.executable, str(script), str(n), url], capture_output=True, text=True,
                          check=True).stdout for n in (5, 5, 9)]
    assert out[0] == out[1]
    assert len(sb.load_study(url, "compare.Random.seed2").trials) == 9


def test_failing_objective_is_recorded_and_the_others_go_on():
    def broken(p):
        raise RuntimeError("boom")

    res = sb.compare(broken, SPACE, ALGOS, seeds=2, num_trials=5)
    assert np.isnan(res.best_so_far("TPE")).all()
    assert math.isnan(res.interval("TPE", 5)[1])
    assert all(r["runs"] == 0 for r in res.table(as_frame=False))


def test_an_algorithm_that_cannot_search_the_space_is_recorded():
    algos = {"Grid": lambda seed: sb.algorithms.Grid(),        # needs a finite space
             "Random": lambda seed: sb.algorithms.Random(seed=seed)}
    res = sb.compare(objective, SPACE, algos, seeds=2, num_trials=5, objectives=("min",))
    assert set(res.errors["Grid"]) == {0, 1}
    assert "finite" in res.errors["Grid"][0]
    assert not np.isnan(res.best_so_far("Random")).any()
    assert "Grid seed 0" in res.format()


@pytest.mark.parametrize("kwargs, match", [
    (dict(algorithms={}), "at least one algorithm"),
    (dict(seeds=0), "seeds must be >= 1"),
    (dict(seeds=[]), "non-empty list"),
    (dict(num_trials=0), "num_trials"),
    (dict(objectives=("min", "max")), "one objective"),
])
def test_bad_arguments(kwargs, match):
    args = dict(algorithms=ALGOS, seeds=2, num_trials=5) | kwargs
    with pytest.raises(sb.SymbolicValueError, match=match):
        sb.compare(objective, SPACE, **args)


def test_a_factory_that_takes_no_seed_is_refused_before_anything_runs():
    calls = []
    with pytest.raises(sb.SymbolicTypeError, match="'TPE'.*take the seed"):
        sb.compare(lambda p: calls.append(1) or 0.0, SPACE,
                   {"Random": lambda seed: sb.algorithms.Random(seed=seed),
                    "TPE": lambda: sb.algorithms.TPE()}, seeds=2, num_trials=3)
    assert calls == []
    with pytest.raises(sb.SymbolicTypeError, match="not an sb.algorithms.Algorithm"):
        sb.compare(objective, SPACE, {"x": lambda seed: "TPE"}, seeds=1, num_trials=3)


def test_unknown_algorithm_name(result):
    with pytest.raises(sb.SymbolicValueError, match="no algorithm 'GP'"):
        result.best_so_far("GP")


def test_t_quantile_against_known_values():
    assert t_quantile(0.975, 2) == pytest.approx(4.303, abs=1e-3)
    assert t_quantile(0.975, 4) == pytest.approx(2.776, abs=2e-3)
    assert t_quantile(0.95, 30) == pytest.approx(1.697, abs=1e-3)
    assert t_quantile(0.995, 9) == pytest.approx(3.250, abs=5e-3)
