"""DARTS's steps: a weight step, a first-order architecture gradient, an architecture step,
and the supernet's evaluation (the second-order gradient is in :mod:`.unrolled`)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import nn

from symbo.backends.torch.batches import batch_size, device_batch

LossFn = Callable[[Any, Any], torch.Tensor]


def as_inputs(x: Any) -> tuple[Any, ...]:
    """A model's positional arguments: a tuple stays, anything else is the one argument."""
    return x if isinstance(x, tuple) else (x,)


def grads(loss: torch.Tensor, params: list[Any]) -> list[torch.Tensor]:
    """``d loss / d params`` (zeros where a parameter is unused or the loss has no graph)."""
    if not loss.requires_grad:
        return [torch.zeros_like(p) for p in params]
    found = torch.autograd.grad(loss, params, allow_unused=True)
    return [torch.zeros_like(p) if g is None else g for p, g in zip(params, found)]


def is_classification(out: Any, y: Any) -> bool:
    return (isinstance(out, torch.Tensor) and isinstance(y, torch.Tensor) and out.dim() >= 2
            and not y.is_floating_point() and not y.is_complex() and y.dim() == out.dim() - 1
            and out.shape[0] == y.shape[0])


class StepsMixin:
    """The steps of the search loop (mixed into :class:`~symbo.backends.torch.darts.DARTS`)."""

    supernet: nn.Module | None
    device: torch.device | None

    def _loss(self, x: Any, y: Any, loss_fn: LossFn) -> torch.Tensor:
        self.relaxation.new_pass()  # type: ignore[attr-defined]
        assert self.supernet is not None
        with self.precision.autocast():  # type: ignore[attr-defined]
            out = self.supernet(*as_inputs(x))
            return loss_fn(out, y)

    def _weight_step(self, x: Any, y: Any, loss_fn: LossFn) -> float:
        relax = self.relaxation  # type: ignore[attr-defined]
        relax.set_phase("weight")
        relax.resample()
        assert self.supernet is not None
        self.supernet.train()
        loss = self._loss(x, y, loss_fn)
        value = float(loss.detach())
        if math.isfinite(value):
            self.trainer.step(loss)  # type: ignore[attr-defined]  # nothing to train: skipped
        return value

    def architecture_gradients(self, train_batch: Any, val_batch: Any,
                               loss_fn: LossFn | None = None) -> tuple[float, dict[str, torch.Tensor]]:
        """The gradient an architecture step would use (first or second order), without the step.

        Returns ``(validation loss, {decision key: grad of alpha})``; call ``setup`` first.
        In the sampling modes, new paths are drawn first.
        """
        loss_fn = loss_fn or nn.functional.cross_entropy
        assert self.device is not None, "call setup() first"
        x, y = device_batch(train_batch, self.device)
        xv, yv = device_batch(val_batch, self.device)
        relax = self.relaxation  # type: ignore[attr-defined]
        keys = [k for k, d in self.decisions.items()  # type: ignore[attr-defined]
                if d.alpha is not None and not relax.is_fixed(k)]
        loss, found = self._arch_grads(x, y, xv, yv, loss_fn)
        return float(loss.detach()), dict(zip(keys, found))

    def _arch_grads(self, x: Any, y: Any, xv: Any, yv: Any,
                    loss_fn: LossFn) -> tuple[torch.Tensor, list[torch.Tensor]]:
        relax = self.relaxation  # type: ignore[attr-defined]
        relax.set_phase("arch")
        relax.resample()
        assert self.supernet is not None
        self.supernet.train()
        params = relax.parameters()
        if self.settings.order == 2:  # type: ignore[attr-defined]
            return self._unrolled_grads(x, y, xv, yv, loss_fn, params)  # type: ignore[attr-defined]
        loss = self._loss(xv, yv, loss_fn)
        scale = self.precision.scale  # type: ignore[attr-defined]
        return loss, [g / scale for g in grads(loss * scale if scale != 1.0 else loss, params)]

    def _arch_step(self, x: Any, y: Any, xv: Any, yv: Any, loss_fn: LossFn) -> float:
        relax = self.relaxation  # type: ignore[attr-defined]
        params = relax.parameters()
        before = {k: d.alpha.detach().clone() for k, d in self.decisions.items()  # type: ignore[attr-defined]
                  if d.alpha is not None and not relax.is_fixed(k)}
        loss, found = self._arch_grads(x, y, xv, yv, loss_fn)
        value = float(loss.detach())
        if not math.isfinite(value):
            return value
        if not all(bool(torch.isfinite(g).all()) for g in found):
            return value  # an overflow under float16 autocast: skip this step
        opt = self._arch_opt  # type: ignore[attr-defined]
        assert opt is not None
        for p, g in zip(params, found):
            p.grad = g
        opt.step()
        opt.zero_grad(set_to_none=True)
        relax.rescale(before)
        return value

    def evaluate(self, loader: Iterable[Any], loss_fn: LossFn | None = None,
                 limit: int | None = None) -> tuple[float, float]:
        """``(mean loss, score)`` of the supernet on ``loader`` in eval mode.

        Softmax mode evaluates the mixture; the sampling modes the argmax path of each decision.
        """
        loss_fn = loss_fn or nn.functional.cross_entropy
        assert self.supernet is not None and self.device is not None, "call setup() first"
        relax = self.relaxation  # type: ignore[attr-defined]
        relax.set_phase("eval")
        was_training = self.supernet.training
        self.supernet.eval()
        loss_sum = torch.zeros((), dtype=torch.float64, device=self.device)
        score_sum = torch.zeros((), dtype=torch.float64, device=self.device)
        count = 0
        score_fn = self.settings.score_fn  # type: ignore[attr-defined]
        try:
            with torch.no_grad():
                for i, batch in enumerate(loader):
                    if limit is not None and i >= limit:
                        break
                    inputs, y = device_batch(batch, self.device)
                    relax.new_pass()
                    with self.precision.autocast():  # type: ignore[attr-defined]
                        out = self.supernet(*inputs)
                        loss = loss_fn(out, y).double()
                    n = batch_size(inputs)
                    loss_sum += loss * n
                    if score_fn is not None:
                        score = torch.as_tensor(score_fn(out, y), dtype=torch.float64, device=self.device)
                    elif is_classification(out, y):
                        score = (out.argmax(dim=1) == y).double().mean()
                    else:
                        score = -loss
                    score_sum += score * n
                    count += n
        finally:
            self.supernet.train(was_training)
        if count == 0:
            raise ValueError("the validation loader gave no batches")
        return float(loss_sum) / count, float(score_sum) / count


__all__ = ["StepsMixin", "as_inputs", "grads", "is_classification"]
