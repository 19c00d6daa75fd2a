"""PyGlove's inspection features (issue 14): ``query`` with a parent-aware ``where`` and
``custom_selector``, ``KeyPath.query``, ``diff`` with ``collapse`` and ``mode``, falsy Diffs."""

from typing import Any

import pytest

import symbo as sb


class A(sb.Object):
    x: Any = 0
    y: Any = None


class B(sb.Object):
    x: Any
    y: Any


class C(B):
    pass


class D(sb.Object):
    x: Any
    y: Any


VALUE = sb.Dict(a1=A(x=0, y=1), a2=[A(x=1, y=1), A(x=1, y=2)],
                a3=sb.Dict(p=A(x=2, y=1), q=A(x=2, y=2)))


# ---- query ---------------------------------------------------------------------------------------
def test_query_by_value_and_parent():
    assert sb.query(VALUE, r".*y", where=lambda v, p: v > 1 and isinstance(p, A) and p.x == 1) \
        == {"a2[1].y": 2}
    assert sb.query(VALUE, where=lambda v: v == 2) == {
        "a2[1].y": 2, "a3.p.x": 2, "a3.q.x": 2, "a3.q.y": 2}


def test_query_custom_selector_with_parent_or_without():
    three = sb.query(VALUE, custom_selector=lambda k, v, p: len(k) == 3 and isinstance(p, A)
                     and p.x == v)
    assert three == {"a2[0].x": 1, "a2[0].y": 1, "a2[1].x": 1, "a3.p.x": 2, "a3.q.x": 2,
                     "a3.q.y": 2}
    two = sb.query(VALUE, custom_selector=lambda k, v: k == "a3.p")
    assert list(two) == ["a3.p"]


def test_query_rejects_functions_of_the_wrong_shape():
    with pytest.raises(sb.SymbolicTypeError, match="where must take"):
        sb.query(VALUE, where=lambda a, b, c: True)
    with pytest.raises(sb.SymbolicTypeError, match="custom_selector must take"):
        sb.query(VALUE, custom_selector=lambda k: True)


def test_query_full_matches_paths_and_enter_selected():
    # A deliberate difference from PyGlove: path_regex must match the whole path.
    assert list(sb.query(VALUE, r"a3")) == ["a3"]
    assert list(sb.query(VALUE, r"a3.*", enter_selected=False)) == ["a3"]


# ---- KeyPath.query -------------------------------------------------------------------------------
def test_keypath_query_get_exists():
    path = sb.KeyPath.parse("a2[1].y")
    assert path.query(VALUE) == 2 and path.exists(VALUE)
    assert sb.KeyPath.parse("a[0].b").query({"a": [{"b": 3}]}) == 3
    assert sb.KeyPath().query(VALUE) is VALUE
    with pytest.raises(KeyError, match=r"no key 'z' in the A at a2\[1\]"):
        sb.KeyPath.parse("a2[1].z").query(VALUE)
    with pytest.raises(sb.SymbolicKeyError, match="no key 5"):
        sb.KeyPath.parse("a2[5]").query(VALUE)
    assert sb.KeyPath.parse("a2[5]").get(VALUE, "none") == "none"
    assert not sb.KeyPath.parse("nope").exists(VALUE)


# ---- Diff ----------------------------------------------------------------------------------------
def test_diff_is_true_only_when_the_sides_differ():
    assert bool(sb.Diff(1, 2)) and bool(sb.Diff(A, B)) and bool(sb.Diff(A(1), A(2)))
    assert not sb.Diff() and not sb.Diff(1, 1) and not sb.Diff(A, A) and not sb.Diff(A(1), A(1))
    assert sb.Diff(1, 1) == 1 and sb.Diff(1, 1) == sb.Diff(1, 1) and sb.Diff(1, 1) != 2
    assert sb.Diff(1, 1) != sb.Diff(1, 2) and sb.Diff(1, 1).value == 1
    assert sb.Diff(1, 2).is_leaf and len({sb.Diff(1, 1), sb.Diff(1, 1)}) == 1
    with pytest.raises(sb.SymbolicValueError, match="'value' cannot be read"):
        sb.Diff(1, 2).value  # noqa: B018
    assert repr(sb.Diff(B, C)) == "Diff(left=B, right=C)"


