"""Issue 14's bugs: behaviour that differed from PyGlove's by mistake (bugs 1-4 and 6)."""

from typing import Any

import pytest

import symbo as sb


class H(sb.Object):
    x: object


class A(sb.Object):
    x: int = 1

    def _on_change(self, updates):
        self.__dict__.setdefault("_heard", []).append(
            {str(k): (u.old_value, u.new_value) for k, u in updates.items()})


# ---- bug 1: attaching a node to a second parent shares its non-symbolic members -----------------
def test_attached_node_given_to_a_second_parent_shares_non_symbolic_members():
    h = H(object())
    sb.Dict(a=h)
    d = sb.Dict(a=h)
    assert d.a is not h and h.sym_parent is not d      # the symbolic structure is copied
    assert d.a.x is h.x and sb.eq(d.a, h)               # the leaf is shared by reference


def test_second_parent_copies_nested_symbolic_structure_and_shares_leaves():
    payload = object()
    tree = sb.Dict(inner=sb.Dict(data=payload, layers=[H(payload)]))
    other = sb.Dict(second=tree.inner)
    assert other.second is not tree.inner and other.second.layers is not tree.inner.layers
    assert other.second.layers[0].x is payload and other.second.data is payload
    other.second.rebind({"layers[0].x": 1})            # edits of the copy stay in the copy
    assert tree.inner.layers[0].x is payload


def test_deep_clone_still_copies_non_symbolic_members():
    h = H({1, 2})
    c = sb.clone(h)
    assert c.x is not h.x and c.x == {1, 2}
    assert sb.clone(h, deep=False).x is h.x


# ---- bug 2: every path of one rebind is resolved against the tree before the edit ---------------
def test_rebind_with_a_list_deletion_does_not_depend_on_key_order():
    for order in (("[0]", "[1].a"), ("[1].a", "[0]")):
        xs = sb.List([{"a": 1}, {"a": 2}, {"a": 3}])
        values = {"[0]": sb.MISSING, "[1].a": 20}
        xs.rebind({k: values[k] for k in order})
        assert xs == [{"a": 20}, {"a": 3}]


def test_rebind_mixing_updates_deletions_insertions_and_appends_uses_original_indices():
    # PyGlove's list_test.test_rebind_on_schemaless_lists.
    sl = sb.List(["foo", 2, {}, []])
    sl.rebind({
        0: "bar",                      # update sl[0]
        "[1]": sb.MISSING,             # delete sl[1]
        "[2]": sb.Insertion(100),      # insert before the original sl[2] ({})
        "[3]": sb.Insertion(200),      # insert before the original sl[3] ([])
        "[2].x": True,                 # edit the original sl[2]
        "[3][0]": 300,                 # append to the original sl[3]
    })
    assert sl == ["bar", 100, {"x": True}, 200, [300]]
    assert [str(item.sym_path) for item in (sl[2], sl[4])] == ["[2]", "[4]"]


def test_rebind_list_edits_by_int_keys_and_append():
    # PyGlove's list_test.test_sym_rebind.
    sl = sb.List([0, 1, 2])
    sl.rebind({0: sb.MISSING, 1: 3, 2: sb.Insertion(4), 3: "end"})
    assert sl == [3, 4, 2, "end"]


def test_failed_batched_list_edit_changes_nothing():
    class Typed(sb.Object):
        xs: list[int] = []

    t = Typed(xs=[1, 2, 3])
    with pytest.raises(sb.SymbolicTypeError, match=r"^xs\[1\]: expected int"):
        t.rebind({"xs[0]": sb.MISSING, "xs[1]": "two", "xs[3]": 4})
    assert t.xs == [1, 2, 3] and [i.sym_path for i in t.xs if isinstance(i, sb.Symbolic)] == []
    with pytest.raises(sb.SymbolicKeyError, match=r"xs\[5\]"):
        t.rebind({"xs[5]": 6})
    assert t.xs == [1, 2, 3]


# ---- bug 3: edits that change nothing are not notified ------------------------------------------
def test_rebind_to_the_same_value_is_not_notified():
    a = A(1)
    a.rebind(x=1)
    a.x = 1
    assert a.__dict__.get("_heard") is None
    a.rebind(x=2)
    assert a._heard == [{"x": (1, 2)}]


def test_no_op_updates_are_dropped_from_a_batch():
    heard: list[dict] = []
    d = sb.Dict(a=1, b="x", c=[1], onchange_callback=lambda u: heard.append(sorted(map(str, u))))
    d.rebind({"a": 1, "b": "y", "c[0]": 1})
    d["a"] = 1
    d.c[0] = 1
    assert heard == [["b"]]


# ---- bug 4: a functor's defaulted parameters can be filled positionally at call time ------------
@sb.symbolize
def add(a=1, b=2):
    return a + b


def test_functor_defaulted_parameters_fill_positionally_at_call_time():
    assert add()(5) == 7
    assert add(b=10)(5) == 15
    assert add()(5, 6) == 11


# ---- bug 6: a list indexed by a str is a TypeError ----------------------------------------------
def test_list_setitem_with_a_str_index_is_a_type_error():
    xs = sb.List([0])
    with pytest.raises(TypeError, match="list indices must be integers or slices, not str"):
        xs["a"] = 1
    with pytest.raises(TypeError):
        del xs["a"]
    assert xs == [0]


def test_list_getitem_with_a_str_index_is_a_type_error():
    with pytest.raises(TypeError):
        sb.List([0])["a"]  # noqa: B018


def test_dict_of_any_value_still_works_after_the_fixes():
    class Box(sb.Object):
        items: dict[str, Any] = {}

    b = Box(items={"k": [1, {"z": 2}]})
    b.rebind({"items.k[1].z": 3})
    assert b.items.k[1].z == 3
