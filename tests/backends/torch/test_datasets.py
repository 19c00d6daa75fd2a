"""Tests of ``sbt.datasets``: scikit-learn's digits and the synthetic fallback."""

from __future__ import annotations

import sys

import pytest

torch = pytest.importorskip("torch")

from symbo.backends import torch as sbt  # noqa: E402


def test_digits_from_scikit_learn() -> None:
    pytest.importorskip("sklearn")
    data = sbt.datasets.digits(val_fraction=0.2, seed=0, batch_size=100)
    assert data.name == "sklearn-digits"
    assert (data.num_features, data.num_classes) == (64, 10)
    assert len(data.train) + len(data.val) == 1797
    x, y = data.val.tensors
    assert set(y.tolist()) == set(range(10))  # stratified: every class in validation
    assert 0.0 <= float(x.min()) and float(x.max()) <= 1.0
    again = sbt.datasets.digits(val_fraction=0.2, seed=0)
    assert torch.equal(again.train.tensors[1], data.train.tensors[1])
    batch = next(iter(data.train_loader))
    assert batch[0].shape == (100, 64) and batch[1].dtype == torch.int64


def test_synthetic_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)  # import fails
    with pytest.warns(UserWarning, match="scikit-learn is not installed"):
        data = sbt.datasets.digits(seed=0)
    assert data.name == "synthetic-blobs"
    assert (data.num_features, data.num_classes, len(data.train) + len(data.val)) == (64, 10, 1797)
    assert sbt.datasets.digits(synthetic=True).name == "synthetic-blobs"


def test_device_and_loaders() -> None:
    data = sbt.datasets.blobs(n_samples=50, n_features=3, n_classes=5, device="meta", seed=2)
    assert data.train.tensors[0].device.type == "meta"
    train, val = data.loaders(batch_size=7, shuffle=False)
    assert sum(len(b[1]) for b in train) == len(data.train) == 40
    assert len(val) == 2
    with pytest.raises(ValueError, match="val_fraction"):
        sbt.datasets.blobs(val_fraction=1.0)
