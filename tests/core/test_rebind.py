"""Tests of ``symbo.core.rebind``: validated, atomic, in-place edits by key path."""

from typing import Any

import pytest

import symbo as sb


class Head(sb.Object):
    layers: list[int] = [64]
    act: str = "relu"


class Model(sb.Object):
    lr: float = 1e-3
    head: Head = Head()
    extra: Any = None
    tags: dict[str, str] = {}


def test_rebind_by_dict_of_key_paths_returns_the_target():
    m = Model()
    out = m.rebind({"head.layers[0]": 32, "lr": 0.1, "head.act": "tanh"})
    assert out is m
    assert (m.lr, m.head.layers[0], m.head.act) == (0.1, 32, "tanh")


def test_rebind_accepts_key_path_objects():
    m = Model()
    m.rebind({sb.KeyPath(("head", "layers", 0)): 5})
    assert m.head.layers == [5]


def test_rebind_by_kwargs_and_both():
    m = Model()
    m.rebind(lr=0.5)
    assert m.lr == 0.5
    m.rebind({"head.act": "gelu"}, lr=0.25)
    assert (m.lr, m.head.act) == (0.25, "gelu")
    assert sb.rebind(m, lr=1) is m and m.lr == 1.0


def test_rebind_by_rebinder_function():
    m = Model(head=Head(layers=[1, 2, 3]))
    seen = []

    def double_ints(path, value, parent):
        seen.append(str(path))
        return value * 2 if type(value) is int else value

    m.rebind(double_ints)
    assert m.head.layers == [2, 4, 6]
    assert "head.layers[2]" in seen and "" not in seen  # the root itself is not offered
    assert m.lr == 1e-3


def test_rebinder_replacing_a_node_does_not_visit_its_old_children():
    m = Model()
    seen = []

    def swap(path, value, parent):
        seen.append(str(path))
        if path == "head":
            return Head(layers=[7])
        return value

    m.rebind(swap)
    assert m.head.layers == [7] and m.head.sym_parent is m
    assert not any(p.startswith("head.") for p in seen)


def test_rebinder_with_kwargs():
    m = Model()
    m.rebind(lambda p, v, parent: "swish" if p == "head.act" else v, lr=0.5)
    assert (m.head.act, m.lr) == ("swish", 0.5)


def test_rebinder_errors_are_validated_and_atomic():
    m = Model(head=Head(layers=[1, 2]))
    with pytest.raises(sb.SymbolicTypeError, match=r"^head.layers\[1\]: expected int"):
        m.rebind(lambda p, v, parent: "x" if p == "head.layers[1]" else
                 (v + 100 if type(v) is int else v))
    assert m.head.layers == [1, 2]


def test_rebind_validates_with_the_full_path():
    m = Model()
    with pytest.raises(sb.SymbolicTypeError) as info:
        m.rebind({"head.layers[0]": "wide"})
    assert str(info.value) == "head.layers[0]: expected int, got str 'wide'"
    with pytest.raises(sb.SymbolicTypeError, match="^lr: expected float, got str 'fast'"):
        m.rebind(lr="fast")


def test_rebind_below_a_subtree_reports_paths_from_the_root():
    m = Model()
    with pytest.raises(sb.SymbolicTypeError, match=r"^head.layers\[0\]: expected int"):
        m.head.rebind({"layers[0]": "x"})


def test_rebind_is_atomic():
    m = Model(head=Head(layers=[1, 2]), extra=[1], tags={"a": "x"})
    before = sb.clone(m)
    old_head = m.head
    with pytest.raises(sb.SymbolicTypeError):
        m.rebind({
            "lr": 0.5,                    # valid
            "head": Head(layers=[9]),     # valid, replaces a subtree
            "extra[1]": 2,                # valid append
            "tags.b": "y",                # valid new key
            "tags.a": 3,                  # invalid
        })
    assert sb.eq(m, before)
    assert m.head is old_head and old_head.sym_parent is m
    assert m.extra == [1] and "b" not in m.tags


def test_rebind_with_unknown_path_is_atomic_and_names_the_path():
    m = Model(extra=[1, 2])
    before = sb.clone(m)
    with pytest.raises(sb.SymbolicKeyError) as info:
        m.rebind({"lr": 0.5, "extra[2]": 3, "head.nope": 1})
    assert "head.nope" in str(info.value)
    assert "Head has no field 'nope' (fields: layers, act)" in str(info.value)
    assert sb.eq(m, before)


@pytest.mark.parametrize("path,expected", [
    ("nope", "nope"),
    ("head.nope", "head.nope"),
    ("head.layers[5]", "head.layers[5]"),
    ("head.layers.x", "head.layers.x"),
    ("lr.x", "lr.x"),
    ("missing.deeper.path", "missing.deeper.path"),
])
def test_unknown_key_path_is_a_key_error_naming_the_path(path, expected):
    m = Model()
    with pytest.raises(sb.SymbolicKeyError) as info:
        m.rebind({path: 1})
    assert expected in str(info.value)
    assert isinstance(info.value, KeyError)
    assert sb.eq(m, Model())


def test_malformed_key_path():
    with pytest.raises(sb.SymbolicValueError, match="malformed key path"):
        Model().rebind({"head..act": 1})


