"""Mutators and crossovers (symbo/algorithms/mutation.py)."""

from __future__ import annotations

import math
import random
from collections import Counter
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symbo as sb
from symbo.algorithms.mutation import Crossover, Mutator, Uniform, UniformCrossover
from symbo.dsl.dna import validate
from symbo.dsl.encoding import to_unit
from symbo.dsl.materialize import iterate_dna, random_dna


def _conditional() -> sb.Dict:
    return sb.Dict(
        opt=sb.one_of([
            "adam",
            sb.Dict(momentum=sb.float_range(0.0, 0.99),
                    nesterov=sb.one_of([True, False]),
                    decay=sb.one_of([None, sb.Dict(rate=sb.float_range(1e-5, 1e-2, scale="log"),
                                                   every=sb.int_range(1, 10))])),
            sb.Dict(betas=sb.many_of(2, [0.8, 0.9, 0.99, 0.999], sorted=True)),
        ]),
        act=sb.one_of(["relu", "gelu"]),
    )


SPACES: dict[str, Any] = {
    "conditional": _conditional,
    "many_distinct_sorted": lambda: sb.Dict(m=sb.many_of(3, list("abcdef"), sorted=True)),
    "many_distinct": lambda: sb.Dict(m=sb.many_of(3, list("abcde"))),
    "many_sorted_repeats": lambda: sb.Dict(m=sb.many_of(3, list("abc"), distinct=False,
                                                        sorted=True)),
    "many_repeats": lambda: sb.Dict(m=sb.many_of(4, list("ab"), distinct=False)),
    "many_conditional": lambda: sb.Dict(m=sb.many_of(2, [
        "skip", sb.Dict(conv=sb.int_range(1, 3)), sb.Dict(pool=sb.one_of(["max", "avg"]))])),
    "permutate": lambda: sb.Dict(p=sb.permutate([1, 2, 3, 4])),
    "permutate_conditional": lambda: sb.Dict(p=sb.permutate([sb.one_of(["x", "y"]), 2, 3])),
    "int_linear": lambda: sb.Dict(i=sb.int_range(-3, 3)),
    "int_log": lambda: sb.Dict(i=sb.int_range(1, 1024, scale="log")),
    "int_two": lambda: sb.Dict(i=sb.int_range(0, 1)),
    "float_linear": lambda: sb.Dict(x=sb.float_range(-1.0, 1.0)),
    "float_log": lambda: sb.Dict(x=sb.float_range(1e-6, 1.0, scale="log")),
    "mixed": lambda: sb.Dict(
        a=sb.one_of([1, 2, 3]), b=sb.int_range(0, 5), c=sb.float_range(0.0, 1.0),
        d=sb.many_of(2, list("xyz")), e=sb.permutate(["p", "q"]),
        f=sb.many_of(3, list("abc"), sorted=True)),  # f: the only sorted choice, never mutated
}


@pytest.mark.parametrize("name", sorted(SPACES))
def test_uniform_gives_valid_different_dna(name: str) -> None:
    spec = sb.dna_spec(SPACES[name]())
    rng = random.Random(name)
    mutator = Uniform()
    for _ in range(300):
        parent = random_dna(spec, rng)
        child = mutator.mutate(parent, spec, rng)
        validate(spec, child)
        assert child != parent
        assert child.spec is spec


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), sigma=st.floats(0.001, 2.0),
       reset_prob=st.floats(0.0, 1.0), int_step=st.integers(1, 5))
def test_uniform_property_on_every_space(seed: int, sigma: float, reset_prob: float,
                                         int_step: int) -> None:
    mutator = Uniform(sigma=sigma, reset_prob=reset_prob, int_step=int_step)
    rng = random.Random(seed)
    for make in SPACES.values():
        spec = sb.dna_spec(make())
        parent = random_dna(spec, rng)
        for _ in range(5):
            child = mutator.mutate(parent, spec, rng)
            validate(spec, child)
            assert child != parent
            parent = child


