"""Tests of ``symbo.core.object`` and ``symbo.core.validation``: fields, construction, checks."""

import copy
import pickle
import typing
from collections.abc import Callable
from typing import Any, Literal, Union

import pytest

import symbo as sb
from symbo.core.node import DeferredValue
from symbo.core.validation import Check, CheckFailure


class Head(sb.Object):
    layers: list[int] = [64]
    act: str = "relu"


class Trainer(sb.Object):
    lr: float = 1e-3
    optimizer: str = "adam"
    layers: list[int] = [64]
    head: "Head | None" = None


class Block(sb.Object):
    units: int
    act: str = "relu"


class Base(sb.Object):
    x: int = 1
    y: str = "a"


class Derived(Base):
    z: float = 2.0
    x: int = 5  # re-declared: new default, same position


class Typed(sb.Object):
    i: int = 0
    f: float = 0.0
    s: str = ""
    b: bool = False
    n: None = None
    li: list[int] = []
    ds: dict[str, int] = {}
    opt: int | None = None  # noqa: UP007 - the typing.Optional spelling is under test
    opt2: int | None = None
    un: Union[int, str] = 0  # noqa: UP007 - the typing.Union spelling is under test
    lit: Literal["a", "b"] = "a"
    fn: Callable[[int], int] = abs
    head: Head | None = None
    anything: Any = None
    tup: tuple[int, str] = (0, "")
    nested: list[dict[str, list[int]]] = []


# ---- fields --------------------------------------------------------------------------------------
def test_fields_come_from_annotations_in_order_with_defaults():
    fields = Trainer.sym_fields()
    assert [f.name for f in fields] == ["lr", "optimizer", "layers", "head"]
    assert [f.default for f in fields[:3]] == [1e-3, "adam", [64]]
    t = Trainer()
    assert (t.lr, t.optimizer, list(t.layers), t.head) == (1e-3, "adam", [64], None)


def test_mutable_defaults_are_not_shared_between_instances():
    a, b = Trainer(), Trainer()
    assert a.layers is not b.layers
    a.layers.append(1)
    assert list(b.layers) == [64]
    assert list(Trainer().layers) == [64]


def test_required_field_without_value_raises_naming_the_field():
    with pytest.raises(sb.SymbolicTypeError, match="missing required field 'units'"):
        Block()
    assert Block.sym_schema().by_name["units"].required
    assert not Block.sym_schema().by_name["act"].required


def test_explicit_missing_default_means_required():
    class Req(sb.Object):
        a: int = sb.MISSING
        b: int = 2

    with pytest.raises(sb.SymbolicTypeError, match="'a'"):
        Req(b=3)
    assert Req(1).a == 1
    assert Req.sym_schema().by_name["a"].required


def test_partial_leaves_required_fields_missing():
    p = Block.partial(act="tanh")
    assert p.units is sb.MISSING
    assert p.act == "tanh"
    p.rebind(units=8)
    assert p.units == 8


def test_missing_is_a_falsy_singleton():
    assert not sb.MISSING
    assert repr(sb.MISSING) == "MISSING"
    assert copy.deepcopy(sb.MISSING) is sb.MISSING
    assert pickle.loads(pickle.dumps(sb.MISSING)) is sb.MISSING


def test_classvar_and_private_annotations_are_not_fields():
    class WithClassVar(sb.Object):
        count: typing.ClassVar[int] = 0
        _private: int = 3
        x: int = 1

    assert [f.name for f in WithClassVar.sym_fields()] == ["x"]


def test_bad_default_is_rejected_when_the_class_is_used():
    class BadDefault(sb.Object):
        x: int = "nope"

    with pytest.raises(sb.SymbolicTypeError, match="default of field x: expected int"):
        BadDefault()


def test_unsupported_annotation_is_a_clear_error():
    class BadKeys(sb.Object):
        d: dict[int, int] = {}

    with pytest.raises(sb.SymbolicTypeError, match="dict keys must be str"):
        BadKeys()


# ---- construction --------------------------------------------------------------------------------
def test_positional_and_keyword_construction():
    assert Block(64).units == 64
    b = Block(32, "tanh")
    assert (b.units, b.act) == (32, "tanh")
    b = Block(16, act="gelu")
    assert (b.units, b.act) == (16, "gelu")
    assert Block(units=8).units == 8


