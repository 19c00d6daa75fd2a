"""PyGlove's functor features (issue 14): call-time overrides, which arguments are bound,
extra arguments, custom base classes, ``auto_call_functors``; and the JSON options."""

import json
import pickle

import pytest

import symbo as sb


@sb.symbolize
def f(x, *args, a=1, **kwargs):
    return x + sum(args) + a + sum(kwargs.values())


@sb.symbolize
def g(a, *args, b=0, c=1, **kwargs):
    return (a, args, b, c, kwargs)


def test_override_args():
    assert f.partial()(1) == 2
    assert f.partial()(1, a=2) == 3          # a default is not an override
    assert f(1, override_args=True)(2) == 3
    assert f(1, override_args=True)(a=2) == 3
    assert f(1)(2, override_args=True) == 3
    with pytest.raises(TypeError, match="got new value for argument 'x' from position 0"):
        f(0)(1)
    with pytest.raises(TypeError, match="got new value for argument 'a' from keyword argument"):
        f(0, a=1)(a=2)
    bound = f(1, override_args=True)
    assert sb.clone(bound)(5) == 6 and pickle.loads(pickle.dumps(bound))(5) == 6


def test_ignore_extra_args():
    @sb.symbolize
    def h(a=1):
        return a

    assert h.partial(ignore_extra_args=True)(1, c=0) == 1
    assert h.partial()(1, c=0, ignore_extra_args=True) == 1
    assert h.partial()(1, 2, ignore_extra_args=True) == 1
    with pytest.raises(TypeError, match="got an unexpected keyword argument 'c'"):
        h.partial()(1, c=0)
    with pytest.raises(TypeError, match="takes 1 positional argument but 2 were given"):
        h.partial()(1, 2)


def test_bad_construction():
    @sb.symbolize
    def h(a=1):
        return a

    with pytest.raises(TypeError, match="got multiple values for keyword argument 'a'"):
        h(1, a=1)
    with pytest.raises(TypeError, match="takes 1 positional argument but 2 were given"):
        h(1, 2)


def test_specified_args():
    assert g(0).specified_args == {"a"}
    assert g(0, 1).specified_args == {"a", "args"}
    assert g(0, 1, b=0).specified_args == {"a", "args", "b"}
    assert g(0, 1, d=0).specified_args == {"a", "args", "d"}
    x = g(0, 1, b=2, c=1, d=1)
    assert x.specified_args == {"a", "args", "b", "c", "d"}
    del x.a
    assert x.specified_args == {"args", "b", "c", "d"}
    x.rebind(c=sb.MISSING)
    assert x.specified_args == {"args", "b", "d"} and x.c == 1
    x.rebind(c=5)
    assert "c" in x.specified_args

    @sb.symbolize
    def typed(p: int = 0, q: int = 0):
        return p + q

    y = typed(q=1)
    with pytest.raises(sb.SymbolicTypeError):
        y.rebind(p=2, q="bad")
    assert y.specified_args == {"q"} and y.p == 0


def test_non_default_and_default_args():
    assert g(0).non_default_args == {"a"}
    assert g(0, 1).non_default_args == {"a", "args"}
    assert g(0, b=0, c=1).non_default_args == {"a"}
    assert g(0, b=1, c=0).non_default_args == {"a", "b", "c"}
    assert g(0, d=2).non_default_args == {"a", "d"}
    x = g(0)
    x.b = 1
    x.rebind(c=0)
    assert x.non_default_args == {"a", "b", "c"}
    assert g(0).default_args == {"args", "b", "c"}
    assert g(0, 1).default_args == {"b", "c"}
    assert g(0, b=1, c=0, d=2).default_args == {"args"}
    y = g(0)
    y.args = [1]
    assert y.default_args == {"b", "c"}