# ---- diff ----------------------------------------------------------------------------------------
def test_diff_simple_values_and_modes():
    assert sb.diff(1, 1) == {}
    assert sb.diff(1, 1, mode="same") == {"": sb.Diff(1, 1)}
    assert sb.diff(1, 2) == {"": sb.Diff(1, 2)} and sb.diff(1, 2, mode="same") == {}
    assert sb.diff(1, 2, mode="both") == {"": sb.Diff(1, 2)}
    with pytest.raises(sb.SymbolicValueError, match="diff mode must be one of"):
        sb.diff(1, 2, mode="all")


def test_diff_lists_and_dicts():
    assert sb.diff([A(1)], [A(1)]) == {}
    assert sb.diff([A(1)], [A(0)]) == {"[0].x": sb.Diff(1, 0)}
    assert sb.diff([A(1)], 1) == {"": sb.Diff([A(1)], 1)}
    assert sb.diff({"a": A(1), "b": A(2), "c": A(3)}, {"a": A(1), "b": A(3), "d": A(4)}) == {
        "b.x": sb.Diff(2, 3), "c": sb.Diff(A(3), sb.MISSING), "d": sb.Diff(sb.MISSING, A(4))}
    assert sb.diff(A(Dict_ := sb.Dict(a=1, b=2, c=3)), A(sb.Dict(a=1, b=3, d=4))) == {
        "x.b": sb.Diff(2, 3), "x.c": sb.Diff(3, sb.MISSING), "x.d": sb.Diff(sb.MISSING, 4)}
    assert Dict_.a == 1


def test_diff_objects_of_different_classes_with_and_without_collapse():
    assert sb.diff(B(1, 2), C(1, 2)) == {"": sb.Diff(B(1, 2), C(1, 2))}
    assert sb.diff(B(1, 2), C(1, 2), collapse=True) == {"_type": sb.Diff(B, C)}
    assert sb.diff(B(1, 2), C(1, 3), collapse=True) == {"y": sb.Diff(2, 3), "_type": sb.Diff(B, C)}
    assert sb.diff(A(1), {"x": 1}) == {"": sb.Diff(A(1), {"x": 1})}
    assert sb.diff(A(1), {"x": 2}, collapse=True) == {
        "x": sb.Diff(1, 2), "y": sb.Diff(None, sb.MISSING), "_type": sb.Diff(A, dict)}
    same = sb.diff(A(A(1)), sb.Dict(x=sb.Dict(x=1)), collapse=True)
    assert same["_type"] == sb.Diff(A, sb.Dict) and same["x._type"] == sb.Diff(A, sb.Dict)
    assert sb.diff(B(1, 2), B(1, 3), collapse=False) == {"": sb.Diff(B(1, 2), B(1, 3))}


def test_diff_collapse_function():
    def related(x, y):
        return issubclass(type(x), type(y)) or issubclass(type(y), type(x))

    assert sb.diff(B(1, 2), C(1, 2), collapse=related) == {"_type": sb.Diff(B, C)}
    assert sb.diff(B(1, 2), C(1, 3), collapse=related) == {
        "y": sb.Diff(2, 3), "_type": sb.Diff(B, C)}
    assert sb.diff(B(1, 2), D(1, 3), collapse=related) == {"": sb.Diff(B(1, 2), D(1, 3))}
    with pytest.raises(sb.SymbolicValueError, match="unsupported collapse value"):
        sb.diff(B(1, 2), C(1, 2), collapse="sometimes")


def test_diff_modes_on_objects():
    assert sb.diff(A(1), A(1), mode="same") == {"": sb.Diff(A(1), A(1))}
    assert sb.diff(A(1), A(1), mode="both") == {"": sb.Diff(A(1), A(1))}
    assert sb.diff(B(1, 2), B(1, 3)) == {"y": sb.Diff(2, 3)}
    assert sb.diff(B(1, 2), B(1, 3), mode="same") == {"x": sb.Diff(1, 1)}
    assert sb.diff(B(1, 2), B(2, 2), mode="both") == {"x": sb.Diff(1, 2), "y": sb.Diff(2, 2)}
    assert sb.diff(B(1, 2), C(1, 2), collapse=True, mode="same") == {
        "x": sb.Diff(1, 1), "y": sb.Diff(2, 2), "_type": sb.Diff(B, C)}
    assert sb.diff(B(1, 2), C(1, 3), collapse=True, mode="both") == {
        "x": sb.Diff(1, 1), "y": sb.Diff(2, 3), "_type": sb.Diff(B, C)}
    assert all(not d for d in sb.diff(B(1, 2), B(1, 3), mode="same").values())