def test_uniform_is_reproducible() -> None:
    spec = sb.dna_spec(_conditional())
    parent = random_dna(spec, 0)
    a = [Uniform().mutate(parent, spec, random.Random(5)) for _ in range(3)]
    assert a[0] == a[1] == a[2]
    assert Uniform().mutate(parent, spec, 5) == a[0]  # an int seed works too


def test_uniform_changes_one_decision_of_a_flat_space_uniformly() -> None:
    spec = sb.dna_spec(sb.Dict(a=sb.one_of([1, 2, 3]), b=sb.int_range(0, 5),
                               c=sb.float_range(0.0, 1.0), d=sb.one_of(["x", "y"])))
    rng = random.Random(0)
    changed: Counter[int] = Counter()
    for _ in range(2000):
        parent = random_dna(spec, rng)
        child = Uniform().mutate(parent, spec, rng)
        diffs = [i for i, (x, y) in enumerate(zip(parent.to_numbers(), child.to_numbers(),
                                                  strict=True)) if x != y]
        assert len(diffs) == 1
        changed[diffs[0]] += 1
    assert all(400 < changed[i] < 600 for i in range(4)), changed


def test_a_space_with_one_point_gives_the_parent_back() -> None:
    spec = sb.dna_spec(sb.Dict(a=sb.one_of(["only"]), m=sb.many_of(2, ["x", "y"], sorted=True)))
    (parent,) = list(iterate_dna(spec))
    assert Uniform().mutate(parent, spec, random.Random(0)) == parent


def test_decisions_that_cannot_change_are_not_picked() -> None:
    # 'fixed' has one candidate, 'm' has a single sorted distinct set: only 'x' can change
    spec = sb.dna_spec(sb.Dict(fixed=sb.one_of(["a"]), m=sb.many_of(2, [1, 2], sorted=True),
                               x=sb.one_of([0, 1])))
    rng = random.Random(1)
    for _ in range(50):
        parent = random_dna(spec, rng)
        child = Uniform().mutate(parent, spec, rng)
        assert child.to_numbers()[:3] == parent.to_numbers()[:3]
        assert child.to_numbers()[3] != parent.to_numbers()[3]


def test_conditional_children_are_resampled_and_nested_decisions_mutated() -> None:
    spec = sb.dna_spec(_conditional())
    rng = random.Random(2)
    saw_switch, saw_nested = False, False
    for _ in range(500):
        parent = random_dna(spec, rng)
        child = Uniform().mutate(parent, spec, rng)
        p, c = parent.to_dict(key_type="id"), child.to_dict(key_type="id", spec=spec)
        if p["act"] != c["act"]:
            assert {k: v for k, v in p.items() if k != "act"} == \
                {k: v for k, v in c.items() if k != "act"}
        elif p["opt"] != c["opt"]:
            saw_switch = True
        else:
            saw_nested = True
            assert all(k.startswith("opt[=") for k in set(p) | set(c) if p.get(k) != c.get(k))
    assert saw_switch and saw_nested


def test_decisions_under_many_of_positions_are_mutated() -> None:
    spec = sb.dna_spec(SPACES["many_conditional"]())
    rng = random.Random(3)
    kinds: Counter[str] = Counter()
    for _ in range(500):
        parent = random_dna(spec, rng)
        child = Uniform().mutate(parent, spec, rng)
        same_indices = [p.value for p in parent.children[0].children] == \
            [p.value for p in child.children[0].children]
        kinds["sub" if same_indices else "top"] += 1
    assert kinds["sub"] > 50 and kinds["top"] > 50


def test_permutate_swaps_two_positions() -> None:
    spec = sb.dna_spec(SPACES["permutate"]())
    rng = random.Random(4)
    for _ in range(200):
        parent = random_dna(spec, rng)
        child = Uniform().mutate(parent, spec, rng)
        a, b = parent.to_numbers(), child.to_numbers()
        assert sorted(b) == [0, 1, 2, 3]
        assert sum(x != y for x, y in zip(a, b, strict=True)) == 2


