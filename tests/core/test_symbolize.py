"""Tests of ``symbo.core.symbolize``: functors, class wrappers and ``sb.build``."""

import collections
import datetime
import fractions
import pickle
from typing import Any

import pytest

import symbo as sb


@sb.symbolize
def scale(x, factor: float = 2.0):
    return x * factor


@sb.symbolize
def combine(a: int, b: int = 1, *rest: int, sep: str = "-", **named: Any):
    return sep.join(str(v) for v in (a, b, *rest)) + "".join(f"|{k}={v}" for k, v in named.items())


@sb.symbolize(name="tests.named_functor")
def named_functor(x: int = 0):
    return x


class Plain:
    """A user class that is not symbolic."""

    def __init__(self, width: int, depth: int = 2, child: "Plain | None" = None) -> None:
        self.width = width
        self.depth = depth
        self.child = child


PlainS = sb.symbolize(Plain)
Fraction = sb.symbolize(fractions.Fraction)
OrderedDict = sb.symbolize(collections.OrderedDict)
Timedelta = sb.symbolize(datetime.timedelta)


# ---- functors ------------------------------------------------------------------------------------
def test_functor_binds_now_and_calls_later():
    f = scale(factor=3)
    assert isinstance(f, sb.Functor) and isinstance(f, sb.Object)
    assert f.factor == 3.0 and f.x is sb.MISSING
    assert f(2) == 6.0
    assert f(x=4) == 12.0


def test_functor_rebind_between_calls():
    f = scale(10, factor=2)
    assert f() == 20.0
    f.rebind(factor=0.5)
    assert f() == 5.0
    f.rebind(x=4)
    assert f() == 2.0


def test_functor_validates_bound_arguments():
    with pytest.raises(sb.SymbolicTypeError, match="^factor: expected float, got str"):
        scale(factor="big")
    f = scale()
    with pytest.raises(sb.SymbolicTypeError, match="^factor: expected float"):
        f.rebind(factor="x")
    assert f.factor == 2.0


def test_functor_missing_argument_at_call_time():
    f = scale()
    with pytest.raises(sb.SymbolicTypeError, match="missing 1 required positional argument: 'x'"):
        f()
    with pytest.raises(sb.SymbolicTypeError, match="missing 1 required positional argument: 'a'"):
        combine()()

    @sb.symbolize
    def two(p, q):
        return p, q

    with pytest.raises(sb.SymbolicTypeError, match="missing 2 required positional arguments: 'p', 'q'"):
        two()()
    assert two(q=2)(1) == (1, 2)


def test_functor_call_arguments_do_not_edit_it():
    f = scale(1)
    assert f(factor=5) == 5.0
    assert f.factor == 2.0 and f() == 2.0


def test_functor_var_positional_and_var_keyword():
    f = combine(1, 2, 3, 4, sep="+", extra="e")
    assert list(f.rest) == [3, 4]
    assert dict(f.named) == {"extra": "e"}
    assert f() == "1+2+3+4|extra=e"
    assert f(more=1) == "1+2+3+4|extra=e|more=1"
    g = combine(5)
    assert g() == "5-1"
    # Call-time positional arguments bind the positional parameters from the first one, those
    # with defaults included (issue 14, bug 4); the rest go to ``*rest``.
    assert combine()(7, 8, 9) == "7-8-9"
    with pytest.raises(sb.SymbolicTypeError, match=r"^rest\[0\]: expected int"):
        combine(1, 2, "x")


def test_functor_too_many_positional_arguments_at_call_time():
    f = scale(1)
    with pytest.raises(sb.SymbolicTypeError, match="takes 2 positional arguments but 3 were"):
        f(2, 3, 4)


def test_functor_call_time_argument_replacing_a_bound_one_needs_override_args():
    f = scale(1)
    with pytest.raises(sb.SymbolicTypeError, match="new value for argument 'x' from position 0"):
        f(2)
    assert f(2, override_args=True) == 4.0 and f.x == 1


