"""Tests of ``symbo.dsl.dna``: DNA values, numbers, dicts and validation."""

from __future__ import annotations

import json
import math

import pytest

import symbo as sb
from symbo.dsl.dna import validate

D = sb.DNA


def _space() -> sb.Dict:
    return sb.Dict(
        opt=sb.one_of(["sgd", sb.Dict(momentum=sb.float_range(0.0, 0.99, name="mom"),
                                      nest=sb.one_of([True, False]))], name="opt"),
        m=sb.many_of(2, [sb.Dict(x=sb.int_range(0, 2)), "b", sb.Dict(x=sb.one_of([5, 6]))],
                     name="m"),
        layers=[sb.int_range(1, 4), 3],
    )


@pytest.fixture
def spec() -> sb.DNASpec:
    return sb.dna_spec(_space())


# opt=1 (momentum 0.5, nest index 1), m picks candidate 0 (x=0) then candidate 2 (x index 1),
# layers[0] = 3.
NUMBERS = [1, 0.5, 1, 0, 0, 2, 1, 3]
TREE = D(None, (
    D(1, (D(0.5), D(1))),
    D(None, (D(0, (D(0),)), D(2, (D(1),)))),
    D(3),
))


def test_from_numbers_builds_the_tree_and_to_numbers_flattens_it(spec):
    dna = D.from_numbers(spec, NUMBERS)
    assert dna == TREE
    assert dna.to_numbers() == NUMBERS
    assert TREE.to_numbers() == NUMBERS
    assert dna.spec is spec


def test_from_numbers_accepts_integral_floats_as_indices(spec):
    dna = D.from_numbers(spec, [1.0, 0.5, 1.0, 0, 0, 2.0, 1, 3])
    assert dna == TREE
    assert all(type(n) is int for n in dna.to_numbers()[2:3])


def test_to_dict_is_keyed_by_name_or_id(spec):
    dna = D.from_numbers(spec, NUMBERS)
    assert dna.to_dict() == {
        "opt": 1, "mom": 0.5, "opt[=1].nest": 1,
        "m": [0, 2], "m[0][=0].x": 0, "m[1][=2].x": 1,
        "layers[0]": 3,
    }
    assert dna.to_dict(key_type="id") == {
        "opt": 1, "opt[=1].momentum": 0.5, "opt[=1].nest": 1,
        "m": [0, 2], "m[0][=0].x": 0, "m[1][=2].x": 1,
        "layers[0]": 3,
    }


def test_to_dict_with_literal_values(spec):
    dna = D.from_numbers(spec, NUMBERS)
    literal = dna.to_dict(value_type="literal")
    assert literal["opt"].startswith("{'momentum': float_range(")
    assert literal["opt[=1].nest"] == "False"
    assert literal["m"] == ["{'x': int_range(0, 2)}", "{'x': one_of([5, 6])}"]
    assert literal["m[1][=2].x"] == "6"
    assert literal["mom"] == 0.5 and literal["layers[0]"] == 3


def test_to_dict_rejects_unknown_key_and_value_types(spec):
    dna = D.from_numbers(spec, NUMBERS)
    with pytest.raises(sb.DNAError, match="key_type"):
        dna.to_dict(key_type="label")
    with pytest.raises(sb.DNAError, match="value_type"):
        dna.to_dict(value_type="text")


def test_from_dict_is_the_inverse_of_to_dict(spec):
    dna = D.from_numbers(spec, NUMBERS)
    for key_type in ("name_or_id", "id"):
        back = D.from_dict(spec, dna.to_dict(key_type=key_type))
        assert back == dna and back.spec is spec


def test_from_dict_accepts_names_and_ids_mixed(spec):
    values = {"opt": 0, "m": [1, 2], "m[1][=2].x": 0, "layers[0]": 1}
    assert D.from_dict(spec, values).to_numbers() == [0, 1, 2, 0, 1]
    values = {"opt": 1, "opt[=1].momentum": 0.25, "opt[=1].nest": 0, "m": [1, 0],
              "m[1][=0].x": 2, "layers[0]": 4}
    assert D.from_dict(spec, values).to_numbers() == [1, 0.25, 0, 1, 0, 2, 4]


def test_to_dict_needs_a_spec():
    with pytest.raises(sb.DNAError, match="no spec"):
        TREE.to_dict()
    spec = sb.dna_spec(_space())
    assert TREE.to_dict(spec=spec) == D.from_numbers(spec, NUMBERS).to_dict()
    assert TREE.use_spec(spec).to_dict() == TREE.to_dict(spec=spec)


