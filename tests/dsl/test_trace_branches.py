"""Tests of ``sb.trace`` on real code: branches, callable candidates, automatic names, bounds."""

from __future__ import annotations

import logging
import re

import pytest

import symbo as sb


def sgd_or_adam() -> str:
    opt = sb.one_of(["sgd", "adam"], name="opt")
    lr = sb.float_range(1e-4, 1e-1, scale="log", name="lr")
    if opt == "sgd":
        momentum = sb.float_range(0.0, 0.99, name="momentum")
        return f"sgd lr={lr:.3g} momentum={momentum:.2f}"
    return f"adam lr={lr:.3g}"


def test_a_marker_behind_an_if_is_found_and_placed_under_its_choice():
    space = sb.trace(sgd_or_adam)
    assert list(space.decisions) == ["opt", "lr", "momentum"]
    assert dict(space.parents) == {"momentum": ("opt", (0,))}
    spec = sb.dna_spec(space)
    opt = spec["opt"]
    assert [d.id for d in opt.candidates[0].space.decisions] == ["momentum"]
    assert opt.candidates[1].space.decisions == ()
    assert [d.id for d in spec.decisions] == ["opt", "lr"]


def test_no_trial_fails_and_params_are_the_markers_met():
    space = sb.trace(sgd_or_adam)
    study = sb.tune(lambda p: len(p()), space, sb.algorithms.Random(seed=0), num_trials=30)
    assert [t.status for t in study.trials] == ["completed"] * 30
    for seed in range(30):
        program = sb.random_sample(space, seed=seed)
        text = program()
        expected = ["opt", "lr", "momentum"] if text.startswith("sgd") else ["opt", "lr"]
        assert list(program.params) == expected
        assert program.params["opt"] == text.split()[0]


def test_nested_branches_are_nested_in_the_tree():
    def fn():
        if sb.one_of(["a", "b"], name="x") == "b":
            if sb.one_of([1, 2, 3], name="y") == 3:
                sb.int_range(0, 9, name="z")
        return 0

    space = sb.trace(fn)
    assert dict(space.parents) == {"y": ("x", (1,)), "z": ("y", (2,))}
    spec = sb.dna_spec(space)
    assert spec.space_size == 1 + 2 + 10
    points = list(sb.iterate(space))
    assert len(points) == 13
    seen = set()
    for program in points:
        program()
        seen.add(tuple(program.params.items()))
    assert len(seen) == 13


def test_a_marker_met_under_several_candidates_sits_under_each():
    def fn():
        kind = sb.one_of(["none", "l1", "l2"], name="reg")
        if kind != "none":
            sb.float_range(0.0, 1.0, name="strength")
        return 0

    space = sb.trace(fn)
    assert dict(space.parents) == {"strength": ("reg", (1, 2))}
    spec = sb.dna_spec(space)
    assert [len(c.space.decisions) for c in spec["reg"].candidates] == [0, 1, 1]
    program = sb.materialize(space, sb.DNA.from_dict(spec, {"reg": 2, "strength": 0.5}))
    program()
    assert program.params == {"reg": "l2", "strength": 0.5}


def test_markers_in_a_loop_over_an_int_range_are_found_and_sit_at_the_top():
    def fn():
        n = sb.int_range(1, 3, name="n_layers")
        return [sb.int_range(4, 128, name=f"units_{i}") for i in range(n)]

    space = sb.trace(fn)
    assert list(space.decisions) == ["n_layers", "units_0", "units_1", "units_2"]
    assert dict(space.parents) == {}  # an int range holds no sub-decisions
    for seed in range(10):
        program = sb.random_sample(space, seed=seed)
        widths = program()
        assert list(program.params) == ["n_layers"] + [f"units_{i}" for i in range(len(widths))]


def test_a_marker_used_on_every_path_is_not_conditional():
    def fn():
        opt = sb.one_of(["sgd", "adam"], name="opt")
        batch = sb.one_of([32, 64], name="batch")  # met after opt whatever opt is
        if opt == "sgd":
            sb.float_range(0.0, 0.9, name="momentum")
        return batch

    space = sb.trace(fn)
    assert dict(space.parents) == {"momentum": ("opt", (0,))}
    assert [d.id for d in sb.dna_spec(space).decisions] == ["opt", "batch"]


def test_an_unrelated_choice_before_a_marker_is_not_its_parent():
    def fn():
        act = sb.one_of(["relu", "gelu"], name="act")
        n = sb.int_range(1, 3, name="n")
        if n == 3:
            sb.float_range(0.0, 1.0, name="extra")
        return act

    space = sb.trace(fn)
    assert dict(space.parents) == {}  # 'extra' depends on n (an int), not on act


