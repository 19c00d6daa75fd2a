"""Small real datasets that need no download, for examples, tests and quick searches.

``digits`` is scikit-learn's bundled 8x8 handwritten digits (1,797 images, 64 features, 10
classes) when scikit-learn is installed; without it, ``digits`` warns and returns a synthetic
dataset of the same shape made by ``blobs`` (its ``name`` says which one you got). The tensors
live on ``device``; loaders yield ``(inputs, targets)`` batches (one indexing per batch).

>>> from symbo.backends import torch as sbt
>>> data = sbt.datasets.blobs(n_samples=100, n_features=3, n_classes=2, seed=0)
>>> data.name, data.num_features, data.num_classes, len(data.train) + len(data.val)
('synthetic-blobs', 3, 2, 100)
>>> x, y = next(iter(data.train_loader))
>>> tuple(x.shape), y.dtype
((64, 3), torch.int64)
"""

from __future__ import annotations

import warnings

import attrs
import torch
from torch.utils.data import BatchSampler, DataLoader, RandomSampler, SequentialSampler, TensorDataset

DeviceLike = str | torch.device


@attrs.frozen
class DataSplit:
    """A dataset split into train and validation parts, with loaders.

    ``loaders(batch_size)`` makes new loaders (e.g. for a searched batch size).

    >>> from symbo.backends import torch as sbt
    >>> data = sbt.datasets.blobs(n_samples=20, n_classes=2, batch_size=5)
    >>> len(data.train), len(data.val), len(data.train_loader)
    (16, 4, 4)
    """

    name: str
    train: TensorDataset
    val: TensorDataset
    num_features: int
    num_classes: int
    batch_size: int = 64
    seed: int = 0
    train_loader: DataLoader = attrs.field(init=False)
    val_loader: DataLoader = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        train, val = self.loaders(self.batch_size)
        object.__setattr__(self, "train_loader", train)
        object.__setattr__(self, "val_loader", val)

    def loaders(self, batch_size: int, *, shuffle: bool = True) -> tuple[DataLoader, DataLoader]:
        """``(train_loader, val_loader)`` with ``batch_size``; the training one shuffles
        (seeded) unless ``shuffle=False``.

        >>> from symbo.backends import torch as sbt
        >>> train, val = sbt.datasets.blobs(n_samples=40, seed=0).loaders(batch_size=8)
        >>> len(train), len(val)
        (4, 2)
        """
        generator = torch.Generator().manual_seed(self.seed)
        order = RandomSampler(self.train, generator=generator) if shuffle else SequentialSampler(self.train)
        train = DataLoader(self.train, sampler=BatchSampler(order, batch_size, drop_last=False),
                           batch_size=None)
        val = DataLoader(self.val, batch_size=None,
                         sampler=BatchSampler(SequentialSampler(self.val), batch_size, drop_last=False))
        return train, val


def digits(device: DeviceLike = "cpu", val_fraction: float = 0.2, seed: int = 0, batch_size: int = 64,
           *, synthetic: bool = False, images: bool = False) -> DataSplit:
    """scikit-learn's handwritten digits (pixel values scaled to [0, 1]), split stratified.

    Falls back (with a warning) to ``blobs`` of the same shape when scikit-learn is missing;
    ``synthetic=True`` asks for the fallback. ``images=True`` gives the inputs as 1x8x8 images
    (for convolutional networks) instead of 64 features.

    >>> from symbo.backends import torch as sbt
    >>> data = sbt.datasets.digits(val_fraction=0.25, seed=0)
    >>> data.num_features, data.num_classes, data.name in ("sklearn-digits", "synthetic-blobs")
    (64, 10, True)
    >>> tuple(sbt.datasets.digits(images=True).train[0][0].shape)
    (1, 8, 8)
    """
    split = _digits(device, val_fraction, seed, batch_size, synthetic)
    if not images:
        return split
    train, val = (TensorDataset(d.tensors[0].view(-1, 1, 8, 8), d.tensors[1])
                  for d in (split.train, split.val))
    return DataSplit(split.name, train, val, num_features=split.num_features, num_classes=split.num_classes,
                     batch_size=batch_size, seed=seed)


def _digits(device: DeviceLike, val_fraction: float, seed: int, batch_size: int,
            synthetic: bool) -> DataSplit:
    load = None
    if not synthetic:
        try:
            from sklearn.datasets import load_digits as load
        except ImportError:
            warnings.warn(
                "scikit-learn is not installed, so sbt.datasets.digits returns a synthetic "
                "64-feature, 10-class dataset ('synthetic-blobs'); pip install scikit-learn "
                "for the real digits", stacklevel=2)
    if load is None:
        return blobs(1797, 64, 10, device=device, val_fraction=val_fraction, seed=seed,
                     batch_size=batch_size)
    raw = load()
    x = torch.tensor(raw.data, dtype=torch.float32) / 16.0
    y = torch.tensor(raw.target, dtype=torch.int64)
    return _split("sklearn-digits", x, y, 10, device, val_fraction, seed, batch_size)


def blobs(n_samples: int = 1000, n_features: int = 2, n_classes: int = 3, *,
          device: DeviceLike = "cpu", val_fraction: float = 0.2, seed: int = 0, batch_size: int = 64,
          spread: float = 2.0) -> DataSplit:
    """Gaussian blobs made with torch: one unit-variance cluster per class around centers drawn
    with standard deviation ``spread`` (smaller is harder).

    >>> from symbo.backends import torch as sbt
    >>> sbt.datasets.blobs(n_samples=10, n_features=5, n_classes=2).train[0][0].shape
    torch.Size([5])
    """
    generator = torch.Generator().manual_seed(seed)
    centers = torch.randn(n_classes, n_features, generator=generator) * spread
    y = torch.arange(n_samples) % n_classes
    y = y[torch.randperm(n_samples, generator=generator)]
    x = centers[y] + torch.randn(n_samples, n_features, generator=generator)
    return _split("synthetic-blobs", x, y, n_classes, device, val_fraction, seed, batch_size)


def _split(name: str, x: torch.Tensor, y: torch.Tensor, num_classes: int, device: DeviceLike,
           val_fraction: float, seed: int, batch_size: int) -> DataSplit:
    """A stratified train/validation split, moved to ``device``."""
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in (0, 1), got {val_fraction}")
    generator = torch.Generator().manual_seed(seed)
    train_idx, val_idx = [], []
    for c in range(num_classes):
        idx = (y == c).nonzero().flatten()
        idx = idx[torch.randperm(len(idx), generator=generator)]
        n_val = round(len(idx) * val_fraction)
        val_idx.append(idx[:n_val])
        train_idx.append(idx[n_val:])
    tr, va = torch.cat(train_idx), torch.cat(val_idx)
    tr = tr[torch.randperm(len(tr), generator=generator)]
    device = torch.device(device)
    return DataSplit(
        name,
        TensorDataset(x[tr].to(device), y[tr].to(device)),
        TensorDataset(x[va].to(device), y[va].to(device)),
        num_features=x.shape[1], num_classes=num_classes, batch_size=batch_size, seed=seed,
    )


__all__ = ["DataSplit", "blobs", "digits"]
