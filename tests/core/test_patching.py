"""Tests of ``symbo.core.patching``: named rewrite rules (PyGlove's ``pg.patching``)."""

from typing import Any

import pytest

import symbo as sb


@sb.patcher
def set_value1(src, k, v="0"):
    return {k: v}


@sb.patcher
def set_value2(src, k: str, v: int):
    return {k: v}


@sb.patcher(name="replace_with")
def _replace(src, v: int):
    return {"": v}


@sb.patcher
def increment(src, by: int = 1):
    return lambda k, v, p: v + by if isinstance(v, int) else v


@sb.patcher
def compound(src):
    return [set_value2(k="a", v=1), "set_value2?k=b&v=2", {"c": 3}]


@sb.patcher
def with_validation(src):
    def validate(x):
        if "a" not in x:
            raise ValueError("key `a` does not exist")
    return {"a": 1}, validate


@sb.patcher
def options(src, flag: bool = False, ratio: float = 1.0, sizes: list[int] = (),
            note: str | None = "x", anything: Any = None):
    return {"flag": flag, "ratio": ratio, "sizes": list(sizes), "note": note,
            "anything": anything}


def assert_patched(src, rule, expected):
    out = sb.patch(src, rule)
    assert out is src and out == expected


def test_patcher_objects_and_uris():
    assert_patched(sb.Dict(), set_value1(k="a"), {"a": "0"})
    assert_patched(sb.Dict(), "set_value1?a&1", {"a": "1"})
    assert_patched(sb.Dict(), "set_value1?a&v=1", {"a": "1"})
    assert_patched(sb.Dict(), "set_value1?k=a&v=1", {"a": "1"})
    assert_patched(sb.Dict(), "set_value2?a&1", {"a": 1})
    assert_patched(sb.Dict(), 'set_value1?k="a"&v="1"', {"a": "1"})
    assert {"set_value1", "set_value2", "replace_with"} <= set(sb.patcher_names())


def test_patcher_replacing_the_value_and_rebinders():
    assert sb.patch(sb.Dict(), "replace_with?1") == 1
    assert sb.patching.from_uri("replace_with?7").patch(sb.Dict()) == 7
    assert sb.patch(sb.Dict(a=1, b=[2]), "increment?by=10") == {"a": 11, "b": [12]}
    assert sb.patch(sb.Dict(a=1), lambda k, v, p: v) == {"a": 1}


def test_patcher_composition_and_lists_of_rules():
    assert sb.patch(sb.Dict(x=1), compound()) == {"x": 1, "a": 1, "b": 2, "c": 3}
    assert sb.patch(sb.Dict(x=1), ["increment", {"y": 5}, "increment?2"]) == {"x": 4, "y": 7}


def test_patcher_with_validation():
    p = with_validation()
    x = p.patch(sb.Dict())
    p.validate(x)
    del x["a"]
    with pytest.raises(ValueError, match="key `a` does not exist"):
        p.validate(x)
    with pytest.raises(ValueError, match="key `a` does not exist"):  # sb.patch validates at end
        sb.patch(sb.Dict(), [with_validation(), {"a": sb.MISSING}])


def test_uri_arguments_are_read_by_their_annotations():
    out = sb.patch(sb.Dict(), "options?yes&0.5&1:2:3&none&anything=12")
    assert out == {"flag": True, "ratio": 0.5, "sizes": [1, 2, 3], "note": None,
                   "anything": "12"}
    assert sb.patch(sb.Dict(), "options?sizes=&flag=false")["sizes"] == []