@pytest.mark.parametrize("values, message", [
    ({"opt": 0, "m": [1, 2], "m[1][=2].x": 0}, r"missing a value for decision 'layers\[0\]'"),
    ({"opt": 0, "m": [1, 2], "m[1][=2].x": 0, "layers[0]": 1, "zz": 3}, r"unknown.*'zz'"),
    ({"opt": 0, "mom": 0.5, "m": [1, 2], "m[1][=2].x": 0, "layers[0]": 1},
     r"unknown or inactive.*'mom'"),
    ({"opt": 0, "m": [1, 2], "layers[0]": 1}, r"missing a value for decision 'm\[1\]\[=2\]\.x'"),
    ({"opt": 0, "m": 1, "layers[0]": 1}, "m: expected a list of 2 indices, got 1"),
    ({"opt": 0, "m": [1, 2, 0], "layers[0]": 1}, "m: expected 2 indices"),
    ({"opt": 2, "m": [1, 2], "m[1][=2].x": 0, "layers[0]": 1}, "opt: expected a candidate index"),
    ({"opt": 0, "m": [1, 1], "layers[0]": 1}, "m: choices must be distinct"),
    ({"opt": 0, "m": [1, 2], "m[1][=2].x": 0, "layers[0]": 9}, r"layers\[0\]: expected an int in \[1, 4\]"),
])
def test_from_dict_errors_name_the_decision(spec, values, message):
    with pytest.raises(sb.DNAError, match=message):
        D.from_dict(spec, values)


# ---- validation ------------------------------------------------------------------------------
def _simple():
    space = sb.Dict(a=sb.one_of([1, sb.Dict(x=sb.int_range(0, 3))], name="a"),
                    m=sb.many_of(2, ["p", "q", "r"], sorted=True, name="m"),
                    f=sb.float_range(0.0, 1.0))
    return sb.dna_spec(space)


GOOD = D(None, (D(1, (D(2),)), D(None, (D(0), D(2))), D(0.5)))


def _with(a=None, m=None, f=None) -> sb.DNA:
    a0, m0, f0 = GOOD.children
    return D(None, (a or a0, m or m0, f or f0))


@pytest.mark.parametrize("dna, message", [
    (D(None, (D(0),)), "DNA: expected 3 decisions, got 1"),
    (_with(a=D(2)), r"a: expected a candidate index in \[0, 1\], got 2"),
    (_with(a=D(-1)), "a: expected a candidate index"),
    (_with(a=D(0.5)), "a: expected a candidate index"),
    (_with(a=D(1)), r"a\[=1\]: expected 1 decisions, got 0"),
    (_with(a=D(0, (D(1),))), r"a\[=0\]: expected 0 decisions, got 1"),
    (_with(a=D(1, (D(4),))), r"a\[=1\]\.x: expected an int in \[0, 3\], got 4"),
    (_with(a=D(1, (D(2.0),))), r"a\[=1\]\.x: expected an int in \[0, 3\], got 2.0"),
    (_with(f=D(1.5)), r"f: expected a float in \[0.0, 1.0\], got 1.5"),
    (_with(f=D(-0.1)), "f: expected a float"),
    (_with(f=D(math.nan)), "f: expected a float"),
    (_with(f=D(math.inf)), "f: expected a float"),
    (_with(f=D(0)), r"f: expected a float in \[0.0, 1.0\], got int 0"),
    (_with(f=D(0.5, (D(1),))), "f: a range decision has no children"),
    (_with(m=D(None, (D(0), D(0)))), r"m: choices must be distinct, got \[0, 0\]"),
    (_with(m=D(None, (D(2), D(0)))), r"m: choices must be sorted, got \[2, 0\]"),
    (_with(m=D(None, (D(2),))), "m: expected 2 choices"),
    (_with(m=D(1)), "m: expected 2 choices"),
    (_with(m=D(None, (D(0), D(3)))), "m: expected a candidate index"),
])
def test_validation_errors_name_the_decision(dna, message):
    spec = _simple()
    with pytest.raises(sb.DNAError, match=message):
        validate(spec, dna)
    with pytest.raises(sb.DNAError, match=message):
        dna.use_spec(spec)


def test_valid_dna_passes_validation():
    spec = _simple()
    validate(spec, GOOD)
    assert GOOD.use_spec(spec).spec is spec
    validate(spec, _with(f=D(0.0)))


def test_validation_of_something_that_is_not_a_dna():
    with pytest.raises(sb.DNAError, match="expected a DNA, got list"):
        validate(_simple(), [1, 2])


@pytest.mark.parametrize("numbers, message", [
    ([], r"too few numbers \(0\)"),
    ([1], r"too few numbers \(1\)"),
    ([1, 2, 0], r"too few numbers \(3\)"),
    ([1, 2, 0, 2, 0.5, 7], "1 numbers left over"),
    ([5, 0, 2, 0.5], "a: expected a candidate index"),
    ([0, 0, 2, 1.5], "f: expected a float"),
    ([0, 2, 0, 0.5], "m: choices must be sorted"),
    ([0, "x", 1, 0.5], "m: expected a candidate index"),
])
def test_from_numbers_errors(numbers, message):
    with pytest.raises(sb.DNAError, match=message):
        D.from_numbers(_simple(), numbers)


