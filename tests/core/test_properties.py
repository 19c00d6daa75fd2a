"""Property tests over random symbolic trees (hypothesis).

Trees mix a few symbolic classes, ``sb.List`` and ``sb.Dict``, with int/float/str/bool/None
leaves, nested a few levels.
"""

import json
import re
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symbo as sb

SETTINGS = settings(max_examples=100, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


class PNode(sb.Object):
    a: Any = None
    b: Any = None


class PLeafy(sb.Object):
    n: int = 0
    x: float = 0.0
    s: str = ""
    flag: bool = False
    child: Any = None


class PPair(sb.Object):
    items: list[Any] = []
    table: dict[str, Any] = {}


# Positions that accept any value (a leaf or a whole subtree); the others are typed leaves.
TYPED_FIELDS = {PLeafy: {"n", "x", "s", "flag"}, PPair: {"items", "table"}}


def _keys(text: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return text.filter(lambda k: k not in ("_type", "_ref"))


def tree_strategy(ints, floats, texts, keys, max_leaves: int = 12) -> st.SearchStrategy:
    leaves = st.one_of(ints, floats, texts, st.booleans(), st.none())

    def extend(children: st.SearchStrategy) -> st.SearchStrategy:
        return st.one_of(
            st.lists(children, max_size=3).map(sb.List),
            st.dictionaries(keys, children, max_size=3).map(sb.Dict),
            st.builds(PNode, a=children, b=children),
            st.builds(PLeafy, n=ints, x=floats, s=texts, flag=st.booleans(), child=children),
            st.builds(PPair, items=st.lists(children, max_size=3),
                      table=st.dictionaries(keys, children, max_size=3)),
        )

    # The root is always a symbolic node.
    return extend(st.recursive(leaves, extend, max_leaves=max_leaves))


# Wide value domains: for round trips, clones and rebinds.
floats_any = st.floats(allow_nan=True, allow_infinity=True)
trees = tree_strategy(
    st.integers(-(2**40), 2**40), floats_any, st.text(max_size=6),
    _keys(st.text(max_size=5)),
)
# Narrow domains, so that independently drawn trees are often equal. Dict keys are drawn in
# sorted order, because equal dicts may differ in key order and format keeps insertion order.
small = tree_strategy(
    st.integers(0, 2), st.sampled_from([0.5, 1.5]), st.sampled_from(["", "a"]),
    st.sampled_from(["k", "m"]), max_leaves=4,
)


def sorted_dicts(value: Any) -> Any:
    """Rebuilds a tree with every Dict's keys in sorted order (a canonical form)."""
    if isinstance(value, sb.Dict):
        return sb.Dict({k: sorted_dicts(value[k]) for k in sorted(value)})
    if isinstance(value, sb.List):
        return sb.List([sorted_dicts(v) for v in value])
    if isinstance(value, sb.Object):
        return type(value)(**{k: sorted_dicts(v) for k, v in value.sym_items()})
    return value


def symbolic_nodes(root: Any) -> list[sb.Symbolic]:
    nodes: list[sb.Symbolic] = []
    sb.traverse(root, lambda p, v, parent: nodes.append(v) if isinstance(v, sb.Symbolic) else None)
    return nodes


def assert_links(root: sb.Symbolic) -> None:
    """Every node's sym_path leads back to it from the root, by KeyPath and by its text."""
    assert root.sym_parent is None
    for node in symbolic_nodes(root):
        path = node.sym_path
        assert root.sym_get(path) is node
        assert root.sym_get(str(path)) is node
        assert node.sym_root is root
        if node is not root:
            assert node.sym_parent.sym_get(sb.KeyPath((path.key,))) is node


def leaf_paths(root: sb.Symbolic) -> list[sb.KeyPath]:
    return [p for p in sb.query(root, where=lambda v: not isinstance(v, sb.Symbolic))]


def any_typed(root: sb.Symbolic, path: sb.KeyPath) -> bool:
    """Whether the position at ``path`` accepts any value."""
    parent = root.sym_get(path.parent)
    return path.key not in TYPED_FIELDS.get(type(parent), ())


def value_like(old: Any) -> st.SearchStrategy:
    """A new value of the same kind as ``old`` (so a typed field accepts it)."""
    t = type(old)
    if t is bool:
        return st.booleans()
    if t is int:
        return st.integers()
    if t is float:
        return st.floats(allow_nan=False)
    if t is str:
        return st.text(max_size=5)
    return st.one_of(st.integers(), st.text(max_size=3), st.none())


# ---- properties ----------------------------------------------------------------------------------
@SETTINGS
@given(trees)
def test_generated_trees_are_well_linked(tree):
    assert_links(tree)


@SETTINGS
@given(trees)
def test_clone_equals_original_and_shares_no_symbolic_node(tree):
    for deep in (True, False):
        c = sb.clone(tree, deep=deep)
        assert sb.eq(c, tree) and sb.eq(tree, c)
        assert sb.hash(c) == sb.hash(tree)
        assert {id(n) for n in symbolic_nodes(c)}.isdisjoint(id(n) for n in symbolic_nodes(tree))
        assert len(symbolic_nodes(c)) == len(symbolic_nodes(tree))
        assert_links(c)


@SETTINGS
@given(trees)
def test_json_round_trip(tree):
    data = sb.to_json(tree)
    snapshot = json.dumps(data, sort_keys=True)
    back = sb.from_json(data)
    assert sb.eq(back, tree)
    assert json.dumps(data, sort_keys=True) == snapshot  # the input is not modified
    text = json.dumps(data)
    assert sb.eq(sb.from_json(json.loads(text)), tree)
    assert sb.eq(sb.from_json_str(text), tree)
    assert sb.to_json_str(back, sort_keys=True) == snapshot
    assert_links(back)


@SETTINGS
@given(trees, st.data())
def test_rebind_of_a_random_leaf(tree, data):
    paths = leaf_paths(tree)
    if not paths:
        return
    path = data.draw(st.sampled_from(paths), label="path")
    new = data.draw(value_like(tree.sym_get(path)), label="new value")
    before = sb.clone(tree)
    tree.rebind({path: new})
    assert sb.eq(tree.sym_get(path), new)
    assert sb.eq(tree.sym_get(str(path)), new)
    found = sb.query(tree, path_regex=re.escape(str(path)))
    assert list(found) == [path] and sb.eq(found[path], new)
    assert_links(tree)
    # only that leaf changed
    assert set(sb.diff(before, tree)) <= {path}


@SETTINGS
@given(trees, st.data())
def test_rebind_of_a_random_position_to_a_subtree(tree, data):
    paths = [p for p in sb.query(tree) if not p.is_root and any_typed(tree, p)]
    if not paths:
        return
    path = data.draw(st.sampled_from(paths), label="path")
    subtree = data.draw(trees, label="subtree")
    old = tree.sym_get(path)
    tree.rebind({path: subtree})
    assert tree.sym_get(path) is subtree and subtree.sym_path == path
    if isinstance(old, sb.Symbolic):
        assert old.sym_parent is None
        assert_links(old)
    assert_links(tree)


@SETTINGS
@given(trees, st.data())
def test_failed_rebind_changes_nothing(tree, data):
    paths = [p for p in leaf_paths(tree) if not any_typed(tree, p)]
    good = leaf_paths(tree)
    if not paths:
        return
    bad_path = data.draw(st.sampled_from(paths), label="typed path")
    good_path = data.draw(st.sampled_from(good), label="good path")
    before = sb.clone(tree)
    bad_value = object()  # fits no typed field
    try:
        tree.rebind({good_path: data.draw(value_like(tree.sym_get(good_path))),
                     bad_path: bad_value})
    except sb.SymbolicTypeError as e:
        assert str(bad_path) in str(e)
    else:
        raise AssertionError("an invalid value was accepted")
    assert sb.eq(tree, before)
    assert_links(tree)


@SETTINGS
@given(small, small)
def test_hash_agrees_with_eq(a, b):
    assert sb.eq(a, b) == sb.eq(b, a)
    if sb.eq(a, b):
        assert sb.hash(a) == sb.hash(b)
    assert sb.hash(sb.from_json(sb.to_json(a))) == sb.hash(a)


@SETTINGS
@given(trees)
def test_format_is_deterministic(tree):
    text = sb.format(tree)
    assert sb.format(tree) == text
    assert sb.format(sb.clone(tree)) == text
    assert sb.format(sb.from_json(sb.to_json(tree))) == text
    compact = sb.format(tree, compact=True)
    assert "\n" not in compact
    if isinstance(tree, sb.Object):
        assert repr(tree) == compact


@SETTINGS
@given(small, small)
def test_equal_trees_format_equally(a, b):
    a, b = sorted_dicts(a), sorted_dicts(b)
    if sb.eq(a, b):
        assert sb.format(a) == sb.format(b)
        assert sb.format(a, hide_default=True) == sb.format(b, hide_default=True)
    else:
        assert sb.format(a, compact=True) != sb.format(b, compact=True)
