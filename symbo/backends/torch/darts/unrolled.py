"""DARTS's second-order (unrolled) architecture gradient.

``grad_alpha L_val(w', alpha) - xi * (grad_alpha L_train(w+, alpha) - grad_alpha L_train(w-,
alpha)) / (2 eps)`` with ``w' = w - xi * d`` (``d`` the weight optimizer's SGD direction,
momentum and weight decay included, as in DARTS's ``architect.py``), ``w+- = w +- eps *
grad_w' L_val(w', alpha)`` and ``eps = 0.01 / ||grad_w' L_val||``. ``xi`` is ``unrolled_lr``,
by default the weights' current learning rate.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from symbo.backends.torch.darts.steps import LossFn, grads


class UnrolledMixin:
    """The second-order gradient (mixed into :class:`~symbo.backends.torch.darts.DARTS`)."""

    def _unrolled_grads(self, x: Any, y: Any, xv: Any, yv: Any, loss_fn: LossFn,
                        params: list[nn.Parameter]) -> tuple[torch.Tensor, list[torch.Tensor]]:
        relax = self.relaxation  # type: ignore[attr-defined]
        weights = self.weight_parameters()  # type: ignore[attr-defined]
        opt = self.trainer.optimizer  # type: ignore[attr-defined]
        xi = self.settings.unrolled_lr  # type: ignore[attr-defined]
        if xi is None:
            xi = float(opt.param_groups[0]["lr"]) if opt is not None else 0.0
        # 1. The virtual step w' = w - xi * (grad_w L_train + momentum * buffer + wd * w).
        relax.set_phase("arch", attach_alpha=False)
        loss_train = self._loss(x, y, loss_fn)  # type: ignore[attr-defined]
        g_w = grads(loss_train, weights)
        backup = [w.detach().clone() for w in weights]
        with torch.no_grad():
            for w, g in zip(weights, g_w):
                w.sub_(xi * self._sgd_direction(w, g))
        # 2. grad of L_val(w', alpha) in alpha and in w'.
        relax.set_phase("arch", attach_alpha=True)
        try:
            loss_val = self._loss(xv, yv, loss_fn)  # type: ignore[attr-defined]
            found = grads(loss_val, [*params, *weights])
        finally:
            with torch.no_grad():
                for w, b in zip(weights, backup):
                    w.copy_(b)
        d_alpha, d_w = found[:len(params)], found[len(params):]
        # 3. The Hessian-vector product by finite differences around w.
        norm = torch.sqrt(sum((g.double() ** 2).sum() for g in d_w)) if d_w else torch.tensor(0.0)
        if float(norm) == 0.0:
            return loss_val, d_alpha
        eps = 0.01 / norm
        try:
            with torch.no_grad():
                for w, v in zip(weights, d_w):
                    w.add_(v, alpha=float(eps))
            g_plus = grads(self._loss(x, y, loss_fn), params)  # type: ignore[attr-defined]
            with torch.no_grad():
                for w, b, v in zip(weights, backup, d_w):
                    w.copy_(b).sub_(v, alpha=float(eps))
            g_minus = grads(self._loss(x, y, loss_fn), params)  # type: ignore[attr-defined]
        finally:
            with torch.no_grad():
                for w, b in zip(weights, backup):
                    w.copy_(b)
        out = [da - xi * (gp - gm) / (2 * eps.to(da.dtype))
               for da, gp, gm in zip(d_alpha, g_plus, g_minus)]
        return loss_val, out

    def _sgd_direction(self, w: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        opt = self.trainer.optimizer  # type: ignore[attr-defined]
        if not isinstance(opt, torch.optim.SGD):
            return g
        group = next(gr for gr in opt.param_groups if any(p is w for p in gr["params"]))
        d = g + group["weight_decay"] * w if group["weight_decay"] else g
        buf = opt.state.get(w, {}).get("momentum_buffer")
        if group["momentum"] and buf is not None:
            d = d + group["momentum"] * buf
        return d


__all__ = ["UnrolledMixin"]