# ---- callable candidates --------------------------------------------------------------------------
def test_the_chosen_callable_candidate_is_called_and_opens_a_sub_space():
    calls = []

    def mlp():
        calls.append("mlp")
        return ("mlp", sb.int_range(1, 4, name="width"))

    def fn():
        return sb.one_of([mlp, lambda: ("cnn", sb.one_of([3, 5], name="kernel")), 10], name="model")

    space = sb.trace(fn)
    assert dict(space.parents) == {"width": ("model", (0,)), "kernel": ("model", (1,))}
    assert dict(space.scopes) == {"width": "model", "kernel": "model"}
    spec = sb.dna_spec(space)
    literals = [c.literal for c in spec["model"].candidates]
    assert literals[0] == "mlp()" and literals[2] == "10"
    assert re.fullmatch(r"<lambda #1, line \d+>", literals[1])
    assert sb.materialize(space, sb.DNA.from_dict(spec, {"model": 0, "width": 3}))() == ("mlp", 3)
    assert sb.materialize(space, sb.DNA.from_dict(spec, {"model": 1, "kernel": 1}))() == ("cnn", 5)
    calls.clear()
    program = sb.materialize(space, sb.DNA.from_dict(spec, {"model": 2}))
    assert program() == 10 and calls == []
    assert program.params == {"model": 10}


def test_unnamed_markers_inside_a_callable_candidate_get_positional_names():
    def fn():
        return sb.one_of([lambda: sb.one_of([1, 2]) * 10 + sb.one_of([3, 4]), lambda: 0], name="a")

    space = sb.trace(fn)
    assert list(space.decisions) == ["a", "a[=0][0]", "a[=0][1]"]
    spec = sb.dna_spec(space)
    program = sb.materialize(space, sb.DNA.from_dict(spec, {"a": 0, "a[=0][0]": 1, "a[=0][1]": 0}))
    assert program() == 23
    params = program.params
    assert list(params) == ["a", "a[=0][0]", "a[=0][1]"]
    assert re.fullmatch(r"<lambda #0, line \d+>", params["a"])
    assert (params["a[=0][0]"], params["a[=0][1]"]) == (2, 3)


def test_callable_candidates_nest():
    def fn():
        return sb.one_of([
            lambda: sb.one_of([lambda: ("deep", sb.int_range(0, 2, name="leaf")), lambda: "flat"],
                              name="inner"),
            lambda: "other",
        ], name="outer")

    space = sb.trace(fn)
    assert dict(space.parents) == {"inner": ("outer", (0,)), "leaf": ("inner", (0,))}
    results = {p() for p in sb.iterate(space)}
    assert results == {("deep", 0), ("deep", 1), ("deep", 2), "flat", "other"}


def test_functions_with_parameters_classes_and_partials_are_values_not_called():
    import functools

    def relu(x):
        return max(x, 0)

    class Block:
        pass

    def fn():
        return sb.one_of([relu, Block, functools.partial(relu, 1)], name="f")

    space = sb.trace(fn)
    spec = sb.dna_spec(space)
    assert sb.materialize(space, sb.DNA.from_dict(spec, {"f": 0}))() is relu
    assert sb.materialize(space, sb.DNA.from_dict(spec, {"f": 1}))() is Block


def test_many_of_calls_each_chosen_callable():
    def fn():
        return sb.many_of(2, [lambda: "a", lambda: "b", "c"], name="m")

    space = sb.trace(fn)
    spec = sb.dna_spec(space)
    assert list(sb.materialize(space, sb.DNA.from_dict(spec, {"m": [1, 2]}))()) == ["b", "c"]


def test_a_traced_space_with_callable_candidates_holds_no_function_but_fn():
    def fn():
        return sb.one_of([lambda: 1, lambda: 2], name="a")

    space = sb.trace(fn)
    found = sb.query(space.decisions, where=callable)
    assert not [v for v in found.values() if not isinstance(v, type)]
    from symbo.dsl.trace_run import CallCandidate

    assert all(isinstance(c, CallCandidate) for c in space.decisions["a"].candidates)


# ---- names ------------------------------------------------------------------------------------------
def test_an_unnamed_marker_outside_a_callable_candidate_is_an_error():
    def fn():
        if sb.one_of([1, 2], name="a") == 2:
            sb.float_range(0.0, 1.0)

    with pytest.raises(sb.SymbolicValueError, match=r"float_range\(0.0, 1.0\).*needs a name="):
        sb.trace(fn)