def test_dna_errors_are_value_errors():
    assert issubclass(sb.DNAError, sb.SymbolicValueError)
    assert issubclass(sb.DNAError, ValueError)


# ---- value semantics ------------------------------------------------------------------------
def test_dna_is_hashable_and_compares_by_value():
    a = D(None, (D(1, (D(2),)), D(0.5)))
    b = D(None, (D(1, (D(2),)), D(0.5)))
    c = D(None, (D(1, (D(3),)), D(0.5)))
    assert a == b and hash(a) == hash(b)
    assert a != c
    assert len({a, b, c}) == 2
    assert {a: "x"}[b] == "x"


def test_the_spec_is_not_part_of_equality():
    spec = _simple()
    attached = GOOD.use_spec(spec)
    assert attached == GOOD and hash(attached) == hash(GOOD)


def test_dna_is_immutable():
    with pytest.raises(AttributeError):
        GOOD.value = 3  # type: ignore[misc]


@pytest.mark.parametrize("dna, text", [
    (D(None, ()), "DNA([])"),
    (D(None, (D(1), D(0.5))), "DNA([1, 0.5])"),
    (GOOD, "DNA([(1, 2), [0, 2], 0.5])"),
    (TREE, "DNA([(1, [0.5, 1]), [(0, 0), (2, 1)], 3])"),
    (D(3), "DNA(3)"),
    (D(1, (D(2), D(3))), "DNA((1, [2, 3]))"),
])
def test_dna_prints_in_a_short_form(dna, text):
    assert repr(dna) == text
    assert str(dna) == text


def test_printing_distinguishes_different_dna():
    spec = sb.dna_spec(sb.Dict(a=sb.one_of([1, sb.Dict(b=sb.one_of([1, 2]))]),
                               c=sb.many_of(2, [1, 2, 3], distinct=False)))
    dnas = list(sb.iterate_dna(spec))
    assert len({repr(d) for d in dnas}) == len(dnas) == spec.space_size


def test_numpy_numbers_become_python_numbers():
    np = pytest.importorskip("numpy")
    spec = sb.dna_spec(sb.Dict(a=sb.one_of([1, 2]), b=sb.int_range(0, 5),
                               c=sb.float_range(0.0, 1.0)))
    dna = D.from_numbers(spec, [np.int64(1), np.int32(3), np.float64(0.5)])
    assert dna.to_numbers() == [1, 3, 0.5]
    assert [type(n) for n in dna.to_numbers()] == [int, int, float]
    dna = D.from_dict(spec, {"a": np.int64(0), "b": np.int64(2), "c": np.float32(0.25)})
    assert [type(n) for n in dna.to_numbers()] == [int, int, float]
    with pytest.raises(sb.DNAError, match="a: expected a candidate index"):
        D.from_numbers(spec, [np.bool_(True), 1, 0.5])


# ---- params: literal values ------------------------------------------------------------------
def _params_space() -> sb.Dict:
    return sb.Dict(
        batch=sb.one_of([32, 64, 128], name="batch_size"),
        opt=sb.one_of(["sgd", sb.Dict(name="adam", beta=sb.float_range(0.8, 0.99, name="beta"))],
                      name="opt"),
        acts=sb.many_of(2, ["relu", "gelu", None], name="acts"),
        cfg=sb.one_of([sb.Dict(lr=0.1, steps=[1, 2]), (1, 1), float("nan")]),
        depth=sb.int_range(1, 8),
    )


def test_to_params_gives_literal_values_not_indices():
    spec = sb.dna_spec(_params_space())
    dna = D.from_numbers(spec, [1, 1, 0.9, 2, 0, 0, 5])
    params = dna.to_params()
    assert params == {
        "batch_size": 64, "opt": "{'name': 'adam', 'beta': float_range(0.8, 0.99, name='beta')}",
        "beta": 0.9, "acts": [None, "relu"], "cfg": {"lr": 0.1, "steps": [1, 2]}, "depth": 5,
    }
    assert dna.to_dict()["batch_size"] == 1  # to_dict stays index-based
    assert json.loads(json.dumps(params)) == params  # JSON-compatible
    other = D.from_numbers(spec, [0, 0, 2, 1, 1, 3])
    assert other.to_params()["cfg"] == "(1, 1)" and "beta" not in other.to_params()
    assert D.from_numbers(spec, [0, 0, 0, 1, 2, 3]).to_params()["cfg"] == "nan"