def test_rebind_root_is_refused():
    with pytest.raises(sb.SymbolicKeyError, match="root"):
        Model().rebind({"": Model()})


def test_rebind_takes_only_a_dict_or_a_function():
    with pytest.raises(sb.SymbolicTypeError):
        Model().rebind([("lr", 1.0)])
    with pytest.raises(sb.SymbolicTypeError):
        sb.rebind({"lr": 1.0}, lr=2.0)


def test_rebind_list_append_and_delete_with_missing():
    m = Model(extra=[1, 2])
    m.rebind({"extra[2]": 3, "extra[3]": 4})
    assert m.extra == [1, 2, 3, 4]
    m.rebind({"extra[0]": sb.MISSING})
    assert m.extra == [2, 3, 4]
    m.rebind({"tags.a": "x"})
    m.rebind({"tags.a": sb.MISSING})
    assert "a" not in m.tags


def test_rebind_missing_resets_a_field_to_its_default():
    m = Model(lr=0.5, head=Head(layers=[1]))
    m.rebind(lr=sb.MISSING, head=sb.MISSING)
    assert m.lr == 1e-3 and m.head.layers == [64] and m.head.sym_parent is m
    assert m.head is not Model.sym_schema().by_name["head"].default


def test_rebind_missing_on_a_required_field_fails():
    class Req(sb.Object):
        x: int

    r = Req(1)
    with pytest.raises(sb.SymbolicTypeError, match="^x: a required field cannot be MISSING"):
        r.rebind(x=sb.MISSING)
    assert r.x == 1


def test_failed_list_append_in_a_rebind_is_undone():
    m = Model(extra=[1])
    with pytest.raises(sb.SymbolicError):
        m.rebind({"extra[1]": 2, "extra[2]": 3, "lr": "bad"})
    assert m.extra == [1]
    m2 = Model(head=Head(layers=[1]))
    with pytest.raises(sb.SymbolicTypeError):
        m2.rebind({"head.layers[1]": 2, "head.layers[2]": "x"})
    assert m2.head.layers == [1]


def test_failed_delete_in_a_rebind_is_undone():
    node = sb.Dict(a=1)
    m = Model(extra=[node, 2])
    with pytest.raises(sb.SymbolicError):
        m.rebind({"extra[0]": sb.MISSING, "lr": "bad"})
    assert m.extra[0] is node and node.sym_path == "extra[0]"
    assert m.extra[1] == 2


def test_rebind_keeps_parent_links_and_paths():
    m = Model()
    new_head = Head(layers=[1, 2])
    m.rebind(head=new_head, extra={"a": [1, {"b": 2}]})
    assert m.head is new_head and new_head.sym_parent is m
    assert m.extra.a[1].sym_path == "extra.a[1]"
    assert m.head.layers.sym_path == "head.layers"


def test_rebind_unlinks_replaced_nodes():
    m = Model()
    old = m.head
    m.rebind(head=Head())
    assert old.sym_parent is None and old.sym_path.is_root


def test_rebind_with_a_node_owned_elsewhere_clones_it():
    a, b = Model(), Model(head=Head(layers=[5]))
    a.rebind(head=b.head)
    assert a.head is not b.head and sb.eq(a.head, b.head)
    assert b.head.sym_parent is b and a.head.sym_parent is a


def test_rebind_sealed_raises_sealed_error_and_changes_nothing():
    m = Model().seal()
    assert m.is_sealed and m.head.is_sealed and m.head.layers.is_sealed
    with pytest.raises(sb.SealedError, match="^head.layers: cannot edit a sealed List"):
        m.rebind({"head.layers[0]": 1})
    with pytest.raises(sb.SealedError, match="cannot edit a sealed Model"):
        m.rebind(lr=0.1)
    with pytest.raises(sb.SealedError):
        m.lr = 0.1
    assert sb.eq(m, Model())
    m.seal(False)
    m.rebind(lr=0.1)
    assert m.lr == 0.1 and not m.head.is_sealed


def test_sealing_a_subtree_only():
    m = Model()
    m.head.seal()
    m.rebind(lr=0.2)
    with pytest.raises(sb.SealedError):
        m.rebind({"head.act": "x", "lr": 0.3})
    assert m.lr == 0.2
    m.rebind(head=Head(act="new"))  # the field holding a sealed node can still be rebound
    assert m.head.act == "new"


def test_cycle_through_rebind():
    m = Model()
    with pytest.raises(sb.CycleError, match="^extra: a symbolic value cannot contain itself"):
        m.rebind(extra=m)
    inner = sb.Dict()
    m.rebind(extra=inner)
    with pytest.raises(sb.CycleError, match="^extra.loop"):
        m.rebind({"extra.loop": m})
    assert m.extra == {}


def test_empty_rebind_is_a_no_op():
    m = Model()
    assert m.rebind() is m and m.rebind({}) is m
    assert sb.eq(m, Model())


def test_rebind_on_a_container_root():
    d = sb.Dict(a=[1, 2], b=sb.Dict(c=1))
    d.rebind({"a[0]": 5, "b.c": 2, "b.new": [3]})
    assert d == {"a": [5, 2], "b": {"c": 2, "new": [3]}}
    assert d.b.new.sym_path == "b.new"
    xs = sb.List([1, 2])
    assert xs.rebind({"[1]": 20}) == [1, 20]
