"""Tests of the training utility: train_epoch, evaluate, fit, seed_everything, AMP."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")

import symbo as sb  # noqa: E402
from symbo.backends import torch as sbt  # noqa: E402


@pytest.fixture(scope="module")
def digits():
    return sbt.datasets.digits(seed=0, batch_size=64)


def _mlp() -> torch.nn.Module:
    return torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.ReLU(), torch.nn.Linear(64, 10))


def test_seed_everything_reproduces() -> None:
    sbt.seed_everything(3)
    a = (torch.rand(3), __import__("random").random(), __import__("numpy").random.rand())
    sbt.seed_everything(3)
    b = (torch.rand(3), __import__("random").random(), __import__("numpy").random.rand())
    assert torch.equal(a[0], b[0]) and a[1:] == b[1:]


def test_training_on_digits_reduces_loss_quickly(digits) -> None:
    sbt.seed_everything(0)
    model = _mlp()
    history = sbt.fit(model, torch.optim.Adam(model.parameters(), lr=1e-2), digits.train_loader,
                      digits.val_loader, epochs=2)
    assert all(h["seconds"] >= 0.0 for h in history)  # recorded (its size is no test's business)
    assert [h["epoch"] for h in history] == [1, 2]
    assert history[1]["train_loss"] < history[0]["train_loss"]
    assert history[-1]["val_accuracy"] > 0.8


def test_a_searched_program_trains(digits) -> None:
    space = sb.Dict(model=sbt.nn.Sequential(sbt.nn.Linear(64, sb.one_of([32, 64])), sbt.nn.ReLU(),
                                            sbt.nn.LazyLinear(10)),
                    optimizer=sbt.optim.Adam(lr=sb.float_range(3e-3, 1e-2, scale="log")))
    built = sbt.build(sb.random_sample(space, seed=0), example_input=(1, 64))
    before = sbt.evaluate(built.model, digits.val_loader, metric="loss")
    sbt.train_epoch(built.model, digits.train_loader, built.optimizer)
    assert sbt.evaluate(built.model, digits.val_loader, metric="loss") < before


def test_amp_on_cpu_uses_bfloat16() -> None:
    data = sbt.datasets.blobs(n_samples=128, n_features=8, n_classes=2, seed=0)
    model = torch.nn.Linear(8, 2)
    dtypes = []
    model.register_forward_hook(lambda m, args, out: dtypes.append(out.dtype) and None)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    loss = sbt.train_epoch(model, data.train_loader, opt, None, "cpu", amp=True, grad_clip=1.0)
    assert math.isfinite(loss) and set(dtypes) == {torch.bfloat16}
    assert model.weight.dtype == torch.float32
    assert 0.0 <= sbt.evaluate(model, data.val_loader, amp=True) <= 1.0
    history = sbt.fit(model, opt, data.train_loader, data.val_loader, epochs=1, amp=torch.bfloat16)
    assert math.isfinite(history[0]["train_loss"])


def test_evaluate_metrics_and_mode() -> None:
    data = sbt.datasets.blobs(n_samples=64, n_features=4, n_classes=2, seed=1)
    model = torch.nn.Linear(4, 2)
    model.train()
    acc = sbt.evaluate(model, data.val_loader)
    assert 0.0 <= acc <= 1.0 and model.training

    def error_rate(outputs: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return (outputs.argmax(-1) != target).float().mean()

    assert sbt.evaluate(model, data.val_loader, metric=error_rate) == pytest.approx(1.0 - acc)
    assert sbt.evaluate(model, data.val_loader, metric="loss") > 0.0
    with pytest.raises(ValueError, match="metric must be"):
        sbt.evaluate(model, data.val_loader, metric="f1")
    history = sbt.fit(model, torch.optim.SGD(model.parameters(), lr=0.1), data.train_loader,
                      data.val_loader, metric=error_rate)
    assert "val_error_rate" in history[0]


def test_fit_schedulers_callback_and_grad_clip() -> None:
    data = sbt.datasets.blobs(n_samples=64, n_features=4, n_classes=2, seed=0)
    model = torch.nn.Linear(4, 2)
    opt = torch.optim.SGD(model.parameters(), lr=1.0)
    scheduler = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    seen = []
    history = sbt.fit(model, opt, data.train_loader, data.val_loader, epochs=5, scheduler=scheduler,
                      grad_clip=0.5, callback=lambda epoch, m: seen.append(epoch) or epoch == 2)
    assert seen == [1, 2] and len(history) == 2
    assert [h["lr"] for h in history] == [0.5, 0.25]
    plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="max", patience=0)
    sbt.fit(model, opt, data.train_loader, data.val_loader, epochs=2, scheduler=plateau)
    onecycle = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=2)
    sbt.fit(model, opt, data.train_loader, epochs=1, scheduler=onecycle, scheduler_step="batch")
    with pytest.raises(ValueError, match="scheduler_step"):
        sbt.fit(model, opt, data.train_loader, scheduler=onecycle, scheduler_step="step")


def test_loss_fn_and_multiple_inputs() -> None:
    class Two(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.a = torch.nn.Linear(2, 1)

        def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            return self.a(x) + y

    x, extra, target = torch.randn(16, 2), torch.randn(16, 1), torch.randn(16, 1)
    loader = [(x[:8], extra[:8], target[:8]), (x[8:], extra[8:], target[8:])]
    model = Two()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    first = sbt.train_epoch(model, loader, opt, torch.nn.MSELoss())
    for _ in range(5):
        last = sbt.train_epoch(model, loader, opt, torch.nn.MSELoss())
    assert last < first
    with pytest.raises(ValueError, match=r"\(inputs, targets\)"):
        sbt.train_epoch(model, [x], opt, torch.nn.MSELoss())


def test_nothing_moves_silently_between_devices() -> None:
    model = torch.nn.Linear(2, 2, device="meta")
    with pytest.raises(ValueError, match="the model is on meta but device='cpu'"):
        sbt.evaluate(model, [(torch.zeros(1, 2), torch.zeros(1, dtype=torch.long))], device="cpu")
    with pytest.raises(ValueError, match="build it there"):
        sbt.train_epoch(model, [], torch.optim.SGD(model.parameters(), lr=0.1), device="cpu")
    assert model.weight.device.type == "meta"


def test_compile_flag() -> None:
    data = sbt.datasets.blobs(n_samples=32, n_features=4, n_classes=2, seed=0)
    model = torch.nn.Linear(4, 2)
    history = sbt.fit(model, torch.optim.SGD(model.parameters(), lr=0.1), data.train_loader,
                      epochs=1, compile="eager")
    assert math.isfinite(history[0]["train_loss"])
