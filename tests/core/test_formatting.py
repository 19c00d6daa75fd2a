"""Tests of ``symbo.core.formatting``: readable, deterministic text."""

import math
from typing import Any

import symbo as sb


class FmtLayer(sb.Object):
    units: int = 8
    act: str = "relu"


class FmtModel(sb.Object):
    lr: float = 0.001
    layers: list[FmtLayer] = []
    extra: Any = None


def test_short_values_stay_on_one_line():
    assert sb.format(FmtLayer(16)) == "FmtLayer(units=16, act='relu')"
    assert sb.format(sb.Dict(lr=0.1, layers=[64, 32])) == "{'lr': 0.1, 'layers': [64, 32]}"
    assert sb.format(sb.List([])) == "[]"
    assert sb.format(sb.Dict()) == "{}"


def test_leaves():
    assert sb.format(sb.List([1, 1.5, "a'b", None, True, sb.MISSING])) == (
        "[1, 1.5, \"a'b\", None, True, MISSING]"
    )
    assert sb.format(sb.List([math.nan, math.inf, -math.inf])) == "[nan, inf, -inf]"
    assert sb.format((1,)) == "(1,)"
    assert sb.format(sb.Dict(t=(1, "a"))) == "{'t': (1, 'a')}"


def test_long_values_break_one_child_per_line():
    m = FmtModel(layers=[FmtLayer(i) for i in range(4)], extra={"name": "x" * 30})
    assert sb.format(m) == (
        "FmtModel(\n"
        "  lr=0.001,\n"
        "  layers=[\n"
        "    FmtLayer(units=0, act='relu'),\n"
        "    FmtLayer(units=1, act='relu'),\n"
        "    FmtLayer(units=2, act='relu'),\n"
        "    FmtLayer(units=3, act='relu')\n"
        "  ],\n"
        "  extra={'name': 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'}\n"
        ")"
    )


def test_compact_is_one_line_and_is_the_repr():
    m = FmtModel(layers=[FmtLayer(i) for i in range(4)])
    text = sb.format(m, compact=True)
    assert "\n" not in text
    assert repr(m) == text
    assert str(m) == sb.format(m)


def test_indent_option():
    m = FmtModel(layers=[FmtLayer(i) for i in range(4)])
    assert sb.format(m, indent=4).splitlines()[1] == "    lr=0.001,"


def test_lines_respect_max_width_when_possible():
    cases = [  # (tree, widths that its longest unbreakable line fits in)
        (sb.Dict(a_very_long_key_name_here=list(range(20)), b=1), (40, 60, 80)),
        (sb.Dict(k=sb.Dict(a_very_long_key_name_here_and_more_more=list(range(18)), b=1)),
         (60, 80)),
        (FmtModel(layers=[FmtLayer(i, act="a" * 10) for i in range(3)], extra=list(range(25))),
         (40, 60, 80)),
        (sb.List([sb.List(list(range(19)))] * 3), (40, 60, 80)),
    ]
    for tree, widths in cases:
        for width in widths:
            text = sb.format(tree, max_width=width)
            assert all(len(line) <= width for line in text.splitlines()), (width, text)


def test_format_is_deterministic():
    def build():
        return FmtModel(layers=[FmtLayer(3)], extra={"b": [1, {"c": None}], "a": (1, 2)})

    assert sb.format(build()) == sb.format(build()) == sb.format(sb.clone(build()))
    assert sb.format(sb.from_json(sb.to_json(build()))) == sb.format(build())


def test_hide_default():
    m = FmtModel(lr=0.001, layers=[FmtLayer(16), FmtLayer()])
    assert sb.format(m, hide_default=True) == "FmtModel(layers=[FmtLayer(units=16), FmtLayer()])"
    assert sb.format(FmtModel(), hide_default=True) == "FmtModel()"
    assert "lr=" in sb.format(FmtModel(lr=0.5), hide_default=True)


def test_registered_values_print_by_name():
    def act(x):
        return x

    sb.register(act, "fmt.tests.act_fn")
    assert sb.format(sb.Dict(f=act)) == "{'f': act_fn}"
    assert sb.format(sb.Dict(cls=FmtLayer)) == "{'cls': FmtLayer}"


def test_ambiguous_short_names_print_in_full():
    class FmtLayer(sb.Object):  # noqa: F811 - a second class with the same short name
        units: int = 1

    assert sb.format(FmtLayer(), compact=True) == f"{FmtLayer._sym_type_name}(units=1)"
    assert sb.format(globals()["FmtLayer"](), compact=True).startswith(f"{__name__}.FmtLayer(")


def test_containers_str_is_format():
    d = sb.Dict(a=[1])
    assert str(d) == sb.format(d) and str(d.a) == "[1]"
