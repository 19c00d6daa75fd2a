"""Tests of ``symbo.core.containers``: sb.List and sb.Dict keep links, paths and checks right."""

import copy
import pickle
from typing import Any

import pytest

import symbo as sb


class Box(sb.Object):
    items: Any = None
    ints: list[int] = []
    table: dict[str, int] = {}


def leaf(tag: int) -> sb.Dict:
    return sb.Dict(tag=tag)


def assert_links(root: sb.Symbolic) -> None:
    """Every symbolic node below ``root`` has the right parent, and its path leads back to it."""

    def visit(path, value, parent):
        if isinstance(value, sb.Symbolic) and parent is not None:
            assert value.sym_parent is parent, f"{path}: wrong parent"
            assert value.sym_path == path, f"{path}: sym_path is {value.sym_path}"
            assert root.sym_get(value.sym_path) is value

    sb.traverse(root, visit)


# ---- conversion ----------------------------------------------------------------------------------
def test_plain_lists_and_dicts_become_symbolic_children():
    b = Box(items=[1, {"a": [2, {"b": 3}]}])
    assert type(b.items) is sb.List
    assert type(b.items[1]) is sb.Dict
    assert type(b.items[1].a) is sb.List
    assert type(b.items[1].a[1]) is sb.Dict
    assert b.items[1].a[1].sym_path == "items[1].a[1]"
    assert_links(b)


def test_containers_are_real_lists_and_dicts():
    xs = sb.List([1, 2])
    d = sb.Dict(a=1)
    assert isinstance(xs, list) and isinstance(d, dict)
    assert xs == [1, 2] and [1, 2] == xs
    assert d == {"a": 1} and {"a": 1} == d
    assert xs != [1, 2, 3] and d != {"a": 2}
    assert repr(xs) == "List([1, 2])" and repr(d) == "Dict({'a': 1})"


def test_containers_are_unhashable_like_list_and_dict():
    with pytest.raises(TypeError):
        hash(sb.List([1]))
    with pytest.raises(TypeError):
        hash(sb.Dict(a=1))
    assert sb.hash(sb.List([1])) == sb.hash(sb.List([1]))


def test_dict_keys_readable_as_attributes():
    d = sb.Dict(lr=0.1)
    assert d.lr == 0.1
    with pytest.raises(AttributeError, match="no key or attribute 'nope'"):
        d.nope  # noqa: B018


def test_dict_keys_must_be_str():
    with pytest.raises(sb.SymbolicTypeError, match="dict keys must be str"):
        sb.Dict({1: 2})
    d = sb.Dict()
    with pytest.raises(sb.SymbolicTypeError, match="dict keys must be str"):
        d[1] = 2
    assert d == {}


def test_dict_constructor_forms():
    assert sb.Dict({"a": 1}, b=2) == {"a": 1, "b": 2}
    assert sb.Dict([("a", 1)]) == {"a": 1}
    assert sb.Dict() == {}


# ---- list edits keep links and paths -------------------------------------------------------------
def make_list() -> tuple[Box, sb.List]:
    b = Box(items=[leaf(0), leaf(1), leaf(2)])
    return b, b.items


def tags(xs: sb.List) -> list:
    return [x.tag if isinstance(x, sb.Dict) else x for x in xs]


def test_list_append():
    b, xs = make_list()
    xs.append(leaf(3))
    assert tags(xs) == [0, 1, 2, 3]
    assert xs[3].sym_path == "items[3]"
    assert_links(b)


def test_list_insert_reindexes_following_items():
    b, xs = make_list()
    xs.insert(1, leaf(9))
    assert tags(xs) == [0, 9, 1, 2]
    assert xs[2].sym_path == "items[2]" and xs[2].tag == 1
    xs.insert(-1, leaf(8))
    xs.insert(100, leaf(7))
    xs.insert(-100, leaf(6))
    assert tags(xs) == [6, 0, 9, 1, 8, 2, 7]
    assert_links(b)