def test_functor_unexpected_keyword_at_call_time():
    with pytest.raises(sb.SymbolicTypeError, match="got an unexpected keyword argument 'nope'"):
        scale(1)(nope=2)


def test_functor_keeps_function_metadata_and_registers():
    assert scale.__name__ == "scale" and scale.__qualname__ == "scale"
    assert scale(1).sym_function(3) == 6.0
    assert sb.registry.lookup(f"{__name__}.scale") is scale
    assert sb.registry.lookup("tests.named_functor") is named_functor


def test_functor_is_a_tree_node():
    class Pipeline(sb.Object):
        steps: list[Any] = []

    p = Pipeline(steps=[scale(factor=3), scale(factor=4)])
    assert p.steps[1].sym_path == "steps[1]"
    p.rebind({"steps[1].factor": 5})
    assert [s(1) for s in p.steps] == [3.0, 5.0]
    assert sb.query(p, path_regex=r".*factor") == {"steps[0].factor": 3.0, "steps[1].factor": 5.0}


def test_functor_json_round_trip():
    f = combine(1, 2, 3, sep="+", extra="e")
    back = sb.from_json(sb.to_json(f))
    assert sb.eq(back, f) and back() == f()
    g = scale(factor=4)
    back = sb.from_json_str(sb.to_json_str(g))
    assert back.x is sb.MISSING and back(1) == 4.0


def test_functor_pickles():
    f = scale(3, factor=2)
    assert pickle.loads(pickle.dumps(f))() == 6.0


def test_functor_without_type_checks():
    @sb.symbolize(check_types=False)
    def loose(x: int = 0):
        return x

    assert loose(x="anything")() == "anything"


def test_functor_default_narrower_than_annotation_is_accepted():
    @sb.symbolize
    def f(x: int = None):  # noqa: RUF013 - a common, sloppy annotation
        return x

    assert f()() is None


# ---- class wrappers ------------------------------------------------------------------------------
def test_class_wrapper_records_init_args_and_builds():
    r = PlainS(4, depth=3)
    assert isinstance(r, sb.ClassWrapper)
    assert dict(r.sym_init_args) == {"width": 4, "depth": 3, "child": None}
    obj = r.build()
    assert type(obj) is Plain and (obj.width, obj.depth) == (4, 3)
    assert r.build() is not obj  # each build makes a new instance
    assert r.sym_wrapped is Plain


def test_class_wrapper_validates_annotations():
    with pytest.raises(sb.SymbolicTypeError, match="^width: expected int"):
        PlainS("wide")
    r = PlainS(1)
    with pytest.raises(sb.SymbolicTypeError, match="^depth: expected int"):
        r.rebind(depth=1.5)


def test_class_wrapper_rebind_then_build():
    r = PlainS(1)
    r.rebind(width=8)
    assert r.build().width == 8


def test_class_wrapper_missing_arguments_at_build_time():
    r = PlainS()
    with pytest.raises(sb.SymbolicTypeError, match="missing argument 'width'"):
        r.build()
    assert r.build(5).width == 5
    assert r.build(width=6).width == 6


def test_build_is_recursive():
    r = PlainS(1, child=PlainS(2, child=PlainS(3)))
    obj = r.build()
    assert obj.child.width == 2 and obj.child.child.width == 3
    assert type(obj.child.child) is Plain
    tree = sb.Dict(a=r, xs=[PlainS(9), 3], t=(PlainS(8),), keep=scale(factor=1))
    built = sb.build(tree)
    assert type(built) is dict and type(built["xs"]) is list
    assert built["a"].child.child.width == 3 and built["xs"][0].width == 9
    assert built["xs"][1] == 3 and built["t"][0].width == 8
    assert built["keep"] is tree.keep  # functors are not built
    assert sb.build(3) == 3


