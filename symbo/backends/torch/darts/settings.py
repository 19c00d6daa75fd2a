"""DARTS's settings: one validated value instead of 25 constructor arguments.

``sbt.DARTS(space, mode, order, seed=..., device=..., fixed=..., **settings)`` takes any field
of :class:`DARTSSettings` as a keyword (``arch_lr=3e-3``), or a whole ``settings=`` object;
an unknown keyword is an error that lists the known ones.

>>> from symbo.backends.torch.darts.settings import DARTSSettings
>>> s = DARTSSettings(arch_lr=3e-3)
>>> s.arch_lr, s.weight_lr, s.temperature_at(0, 10)
(0.003, 0.025, 10.0)
>>> DARTSSettings(mode="fancy")
Traceback (most recent call last):
...
ValueError: mode must be 'softmax', 'gumbel' or 'single_path', got 'fancy'
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs
import torch

ScoreFn = Callable[[Any, Any], Any]


@attrs.define(kw_only=True)
class DARTSSettings:
    """How DARTS searches (see :class:`~symbo.backends.torch.darts.DARTS` for the method).

    Attributes:
        mode: ``"softmax"`` (DARTS), ``"gumbel"`` (GDAS) or ``"single_path"`` (ProxylessNAS).
        order: 1 (first order) or 2 (unrolled second order; softmax and gumbel modes).
        arch_lr, arch_betas, arch_weight_decay: the Adam optimizer of alpha (the paper's:
            3e-4, (0.5, 0.999), 1e-3).
        weight_lr, weight_momentum, weight_weight_decay, weight_lr_min: the default weight
            optimizer (SGD) and its cosine schedule (per step, down to ``weight_lr_min``).
        weight_optimizer: instead of SGD, ``fn(params) -> torch.optim.Optimizer`` or an optimizer
            recipe without ``params`` (``sbt.optim.Adam(lr=1e-3)``; with ``params=fn``, fn
            gets the supernet and gives its parameter groups, as for ``sbt.build``); the cosine
            schedule still applies, down to ``weight_lr_min / weight_lr`` of its lr.
        grad_clip: the weights' gradient norm clip (None: none).
        temperature: ``(start, end)`` of the Gumbel-softmax temperature (linear over epochs), or
            ``fn(epoch, epochs) -> float``.
        gumbel_hard: GDAS's hard straight-through samples (False: soft samples, SNAS-like).
        unrolled_lr: ``xi`` of the second-order step (None: the weights' current lr).
        selection: ``"magnitude"`` or ``"perturbation"``.
        fine_tune_steps: steps of supernet training between perturbation decisions.
        dtype: the supernet's and alpha's floating dtype (None: as built).
        amp: autocast the forward passes: False, True (bfloat16 on the CPU and on GPUs with
            bfloat16, else float16 with a gradient scaler, as ``sbt.fit``) or a dtype; float16
            needs ``order=1``.
        build_fn: turns the relaxed tree into the model (default ``sb.build``).
        max_variants: the most variants one module recipe may expand to.
        score_fn: ``fn(output, target) -> float`` (mean over the batch; higher is better) for
            the validation score; default: accuracy for integer class targets, else minus the loss.
        alpha_init_std: alpha starts at ``alpha_init_std * N(0, 1)`` (DARTS: 1e-3).
        min_alpha_change: a search whose softmax(alpha) moved less than this (in probability,
            on every decision) warns that its architecture is close to the initialization.
    """

    mode: str = "softmax"
    order: int = 1
    arch_lr: float = 3e-4
    arch_betas: tuple[float, float] = (0.5, 0.999)
    arch_weight_decay: float = 1e-3
    weight_lr: float = 0.025
    weight_momentum: float = 0.9
    weight_weight_decay: float = 3e-4
    weight_lr_min: float = 1e-3
    weight_optimizer: Any = None
    grad_clip: float | None = 5.0
    temperature: tuple[float, float] | Callable[[int, int], float] = (10.0, 0.1)
    gumbel_hard: bool = True
    unrolled_lr: float | None = None
    selection: str = "magnitude"
    fine_tune_steps: int = 10
    dtype: torch.dtype | None = None
    amp: bool | torch.dtype = False
    build_fn: Callable[[Any], Any] | None = None
    max_variants: int = 64
    score_fn: ScoreFn | None = None
    alpha_init_std: float = 1e-3
    min_alpha_change: float = 0.01

    def __attrs_post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raises ``ValueError`` for settings that do not go together."""
        if self.mode not in ("softmax", "gumbel", "single_path"):
            raise ValueError(f"mode must be 'softmax', 'gumbel' or 'single_path', got {self.mode!r}")
        if self.order not in (1, 2):
            raise ValueError(f"order must be 1 or 2, got {self.order!r}")
        if self.order == 2 and self.mode == "single_path":
            raise ValueError("order=2 needs true gradients of alpha; single_path estimates them "
                             "through binary gates (use order=1)")
        if self.selection not in ("magnitude", "perturbation"):
            raise ValueError(f"selection must be 'magnitude' or 'perturbation', got {self.selection!r}")
        if not callable(self.temperature):
            start, end = self.temperature
            if start <= 0 or end <= 0:
                raise ValueError(f"temperatures must be > 0, got {self.temperature!r}")
        if self.amp is not False and self.amp is not True and not isinstance(self.amp, torch.dtype):
            raise ValueError(f"amp must be a bool or a torch dtype, got {self.amp!r}")
        if self.amp is torch.float16 and self.order == 2:
            raise ValueError("amp with float16 needs order=1 (the unrolled step is not scaled)")
        if self.fine_tune_steps < 0:
            raise ValueError(f"fine_tune_steps must be >= 0, got {self.fine_tune_steps}")

    def temperature_at(self, epoch: int, epochs: int) -> float:
        """The Gumbel-softmax temperature of ``epoch`` (0-based) of ``epochs``."""
        if callable(self.temperature):
            return float(self.temperature(epoch, epochs))
        start, end = self.temperature
        return start + (end - start) * epoch / max(1, epochs - 1)

    @classmethod
    def from_options(cls, settings: DARTSSettings | None, options: Mapping[str, Any]) -> DARTSSettings:
        """``settings`` (or the defaults) with ``options`` (field names) replaced."""
        names = [f.name for f in attrs.fields(cls)]
        unknown = sorted(set(options) - set(names))
        if unknown:
            raise TypeError(f"DARTS got unknown setting{'s' if len(unknown) > 1 else ''} "
                            f"{', '.join(map(repr, unknown))}; the settings are: {', '.join(names)}")
        base = settings if settings is not None else cls()
        return attrs.evolve(base, **options)


__all__ = ["DARTSSettings"]
