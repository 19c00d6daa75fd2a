"""MCTS over the decision tree (symbo/algorithms/mcts.py)."""

from __future__ import annotations

import math
import random
import statistics
from collections import Counter
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symbo as sb
from symbo.algorithms import AlgorithmError, Random
from symbo.algorithms.mcts import MCTS
from symbo.dsl.dna import validate
from symbo.dsl.encoding import to_unit

from .replay import Log, resumed
from .spaces import mixed_space


def _setup(algo: MCTS, space: Any) -> MCTS:
    algo.setup(sb.dna_spec(space))
    return algo


def _reward(dna: sb.DNA) -> float:
    return float(sum(v for v in dna.to_numbers() if isinstance(v, (int, float))) % 7)


def _nodes(algo: MCTS, keys: tuple = ()) -> Any:
    """Yields (keys, stats) for every node of the tree."""
    stats = algo.tree_node(keys)
    yield keys, stats
    for key in stats["children"]:
        yield from _nodes(algo, keys + (key,))


# ---- valid proposals -----------------------------------------------------------------------------
@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), normalize=st.sampled_from(["minmax", "rank"]),
       widening=st.sampled_from([None, 0.5, 1.0]), num_bins=st.integers(1, 6),
       exploration=st.floats(0.0, 3.0))
def test_proposals_are_valid_dna(seed: int, normalize: str, widening: float | None,
                                 num_bins: int, exploration: float) -> None:
    algo = _setup(MCTS(seed=seed, normalize=normalize, widening=widening, num_bins=num_bins,
                       exploration=exploration), mixed_space(nested=False))
    for _ in range(60):
        dna = algo.propose()
        validate(algo.spec, dna)
        algo.feedback(dna, _reward(dna))
    assert algo.tree_node()["visits"] == 60


def test_many_of_constraints_restrict_the_tree_options() -> None:
    # sorted+distinct 2 of 4: the first position can only be 0..2, the second above the first
    algo = _setup(MCTS(seed=0), sb.Dict(m=sb.many_of(2, list(range(4)), sorted=True)))
    seen = Counter()
    for _ in range(60):
        dna = algo.propose()
        seen[tuple(dna.to_numbers())] += 1
        algo.feedback(dna, 1.0)
    assert set(seen) == {(a, b) for a in range(4) for b in range(a + 1, 4)}
    assert set(algo.tree_node()["children"]) == {0, 1, 2}
    assert set(algo.tree_node((1,))["children"]) == {2, 3}

    # permutate: every permutation of 3 reachable; each level excludes the used candidates
    algo = _setup(MCTS(seed=0), sb.permutate(["a", "b", "c"]))
    perms = set()
    for _ in range(40):
        dna = algo.propose()
        perms.add(tuple(dna.to_numbers()))
        algo.feedback(dna, 0.0)
    assert len(perms) == 6
    assert set(algo.tree_node((2,))["children"]) == {0, 1}

    # not distinct, sorted: second >= first
    algo = _setup(MCTS(seed=0), sb.many_of(2, [0, 1, 2], distinct=False, sorted=True))
    for _ in range(30):
        algo.feedback(algo.propose(), 0.0)
    assert set(algo.tree_node((1,))["children"]) == {1, 2}


def test_conditional_sub_decisions_follow_their_candidate() -> None:
    space = sb.one_of([sb.Dict(a=sb.one_of([1, 2, 3])), "leaf", sb.Dict(b=sb.one_of([4, 5]))])
    algo = _setup(MCTS(seed=3), space)
    for _ in range(30):
        algo.feedback(algo.propose(), 1.0)
    assert set(algo.tree_node((0,))["children"]) == {0, 1, 2}
    assert algo.tree_node((1,))["children"] == {}  # terminal: "leaf" has no sub-decisions
    assert set(algo.tree_node((2,))["children"]) == {0, 1}


@pytest.mark.parametrize("scale", ["linear", "log"])
def test_float_values_lie_in_the_chosen_bin(scale: str) -> None:
    space = sb.float_range(1e-3, 10.0, scale=scale)
    algo = _setup(MCTS(seed=0, num_bins=5), space)
    d = algo.spec.decisions[0]
    used = set()
    for _ in range(50):
        dna = algo.propose()
        value = dna.children[0].value
        b = min(int(to_unit(d, value) * 5), 4)
        assert algo.tree_node((b,))["pending"] == 1  # the walked bin holds the proposal
        used.add(b)
        algo.feedback(dna, value)
    assert used == set(range(5))
    assert set(algo.tree_node()["children"]) == set(range(5))