def test_bound_unbound_and_fully_bound():
    assert g.partial().bound_args == {"args", "b", "c"}
    assert g(1, d=2).bound_args == {"a", "args", "b", "c", "d"}
    assert g.partial().unbound_args == {"a"} and g(1).unbound_args == set()
    x = g(1, 1, b=1)
    x.a = sb.MISSING
    assert x.bound_args == {"args", "b", "c"} and x.unbound_args == {"a"}
    assert not x.is_fully_bound and g(1).is_fully_bound
    x.args = sb.MISSING
    assert list(x.args) == [] and "args" in x.bound_args


def test_symbolize_with_a_custom_base_class():
    class MyFunctor(sb.Functor):
        def describe(self):
            return f"{type(self).__name__} of {sorted(self.specified_args)}"

    @sb.symbolize(base_class=MyFunctor)
    def my_fun(v=0):
        return v

    assert isinstance(my_fun(), MyFunctor) and my_fun(v=3).describe() == "my_fun of ['v']"
    with pytest.raises(sb.SymbolicTypeError, match="subclass of sb.Functor"):
        sb.symbolize(lambda: 0, base_class=sb.ClassWrapper)
    with pytest.raises(sb.SymbolicTypeError, match="subclass of sb.ClassWrapper"):
        sb.symbolize(dict, base_class=MyFunctor)


def test_auto_call_functors():
    @sb.symbolize
    def add(x, y):
        return x + y

    with sb.auto_call_functors():
        assert add(1, 2) == 3
        with pytest.raises(TypeError, match="missing 1 required positional argument"):
            add(1)
        with sb.auto_call_functors(False):
            assert isinstance(add(1, 2), sb.Functor)
    assert isinstance(add(1, 2), sb.Functor)
    functor = add(1, 2)
    with sb.auto_call_functors():  # cloning, pickling and loading build, never call
        assert isinstance(sb.clone(functor), sb.Functor)
        assert isinstance(pickle.loads(pickle.dumps(functor)), sb.Functor)


def test_functor_json_keeps_specified_args():
    x = g(0, b=0)
    back = sb.from_json(sb.to_json(x))
    assert sb.eq(back, x) and back.specified_args == {"a", "b"}
    assert sb.to_json(x) == {"_type": sb.to_json(x)["_type"], "a": 0, "b": 0}
    assert back(c=5) == (0, (), 0, 5, {})


# ---- JSON options --------------------------------------------------------------------------------
class Unit(sb.Object):
    width: int = 8
    act: str = "relu"
    sub: list[int] = [1]


def test_to_json_hide_default_values():
    data = sb.to_json(sb.Dict(u=Unit(16), v=Unit(sub=[2])), hide_default_values=True)
    assert data["u"] == {"_type": Unit._sym_type_name, "width": 16}
    assert data["v"] == {"_type": Unit._sym_type_name, "sub": [2]}
    back = sb.from_json(data)
    assert sb.eq(back, sb.Dict(u=Unit(16), v=Unit(sub=[2])))
    assert "act" in sb.to_json(Unit())
    assert json.loads(sb.to_json_str(Unit(), hide_default_values=True)) == \
        {"_type": Unit._sym_type_name}


def test_from_json_convert_unknown_makes_plain_dicts_and_never_imports():
    import sys

    data = {"_type": "no_such_module_xyz.Model", "depth": 2,
            "head": {"_type": "no_such_module_xyz.Head", "units": [1, 2]},
            "act": {"_ref": "no_such_module_xyz.relu"}, "known": sb.to_json(Unit(3))}
    with pytest.raises(sb.SerializationError, match="unknown type 'no_such_module_xyz.Model'"):
        sb.from_json(data)
    value = sb.from_json(data, convert_unknown=True)
    assert "no_such_module_xyz" not in sys.modules
    assert isinstance(value, dict) and value["depth"] == 2 and value["_type"].endswith("Model")
    assert value.type_name == "no_such_module_xyz.Model" and value.head.units == [1, 2]
    assert value.act == {"_ref": "no_such_module_xyz.relu"} and sb.eq(value.known, Unit(3))
    assert sb.to_json(value) == data                     # written back unchanged
    assert sb.eq(sb.from_json_str(json.dumps(data), convert_unknown=True), value)
