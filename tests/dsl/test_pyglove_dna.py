"""PyGlove's DNA features (issue 14): validation, literals, reduction, tree links, iteration,
order, nested numbers, navigation by name, and enumeration from any point."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symbo as sb

D = sb.DNA


# ---- bug 7: validation and literals -------------------------------------------------------------
def test_dna_refuses_values_that_are_not_decisions():
    for bad in (ValueError(), True, object(), b"x", {1: 2}):
        with pytest.raises(sb.SymbolicTypeError, match="a DNA value is an int, float, str"):
            D(bad)
    with pytest.raises(sb.SymbolicTypeError, match="DNA children are"):
        D(1, [object()])
    with pytest.raises(sb.DNAError, match="'children' .* must be empty when 'value'"):
        D([1, 2], [D(1)])
    with pytest.raises(sb.DNAError, match="at least 2 decisions"):
        D((1,))
    with pytest.raises(sb.DNAError, match="only the last item may be a list"):
        D([(1, [1, 2], 3)])


def test_literal_forms_equal_the_explicit_ones():
    assert D([1, 2]) == D(None, (D(1), D(2)))
    assert D((1, 1)) == D(1, (D(1),))
    assert D((1, 2, [3, 4])) == D(1, (D(2, (D(3), D(4))),))
    assert D([(1, [2, (3, 4)]), 5, (6, [7, 8])]) == D(None, (
        D(1, (D(2), D(3, (D(4),)))), D(5), D(6, (D(7), D(8)))))
    assert hash(D([1, 2])) == hash(D(None, (D(1), D(2))))
    assert len({D([1, 2]), D(None, [D(1), D(2)])}) == 1
    assert D(1, [2, 3]) == D(1, (D(2), D(3)))  # children may be literals too
    assert repr(D([1, 2])) == repr(D(None, (D(1), D(2)))) == "DNA([1, 2])"


def test_numpy_numbers_become_python_numbers():
    np = pytest.importorskip("numpy")
    dna = D(np.int64(3), [D(np.float32(0.5))])
    assert type(dna.value) is int and type(dna.children[0].value) is float


def test_redundant_levels_are_reduced_in_equality():
    assert D(None, [D(None, [D(None, [D(1)])])]) == D(1)
    assert D(None, [D(None, [D(None, [D(1), D("abc")])])]) == D(None, [D(1), D("abc")])
    tree = D(None, [D(1), D(None, [D(2), D(None, [D(3)])])])
    assert tree == D(None, [D(1), D(None, [D(2), D(None, [D(3)])])])
    assert hash(D(None, (D(1),))) == hash(D(1))
    assert D(None, (D(1),)) != D(2)


def test_reduced_dna_is_accepted_where_a_spec_is_given():
    space = sb.Dict(a=sb.one_of([1, 2, 3]))
    spec = sb.dna_spec(space)
    assert sb.materialize(space, D(2)) == {"a": 3}
    assert D(1).use_spec(spec).children == (D(1),) and D(1).to_params(spec) == {"a": 2}
    nested = sb.Dict(x=sb.one_of([sb.Dict(m=sb.many_of(2, [1, 2, 3])), 0]), y=sb.one_of([4, 5]))
    program = sb.materialize(nested, D([(0, [1, 2]), 1]))  # the many_of's picks, flattened
    assert program == {"x": {"m": [2, 3]}, "y": 5}
    with pytest.raises(sb.DNAError, match=r"a: expected a candidate index in \[0, 2\], got 7"):
        sb.materialize(space, D(7))


# ---- tree links, iteration, containment ---------------------------------------------------------
def test_parent_dna_root_iteration_and_containment():
    dna = D(1, [D(2), D(3.0), D("abc")])
    assert dna.value == 1 and len(dna.children) == 3 and dna.spec is None
    assert dna.parent_dna is None and dna.children[0].parent_dna is dna
    assert dna.root is dna and dna.children[0].root is dna
    assert [c.value for c in dna] == [2, 3.0, "abc"]
    assert 2 in dna and 3.0 in dna and "abc" in dna and D(2) in dna
    assert 0.1 not in dna and "foo" not in dna
    with pytest.raises(sb.DNAError, match="'in' a DNA takes"):
        (1, 1) in dna  # noqa: B015
    assert not dna.is_leaf and dna.children[0].is_leaf


def test_order():
    assert D(None) < D(0) < D(1)
    assert D([0, 1, 2]) < D([0, 2, 1])
    assert D((0, "abc")) < D((0, "abd")) and D((0, 1)) < D((0, "abd"))
    assert D([0, 1]) < D(0) and D((0, 0, 0)) < D((0, 0, 1, 0))
    assert D(1) > D(0) and D([0, 2, 1]) > D([0, 1, 2]) and D(0) >= D(0) and D(0) <= D(0)
    assert sorted([D(2), D(0), D(1)]) == [D(0), D(1), D(2)]
    with pytest.raises(sb.DNAError, match="different numbers of children"):
        D((0, 0, 0)) < D((0, 0, 0, 0))  # noqa: B015


def test_to_numbers_flat_and_nested():
    assert D(None).to_numbers() == [] and D(None).to_numbers(flatten=False) == []
    assert D(1).to_numbers() == [1] and D(1).to_numbers(flatten=False) == 1
    assert D(0.5).to_numbers(flatten=False) == 0.5
    assert D((0, [1, 2])).to_numbers(flatten=False) == (0, [1, 2])
    assert D([(0, 1), 2, (3, [4, 0.5])]).to_numbers() == [0, 1, 2, 3, 4, 0.5]
    literal = [(0, 1), "abc", (3, [4, 0.5])]
    assert D(literal).to_numbers(flatten=False) == literal and D(D(literal).to_numbers(False))


# ---- navigation by name and id ------------------------------------------------------------------
SPACE = sb.Dict(
    a=sb.one_of([sb.Dict(b=sb.many_of(2, [sb.Dict(c=sb.one_of(["x", "y"])),
                                          sb.float_range(0.0, 1.0)], name="y")),
                 "plain"], name="x"),
    d=sb.float_range(-1.0, 1.0, name="z"),
    e=sb.many_of(2, ["p", "q", "r"], name="q"),
)


def test_getitem_by_index_name_id_and_decision_point():
    spec = sb.dna_spec(SPACE)
    dna = D.from_numbers(spec, [0, 0, 1, 1, 0.5, -0.5, 0, 1])
    assert dna[0] == dna.children[0]
    with pytest.raises(IndexError):
        dna[3]  # noqa: B018
    assert dna["x"] == D((0, [(0, 1), (1, 0.5)])) and dna["a"] == dna["x"]
    assert dna["y"] == [D((0, 1)), D((1, 0.5))] and dna["y"][0].root is dna
    assert dna["z"] == D(-0.5) and dna["d"] == D(-0.5)
    assert dna["q"] == [D(0), D(1)] and dna["e[1]"] == D(1)
    assert dna["a[=0].b[0][=0].c"] == D(1) and dna["a[=0].b[1][=1]"] == D(0.5)
    assert dna["a[=0].b[0]"] == D((0, 1))
    assert dna[spec["z"]] == D(-0.5)
    other = D.from_numbers(spec, [1, -0.5, 0, 1])
    assert other["y"] is None and other.get("y", "none") is None and other.get("nope") is None
    with pytest.raises(KeyError, match="no decision named or with id 'nope'"):
        other["nope"]  # noqa: B018
    with pytest.raises(sb.DNAError, match="has no spec"):
        D(1)["x"]  # noqa: B018


# ---- enumeration ---------------------------------------------------------------------------------
def test_first_dna_next_dna_and_iterate_from_a_start():
    spec = sb.dna_spec(sb.Dict(a=sb.one_of([1, 2]), b=sb.one_of(["x", "y", "z"])))
    assert spec.first_dna() == D([0, 0]) and spec.first_dna().spec is spec
    assert spec.next_dna(D([0, 2])) == D([1, 0]) and spec.next_dna(D([1, 2])) is None
    assert spec.next_dna() == spec.first_dna()
    dna = D([1, 0]).use_spec(spec)
    assert dna.next_dna() == D([1, 1]) and list(dna.iter_dna()) == [D([1, 1]), D([1, 2])]
    assert list(sb.iterate_dna(spec, D([1, 1]))) == [D([1, 1]), D([1, 2])]
    with pytest.raises(sb.DNAError, match="has no spec"):
        D(1).next_dna()
    continuous = sb.dna_spec(sb.Dict(f=sb.float_range(0.0, 1.0)))
    with pytest.raises(sb.SymbolicValueError, match=r"continuous decisions \(f\)"):
        continuous.first_dna()


_leaf = st.one_of(st.integers(0, 3), st.sampled_from(["s", "t"]))


@st.composite
def _spaces(draw, depth=2):
    """Small finite spaces: one_of/many_of (distinct, sorted or not) and int ranges, nested."""
    items = {}
    for i in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["one_of", "many_of", "int"] if depth else ["int", "one_of"]))
        if kind == "int":
            low = draw(st.integers(0, 2))
            items[f"k{i}"] = sb.int_range(low, low + draw(st.integers(1, 2)))
        else:
            n = draw(st.integers(2, 3))
            cands = [draw(_spaces(depth - 1)) if depth and draw(st.booleans()) else draw(_leaf)
                     for _ in range(n)]
            if kind == "one_of":
                items[f"k{i}"] = sb.one_of(cands)
            else:
                distinct = draw(st.booleans())
                items[f"k{i}"] = sb.many_of(2, cands, distinct=distinct,
                                            sorted=draw(st.booleans()))
    return sb.Dict(items)


@settings(max_examples=60, deadline=None)
@given(_spaces())
def test_iterating_from_first_dna_visits_space_size_points_in_order(space):
    spec = sb.dna_spec(space)
    if spec.space_size > 3000:
        return
    expected = list(sb.iterate_dna(spec))
    walked = list(sb.iterate_dna(spec, spec.first_dna()))
    assert len(walked) == spec.space_size == len(expected)
    assert walked == expected
    assert len(set(walked)) == len(walked)


# ---- bug 5: a float decision refuses int DNA values ----------------------------------------------
def test_float_decision_refuses_an_int_dna_value():
    space = sb.Dict(lr=sb.float_range(0.0, 2.0))
    spec = sb.dna_spec(space)
    with pytest.raises(sb.DNAError, match=r"lr: expected a float in \[0.0, 2.0\], got int 1"):
        sb.materialize(space, D([1]))
    with pytest.raises(sb.DNAError, match="got int 1"):
        D.from_numbers(spec, [1])
    program = sb.materialize(space, D([1.0]))
    assert type(program.lr) is float
    assert sb.DNA.from_params(spec, {"lr": 1}).children[0].value == 1.0  # params convert
    assert type(sb.materialize(space, sb.random_dna(spec, seed=0)).lr) is float