def test_int_ranges_exact_or_binned() -> None:
    algo = _setup(MCTS(seed=0, num_bins=4), sb.Dict(small=sb.int_range(3, 6),
                                                     wide=sb.int_range(1, 1000, scale="log")))
    for _ in range(40):
        dna = algo.propose()
        validate(algo.spec, dna)
        algo.feedback(dna, 1.0)
    assert set(algo.tree_node()["children"]) == {3, 4, 5, 6}  # values are the options
    assert set(algo.tree_node((3,))["children"]) <= {0, 1, 2, 3}  # bins


def test_binned_log_int_is_spread_in_log_space() -> None:
    algo = _setup(MCTS(seed=0, num_bins=3, exploration=0.0), sb.int_range(1, 999, scale="log"))
    values = []
    for _ in range(3):  # unvisited first: one proposal per bin
        dna = algo.propose()
        values.append(dna.children[0].value)
        algo.feedback(dna, 0.0)
    values.sort()
    assert values[0] < 10 <= values[1] < 100 <= values[2]


def test_progressive_widening_limits_the_children() -> None:
    algo = _setup(MCTS(seed=0, widening=0.5, widening_k=1.0), sb.float_range(0.0, 1.0))
    for _ in range(100):
        dna = algo.propose()
        algo.feedback(dna, dna.children[0].value)
    children = algo.tree_node()["children"]
    assert 2 <= len(children) <= math.ceil(99 ** 0.5)
    assert sum(children.values()) == 100


def test_empty_space() -> None:
    algo = _setup(MCTS(seed=0), sb.Dict(a=1))
    dna = algo.propose()
    assert dna == sb.DNA(None, ())
    algo.feedback(dna, 1.0)
    assert algo.tree_node() == {"visits": 1, "pending": 0, "mean": 0.5, "children": {}}


# ---- selection -----------------------------------------------------------------------------------
def test_unvisited_children_come_first() -> None:
    algo = _setup(MCTS(seed=5), sb.Dict(a=sb.one_of(list(range(6))), b=sb.one_of([0, 1])))
    firsts = []
    for _ in range(6):
        dna = algo.propose()
        firsts.append(dna.children[0].value)
        algo.feedback(dna, 100.0 if dna.children[0].value == 0 else 0.0)
    assert sorted(firsts) == list(range(6))


@pytest.mark.parametrize("normalize", ["minmax", "rank"])
def test_uct_prefers_the_better_subtree(normalize: str) -> None:
    space = sb.Dict(a=sb.one_of(["bad", "good", "worse"]), b=sb.float_range(0.0, 1.0))
    algo = _setup(MCTS(seed=0, exploration=0.3, normalize=normalize), space)
    rewards = {0: 1.0, 1: 2.0, 2: 0.0}
    counts = Counter()
    for _ in range(90):
        dna = algo.propose()
        counts[dna.children[0].value] += 1
        algo.feedback(dna, rewards[dna.children[0].value] + 0.1 * dna.children[1].value)
    assert counts[1] > counts[0] > counts[2]
    assert counts[1] > 60
    means = {k: algo.tree_node((k,))["mean"] for k in range(3)}
    assert means[1] > means[0] > means[2]


def test_zero_exploration_is_greedy_after_first_visits() -> None:
    algo = _setup(MCTS(seed=1, exploration=0.0), sb.one_of([0, 1, 2, 3]))
    for _ in range(4):
        dna = algo.propose()
        algo.feedback(dna, float(dna.children[0].value == 2))
    for _ in range(10):
        dna = algo.propose()
        assert dna.children[0].value == 2
        algo.feedback(dna, 1.0)


@settings(max_examples=10, deadline=None)
@given(scale=st.integers(-10, 20).map(lambda k: 2.0 ** k), shift=st.integers(-10**6, 10**6),
       normalize=st.sampled_from(["minmax", "rank"]))
def test_normalization_makes_search_invariant_to_reward_scale(scale: float, shift: int,
                                                              normalize: str) -> None:
    # powers of two and integers keep the arithmetic exact, so ties stay ties
    space = sb.Dict(a=sb.one_of(list(range(4))), b=sb.one_of(list(range(3))))
    rewards = {(a, b): float((a * 3 + b * 5) % 7) for a in range(4) for b in range(3)}
    x = _setup(MCTS(seed=2, normalize=normalize), space)
    y = _setup(MCTS(seed=2, normalize=normalize), space)
    for _ in range(40):
        dx, dy = x.propose(), y.propose()
        assert dx == dy
        r = rewards[tuple(dx.to_numbers())]
        x.feedback(dx, r)
        y.feedback(dy, r * scale + shift)


