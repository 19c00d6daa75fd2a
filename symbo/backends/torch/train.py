"""A small training utility for objectives: one epoch, evaluation, a fit loop, seeding.

Not a framework: plain functions over a model, an optimizer and data loaders yielding
``(inputs, targets)`` (or ``(*inputs, targets)``; see :mod:`~symbo.backends.torch.batches`).
Batches go to ``device`` (by default the device of the model's parameters); a model on another
device is an error, never moved silently. ``amp=True`` runs the forward pass under
``torch.autocast`` for the device's type (bfloat16 on CPU and on GPUs that support it, else
float16 with a gradient scaler), as it does for DARTS and OneShot.

>>> import torch
>>> from symbo.backends import torch as sbt
>>> sbt.seed_everything(0)
0
>>> data = sbt.datasets.blobs(n_samples=200, n_features=4, n_classes=2, seed=0)
>>> model = torch.nn.Linear(4, 2)
>>> history = sbt.fit(model, torch.optim.SGD(model.parameters(), lr=0.5), data.train_loader,
...                   data.val_loader, epochs=3)
>>> [round(h["val_accuracy"], 1) for h in history][-1] >= 0.9
True
"""

from __future__ import annotations

import math
import os
import random
import time
from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import nn

from symbo.backends.torch.batches import Precision, device_batch

DeviceLike = str | torch.device
Metric = str | Callable[[torch.Tensor, torch.Tensor], Any]


def use_threads(n: int) -> None:
    """Sets torch's intra-op thread count (1 suits small models run side by side in worker
    processes).

    >>> from symbo.backends import torch as sbt
    >>> sbt.use_threads(1)
    """
    torch.set_num_threads(int(n))


def seed_everything(seed: int, *, deterministic: bool = False) -> int:
    """Seeds Python's ``random``, NumPy (when installed) and torch (all devices); returns seed.

    ``deterministic=True`` also asks torch for deterministic algorithms (slower; some
    operations then raise).

    >>> from symbo.backends import torch as sbt
    >>> import torch
    >>> _ = sbt.seed_everything(7); a = torch.rand(2)
    >>> _ = sbt.seed_everything(7); bool((torch.rand(2) == a).all())
    True
    """
    random.seed(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)
    try:
        import numpy as np

        np.random.seed(seed % 2**32)
    except ImportError:  # pragma: no cover - numpy is a dependency of symbo
        pass
    torch.manual_seed(seed)  # seeds every device (CUDA included)
    if deterministic:
        torch.use_deterministic_algorithms(True)
        if torch.backends.cudnn.is_available():
            torch.backends.cudnn.benchmark = False
    return seed


def train_epoch(
    model: nn.Module,
    loader: Iterable[Any],
    optimizer: torch.optim.Optimizer,
    loss_fn: Callable[..., torch.Tensor] | None = None,
    device: DeviceLike | None = None,
    amp: bool | torch.dtype = False,
    grad_clip: float | None = None,
    *,
    scheduler: Any = None,
    scaler: torch.amp.GradScaler | None = None,
) -> float:
    """Trains ``model`` for one pass over ``loader``; returns the mean training loss.

    ``loss_fn`` defaults to cross-entropy. ``grad_clip`` clips the gradient norm;
    ``scheduler`` (if given) steps after every batch, as ``OneCycleLR`` wants.

    >>> import torch
    >>> from symbo.backends import torch as sbt
    >>> data = sbt.datasets.blobs(n_samples=64, n_features=4, n_classes=2, seed=0)
    >>> model = torch.nn.Linear(4, 2)
    >>> opt = torch.optim.SGD(model.parameters(), lr=0.1)
    >>> loss = sbt.train_epoch(model, data.train_loader, opt, amp=True, grad_clip=1.0)
    >>> 0.0 < loss < 10.0
    True
    """
    device = _device(model, device)
    loss_fn = loss_fn or nn.functional.cross_entropy
    precision = Precision(amp, device)
    if scaler is not None:
        precision.scaler = scaler
    model.train()
    total = torch.zeros((), device=device)
    count = 0
    for batch in loader:
        inputs, target = device_batch(batch, device)
        with precision.autocast():
            loss = loss_fn(model(*inputs), target)
        precision.step(loss, optimizer, model.parameters(), grad_clip=grad_clip)
        if scheduler is not None:
            scheduler.step()
        n = len(target)
        total += loss.detach().float() * n
        count += n
    return float(total) / count if count else math.nan


def evaluate(
    model: nn.Module,
    loader: Iterable[Any],
    device: DeviceLike | None = None,
    metric: Metric = "accuracy",
    *,
    loss_fn: Callable[..., torch.Tensor] | None = None,
    amp: bool | torch.dtype = False,
) -> float:
    """The mean of ``metric`` over ``loader`` (in eval mode, without gradients).

    ``metric`` is ``"accuracy"`` (argmax of the last dimension against class targets),
    ``"loss"`` (``loss_fn``, cross-entropy by default) or ``fn(outputs, targets)`` giving a
    batch mean. The model's train/eval mode is restored afterwards.

    >>> import torch
    >>> from symbo.backends import torch as sbt
    >>> data = sbt.datasets.blobs(n_samples=64, n_features=4, n_classes=2, seed=0)
    >>> 0.0 <= sbt.evaluate(torch.nn.Linear(4, 2), data.val_loader) <= 1.0
    True
    """
    device = _device(model, device)
    score = _metric(metric, loss_fn)
    precision = Precision(amp, device)
    was_training = model.training
    model.eval()
    total = torch.zeros((), device=device)
    count = 0
    try:
        with torch.no_grad():  # not inference_mode: lazy modules may materialize here
            for batch in loader:
                inputs, target = device_batch(batch, device)
                with precision.autocast():
                    outputs = model(*inputs)
                n = len(target)
                total += torch.as_tensor(score(outputs, target), device=device).float() * n
                count += n
    finally:
        model.train(was_training)
    return float(total) / count if count else math.nan


