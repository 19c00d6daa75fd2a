"""PyGlove's symbolic-object features (issue 14): partial/missing values, attribute access by
key, containment, a leaf's own ``sym_eq``, the symbolic order, ancestors and descendants, root
paths, dynamic keyword fields, frozen fields, overriding defaults, parent/path hooks."""

import math
import typing
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import symbo as sb


class A(sb.Object):
    x: Any
    y: int | None = None


class Req(sb.Object):
    x: int


# ---- partial and missing values -----------------------------------------------------------------
def test_sym_partial_and_sym_missing():
    a = Req.partial()
    assert a.sym_partial and a.sym_missing() == {"x": sb.MISSING}
    a.rebind(x=1)
    assert not a.sym_partial and a.sym_missing() == {}


def test_sym_missing_nested_flattened_and_not():
    tree = sb.Dict(a=[Req.partial(), 1], b=A(Req.partial()))
    assert tree.sym_missing() == {"a[0].x": sb.MISSING, "b.x.x": sb.MISSING}
    assert tree.sym_missing(flatten=False) == {"a": {0: {"x": sb.MISSING}},
                                               "b": {"x": {"x": sb.MISSING}}}
    assert tree.sym_partial and not sb.Dict(a=1).sym_partial


def test_functor_unbound_arguments_are_not_missing():
    @sb.symbolize
    def f(x, y, z=1):
        return x + y + z

    assert f.partial(1).sym_missing() == {} and not f(1).sym_partial
    assert f(x=Req.partial()).sym_missing() == {"x.x": sb.MISSING}


def test_markers_are_not_missing():
    assert sb.Dict(a=sb.one_of([1, 2])).sym_missing() == {}


# ---- attributes by key --------------------------------------------------------------------------
def test_sym_hasattr_and_sym_getattr():
    class WithDerived(sb.Object):
        x: Any

        def _on_bound(self):
            self._y = 1

    a = WithDerived(1)
    assert a.sym_hasattr("x") and not a.sym_hasattr("_y") and not a.sym_hasattr("nope")
    assert a.sym_getattr("x") == 1 and a.sym_getattr("nope", "dflt") == "dflt"
    with pytest.raises(AttributeError, match="has no symbolic attribute 'nope'"):
        a.sym_getattr("nope")
    with pytest.raises(KeyError):
        a.sym_getattr("nope")
    xs = sb.List([1, 2])
    assert xs.sym_hasattr(1) and not xs.sym_hasattr(2) and xs.sym_getattr(-1) == 2
    d = sb.Dict(a=1)
    assert d.sym_hasattr("a") and not d.sym_hasattr("b") and d.sym_getattr("b", None) is None


# ---- containment ---------------------------------------------------------------------------------
def test_sym_contains_value_and_type():
    a = A(dict(y=[dict(z=1)]))
    assert a.sym_contains(value=1) and not a.sym_contains(value=2)
    assert a.sym_contains(type=int) and not a.sym_contains(type=str)
    assert a.sym_contains(type=(str, sb.Dict)) and a.sym_contains(value={"z": 1})
    assert sb.contains(a, type=A) and not sb.contains(a, value=A(1))


# ---- a leaf's own sym_eq -------------------------------------------------------------------------
class Y:
    def __init__(self, value):
        self.value = value

    def sym_eq(self, other):
        return (isinstance(other, Y) and self.value == other.value) or self.value == other


def test_eq_honours_a_leaf_sym_eq_on_either_side():
    assert sb.eq(A(Y(1)), A(1)) and sb.eq(A(1), A(Y(1)))
    assert sb.eq(Y(1), Y(1)) and not sb.eq(Y(1), Y(2))
    assert A(Y(1)) == A(1)                      # Object.__eq__ is sb.eq
    assert sb.eq(sb.List([Y(3)]), [3]) and sb.eq(sb.Dict(k=Y(3)), {"k": 3})
    assert Y(1) != 1                             # plain Python equality is untouched


def test_symbolic_class_overriding_sym_eq_decides_its_equality():
    class Loose(sb.Object):
        x: Any

        def sym_eq(self, other):
            return super().sym_eq(other) or sb.eq(self.x, other)

    assert sb.eq(Loose(1), 1) and sb.eq(1, Loose(1)) and sb.eq(Loose(1), Loose(1))
    assert not sb.eq(Loose(1), 2)
    assert sb.eq(sb.List([Loose(1)]), sb.List([1]))


def test_objects_of_plain_classes_compare_by_identity_inside_trees():
    class B:
        pass

    assert not sb.eq(A(B()), A(B()))
    b = B()
    assert sb.eq(A(b), A(b))


# ---- the symbolic order --------------------------------------------------------------------------
class X:
    def __init__(self, value):
        self.value = value

    def __lt__(self, other):
        return isinstance(other, X) and self.value < other.value


@pytest.mark.parametrize("other", [sb.MISSING, None, True, 1, 2.0, "abc", [], (), set(), {}])
def test_an_object_sorts_after_plain_values(other):
    assert not A(1).sym_lt(other) and A(1).sym_gt(other)
    assert sb.lt(other, A(1)) and sb.gt(A(1), other)


