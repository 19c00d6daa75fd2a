"""Batches and mixed precision, the same for ``sbt.fit``, DARTS and OneShot.

* A **batch** is ``(inputs, targets)`` or ``(*inputs, targets)``: the last element is the
  target, the others are the model's positional arguments; a first element that is a tuple or
  list (``((a, b), y)``) is spread into arguments too. :func:`split_batch` says so when a
  batch has another shape, :func:`to_device` moves tensors (nested in tuples, lists, dicts).
* **AMP**: ``amp=False`` runs in full precision; ``amp=True`` autocasts to bfloat16 on the
  CPU and on GPUs that support it, else to float16 with a gradient scaler; ``amp=<dtype>``
  asks for that dtype (float16 on CUDA gets the scaler). :class:`Precision` holds the
  autocast context and the scaler, and :meth:`Precision.step` runs backward, clipping and the
  optimizer step through it.

>>> import torch
>>> from symbo.backends.torch.batches import Precision, split_batch
>>> inputs, target = split_batch((torch.zeros(2, 3), torch.tensor([0, 1])))
>>> len(inputs), target.tolist()
(1, [0, 1])
>>> Precision(True, "cpu").dtype
torch.bfloat16
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from contextlib import nullcontext
from typing import Any

import torch
from torch import nn

DeviceLike = str | torch.device


class BatchError(TypeError, ValueError):
    """A batch that is not ``(inputs, targets)`` or ``(*inputs, targets)``."""


def split_batch(batch: Any) -> tuple[tuple[Any, ...], Any]:
    """``(inputs, target)`` of a batch: the model's positional arguments and the target.

    >>> import torch
    >>> from symbo.backends.torch.batches import split_batch
    >>> x, y = torch.zeros(1), torch.ones(1)
    >>> [len(split_batch(b)[0]) for b in [(x, y), (x, x, y), ((x, x), y)]]
    [1, 2, 2]
    """
    if isinstance(batch, Mapping) or not isinstance(batch, (tuple, list)) or len(batch) < 2:
        what = "a dict" if isinstance(batch, Mapping) else type(batch).__name__
        raise BatchError(f"loaders must yield (inputs, targets) or (*inputs, targets) batches, got {what}")
    if len(batch) == 2 and isinstance(batch[0], (tuple, list)):
        return tuple(batch[0]), batch[1]
    return tuple(batch[:-1]), batch[-1]


def to_device(value: Any, device: DeviceLike) -> Any:
    """``value`` with every tensor in it (tuples, lists and dicts entered) on ``device``."""
    if isinstance(value, torch.Tensor):
        return value.to(device, non_blocking=True)
    if isinstance(value, (tuple, list)):
        return type(value)(to_device(v, device) for v in value)
    if isinstance(value, Mapping):
        return {k: to_device(v, device) for k, v in value.items()}
    return value


def device_batch(batch: Any, device: DeviceLike) -> tuple[tuple[Any, ...], Any]:
    """:func:`split_batch` with everything moved to ``device``."""
    inputs, target = split_batch(batch)
    return to_device(inputs, device), to_device(target, device)


def device_of(value: Any) -> torch.device | None:
    """The device of the first tensor in ``value`` (None without tensors)."""
    if isinstance(value, torch.Tensor):
        return value.device
    if isinstance(value, (tuple, list)):
        for v in value:
            found = device_of(v)
            if found is not None:
                return found
    if isinstance(value, Mapping):
        return device_of(list(value.values()))
    return None


def batch_size(inputs: Any) -> int:
    """The batch dimension of the first tensor in ``inputs`` (1 without one)."""
    if isinstance(inputs, torch.Tensor):
        return int(inputs.shape[0]) if inputs.dim() else 1
    if isinstance(inputs, (tuple, list)) and inputs:
        return batch_size(inputs[0])
    return 1


def cycle(loader: Iterable[Any]) -> Any:
    """The batches of ``loader`` over and over (a new pass each time it runs out)."""
    while True:
        empty = True
        for batch in loader:
            empty = False
            yield batch
        if empty:
            raise ValueError("a loader gave no batches")


def amp_dtype(amp: bool | torch.dtype | None, device: DeviceLike) -> torch.dtype | None:
    """The autocast dtype ``amp`` means on ``device`` (None: full precision).

    >>> import torch
    >>> from symbo.backends.torch.batches import amp_dtype
    >>> amp_dtype(False, "cpu"), amp_dtype(True, "cpu"), amp_dtype(torch.float16, "cpu")
    (None, torch.bfloat16, torch.float16)
    """
    device = torch.device(device)
    if amp is False or amp is None or device.type == "meta":
        return None
    if isinstance(amp, torch.dtype):
        return amp
    if amp is not True:
        raise ValueError(f"amp must be a bool or a torch dtype, got {amp!r}")
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device.type == "cpu":
        return torch.bfloat16
    return torch.float16


class Precision:
    """Autocast and gradient scaling for ``amp`` on ``device`` (see the module docstring).

    >>> import torch
    >>> from symbo.backends.torch.batches import Precision
    >>> model = torch.nn.Linear(2, 1)
    >>> opt = torch.optim.SGD(model.parameters(), lr=0.1)
    >>> p = Precision(False, "cpu")
    >>> with p.autocast():
    ...     loss = model(torch.ones(4, 2)).pow(2).mean()
    >>> p.step(loss, opt, model.parameters(), grad_clip=1.0)
    True
    """

    def __init__(self, amp: bool | torch.dtype | None, device: DeviceLike) -> None:
        self.device = torch.device(device)
        self.dtype = amp_dtype(amp, self.device)
        self.scaler: torch.amp.GradScaler | None = None
        if self.dtype is torch.float16 and self.device.type == "cuda":
            self.scaler = torch.amp.GradScaler(self.device.type)

    def autocast(self) -> Any:
        """The autocast context (a no-op in full precision)."""
        if self.dtype is None:
            return nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self.dtype)

    @property
    def scale(self) -> float:
        """The gradient scale now (1 without a scaler)."""
        return 1.0 if self.scaler is None else float(self.scaler.get_scale())

    def step(self, loss: torch.Tensor, optimizer: torch.optim.Optimizer, params: Iterable[Any],
             *, grad_clip: float | None = None, zero_grad: bool = True) -> bool:
        """Backward (scaled), gradient clipping, the optimizer step; False when it was skipped
        (a loss without gradient)."""
        if not loss.requires_grad:
            return False
        if zero_grad:
            optimizer.zero_grad(set_to_none=True)
        self.backward(loss)
        self.apply(optimizer, params, grad_clip=grad_clip)
        return True

    def backward(self, loss: torch.Tensor) -> None:
        """``loss.backward()``, scaled when a scaler is in use (gradients accumulate)."""
        (self.scaler.scale(loss) if self.scaler is not None else loss).backward()

    def apply(self, optimizer: torch.optim.Optimizer, params: Iterable[Any], *,
              grad_clip: float | None = None) -> None:
        """Unscales, clips and applies the accumulated gradients."""
        if self.scaler is not None:
            self.scaler.unscale_(optimizer)
        if grad_clip is not None:
            nn.utils.clip_grad_norm_([p for p in params if p.grad is not None], grad_clip)
        if self.scaler is not None:
            self.scaler.step(optimizer)
            self.scaler.update()
        else:
            optimizer.step()

    def state_dict(self) -> dict[str, Any]:
        return {} if self.scaler is None else {"scaler": self.scaler.state_dict()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        if self.scaler is not None and "scaler" in state:
            self.scaler.load_state_dict(state["scaler"])


__all__ = ["BatchError", "Precision", "amp_dtype", "batch_size", "cycle", "device_batch",
           "device_of", "split_batch", "to_device"]
