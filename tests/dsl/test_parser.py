"""Tests of ``symbo.dsl.parser``: the text language for spaces and symbolic objects."""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from typing import Any, Literal

import pytest

import symbo as sb
from symbo.core import registry
from symbo.dsl.parser import format_file


class PsTrainer(sb.Object):
    lr: float = 1e-3
    opt: str = "adam"
    layers: list[int] = [64]


class PsBlock(sb.Object, type_name="parser_tests.PsBlock"):
    width: int = 8
    mode: Literal["fast", "slow"] = "fast"
    act: Callable[..., Any] | None = None
    extra: Any = None


class PsNeeds(sb.Object):
    x: int
    y: int = 0


def relu(x: float) -> float:
    return max(x, 0.0)


sb.register(relu, "parser_tests.relu")


def parse_error(text: str, **kwargs: Any) -> sb.SpaceSyntaxError:
    with pytest.raises(sb.SpaceSyntaxError) as info:
        sb.parse(text, **kwargs)
    return info.value


# ---- the issue's example ----------------------------------------------------------------------
ISSUE_TEXT = ('PsTrainer(lr=float_range(1e-4, 0.1, scale=log), opt=one_of(["sgd", "adam"]), '
              'layers=[64, one_of([64, 128])])')


def test_the_issue_example():
    space = sb.parse(ISSUE_TEXT)
    expected = PsTrainer(lr=sb.float_range(1e-4, 0.1, scale="log"),
                         opt=sb.one_of(["sgd", "adam"]),
                         layers=[64, sb.one_of([64, 128])])
    assert sb.eq(space, expected)
    assert isinstance(space, PsTrainer)
    assert [d.id for d in sb.dna_spec(space)] == ["lr", "opt", "layers[1]"]
    assert sb.eq(sb.parse(sb.format(space)), space)


def test_the_file_form_has_named_entries_and_comments():
    text = """
    # A search space for a trainer.
    trainer = PsTrainer(
        lr=float_range(1e-4, 0.1, scale=log),   # log scale
        opt=one_of(["sgd", "adam"]),
        layers=[64, one_of([64, 128])],          # trailing commas are fine
    )

    # Blocks to choose from
    block = PsBlock(width=int_range(8, 64, name="width"), mode=slow)
    seeds = [1, 2, 3]  # a plain value
    """
    entries = sb.parse(text)
    assert isinstance(entries, sb.Dict)
    assert list(entries) == ["trainer", "block", "seeds"]
    assert sb.eq(entries.trainer, sb.parse(ISSUE_TEXT))
    assert sb.eq(entries.block, PsBlock(width=sb.int_range(8, 64, name="width"), mode="slow"))
    assert entries.seeds == [1, 2, 3]


def test_a_single_value_may_be_surrounded_by_comments():
    assert sb.parse("# before\n[1, 2]  # after\n# end") == [1, 2]


# ---- atoms ------------------------------------------------------------------------------------
@pytest.mark.parametrize("text, expected", [
    ("1", 1), ("-1", -1), ("+3", 3), ("0", 0), ("12345678901234567890", 12345678901234567890),
    ("1.5", 1.5), ("-2.5e-3", -0.0025), ("1E5", 1e5), ("1e+10", 1e10), (".5", 0.5), ("5.", 5.0),
    ("inf", math.inf), ("-inf", -math.inf),
    ("None", None), ("True", True), ("False", False),
])
def test_numbers_and_constants(text, expected):
    value = sb.parse(text)
    assert value == expected and type(value) is type(expected)


def test_nan_and_missing():
    assert math.isnan(sb.parse("nan"))
    assert sb.parse("MISSING") is sb.MISSING


@pytest.mark.parametrize("text, expected", [
    ('"plain"', "plain"),
    ("'single'", "single"),
    (r'"a\"b\'c"', "a\"b'c"),
    (r"'it\'s \"quoted\"'", "it's \"quoted\""),
    ('"it\'s"', "it's"),
    ("'say \"hi\"'", 'say "hi"'),
    (r'"tab\tnew\nline\\ \u00e9 \x41"', "tab\tnew\nline\\ \u00e9 A"),
    ('"# not a comment"', "# not a comment"),
    ('""', ""),
    ('"ünïcödé ✓"', "ünïcödé ✓"),
])
def test_strings(text, expected):
    assert sb.parse(text) == expected


def test_containers():
    assert sb.parse("()") == ()
    assert sb.parse("(1,)") == (1,)
    assert sb.parse("(1, 'a', (2, 3),)") == (1, "a", (2, 3))
    assert isinstance(sb.parse("[1, 2,]"), sb.List)
    assert sb.parse("[]") == []
    d = sb.parse("{a: 1, 'b c': [2, {\"d\": (3,)}], }")
    assert isinstance(d, sb.Dict)
    assert sb.eq(d, sb.Dict({"a": 1, "b c": [2, {"d": (3,)}]}))
    assert sb.parse("{}") == {}