def test_too_many_positional_arguments():
    with pytest.raises(sb.SymbolicTypeError, match="takes 2 positional arguments but 3"):
        Block(1, "relu", 3)


def test_same_field_given_twice():
    with pytest.raises(sb.SymbolicTypeError, match="multiple values for keyword argument 'units'"):
        Block(1, units=2)


def test_unknown_field_is_a_key_error_naming_it():
    with pytest.raises(sb.SymbolicKeyError, match="Block has no field 'width'") as info:
        Block(1, width=3)
    assert str(info.value).startswith("width: ")
    assert isinstance(info.value, KeyError)


def test_inheritance_of_fields():
    assert [f.name for f in Derived.sym_fields()] == ["x", "y", "z"]
    d = Derived()
    assert (d.x, d.y, d.z) == (5, "a", 2.0)
    assert Base().x == 1
    d = Derived(7, "b", 3)
    assert (d.x, d.y, d.z) == (7, "b", 3.0)
    with pytest.raises(sb.SymbolicTypeError, match="y: expected str"):
        Derived(y=1)


def test_sym_init_args_is_a_read_only_dict_of_fields():
    t = Trainer(lr=0.5)
    args = t.sym_init_args
    assert isinstance(args, sb.Dict)
    assert dict(args) == {"lr": 0.5, "optimizer": "adam", "layers": [64], "head": None}
    assert args.layers is t.layers
    with pytest.raises(sb.SealedError):
        args["lr"] = 0.1
    assert t.lr == 0.5


def test_sym_nondefault():
    t = Trainer(lr=0.5, layers=[64])
    assert t.sym_nondefault() == {"lr": 0.5}


# ---- validation ----------------------------------------------------------------------------------
def test_int_field():
    assert Typed(i=3).i == 3
    for bad in ["3", 3.0, True, None]:
        with pytest.raises(sb.SymbolicTypeError, match="^i: expected int"):
            Typed(i=bad)


def test_float_field_accepts_ints_converted_and_rejects_bools():
    t = Typed(f=2)
    assert t.f == 2.0 and type(t.f) is float
    assert Typed(f=2.5).f == 2.5
    for bad in [True, False, "1.0", None]:
        with pytest.raises(sb.SymbolicTypeError, match="^f: expected float"):
            Typed(f=bad)
    t.rebind(f=7)
    assert type(t.f) is float


def test_float_default_given_as_int_is_converted():
    class IntDefault(sb.Object):
        f: float = 1

    assert type(IntDefault().f) is float


def test_str_bool_none_fields():
    assert Typed(s="x").s == "x"
    assert Typed(b=True).b is True
    assert Typed(n=None).n is None
    with pytest.raises(sb.SymbolicTypeError, match="^s: expected str, got int 1"):
        Typed(s=1)
    with pytest.raises(sb.SymbolicTypeError, match="^b: expected bool, got int 1"):
        Typed(b=1)
    with pytest.raises(sb.SymbolicTypeError, match="^n: expected None, got int 0"):
        Typed(n=0)


def test_list_of_t_validates_elements_with_their_path():
    t = Typed(li=[1, 2])
    assert isinstance(t.li, sb.List)
    assert t.li == [1, 2]
    assert isinstance(Typed(li=(1, 2)).li, sb.List)
    with pytest.raises(sb.SymbolicTypeError, match=r"^li\[1\]: expected int, got str 'x'"):
        Typed(li=[1, "x"])
    with pytest.raises(sb.SymbolicTypeError, match="^li: expected list"):
        Typed(li=3)
    # the element check stays with the list
    with pytest.raises(sb.SymbolicTypeError, match=r"^li\[2\]: expected int"):
        t.li.append("y")
    assert t.li == [1, 2]


def test_dict_of_str_t():
    t = Typed(ds={"a": 1})
    assert isinstance(t.ds, sb.Dict)
    with pytest.raises(sb.SymbolicTypeError, match="^ds.b: expected int, got str 'x'"):
        Typed(ds={"a": 1, "b": "x"})
    with pytest.raises(sb.SymbolicTypeError, match="^ds.c: expected int"):
        t.ds["c"] = 1.5
    assert "c" not in t.ds