# ---- bookkeeping ---------------------------------------------------------------------------------
def test_visit_counts_add_up() -> None:
    algo = _setup(MCTS(seed=4), mixed_space(nested=False))
    n = 150
    for _ in range(n):
        dna = algo.propose()
        algo.feedback(dna, _reward(dna))
    root = algo.tree_node()
    assert root["visits"] == n and root["pending"] == 0
    assert sum(root["children"].values()) == n
    count = 0
    for keys, stats in _nodes(algo):
        count += 1
        below = sum(stats["children"].values())
        # a node's visits = the visits of its children, plus one for the walk that added it
        assert stats["visits"] - below in ((0,) if not keys else (0, 1))
        assert stats["visits"] >= 1
    assert count == algo.num_nodes == n + 1  # one node added per proposal


def test_parallel_pending_proposals() -> None:
    algo = _setup(MCTS(seed=0), mixed_space(nested=False))
    for _ in range(10):  # warm up
        algo.feedback(algo.propose(), 1.0)
    outstanding = [algo.propose() for _ in range(8)]
    assert algo.tree_node()["pending"] == 8
    for dna in reversed(outstanding):
        algo.feedback(dna, _reward(dna))
    root = algo.tree_node()
    assert root["pending"] == 0 and root["visits"] == 18
    assert all(stats["pending"] == 0 for _, stats in _nodes(algo))


def test_parallel_proposals_spread_over_untried_options() -> None:
    algo = _setup(MCTS(seed=0), sb.one_of(list(range(5))))
    firsts = {algo.propose().children[0].value for _ in range(5)}
    assert firsts == set(range(5))  # nodes with pending proposals count as tried


def test_repeated_dna_is_matched_per_proposal() -> None:
    algo = _setup(MCTS(seed=0), sb.one_of([0, 1]))
    outstanding = [algo.propose() for _ in range(6)]
    assert len(set(outstanding)) == 2
    for dna in outstanding:
        algo.feedback(dna, float(dna.children[0].value))
    root = algo.tree_node()
    assert root["visits"] == 6 and root["pending"] == 0
    assert sum(root["children"].values()) == 6


def test_failures_drop_the_proposal() -> None:
    algo = _setup(MCTS(seed=0), sb.Dict(a=sb.one_of(list(range(3))), b=sb.one_of([0, 1])))
    algo.feedback(algo.propose(), 1.0)
    nodes = algo.num_nodes
    dna = algo.propose()
    assert algo.num_nodes == nodes + 1
    algo.on_failure(dna, "boom")
    assert algo.num_nodes == nodes  # the node added for it alone is removed
    assert algo.tree_node()["pending"] == 0 and algo.tree_node()["visits"] == 1
    algo.on_failure(dna, "again")  # unknown or already dropped: nothing happens
    dna = algo.propose()
    algo.feedback(dna, math.nan)  # a non-finite reward counts as a failure
    assert algo.tree_node()["visits"] == 1 and algo.tree_node()["pending"] == 0
    assert len(algo.history) == 1


def test_failing_trials_in_tune_keep_the_search_going() -> None:
    space = sb.Dict(a=sb.one_of(list(range(4))), b=sb.int_range(0, 9))

    def objective(p: Any) -> float:
        if p.a == 3:
            raise ValueError("invalid architecture")
        return p.a + p.b / 10

    algo = MCTS(seed=0)
    study = sb.tune(objective, space, algo, num_trials=60)
    statuses = Counter(t.status for t in study.trials)
    assert statuses["completed"] + statuses["failed"] == 60 and statuses["failed"] >= 1
    assert algo.tree_node()["visits"] == statuses["completed"]
    assert algo.tree_node()["pending"] == 0


def test_feedback_for_a_dna_it_did_not_propose() -> None:
    space = sb.Dict(a=sb.one_of(list(range(3))), x=sb.float_range(0.0, 1.0),
                    n=sb.int_range(0, 100))
    algo = _setup(MCTS(seed=0, num_bins=4), space)
    for _ in range(20):
        algo.feedback(algo.propose(), 0.0)
    nodes = algo.num_nodes
    foreign = sb.DNA.from_numbers(algo.spec, [1, 0.3, 99])
    algo.feedback(foreign, 5.0)
    assert algo.tree_node()["visits"] == 21
    assert algo.num_nodes <= nodes + 1
    assert algo.tree_node((1,))["visits"] >= 1


def test_setup_errors() -> None:
    spec = sb.dna_spec(sb.one_of([1, 2]))
    for bad, says in ((dict(num_bins=0), "num_bins"), (dict(widening=1.5), "widening"),
                      (dict(exploration=-1.0), "exploration"),
                      (dict(widening=0.5, widening_k=0.0), "widening_k")):
        with pytest.raises(sb.SymbolicValueError, match=says):
            MCTS(**bad)  # refused when made, before any search
    with pytest.raises(AlgorithmError, match="one objective"):
        MCTS().setup(spec, num_objectives=2)
    with pytest.raises(sb.SymbolicError):
        MCTS(normalize="zscore")
    with pytest.raises(AlgorithmError):
        MCTS().propose()


