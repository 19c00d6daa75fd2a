"""The DARTS object: set-up, the search loop, derivation, inspection."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs
import torch
from torch import nn

from symbo.backends.torch.batches import Precision, cycle, device_batch, device_of, to_device
from symbo.backends.torch.cells import CellState, Genotype
from symbo.backends.torch.darts.checkpoint import CheckpointMixin
from symbo.backends.torch.darts.plotting import PlottingMixin
from symbo.backends.torch.darts.selection import SelectionMixin
from symbo.backends.torch.darts.settings import DARTSSettings
from symbo.backends.torch.darts.steps import LossFn, StepsMixin, as_inputs
from symbo.backends.torch.darts.unrolled import UnrolledMixin
from symbo.backends.torch.mixed_ops import DecisionState, Relaxation
from symbo.backends.torch.supernet import (
    Analysis,
    derive_dna,
    dna_values,
    magnitude_values,
    normalize_fixed,
    setup_supernet,
    space_spec,
)
from symbo.backends.torch.weight_training import WeightTrainer
from symbo.core import clone
from symbo.dsl.dna import DNA
from symbo.dsl.materialize import materialize as sb_materialize
from symbo.dsl.spec import DNASpec

Callback = Callable[[int, Any], Any]


class SearchWarning(UserWarning, RuntimeWarning):
    """A search result to look at twice: a non-finite loss that stopped it, architecture weights
    that barely moved, nothing left to train. (Both a UserWarning and a RuntimeWarning, so either
    filter catches it.)"""


@attrs.define
class SearchResult:
    """What the last ``search`` found and how it ended.

    ``nan_stopped`` is True when a non-finite loss stopped it (``stop_reason`` says where);
    ``stopped`` when the callback stopped it before its last epoch (it then derives by
    magnitude; a later ``search`` goes on); ``best_epoch``/``best_score`` are the epoch
    (0-based) with the best validation score and that score; ``selection_scores`` the scores
    perturbation selection measured per decision (per candidate: the drop in validation score
    when it is removed, or the score with it alone in the sampling modes; for a cell, per edge
    ``{cell}.node{i}.edge{j}`` over the ops and per node ``{cell}.node{i}`` over its edges);
    ``alpha_change`` the largest change of softmax(alpha) since the search began.
    """

    dna: DNA
    nan_stopped: bool = False
    stop_reason: str | None = None
    best_epoch: int | None = None
    best_score: float | None = None
    epochs: int = 0
    selection: str = "magnitude"
    selection_scores: dict[str, list[Any]] = attrs.Factory(dict)
    stopped: bool = False
    alpha_change: float | None = None


class DARTS(StepsMixin, UnrolledMixin, SelectionMixin, CheckpointMixin, PlottingMixin):
    """Differentiable architecture search over ``space``; ``search`` returns its DNA.

    Args:
        space: a symbolic tree of module recipes with markers (see
            :mod:`symbo.backends.torch.supernet` for what can be relaxed), building to a
            ``torch.nn.Module`` (or pass ``build_fn``).
        mode, order: see :class:`DARTSSettings` (``"softmax"`` and 1 unless ``settings`` says).
        seed: seeds the supernet's initialization, alpha's and the sampling (torch's global
            random state is left as it was).
        device: where the supernet lives (None: the device of the first train batch).
        fixed: values for markers DARTS does not search, ``{name or id: value}`` as in
            ``dna.to_dict()`` (an index for a one_of, a list of indices for a many_of, the
            number for a range): the markers it cannot relax, decided by an outer search, or
            choices to pin. The DNA returned holds them.
        settings: a :class:`DARTSSettings`; keyword arguments (``arch_lr=3e-3``...) replace
            its fields.
    """

    def __init__(self, space: Any, mode: str | None = None, order: int | None = None, *,
                 seed: int | None = None, device: str | torch.device | None = None,
                 fixed: Mapping[str, Any] | None = None, settings: DARTSSettings | None = None,
                 **options: Any) -> None:
        if mode is not None:
            options["mode"] = mode
        if order is not None:
            options["order"] = order
        self.settings = DARTSSettings.from_options(settings, options)
        # A copy: the supernet and the DNA follow the space as it was given, whatever happens
        # to the original later (and a subtree of a larger program becomes a root).
        self.space = clone(space)
        self.seed = seed
        self.device = None if device is None else torch.device(device)
        self.spec: DNASpec = space_spec(self.space)
        self.fixed = normalize_fixed(self.spec, fixed)
        self.analysis = Analysis(self.space, self.spec, self.fixed)
        self.analysis.check()
        generator = torch.Generator()
        if seed is None:
            generator.seed()
        else:
            generator.manual_seed(seed)
        s = self.settings
        self.relaxation = Relaxation(s.mode, temperature=s.temperature_at(0, 1), hard=s.gumbel_hard,
                                     generator=generator)
        self.supernet: nn.Module | None = None
        self.history: list[dict[str, Any]] = []
        self.result: SearchResult | None = None
        self.epoch = 0  # epochs completed
        self._step = 0  # weight steps taken (the schedule's clock)
        self.trainer: WeightTrainer | None = None
        self.precision = Precision(False, "cpu")
        self._arch_opt: torch.optim.Optimizer | None = None
        self._best: tuple[float, int, dict[str, torch.Tensor]] | None = None
        self._alpha_start: dict[str, torch.Tensor] = {}

    # ---- settings as attributes ----------------------------------------------------------------
    @property
    def mode(self) -> str:
        return self.settings.mode

    @property
    def order(self) -> int:
        return self.settings.order

    @order.setter
    def order(self, value: int) -> None:
        self.settings = attrs.evolve(self.settings, order=value)

    @property
    def selection(self) -> str:
        return self.settings.selection

    # ---- inspection ----------------------------------------------------------------------------
    @property
    def decisions(self) -> dict[str, DecisionState]:
        """The relaxed decisions by key (name, else id; a cell's by its name); each holds its
        ``alpha``."""
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
        """``{decision key: softmax(alpha)}`` (a list per position for a many_of whose positions
        have their own weights; a list per edge, over the ops, for a DAG cell)."""
        return {key: d.probabilities().cpu().tolist() for key, d in self.decisions.items()
                if d.alpha is not None}

    def derive(self) -> DNA:
        """The DNA by weight magnitude now (decisions fixed by perturbation stay fixed): the
        argmax per decision; per node of a cell, the top ``in_degree`` edges by their strongest
        op other than 'none', each with that op."""
        if self.supernet is None and self.analysis.states():
            raise ValueError("no architecture weights yet: run search() (or load_state_dict()) first")
        values = magnitude_values(self.decisions, self.relaxation.fixed)
        values.update(self.fixed)
        return derive_dna(self.spec, values)

    def genotype(self, dna: DNA | None = None) -> Genotype:
        """The derived cells in the DARTS paper's ``Genotype`` format, as its ``genotype()``
        prints them: per node the kept edges strongest first (by their best op other than
        'none'; after perturbation selection, by how much removing them hurt), ``concat`` the
        intermediate nodes. ``normal`` is the cell type of the normal cells, ``reduce`` that of
        the reduction cells (each None without any). ``dna`` defaults to the last search's.

        >>> import torch, symbo as sb
        >>> from symbo.backends import torch as sbt
        >>> ops = {"none": lambda C, stride: sbt.Zero(stride),
        ...        "conv": lambda C, stride: torch.nn.Conv2d(C, C, 3, stride, 1),
        ...        "skip": lambda C, stride: torch.nn.Identity()}
        >>> cell = sb.dag_cell(2, list(ops), name="normal")
        >>> space = sbt.CellStack(stem=sbt.nn.Conv2d(1, 4, 1), cells=[sbt.DagCell(cell, 4, ops)],
        ...                       head=sbt.nn.Sequential(sbt.nn.Flatten(), sbt.nn.LazyLinear(2)))
        >>> data = [(torch.randn(4, 1, 3, 3), torch.tensor([0, 1, 0, 1]))]
        >>> darts = sbt.DARTS(space, seed=0, device="cpu", min_alpha_change=0)
        >>> g = darts.genotype(darts.search(data, data, epochs=1))
        >>> len(g.normal), g.normal_concat, g.reduce
        (4, range(2, 4), None)
        """
        cell_types: dict[str, set[bool]] = {}
        for plan in self.analysis.cells.values():
            cell_types.setdefault(plan.weights_key, set()).add(bool(getattr(plan.recipe, "reduction", False)))
        normal = [k for k, kinds in cell_types.items() if False in kinds]
        reduce = [k for k, kinds in cell_types.items() if True in kinds]
        if len(normal) > 1 or len(reduce) > 1 or not cell_types:
            names = {kind: ", ".join(map(repr, keys)) or "none"
                     for kind, keys in (("n", normal), ("r", reduce))}
            raise ValueError(
                "genotype() gives the paper's Genotype of a normal and a reduction cell type (one "
                f"each at most); this space has {len(normal)} normal ({names['n']}) and "
                f"{len(reduce)} reduction ({names['r']}). Name stacked cells "
                "alike to share them (sb.dag_cell(..., name='normal')), or read each cell of "
                "sb.materialize(space, dna) with sbt.genotype(cell)")
        if dna is None:
            dna = self.result.dna if self.result is not None else self.derive()
        values = dna_values(self.spec, dna)
        drops = self.result.selection_scores if self.result is not None else {}

        def gene(key: str) -> list[tuple[str, int]]:
            state = self.decisions[key]
            assert isinstance(state, CellState)
            probs = state.probabilities().detach().to("cpu", torch.float64)
            allowed = [o for o in range(state.num_candidates) if o not in state.none]
            out: list[tuple[str, int]] = []
            for i in range(state.num_nodes):
                sources = values[state.inputs_keys[i]]
                sources = [sources] if isinstance(sources, int) else list(sources)
                node_edges = state.node_edges(i)
                edge_drops = drops.get(f"{key}.node{i}")

                def strength(j: int, i: int = i, node_edges: list[int] = node_edges,
                             edge_drops: list[Any] | None = edge_drops) -> float:
                    e = state.edges.index((i, j))
                    if edge_drops is not None:
                        return float(edge_drops[node_edges.index(e)])
                    return max(float(probs[e, o]) for o in allowed)

                ranked = sorted(enumerate(sources), key=lambda kj: (-strength(kj[1]), kj[1]))
                out += [(state.op_names[int(values[state.op_keys[i][k]])], int(j)) for k, j in ranked]
            return out

        def concat(key: str) -> range:
            state = self.decisions[key]
            assert isinstance(state, CellState)
            return range(state.num_inputs, state.num_inputs + state.num_nodes)

        return Genotype(normal=gene(normal[0]) if normal else None,
                        normal_concat=concat(normal[0]) if normal else None,
                        reduce=gene(reduce[0]) if reduce else None,
                        reduce_concat=concat(reduce[0]) if reduce else None)

    def materialize(self, dna: DNA | None = None) -> Any:
        """``sb.materialize(space, dna)`` (default: the last search's DNA), checked against
        this search's spec (which also covers markers that share a name)."""
        if dna is None:
            if self.result is None:
                raise ValueError("no DNA yet: run search() first or pass one")
            dna = self.result.dna
        return sb_materialize(self.space, dna, spec=self.spec)

    # ---- set-up --------------------------------------------------------------------------------
    def setup(self, device: str | torch.device | None = None, example: Any = None, *,
              lazy_ok: bool = False) -> nn.Module:
        """Builds the supernet, alpha and the optimizers on ``device`` (once); returns the supernet.

        ``example`` (an input batch, or a tuple of the model's inputs) initializes lazy modules
        (``LazyLinear``...); ``lazy_ok`` leaves them lazy (a state dict gives their shapes).
        """
        device = torch.device(device) if device is not None else self.device
        if device is None:
            raise ValueError("DARTS needs a device: DARTS(space, device=...) or search(device=...)")
        if self.supernet is not None:
            if self.device != device:
                raise ValueError(f"this DARTS was set up on {self.device}; it cannot move to {device}")
            return self.supernet
        s = self.settings
        precision = Precision(s.amp, device)
        if precision.dtype is torch.float16 and s.order == 2:
            raise ValueError("amp=True means float16 on this device, which needs order=1 (the unrolled "
                             "step is not scaled); use amp=torch.bfloat16 or order=1")
        model = setup_supernet(self.space, self.analysis, self.relaxation, device, seed=self.seed,
                               dtype=s.dtype, build_fn=s.build_fn, max_variants=s.max_variants,
                               alpha_init_std=s.alpha_init_std,
                               example=None if example is None else as_inputs(to_device(example, device)),
                               lazy_ok=lazy_ok)
        self.device = device
        self.supernet = model
        self.precision = precision
        self.trainer = WeightTrainer(model, s.weight_optimizer, lr=s.weight_lr, momentum=s.weight_momentum,
                                     weight_decay=s.weight_weight_decay, lr_min=s.weight_lr_min,
                                     grad_clip=s.grad_clip, precision=precision)
        if self.arch_parameters():
            self._arch_opt = torch.optim.Adam(self.arch_parameters(), lr=s.arch_lr,
                                              betas=tuple(s.arch_betas),  # type: ignore[arg-type]
                                              weight_decay=s.arch_weight_decay)
        self._alpha_start = self._snapshot()
        return model

    # ---- the search ----------------------------------------------------------------------------
    def search(self, train_loader: Iterable[Any], val_loader: Iterable[Any], epochs: int = 1, *,
               device: str | torch.device | None = None, loss_fn: LossFn | None = None,
               steps_per_epoch: int | None = None, eval_batches: int | None = None,
               callback: Callback | None = None, verbose: bool = False) -> DNA:
        """Runs the search to its ``epochs``-th epoch and returns the DNA of the architecture.

        ``epochs`` is the length of the whole search (the cosine schedule spans it): a search
        goes on from the epoch it is at (after an earlier ``search``, or ``load_state_dict``),
        so a search split in parts equals one run. ``callback(epoch, darts)`` runs after each
        epoch (e.g. to log, or ``torch.save(darts.state_dict(), path)``); returning True stops
        the search there (it derives by magnitude; call ``search`` again to go on).

        Batches are ``(inputs, target)`` pairs (``inputs`` a tensor, or a tuple of the model's
        positional arguments) or ``(*inputs, target)``; they are moved to the device.
        ``steps_per_epoch`` caps the train batches per epoch; ``eval_batches`` the validation
        batches of each evaluation (epoch ends, perturbation). ``loss_fn`` defaults to cross
        entropy.
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
        if self.epoch >= epochs:
            warnings.warn(f"this search has run {self.epoch} epochs already, epochs={epochs}: nothing to "
                          "train. epochs is the length of the whole search: to log or checkpoint every "
                          "epoch, run search(..., epochs=N, callback=fn) once (fn(epoch, darts) after each "
                          "epoch); to go on, pass a larger epochs", SearchWarning, stacklevel=2)
            if self.result is not None:
                return self.result.dna
        nan_reason: str | None = None
        last_good: dict[str, torch.Tensor] = {}
        stopped = False
        for epoch in range(self.epoch, epochs):
            self.relaxation.temperature = self.settings.temperature_at(epoch, epochs)
            val_iter = cycle(val_loader)  # from the start each epoch: a resumed epoch is the same
            train_sum = val_sum = 0.0
            n_train = n_val = 0
            seen = False
            for step, batch in enumerate(train_loader):
                if steps_per_epoch is not None and step >= steps_per_epoch:
                    break
                seen = True
                if self.supernet is None:  # set up on the first batch: its device, its shapes
                    device = device or device_of(batch) or torch.device("cpu")
                    self.setup(device, example=device_batch(batch, device)[0])
                assert self.trainer is not None
                if self.trainer.total_steps != (epochs * steps if steps else None):
                    self.trainer.plan(epochs * steps if steps else None)
                    self.trainer.set_step(self._step)
                x, y = device_batch(batch, self.device)  # type: ignore[arg-type]
                if self._best is None:
                    last_good = self._snapshot()
                if self.relaxation.parameters():
                    xv, yv = device_batch(next(val_iter), self.device)  # type: ignore[arg-type]
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
                self._step += 1
                self.trainer.set_step(self._step)
            if nan_reason is not None:
                break
            if not seen:
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
                "lr": self.trainer.lr if self.trainer else None,
                "alphas": self.alphas(),
            }
            self.history.append(record)
            self.epoch = epoch + 1
            if self._best is None or score > self._best[0]:
                self._best = (score, epoch, self._snapshot())
            if verbose:
                print(f"epoch {epoch}: train loss {record['train_loss']:.4f}, val score {score:.4f}")
            if callback is not None and callback(epoch, self) is True and epoch + 1 < epochs:
                stopped = True
                break
        return self._finish(train_loader, val_loader, loss_fn, eval_batches, nan_reason, last_good, stopped)

    def _finish(self, train_loader: Iterable[Any], val_loader: Iterable[Any], loss_fn: LossFn,
                eval_batches: int | None, nan_reason: str | None, last_good: dict[str, torch.Tensor],
                stopped: bool) -> DNA:
        selection_scores: dict[str, list[Any]] = {}
        selection = "magnitude"
        if nan_reason is not None:
            kept = self._best[2] if self._best is not None else last_good
            self._restore(kept)
            where = (f"epoch {self._best[1]} (score {self._best[0]:.4g})" if self._best
                     else "the last step before it (no epoch had ended)")
            warnings.warn(f"DARTS stopped: {nan_reason}; keeping the architecture weights of "
                          f"{where}, selected by magnitude", SearchWarning, stacklevel=3)
            dna = self.derive()
        elif self.settings.selection == "perturbation" and not stopped:
            values = self._select_by_perturbation(train_loader, val_loader, loss_fn, eval_batches,
                                                  selection_scores)
            dna = derive_dna(self.spec, {**values, **self.fixed})
            selection = "perturbation"
        else:
            dna = self.derive()
        change = self._alpha_change()
        if (selection == "magnitude" and not stopped and nan_reason is None and change is not None
                and change < self.settings.min_alpha_change):
            warnings.warn(
                f"DARTS: softmax(alpha) moved by at most {change:.4f} in {self.epoch} epochs (below "
                f"min_alpha_change={self.settings.min_alpha_change}): the derived architecture is "
                "close to the initialization, not a finding. Search longer, raise arch_lr (the "
                "paper's 3e-4 is meant for 50 epochs of CIFAR-10), or use selection='perturbation'",
                SearchWarning, stacklevel=3)
        self.result = SearchResult(
            dna=dna, nan_stopped=nan_reason is not None, stop_reason=nan_reason,
            best_epoch=self._best[1] if self._best else None,
            best_score=self._best[0] if self._best else None, epochs=len(self.history),
            selection=selection, selection_scores=selection_scores, stopped=stopped,
            alpha_change=change)
        return dna

    def _alpha_change(self) -> float | None:
        changes = []
        for key, start in self._alpha_start.items():
            state = self.decisions.get(key)
            if state is None or state.alpha is None or self.relaxation.is_fixed(key):
                continue
            now = state.probabilities().to("cpu", torch.float64)
            changes.append(float((now - torch.softmax(start.to("cpu", torch.float64), dim=-1)).abs().max()))
        return max(changes) if changes else None

    def _snapshot(self) -> dict[str, torch.Tensor]:
        return {k: d.alpha.detach().clone() for k, d in self.decisions.items() if d.alpha is not None}

    def _restore(self, snapshot: Mapping[str, torch.Tensor]) -> None:
        with torch.no_grad():
            for key, value in snapshot.items():
                alpha = self.decisions[key].alpha
                assert alpha is not None
                alpha.copy_(value)


__all__ = ["DARTS", "SearchResult", "SearchWarning"]