def test_list_pop_unlinks_and_reindexes():
    b, xs = make_list()
    first = xs[0]
    popped = xs.pop(0)
    assert popped is first
    assert popped.sym_parent is None and popped.sym_path.is_root
    assert tags(xs) == [1, 2]
    assert xs[0].sym_path == "items[0]"
    last = xs.pop()
    assert last.tag == 2 and last.sym_parent is None
    assert_links(b)
    with pytest.raises(IndexError):
        sb.List().pop()


def test_list_del_item_and_slice():
    b, xs = make_list()
    removed = xs[1]
    del xs[1]
    assert tags(xs) == [0, 2] and removed.sym_parent is None
    assert xs[1].sym_path == "items[1]"
    xs.extend([leaf(3), leaf(4)])
    gone = list(xs[0:2])
    del xs[0:2]
    assert tags(xs) == [3, 4]
    assert all(g.sym_parent is None for g in gone)
    assert_links(b)


def test_list_sort_and_reverse_reindex():
    b = Box(items=[leaf(2), leaf(0), leaf(1)])
    xs = b.items
    xs.sort(key=lambda d: d.tag)
    assert tags(xs) == [0, 1, 2]
    assert_links(b)
    xs.reverse()
    assert tags(xs) == [2, 1, 0]
    assert_links(b)
    xs.sort(key=lambda d: d.tag, reverse=True)
    assert tags(xs) == [2, 1, 0]
    assert_links(b)


def test_list_slice_assignment():
    b, xs = make_list()
    old = xs[1]
    xs[1:2] = [leaf(7), leaf(8)]
    assert tags(xs) == [0, 7, 8, 2]
    assert old.sym_parent is None
    assert_links(b)
    xs[::2] = [leaf(5), leaf(6)]
    assert tags(xs) == [5, 7, 6, 2]
    assert_links(b)


def test_list_slice_assignment_with_a_bad_length_changes_nothing():
    b, xs = make_list()
    new = leaf(9)
    with pytest.raises(ValueError):
        xs[::2] = [new]
    assert tags(xs) == [0, 1, 2]
    assert new.sym_parent is None
    assert_links(b)


def test_same_free_node_twice_in_a_slice_assignment_is_cloned_once():
    node = leaf(1)
    xs = sb.List([0])
    xs[0:0] = [node, node]
    assert xs[0] is node and xs[1] is not node and sb.eq(xs[1], node)
    assert node.sym_path == "[0]" and xs[1].sym_path == "[1]"


def test_list_slice_assignment_checks_elements_with_real_indices():
    b = Box(ints=[0, 1, 2, 3])
    with pytest.raises(sb.SymbolicTypeError, match=r"^ints\[3\]: expected int"):
        b.ints[2:] = [5, "x"]
    assert b.ints == [0, 1, 2, 3]


def test_list_setitem_and_negative_index():
    b, xs = make_list()
    old = xs[-1]
    xs[-1] = leaf(5)
    assert tags(xs) == [0, 1, 5]
    assert old.sym_parent is None
    assert xs[2].sym_path == "items[2]"
    with pytest.raises(IndexError):
        xs[3] = 1
    assert_links(b)


def test_list_extend_iadd_imul_remove_clear():
    b, xs = make_list()
    xs += [leaf(3)]
    assert tags(xs) == [0, 1, 2, 3]
    assert xs is b.items
    ys = Box(items=[1, 2]).items
    ys *= 2
    assert ys == [1, 2, 1, 2]
    ys.remove(2)
    assert ys == [1, 1, 2]
    items = list(xs)
    xs.clear()
    assert xs == [] and all(i.sym_parent is None for i in items)
    assert_links(b)


def test_list_copy_is_a_symbolic_clone():
    b, xs = make_list()
    c = xs.copy()
    assert type(c) is sb.List and c == xs and c.sym_parent is None
    assert c[0] is not xs[0] and c[0].sym_parent is c