def test_is_a_symbolic_object() -> None:
    algo = MCTS(exploration=0.5, normalize="rank", seed=3)
    assert sb.eq(sb.from_json(sb.to_json(algo)), algo)


# ---- state ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("options", [{}, {"normalize": "rank"}, {"widening": 0.6}])
def test_restored_from_the_trials_it_continues_identically(options: dict) -> None:
    space = mixed_space(nested=False)
    a = _setup(MCTS(seed=11, **options), space)
    log = Log(a)
    for _ in range(40):
        dna = log.propose()
        log.feedback(dna, _reward(dna))
    pending = [log.propose() for _ in range(3)]
    log.on_failure(pending[1], "lost")
    assert set(a.state) == {"rng"}  # the tree is rebuilt from the trials, not stored

    b = resumed(MCTS(seed=11, **options), a.spec, log)
    assert b.num_proposed == a.num_proposed and b.num_nodes == a.num_nodes
    assert b.history == a.history
    assert list(_nodes(a)) == list(_nodes(b))
    for dna in (pending[2], pending[0]):
        a.feedback(dna, 3.0)
        b.feedback(dna, 3.0)
    for _ in range(30):
        x, y = a.propose(), b.propose()
        assert x == y
        a.feedback(x, _reward(x))
        b.feedback(y, _reward(y))
    assert list(_nodes(a)) == list(_nodes(b))
    assert a.state == b.state


def test_trials_of_another_algorithm_are_replayed() -> None:
    space = sb.Dict(a=sb.one_of(list(range(3))), b=sb.float_range(0.0, 1.0))
    r = Random(seed=0)
    r.setup(sb.dna_spec(space))
    log = Log(r)
    for _ in range(12):
        dna = log.propose()
        log.feedback(dna, dna.children[0].value)
    algo = _setup(MCTS(seed=0), space)
    algo.restore(log.past())
    assert algo.tree_node()["visits"] == 12 and len(algo.history) == 12
    validate(algo.spec, algo.propose())


# ---- quality and speed ---------------------------------------------------------------------------
_TOY = sb.Dict(**{f"x{i}": sb.one_of([0, 1, 2, 3]) for i in range(10)})


def _zeros(p: Any) -> float:
    return float(sum(1 for i in range(10) if p[f"x{i}"] == 0))


def _best(algo: Any, num_trials: int = 200) -> float:
    return sb.tune(_zeros, _TOY, algo, num_trials=num_trials).best_trial.reward


def test_beats_random_search_on_a_tree_problem() -> None:
    random_mean = statistics.mean(_best(Random(seed=s)) for s in range(5))
    assert _best(MCTS(seed=0)) > random_mean  # the defaults
    # less exploration exploits this budget much better
    tuned = statistics.mean(_best(MCTS(seed=s, exploration=0.25)) for s in range(5))
    assert tuned > random_mean + 2


def test_propose_does_bounded_work_on_a_20_decision_space(monkeypatch: pytest.MonkeyPatch) -> None:
    """What keeps propose fast, counted rather than timed (its speed is a benchmark figure:
    the s/run column of BENCHMARKS.md's search tables): each propose walks one path of the
    tree, at most one node per decision, and adds at most one node; feedback backs up along
    that path only. The work per trial does not grow with the history."""
    space = sb.Dict(**{f"c{i}": sb.one_of([0, 1, 2, 3]) for i in range(10)},
                    **{f"f{i}": sb.float_range(1e-3, 1.0, scale="log") for i in range(5)},
                    **{f"i{i}": sb.int_range(0, 100) for i in range(5)})
    algo = _setup(MCTS(seed=0), space)
    selects = []
    select = algo._select
    monkeypatch.setattr(algo, "_select", lambda node, keys: selects.append(len(keys)) or
                        select(node, keys))
    rng = random.Random(0)
    n, decisions = 500, 20
    for i in range(n):
        before, calls = algo.num_nodes, len(selects)
        dna = algo.propose()
        (path,) = algo._pending[dna]
        assert len(path) <= decisions + 1  # the root and one node per decision at most
        assert len(selects) - calls <= decisions  # one UCT choice per decision at most
        assert algo.num_nodes - before <= 1  # one new node per proposal
        algo.feedback(dna, rng.random())
        assert algo.num_nodes <= i + 2
    assert max(selects) <= 101  # each UCT choice scans one node's children (an int_range's)