def test_nested_containers_carry_full_paths():
    with pytest.raises(sb.SymbolicTypeError, match=r"^nested\[0\].a\[1\]: expected int"):
        Typed(nested=[{"a": [1, "x"]}])
    t = Typed(nested=[{"a": [1]}])
    assert isinstance(t.nested[0].a, sb.List)
    with pytest.raises(sb.SymbolicTypeError, match=r"^nested\[0\].a\[1\]: expected int"):
        t.nested[0].a.append("x")


def test_optional_and_x_or_none():
    assert Typed(opt=None).opt is None
    assert Typed(opt=3).opt == 3
    assert Typed(opt2=4).opt2 == 4
    with pytest.raises(sb.SymbolicTypeError, match="^opt: expected int or None"):
        Typed(opt="x")
    with pytest.raises(sb.SymbolicTypeError, match="^opt2: expected int or None"):
        Typed(opt2=1.5)


def test_union():
    assert Typed(un="x").un == "x"
    assert Typed(un=2).un == 2
    with pytest.raises(sb.SymbolicTypeError, match="^un: expected int or str"):
        Typed(un=2.5)


def test_literal_is_a_value_error():
    assert Typed(lit="b").lit == "b"
    with pytest.raises(sb.SymbolicValueError, match=r"^lit: expected one of \['a', 'b'\], got 'c'"):
        Typed(lit="c")


def test_literal_compares_type_as_well_as_value():
    class Lit(sb.Object):
        x: Literal[1, 2] = 1

    with pytest.raises(sb.SymbolicValueError):
        Lit(x=True)
    with pytest.raises(sb.SymbolicValueError):
        Lit(x=1.0)


def test_callable():
    assert Typed(fn=len).fn is len
    assert Typed(fn=lambda v: v).fn(3) == 3
    with pytest.raises(sb.SymbolicTypeError, match="^fn: expected callable, got int 3"):
        Typed(fn=3)


def test_symbolic_class_field():
    h = Head()
    t = Typed(head=h)
    assert t.head is h
    with pytest.raises(sb.SymbolicTypeError, match="^head: expected Head or None, got Block"):
        Typed(head=Block(1))
    with pytest.raises(sb.SymbolicTypeError, match="^head: expected Head or None, got dict"):
        Typed(head={"layers": [1]})


def test_any_accepts_everything_and_converts_containers():
    assert Typed(anything=3).anything == 3
    obj = object()
    assert Typed(anything=obj).anything is obj
    t = Typed(anything=[1, {"a": [2]}])
    assert isinstance(t.anything, sb.List)
    assert isinstance(t.anything[1], sb.Dict)
    assert isinstance(t.anything[1].a, sb.List)
    assert t.anything[1].a.sym_path == "anything[1].a"


def test_tuple_fields_stay_tuples_and_check_items():
    t = Typed(tup=(1, "a"))
    assert t.tup == (1, "a") and type(t.tup) is tuple
    with pytest.raises(sb.SymbolicTypeError, match=r"^tup\[1\]: expected str"):
        Typed(tup=(1, 2))
    with pytest.raises(sb.SymbolicTypeError, match="with 2 items, got 3"):
        Typed(tup=(1, "a", 3))


def test_error_message_carries_nested_key_path():
    class Wide(sb.Object):
        head: Head = Head()

    t = Wide()
    with pytest.raises(sb.SymbolicTypeError) as info:
        t.rebind({"head.layers[0]": "wide"})
    assert str(info.value) == "head.layers[0]: expected int, got str 'wide'"
    assert isinstance(info.value, TypeError)
    assert t.head.layers == [64]


def test_field_check_predicate():
    class Conv(sb.Object):
        filters: int = sb.field(32, doc="output channels", check=lambda v: v > 0)
        kernel: int = sb.field(3, check=lambda v: v % 2 == 1, message="kernel must be odd")

    assert Conv().filters == 32
    assert Conv.sym_schema().by_name["filters"].doc == "output channels"
    with pytest.raises(sb.SymbolicValueError, match="^filters: -1 rejected by <lambda>"):
        Conv(filters=-1)
    with pytest.raises(sb.SymbolicTypeError, match="^filters: expected int"):
        Conv(filters="x")
    with pytest.raises(sb.SymbolicValueError, match="^kernel: kernel must be odd"):
        Conv(kernel=4)
    c = Conv()
    with pytest.raises(sb.SymbolicValueError):
        c.rebind(kernel=2)
    assert c.kernel == 3


