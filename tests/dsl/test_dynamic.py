"""Tests of ``sb.DynamicEvaluationContext`` (PyGlove's ``collect()``/``apply()``)."""

import threading

import pytest

import symbo as sb


def test_values_during_collect_are_the_defaults():
    context = sb.DynamicEvaluationContext()
    with context.collect():
        assert sb.one_of([0, 1], name="a") == 0
        assert sb.one_of([{"x": "a"}, 1], name="b") == {"x": "a"}
        assert sb.many_of(2, [0, 1, 3], name="c") == [0, 1]
        assert sb.many_of(4, [0, 1, 3], distinct=False, name="d") == [0, 1, 3, 0]
        assert sb.permutate([0, 1, 2], name="e") == [0, 1, 2]
        assert sb.float_range(0.0, 1.0, name="f") == 0.5
    assert list(context.hyper_dict) == ["a", "b", "c", "d", "e", "f"]


def fun():
    x = sb.one_of([1, 2, 3], name="a") + 1
    y = sum(sb.many_of(2, [2, 4, 6, 8], name="b"))
    z = sb.float_range(1.0, 2.0, name="c")
    return x + y + z


def test_named_space_collect_and_apply():
    context = sb.DynamicEvaluationContext()
    with context.collect() as hyper_dict:
        with pytest.raises(sb.SymbolicValueError, match="needs a name="):
            sb.one_of([1, 2, 3])
        result = fun()
        result = fun()  # again: one decision per name
    assert result == 1 + 1 + 2 + 4 + 1.5
    assert sb.eq(hyper_dict, {"a": sb.one_of([1, 2, 3], name="a"),
                              "b": sb.many_of(2, [2, 4, 6, 8], name="b"),
                              "c": sb.float_range(1.0, 2.0, name="c")})
    with context.apply(sb.DNA([1, [0, 2], 1.5])):
        assert fun() == 2 + 1 + 2 + 6 + 1.5
        assert fun() == 12.5
    with context.apply([1, 0, 2, 1.5]):  # flat numbers
        assert fun() == 12.5


def hierarchical():
    return sb.one_of([
        lambda: sum(sb.many_of(2, [2, 4, 6, 8], name="a1")),
        lambda: sb.one_of([3, 7], name="a2"),
        lambda: sb.float_range(1.0, 2.0, name="a3"),
        10], name="a") + sb.one_of([11, 22], name="b")


def test_hierarchical_space_collects_markers_of_every_callable_candidate():
    context = sb.DynamicEvaluationContext()
    with context.collect() as hyper_dict:
        result = hierarchical()
    assert result == 2 + 4 + 11
    assert list(hyper_dict) == ["a", "a1", "b", "a2", "a3"]
    spec = context.dna_spec
    assert [d.id for d in spec.decisions] == ["a", "b"]
    with context.apply(sb.DNA([(0, [1, 3]), 0])):
        assert hierarchical() == 4 + 8 + 11
    with context.apply(sb.DNA([(1, 1), 1])):
        assert hierarchical() == 7 + 22
    with context.apply(sb.DNA([(2, 1.5), 0])):
        assert hierarchical() == 1.5 + 11
    with context.apply(sb.DNA([3, 1])):
        assert hierarchical() == 10 + 22
    with context.apply([0, 1, 3, 0]):
        assert hierarchical() == 4 + 8 + 11


def test_apply_errors():
    context = sb.DynamicEvaluationContext()
    with context.collect():
        hierarchical()
    with pytest.raises(sb.DNAError, match="apply takes a DNA or a list of numbers"):
        with context.apply(3):
            hierarchical()
    with pytest.raises(sb.DNAError, match="a: expected a candidate index"):
        with context.apply([5, 0.5, 0]):
            hierarchical()
    with pytest.raises(sb.DNAError, match="were not used in the block"):
        with context.apply(sb.DNA([3, 0])):
            pass
    with pytest.raises(sb.SymbolicValueError, match="marker 'unknown' was not collected"):
        with context.apply(sb.DNA([3, 0])):
            hierarchical()
            sb.one_of(range(5), name="unknown")
    with pytest.raises(ZeroDivisionError):  # the block's own errors propagate unchanged
        with context.apply(sb.DNA([3, 0])):
            1 / 0  # noqa: B018
    with pytest.raises(sb.SymbolicValueError, match="nothing collected yet"):
        sb.DynamicEvaluationContext().dna_spec  # noqa: B018


def test_where_selects_the_markers_a_context_decides():
    context = sb.DynamicEvaluationContext(where=lambda m: m.name != "x")
    with context.collect():
        assert sb.one_of(list(range(10)), name="n") == 0
        assert isinstance(sb.one_of(list(range(5)), name="x"), sb.OneOf)
    with context.apply([1]):
        assert sb.one_of(list(range(10)), name="n") == 1
        assert isinstance(sb.one_of(list(range(5)), name="x"), sb.OneOf)


def test_partitioned_spaces_nest():
    outer = sb.DynamicEvaluationContext(where=lambda m: m.name.startswith("o"))
    inner = sb.DynamicEvaluationContext(where=lambda m: m.name.startswith("i"))

    def both():
        return sb.one_of([1, 2, 3], name="o1") * 10 + sb.one_of([1, 2], name="i1")

    with outer.collect():
        with inner.collect():
            assert both() == 11
    assert list(outer.hyper_dict) == ["o1"] and list(inner.hyper_dict) == ["i1"]
    with outer.apply(sb.DNA(2)):
        with inner.apply(sb.DNA(1)):
            assert both() == 32


def test_contexts_are_per_thread():
    errors = []

    def run(n):
        try:
            context = sb.DynamicEvaluationContext()
            with context.collect():
                sb.one_of(list(range(10)), name="v")
            with context.apply([n]):
                assert sb.one_of(list(range(10)), name="v") == n
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_search_with_the_collected_space():
    context = sb.DynamicEvaluationContext()
    with context.collect():
        fun()
    best = None
    for _, feedback in sb.sample(context.space, sb.algorithms.Random(seed=0), num_trials=8):
        with context.apply(feedback.dna):
            value = fun()
        feedback(value)
        best = value if best is None else max(best, value)
    assert best is not None and best > 8


def test_sample_a_context_and_run_each_example_as_in_pyglove():
    def model():
        return (sb.one_of([16, 32], name="width"),
                sb.one_of([lambda: sb.int_range(1, 3, name="depth"), lambda: 0], name="block"))

    context = sb.DynamicEvaluationContext()
    with context.collect():
        model()
    seen = []
    for example, feedback in sb.sample(context, sb.algorithms.Random(seed=0), num_trials=6):
        with example():  # pg.sample(context, ...): `with example(): fn()`
            got = model()
        with context.apply(feedback.dna):
            assert model() == got
        seen.append(got)
        feedback(float(got[0]))
    assert len(seen) == 6 and {w for w, _ in seen} <= {16, 32}
    with pytest.raises(sb.SymbolicValueError, match="not called with arguments"):
        example(1)