def test_none_is_kept_in_lists_tuples_and_dicts():
    assert sb.parse("[None]") == [None]
    assert sb.parse("[1, None, [None]]") == [1, None, [None]]
    assert sb.parse("(None,)") == (None,)
    assert sb.parse("(None, None)") == (None, None)
    assert sb.parse("{a: None}") == {"a": None}
    assert list(sb.parse("one_of([None, 1])").candidates) == [None, 1]


def test_nested_calls():
    text = "PsBlock(extra=PsTrainer(layers=[one_of([1, 2]), 3], opt=one_of(['a', 'b'])))"
    value = sb.parse(text)
    assert isinstance(value.extra, PsTrainer)
    assert sb.eq(value.extra.layers[0], sb.one_of([1, 2]))


def test_markers_with_positional_and_keyword_arguments():
    assert sb.eq(sb.parse("many_of(2, [1, 2, 3], distinct=False, sorted=True, name='m')"),
                 sb.many_of(2, [1, 2, 3], distinct=False, sorted=True, name="m"))
    assert sb.eq(sb.parse("many_of(k=2, candidates=[1, 2])"), sb.many_of(2, [1, 2]))
    assert sb.eq(sb.parse("permutate(candidates=['a', 'b'])"), sb.permutate(["a", "b"]))
    assert sb.eq(sb.parse("int_range(1, 8, scale=log)"), sb.int_range(1, 8, scale="log"))
    assert sb.eq(sb.parse("float_range(low=0, high=1)"), sb.float_range(0.0, 1.0))
    assert sb.eq(sb.parse("one_of([1, one_of([2, 3], name='in')], name='out')"),
                 sb.one_of([1, sb.one_of([2, 3], name="in")], name="out"))


def test_markers_under_their_registered_full_names():
    assert sb.eq(sb.parse("symbo.one_of([1, 2], name='a')"), sb.one_of([1, 2], name="a"))
    assert sb.eq(sb.parse("symbo.float_range(1, 2)"), sb.float_range(1.0, 2.0))


# ---- classes and names ---------------------------------------------------------------------
def test_registered_classes_by_short_and_full_name():
    full = registry.name_of(PsTrainer)
    assert full is not None and full.endswith(".PsTrainer") and "." in full
    by_short = sb.parse("PsTrainer(lr=0.5)")
    by_full = sb.parse(f"{full}(lr=0.5)")
    assert sb.eq(by_short, by_full) and by_short.lr == 0.5
    assert isinstance(sb.parse("parser_tests.PsBlock(width=3)"), PsBlock)


def test_positional_arguments_bind_to_fields_in_order():
    assert sb.eq(sb.parse("PsTrainer(0.5, 'sgd')"), PsTrainer(lr=0.5, opt="sgd"))


def test_an_ambiguous_short_name_asks_for_the_full_name():
    class PsTrainer(sb.Object, type_name="other_module.PsTrainer"):  # noqa: F811
        x: int = 0

    error = parse_error("PsTrainer()")
    assert "ambiguous" in str(error)
    assert isinstance(sb.parse("other_module.PsTrainer(x=1)"), PsTrainer)


def test_literal_options_are_bare_names():
    assert sb.parse("PsBlock(mode=slow)").mode == "slow"
    assert sb.parse("float_range(0.1, 1.0, scale=log)").scale == "log"
    assert sb.parse('PsBlock(mode="slow")').mode == "slow"


def test_registered_values_by_bare_name():
    block = sb.parse("PsBlock(act=relu)")
    assert block.act is relu
    assert sb.parse("PsBlock(act=parser_tests.relu)").act is relu
    assert sb.parse("[relu, PsTrainer]") == [relu, PsTrainer]


def test_missing_makes_a_partial_object():
    value = sb.parse("PsNeeds(x=MISSING, y=2)")
    assert value.x is sb.MISSING and value.y == 2
    error = parse_error("PsNeeds(y=2)")
    assert "missing required field 'x'" in str(error)


