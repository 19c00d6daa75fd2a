"""Tests of ``sbt.build``: devices, optimizer binding, lazy shapes and network errors."""

from __future__ import annotations

import re
from typing import Any

import pytest

torch = pytest.importorskip("torch")

import symbo as sb  # noqa: E402
from symbo.backends import torch as sbt  # noqa: E402

nn = torch.nn


def _space() -> Any:
    return sb.Dict(
        model=sbt.nn.Sequential(
            sbt.nn.Linear(64, sb.one_of([32, 64], name="width")),
            sb.one_of([sbt.nn.ReLU(), sbt.nn.GELU()], name="act"),
            sbt.nn.Dropout(sb.float_range(0.0, 0.5)),
            sbt.nn.LazyLinear(10)),
        optimizer=sbt.optim.Adam(lr=sb.float_range(1e-4, 1e-2, scale="log", name="lr")),
        loss_fn=sbt.nn.CrossEntropyLoss(label_smoothing=sb.one_of([0.0, 0.1])),
        epochs=3,
    )


def test_random_sample_builds_a_working_model() -> None:
    for seed in range(3):
        built = sbt.build(sb.random_sample(_space(), seed=seed), example_input=(4, 64))
        assert isinstance(built, sbt.Built) and isinstance(built.model, torch.nn.Sequential)
        x, y = torch.randn(4, 64), torch.tensor([0, 1, 2, 3])
        loss = built.loss_fn(built.model(x), y)
        loss.backward()
        built.optimizer.step()
        assert built.epochs == 3 and built["epochs"] == 3


def test_optimizer_is_bound_to_the_model_parameters() -> None:
    built = sbt.build(sb.random_sample(_space(), seed=0), example_input=(2, 64))
    bound = built.optimizer.param_groups[0]["params"]
    assert [id(p) for p in bound] == [id(p) for p in built.model.parameters()]
    assert built.optimizer.param_groups[0]["lr"] == sb.random_sample(_space(), seed=0).optimizer.lr


def test_optimizer_binding_rules() -> None:
    # One level up: the optimizer sits in a nested dict beside nothing but numbers.
    program = sb.Dict(model=sbt.nn.Linear(2, 2), training=sb.Dict(optimizer=sbt.optim.SGD(lr=0.1),
                                                                   epochs=1))
    built = sbt.build(program)
    assert built.training.optimizer.param_groups[0]["params"][0] is built.model.weight
    # "model" wins over other modules; modules without parameters do not count.
    program = sb.Dict(model=sbt.nn.Linear(2, 2), teacher=sbt.nn.Linear(2, 2),
                      loss=sbt.nn.MSELoss(), optimizer=sbt.optim.SGD(lr=0.1))
    built = sbt.build(program)
    assert built.optimizer.param_groups[0]["params"][0] is built.model.weight
    # Several candidates and none named "model": an error that says what to do.
    program = sb.Dict(gen=sbt.nn.Linear(2, 2), disc=sbt.nn.Linear(2, 2), optimizer=sbt.optim.SGD(lr=0.1))
    with pytest.raises(sbt.BuildError, match=r"optimizer: cannot tell which model .*gen, disc"):
        sbt.build(program)
    # Per-model optimizers, each beside its model.
    program = sb.Dict(gen=sb.Dict(model=sbt.nn.Linear(2, 2), optimizer=sbt.optim.Adam()),
                      disc=sb.Dict(model=sbt.nn.Linear(2, 3), optimizer=sbt.optim.SGD(lr=0.1)))
    built = sbt.build(program)
    assert built.disc.optimizer.param_groups[0]["params"][0] is built.disc.model.weight
    with pytest.raises(sbt.BuildError, match="no model beside it"):
        sbt.build(sb.Dict(optimizer=sbt.optim.SGD(lr=0.1)))
    with pytest.raises(sbt.BuildError, match="<root>: this optimizer has no params"):
        sbt.build(sbt.optim.SGD(lr=0.1))


def test_schedulers_are_bound_to_the_optimizer() -> None:
    lr = sbt.optim.lr_scheduler
    program = sb.Dict(
        model=sbt.nn.Linear(2, 2), optimizer=sbt.optim.SGD(lr=0.1),
        scheduler=lr.SequentialLR(schedulers=[lr.LinearLR(total_iters=2), lr.StepLR(step_size=2)],
                                  milestones=[2]))
    built = sbt.build(program)
    assert built.scheduler.optimizer is built.optimizer
    assert all(s.optimizer is built.optimizer for s in built.scheduler._schedulers)


def test_a_symbolic_object_program_builds_into_attributes() -> None:
    class Experiment(sb.Object):
        model: Any = None
        optimizer: Any = None
        epochs: int = 1

    built = sbt.build(Experiment(model=sbt.nn.Linear(3, 1), optimizer=sbt.optim.SGD(lr=0.1)))
    assert built.optimizer.param_groups[0]["params"][1] is built.model.bias
    assert built.epochs == 1


