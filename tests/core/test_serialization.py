"""Tests of ``symbo.core.serialization`` and ``symbo.core.registry``: JSON without imports."""

import builtins
import copy
import importlib
import json
import sys
from typing import Any

import pytest

import symbo as sb


class Layer(sb.Object):
    units: int = 8
    act: str = "relu"


class Config(sb.Object):
    lr: float = 0.1
    layers: list[Layer] = []
    extra: Any = None
    maybe: int | None = None


def relu(x):
    return max(x, 0)


def sample() -> Config:
    return Config(
        lr=0.5,
        layers=[Layer(16), Layer(32, "tanh")],
        extra={"tup": (1, "a", (2.5, None)), "flag": True, "xs": [1, {"y": [None]}]},
    )


# ---- round trips ---------------------------------------------------------------------------------
def test_to_json_shape():
    data = sb.to_json(Config(layers=[Layer()], extra=(1, 2)))
    assert data == {
        "_type": Config._sym_type_name,
        "lr": 0.1,
        "layers": [{"_type": Layer._sym_type_name, "units": 8, "act": "relu"}],
        "extra": {"_type": "tuple", "items": [1, 2]},
        "maybe": None,
    }
    json.dumps(data)  # plain JSON


def test_round_trip_through_structures_and_text():
    c = sample()
    back = sb.from_json(sb.to_json(c))
    assert sb.eq(back, c) and back is not c
    assert type(back.extra.tup) is tuple and type(back.extra.tup[2]) is tuple
    assert type(back.extra.xs[1]) is sb.Dict
    assert back.layers[1].sym_path == "layers[1]"
    text = sb.to_json_str(c, indent=2)
    assert sb.eq(sb.from_json_str(text), c)
    assert sb.eq(sb.from_json(json.loads(json.dumps(sb.to_json(c)))), c)


def test_round_trip_of_containers_and_leaves():
    for value in [sb.List([1, 2.5, "x", None, True]), sb.Dict(a=sb.Dict(b=[])), 3, 2.5, None]:
        assert sb.eq(sb.from_json(sb.to_json(value)), value)


def test_special_floats_round_trip():
    d = sb.Dict(a=float("inf"), b=float("-inf"), c=float("nan"), z=-0.0)
    back = sb.from_json_str(sb.to_json_str(d))
    assert sb.eq(back, d)
    assert str(back.z) == "-0.0"


def test_missing_round_trips_through_partial_objects():
    class Needs(sb.Object):
        x: int
        y: int = 1

    p = Needs.partial(y=2)
    data = sb.to_json(p)
    assert data["x"] == {"_type": "MISSING"}
    back = sb.from_json(data)
    assert back.x is sb.MISSING and back.y == 2


def test_from_json_never_modifies_its_input():
    data = sb.to_json(sample())
    data["extra"]["nested"] = {"_ref": f"{__name__}.relu_registered"}
    sb.register(relu, f"{__name__}.relu_registered")
    snapshot = copy.deepcopy(data)
    back = sb.from_json(data)
    assert data == snapshot
    back.rebind({"layers[0].units": 99, "extra.xs[0]": 5})
    back.layers.append(Layer())
    assert data == snapshot
    assert back.extra.nested is relu


def test_from_json_never_modifies_its_input_on_error():
    data = {"a": [1, {"_type": "no.such.Type", "x": [1, 2]}], "b": {"c": [3]}}
    snapshot = copy.deepcopy(data)
    with pytest.raises(sb.SerializationError):
        sb.from_json(data)
    assert data == snapshot


def test_loaded_values_validate_like_constructed_ones():
    data = sb.to_json(sample())
    data["layers"][1]["units"] = "wide"
    with pytest.raises(sb.SymbolicTypeError) as info:
        sb.from_json(data)
    assert str(info.value) == "layers[1].units: expected int, got str 'wide'"


def test_unknown_field_in_json_names_the_path():
    data = sb.to_json(sample())
    data["layers"][0]["width"] = 3
    with pytest.raises(sb.SymbolicKeyError) as info:
        sb.from_json(data)
    assert str(info.value).startswith("layers[0].width: Layer has no field 'width'")