def test_field_check_is_applied_to_the_default():
    class BadCheckedDefault(sb.Object):
        x: int = sb.field(0, check=lambda v: v > 0)

    with pytest.raises(sb.SymbolicTypeError, match="default of field x"):
        BadCheckedDefault()


# ---- forward references --------------------------------------------------------------------------
def test_string_forward_reference():
    h = Head(layers=[1])
    t = Trainer(head=h)
    assert t.head is h
    with pytest.raises(sb.SymbolicTypeError, match="^head: expected Head or None, got Block"):
        Trainer(head=Block(1))
    field = Trainer.sym_schema().by_name["head"]
    assert typing.get_args(field.annotation) == (Head, type(None))


def test_forward_reference_to_a_class_defined_later():
    class Early(sb.Object):
        child: "Late | None" = None

    class Late(sb.Object):
        x: int = 1

    assert isinstance(Early(child=Late()).child, Late)


def test_forward_reference_prefers_the_enclosing_scope_over_other_registered_classes():
    # Another class named Head, registered from a different scope, must not capture the
    # module-level ``Head`` that ``Trainer.head`` refers to...
    class Head(sb.Object):  # noqa: F811 - deliberately shadows the module-level Head
        other: int = 0

    class UsesHead(sb.Object):
        head: "Head | None" = None

    # ... and a class in this scope resolves to its sibling, not the module-level one.
    assert isinstance(UsesHead(head=Head()).head, Head)
    with pytest.raises(sb.SymbolicTypeError):
        UsesHead(head=globals()["Head"]())


def _register_another_head() -> type:
    class Head(sb.Object, type_name="aaa.Head"):  # sorts before every other Head
        other: int = 0

    return Head


def test_module_level_forward_reference_ignores_same_named_classes_elsewhere():
    other_head = _register_another_head()
    # A module-level class (its annotation resolved now, while two Heads are registered).
    exec(
        "class FreshTrainer(sb.Object):\n    head: 'Head | None' = None\n",
        {"__name__": __name__, "sb": sb},
    )
    fresh = sb.registry.lookup(f"{__name__}.FreshTrainer")
    assert isinstance(fresh(head=Head()).head, Head)
    with pytest.raises(sb.SymbolicTypeError):
        fresh(head=other_head())


def test_unresolvable_annotation_is_a_clear_error():
    class Dangling(sb.Object):
        x: "NoSuchClass" = None  # noqa: F821

    with pytest.raises(sb.SymbolicTypeError, match="cannot resolve annotation 'NoSuchClass'"):
        Dangling()


# ---- deferred values -----------------------------------------------------------------------------
class Maybe(DeferredValue):
    """A minimal marker: it fits a check when all of its candidates do."""

    __slots__ = ("_sym_parent", "_sym_key", "_sym_sealed", "candidates")

    def __init__(self, *candidates: Any) -> None:
        self._sym_parent = None
        self._sym_key = None
        self._sym_sealed = False
        self.candidates = candidates

    def sym_items(self):
        return iter(())

    def sym_check_against(self, check: Check) -> None:
        for c in self.candidates:
            check(c)

    def _sym_clone(self, deep, memo):
        return Maybe(*self.candidates)


def test_deferred_value_accepted_where_its_candidates_fit():
    t = Typed(i=Maybe(1, 2), opt=Maybe(None, 3), lit=Maybe("a", "b"))
    assert isinstance(t.i, Maybe) and t.i.sym_parent is t
    assert t.i.sym_path == "i"
    with pytest.raises(sb.SymbolicTypeError, match="^i: expected int, got str 'x'"):
        Typed(i=Maybe(1, "x"))
    with pytest.raises(sb.SymbolicValueError):
        Typed(lit=Maybe("a", "z"))


def test_deferred_value_inside_checked_containers():
    t = Typed(li=[1, Maybe(2, 3)])
    assert t.li[1].sym_path == "li[1]"
    with pytest.raises(sb.SymbolicTypeError):
        Typed(li=[Maybe("no")])


