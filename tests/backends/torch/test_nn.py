"""Tests of ``sbt.nn``, ``sbt.optim`` and ``sbt.optim.lr_scheduler``: generated recipe classes."""

from __future__ import annotations

import io
import pickle

import pytest

torch = pytest.importorskip("torch")

import symbo as sb  # noqa: E402
from symbo.backends import torch as sbt  # noqa: E402
from symbo.core import registry  # noqa: E402

# Arguments for the classes whose required arguments are not "a small int or float".
NN_ARGS: dict[str, dict] = {
    "AdaptiveLogSoftmaxWithLoss": {"in_features": 8, "n_classes": 10, "cutoffs": [4]},
    "DataParallel": {"module": lambda: sbt.nn.Linear(2, 2)},
    "FractionalMaxPool2d": {"kernel_size": 2, "output_size": 2},
    "FractionalMaxPool3d": {"kernel_size": 2, "output_size": 2},
    "GRU": {"input_size": 4, "hidden_size": 4},
    "LSTM": {"input_size": 4, "hidden_size": 4},
    "RNN": {"input_size": 4, "hidden_size": 4},
    "RNNBase": {"mode": "LSTM", "input_size": 4, "hidden_size": 4},
    "RNNCellBase": {"input_size": 4, "hidden_size": 4, "bias": True, "num_chunks": 1},
    "Transformer": {"d_model": 8, "nhead": 2, "num_encoder_layers": 1, "num_decoder_layers": 1,
                    "dim_feedforward": 16},
    "TransformerDecoder": {"decoder_layer": lambda: sbt.nn.TransformerDecoderLayer(8, 2, 16),
                           "num_layers": 1},
    "TransformerEncoder": {"encoder_layer": lambda: sbt.nn.TransformerEncoderLayer(8, 2, 16),
                           "num_layers": 1},
    "Unflatten": {"dim": 1, "unflattened_size": (2, 2)},
}
# Classes that cannot be built from simple arguments, with the reason. (None today: every
# class builds with the arguments above; a new torch class that does not goes here or above.)
NN_SKIP: dict[str, str] = {}


def _simple_value(field) -> object:
    from symbo.core.validation import FloatCheck, IntCheck, UnionCheck

    options = field.check.options if isinstance(field.check, UnionCheck) else (field.check,)
    if any(isinstance(o, IntCheck) for o in options):
        return 4
    if any(isinstance(o, FloatCheck) for o in options):
        return 0.5
    return 4


def _simple_args(name: str, cls: type) -> dict:
    if name in NN_ARGS:
        return {k: v() if callable(v) else v for k, v in NN_ARGS[name].items()}
    schema = cls.sym_schema()
    return {f.name: _simple_value(f) for f in schema.fields
            if f.required and f.name not in (schema.var_positional, schema.var_keyword)}


def test_names_are_generated_from_torch() -> None:
    expected = {n for n in dir(torch.nn) if isinstance(getattr(torch.nn, n), type)
                and issubclass(getattr(torch.nn, n), torch.nn.Module)} - set(sbt.nn.EXCLUDED)
    assert set(sbt.nn.NAMES) == expected
    assert {"Linear", "Conv2d", "ReLU", "Sequential", "BatchNorm2d", "Dropout", "LazyLinear"} <= expected
    assert {"SGD", "Adam", "AdamW"} <= set(sbt.optim.NAMES) and "Optimizer" not in sbt.optim.NAMES
    assert {"StepLR", "OneCycleLR", "ReduceLROnPlateau"} <= set(sbt.optim.lr_scheduler.NAMES)
    assert "Linear" in dir(sbt.nn) and "Adam" in dir(sbt.optim)


def test_generated_classes_are_cached_registered_and_wrap_torch() -> None:
    linear = sbt.nn.Linear
    assert sbt.nn.Linear is linear
    assert linear._sym_wrapped is torch.nn.Linear
    assert registry.lookup("torch.nn.Linear") is linear
    adam, step = sbt.optim.Adam, sbt.optim.lr_scheduler.StepLR  # registered when generated
    assert registry.lookup("torch.optim.Adam") is adam
    assert registry.lookup("torch.optim.lr_scheduler.StepLR") is step
    assert "torch.nn.modules.linear.Linear" in linear.__doc__