# ---- the registry, never imports -----------------------------------------------------------------
def test_unknown_type_is_a_serialization_error_naming_the_path():
    data = {"model": {"_type": "no_such_package.models.Net", "x": 1}}
    with pytest.raises(sb.SerializationError) as info:
        sb.from_json(data)
    msg = str(info.value)
    assert msg.startswith("model: unknown type 'no_such_package.models.Net'")
    assert "import 'no_such_package.models'" in msg  # tells the user what to do
    assert isinstance(info.value, sb.SymbolicError)


def unimported_stdlib_module() -> str:
    for name in ["wave", "tabnanny", "mailbox", "nntplib", "sndhdr", "imghdr", "cgitb", "pdb"]:
        if name not in sys.modules and importlib.util.find_spec(name) is not None:
            return name
    pytest.skip("every candidate module is already imported")


def test_loading_never_imports(monkeypatch):
    module = unimported_stdlib_module()
    imported = []
    real_import = builtins.__import__

    def spy(name, *args, **kwargs):
        imported.append(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", spy)
    monkeypatch.setattr(importlib, "import_module", lambda *a, **k: imported.append(a[0]))
    for data in [
        {"_type": f"{module}.Thing"},
        {"x": {"_type": f"{module}.open", "file": "x"}},
        {"_ref": f"{module}.open"},
        {"xs": [{"_ref": "os.system"}]},
        {"_type": "builtins.eval"},
        {"_type": "os.system", "command": "echo hi"},
    ]:
        with pytest.raises(sb.SerializationError):
            sb.from_json(data)
        with pytest.raises(sb.SerializationError):
            sb.from_json_str(json.dumps(data))
    monkeypatch.undo()
    assert module not in sys.modules
    assert not [name for name in imported if module in name or name in ("os", "builtins")]


def test_registered_value_that_is_not_a_symbolic_class_cannot_be_a_type():
    sb.register(relu, "tests.relu_fn")
    with pytest.raises(sb.SerializationError, match="'tests.relu_fn' is not a symbolic class"):
        sb.from_json({"_type": "tests.relu_fn"})


def test_module_level_functions_are_written_by_reference_and_lambdas_refused():
    # issue 9: functions are stored by reference (module and name), found again only in a
    # process that has imported their module
    data = sb.to_json(Config(extra={"fn": relu}))
    assert data["extra"]["fn"] == {"_ref": f"{__name__}.relu"}
    assert sb.from_json(data).extra["fn"] is relu
    with pytest.raises(sb.SerializationError) as info:
        sb.to_json(sb.List([lambda x: x]))
    assert str(info.value).startswith("[0]: cannot write a function")
    assert "define it at module level" in str(info.value) and "sb.register" in str(info.value)


def test_unregistered_values_cannot_be_written():
    class Opaque:
        pass

    with pytest.raises(sb.SerializationError, match=r"^xs\[1\]: cannot write a Opaque"):
        sb.to_json(sb.Dict(xs=[1, Opaque()]))
    with pytest.raises(sb.SerializationError, match=r"^t\[1\]"):
        sb.to_json(sb.Dict(t=(1, {1, 2})))
    with pytest.raises(sb.SerializationError):
        sb.to_json(b"bytes")


def test_registered_function_round_trips_by_reference():
    sb.register(relu, "my.relu")
    c = Config(extra={"act": relu})
    data = sb.to_json(c)
    assert data["extra"]["act"] == {"_ref": "my.relu"}
    back = sb.from_json(data)
    assert back.extra.act is relu
    assert sb.eq(back, c)


def test_register_as_decorator_with_default_name():
    @sb.register
    def gelu(x):
        return x

    assert sb.registry.name_of(gelu) == f"{__name__}.{gelu.__qualname__}"
    assert sb.from_json(sb.to_json(sb.List([gelu])))[0] is gelu


def test_symbolic_class_as_a_value_round_trips():
    d = sb.Dict(cls=Layer)
    assert sb.from_json(sb.to_json(d)).cls is Layer


def test_custom_type_name():
    class Named(sb.Object, type_name="my.stable.Named"):
        x: int = 1

    assert sb.to_json(Named())["_type"] == "my.stable.Named"
    assert sb.eq(sb.from_json({"_type": "my.stable.Named", "x": 2}), Named(2))


def test_unregistered_class_is_not_loadable():
    class Hidden(sb.Object, register=False):
        x: int = 1

    data = sb.to_json(Hidden())
    with pytest.raises(sb.SerializationError, match="unknown type"):
        sb.from_json(data)


def test_registry_names_and_errors():
    with pytest.raises(sb.SymbolicValueError):
        sb.register(relu, "")
    with pytest.raises(sb.SerializationError, match="unknown type 'nothing'"):
        sb.registry.lookup("nothing")
    sb.register(relu, "a.b.relu")
    assert "a.b.relu" in sb.registry.names()
    assert sb.registry.lookup_short("a.b.relu") is relu


def test_re_registering_a_name_replaces_it():
    def first(x):
        return x

    def second(x):
        return x

    sb.register(first, "swap.me")
    sb.register(second, "swap.me")
    assert sb.registry.lookup("swap.me") is second
    assert sb.registry.name_of(first) is None


# ---- malformed input -----------------------------------------------------------------------------
def test_reserved_dict_keys_cannot_be_written():
    with pytest.raises(sb.SerializationError, match="reserved"):
        sb.to_json(sb.Dict(_type="x"))
    with pytest.raises(sb.SerializationError, match="^a._ref: the dict key '_ref' is reserved"):
        sb.to_json(sb.Dict(a=sb.Dict(_ref=1)))


@pytest.mark.parametrize("data,match", [
    ({"_type": 3}, "'_type' must be a string"),
    ({"_ref": 3}, "reference is written"),
    ({"_ref": "x", "y": 1}, "reference is written"),
    ({"_type": "tuple", "items": 3}, "tuple is written"),
    ({"a": (1, 2)}, "^a: unexpected tuple"),
    ({"a": {1, 2}}, "^a: unexpected set"),
    ({1: 2}, "keys must be str"),
])
def test_malformed_structures(data, match):
    with pytest.raises(sb.SerializationError, match=match):
        sb.from_json(data)


def test_malformed_json_text_reports_line_and_column():
    with pytest.raises(sb.SerializationError) as info:
        sb.from_json_str('{\n  "a": 1,\n  "b": }')
    assert str(info.value).startswith("<string>:3:8: malformed JSON")


# ---- files ---------------------------------------------------------------------------------------
def test_save_and_load(tmp_path):
    c = sample()
    path = tmp_path / "config.json"
    sb.save(c, path)
    assert sb.eq(sb.load(path), c)
    assert sb.eq(sb.load(str(path)), c)
    assert json.loads(path.read_text())["_type"] == Config._sym_type_name
    assert [p.name for p in tmp_path.iterdir()] == ["config.json"]


def test_save_of_an_unwritable_value_leaves_no_file(tmp_path):
    path = tmp_path / "x.json"
    with pytest.raises(sb.SerializationError):
        sb.save(sb.Dict(f=lambda: 0), path)
    assert list(tmp_path.iterdir()) == []


def test_load_malformed_file_names_file_line_and_column(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"a": [1, 2,\n ]}')
    with pytest.raises(sb.SerializationError) as info:
        sb.load(path)
    assert str(info.value).startswith(f"{path}:2:2: malformed JSON")


def test_load_unknown_type_from_file(tmp_path):
    path = tmp_path / "evil.json"
    path.write_text(json.dumps({"_type": "subprocess.Popen", "args": ["true"]}))
    with pytest.raises(sb.SerializationError, match="unknown type 'subprocess.Popen'"):
        sb.load(path)


def test_from_json_takes_structures_and_strings_are_values():
    assert sb.from_json("") == ""
    assert sb.from_json("[1, 2]") == "[1, 2]"
    assert sb.eq(sb.from_json(sb.to_json(sb.Dict(s=""))), sb.Dict(s=""))
    with pytest.raises(sb.SerializationError, match="JSON text"):
        sb.from_json_str({"a": 1})