def test_permutate_moves_subtrees_with_their_candidates() -> None:
    spec = sb.dna_spec(SPACES["permutate_conditional"]())
    rng = random.Random(5)
    for _ in range(200):
        parent = random_dna(spec, rng)
        child = Uniform().mutate(parent, spec, rng)
        validate(spec, child)
        picks_p = {p.value: p for p in parent.children[0].children}
        picks_c = {p.value: p for p in child.children[0].children}
        changed = [i for i in picks_p if picks_p[i] != picks_c[i]]
        assert len(changed) <= 1  # a swap moves whole subtrees; else one sub-decision changed


def test_many_of_distinct_sorted_replaces_one_position() -> None:
    spec = sb.dna_spec(SPACES["many_distinct_sorted"]())
    rng = random.Random(6)
    for _ in range(200):
        parent = random_dna(spec, rng)
        child = Uniform().mutate(parent, spec, rng)
        a, b = parent.to_numbers(), child.to_numbers()
        assert b == sorted(set(b)) and len(b) == 3
        assert len(set(a) & set(b)) == 2


def test_many_of_with_repeats_replaces_one_position() -> None:
    spec = sb.dna_spec(SPACES["many_repeats"]())
    rng = random.Random(7)
    for _ in range(200):
        parent = random_dna(spec, rng)
        child = Uniform().mutate(parent, spec, rng)
        assert sum(x != y for x, y in zip(parent.to_numbers(), child.to_numbers(),
                                          strict=True)) == 1


def test_many_of_distinct_unsorted_both_replaces_and_swaps() -> None:
    spec = sb.dna_spec(SPACES["many_distinct"]())
    rng = random.Random(8)
    kinds: Counter[str] = Counter()
    for _ in range(400):
        parent = random_dna(spec, rng)
        child = Uniform().mutate(parent, spec, rng)
        a, b = parent.to_numbers(), child.to_numbers()
        assert len(set(b)) == 3
        kinds["swap" if sorted(a) == sorted(b) else "replace"] += 1
    assert kinds["swap"] > 100 and kinds["replace"] > 100


def test_float_steps_are_local_in_unit_space() -> None:
    for scale, low, high in (("linear", -1.0, 1.0), ("log", 1e-6, 1.0)):
        spec = sb.dna_spec(sb.Dict(x=sb.float_range(low, high, scale=scale)))
        d = spec.decisions[0]
        rng = random.Random(9)
        steps = []
        for _ in range(500):
            parent = random_dna(spec, rng)
            child = Uniform(sigma=0.05, reset_prob=0.0).mutate(parent, spec, rng)
            (a,), (b,) = parent.to_numbers(), child.to_numbers()
            steps.append(abs(to_unit(d, b) - to_unit(d, a)))
        assert max(steps) < 0.35
        assert 0.02 < sum(steps) / len(steps) < 0.06  # E|N(0, 0.05)| ~ 0.04 (clipping lowers it)


def test_float_at_a_bound_still_moves() -> None:
    spec = sb.dna_spec(sb.Dict(x=sb.float_range(0.0, 1.0)))
    for value in (0.0, 1.0):
        parent = sb.DNA.from_numbers(spec, [value])
        for seed in range(50):
            child = Uniform(sigma=1e-9, reset_prob=0.0).mutate(parent, spec, random.Random(seed))
            assert child != parent
            validate(spec, child)


def test_reset_prob_one_gives_fresh_uniform_values() -> None:
    spec = sb.dna_spec(sb.Dict(x=sb.float_range(0.0, 1.0)))
    parent = sb.DNA.from_numbers(spec, [0.5])
    rng = random.Random(10)
    values = [Uniform(sigma=1e-3, reset_prob=1.0).mutate(parent, spec, rng).to_numbers()[0]
              for _ in range(500)]
    assert min(values) < 0.1 and max(values) > 0.9


def test_int_steps_and_resets() -> None:
    spec = sb.dna_spec(sb.Dict(i=sb.int_range(0, 100)))
    rng = random.Random(11)
    for step in (1, 3):
        for _ in range(200):
            parent = random_dna(spec, rng)
            child = Uniform(reset_prob=0.0, int_step=step).mutate(parent, spec, rng)
            delta = child.to_numbers()[0] - parent.to_numbers()[0]
            assert 1 <= abs(delta) <= step
    parent = sb.DNA.from_numbers(spec, [50])
    values = Counter(Uniform(reset_prob=1.0).mutate(parent, spec, rng).to_numbers()[0]
                     for _ in range(3000))
    assert 50 not in values and len(values) > 90


