"""Tests of ``symbo.core.compare``: structural eq, hash and diff."""

import math

import symbo as sb
from symbo.core.compare import Diff


class Point(sb.Object):
    x: int = 0
    y: int = 0


class OtherPoint(sb.Object):
    x: int = 0
    y: int = 0


class Shape(sb.Object):
    points: list[Point] = []
    name: str = ""
    meta: dict = {}


def test_eq_is_structural():
    assert sb.eq(Point(1, 2), Point(1, 2))
    assert not sb.eq(Point(1, 2), Point(1, 3))
    assert sb.eq(Shape(points=[Point(1)]), Shape(points=[Point(1)]))
    assert not sb.eq(Shape(points=[Point(1)]), Shape(points=[Point(2)]))


def test_eq_needs_the_same_class():
    assert not sb.eq(Point(1, 2), OtherPoint(1, 2))
    assert sb.hash(Point(1, 2)) != sb.hash(OtherPoint(1, 2))


def test_eq_distinguishes_int_float_and_bool():
    assert not sb.eq(1, 1.0)
    assert not sb.eq(1, True)
    assert not sb.eq(sb.List([1]), sb.List([1.0]))
    assert not sb.eq(sb.Dict(a=0), sb.Dict(a=False))
    assert sb.eq(1.5, 1.5) and sb.eq("a", "a") and sb.eq(None, None)


def test_nan_equals_nan_in_trees():
    assert sb.eq(float("nan"), float("nan"))
    a, b = sb.Dict(x=math.nan), sb.Dict(x=math.nan)
    assert sb.eq(a, b) and sb.hash(a) == sb.hash(b)


def test_symbolic_containers_equal_plain_ones():
    assert sb.eq(sb.List([1, [2]]), [1, [2]])
    assert sb.eq([1, [2]], sb.List([1, [2]]))
    assert sb.eq(sb.Dict(a={"b": 1}), {"a": {"b": 1}})
    assert not sb.eq(sb.List([1]), (1,))
    assert not sb.eq(sb.List([1]), sb.Dict())
    assert not sb.eq(Point(), {"x": 0, "y": 0})


def test_dict_equality_ignores_key_order_and_hash_agrees():
    a, b = sb.Dict(x=1, y=2), sb.Dict(y=2, x=1)
    assert sb.eq(a, b) and sb.hash(a) == sb.hash(b)


def test_tuples():
    assert sb.eq((1, (2, "a")), (1, (2, "a")))
    assert not sb.eq((1, 2), (1, 2.0))
    assert not sb.eq((1, 2), [1, 2])
    assert sb.hash((1, 2)) == sb.hash((1, 2))


def test_hash_agrees_with_eq_for_clones_and_rebuilt_values():
    s = Shape(points=[Point(1, 2), Point(3)], name="s", meta={"k": [1, 2]})
    c = sb.clone(s)
    assert sb.eq(s, c) and sb.hash(s) == sb.hash(c)
    r = Shape(points=[Point(1, 2), Point(3)], name="s", meta={"k": [1, 2]})
    assert sb.hash(s) == sb.hash(r)
    c.rebind({"points[1].y": 5})
    assert not sb.eq(s, c)
    assert sb.hash(s) != sb.hash(c)


def test_hash_tracks_edits():
    p = Point()
    h = sb.hash(p)
    p.rebind(x=1)
    assert sb.hash(p) != h
    p.rebind(x=0)
    assert sb.hash(p) == h


def test_hash_of_unhashable_leaves():
    class Bag(sb.Object):
        thing: object = None

    a, b = Bag(thing={1, 2}), Bag(thing={1, 2})
    assert sb.eq(a, b) and sb.hash(a) == sb.hash(b)


def test_eq_of_leaves_that_refuse_comparison():
    class Weird:
        def __eq__(self, other):
            raise ValueError("ambiguous")

        __hash__ = object.__hash__

    w = Weird()
    assert sb.eq(w, w)
    assert not sb.eq(Weird(), Weird())


def test_diff_lists_leaf_differences():
    a = Shape(points=[Point(1, 2)], name="a")
    b = Shape(points=[Point(1, 3)], name="b")
    d = sb.diff(a, b)
    assert d == {"points[0].y": Diff(2, 3), "name": Diff("a", "b")}
    assert all(isinstance(k, sb.KeyPath) for k in d)
    assert sb.diff(a, sb.clone(a)) == {}


def test_diff_reports_missing_keys_and_items():
    d = sb.diff(sb.Dict(a=1, b=[1, 2]), sb.Dict(b=[1], c=3))
    assert d == {
        "a": Diff(1, sb.MISSING),
        "b[1]": Diff(2, sb.MISSING),
        "c": Diff(sb.MISSING, 3),
    }


def test_diff_reports_different_types_whole():
    a = sb.Dict(p=Point(1))
    b = sb.Dict(p=OtherPoint(1))
    d = sb.diff(a, b)
    assert list(d) == ["p"]
    assert d["p"].left is a.p and d["p"].right is b.p
    assert sb.diff(1, 1.0) == {"": Diff(1, 1.0)}


def test_diff_repr():
    assert repr(sb.diff(sb.Dict(x=1), sb.Dict(x=2))) == "{KeyPath('x'): Diff(left=1, right=2)}"