def test_from_params_is_the_inverse_of_to_params():
    spec = sb.dna_spec(_params_space())
    for dna in (D.from_numbers(spec, [1, 1, 0.9, 2, 0, 0, 5]),
                D.from_numbers(spec, [0, 0, 2, 1, 1, 3]),
                D.from_numbers(spec, [2, 0, 1, 0, 2, 8])):
        params = dna.to_params()
        assert D.from_params(spec, params) == dna
        assert D.from_params(spec, json.loads(json.dumps(params))) == dna


def test_from_params_accepts_integral_floats_and_tuples_for_lists():
    spec = sb.dna_spec(_params_space())
    dna = D.from_params(spec, {"batch_size": 128.0, "opt": "sgd", "acts": ("gelu", None),
                               "cfg": {"lr": 0.1, "steps": (1, 2)}, "depth": 2.0})
    assert dna.to_numbers() == [2, 0, 1, 2, 0, 2]
    with pytest.raises(sb.DNAError, match="'sgd'. is not one of"):  # plain data: no text form
        D.from_params(spec, {**dna.to_params(), "opt": "'sgd'"})


def test_from_params_accepts_the_candidates_themselves():
    import functools

    space = sb.Dict(pad=sb.one_of([(0, 0), (1, 1)], name="pad"),
                    fn=sb.one_of([abs, functools.partial(round, ndigits=2)], name="fn"),
                    cls=sb.one_of([dict, list], name="cls"),
                    opt=sb.one_of(["sgd", sb.Dict(name="adam", beta=sb.float_range(0.8, 0.9))]))
    spec = sb.dna_spec(space)
    by_value = D.from_params(spec, {"pad": (1, 1), "fn": functools.partial(round, ndigits=2),
                                    "cls": list, "opt": "sgd"})
    assert by_value.to_params() == {"pad": "(1, 1)", "fn": "partial(builtins.round, ndigits=2)",
                                    "cls": "builtins.list", "opt": "sgd"}
    assert D.from_params(spec, by_value.to_params()) == by_value
    with pytest.raises(sb.DNAError, match=r"pad: \[1, 1\] is not one of"):  # a list is no tuple
        D.from_params(spec, {**by_value.to_params(), "pad": [1, 1]})
    with pytest.raises(sb.DNAError, match="cls: 'list' is not one of"):
        D.from_params(spec, {**by_value.to_params(), "cls": "list"})


@pytest.mark.parametrize("params, message", [
    ({"batch_size": 48}, r"batch_size: 48 is not one of the candidates \[32, 64, 128\]"),
    ({"batch_size": "64"}, "batch_size: '64' is not one of the candidates"),
    ({"depth": 9}, r"depth: expected an int in \[1, 8\], got 9"),
    ({"depth": 2.5}, r"depth: expected an int in \[1, 8\], got 2.5"),
    ({"beta": 1.5}, r"beta: expected a float in \[0.8, 0.99\], got 1.5"),
    ({"acts": "relu"}, "acts: expected a list of 2 values"),
    ({"acts": ["relu", "relu"]}, "choices must be distinct"),
    ({"nope": 1}, r"unknown or inactive decision\(s\) \['nope'\]"),
])
def test_from_params_errors_name_the_decision(params, message):
    spec = sb.dna_spec(_params_space())
    good = {"batch_size": 64, "opt": "{'name': 'adam', 'beta': float_range(0.8, 0.99, "
            "name='beta')}", "beta": 0.9, "acts": ["relu", "gelu"], "cfg": "(1, 1)", "depth": 3}
    D.from_params(spec, good)
    with pytest.raises(sb.DNAError, match=message):
        D.from_params(spec, {**good, **params})


def test_from_params_refuses_missing_and_inactive_decisions():
    spec = sb.dna_spec(_params_space())
    with pytest.raises(sb.DNAError, match="missing a value for decision 'depth'"):
        D.from_params(spec, {"batch_size": 64, "opt": "sgd", "acts": ["relu", "gelu"],
                             "cfg": "(1, 1)"})
    with pytest.raises(sb.DNAError, match=r"inactive decision\(s\) \['beta'\]"):
        D.from_params(spec, {"batch_size": 64, "opt": "sgd", "beta": 0.9,
                             "acts": ["relu", "gelu"], "cfg": "(1, 1)", "depth": 3})
    with pytest.raises(sb.DNAError, match="params are a dict"):
        D.from_params(spec, [64])
    with pytest.raises(sb.DNAError, match=r"missing a value for decision 'batch_size'; unknown "
                       r"decision\(s\) \['batchsize'\] \(this space's: \['acts', 'batch_size'"):
        D.from_params(spec, {"batchsize": 64, "opt": "sgd", "acts": ["relu", "gelu"], "depth": 3})