def test_int_at_bounds_and_log_scale() -> None:
    spec = sb.dna_spec(sb.Dict(i=sb.int_range(0, 1)))
    for v in (0, 1):
        child = Uniform(reset_prob=0.0).mutate(sb.DNA.from_numbers(spec, [v]), spec, 0)
        assert child.to_numbers() == [1 - v]
    spec = sb.dna_spec(sb.Dict(i=sb.int_range(1, 1024, scale="log")))
    rng = random.Random(12)
    ratios = []
    for _ in range(300):
        parent = random_dna(spec, rng)
        child = Uniform(sigma=0.05, reset_prob=0.0).mutate(parent, spec, rng)
        a, b = parent.to_numbers()[0], child.to_numbers()[0]
        assert a != b and isinstance(b, int)
        ratios.append(abs(math.log(b) - math.log(a)))
    assert sorted(ratios)[len(ratios) // 2] < 1.0  # local in log space


def test_invalid_settings_are_rejected() -> None:
    with pytest.raises(sb.SymbolicValueError, match="sigma"):
        Uniform(sigma=0.0)
    with pytest.raises(sb.SymbolicValueError, match="reset_prob"):
        Uniform(reset_prob=1.5)
    with pytest.raises(sb.SymbolicValueError, match="int_step"):
        Uniform(int_step=0)
    with pytest.raises(sb.SymbolicValueError, match="prob"):
        UniformCrossover(prob=-0.1)


def test_mutators_and_crossovers_are_symbolic() -> None:
    m = Uniform(sigma=0.3)
    assert sb.eq(sb.from_json(sb.to_json(m)), m)
    assert sb.to_json(m)["_type"] == "symbo.algorithms.Uniform"
    c = UniformCrossover(prob=0.2, deep=False)
    assert sb.eq(sb.from_json(sb.to_json(c)), c)
    assert isinstance(m, Mutator) and isinstance(c, Crossover)
    with pytest.raises(NotImplementedError):
        Mutator().mutate(sb.DNA(None, ()), sb.dna_spec(sb.Dict()), 0)


# ---- crossover ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(SPACES))
def test_uniform_crossover_gives_valid_dna_from_the_parents(name: str) -> None:
    spec = sb.dna_spec(SPACES[name]())
    rng = random.Random(name)
    for _ in range(200):
        a, b = random_dna(spec, rng), random_dna(spec, rng)
        child = UniformCrossover(deep=False).cross(a, b, spec, rng)
        validate(spec, child)
        assert child.spec is spec
        for x, y, z in zip(a.children, b.children, child.children, strict=True):
            assert z in (x, y)
        validate(spec, UniformCrossover().cross(a, b, spec, rng))


def test_crossover_prob_extremes() -> None:
    spec = sb.dna_spec(_conditional())
    a, b = random_dna(spec, 1), random_dna(spec, 2)
    assert UniformCrossover(prob=0.0).cross(a, b, spec, 0) == a
    assert UniformCrossover(prob=1.0).cross(a, b, spec, 0) == b


def test_deep_crossover_mixes_decisions_under_a_shared_candidate() -> None:
    space = sb.Dict(block=sb.one_of(["none", sb.List([sb.one_of([0, 1]) for _ in range(8)])]))
    spec = sb.dna_spec(space)
    a = sb.DNA.from_numbers(spec, [1] + [0] * 8)
    b = sb.DNA.from_numbers(spec, [1] + [1] * 8)
    rng = random.Random(13)
    mixed = [UniformCrossover().cross(a, b, spec, rng) for _ in range(20)]
    assert all(m.to_numbers()[0] == 1 for m in mixed)
    assert any(0 < sum(m.to_numbers()[1:]) < 8 for m in mixed)
    shallow = [UniformCrossover(deep=False).cross(a, b, spec, rng) for _ in range(20)]
    assert {sum(m.to_numbers()[1:]) for m in shallow} <= {0, 8}