def test_list_element_check_is_kept_by_every_edit():
    b = Box(ints=[1, 2])
    xs = b.ints
    for edit in [
        lambda: xs.append("x"),
        lambda: xs.insert(0, "x"),
        lambda: xs.extend([3, "x"]),
        lambda: xs.__setitem__(0, "x"),
        lambda: xs.__setitem__(slice(0, 1), ["x"]),
    ]:
        with pytest.raises(sb.SymbolicTypeError, match="expected int"):
            edit()
        assert xs == [1, 2]
    xs.extend([3, 4])
    assert xs == [1, 2, 3, 4]


def test_list_of_float_converts_ints_on_every_edit():
    class Floats(sb.Object):
        xs: list[float] = []

    f = Floats(xs=[1])
    f.xs.append(2)
    f.xs.insert(0, 3)
    f.xs[1] = 4
    assert all(type(x) is float for x in f.xs) and f.xs == [3.0, 4.0, 2.0]


# ---- dict edits keep links and paths -------------------------------------------------------------
def test_dict_set_del_update_pop():
    b = Box(items={"a": leaf(0)})
    d = b.items
    d["b"] = leaf(1)
    assert d.b.sym_path == "items.b" and d.b.sym_parent is d
    old = d["a"]
    d["a"] = leaf(2)
    assert old.sym_parent is None
    assert d.a.tag == 2 and d.a.sym_path == "items.a"
    d.update({"c": leaf(3)}, e=leaf(4))
    assert d.c.sym_path == "items.c" and d.e.sym_path == "items.e"
    removed = d.pop("c")
    assert removed.tag == 3 and removed.sym_parent is None
    assert d.pop("zzz", 7) == 7
    with pytest.raises(sb.SymbolicKeyError, match="no key 'zzz'"):
        d.pop("zzz")
    gone = d["e"]
    del d["e"]
    assert gone.sym_parent is None and "e" not in d
    with pytest.raises(sb.SymbolicKeyError, match="^items: no key 'nope'"):
        del d["nope"]
    assert_links(b)


def test_dict_setdefault_popitem_ior_clear():
    d = sb.Dict(a=1)
    assert d.setdefault("b", [1]) == [1]
    assert type(d.b) is sb.List and d.b.sym_path == "b"
    assert d.setdefault("a", 5) == 1
    assert d.popitem() == ("b", [1])
    d |= {"z": 2}
    assert d == {"a": 1, "z": 2}
    d.clear()
    assert d == {}
    with pytest.raises(sb.SymbolicKeyError):
        d.popitem()


def test_dict_update_is_atomic():
    b = Box(table={"a": 1})
    with pytest.raises(sb.SymbolicTypeError, match="^table.c: expected int"):
        b.table.update(b=2, c="x")
    assert b.table == {"a": 1}


def test_dict_copy_is_a_symbolic_clone():
    d = sb.Dict(a=leaf(1))
    c = d.copy()
    assert type(c) is sb.Dict and c == d and c.a is not d.a and c.a.sym_parent is c


# ---- adoption, cycles ----------------------------------------------------------------------------
def test_a_node_given_to_a_second_parent_is_cloned():
    a = Box(items=[leaf(1)])
    node = a.items[0]
    b = Box(items=[node])
    assert b.items[0] is not node
    assert sb.eq(b.items[0], node)
    assert node.sym_parent is a.items and node.sym_path == "items[0]"
    assert b.items[0].sym_parent is b.items
    d = sb.Dict()
    d["x"] = node
    assert d.x is not node and node.sym_parent is a.items
    xs = sb.List()
    xs.append(node)
    assert xs[0] is not node and node.sym_parent is a.items


def test_a_free_node_is_adopted_not_copied():
    node = leaf(1)
    xs = sb.List([node])
    assert xs[0] is node and node.sym_parent is xs


def test_same_free_node_twice_gives_two_distinct_children():
    node = leaf(1)
    xs = sb.List([node, node])
    assert xs[0] is node and xs[1] is not node
    assert xs[1].sym_path == "[1]"
    d = sb.Dict()
    d.update(a=node, b=node)
    assert d.a is not d.b


