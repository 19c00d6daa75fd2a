"""Tests of ``symbo.core.keypath``: parsing, printing, arithmetic, ordering."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symbo as sb
from symbo.core.keypath import KeyPath


def test_parse_and_str():
    p = KeyPath.parse("head.layers[0].units")
    assert p.keys == ("head", "layers", 0, "units")
    assert str(p) == "head.layers[0].units"
    assert repr(p) == "KeyPath('head.layers[0].units')"


def test_parse_forms():
    assert KeyPath.parse("").keys == ()
    assert KeyPath.parse("[0]").keys == (0,)
    assert KeyPath.parse("[-1]").keys == (-1,)
    assert KeyPath.parse("a[0][1]").keys == ("a", 0, 1)
    assert KeyPath.parse("a['odd key'].b").keys == ("a", "odd key", "b")
    assert KeyPath.parse('a["it\'s"]').keys == ("a", "it's")
    assert KeyPath.parse("a[ 3 ]").keys == ("a", 3)
    assert KeyPath.parse("['0']").keys == ("0",)
    p = KeyPath.parse("a.b")
    assert KeyPath.parse(p) is p


def test_str_quotes_keys_that_are_not_identifiers():
    assert str(KeyPath(("a", "odd key", 0))) == "a['odd key'][0]"
    assert str(KeyPath(("0",))) == "['0']"
    assert str(KeyPath(("",))) == "['']"
    assert str(KeyPath((0, "a"))) == "[0].a"


@pytest.mark.parametrize("text", ["a..b", ".a", "a.", "a[", "a[x]", "a b", "[0]b", "a.[0]", "a$"])
def test_malformed_paths(text):
    with pytest.raises(sb.SymbolicValueError, match="malformed key path"):
        KeyPath.parse(text)


def test_parse_rejects_non_strings():
    with pytest.raises(sb.SymbolicValueError):
        KeyPath.parse(3.0)  # type: ignore[arg-type]


def test_parse_takes_an_int_as_one_list_index():
    assert KeyPath.parse(3).keys == (3,) and str(KeyPath.parse(-1)) == "[-1]"


def test_keys_must_be_str_or_int():
    with pytest.raises(sb.SymbolicValueError):
        KeyPath((1.5,))
    with pytest.raises(sb.SymbolicValueError):
        KeyPath((True,))


def test_properties():
    p = KeyPath.parse("a.b[2]")
    assert p.key == 2
    assert p.parent == "a.b"
    assert p.depth == 3 and len(p) == 3
    assert list(p) == ["a", "b", 2]
    assert not p.is_root and KeyPath().is_root
    assert KeyPath().key is None and KeyPath().parent.is_root


def test_arithmetic():
    p = KeyPath.parse("a")
    assert p + "b" == "a.b"
    assert p + 0 == "a[0]"
    assert p + KeyPath.parse("b[1]") == "a.b[1]"
    assert p + ["x", 2] == "a.x[2]"
    assert "z" + p == "z.a"
    assert (p + "b.c").keys == ("a", "b.c")  # a str is one key, not a path


def test_relative_to_and_prefix():
    p = KeyPath.parse("a.b[0].c")
    assert p.relative_to(KeyPath.parse("a.b")) == "[0].c"
    assert KeyPath.parse("a.b").is_prefix_of(p)
    assert not KeyPath.parse("a.c").is_prefix_of(p)
    with pytest.raises(sb.SymbolicValueError):
        p.relative_to(KeyPath.parse("x"))


def test_equality_and_hash_agree_with_text():
    p = KeyPath.parse("a[0]")
    assert p == "a[0]" and p == KeyPath(("a", 0))
    assert p != "a.0" and p != KeyPath(("a", "0"))
    assert hash(p) == hash(KeyPath(("a", 0)))
    assert {p: 1}["a[0]"] == 1
    assert (p == 3) is False


def test_immutable():
    p = KeyPath.parse("a")
    with pytest.raises(AttributeError):
        p.keys = ("b",)


def test_ordering_puts_indices_in_numeric_order():
    paths = [KeyPath.parse(t) for t in ["a[10]", "a[2]", "a.b", "a", "[1]"]]
    assert [str(p) for p in sorted(paths)] == ["[1]", "a", "a[2]", "a[10]", "a.b"]
    assert KeyPath.parse("a") < "b"


keys = st.one_of(st.integers(-1000, 1000), st.text(max_size=8))


@settings(max_examples=200, deadline=None)
@given(st.lists(keys, max_size=6))
def test_text_round_trip(key_list):
    p = KeyPath(key_list)
    q = KeyPath.parse(str(p))
    assert q.keys == tuple(key_list)
    assert q == p and hash(q) == hash(p)


@settings(max_examples=100, deadline=None)
@given(st.lists(keys, max_size=4), st.lists(keys, max_size=4))
def test_concatenation_and_relative_to_are_inverse(a, b):
    pa, pb = KeyPath(a), KeyPath(b)
    joined = pa + pb
    assert joined.keys == tuple(a) + tuple(b)
    assert pa.is_prefix_of(joined)
    assert joined.relative_to(pa) == pb