def test_objects_of_one_class_sort_by_their_fields():
    assert A(None).sym_lt(A(0)) and A(0).sym_lt(A(1)) and A(0).sym_lt(A(0, 1))
    assert A(0, 1).sym_lt(A(1)) and A(X(0)).sym_lt(A(X(1)))
    assert not A(0).sym_lt(A(0)) and not A(1).sym_lt(A(0)) and not A(0, 1).sym_lt(A(0))
    assert not A(1).sym_lt(A(0, 1)) and not A(X(1)).sym_lt(A(X(0)))
    assert A(1).sym_gt(A(0)) and A(0, 1).sym_gt(A(0)) and A(X(1)).sym_gt(A(X(0)))

    class Z:
        pass

    assert A(1).sym_lt(Z()) and not A(0).sym_gt(Z())   # other classes: by qualified name


def test_containers_sort_by_first_difference_then_length():
    assert sb.lt(["a"], ["a", "b"]) and sb.lt(["a", "b", "c"], ["b"])
    assert sb.lt({"x": 1}, {"x": 2}) and sb.lt({"x": 1}, {"y": 1})
    assert sb.Dict().sym_lt(sb.Dict(a=0)) and sb.Dict(a=0, b=1).sym_lt(sb.Dict(a=1))
    assert not sb.Dict(a=1).sym_lt(sb.Dict(a=0, b=1)) and sb.Dict(b=0).sym_gt(sb.Dict(a=0))
    assert sb.List([1]).sym_lt(sb.List([1, 0])) and sb.List([2]).sym_gt([1, 5])
    assert sb.lt([], A(1)) and sb.lt(sb.MISSING, None) and sb.lt(1, "abc")
    # equal numbers of different types are not eq, so they are ordered: bool, int, float
    assert sb.lt(sb.List([False]), sb.List([0])) and sb.lt(0, 0.0) and sb.lt(True, 1.0)
    assert not sb.eq(True, 1.0) and sb.lt(1e9, math.nan) and not sb.lt(math.nan, 0.0)


_values = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.sampled_from([0.0, 1.0, -1.5, math.nan])
    | st.text("ab", max_size=2),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.sampled_from("xyz"), children, max_size=2),
    max_leaves=6,
)


@given(_values, _values)
@example({"x": False, "y": False}, {"y": False, "x": False})  # key order is not an order
def test_lt_is_antisymmetric_and_consistent_with_eq(a, b):
    left, right = sb.from_json(a), sb.from_json(b)
    assert not (sb.lt(left, right) and sb.lt(right, left))
    if sb.eq(left, right):
        assert not sb.lt(left, right) and not sb.gt(left, right)
    else:
        assert sb.lt(left, right) or sb.gt(left, right)


# ---- ancestors, descendants, paths ---------------------------------------------------------------
def test_sym_ancestor():
    a = A(dict(x=A([A(1)])))
    assert a.x.sym_ancestor() is a
    assert a.x.sym_ancestor(lambda n: isinstance(n, A)) is a
    assert a.x.sym_ancestor(lambda n: isinstance(n, int)) is None
    assert a.x.x.x[0].sym_ancestor(lambda n: isinstance(n, A)) is a.x.x
    assert a.x.x.x[0].sym_ancestor(lambda n: isinstance(n, list)) is a.x.x.x
    assert a.x.x.x[0].sym_ancestor(lambda n: isinstance(n, dict)) is a.x


def test_sym_descendants_all_immediate_leaf():
    a = A(x=[A(1, 2), A(A(3))], y=4)
    is_a = lambda v: isinstance(v, A)  # noqa: E731
    assert a.sym_descendants(is_a) == [a.x[0], a.x[1], a.x[1].x]
    assert a.sym_descendants(is_a, option="immediate") == [a.x[0], a.x[1]]
    assert a.sym_descendants(is_a, option=sb.DescendantQueryOption.LEAF) == [a.x[0], a.x[1].x]
    assert a.sym_descendants(is_a, include_self=True)[0] is a
    ints = a.sym_descendants(lambda v: isinstance(v, int))
    assert ints == [1, 2, 3, 4]
    assert len(a.sym_descendants()) == len(sb.query(a)) - 1


def test_sym_setpath_sets_a_root_path_for_the_whole_tree():
    a = A(dict(x=A([A(1)])))
    a.sym_setpath(sb.KeyPath.parse("a"))
    assert a.sym_path == "a" and a.x.x.sym_path == "a.x.x" and a.x.x.x[0].sym_path == "a.x.x.x[0]"
    a.sym_setpath("")
    assert a.x.sym_path == "x"
    with pytest.raises(sb.SymbolicValueError, match="only a root's path can be set"):
        a.x.sym_setpath("b")
    holder = sb.Dict(k=a)  # attaching replaces the root path with the parent's
    assert holder.k.x.sym_path == "k.x"


