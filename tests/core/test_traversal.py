"""Tests of ``symbo.core.traversal``: clone, traverse, query."""

import re
from typing import Any

import symbo as sb
from symbo.core.traversal import TraverseAction


class Opt(sb.Object):
    lr: float = 0.1
    momentum: float = 0.9


class Net(sb.Object):
    layers: list[int] = [64, 32]
    opt: Opt = Opt()
    sched: Any = None


def symbolic_ids(value: Any) -> set[int]:
    ids: set[int] = set()
    sb.traverse(value, lambda p, v, parent: ids.add(id(v)) if isinstance(v, sb.Symbolic) else None)
    return ids


# ---- clone ---------------------------------------------------------------------------------------
def test_deep_clone_is_equal_and_shares_no_symbolic_node():
    n = Net(sched=sb.Dict(lr=0.01, steps=[1, 2]))
    c = sb.clone(n)
    assert sb.eq(c, n) and c is not n
    assert c.sym_parent is None
    assert symbolic_ids(c).isdisjoint(symbolic_ids(n))
    assert c.opt.sym_parent is c and c.sched.steps.sym_path == "sched.steps"


def test_clone_of_a_subtree_is_a_new_root():
    n = Net()
    c = sb.clone(n.opt)
    assert c.sym_parent is None and c.sym_path.is_root
    assert n.opt.sym_parent is n


def test_deep_and_shallow_clone_of_non_symbolic_leaves():
    payload = {1, 2}
    n = Net(sched=payload)
    deep = sb.clone(n, deep=True)
    shallow = sb.clone(n, deep=False)
    assert deep.sched == payload and deep.sched is not payload
    assert shallow.sched is payload
    # both kinds of clone copy every symbolic node
    assert symbolic_ids(shallow).isdisjoint(symbolic_ids(n))


def test_clone_is_independent_of_the_original():
    n = Net()
    c = sb.clone(n)
    c.rebind({"opt.lr": 0.5, "layers[0]": 1})
    c.layers.append(3)
    assert n.opt.lr == 0.1 and n.layers == [64, 32]


def test_clone_keeps_element_checks_and_sealing():
    n = Net().seal()
    c = sb.clone(n)
    assert c.is_sealed and c.layers.is_sealed
    c.seal(False)
    try:
        c.layers.append("x")
    except sb.SymbolicTypeError as e:
        assert str(e).startswith("layers[2]: expected int")
    else:
        raise AssertionError("the element check was lost")


def test_clone_of_plain_values():
    xs = [1, [2]]
    c = sb.clone(xs)
    assert c == xs and c[1] is not xs[1]
    assert sb.clone(xs, deep=False) is xs
    assert sb.clone(3) == 3


# ---- traverse ------------------------------------------------------------------------------------
def test_traverse_visits_preorder_with_parents():
    n = Net(sched=[1])
    seen = []
    assert sb.traverse(n, lambda p, v, parent: seen.append((str(p), parent))) is True
    assert [p for p, _ in seen] == [
        "", "layers", "layers[0]", "layers[1]", "opt", "opt.lr", "opt.momentum", "sched",
        "sched[0]",
    ]
    assert seen[0][1] is None
    assert dict(seen)["opt.lr"] is n.opt


def test_traverse_skip():
    n = Net()
    seen = []

    def visit(path, value, parent):
        seen.append(str(path))
        return TraverseAction.SKIP if path == "opt" else TraverseAction.ENTER

    assert sb.traverse(n, visit) is True
    assert "opt" in seen and "opt.lr" not in seen and "sched" in seen


def test_traverse_false_means_skip():
    seen = []
    sb.traverse(sb.Dict(a=[1], b=2), lambda p, v, parent: seen.append(str(p)) or p != "a")
    assert seen == ["", "a", "b"]


def test_traverse_stop():
    n = Net()
    seen = []

    def visit(path, value, parent):
        seen.append(str(path))
        return TraverseAction.STOP if path == "layers[0]" else None

    assert sb.traverse(n, visit) is False
    assert seen == ["", "layers", "layers[0]"]


def test_traverse_postorder():
    post = []
    sb.traverse(sb.Dict(a=[1]), None, lambda p, v, parent: post.append(str(p)))
    assert post == ["a[0]", "a", ""]
    stopped = []
    result = sb.traverse(
        sb.Dict(a=[1, 2], b=3), None,
        lambda p, v, parent: (stopped.append(str(p)), TraverseAction.STOP)[1] if p == "a[0]"
        else stopped.append(str(p)),
    )
    assert result is False and stopped == ["a[0]"]


def test_traverse_a_leaf():
    seen = []
    assert sb.traverse(5, lambda p, v, parent: seen.append((p, v)))
    assert seen == [(sb.KeyPath(), 5)]


# ---- query ---------------------------------------------------------------------------------------
def test_query_by_path_regex_uses_fullmatch():
    n = Net(sched=sb.Dict(lr=0.01))
    found = sb.query(n, path_regex=r".*lr")
    assert found == {"opt.lr": 0.1, "sched.lr": 0.01}
    assert all(isinstance(k, sb.KeyPath) for k in found)
    assert sb.query(n, path_regex=r"lr") == {}  # no partial match
    assert sb.query(n, path_regex=r"opt\.lr") == {"opt.lr": 0.1}
    layers = sb.query(n, path_regex=re.compile(r"layers\[\d+\]"))
    assert layers == {"layers[0]": 64, "layers[1]": 32}


def test_query_by_where_and_both():
    n = Net()
    floats = sb.query(n, where=lambda v: isinstance(v, float))
    assert list(floats) == ["opt.lr", "opt.momentum"]
    assert sb.query(n, path_regex=r"opt\..*", where=lambda v: v > 0.5) == {"opt.momentum": 0.9}


def test_query_returns_nodes_in_preorder_including_the_root():
    n = Net()
    found = sb.query(n, where=lambda v: isinstance(v, sb.Symbolic))
    assert list(found) == ["", "layers", "opt"]
    assert found[""] is n and found["opt"] is n.opt


def test_query_enter_selected():
    n = Net(sched=Opt(lr=0.5))
    objs = sb.query(n, where=lambda v: isinstance(v, sb.Object))
    assert list(objs) == ["", "opt", "sched"]
    top = sb.query(n, where=lambda v: isinstance(v, sb.Object), enter_selected=False)
    assert list(top) == [""]
    under = sb.query(n.opt, where=lambda v: True, enter_selected=False)
    assert list(under) == [""]


def test_query_custom_selector():
    n = Net()
    found = sb.query(n, custom_selector=lambda path, v: path.depth == 2)
    assert list(found) == ["layers[0]", "layers[1]", "opt.lr", "opt.momentum"]


def test_query_sees_edits():
    n = Net()
    n.rebind({"opt.lr": 0.7})
    n.layers.insert(0, 1)
    assert sb.query(n, path_regex=r"opt\.lr") == {"opt.lr": 0.7}
    assert sb.query(n, path_regex=r"layers\[0\]") == {"layers[0]": 1}