def test_unknown_and_excluded_names() -> None:
    with pytest.raises(AttributeError, match="NotALayer"):
        sbt.nn.NotALayer  # noqa: B018
    with pytest.raises(AttributeError, match="Module"):
        sbt.nn.Module  # noqa: B018
    with pytest.raises(AttributeError):
        sbt.optim.Optimizer  # noqa: B018


def test_register_all_makes_every_name_loadable() -> None:
    for name in list(registry._BY_NAME):
        if name.startswith("torch."):
            del registry._BY_NAME[name]
    names = sbt.register_all()
    assert len(names) == len(sbt.nn.NAMES) + len(sbt.optim.NAMES) + len(sbt.optim.lr_scheduler.NAMES)
    assert sb.from_json({"_type": "torch.nn.Bilinear", "in1_features": 2, "in2_features": 3,
                         "out_features": 4}).build().out_features == 4


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("name", sbt.nn.NAMES)
def test_every_module_type_builds_from_simple_args(name: str) -> None:
    if name in NN_SKIP:
        pytest.skip(NN_SKIP[name])
    cls = getattr(sbt.nn, name)
    recipe = cls(**_simple_args(name, cls))
    module = recipe.build()
    assert isinstance(module, getattr(torch.nn, name))
    assert sb.eq(sb.from_json(sb.to_json(recipe)), recipe)
    assert sb.eq(sb.parse(sb.format(recipe)), recipe)


@pytest.mark.parametrize("name", sbt.optim.NAMES)
def test_every_optimizer_binds_parameters(name: str) -> None:
    params = [torch.nn.Parameter(torch.zeros(2, 2))]
    recipe = getattr(sbt.optim, name)()
    optimizer = recipe.build(params)
    assert isinstance(optimizer, getattr(torch.optim, name))
    assert optimizer.param_groups[0]["params"][0] is params[0]
    assert sb.eq(sb.parse(sb.format(recipe)), recipe)


def test_markers_in_arguments() -> None:
    layer = sbt.nn.Linear(64, sb.one_of([32, 64], name="width"), bias=sb.one_of([True, False]))
    spec = sb.dna_spec(layer)
    assert [d.id for d in spec.decision_points] == ["out_features", "bias"]
    assert spec.space_size == 4
    built = {(m.out_features, m.bias is not None)
             for m in (p.build() for p in sb.iterate(layer))}
    assert built == {(32, True), (32, False), (64, True), (64, False)}
    with pytest.raises(sb.SymbolicTypeError, match="out_features"):
        sbt.nn.Linear(64, sb.one_of(["wide", 64]))
    with pytest.raises(sb.SymbolicTypeError, match="in_features: expected int"):
        sbt.nn.Linear("wide", 3)


@pytest.mark.filterwarnings("ignore:enable_nested_tensor")
def test_annotations_accept_valid_values() -> None:
    for kernel in (3, (3, 3), [3, 3]):
        assert sbt.nn.Conv2d(3, 8, kernel, padding="same").build().kernel_size == (3, 3)
    assert sbt.nn.Dropout(p=0).build().p == 0.0
    assert sbt.nn.BatchNorm2d(8, momentum=None).build().momentum is None
    assert sbt.nn.Upsample(scale_factor=2).build().scale_factor == 2.0
    assert sbt.nn.LayerNorm([8]).build().normalized_shape == (8,)
    assert sbt.nn.RMSNorm((8,)).build().normalized_shape == (8,)
    assert sbt.nn.MaxPool2d(2, stride=None).build().stride == 2
    assert sbt.optim.Adam(betas=[0.9, 0.99]).build([torch.nn.Parameter(torch.zeros(1))]).defaults[
        "betas"] == (0.9, 0.99)
    assert sbt.optim.SGD(lr=1).build([torch.nn.Parameter(torch.zeros(1))]).defaults["lr"] == 1
    # ``activation: str | Callable``: a recipe of a module is valid (checks are off there).
    layer = sbt.nn.TransformerEncoderLayer(8, 2, 16, activation=sbt.nn.GELU()).build()
    assert isinstance(layer.activation, torch.nn.GELU)
    assert sbt.nn.TransformerEncoderLayer(8, 2, 16, activation="gelu").build() is not None
    # Module-typed arguments take recipes, and markers over recipes.
    encoder = sbt.nn.TransformerEncoder(
        sbt.nn.TransformerEncoderLayer(8, 2, sb.one_of([16, 32])), num_layers=sb.int_range(1, 2))
    assert len(sb.dna_spec(encoder)) == 2
    assert isinstance(sb.random_sample(encoder, seed=0).build(), torch.nn.TransformerEncoder)
    act = sbt.nn.Sequential(sbt.nn.Linear(2, 2), sb.one_of([sbt.nn.ReLU(), sbt.nn.GELU()]))
    assert {type(p.build()[1]).__name__ for p in sb.iterate(act)} == {"ReLU", "GELU"}


