"""The weight side of a supernet search: optimizer, cosine schedule, clipping, precision.

Shared by DARTS and OneShot. The schedule is a closed form of the step (``lr(t) = lr_min +
(lr - lr_min) (1 + cos(pi t / T)) / 2`` over ``T`` steps, per parameter group), so a search
resumed from a state dict, or continued with more epochs, follows the schedule of one run.

>>> import torch
>>> from symbo.backends.torch.weight_training import WeightTrainer
>>> model = torch.nn.Linear(2, 1)
>>> trainer = WeightTrainer(model, lr=0.1, lr_min=0.0)
>>> trainer.plan(total_steps=4)
>>> [round(trainer.lr_at(t), 3) for t in range(5)]
[0.1, 0.085, 0.05, 0.015, 0.0]
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from symbo.backends.torch.batches import Precision
from symbo.backends.torch.param_groups import groups_from, is_groups_fn
from symbo.core import MISSING, ClassWrapper


def make_optimizer(spec: Any, model: nn.Module, params: list[nn.Parameter], *, lr: float,
                   momentum: float, weight_decay: float) -> torch.optim.Optimizer:
    """The weight optimizer ``spec`` stands for: None (SGD with the given settings), an
    optimizer recipe (bound to ``params``, or to ``fn(model)``'s groups when its ``params`` is a
    callable), or ``fn(params)``."""
    if spec is None:
        return torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    if isinstance(spec, ClassWrapper):
        first = spec.sym_schema().positional[:1]
        given = getattr(spec, first[0], MISSING) if first else MISSING
        if first and given is not MISSING and is_groups_fn(given):
            wanted = {id(p) for p in params}
            groups = groups_from(given, model)
            for g in groups:  # only the parameters being trained (a supernet's weights)
                if isinstance(g, dict):
                    g["params"] = [p for p in g["params"] if id(p) in wanted]
            return spec.build(**{first[0]: [g for g in groups if not isinstance(g, dict) or g["params"]]})
        return spec.build(params)
    if callable(spec):
        return spec(params)
    raise TypeError(f"the weight optimizer must be a callable or an optimizer recipe, got {spec!r}")


class WeightTrainer:
    """Steps a model's trainable weights with an optimizer on a cosine schedule.

    ``optimizer``: see :func:`make_optimizer`; ``lr_min`` is the schedule's end for the default
    SGD, and the same fraction of their own lr for other optimizers.
    """

    def __init__(self, model: nn.Module, optimizer: Any = None, *, lr: float = 0.025,
                 momentum: float = 0.9, weight_decay: float = 3e-4, lr_min: float = 1e-3,
                 grad_clip: float | None = None, precision: Precision | None = None) -> None:
        self.model = model
        self.params = [p for p in model.parameters() if p.requires_grad]
        self.grad_clip = grad_clip
        self.precision = precision or Precision(False, "cpu")
        self.optimizer: torch.optim.Optimizer | None = None
        self.total_steps: int | None = None
        self.base_lrs: list[float] = []
        self.min_lrs: list[float] = []
        if self.params:
            self.optimizer = make_optimizer(optimizer, model, self.params, lr=lr, momentum=momentum,
                                            weight_decay=weight_decay)
            self.base_lrs = [float(g["lr"]) for g in self.optimizer.param_groups]
            ratio = 1.0 if optimizer is None else 1.0 / lr
            self.min_lrs = [lr_min * (1.0 if optimizer is None else base * ratio) for base in self.base_lrs]

    @property
    def lr(self) -> float | None:
        """The first group's learning rate now."""
        return None if self.optimizer is None else float(self.optimizer.param_groups[0]["lr"])

    def plan(self, total_steps: int | None) -> None:
        """Sets the schedule's length in steps (None: constant learning rates)."""
        self.total_steps = total_steps if total_steps else None

    def lr_at(self, step: int, group: int = 0) -> float:
        base, low = self.base_lrs[group], self.min_lrs[group]
        if not self.total_steps:
            return base
        t = min(step, self.total_steps)
        return low + (base - low) * (1 + math.cos(math.pi * t / self.total_steps)) / 2

    def set_step(self, step: int) -> None:
        """Sets every group's learning rate to the schedule's value after ``step`` steps."""
        if self.optimizer is None or not self.total_steps:
            return
        for i, g in enumerate(self.optimizer.param_groups):
            g["lr"] = self.lr_at(step, i)

    def step(self, loss: torch.Tensor) -> bool:
        """Backward, clip, step (False when the loss has no gradient: a path without weights)."""
        if self.optimizer is None:
            return False
        return self.precision.step(loss, self.optimizer, self.params, grad_clip=self.grad_clip)

    def state_dict(self) -> dict[str, Any]:
        return {"optimizer": None if self.optimizer is None else self.optimizer.state_dict(),
                "total_steps": self.total_steps, "precision": self.precision.state_dict()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        if self.optimizer is not None and state.get("optimizer") is not None:
            self.optimizer.load_state_dict(state["optimizer"])
        self.total_steps = state.get("total_steps")
        self.precision.load_state_dict(state.get("precision", {}))


__all__ = ["WeightTrainer", "make_optimizer"]