def test_an_unbindable_optimizer_inside_a_recipe_is_an_error() -> None:
    class Holder:
        def __init__(self, optimizer: Any) -> None:
            self.optimizer = optimizer

    HolderRecipe = sb.symbolize(Holder)
    with pytest.raises(sbt.BuildError, match="holder.optimizer: this optimizer has no params"):
        sbt.build(sb.Dict(model=sbt.nn.Linear(2, 2), holder=HolderRecipe(sbt.optim.SGD(lr=0.1))))


def test_lazy_modules_get_shapes_from_example_input() -> None:
    program = sbt.nn.Sequential(sbt.nn.LazyConv2d(4, 3), sbt.nn.Flatten(), sbt.nn.LazyLinear(10))
    lazy = sbt.build(program)
    assert torch.nn.parameter.is_lazy(lazy[0].weight)
    built = sbt.build(program, example_input=(2, 1, 8, 8))
    assert built[0].weight.shape == (4, 1, 3, 3) and built[2].weight.shape == (10, 4 * 6 * 6)
    built = sbt.build(program, example_input=torch.zeros(1, 3, 5, 5))
    assert built[2].weight.shape == (10, 4 * 3 * 3)
    assert built.training  # the dry run runs in eval mode and restores the mode


def test_dry_run_leaves_batchnorm_statistics_alone() -> None:
    built = sbt.build(sbt.nn.Sequential(sbt.nn.Linear(4, 4), sbt.nn.BatchNorm1d(4)),
                      example_input=(1, 4))
    assert built[1].num_batches_tracked.item() == 0 and built.training


def test_invalid_network_names_the_path_and_decisions() -> None:
    space = sb.Dict(model=sbt.nn.Sequential(
        sbt.nn.Linear(64, sb.one_of([32, 64], name="width")), sbt.nn.ReLU(), sbt.nn.Linear(32, 10)))
    spec = sb.dna_spec(space)
    dna = sb.DNA.from_dict(spec, {"width": 1})
    program = sb.materialize(space, dna)
    with pytest.raises(sbt.NetworkError) as info:
        sbt.build(program, example_input=(8, 64), space=space)
    error = info.value
    assert isinstance(error, RuntimeError) and isinstance(error, sb.SymbolicError)
    assert str(error.path) == "model.args[2]" and error.module_name == "2"
    # (the class prints as "Linear", or "torch.nn.Linear" when another "Linear" is registered)
    assert re.search(r"^model.args\[2\] (torch\.nn\.)?Linear\(in_features=32, out_features=10\) "
                     r"fails on the example input of shape \(8, 64\) \(in torch module '2'\)", str(error))
    assert "mat1 and mat2 shapes cannot be multiplied" in str(error)
    assert error.input_decisions == {"width": "64"}
    assert "its input came from model.args[0]" in str(error) and "width=64" in str(error)
    with pytest.raises(sbt.NetworkError, match="width=64"):
        sbt.build(program, example_input=(8, 64), dna=dna)
    with pytest.raises(sbt.NetworkError, match=r"model.args\[2\].*\n.*pass space= or dna="):
        sbt.build(program, example_input=(8, 64))
    sbt.build(sb.materialize(space, sb.DNA.from_dict(spec, {"width": 0})), example_input=(8, 64))


def test_invalid_network_inside_a_user_module() -> None:
    class Net(torch.nn.Module):
        def __init__(self, width: int = 4) -> None:
            super().__init__()
            self.body = torch.nn.Sequential(torch.nn.Linear(4, width), torch.nn.Linear(4, 2))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.body(x)

    space = sb.Dict(model=sb.symbolize(Net)(width=sb.one_of([4, 5], name="w")))
    program = sb.materialize(space, sb.DNA.from_dict(sb.dna_spec(space), {"w": 1}))
    with pytest.raises(sbt.NetworkError) as info:
        sbt.build(program, example_input=(2, 4), space=space)
    assert str(info.value.path) == "model" and info.value.module_name == "body.1"
    assert info.value.decisions == {"w": "5"}


def test_a_choice_that_fails_to_construct_is_named() -> None:
    space = sbt.nn.Sequential(sbt.nn.Conv2d(8, 8, 3, groups=sb.one_of([1, 3], name="groups")))
    program = sb.materialize(space, sb.DNA.from_dict(sb.dna_spec(space), {"groups": 1}))
    with pytest.raises(sbt.NetworkError, match=r"(?s)args\[0\] Conv2d.*fails to build.*divisible.*groups=3"):
        sbt.build(program, space=space)