def test_bad_patching_rules_and_uris():
    with pytest.raises(sb.SymbolicKeyError, match=r"patcher 'set_value2' has no argument 'x' "
                                                   r"\(arguments: k, v\)"):
        sb.patch(sb.Dict(), "set_value2?k=a&x=1")
    with pytest.raises(sb.SymbolicKeyError, match="no patcher named 'nope'"):
        sb.patch(sb.Dict(), "nope?1")
    with pytest.raises(sb.SymbolicKeyError, match="takes 2 arguments .* got 3 positional"):
        sb.patch(sb.Dict(), "set_value2?a&1&2")
    with pytest.raises(sb.SymbolicValueError, match="argument 'v': cannot read 'one' as int"):
        sb.patch(sb.Dict(), "set_value2?a&one")
    with pytest.raises(sb.SymbolicValueError, match="cannot read 'maybe' as a bool"):
        sb.patch(sb.Dict(), "options?flag=maybe")
    with pytest.raises(sb.SymbolicValueError, match="positional patcher arguments must come"):
        sb.patch(sb.Dict(), "set_value2?k=a&1")
    with pytest.raises(sb.SymbolicValueError, match="not a valid patcher name"):
        sb.patch(sb.Dict(), "bad name?1")
    with pytest.raises(sb.SymbolicKeyError, match="got argument 'k' twice"):
        sb.patch(sb.Dict(), "set_value2?a&k=b")
    with pytest.raises(sb.SymbolicTypeError, match="should be a dict of key paths"):
        sb.patch(sb.Dict(), 1)
    with pytest.raises(sb.SymbolicTypeError, match="patches symbolic values"):
        set_value1(k="a").patch(1)


def test_bad_patcher_definitions():
    with pytest.raises(sb.SymbolicTypeError, match="must take the value to patch"):
        @sb.patcher
        def no_target():
            return {}

    with pytest.raises(sb.SymbolicTypeError, match="cannot be given in a URI"):
        @sb.patcher
        def odd(src, x: dict = None):  # noqa: RUF013
            return {}

    @sb.patcher
    def bad_validator(src):
        return {"": 1}, 1

    with pytest.raises(sb.SymbolicTypeError, match="validator .* is not callable"):
        bad_validator().patch(sb.Dict())


@sb.patcher("by_positional_name")
def _named(src, steps: int):
    return {"steps": steps}


@sb.patcher
def forgets_to_return(src):
    src.rebind(steps=1)


def test_patcher_name_as_positional_and_the_errors_a_uri_user_meets():
    assert sb.patch(sb.Dict(steps=0), "by_positional_name?steps=3").steps == 3
    assert "by_positional_name" in sb.patcher_names()
    with pytest.raises(sb.SymbolicTypeError,
                       match=r"patcher 'by_positional_name' needs argument 'steps': give "
                             r"steps=\.\.\. in its URI"):
        sb.patch(sb.Dict(steps=0), "by_positional_name")
    with pytest.raises(sb.SymbolicKeyError, match="'steps' is given twice"):
        sb.patch(sb.Dict(steps=0), "by_positional_name?steps=1&steps=2")
    with pytest.raises(sb.SymbolicTypeError, match="patcher 'forgets_to_return' returned None"):
        sb.patch(sb.Dict(steps=0), "forgets_to_return")


class _Member(sb.Object):
    x: int = 1
    y: float = 0.5


def test_pattern_based_patching_as_pyglove():
    tree = sb.Dict(a=_Member(), b={"x": 5, "lr": 0.1}, c=[1, 2])
    sb.patching.patch_on_key(tree, "x", value_fn=lambda v: v + 10)
    assert tree.a.x == 11 and tree.b.x == 15
    sb.patching.patch_on_path(tree, r"c\[1\]", value=20)
    assert list(tree.c) == [1, 20]
    sb.patching.patch_on_value(tree, 1, value=-1)
    assert list(tree.c) == [-1, 20]
    sb.patching.patch_on_type(tree, float, value_fn=lambda v: v * 2)
    assert tree.a.y == 1.0 and tree.b.lr == 0.2
    sb.patching.patch_on_member(tree, _Member, "x", value=0)
    assert tree.a.x == 0 and tree.b.x == 15
    with pytest.raises(sb.SymbolicValueError, match="either value or value_fn"):
        sb.patching.patch_on_key(tree, "x", value=1, value_fn=abs)