def test_deferred_value_respects_field_predicates():
    class Pos(sb.Object):
        x: int = sb.field(1, check=lambda v: v > 0)

    assert isinstance(Pos(x=Maybe(1, 2)).x, Maybe)
    with pytest.raises(sb.SymbolicValueError):
        Pos(x=Maybe(1, -1))


# ---- attribute access ----------------------------------------------------------------------------
def test_setting_a_field_attribute_is_a_validated_rebind():
    t = Trainer()
    t.lr = 1
    assert t.lr == 1.0 and type(t.lr) is float
    with pytest.raises(sb.SymbolicTypeError, match="^lr: expected float"):
        t.lr = "fast"
    assert t.lr == 1.0
    t.layers = [1, 2]
    assert isinstance(t.layers, sb.List) and t.layers.sym_parent is t


def test_fields_cannot_be_deleted():
    t = Trainer()
    with pytest.raises(sb.SymbolicTypeError, match="cannot be deleted"):
        del t.lr
    assert t.lr == 1e-3


def test_non_field_attributes_are_plain():
    t = Trainer()
    t.note = "hello"
    assert t.note == "hello"
    assert "note" not in dict(t.sym_items())


# ---- construction never half-changes its inputs --------------------------------------------------
def test_failed_construction_leaves_given_children_unowned():
    class Holder(sb.Object):
        head: Head
        n: int = 0

    h = Head()
    with pytest.raises(sb.SymbolicTypeError):
        Holder(head=h, n="bad")
    assert h.sym_parent is None
    assert h.sym_path.is_root
    assert Holder(head=h).head is h  # still free to be adopted


def test_failed_list_conversion_does_not_modify_the_given_list():
    xs = sb.List([1, 2, "x"])
    with pytest.raises(sb.SymbolicTypeError):
        Typed(li=xs)
    assert list(xs) == [1, 2, "x"]
    xs.append("y")  # no element check was left behind
    assert xs[-1] == "y"


def test_failed_dict_conversion_does_not_modify_the_given_dict():
    child = sb.List([1])
    d = sb.Dict(a=1, b="x", c=child)
    with pytest.raises(sb.SymbolicTypeError):
        Typed(ds=d)
    assert dict(d) == {"a": 1, "b": "x", "c": [1]}
    assert d.c is child and child.sym_parent is d
    d["z"] = "still untyped"


# ---- hooks ---------------------------------------------------------------------------------------
class Derive(sb.Object):
    layers: list[int] = [1, 2]
    scale: int = 1

    def _on_bound(self) -> None:
        self.calls = getattr(self, "calls", 0) + 1
        self.total = sum(self.layers) * self.scale


def test_on_bound_runs_after_construction_rebind_and_clone():
    d = Derive()
    assert d.total == 3 and d.calls == 1
    d.rebind(scale=2)
    assert d.total == 6
    d.scale = 3
    assert d.total == 9
    c = sb.clone(d)
    assert c.total == 9
    c.rebind(scale=1)
    assert (c.total, d.total) == (3, 9)
    assert copy.deepcopy(d).total == 9


def test_on_bound_runs_after_edits_inside_its_fields():
    d = Derive()
    d.rebind({"layers[0]": 10})
    assert d.total == 12
    d.layers.append(5)
    assert d.total == 17
    del d.layers[0]
    assert d.total == 7


def test_on_bound_of_ancestors_runs_after_nested_edits():
    class Outer(sb.Object):
        inner: Derive = Derive()

        def _on_bound(self) -> None:
            self.inner_total = self.inner.total

    o = Outer()
    assert o.inner_total == 3
    o.rebind({"inner.layers[1]": 20})
    assert (o.inner.total, o.inner_total) == (21, 21)


def test_on_bound_not_rerun_by_a_failed_rebind():
    d = Derive()
    calls = d.calls
    with pytest.raises(sb.SymbolicTypeError):
        d.rebind(scale="x")
    assert d.calls == calls and d.total == 3


class Recorder(sb.Object):
    child: Any = None
    value: int = 0

    def _on_change(self, updates):
        self.__dict__.setdefault("seen", []).append(
            {str(path): (u.old_value, u.new_value) for path, u in updates.items()}
        )