def test_a_marker_nested_in_a_candidate_list_needs_a_lambda_and_the_error_says_so():
    def fn():
        return sb.one_of([sb.int_range(1, 3), 10], name="a")

    with pytest.raises(sb.SymbolicValueError, match=r"lambda: sb.int_range\(1, 3\)"):
        sb.trace(fn)

    def nested():
        return sb.one_of([lambda: sb.int_range(1, 3), 10], name="a")

    space = sb.trace(nested)
    spec = sb.dna_spec(space)
    assert [d.id for d in spec] == ["a", "a[=0][0]"]
    assert sb.materialize(space, sb.DNA.from_dict(spec, {"a": 0, "a[=0][0]": 2}))() == 2


# ---- bad input ------------------------------------------------------------------------------------------
def test_a_name_reused_with_another_definition_in_another_branch_is_an_error():
    def fn():
        if sb.one_of([1, 2], name="a") == 2:
            sb.int_range(1, 3, name="x")
        else:
            sb.int_range(1, 4, name="x")

    with pytest.raises(sb.SymbolicValueError,
                       match=r"two markers are named 'x' with different definitions: "
                             r"int_range\(1, 4, name='x'\) and int_range\(1, 3, name='x'\)"):
        sb.trace(fn)


def test_a_marker_met_under_two_parents_is_an_error():
    def fn():
        a = sb.one_of([lambda: sb.int_range(1, 3, name="x"), 1], name="a")
        if a == 1:
            sb.int_range(1, 3, name="x")

    with pytest.raises(sb.SymbolicValueError,
                       match=r"marker 'x' is met under two different parents: a callable candidate "
                             r"of 'a' and the top level"):
        sb.trace(fn)

    def fn2():
        sb.one_of([lambda: sb.int_range(1, 3, name="x")], name="a")
        sb.one_of([lambda: sb.int_range(1, 3, name="x")], name="b")

    with pytest.raises(sb.SymbolicValueError, match="'x' is met under two different parents"):
        sb.trace(fn2)


def test_max_runs_must_be_positive():
    with pytest.raises(sb.SymbolicValueError, match="max_runs must be >= 1"):
        sb.trace(sgd_or_adam, max_runs=0)


# ---- bounds and expensive functions -------------------------------------------------------------------
def test_max_runs_bounds_the_runs_and_says_what_was_left(caplog):
    calls = []

    def fn():
        calls.append(1)
        return sgd_or_adam()

    with caplog.at_level(logging.WARNING, logger="symbo"):
        space = sb.trace(fn, max_runs=1)
    assert len(calls) == 1
    assert list(space.decisions) == ["opt", "lr", "momentum"]  # the default path: sgd
    assert "stopped after max_runs=1 runs" in caplog.text
    calls.clear()
    sb.trace(fn)
    assert 1 < len(calls) <= 10


def test_a_marker_the_bounded_trace_missed_is_a_clear_error_when_a_program_meets_it():
    def fn():
        if sb.one_of(["sgd", "adam"], name="opt") == "adam":
            return sb.float_range(0.8, 0.99, name="beta")
        return 0.0

    space = sb.trace(fn, max_runs=1)
    program = sb.materialize(space, sb.DNA.from_dict(sb.dna_spec(space), {"opt": 1}))
    with pytest.raises(sb.SymbolicValueError, match=r"marker 'beta' was not seen .*max_runs"):
        program()


def test_is_tracing_lets_an_expensive_function_skip_its_work():
    trained = []

    def fn():
        lr = sb.float_range(1e-4, 1e-1, scale="log", name="lr")
        if sb.is_tracing():
            return 0.0
        trained.append(lr)
        return lr

    space = sb.trace(fn)
    assert trained == [] and list(space.decisions) == ["lr"]
    assert not sb.is_tracing()
    sb.random_sample(space, seed=0)()
    assert len(trained) == 1


def test_an_error_in_a_later_run_keeps_the_markers_met_before_it(caplog):
    def fn():
        if sb.one_of([1, 2], name="a") == 2:
            sb.int_range(0, 3, name="b")
            raise ValueError("this branch is broken")
        return 1

    with caplog.at_level(logging.WARNING, logger="symbo"):
        space = sb.trace(fn)
    assert list(space.decisions) == ["a", "b"]
    assert "raised ValueError: this branch is broken with a=2" in caplog.text
    # the broken runs prove nothing about what they did not meet; the run with a=1 does
    assert dict(space.parents) == {"b": ("a", (1,))}


def test_an_error_in_the_first_run_propagates():
    def fn():
        sb.one_of([1, 2], name="a")
        raise KeyError("inside")

    with pytest.raises(KeyError):
        sb.trace(fn)