def test_markers_left_are_listed() -> None:
    with pytest.raises(sbt.BuildError, match=r"model.out_features: one_of\(\[1, 2\]\); lr: float_range"):
        sbt.build(sb.Dict(model=sbt.nn.Linear(2, sb.one_of([1, 2])),
                          lr=sb.float_range(0.1, 1.0)))
    # A marker inside a tuple is a decision like any other (issue 9), listed while left.
    conv = sbt.nn.Conv2d(1, 1, (sb.one_of([1, 3], name="kh"), 3))
    with pytest.raises(sbt.BuildError, match=r"kernel_size\[0\]: one_of\(\[1, 3\], name='kh'\)"):
        sbt.build(conv)
    built = sbt.build(sb.materialize(conv, sb.DNA.from_params(sb.dna_spec(conv), {"kh": 3})))
    assert built.kernel_size == (3, 3)


def test_meta_device_and_dtype() -> None:
    program = sb.Dict(model=sbt.nn.Sequential(sbt.nn.LazyLinear(8), sbt.nn.BatchNorm1d(8)),
                      loss_fn=sbt.nn.CrossEntropyLoss(weight=torch.ones(8)),
                      optimizer=sbt.optim.SGD(lr=0.1))
    built = sbt.build(program, device="meta", dtype=torch.float64, example_input=(2, 3))
    tensors = [*built.model.parameters(), *built.model.buffers(), built.loss_fn.weight]
    assert all(t.device.type == "meta" for t in tensors)
    assert all(t.dtype == torch.float64 for t in tensors if t.is_floating_point())
    assert built.model[0].weight.shape == (8, 3)
    assert torch.empty(1).device.type == "cpu"  # the device context does not leak


def test_cpu_device_and_given_tensors() -> None:
    built = sbt.build(sbt.nn.Linear(2, 2), device=torch.device("cpu"), dtype=torch.float64,
                      example_input=torch.zeros(1, 2, dtype=torch.float32))
    assert built.weight.device.type == "cpu" and built.weight.dtype == torch.float64


def test_a_functor_with_its_arguments_bound_is_called_and_its_result_built() -> None:
    # issue 12: sbt.build builds what a functor returns (a functor left partial stays a function)
    @sb.symbolize
    def make_loader(batch_size: int = 8) -> int:
        return batch_size

    @sb.symbolize
    def scale(x: float, factor: float = 2.0) -> float:
        return x * factor

    built = sbt.build(sb.Dict(loader=make_loader(batch_size=4), fn=scale(factor=3.0), name="x",
                              sizes=(1, 2)))
    assert built.loader == 4 and built.fn(2.0) == 6.0 and built.name == "x" and built.sizes == (1, 2)


def test_a_functor_returning_a_model_builds_it_on_the_device_with_its_optimizer() -> None:
    def tiny_net(num_classes: int = 10, width: int = 8) -> nn.Module:  # like torchvision's resnet18
        return nn.Sequential(nn.Linear(4, width), nn.ReLU(), nn.Linear(width, num_classes))

    def recipe_net(width: int = 8):  # noqa: ANN202 - returns a symbolic recipe, built in turn
        return sbt.nn.Sequential(sbt.nn.Linear(4, width), sbt.nn.LazyLinear(2))

    Net, Recipe = sb.symbolize(tiny_net), sb.symbolize(recipe_net)
    model = sbt.build(Net(num_classes=3), device="meta")
    assert isinstance(model, nn.Sequential) and model[2].out_features == 3
    assert model[0].weight.device.type == "meta"
    built = sbt.build(sb.Dict(model=Recipe(width=16),
                              optimizer=sbt.optim.SGD(lr=0.1)), example_input=(2, 4))
    assert built.model[0].out_features == 16
    assert built.optimizer.param_groups[0]["params"][0] is built.model[0].weight
    with pytest.raises(sbt.BuildError, match="model: .*fails: ValueError: bad width"):
        sbt.build(sb.Dict(model=sb.symbolize(_raises)(width=3)))


def _raises(width: int) -> nn.Module:
    raise ValueError("bad width")