def test_parent_and_path_change_hooks():
    class Hooked(sb.Object):
        v: int = 0

        def _on_parent_change(self, old_parent, new_parent):
            self._parents = (old_parent, new_parent)

        def _on_path_change(self, old_path, new_path):
            self._paths = (old_path, new_path)

    x = Hooked()
    x.sym_setpath("a")
    assert x._paths == ("", "a")
    y = sb.Dict(x=x)
    assert x._parents == (None, y) and x._paths == ("a", "x")
    z = sb.Dict(y=y)
    assert x._paths == ("x", "y.x") and z.y.x is x
    y.x = Hooked()
    assert x._parents == (y, None) and x.sym_path == ""
    xs = sb.List([Hooked(), Hooked()])
    second = xs[1]
    del xs[0]
    assert second._paths == ("[1]", "[0]")


# ---- dynamic keyword fields ----------------------------------------------------------------------
class Kw(sb.Object):
    a: int = 0
    __kwargs__: Any


class IntKw(sb.Object):
    __kwargs__: int


def test_dynamic_keyword_fields():
    k = Kw(1, z=2, w=[1])
    assert k.z == 2 and k.w.sym_path == "w" and list(k.sym_init_args) == ["a", "z", "w"]
    assert k.sym_hasattr("z") and sb.query(k, path_regex="w.*") == {"w": [1], "w[0]": 1}
    k.q = 5
    k.rebind({"w[0]": 3, "r": "new"})
    assert sb.format(k) == "Kw(a=1, z=2, w=[3], q=5, r='new')"
    del k.z
    k.rebind(r=sb.MISSING)
    assert sb.format(k) == "Kw(a=1, w=[3], q=5)"


def test_dynamic_fields_compare_hash_clone_json_and_pickle():
    import pickle

    k = Kw(z=2, w=[1])
    assert sb.eq(k, Kw(z=2, w=[1])) and not sb.eq(k, Kw(z=2)) and not sb.eq(k, Kw(z=3, w=[1]))
    assert sb.hash(k) == sb.hash(sb.clone(k)) and sb.eq(sb.clone(k), k)
    assert sb.to_json(k)["z"] == 2 and sb.eq(sb.from_json(sb.to_json(k)), k)
    assert sb.eq(pickle.loads(pickle.dumps(k)), k)
    back = pickle.loads(pickle.dumps(k))
    back.rebind(n=1)
    assert back.n == 1 and "n" not in k.sym_init_args


def test_dynamic_fields_are_validated_and_named():
    with pytest.raises(sb.SymbolicTypeError, match="^a: expected int, got str 'x'"):
        IntKw(a="x")
    with pytest.raises(sb.SymbolicTypeError, match="^b: expected int"):
        IntKw().rebind(b="y")
    with pytest.raises(sb.SymbolicKeyError, match="'rebind' is an attribute"):
        Kw(rebind=1)
    with pytest.raises(sb.SymbolicKeyError, match="no field 'nope' to delete"):
        Kw().rebind(nope=sb.MISSING)
    with pytest.raises(sb.SymbolicKeyError, match="has no field 'nope'"):
        Req(1).rebind(nope=1)  # classes without __kwargs__ still refuse unknown keywords


# ---- frozen fields -------------------------------------------------------------------------------
def test_final_annotation_freezes_a_field():
    class F(sb.Object):
        x: typing.Literal[1, "a"] = "a"

    class G(F):
        x: typing.Final[int] = 1
        y: typing.ClassVar[int] = 2

    assert G().x == 1 and G.y == 2 and G.sym_schema().positional == ()
    with pytest.raises(sb.SymbolicValueError, match="^x: frozen field is not assignable"):
        G(x=2)
    with pytest.raises(sb.SymbolicValueError, match="frozen field is not assignable"):
        G().rebind(x=2)
    assert G(x=1).x == 1  # its own value is accepted
    assert "x" not in sb.to_json(G()) and sb.eq(sb.from_json(sb.to_json(G())), G())


def test_final_field_without_a_default_is_refused_at_class_definition():
    with pytest.raises(sb.SymbolicTypeError, match="field x is marked as final"):
        class H(sb.Object):  # noqa: F841
            x: typing.Final[int]


def test_field_frozen_flag():
    class Conv(sb.Object):
        filters: int = 32
        kind: str = sb.field("conv", frozen=True, doc="what it is")

    c = Conv(8)
    assert c.kind == "conv" and sb.format(c) == "Conv(filters=8, kind='conv')"
    with pytest.raises(sb.SymbolicValueError):
        Conv(kind="dense")
    with pytest.raises(sb.SymbolicValueError):
        c.kind = "dense"


# ---- overriding a default without re-annotating ---------------------------------------------------
def test_subclass_overrides_a_default_without_reannotating():
    class Base(sb.Object):
        x: int
        y: str = "a"

    class B(Base):
        x = 1

    class C(B):
        x = 2

    class D(C):
        def x(self):  # a method of that name does not change the field
            return "method"

    assert B().x == 1 and C().x == 2 and D().sym_init_args.x == 2 and B(5).x == 5
    assert Base.sym_schema().by_name["x"].required
    with pytest.raises(sb.SymbolicTypeError, match="default of field x: expected int"):
        class Bad(Base):
            x = "wide"

        Bad()
