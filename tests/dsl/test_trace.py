"""Tests of ``symbo.dsl.trace``: define-by-run spaces from markers called inline."""

from __future__ import annotations

import pytest

import symbo as sb


def train(scale: float = 1.0) -> tuple:
    lr = sb.float_range(1e-4, 1e-1, scale="log", name="lr")
    opt = sb.one_of(["sgd", "adam"], name="opt")
    depth = sb.int_range(1, 4, name="depth")
    blocks = sb.many_of(2, ["conv", "pool", "skip"], name="blocks")
    return opt, lr * scale, depth, blocks


def test_trace_collects_the_named_markers():
    space = sb.trace(train)
    assert isinstance(space, sb.TracedSpace)
    assert list(space.decisions) == ["lr", "opt", "depth", "blocks"]
    assert sb.eq(space.decisions["opt"], sb.one_of(["sgd", "adam"], name="opt"))
    spec = sb.dna_spec(space)
    assert [d.id for d in spec] == ["lr", "opt", "depth", "blocks"]
    assert [d.name for d in spec] == ["lr", "opt", "depth", "blocks"]
    assert spec.space_size == float("inf")


def test_markers_return_defaults_while_traced():
    seen = []

    def fn():
        seen.append((sb.one_of(["a", "b"], name="x"), sb.float_range(1.0, 3.0, name="f"),
                     sb.float_range(1.0, 100.0, scale="log", name="g"),
                     sb.int_range(1, 4, name="i"), sb.many_of(2, [5, 6, 7], name="m"),
                     sb.permutate([3, 1, 2], name="p")))

    sb.trace(fn)
    x, f, g, i, m, p = seen[0]
    assert (x, f, i, list(m), list(p)) == ("a", 2.0, 2, [5, 6], [3, 1, 2])
    assert g == pytest.approx(10.0)


def test_a_many_of_with_repeats_defaults_to_k_values():
    seen = []
    sb.trace(lambda: seen.append(sb.many_of(3, ["a", "b"], distinct=False, name="m")))
    assert list(seen[0]) == ["a", "b", "a"]


def test_the_materialized_program_runs_fn_with_the_decisions():
    space = sb.trace(train)
    spec = sb.dna_spec(space)
    dna = sb.DNA.from_dict(spec, {"lr": 0.01, "opt": 1, "depth": 3, "blocks": [2, 0]})
    program = sb.materialize(space, dna)
    assert isinstance(program, sb.TracedProgram)
    assert program() == ("adam", 0.01, 3, ["skip", "conv"])
    assert program(scale=2.0) == ("adam", 0.02, 3, ["skip", "conv"])
    assert dict(program.values) == {"lr": 0.01, "opt": "adam", "depth": 3,
                                    "blocks": ["skip", "conv"]}


def test_apply_makes_markers_return_the_decisions_in_a_block():
    space = sb.trace(train)
    program = sb.materialize(space, sb.DNA.from_numbers(sb.dna_spec(space), [0.05, 0, 2, 1, 2]))
    with program.apply() as p:
        assert p is program
        assert sb.one_of(["sgd", "adam"], name="opt") == "sgd"
        assert sb.int_range(1, 4, name="depth") == 2
        assert train() == ("sgd", 0.05, 2, ["pool", "skip"])
    # Outside the block markers are markers again.
    assert isinstance(sb.one_of(["sgd", "adam"], name="opt"), sb.OneOf)


def test_the_context_is_reset_after_an_error():
    space = sb.trace(train)
    program = sb.random_sample(space, seed=0)
    with pytest.raises(RuntimeError):
        with program.apply():
            raise RuntimeError("boom")
    assert isinstance(sb.int_range(1, 4, name="depth"), sb.IntRange)

    def failing():
        sb.one_of([1, 2], name="a")
        raise KeyError("inside")

    with pytest.raises(KeyError):
        sb.trace(failing)
    assert isinstance(sb.one_of([1, 2], name="a"), sb.OneOf)


def test_trace_passes_arguments_to_fn():
    def fn(base, *, extra):
        return base + extra + sb.int_range(0, 3, name="n")

    space = sb.trace(fn, 10, extra=5)
    assert list(space.decisions) == ["n"]


def test_traced_spaces_work_with_random_sample_and_iterate():
    def fn():
        return sb.one_of(["a", "b", "c"], name="x") + str(sb.int_range(0, 1, name="y"))

    space = sb.trace(fn)
    assert sb.dna_spec(space).space_size == 6
    assert [p() for p in sb.iterate(space)] == ["a0", "a1", "b0", "b1", "c0", "c1"]
    a, b = sb.random_sample(space, seed=4), sb.random_sample(space, seed=4)
    assert sb.eq(a, b) and a() == b()


def test_traced_spaces_are_symbolic():
    space = sb.trace(train)
    assert sb.eq(sb.clone(space), space)
    assert "one_of(['sgd', 'adam'], name='opt')" in sb.format(space)
    assert not sb.is_deterministic(space)
    program = sb.random_sample(space, seed=1)
    assert sb.is_deterministic(program)


def test_the_same_marker_called_twice_is_one_decision():
    def fn():
        return sb.one_of([1, 2], name="a") * 10 + sb.one_of([1, 2], name="a")

    space = sb.trace(fn)
    assert len(sb.dna_spec(space)) == 1
    program = sb.materialize(space, sb.DNA.from_dict(sb.dna_spec(space), {"a": 1}))
    assert program() == 22


def test_an_unnamed_inline_marker_is_an_error():
    def fn():
        return sb.one_of([1, 2])

    with pytest.raises(sb.SymbolicValueError, match=r"one_of\(\[1, 2\]\).*needs a name="):
        sb.trace(fn)


def test_one_name_with_different_definitions_is_an_error():
    def fn():
        sb.one_of([1, 2], name="a")
        sb.one_of([1, 3], name="a")

    with pytest.raises(sb.SymbolicValueError,
                       match=r"two markers are named 'a' with different definitions"):
        sb.trace(fn)

    def fn2():
        sb.int_range(0, 3, name="a")
        sb.float_range(0.0, 3.0, name="a")

    with pytest.raises(sb.SymbolicValueError, match="different definitions"):
        sb.trace(fn2)


def test_a_marker_not_seen_when_tracing_is_an_error_when_run():
    flags = {"deep": False}

    def fn():
        a = sb.one_of([1, 2], name="a")
        if flags["deep"]:
            a += sb.one_of([5, 6], name="b")
        return a

    space = sb.trace(fn)
    program = sb.random_sample(space, seed=0)
    assert program() in (1, 2)
    flags["deep"] = True
    with pytest.raises(sb.SymbolicValueError, match="marker 'b' was not seen"):
        program()


def test_trace_needs_a_function_that_calls_markers():
    with pytest.raises(sb.SymbolicValueError, match="trace needs a function"):
        sb.trace(3)
    with pytest.raises(sb.SymbolicValueError, match="called no markers"):
        sb.trace(lambda: 1)


def test_a_marker_changed_since_the_trace_is_an_error_at_run_time():
    import symbo as sb

    choices = {"widths": [16, 32]}

    def build():
        return sb.one_of(choices["widths"], name="width")

    space = sb.trace(build)
    program = sb.materialize(space, sb.DNA(None, (sb.DNA(1),)))
    assert program() == 32
    choices["widths"] = [16, 32, 64]
    with pytest.raises(sb.SymbolicValueError, match="changed since the space was traced"):
        program()