def test_cycles_are_refused():
    xs = sb.List([1])
    with pytest.raises(sb.CycleError, match="cannot contain itself"):
        xs.append(xs)
    assert xs == [1]
    d = sb.Dict(inner=sb.Dict())
    with pytest.raises(sb.CycleError, match="^inner.loop: "):
        d.inner["loop"] = d
    assert d.inner == {} and d.sym_parent is None
    b = Box(items=sb.List())
    with pytest.raises(sb.CycleError):
        b.items.insert(0, b)
    with pytest.raises(sb.CycleError):
        b.rebind({"items": b})
    assert b.items == []
    assert isinstance(sb.CycleError("x"), sb.SymbolicValueError)


# ---- sealing -------------------------------------------------------------------------------------
def test_sealed_containers_refuse_every_edit():
    d = sb.Dict(a=1, xs=[1, 2]).seal()
    xs = d.xs
    edits = [
        lambda: d.__setitem__("b", 1),
        lambda: d.__delitem__("a"),
        lambda: d.update(a=2),
        lambda: d.pop("a"),
        lambda: d.setdefault("q", 1),
        lambda: d.clear(),
        lambda: xs.append(3),
        lambda: xs.insert(0, 3),
        lambda: xs.extend([3]),
        lambda: xs.pop(),
        lambda: xs.__setitem__(0, 5),
        lambda: xs.__setitem__(slice(0, 1), [5]),
        lambda: xs.__delitem__(0),
        lambda: xs.sort(),
        lambda: xs.reverse(),
        lambda: xs.clear(),
    ]
    for edit in edits:
        with pytest.raises(sb.SealedError):
            edit()
    assert d == {"a": 1, "xs": [1, 2]}
    d.seal(False)
    xs.append(3)
    assert d.xs == [1, 2, 3]


def test_sealed_error_names_the_path():
    d = sb.Dict(inner=sb.Dict(xs=[1])).seal()
    with pytest.raises(sb.SealedError, match=r"^inner.xs: cannot edit a sealed List"):
        d.inner.xs.append(1)
    assert isinstance(sb.SealedError("x"), sb.SymbolicError)


# ---- navigation ----------------------------------------------------------------------------------
def test_sym_get_and_sym_has():
    d = sb.Dict(a=[1, {"b": 2}], c=None)
    assert d.sym_get("a[1].b") == 2
    assert d.sym_get("a[-1].b") == 2
    assert d.sym_get("") is d
    assert d.a.sym_get("[1].b") == 2
    assert d.sym_has("a[0]") and not d.sym_has("a[5]") and not d.sym_has("x")
    assert d.sym_get("x", default=3) == 3
    assert d.sym_get("a[0].q", default=None) is None
    with pytest.raises(sb.SymbolicKeyError, match="no key 'x'"):
        d.sym_get("x")
    with pytest.raises(sb.SymbolicKeyError, match=r"^a\[0\]: cannot look up key 'q' in a int"):
        d.sym_get("a[0].q")
    with pytest.raises(sb.SymbolicKeyError, match=r"^a: no index 9 in a list of 2"):
        d.sym_get("a[9]")


def test_sym_root_and_values():
    d = sb.Dict(a=sb.Dict(b=sb.List([1])))
    assert d.a.b.sym_root is d and d.sym_root is d
    assert list(d.a.sym_keys()) == ["b"]
    assert list(d.a.b.sym_values()) == [1]


# ---- pickling and copying ------------------------------------------------------------------------
def test_containers_pickle_and_deepcopy():
    d = sb.Dict(a=[1, {"b": 2}])
    for u in (pickle.loads(pickle.dumps(d)), copy.deepcopy(d), copy.copy(d)):
        assert type(u) is sb.Dict and type(u.a) is sb.List and type(u.a[1]) is sb.Dict
        assert u == d and u.a is not d.a
        assert u.a[1].sym_path == "a[1]" and u.a.sym_parent is u