class _GPT(nn.Module):
    """nanoGPT's configure_optimizers: decay for matrices, none for biases and norms."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.ln = nn.LayerNorm(4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.ln(self.fc(x))

    def configure_optimizers(self, weight_decay: float, learning_rate: float, betas: tuple,
                             device_type: str) -> torch.optim.Optimizer:
        params = [p for p in self.parameters() if p.requires_grad]
        decay = [p for p in params if p.dim() >= 2]
        no_decay = [p for p in params if p.dim() < 2]
        groups = [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
        return torch.optim.AdamW(groups, lr=learning_rate, betas=betas)


def test_an_optimizer_bound_by_build_can_use_the_models_own_parameter_groups() -> None:
    GPT = sb.symbolize(_GPT)
    groups = sbt.param_groups("configure_optimizers", weight_decay=0.1, learning_rate=6e-4,
                              betas=(0.9, 0.95), device_type="cpu")
    built = sbt.build(sb.Dict(model=GPT(), optimizer=sbt.optim.AdamW(params=groups, lr=1e-3)))
    decay, no_decay = built.optimizer.param_groups
    assert decay["weight_decay"] == 0.1 and no_decay["weight_decay"] == 0.0
    assert decay["params"] == [built.model.fc.weight] and len(no_decay["params"]) == 3
    assert decay["lr"] == no_decay["lr"] == 1e-3  # the recipe's lr: the groups keep only their own
    # a function giving groups works too, and so does a scheduler bound to the optimizer
    program = sb.Dict(model=GPT(), optimizer=sbt.optim.SGD(params=sbt.param_groups(_bias_free), lr=0.1),
                      scheduler=sbt.optim.lr_scheduler.StepLR(step_size=1))
    built = sbt.build(program)
    assert [len(g["params"]) for g in built.optimizer.param_groups] == [1, 3]
    assert built.scheduler.optimizer is built.optimizer
    with pytest.raises(sbt.BuildError, match=r"optimizer.params: .*has no method 'nope'"):
        sbt.build(sb.Dict(model=GPT(), optimizer=sbt.optim.SGD(params=sbt.param_groups("nope"), lr=0.1)))
    with pytest.raises(TypeError, match="only when bound to a model"):
        list(sbt.param_groups("configure_optimizers"))


def test_params_may_name_the_models_method_or_be_a_function_of_the_model() -> None:
    GPT = sb.symbolize(_GPT)
    by_name = sbt.optim.SGD(params="configure_optimizers", lr=0.1)
    assert sb.eq(by_name.params, sbt.param_groups("configure_optimizers"))
    assert sb.eq(sb.parse(sb.format(by_name)), by_name)  # it reads back from text
    built = sbt.build(sb.Dict(model=GPT(), optimizer=sbt.optim.SGD(params=_bias_free, lr=0.1)))
    assert [len(g["params"]) for g in built.optimizer.param_groups] == [1, 3]
    assert built.optimizer.param_groups[1]["weight_decay"] == 0.0
    model = nn.Linear(2, 2)  # what torch takes still goes through as it is
    optimizer = sbt.build(sbt.optim.SGD(params=model.parameters(), lr=0.1))
    assert optimizer.param_groups[0]["params"][0] is model.weight
    with pytest.raises(sb.SymbolicTypeError, match=r"params: expected parameters or parameter groups, "
                                                   r"sbt.param_groups\(...\), a method name"):
        sbt.optim.SGD(params=3, lr=0.1)


def _bias_free(model: nn.Module) -> list[dict]:  # a function giving groups
    return [{"params": [model.fc.weight]}, {"params": [model.fc.bias, *model.ln.parameters()],
                                             "weight_decay": 0.0}]


def test_bad_example_input() -> None:
    with pytest.raises(sbt.BuildError, match="example_input must be"):
        sbt.build(sbt.nn.Linear(2, 2), example_input="big")
    with pytest.raises(sbt.BuildError, match="needs a model"):
        sbt.build(sb.Dict(a=sbt.nn.Linear(2, 2), b=sbt.nn.Linear(2, 2)), example_input=(1, 2))


def test_a_failing_optimizer_is_a_build_error_not_a_network_error() -> None:
    with pytest.raises(sbt.BuildError, match=r"optimizer: SGD\(lr=-1.0\) fails") as info:
        sbt.build(sb.Dict(model=sbt.nn.Linear(2, 2), optimizer=sbt.optim.SGD(lr=-1.0)))
    assert not isinstance(info.value, sbt.NetworkError)


def test_importing_symbo_does_not_import_torch() -> None:
    import subprocess
    import sys

    code = "import symbo, sys; assert 'torch' not in sys.modules, 'torch was imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_build_and_training() -> None:
    program = sb.Dict(model=sbt.nn.Sequential(sbt.nn.LazyLinear(16), sbt.nn.ReLU(), sbt.nn.Linear(16, 10)),
                      loss_fn=sbt.nn.CrossEntropyLoss(weight=torch.ones(10)),
                      optimizer=sbt.optim.Adam(lr=1e-2))
    built = sbt.build(program, device="cuda", example_input=(2, 64))
    tensors = [*built.model.parameters(), built.loss_fn.weight]
    assert all(t.is_cuda for t in tensors)
    data = sbt.datasets.digits(device="cuda", seed=0)
    for amp in (False, True, torch.float16):
        history = sbt.fit(built.model, built.optimizer, data.train_loader, data.val_loader, epochs=1,
                          loss_fn=built.loss_fn, amp=amp)
        assert history[0]["val_accuracy"] > 0.5
