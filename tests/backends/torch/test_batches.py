"""The batch and AMP helper shared by sbt.fit, DARTS and OneShot."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from symbo.backends.torch.batches import (  # noqa: E402
    BatchError,
    Precision,
    amp_dtype,
    batch_size,
    device_batch,
    split_batch,
)


def test_batches_are_inputs_then_a_target() -> None:
    x, z, y = torch.zeros(3, 2), torch.ones(3, 1), torch.tensor([0, 1, 2])
    assert split_batch((x, y))[0] == (x,)
    inputs, target = split_batch((x, z, y))
    assert inputs == (x, z) and target is y
    assert split_batch(((x, z), y))[0] == (x, z) and split_batch([[x, z], y])[0] == (x, z)
    assert batch_size(inputs) == 3 and batch_size(()) == 1
    moved, _ = device_batch((x, y), "meta")
    assert moved[0].device.type == "meta"
    for bad in ({"x": x, "y": y}, x, (x,)):
        with pytest.raises(BatchError, match=r"\(inputs, targets\) or \(\*inputs, targets\)"):
            split_batch(bad)
    assert issubclass(BatchError, TypeError) and issubclass(BatchError, ValueError)


def test_amp_resolves_to_one_dtype_per_device() -> None:
    assert amp_dtype(False, "cpu") is None and amp_dtype(True, "cpu") is torch.bfloat16
    assert amp_dtype(torch.float16, "cpu") is torch.float16 and amp_dtype(True, "meta") is None
    assert Precision(True, "cpu").scaler is None  # a scaler only for float16 on CUDA
    with pytest.raises(ValueError, match="amp must be a bool or a torch dtype"):
        amp_dtype("fast", "cpu")


def test_precision_step_accumulates_and_clips() -> None:
    model = torch.nn.Linear(2, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.0)
    p = Precision(False, "cpu")
    for _ in range(2):
        p.backward(model(torch.ones(1, 2)).sum())
    assert torch.equal(model.weight.grad, torch.full((1, 2), 2.0))
    p.apply(opt, model.parameters(), grad_clip=1.0)
    assert float(model.weight.grad.norm()) <= 1.0 + 1e-6
