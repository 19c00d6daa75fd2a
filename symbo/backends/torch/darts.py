"""DARTS: differentiable architecture search over a symbo space, returning DNA.

``DARTS(space, ...).search(train_loader, val_loader, epochs=...)`` relaxes the space into a
supernet (see :mod:`symbo.backends.torch.supernet`: module choices become mixed ops, widths
become channel masks, argument choices of a module become mixed variants), trains weights on
train batches and architecture weights (``alpha``) on validation batches, alternately, and
converts the result back to a DNA of ``sb.dna_spec(space)``: ``sb.materialize(space, dna)`` is
the discrete architecture, to retrain like one found by any black-box algorithm.

The method, as in the papers:

* **Bi-level optimization** (Liu et al., DARTS, 2019). Each step first updates alpha on a
  validation batch (Adam, lr 3e-4, betas (0.5, 0.999), weight decay 1e-3), then the weights on
  a train batch (SGD, lr 0.025 with a cosine schedule to 1e-3, momentum 0.9, weight decay 3e-4,
  gradient norm clipped at 5). ``order=1`` uses ``grad_alpha L_val(w, alpha)``; ``order=2``
  the unrolled gradient ``grad_alpha L_val(w', alpha)`` with ``w' = w - xi * grad_w
  L_train(w, alpha)`` (with SGD, ``w'`` is the weights after one step of the weight optimizer,
  momentum and weight decay included, as in DARTS's code): ``grad_alpha L_val(w', alpha) - xi *
  (grad_alpha L_train(w+, alpha) - grad_alpha L_train(w-, alpha)) / (2 eps)``, ``w+- = w +- eps
  * grad_w' L_val(w', alpha)``, ``eps = 0.01 / ||grad_w' L_val||``. ``xi`` (``unrolled_lr``)
  defaults to the weights' current learning rate.
* **Modes.** ``softmax``: every candidate runs, weighted by ``softmax(alpha)``. ``gumbel``
  (GDAS): a Gumbel-softmax sample per decision and step at temperature ``tau``, annealed
  linearly from ``temperature[0]`` to ``temperature[1]`` over the epochs; with ``gumbel_hard``
  (default) only the sampled candidate runs and gets the straight-through weight ``h = onehot
  - sg(y) + y``. ``single_path`` (ProxylessNAS): weight steps run one path sampled from
  ``softmax(alpha)``; architecture steps draw **two** paths without replacement, make one
  active (drawn from the softmax over the two), run the active one with gradients and the other
  without (``torch.no_grad``: its activations are not kept), and estimate the gradient through
  the binary gates, ``grad alpha_i = sum_j dL/dg_j p_j (delta_ij - p_i)`` over the two paths
  (``p`` the softmax over them); after the Adam step the two alphas are shifted so the other
  paths keep their probabilities. So a weight step holds one candidate's activations per
  decision, an architecture step one (plus the other path's output).
* **Selection.** ``magnitude``: the argmax of alpha per decision (the top k for a
  ``many_of``). ``perturbation`` (Wang et al., "Rethinking Architecture Selection in
  Differentiable NAS", 2021): decisions are taken one at a time in the spec's order (a parent
  choice before the decisions inside its chosen candidate); for each, every candidate is
  removed in turn (its weight set to 0) and the validation score measured; the candidate whose
  removal lowers it most is chosen, the decision fixed, and the supernet fine-tuned for
  ``fine_tune_steps`` steps before the next decision. In the sampling modes, where the
  supernet is evaluated at the argmax path, removal is measured as the score with the
  decision fixed to each candidate in turn (the best is chosen).
* **Failure.** A loss or score that is not finite stops the search with a ``RuntimeWarning``;
  the architecture weights go back to those of the best epoch so far (by validation score
  measured at epoch ends: accuracy for class labels, minus the loss otherwise), selection is by
  magnitude, and ``darts.result.nan_stopped`` is True.

Architecture weights are inspectable (``darts.alphas()``, ``darts.history`` per epoch) and
plottable (``darts.plot_alphas(path)``, with matplotlib).

**Hybrid search.** DARTS relaxes only choices among modules and module arguments (see
:func:`~symbo.backends.torch.supernet.relaxable`); anything else (a learning rate
``float_range``, a batch size) is refused with a list of the markers. Let an outer black-box
search decide those and DARTS the rest::

    outer = sb.algorithms.TPE(seed=0)
    for program, feedback in sb.sample(space, outer, num_trials=20,
                                       where=lambda m: not sbt.relaxable(m)):
        dna = sbt.DARTS(program.model).search(train, val, epochs=10)   # the rest
        model = sb.materialize(program.model, dna)                      # all decided
        feedback(train_and_evaluate(model, lr=program.lr))

or give DARTS their values, ``DARTS(space, fixed={"lr": 0.01})``: the DNA it returns then
holds them and covers the whole space. (With ``where=``, an outer search does not reach
markers inside the candidates of a choice it leaves to DARTS; give those to DARTS as
``fixed`` values, keyed by their ids, or make them relaxable.)

>>> import symbo as sb, torch
>>> from symbo.backends import torch as sbt
>>> from symbo.backends.torch.darts import DARTS
>>> space = sbt.nn.Sequential(sbt.nn.Linear(4, 8), sb.one_of([sbt.nn.ReLU(), sbt.nn.Tanh()], name="act"),
...                           sbt.nn.Linear(8, 1))
>>> x = torch.randn(64, 4); y = x.sum(1, keepdim=True)
>>> data = [(x[i:i + 16], y[i:i + 16]) for i in range(0, 64, 16)]
>>> darts = DARTS(space, seed=0, device="cpu")
>>> dna = darts.search(data, data, epochs=2, loss_fn=torch.nn.functional.mse_loss)
>>> dna.to_dict()["act"] in (0, 1), len(darts.history), sorted(darts.alphas())
(True, 2, ['act'])
>>> type(sb.build(sb.materialize(space, dna))[1]).__name__ in ("ReLU", "Tanh")
True
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import nullcontext
from typing import Any

import attrs
import torch
from torch import nn

from symbo.backends.torch.mixed_ops import DecisionState, Relaxation
from symbo.backends.torch.supernet import (
    Analysis,
    build_supernet,
    decision_key,
    derive_dna,
    magnitude_values,
    normalize_fixed,
    select_from_scores,
    space_spec,
)
from symbo.core import ClassWrapper, clone
from symbo.dsl.dna import DNA
from symbo.dsl.materialize import materialize as sb_materialize
from symbo.dsl.spec import Choice, DNASpec, Space

LossFn = Callable[[Any, Any], torch.Tensor]
ScoreFn = Callable[[Any, Any], Any]


@attrs.define
class SearchResult:
    """What the last ``search`` found and how it ended.

    ``nan_stopped`` is True when a non-finite loss stopped it (``stop_reason`` says where);
    ``best_epoch``/``best_score`` are the epoch (0-based, counting all searches of this
    object) with the best validation score and that score; ``selection_scores`` the scores
    perturbation selection measured per decision (per candidate: the drop in validation
    score when it is removed, or the score with it alone in the sampling modes).
    """

    dna: DNA
    nan_stopped: bool = False
    stop_reason: str | None = None
    best_epoch: int | None = None
    best_score: float | None = None
    epochs: int = 0
    selection: str = "magnitude"
    selection_scores: dict[str, list[Any]] = attrs.Factory(dict)


class DARTS:
    """Differentiable architecture search over ``space``; ``search`` returns its DNA.

    Args:
        space: a symbolic tree of module recipes with markers (see the module docstring for
            what can be relaxed), building to a ``torch.nn.Module`` (or pass ``build_fn``).
        mode: ``"softmax"`` (DARTS), ``"gumbel"`` (GDAS) or ``"single_path"`` (ProxylessNAS).
        order: 1 (first order) or 2 (unrolled second order; softmax and gumbel modes).
        arch_lr, arch_betas, arch_weight_decay: the Adam optimizer of alpha.
        weight_lr, weight_momentum, weight_weight_decay, weight_lr_min: the default weight
            optimizer (SGD) and its cosine schedule (per step, down to ``weight_lr_min``).
        weight_optimizer: instead of SGD, ``fn(params) -> torch.optim.Optimizer`` or an
            optimizer recipe without ``params`` (``sbt.optim.Adam(lr=1e-3)``); the cosine
            schedule still applies, down to ``weight_lr_min / weight_lr`` of its lr.
        grad_clip: the weights' gradient norm clip (None: none).
        temperature: ``(start, end)`` of the Gumbel-softmax temperature (linear over epochs),
            or ``fn(epoch, epochs) -> float``.
        gumbel_hard: GDAS's hard straight-through samples (False: soft samples, SNAS-like).
        unrolled_lr: ``xi`` of the second-order step (None: the weights' current lr).
        selection: ``"magnitude"`` or ``"perturbation"``.
        fine_tune_steps: steps of supernet training between perturbation decisions.
        seed: seeds the supernet's initialization, alpha's and the sampling (torch's global
            random state is left as it was).
        device: where the supernet lives (None: the device of the first train batch).
        dtype: the supernet's and alpha's floating dtype (None: as built).
        amp: autocast the forward passes (True: bfloat16; or a dtype; float16 on CUDA uses a
            gradient scaler and needs ``order=1``).
        fixed: values for markers DARTS does not search, ``{name or id: value}`` as in
            ``dna.to_dict()`` (an index for a one_of, a list of indices for a many_of, the
            number for a range): the markers it cannot relax, decided by an outer search, or
            choices to pin. The DNA returned holds them.
        build_fn: turns the relaxed tree into the model (default ``sb.build``).
        max_variants: the most variants one module recipe may expand to.
        score_fn: ``fn(output, target) -> float`` (mean over the batch; higher is better) for
            the validation score; default: accuracy for integer class targets, else minus the
            loss.
        alpha_init_std: alpha starts at ``alpha_init_std * N(0, 1)`` (DARTS: 1e-3).
    """

    def __init__(
        self,
        space: Any,
        mode: str = "softmax",
        order: int = 1,
        *,
        arch_lr: float = 3e-4,
        arch_betas: tuple[float, float] = (0.5, 0.999),
        arch_weight_decay: float = 1e-3,
        weight_lr: float = 0.025,
        weight_momentum: float = 0.9,
        weight_weight_decay: float = 3e-4,
        weight_lr_min: float = 1e-3,
        weight_optimizer: Any = None,
        grad_clip: float | None = 5.0,
        temperature: tuple[float, float] | Callable[[int, int], float] = (10.0, 0.1),
        gumbel_hard: bool = True,
        unrolled_lr: float | None = None,
        selection: str = "magnitude",
        fine_tune_steps: int = 10,
        seed: int | None = None,
        device: str | torch.device | None = None,
        dtype: torch.dtype | None = None,
        amp: bool | torch.dtype = False,
        fixed: Mapping[str, Any] | None = None,
        build_fn: Callable[[Any], Any] | None = None,
        max_variants: int = 64,
        score_fn: ScoreFn | None = None,
        alpha_init_std: float = 1e-3,
    ) -> None:
        if mode not in ("softmax", "gumbel", "single_path"):
            raise ValueError(f"mode must be 'softmax', 'gumbel' or 'single_path', got {mode!r}")
        if order not in (1, 2):
            raise ValueError(f"order must be 1 or 2, got {order!r}")
        if order == 2 and mode == "single_path":
            raise ValueError("order=2 needs true gradients of alpha; single_path estimates them "
                             "through binary gates (use order=1)")
        if selection not in ("magnitude", "perturbation"):
            raise ValueError(f"selection must be 'magnitude' or 'perturbation', got {selection!r}")
        if callable(temperature):
            self._temperature_fn: Callable[[int, int], float] = temperature
        else:
            start, end = temperature
            if start <= 0 or end <= 0:
                raise ValueError(f"temperatures must be > 0, got {temperature!r}")
            self._temperature_fn = lambda e, n: start + (end - start) * e / max(1, n - 1)
        # A copy: the supernet and the DNA follow the space as it was given, whatever happens
        # to the original later (and a subtree of a larger program becomes a root).
        self.space = clone(space)
        self.mode = mode
        self.order = order
        self.arch_lr = arch_lr
        self.arch_betas = tuple(arch_betas)
        self.arch_weight_decay = arch_weight_decay
        self.weight_lr = weight_lr
        self.weight_momentum = weight_momentum
        self.weight_weight_decay = weight_weight_decay
        self.weight_lr_min = weight_lr_min
        self.weight_optimizer = weight_optimizer
        self.grad_clip = grad_clip
        self.unrolled_lr = unrolled_lr
        self.selection = selection
        self.fine_tune_steps = fine_tune_steps
        self.seed = seed
        self.device = None if device is None else torch.device(device)
        self.dtype = dtype
        self.build_fn = build_fn
        self.max_variants = max_variants
        self.score_fn = score_fn
        self.alpha_init_std = alpha_init_std
        self._amp_dtype = _amp_dtype(amp)
        if self._amp_dtype is torch.float16 and order == 2:
            raise ValueError("amp with float16 needs order=1 (the unrolled step is not scaled)")

        self.spec: DNASpec = space_spec(self.space)
        self.fixed = normalize_fixed(self.spec, fixed)
        self.analysis = Analysis(self.space, self.spec, self.fixed)
        self.analysis.check()
        generator = torch.Generator()
        if seed is None:
            generator.seed()
        else:
            generator.manual_seed(seed)
        self.relaxation = Relaxation(mode, temperature=self._temperature_fn(0, 1), hard=gumbel_hard,
                                     generator=generator)
        self.supernet: nn.Module | None = None
        self.history: list[dict[str, Any]] = []
        self.result: SearchResult | None = None
        self._weight_opt: torch.optim.Optimizer | None = None
        self._arch_opt: torch.optim.Optimizer | None = None
        self._scaler: Any = None
        self._best: tuple[float, int, dict[str, torch.Tensor]] | None = None

    # ---- inspection --------------------------------------------------------------------------
    @property
    def decisions(self) -> dict[str, DecisionState]:
        """The relaxed decisions by key (name, else id); each holds its ``alpha``."""
        return self.relaxation.decisions

    def arch_parameters(self) -> list[nn.Parameter]:
        """Every decision's alpha (set up by ``setup``/``search``)."""
        return [d.alpha for d in self.decisions.values() if d.alpha is not None]

    def weight_parameters(self) -> list[nn.Parameter]:
        """The supernet's trainable weights."""
        if self.supernet is None:
            return []
        return [p for p in self.supernet.parameters() if p.requires_grad]

    def alphas(self) -> dict[str, list[Any]]:
        """``{decision name or id: softmax(alpha)}`` (a list per position for a many_of whose
        positions have their own weights)."""
        return {key: d.probabilities().cpu().tolist() for key, d in self.decisions.items()
                if d.alpha is not None}

    def derive(self) -> DNA:
        """The DNA by weight magnitude now (decisions fixed by perturbation stay fixed)."""
        values = magnitude_values({k: d for k, d in self.decisions.items()
                                   if k not in self.relaxation.fixed})
        for key, picks in self.relaxation.fixed.items():
            state = self.decisions[key]
            values[key] = list(picks) if state.kind == "many" and state.positions > 1 else picks[0]
        values.update(self.fixed)
        return derive_dna(self.spec, values)

    def materialize(self, dna: DNA | None = None) -> Any:
        """``sb.materialize(space, dna)`` (default: the last search's DNA), checked against
        this search's spec (which also covers markers that share a name)."""
        if dna is None:
            if self.result is None:
                raise ValueError("no DNA yet: run search() first or pass one")
            dna = self.result.dna
        return sb_materialize(self.space, dna, spec=self.spec)

    def plot_alphas(self, path: str | None = None) -> Any:
        """Plots softmax(alpha) per decision over the epochs of ``history`` (matplotlib).

        Saves to ``path`` when given (the format from its suffix: ``.png``, ``.pdf``, ``.svg``);
        returns the ``matplotlib.figure.Figure`` (notebooks display it).
        """
        try:
            from matplotlib.figure import Figure  # no pyplot: no global backend state touched
            from matplotlib.ticker import MaxNLocator
        except ImportError as e:  # pragma: no cover - depends on the environment
            raise ImportError("plot_alphas needs matplotlib: pip install matplotlib") from e
        keys = list(self.decisions)
        if not keys or not self.history:
            raise ValueError("nothing to plot: run search() first")
        cols = min(3, len(keys))
        rows = math.ceil(len(keys) / cols)
        fig = Figure(figsize=(4.5 * cols, 3.2 * rows))
        axes = fig.subplots(rows, cols, squeeze=False)
        epochs = [h["epoch"] for h in self.history]
        for ax, key in zip(axes.flat, keys):
            state = self.decisions[key]
            series = [h["alphas"][key] for h in self.history]
            rows_ = state.positions if state.per_position else 1
            for pos in range(rows_):
                for i, literal in enumerate(state.literals):
                    ys = [s[pos][i] if state.per_position else s[i] for s in series]
                    label = literal.replace("args=[], kwargs={}", "")
                    label = label if len(label) <= 28 else label[:25] + "..."
                    if state.per_position:
                        label = f"[{pos}] {label}"
                    ax.plot(epochs, ys, marker="o", label=label, linestyle=("-", "--", ":", "-.")[pos % 4])
            ax.set_title(key)
            ax.set_xlabel("epoch")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.set_ylabel("softmax(alpha)")
            ax.set_ylim(0, 1)
            ax.legend(fontsize="small")
        for ax in list(axes.flat)[len(keys):]:
            ax.axis("off")
        fig.tight_layout()
        if path is not None:
            fig.savefig(path)
        return fig

    # ---- set-up ------------------------------------------------------------------------------
    def setup(self, device: str | torch.device | None = None, example: Any = None) -> nn.Module:
        """Builds the supernet, alpha and the optimizers on ``device`` (once); returns the supernet.

        ``example`` (an input batch) initializes lazy modules (``LazyLinear``...).
        """
        device = torch.device(device) if device is not None else self.device
        if device is None:
            raise ValueError("DARTS needs a device: DARTS(space, device=...) or search(device=...)")
        if self.supernet is not None:
            if self.device != device:
                raise ValueError(f"this DARTS was set up on {self.device}; it cannot move to {device}")
            return self.supernet
        lazy = False
        try:
            with torch.random.fork_rng(devices=[]):
                if self.seed is not None:
                    torch.manual_seed(self.seed)
                states = self.analysis.states()
                for state in states:  # registered now, alpha given below (dtype known after build)
                    self.relaxation.decisions[state.key] = state
                model = build_supernet(self.space, self.analysis, self.relaxation,
                                       build_fn=self.build_fn, max_variants=self.max_variants)
            model = model.to(device=device, dtype=self.dtype) if self.dtype else model.to(device)
            dtype = self.dtype or next((p.dtype for p in model.parameters() if p.is_floating_point()),
                                       torch.get_default_dtype())
            for state in states:
                self.relaxation.add(state, device=device, dtype=dtype, init_std=self.alpha_init_std)
            # Every forward of the whole supernet recomputes the gates from alpha (the samples of
            # the step stay), also when it is called outside DARTS.
            model.register_forward_pre_hook(lambda module, args: self.relaxation.new_pass())
            lazy = any(isinstance(p, nn.parameter.UninitializedParameter) for p in model.parameters())
            if lazy and example is None:
                raise ValueError("the supernet has lazy modules (LazyLinear...): pass an input "
                                 "batch as setup(example=...) so they get their shapes")
            if lazy:  # lazy modules initialize their weights now (on the device): seeded too
                on_cpu = device.type == "cpu"
                with torch.random.fork_rng(devices=[] if on_cpu else [device.index or 0],
                                           device_type=None if on_cpu else device.type):
                    if self.seed is not None:
                        torch.manual_seed(self.seed + 1)
                    self._dry_run(model, _to_device(example, device))
        except BaseException:
            self.relaxation.decisions.clear()
            raise
        self.device = device
        self.supernet = model
        self._weight_opt = self._make_weight_optimizer() if self.weight_parameters() else None
        if self.arch_parameters():
            self._arch_opt = torch.optim.Adam(self.arch_parameters(), lr=self.arch_lr,
                                              betas=self.arch_betas,  # type: ignore[arg-type]
                                              weight_decay=self.arch_weight_decay)
        if self._amp_dtype is torch.float16:
            self._scaler = torch.amp.GradScaler(device.type)
        return model

    def _dry_run(self, model: nn.Module, x: Any) -> None:
        relax = self.relaxation
        mode = relax.mode
        relax.mode = "softmax"  # every candidate runs, so every lazy module gets its shape
        relax.set_phase("eval")
        model.eval()
        try:
            with torch.no_grad():
                _call(model, x)
        finally:
            relax.mode = mode
            model.train()

    def _make_weight_optimizer(self) -> torch.optim.Optimizer:
        params = self.weight_parameters()
        opt = self.weight_optimizer
        if opt is None:
            return torch.optim.SGD(params, lr=self.weight_lr, momentum=self.weight_momentum,
                                   weight_decay=self.weight_weight_decay)
        if isinstance(opt, ClassWrapper):
            return opt.build(params)
        if callable(opt):
            return opt(params)
        raise TypeError(f"weight_optimizer must be a callable or an optimizer recipe, got {opt!r}")

    # ---- the search --------------------------------------------------------------------------
    def search(self, train_loader: Iterable[Any], val_loader: Iterable[Any], epochs: int = 1, *,
               device: str | torch.device | None = None, loss_fn: LossFn | None = None,
               steps_per_epoch: int | None = None, eval_batches: int | None = None,
               verbose: bool = False) -> DNA:
        """Runs the search and returns the DNA of the architecture found.

        Batches are ``(input, target)`` pairs (``input`` a tensor, or a tuple of the model's
        positional arguments); they are moved to the device. ``steps_per_epoch`` caps the train
        batches per epoch; ``eval_batches`` the validation batches of each evaluation (epoch
        ends, perturbation). ``loss_fn`` defaults to cross entropy.
        """
        if epochs < 1:
            raise ValueError(f"epochs must be >= 1, got {epochs}")
        loss_fn = loss_fn or nn.functional.cross_entropy
        device = torch.device(device) if device is not None else self.device
        steps = steps_per_epoch
        if steps is None:
            try:
                steps = len(train_loader)  # type: ignore[arg-type]
            except TypeError:
                steps = None
        scheduler = None
        val_iter = _cycle(val_loader)
        nan_reason: str | None = None
        last_good: dict[str, torch.Tensor] = {}
        seen_batches = False
        for e in range(epochs):
            epoch = len(self.history)
            self.relaxation.temperature = float(self._temperature_fn(e, epochs))
            train_sum = val_sum = 0.0
            n_train = n_val = 0
            for step, batch in enumerate(train_loader):
                if steps_per_epoch is not None and step >= steps_per_epoch:
                    break
                if not seen_batches:  # set up on the first batch: its device, its shapes
                    seen_batches = True
                    device = device or _device_of(batch)
                    self.setup(device, example=_split(batch)[0])
                    scheduler = self._scheduler(steps, epochs)
                    last_good = self._snapshot()
                x, y = _split(_to_device(batch, device))
                if self._best is None:
                    last_good = self._snapshot()
                if self._has_free_decisions():
                    xv, yv = _split(_to_device(next(val_iter), device))
                    val_loss = self._arch_step(x, y, xv, yv, loss_fn)
                    if not math.isfinite(val_loss):
                        nan_reason = f"the validation loss became {val_loss} at epoch {epoch} step {step}"
                        break
                    val_sum += val_loss
                    n_val += 1
                train_loss = self._weight_step(x, y, loss_fn)
                if not math.isfinite(train_loss):
                    nan_reason = f"the training loss became {train_loss} at epoch {epoch} step {step}"
                    break
                train_sum += train_loss
                n_train += 1
                if scheduler is not None:
                    with warnings.catch_warnings():  # a step whose path had no weights to train
                        warnings.filterwarnings("ignore", message=".*lr_scheduler.step.*")
                        scheduler.step()
            if nan_reason is not None:
                break
            if not seen_batches:
                raise ValueError("the train loader gave no batches")
            eval_loss, score = self.evaluate(val_loader, loss_fn, limit=eval_batches)
            if not math.isfinite(score):
                nan_reason = f"the validation score became {score} at the end of epoch {epoch}"
                break
            record = {
                "epoch": epoch,
                "train_loss": train_sum / max(1, n_train),
                "val_loss": val_sum / n_val if n_val else None,
                "eval_loss": eval_loss,
                "val_score": score,
                "temperature": self.relaxation.temperature if self.mode == "gumbel" else None,
                "lr": self._weight_opt.param_groups[0]["lr"] if self._weight_opt else None,
                "alphas": self.alphas(),
            }
            self.history.append(record)
            if self._best is None or score > self._best[0]:
                self._best = (score, epoch, self._snapshot())
            if verbose:
                print(f"epoch {epoch}: train loss {record['train_loss']:.4f}, "
                      f"val score {score:.4f}")
        selection_scores: dict[str, list[Any]] = {}
        if nan_reason is not None:
            kept = self._best[2] if self._best is not None else last_good
            self._restore(kept)
            where = (f"epoch {self._best[1]} (score {self._best[0]:.4g})" if self._best
                     else "the last step before it (no epoch had ended)")
            warnings.warn(f"DARTS stopped: {nan_reason}; keeping the architecture weights of "
                          f"{where}, selected by magnitude", RuntimeWarning, stacklevel=2)
            dna = self.derive()
        elif self.selection == "perturbation":
            values = self._select_by_perturbation(train_loader, val_loader, val_iter, loss_fn,
                                                  device, eval_batches, selection_scores)
            dna = derive_dna(self.spec, {**values, **self.fixed})
        else:
            dna = self.derive()
        self.result = SearchResult(
            dna=dna, nan_stopped=nan_reason is not None, stop_reason=nan_reason,
            best_epoch=self._best[1] if self._best else None,
            best_score=self._best[0] if self._best else None, epochs=len(self.history),
            selection="magnitude" if nan_reason else self.selection,
            selection_scores=selection_scores)
        return dna

    def _scheduler(self, steps: int | None, epochs: int) -> Any:
        """The weights' cosine schedule over the search's steps (None when its length is unknown)."""
        if not steps or self._weight_opt is None:
            return None
        # Down to weight_lr_min for the default SGD; a custom optimizer keeps the same ratio.
        initial = self._weight_opt.param_groups[0].get("initial_lr", self._weight_opt.param_groups[0]["lr"])
        eta_min = self.weight_lr_min * (1.0 if self.weight_optimizer is None else initial / self.weight_lr)
        return torch.optim.lr_scheduler.CosineAnnealingLR(
            self._weight_opt, T_max=max(1, epochs * steps), eta_min=eta_min)

    def _has_free_decisions(self) -> bool:
        return bool(self.relaxation.parameters())

    def _snapshot(self) -> dict[str, torch.Tensor]:
        return {k: d.alpha.detach().clone() for k, d in self.decisions.items() if d.alpha is not None}

    def _restore(self, snapshot: Mapping[str, torch.Tensor]) -> None:
        with torch.no_grad():
            for key, value in snapshot.items():
                alpha = self.decisions[key].alpha
                assert alpha is not None
                alpha.copy_(value)

    # ---- steps -------------------------------------------------------------------------------
    def _autocast(self) -> Any:
        if self._amp_dtype is None or self.device is None:
            return nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self._amp_dtype)

    def _loss(self, x: Any, y: Any, loss_fn: LossFn) -> torch.Tensor:
        self.relaxation.new_pass()
        assert self.supernet is not None
        with self._autocast():
            out = _call(self.supernet, x)
            return loss_fn(out, y)

    def _weight_step(self, x: Any, y: Any, loss_fn: LossFn) -> float:
        relax = self.relaxation
        relax.set_phase("weight")
        relax.resample()
        assert self.supernet is not None
        self.supernet.train()
        loss = self._loss(x, y, loss_fn)
        value = float(loss.detach())
        opt = self._weight_opt
        if not math.isfinite(value) or not loss.requires_grad or opt is None:
            return value  # a path without weights (Identity, Zero) has nothing to train
        opt.zero_grad(set_to_none=True)
        if self._scaler is not None:
            self._scaler.scale(loss).backward()
            self._scaler.unscale_(opt)
        else:
            loss.backward()
        if self.grad_clip is not None:
            nn.utils.clip_grad_norm_(self.weight_parameters(), self.grad_clip)
        if self._scaler is not None:
            self._scaler.step(opt)
            self._scaler.update()
        else:
            opt.step()
        return value

    def architecture_gradients(self, train_batch: Any, val_batch: Any,
                               loss_fn: LossFn | None = None) -> tuple[float, dict[str, torch.Tensor]]:
        """The gradient an architecture step would use (first or second order), without the step.

        Returns ``(validation loss, {decision key: grad of alpha})``; call ``setup`` first.
        In the sampling modes, new paths are drawn first.
        """
        loss_fn = loss_fn or nn.functional.cross_entropy
        assert self.device is not None
        x, y = _split(_to_device(train_batch, self.device))
        xv, yv = _split(_to_device(val_batch, self.device))
        keys = [k for k, d in self.decisions.items() if k not in self.relaxation.fixed]
        loss, grads = self._arch_grads(x, y, xv, yv, loss_fn)
        return float(loss.detach()), dict(zip(keys, grads))

    def _arch_grads(self, x: Any, y: Any, xv: Any, yv: Any,
                    loss_fn: LossFn) -> tuple[torch.Tensor, list[torch.Tensor]]:
        relax = self.relaxation
        relax.set_phase("arch")
        relax.resample()
        assert self.supernet is not None
        self.supernet.train()
        params = relax.parameters()
        if self.order == 2:
            return self._unrolled_grads(x, y, xv, yv, loss_fn, params)
        loss = self._loss(xv, yv, loss_fn)
        scale = 1.0
        target = loss
        if self._scaler is not None:
            scale = float(self._scaler.get_scale())
            target = loss * scale
        return loss, [g / scale for g in _grads(target, params)]

    def _arch_step(self, x: Any, y: Any, xv: Any, yv: Any, loss_fn: LossFn) -> float:
        params = self.relaxation.parameters()
        before = {k: d.alpha.detach().clone() for k, d in self.decisions.items()
                  if d.alpha is not None and k not in self.relaxation.fixed}
        loss, grads = self._arch_grads(x, y, xv, yv, loss_fn)
        value = float(loss.detach())
        if not math.isfinite(value):
            return value
        if not all(bool(torch.isfinite(g).all()) for g in grads):
            return value  # an overflow under float16 autocast: skip this step
        assert self._arch_opt is not None
        for p, g in zip(params, grads):
            p.grad = g
        self._arch_opt.step()
        self._arch_opt.zero_grad(set_to_none=True)
        self.relaxation.rescale(before)
        return value

    def _unrolled_grads(self, x: Any, y: Any, xv: Any, yv: Any, loss_fn: LossFn,
                        params: list[nn.Parameter]) -> tuple[torch.Tensor, list[torch.Tensor]]:
        relax = self.relaxation
        weights = self.weight_parameters()
        opt = self._weight_opt
        xi = self.unrolled_lr if self.unrolled_lr is not None else (
            float(opt.param_groups[0]["lr"]) if opt is not None else 0.0)
        # 1. The virtual step w' = w - xi * (grad_w L_train + momentum * buffer + wd * w).
        relax.set_phase("arch", attach_alpha=False)
        loss_train = self._loss(x, y, loss_fn)
        g_w = _grads(loss_train, weights)
        backup = [w.detach().clone() for w in weights]
        with torch.no_grad():
            for w, g in zip(weights, g_w):
                w.sub_(xi * self._sgd_direction(w, g))
        # 2. grad of L_val(w', alpha) in alpha and in w'.
        relax.set_phase("arch", attach_alpha=True)
        try:
            loss_val = self._loss(xv, yv, loss_fn)
            grads = _grads(loss_val, [*params, *weights])
        finally:
            with torch.no_grad():
                for w, b in zip(weights, backup):
                    w.copy_(b)
        d_alpha, d_w = grads[:len(params)], grads[len(params):]
        # 3. The Hessian-vector product by finite differences around w.
        norm = torch.sqrt(sum((g.double() ** 2).sum() for g in d_w)) if d_w else torch.tensor(0.0)
        if float(norm) == 0.0:
            return loss_val, d_alpha
        eps = 0.01 / norm
        try:
            with torch.no_grad():
                for w, v in zip(weights, d_w):
                    w.add_(v, alpha=float(eps))
            g_plus = _grads(self._loss(x, y, loss_fn), params)
            with torch.no_grad():
                for w, b, v in zip(weights, backup, d_w):
                    w.copy_(b).sub_(v, alpha=float(eps))
            g_minus = _grads(self._loss(x, y, loss_fn), params)
        finally:
            with torch.no_grad():
                for w, b in zip(weights, backup):
                    w.copy_(b)
        out = [da - xi * (gp - gm) / (2 * eps.to(da.dtype))
               for da, gp, gm in zip(d_alpha, g_plus, g_minus)]
        return loss_val, out

    def _sgd_direction(self, w: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        opt = self._weight_opt
        if not isinstance(opt, torch.optim.SGD):
            return g
        group = next(gr for gr in opt.param_groups if any(p is w for p in gr["params"]))
        d = g + group["weight_decay"] * w if group["weight_decay"] else g
        buf = opt.state.get(w, {}).get("momentum_buffer")
        if group["momentum"] and buf is not None:
            d = d + group["momentum"] * buf
        return d

    # ---- evaluation and selection ------------------------------------------------------------
    def evaluate(self, loader: Iterable[Any], loss_fn: LossFn | None = None,
                 limit: int | None = None) -> tuple[float, float]:
        """``(mean loss, score)`` of the supernet on ``loader`` in eval mode.

        Softmax mode evaluates the mixture; the sampling modes the argmax path of each decision.
        """
        loss_fn = loss_fn or nn.functional.cross_entropy
        assert self.supernet is not None and self.device is not None
        relax = self.relaxation
        relax.set_phase("eval")
        was_training = self.supernet.training
        self.supernet.eval()
        loss_sum = torch.zeros((), dtype=torch.float64, device=self.device)
        score_sum = torch.zeros((), dtype=torch.float64, device=self.device)
        count = 0
        try:
            with torch.no_grad():
                for i, batch in enumerate(loader):
                    if limit is not None and i >= limit:
                        break
                    x, y = _split(_to_device(batch, self.device))
                    relax.new_pass()
                    with self._autocast():
                        out = _call(self.supernet, x)
                        loss = loss_fn(out, y).double()
                    n = _batch_size(x)
                    loss_sum += loss * n
                    if self.score_fn is not None:
                        score = torch.as_tensor(self.score_fn(out, y), dtype=torch.float64,
                                                device=self.device)
                    elif _is_classification(out, y):
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

    def _select_by_perturbation(self, train_loader: Iterable[Any], val_loader: Iterable[Any],
                                val_iter: Iterator[Any], loss_fn: LossFn, device: torch.device,
                                eval_batches: int | None,
                                scores_out: dict[str, list[Any]]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        train_iter = _cycle(train_loader)

        def visit(space: Space) -> None:
            for d in space.decisions:
                key = decision_key(d)
                if key in self.fixed:
                    value = self.fixed[key]
                elif key in values:
                    value = values[key]
                else:
                    state = self.decisions[key]
                    value, scores = self._perturb(state, val_loader, loss_fn, eval_batches)
                    values[key] = value
                    scores_out[key] = scores
                    picks = value if isinstance(value, list) else [value]
                    self.relaxation.fixed[key] = tuple(picks)
                    self._fine_tune(train_iter, val_iter, loss_fn, device)
                if isinstance(d, Choice):
                    picks = value if isinstance(value, list) else [value]
                    for i in sorted(set(picks)):
                        visit(d.candidates[i].space)

        visit(self.spec.space)
        return values

    def _perturb(self, state: DecisionState, val_loader: Iterable[Any], loss_fn: LossFn,
                 eval_batches: int | None) -> tuple[Any, list[Any]]:
        relax = self.relaxation
        n = state.num_candidates
        p = state.probabilities()
        rows = state.positions if state.per_position else 1

        def score_with(override: torch.Tensor | int) -> float:
            relax.overrides[state.key] = override
            try:
                return self.evaluate(val_loader, loss_fn, limit=eval_batches)[1]
            finally:
                del relax.overrides[state.key]

        table = torch.zeros(rows, n, dtype=torch.float64)
        if self.mode == "softmax":
            base = self.evaluate(val_loader, loss_fn, limit=eval_batches)[1]
            for pos in range(rows):
                for i in range(n):
                    w = p.clone()
                    (w[pos] if state.per_position else w)[i] = 0.0
                    table[pos, i] = base - score_with(w)  # the drop when i is removed
        else:
            argmax = torch.nn.functional.one_hot(p.argmax(dim=-1), n).to(p.dtype)
            for pos in range(rows):
                for i in range(n):
                    if state.per_position:
                        w = argmax.clone()
                        w[pos] = 0.0
                        w[pos, i] = 1.0
                        table[pos, i] = score_with(w)
                    else:
                        table[pos, i] = score_with(i)  # the score with i alone
        scores = table if state.per_position else table[0]
        return select_from_scores(state, scores), scores.tolist()

    def _fine_tune(self, train_iter: Iterator[Any], val_iter: Iterator[Any], loss_fn: LossFn,
                   device: torch.device) -> None:
        for _ in range(self.fine_tune_steps):
            x, y = _split(_to_device(next(train_iter), device))
            if self._has_free_decisions():
                xv, yv = _split(_to_device(next(val_iter), device))
                self._arch_step(x, y, xv, yv, loss_fn)
            self._weight_step(x, y, loss_fn)


# ---- helpers -----------------------------------------------------------------------------------
def _amp_dtype(amp: bool | torch.dtype) -> torch.dtype | None:
    if amp is False or amp is None:
        return None
    if amp is True:
        return torch.bfloat16
    if isinstance(amp, torch.dtype):
        return amp
    raise ValueError(f"amp must be a bool or a torch dtype, got {amp!r}")


def _grads(loss: torch.Tensor, params: list[Any]) -> list[torch.Tensor]:
    if not loss.requires_grad:
        return [torch.zeros_like(p) for p in params]
    grads = torch.autograd.grad(loss, params, allow_unused=True)
    return [torch.zeros_like(p) if g is None else g for p, g in zip(params, grads)]


def _split(batch: Any) -> tuple[Any, Any]:
    if isinstance(batch, Mapping):
        raise TypeError("DARTS batches are (input, target) pairs, not dicts")
    try:
        x, y = batch
    except (TypeError, ValueError):
        raise TypeError(f"DARTS batches are (input, target) pairs, got {type(batch).__name__}") from None
    return x, y


def _call(model: nn.Module, x: Any) -> Any:
    if isinstance(x, (tuple, list)):
        return model(*x)
    return model(x)


def _to_device(value: Any, device: torch.device) -> Any:
    if isinstance(value, torch.Tensor):
        return value.to(device, non_blocking=True)
    if isinstance(value, (tuple, list)):
        return type(value)(_to_device(v, device) for v in value)
    if isinstance(value, Mapping):
        return {k: _to_device(v, device) for k, v in value.items()}
    return value


def _device_of(value: Any) -> torch.device:
    if isinstance(value, torch.Tensor):
        return value.device
    if isinstance(value, (tuple, list)):
        for v in value:
            found = _device_of(v)
            if found is not None:
                return found
    return None  # type: ignore[return-value]


def _batch_size(x: Any) -> int:
    if isinstance(x, torch.Tensor):
        return int(x.shape[0]) if x.dim() else 1
    if isinstance(x, (tuple, list)) and x:
        return _batch_size(x[0])
    return 1


def _is_classification(out: Any, y: Any) -> bool:
    return (isinstance(out, torch.Tensor) and isinstance(y, torch.Tensor) and out.dim() >= 2
            and not y.is_floating_point() and not y.is_complex() and y.dim() == out.dim() - 1
            and out.shape[0] == y.shape[0])


def _cycle(loader: Iterable[Any]) -> Iterator[Any]:
    while True:
        empty = True
        for batch in loader:
            empty = False
            yield batch
        if empty:
            raise ValueError("a loader gave no batches")


__all__ = ["DARTS", "SearchResult"]