def fit(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    train_loader: Iterable[Any],
    val_loader: Iterable[Any] | None = None,
    epochs: int = 1,
    device: DeviceLike | None = None,
    *,
    loss_fn: Callable[..., torch.Tensor] | None = None,
    metric: Metric = "accuracy",
    amp: bool | torch.dtype = False,
    grad_clip: float | None = None,
    scheduler: Any = None,
    scheduler_step: str = "epoch",
    compile: bool | str = False,  # noqa: A002 - mirrors torch.compile
    callback: Callable[[int, dict[str, float]], Any] | None = None,
) -> list[dict[str, float]]:
    """Trains for ``epochs`` and returns one dict of metrics per epoch.

    Each dict holds ``epoch``, ``train_loss``, ``val_<metric>`` (with a ``val_loader``; the
    name of a callable metric is its ``__name__``), ``lr`` and ``seconds``. ``scheduler`` steps
    once per epoch (``ReduceLROnPlateau`` on the validation value) or, with
    ``scheduler_step="batch"``, after every batch. ``compile=True`` (or a backend name) trains
    ``torch.compile(model)``, which shares the model's parameters. ``callback(epoch, metrics)``
    runs after each epoch; returning True stops training (e.g.
    ``lambda e, m: feedback.report(e, m["val_accuracy"]) or feedback.should_stop()``).

    >>> import torch
    >>> from symbo.backends import torch as sbt
    >>> data = sbt.datasets.blobs(n_samples=64, n_features=4, n_classes=2, seed=0)
    >>> model = torch.nn.Linear(4, 2)
    >>> opt = torch.optim.SGD(model.parameters(), lr=0.1)
    >>> history = sbt.fit(model, opt, data.train_loader, data.val_loader, epochs=2)
    >>> [sorted(h) for h in history][0]
    ['epoch', 'lr', 'seconds', 'train_loss', 'val_accuracy']
    """
    if scheduler_step not in ("epoch", "batch"):
        raise ValueError(f"scheduler_step must be 'epoch' or 'batch', got {scheduler_step!r}")
    device = _device(model, device)
    net = model
    if compile:
        net = torch.compile(model, backend=compile) if isinstance(compile, str) else torch.compile(model)
    scaler = Precision(amp, device).scaler  # one scaler for the whole run
    name = metric if isinstance(metric, str) else getattr(metric, "__name__", "metric")
    history: list[dict[str, float]] = []
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        row: dict[str, float] = {"epoch": epoch}
        row["train_loss"] = train_epoch(
            net, train_loader, optimizer, loss_fn, device, amp, grad_clip,
            scheduler=scheduler if scheduler_step == "batch" else None, scaler=scaler)
        if val_loader is not None:
            row[f"val_{name}"] = evaluate(net, val_loader, device, metric, loss_fn=loss_fn, amp=amp)
        if scheduler is not None and scheduler_step == "epoch":
            if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
                scheduler.step(row.get(f"val_{name}", row["train_loss"]))
            else:
                scheduler.step()
        row["lr"] = float(optimizer.param_groups[0]["lr"])
        row["seconds"] = time.perf_counter() - start
        history.append(row)
        if callback is not None and callback(epoch, row) is True:
            break
    return history


# ---- helpers -----------------------------------------------------------------------------------
def _device(model: nn.Module, device: DeviceLike | None) -> torch.device:
    """``device``, checked against where the model lives (its first parameter or buffer)."""
    first = next(iter(model.parameters()), None)
    if first is None:
        first = next(iter(model.buffers()), None)
    where = first.device if first is not None else None
    if device is None:
        return where or torch.device("cpu")
    device = torch.device(device)
    if where is not None and not _same_device(where, device):
        raise ValueError(
            f"the model is on {where} but device={str(device)!r}; build it there "
            f"(sbt.build(program, device={str(device)!r})) or move it with model.to(...)"
        )
    return device


def _same_device(a: torch.device, b: torch.device) -> bool:
    if a.type != b.type:
        return False
    if a.type == "cuda" and (a.index is None or b.index is None):
        current = torch.cuda.current_device()
        return (a.index if a.index is not None else current) == (b.index if b.index is not None else current)
    return a.index == b.index or a.index is None or b.index is None


def _metric(metric: Metric, loss_fn: Callable[..., torch.Tensor] | None) -> Callable[..., Any]:
    if callable(metric):
        return metric
    if metric == "accuracy":
        return lambda outputs, target: (outputs.argmax(-1) == target).float().mean()
    if metric == "loss":
        fn = loss_fn or nn.functional.cross_entropy
        return lambda outputs, target: fn(outputs.float(), target)
    raise ValueError(f"metric must be 'accuracy', 'loss' or a function, got {metric!r}")


__all__ = ["evaluate", "fit", "seed_everything", "train_epoch"]