# ---- format / parse ----------------------------------------------------------------------
@pytest.mark.parametrize("value", [
    PsTrainer(lr=sb.float_range(1e-4, 0.1, scale="log"), opt=sb.one_of(["sgd", "adam"]),
              layers=[64, sb.one_of([64, 128])]),
    sb.Dict(a=sb.many_of(2, [1, 2, 3], distinct=False, sorted=True, name="m"),
            b=sb.permutate(["x", "y"]), c=sb.int_range(-3, 3, name="c")),
    sb.one_of([1, sb.Dict(k=sb.one_of([None, True, False])), (1, 2), (3,), ()]),
    sb.Dict({"weird key": "it's \"odd\"\n", "n": [math.inf, -math.inf, 1e-300, -0.5, 10**30]}),
    PsBlock(width=sb.int_range(1, 9), mode="slow", act=relu, extra=PsNeeds(x=1)),
    PsBlock(extra=sb.Dict(t=PsTrainer, items=sb.List([]), d=sb.Dict())),
    sb.List([sb.Dict(long_name_number_one=i, long_name_number_two=[i] * 8) for i in range(3)]),
    "just a string",
    42,
])
def test_parse_of_format_is_the_identity(value):
    text = sb.format(value)
    assert sb.eq(sb.parse(text), value), text
    assert sb.eq(sb.parse(sb.format(value, compact=True)), value)


def test_parse_of_format_keeps_nan():
    back = sb.parse(sb.format(sb.Dict(x=math.nan)))
    assert math.isnan(back.x)


# ---- nothing is evaluated or imported ------------------------------------------------------
@pytest.mark.parametrize("text", [
    "__import__('os')",
    "__import__('os').system('echo hacked')",
    'os.system("echo hacked")',
    "eval('1 + 1')",
    "exec('import os')",
    "open('/etc/passwd')",
    "getattr(PsTrainer, '__init__')",
    "PsTrainer.__init__(1)",
    "PsTrainer.mro()",
    "sys.modules",
    "os",
    "__builtins__",
    "lambda: 1",
    "[x for x in (1, 2)]",
    "1 + 1",
    "PsTrainer(lr=1 + 1)",
    "f'{PsTrainer}'",
    "PsTrainer(**{'lr': 1})",
    "relu(1)",
])
def test_nothing_is_evaluated(text):
    with pytest.raises(sb.SpaceSyntaxError):
        sb.parse(text)


def test_registered_functions_are_not_called():
    calls = []

    def spy(x: int = 0) -> int:
        calls.append(x)
        return x

    sb.register(spy, "parser_tests.spy")
    with pytest.raises(sb.SpaceSyntaxError, match="'spy' is not a symbolic class"):
        sb.parse("spy(1)")

    @sb.symbolize
    def make(x: int = 0) -> int:
        calls.append(x)
        return x

    functor = sb.parse("make(x=3)")
    assert calls == []
    assert functor() == 3 and calls == [3]


def test_modules_are_never_imported():
    name = "colorsys"
    if name in sys.modules:
        pytest.skip(f"{name} is already imported")
    for text in (f"{name}.rgb_to_hsv(1, 2, 3)", f"{name}.ONE_THIRD", f"[{name}]"):
        with pytest.raises(sb.SpaceSyntaxError):
            sb.parse(text)
    assert name not in sys.modules


# ---- errors --------------------------------------------------------------------------------
def test_a_syntax_error_gives_line_column_text_and_expected():
    error = parse_error("PsTrainer(\n  lr=1,\n  opt=@)")
    assert (error.line, error.column) == (3, 7)
    message = str(error)
    assert message.startswith("line 3, column 7: unexpected '@'")
    assert "expected" in message and "a string" in message and "a number" in message
    assert "opt=@)" in message and "^" in message


def test_an_unfinished_text_points_at_its_end():
    error = parse_error("PsTrainer(lr=")
    assert (error.line, error.column) == (1, 14)
    assert "unexpected end of text" in str(error)
    assert "a number" in str(error)
    error = parse_error("[1, 2")
    assert "']'" in str(error)


@pytest.mark.parametrize("text, message", [
    ("1 2", "line 1, column 3: unexpected '2'; expected the end"),
    ("[1 2]", "line 1, column 4: unexpected '2'; expected ',', ']'"),
    ("(1 2)", "line 1, column 4: unexpected '2'; expected ','"),
    ("PsTrainer(lr=1 opt='a')", "line 1, column 16: unexpected 'opt'; expected ',', ')'"),
    ("a = 1 2", "line 1, column 7: unexpected '2'; expected the end, a name"),
    ("{a 1}", "line 1, column 4: unexpected '1'; expected ':'"),
    ("{", "line 1, column 2: unexpected end of text; expected a name, '}', a string"),
])
def test_syntax_errors_list_exactly_what_could_come_there(text, message):
    assert str(parse_error(text)).splitlines()[0] == message


def test_extra_text_after_a_value():
    error = parse_error("PsTrainer(lr=1))")
    assert (error.line, error.column) == (1, 16)
    assert "unexpected ')'" in str(error)