def test_recipe_accepted_where_the_wrapped_class_is_expected():
    class Holder(sb.Object):
        frac: fractions.Fraction | None = None

    h = Holder(frac=Fraction(1, 2))
    assert isinstance(h.frac, sb.ClassWrapper) and h.frac.sym_path == "frac"
    assert Holder(frac=fractions.Fraction(1, 3)).frac == fractions.Fraction(1, 3)
    with pytest.raises(sb.SymbolicTypeError, match="^frac: expected Fraction or None"):
        Holder(frac=PlainS(1))


def test_stdlib_classes():
    half = Fraction(1, 2)
    assert half.build() == fractions.Fraction(1, 2)
    assert sb.build(sb.Dict(h=half, xs=[Fraction(1, 4)])) == {
        "h": fractions.Fraction(1, 2), "xs": [fractions.Fraction(1, 4)]
    }
    half.rebind(denominator=3)
    assert half.build() == fractions.Fraction(1, 3)
    td = Timedelta(days=1, hours=2)
    assert td.build() == datetime.timedelta(days=1, hours=2)
    od = OrderedDict([("a", 1), ("b", 2)])
    built = od.build()
    assert type(built) is collections.OrderedDict and list(built.items()) == [("a", 1), ("b", 2)]


def test_class_wrapper_json_round_trip():
    r = PlainS(1, child=PlainS(2))
    back = sb.from_json(sb.to_json(r))
    assert sb.eq(back, r)
    assert back.build().child.width == 2
    td = Timedelta(days=3)
    assert sb.from_json(sb.to_json(td)).build() == datetime.timedelta(days=3)
    assert sb.from_json(sb.to_json(Fraction(2, 3))).build() == fractions.Fraction(2, 3)


def test_class_wrapper_pickles():
    for recipe in [PlainS(1, child=PlainS(2)), Fraction(1, 2), Timedelta(days=2)]:
        back = pickle.loads(pickle.dumps(recipe))
        assert type(back) is type(recipe) and sb.eq(back, recipe)
    assert pickle.loads(pickle.dumps(Fraction(1, 2))).build() == fractions.Fraction(1, 2)


def test_class_wrapper_clone_and_eq():
    r = PlainS(1, child=PlainS(2))
    c = sb.clone(r)
    assert sb.eq(c, r) and c.child is not r.child and c.child.sym_parent is c
    assert not sb.eq(PlainS(1), PlainS(2))


def test_symbolize_returns_symbolic_classes_unchanged():
    class Already(sb.Object):
        x: int = 1

    assert sb.symbolize(Already) is Already


def test_symbolize_rejects_non_callables():
    with pytest.raises(sb.SymbolicTypeError, match="symbolize takes a class or a function"):
        sb.symbolize(3)


def test_symbolized_classes_are_distinct_from_the_wrapped_class():
    assert PlainS is not Plain and not issubclass(PlainS, Plain)
    assert PlainS.__name__ == "Plain"


# ---- torch ---------------------------------------------------------------------------------------
def test_torch_linear_and_sgd():
    torch = pytest.importorskip("torch")
    Linear = sb.symbolize(torch.nn.Linear)
    SGD = sb.symbolize(torch.optim.SGD)

    lin = Linear(4, 2, bias=False)
    lin.rebind(out_features=3)
    module = lin.build()
    assert isinstance(module, torch.nn.Linear)
    assert module.weight.shape == (3, 4) and module.bias is None

    opt = SGD(lr=0.1, momentum=0.9)
    assert opt.params is sb.MISSING
    optimizer = opt.build(module.parameters())  # params supplied at build time
    assert isinstance(optimizer, torch.optim.SGD)
    assert optimizer.param_groups[0]["lr"] == 0.1
    assert optimizer.param_groups[0]["momentum"] == 0.9

    back = sb.from_json(sb.to_json(sb.Dict(model=lin, opt=opt)))
    assert sb.eq(back.model, lin)
    assert back.model.build().weight.shape == (3, 4)