def test_var_args_classes_take_keywords() -> None:
    space = sbt.nn.LSTM(input_size=4, hidden_size=sb.one_of([8, 16]), batch_first=True)
    lstm = sb.random_sample(space, seed=0).build()
    assert isinstance(lstm, torch.nn.LSTM) and lstm.hidden_size in (8, 16) and lstm.batch_first


def test_space_json_and_text_round_trip() -> None:
    space = sb.Dict(
        model=sbt.nn.Sequential(
            sbt.nn.Conv2d(1, sb.one_of([8, 16], name="filters"), sb.one_of([3, (3, 5)]), padding="same"),
            sbt.nn.ReLU(), sbt.nn.Flatten(), sbt.nn.LazyLinear(10)),
        optimizer=sb.one_of([
            sbt.optim.Adam(lr=sb.float_range(1e-4, 1e-2, scale="log", name="adam_lr")),
            sbt.optim.SGD(lr=0.1, momentum=sb.float_range(0.0, 0.9))]),
        scheduler=sbt.optim.lr_scheduler.StepLR(step_size=sb.int_range(1, 5)),
    )
    assert sb.eq(sb.from_json(sb.to_json(space)), space)
    assert sb.eq(sb.from_json_str(sb.to_json_str(space)), space)
    text = sb.format(space)
    assert "Conv2d(" in text and "one_of(" in text
    assert sb.eq(sb.parse(text), space)
    assert sb.dna_spec(sb.parse(text)) == sb.dna_spec(space)


def test_recipes_pickle_by_reference() -> None:
    recipe = sbt.nn.Linear(2, sb.one_of([3, 4]))
    data = pickle.dumps(recipe)
    assert b"symbo.backends.torch.nn" in data
    assert sb.eq(pickle.loads(data), recipe)


class _MLP(torch.nn.Module):
    """An existing PyTorch module, written without symbo."""

    def __init__(self, in_features: int = 8, hidden: tuple[int, ...] = (16,), classes: int = 3,
                 activation: str = "relu") -> None:
        super().__init__()
        layers: list[torch.nn.Module] = []
        for width in hidden:
            layers += [torch.nn.Linear(in_features, width),
                       torch.nn.ReLU() if activation == "relu" else torch.nn.Tanh()]
            in_features = width
        layers.append(torch.nn.Linear(in_features, classes))
        self.net = torch.nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def test_user_module_symbolized() -> None:
    MLP = sb.symbolize(_MLP)
    space = MLP(hidden=sb.one_of([(8,), (16, 8)], name="hidden"),
                activation=sb.one_of(["relu", "tanh"]))
    assert sb.dna_spec(space).space_size == 4
    for program in sb.iterate(space):
        model = sbt.build(program)
        assert isinstance(model, _MLP)
        assert model(torch.zeros(2, 8)).shape == (2, 3)
    assert sb.eq(sb.from_json(sb.to_json(space)), space)
    with pytest.raises(sb.SymbolicTypeError, match="activation"):
        MLP(activation=3)
    buffer = io.BytesIO()  # the plain class stays picklable
    torch.save(sbt.build(sb.random_sample(space, seed=0)), buffer)


def test_user_module_decorated() -> None:
    @sb.symbolize
    class Block(torch.nn.Module):
        def __init__(self, width: int = 4, inner: torch.nn.Module | None = None) -> None:
            super().__init__()
            self.linear = torch.nn.Linear(width, width)
            self.inner = inner

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x = self.linear(x)
            return self.inner(x) if self.inner is not None else x

    space = Block(width=sb.one_of([4, 8]), inner=sb.one_of([None, sbt.nn.ReLU()]))
    assert sb.dna_spec(space).space_size == 4
    models = [sbt.build(p) for p in sb.iterate(space)]
    assert {m.linear.in_features for m in models} == {4, 8}
    assert any(isinstance(m.inner, torch.nn.ReLU) for m in models)
    assert not isinstance(models[0], Block)  # Block is the recipe class; the model is the module
    assert isinstance(models[0], Block._sym_wrapped)