@pytest.mark.parametrize("text, where, message", [
    ("Foo(x=1)", (1, 1), "unknown class 'Foo'"),
    ("[1,\n  nope.Bar()]", (2, 3), "unknown class 'nope.Bar'"),
    ("PsBlock(mode=medium)", (1, 14), "unknown name 'medium' (expected one of fast, slow)"),
    ("[1, unknown_thing]", (1, 5), "unknown name 'unknown_thing'"),
    ("float_range(0.1, 1, scale=cubic)", (1, 27), "expected one of linear, log"),
    ('{"a": 1, "a": 2}', (1, 1), "duplicate key 'a'"),
    ("{a: 1, 'a': 2}", (1, 1), "duplicate key 'a'"),
    ("a = 1\nb = 2\na = 3", (3, 1), "entry 'a' defined twice"),
    ("PsTrainer(lr=1, lr=2)", (1, 1), "argument 'lr' given twice"),
    ("PsTrainer(lr=1, 'x')", (1, 1), "a positional argument after a keyword"),
    ("one_of([1], candidates=[2])", (1, 1), "argument 'candidates' given twice"),
    ("one_of([1], [2])", (1, 1), "takes at most 1 positional arguments"),
    ("PsTrainer(zz=1)", (1, 1), "PsTrainer has no field 'zz'"),
    ('PsTrainer(lr="fast")', (1, 1), "lr: expected float, got str 'fast'"),
    ("PsTrainer(layers=[1, 'x'])", (1, 1), "layers[1]: expected int, got str 'x'"),
    ("PsTrainer(opt=one_of([1, 2]))", (1, 1), "opt: expected str, got int 1"),
    ("one_of([])", (1, 1), "candidates must not be empty"),
    ("float_range(1, 0)", (1, 1), "low must be < high"),
    ("many_of(5, [1, 2])", (1, 1), "cannot choose 5 distinct values"),
    ("-nan", (1, 1), "'-' can only precede a number or inf"),
    ("{1: 2}", (1, 2), "unexpected '1'"),
])
def test_errors_name_where_and_what(text, where, message):
    error = parse_error(text)
    assert (error.line, error.column) == where
    assert message in str(error)
    assert str(error).startswith(f"line {where[0]}, column {where[1]}: ")


def test_errors_name_the_source_file():
    error = parse_error("Foo()", source="space.sym")
    assert str(error).startswith("space.sym:1:1: unknown class 'Foo'")
    error = parse_error("[1,", source="space.sym")
    assert str(error).startswith("space.sym:1:4: unexpected")


def test_parse_errors_are_value_errors():
    assert issubclass(sb.SpaceSyntaxError, sb.SymbolicValueError)
    with pytest.raises(sb.SymbolicValueError, match="parse needs a str"):
        sb.parse(b"[1]")  # type: ignore[arg-type]


# ---- files ---------------------------------------------------------------------------------
def test_save_and_load_a_space(tmp_path):
    space = sb.parse(ISSUE_TEXT)
    path = tmp_path / "trainer.sym"
    sb.save_space(space, path)
    assert path.read_text().startswith("PsTrainer(")
    assert sb.eq(sb.load_space(path), space)
    assert sb.eq(sb.load_space(str(path)), space)


def test_save_and_load_named_entries(tmp_path):
    entries = sb.Dict(trainer=sb.parse(ISSUE_TEXT), block=PsBlock(width=sb.int_range(1, 4)),
                      seeds=[1, 2])
    path = tmp_path / "entries.sym"
    sb.save_space(entries, path)
    text = path.read_text()
    assert "trainer = PsTrainer(" in text and "\nblock = PsBlock(" in text
    assert sb.eq(sb.load_space(path), entries)
    assert not list(tmp_path.glob("*.tmp"))


def test_a_dict_with_keys_that_are_not_names_is_saved_as_one_value(tmp_path):
    value = sb.Dict({"not a name": 1, "None": 2})
    path = tmp_path / "odd.sym"
    sb.save_space(value, path)
    assert path.read_text().startswith("{")
    assert sb.eq(sb.load_space(path), value)


def test_format_file_refuses_keys_that_are_not_names():
    assert format_file({"a": 1, "b": [2]}) == "a = 1\n\nb = [2]\n"
    with pytest.raises(sb.SymbolicValueError, match="identifiers"):
        format_file({"not a name": 1})


def test_load_errors_name_the_file(tmp_path):
    path = tmp_path / "broken.sym"
    path.write_text("a = PsTrainer(lr=1)\nb = Unknown()\n")
    with pytest.raises(sb.SpaceSyntaxError) as info:
        sb.load_space(path)
    assert str(info.value).startswith(f"{path}:2:5: unknown class 'Unknown'")
    assert (info.value.line, info.value.column) == (2, 5)


def test_text_nested_too_deeply_is_a_clear_error():
    nested = sb.parse("[" * 50 + "]" * 50)
    assert sb.format(nested, compact=True) == "[" * 50 + "]" * 50
    deep = 5000
    with pytest.raises(sb.SpaceSyntaxError, match="nested too deeply"):
        sb.parse("[" * deep + "]" * deep)