def test_on_change_receives_paths_relative_to_each_ancestor():
    inner = Recorder()
    outer = Recorder(child=sb.Dict(r=inner))
    outer.rebind({"child.r.value": 5})
    assert inner.seen == [{"value": (0, 5)}]
    assert outer.seen == [{"child.r.value": (0, 5)}]


def test_on_change_gets_all_paths_of_one_rebind_in_one_call():
    inner = Recorder(child=sb.Dict(a=1))
    outer = Recorder(child=inner)
    outer.rebind({"value": 1, "child.value": 2, "child.child.a": 3})
    assert outer.seen == [{"value": (0, 1), "child.value": (0, 2), "child.child.a": (1, 3)}]
    assert inner.seen == [{"value": (0, 2), "child.a": (1, 3)}]


def test_on_change_hears_container_edits():
    r = Recorder(child=[1, 2])
    r.child.append(3)
    r.child[0] = 10
    r.child.pop(0)
    assert r.seen[0] == {"child[2]": (sb.MISSING, 3)}
    assert r.seen[1] == {"child[0]": (1, 10)}
    assert r.seen[2] == {"child[0]": (10, 2), "child[1]": (2, 3), "child[2]": (3, sb.MISSING)}
    d = Recorder(child={"a": 1})
    d.child["b"] = 2
    del d.child["a"]
    assert d.seen == [{"child.b": (sb.MISSING, 2)}, {"child.a": (1, sb.MISSING)}]


def test_no_notification_for_a_failed_edit():
    r = Recorder(child=sb.List([1]))
    with pytest.raises(sb.SymbolicKeyError):
        r.rebind({"value": 3, "child[7]": 1})
    assert not hasattr(r, "seen") or r.seen == []
    assert r.value == 0


# ---- pickling and copying ------------------------------------------------------------------------
def test_pickle_round_trip():
    t = Trainer(lr=0.5, layers=[1, 2], head=Head(layers=[3]))
    u = pickle.loads(pickle.dumps(t))
    assert sb.eq(t, u) and u is not t
    assert u.head.sym_parent is u and u.head.layers.sym_path == "head.layers"
    assert u.layers.sym_parent is u
    # element checks survive pickling
    with pytest.raises(sb.SymbolicTypeError, match=r"^layers\[2\]: expected int"):
        u.layers.append("x")
    with pytest.raises(sb.SymbolicTypeError, match=r"^head.layers\[1\]: expected int"):
        u.head.layers.append("x")


def test_pickle_keeps_sealing_of_every_node():
    t = Trainer(head=Head()).seal()
    u = pickle.loads(pickle.dumps(t))
    assert u.is_sealed and u.layers.is_sealed and u.head.layers.is_sealed
    with pytest.raises(sb.SealedError):
        u.layers.append(1)
    with pytest.raises(sb.SealedError):
        u.head.layers[0] = 1


def test_pickle_keeps_on_bound_state():
    d = Derive(scale=2)
    u = pickle.loads(pickle.dumps(d))
    assert u.total == 6
    u.rebind(scale=1)
    assert u.total == 3


def test_copy_and_deepcopy():
    t = Trainer(head=Head())
    d = copy.deepcopy(t)
    assert sb.eq(d, t) and d.head is not t.head and d.layers is not t.layers
    assert d.head.sym_parent is d
    s = copy.copy(t)
    assert sb.eq(s, t) and s.head is not t.head  # symbolic nodes are never shared
    d.head.layers.append(1)
    assert t.head.layers == [64]


def test_object_equality_and_hash_are_structural():
    assert Trainer(lr=0.1) == Trainer(lr=0.1)
    assert Trainer(lr=0.1) != Trainer(lr=0.2)
    assert hash(Trainer(lr=0.1)) == hash(Trainer(lr=0.1))
    assert len({Trainer(), Trainer(), Trainer(lr=1.0)}) == 2
    assert Block(1) != Head()
    assert Trainer() != 3


def test_custom_check_failure_class_is_internal():
    # CheckFailure never escapes: users see SymbolicTypeError / SymbolicValueError.
    with pytest.raises(sb.SymbolicError) as info:
        Typed(li=[[1]])
    assert not isinstance(info.value, CheckFailure)
