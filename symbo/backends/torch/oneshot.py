"""One-shot weight sharing: one supernet, trained once, scores every program of the space.

``sbt.OneShot(space)`` builds the same supernet DARTS would (module choices, widths,
argument variants, DAG cells given to ``sbt.DagCell``), without architecture weights, and
``train`` trains it by sampling one path per step (Single Path One-Shot, Guo et al. 2020):
every decision of the space is drawn uniformly (``sampling="uniform"``), or, with
``sampling="fair"`` (FairNAS's strict fairness, Chu et al. 2021), each step trains ``m`` paths
(``m`` the most candidates of any decision) in which every candidate of every ``one_of``, and
every op of every cell edge, appears equally often, with the gradients of the ``m`` paths
summed into one update. ``evaluate(program_or_dna, loader)`` then scores one architecture with
the shared weights: its path is fixed, BatchNorm statistics are recomputed on a few batches
(the SPOS recipe), and the score is the accuracy (minus the loss for other targets, or
``score_fn``). So ``sb.tune`` with any algorithm searches the space with weight sharing::

    ws = sbt.OneShot(space, seed=0)
    ws.train(train_loader, epochs=50)
    study = sb.tune(lambda program: ws.evaluate(program, val_loader), space,
                    sb.algorithms.RegularizedEvolution(population_size=20, tournament_size=5))

``state_dict``/``load_state_dict`` hold the weights, the optimizer, the schedule, the random
states and the epoch: training split in parts equals one run, and a fresh ``OneShot(space)``
restored from a state evaluates without training.

>>> import torch, symbo as sb
>>> from symbo.backends import torch as sbt
>>> space = sbt.nn.Sequential(sbt.nn.Linear(4, 16), sb.one_of([sbt.nn.ReLU(), sbt.nn.Tanh()], name="act"),
...                           sbt.nn.Linear(16, 2))
>>> g = torch.Generator().manual_seed(0); x = torch.randn(128, 4, generator=g); y = (x[:, 0] > 0).long()
>>> data = [(x[i:i + 32], y[i:i + 32]) for i in range(0, 128, 32)]
>>> ws = sbt.OneShot(space, seed=0, device="cpu")
>>> history = ws.train(data, epochs=3)
>>> 0.5 <= ws.evaluate(sb.materialize(space, sb.DNA.from_dict(sb.dna_spec(space), {"act": 0})), data) <= 1.0
True
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import torch
from torch import nn

from symbo.backends.torch.batches import Precision, batch_size, device_batch, device_of, to_device
from symbo.backends.torch.cells import CellState
from symbo.backends.torch.darts.checkpoint import check_keys
from symbo.backends.torch.darts.steps import as_inputs, is_classification
from symbo.backends.torch.mixed_ops import DecisionState, Relaxation
from symbo.backends.torch.random_state import global_rng_state, set_global_rng_state
from symbo.backends.torch.supernet import (
    Analysis,
    RelaxationError,
    dna_of_program,
    dna_values,
    normalize_fixed,
    path_of,
    setup_supernet,
    space_spec,
)
from symbo.backends.torch.weight_training import WeightTrainer
from symbo.core import clone
from symbo.dsl.dna import DNA
from symbo.dsl.spec import DNASpec

LossFn = Callable[[Any, Any], torch.Tensor]
Path = dict[str, tuple[int, ...]]


class OneShot:
    """A weight-sharing supernet over ``space`` (see the module docstring).

    Args:
        space: as for :class:`~symbo.backends.torch.darts.DARTS`.
        sampling: ``"uniform"`` (SPOS) or ``"fair"`` (FairNAS).
        seed: seeds the supernet's initialization and the path sampling.
        device: where the supernet lives (None: the device of the first train batch).
        fixed: values for markers the supernet does not share (as DARTS's ``fixed``).
        optimizer: None (SGD with ``lr``, ``momentum``, ``weight_decay``), an optimizer recipe
            without params, or ``fn(params)``; a cosine schedule down to ``lr_min`` spans the
            training.
        grad_clip: the gradient norm clip (None: none).
        amp: as for ``sbt.fit`` (True: bfloat16 on the CPU and on GPUs with it, else float16).
        dtype, build_fn, max_variants: as for DARTS.
        score_fn: ``fn(output, target) -> float`` (higher is better) for ``evaluate``.
        calibration_batches: batches for recomputing BatchNorm statistics in ``evaluate``.
    """

    def __init__(self, space: Any, *, sampling: str = "uniform", seed: int | None = None,
                 device: str | torch.device | None = None, fixed: Mapping[str, Any] | None = None,
                 optimizer: Any = None, lr: float = 0.025, momentum: float = 0.9,
                 weight_decay: float = 3e-4, lr_min: float = 1e-3, grad_clip: float | None = 5.0,
                 amp: bool | torch.dtype = False, dtype: torch.dtype | None = None,
                 build_fn: Callable[[Any], Any] | None = None, max_variants: int = 64,
                 score_fn: Callable[[Any, Any], Any] | None = None, calibration_batches: int = 20) -> None:
        if sampling not in ("uniform", "fair"):
            raise ValueError(f"sampling must be 'uniform' or 'fair', got {sampling!r}")
        if calibration_batches < 0:
            raise ValueError(f"calibration_batches must be >= 0, got {calibration_batches}")
        self.space = clone(space)
        self.sampling = sampling
        self.seed = seed
        self.device = None if device is None else torch.device(device)
        self.optimizer_spec = optimizer
        self.lr, self.momentum, self.weight_decay, self.lr_min = lr, momentum, weight_decay, lr_min
        self.grad_clip = grad_clip
        self.amp = amp
        self.dtype = dtype
        self.build_fn = build_fn
        self.max_variants = max_variants
        self.score_fn = score_fn
        self.calibration_batches = calibration_batches
        self.spec: DNASpec = space_spec(self.space)
        self.fixed = normalize_fixed(self.spec, fixed)
        self.analysis = Analysis(self.space, self.spec, self.fixed)
        self.analysis.check()
        self.relaxation = Relaxation("softmax")
        self.rng = random.Random(seed)
        self.supernet: nn.Module | None = None
        self.trainer: WeightTrainer | None = None
        self.precision = Precision(False, "cpu")
        self.history: list[dict[str, Any]] = []
        self.epoch = 0
        self._step = 0

    @property
    def decisions(self) -> dict[str, DecisionState]:
        """The shared decisions by key (name, else id; a cell's by its name)."""
        return self.relaxation.decisions

    # ---- set-up --------------------------------------------------------------------------------
    def setup(self, device: str | torch.device | None = None, example: Any = None, *,
              lazy_ok: bool = False) -> nn.Module:
        """Builds the supernet and its optimizer on ``device`` (once); returns the supernet.

        ``example`` (an input batch, or a tuple of the model's inputs) initializes lazy modules.
        """
        device = torch.device(device) if device is not None else self.device
        if device is None:
            raise ValueError("OneShot needs a device: OneShot(space, device=...) or train(device=...)")
        if self.supernet is not None:
            if self.device != device:
                raise ValueError(f"this OneShot was set up on {self.device}; it cannot move to {device}")
            return self.supernet
        model = setup_supernet(self.space, self.analysis, self.relaxation, device, seed=self.seed,
                               dtype=self.dtype, build_fn=self.build_fn, max_variants=self.max_variants,
                               alpha_init_std=0.0,  # alpha is never trained: a uniform mixture
                               example=None if example is None else as_inputs(to_device(example, device)),
                               lazy_ok=lazy_ok)
        self.device = device
        self.supernet = model
        self.precision = Precision(self.amp, device)
        self.trainer = WeightTrainer(model, self.optimizer_spec, lr=self.lr, momentum=self.momentum,
                                     weight_decay=self.weight_decay, lr_min=self.lr_min,
                                     grad_clip=self.grad_clip, precision=self.precision)
        return model

    # ---- paths ---------------------------------------------------------------------------------
    def sample_path(self) -> Path:
        """One uniformly sampled path (every decision drawn uniformly)."""
        return {key: _uniform(state, self.rng) for key, state in self.decisions.items()}

    def fair_paths(self) -> list[Path]:
        """``m`` paths in which each candidate of every choice (and each op of every cell edge)
        appears equally often (``m`` the most candidates of any decision)."""
        m = max((s.num_candidates for s in self.decisions.values()), default=1)
        paths: list[Path] = [{} for _ in range(m)]
        for key, state in self.decisions.items():
            if state.kind == "many":
                for p in paths:
                    p[key] = _uniform(state, self.rng)
                continue
            rows = state.positions if isinstance(state, CellState) else 1
            columns = [_fair_column(state.num_candidates, m, self.rng) for _ in range(rows)]
            for t, p in enumerate(paths):
                if isinstance(state, CellState):
                    base = _uniform(state, self.rng)  # which edges; their ops come from the columns
                    p[key] = tuple(v if v < 0 else columns[e][t] for e, v in enumerate(base))
                else:
                    p[key] = (columns[0][t],)
        return paths

    def path(self, program_or_dna: Any) -> Path:
        """The path of one architecture: a DNA of the space, or a program materialized from it."""
        dna = program_or_dna if isinstance(program_or_dna, DNA) else dna_of_program(
            self.space, self.spec, program_or_dna)
        values = dna_values(self.spec, dna)
        for key, value in self.fixed.items():
            if key in values and values[key] != value:
                raise RelaxationError(f"decision {key!r} is fixed to {value!r} in this OneShot (its supernet "
                                      f"is built so); this architecture has {values[key]!r}")
        return path_of(self.decisions, values)

    # ---- training ------------------------------------------------------------------------------
    def train(self, train_loader: Iterable[Any], epochs: int = 1, *, device: str | torch.device | None = None,
              loss_fn: LossFn | None = None, steps_per_epoch: int | None = None,
              callback: Callable[[int, Any], Any] | None = None,
              verbose: bool = False) -> list[dict[str, Any]]:
        """Trains the shared weights to the ``epochs``-th epoch; returns ``history`` (one dict
        per epoch: ``epoch``, ``train_loss``, ``lr``, ``seconds``).

        As for DARTS, ``epochs`` is the length of the whole training (the schedule spans it)
        and training goes on from the epoch it is at; ``callback(epoch, oneshot)`` runs after
        each epoch, and returning True stops there.
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
        for epoch in range(self.epoch, epochs):
            start = time.perf_counter()
            total, count = 0.0, 0
            for step, batch in enumerate(train_loader):
                if steps_per_epoch is not None and step >= steps_per_epoch:
                    break
                if self.supernet is None:
                    device = device or device_of(batch) or torch.device("cpu")
                    self.setup(device, example=device_batch(batch, device)[0])
                assert self.trainer is not None and self.supernet is not None
                if self.trainer.total_steps != (epochs * steps if steps else None):
                    self.trainer.plan(epochs * steps if steps else None)
                    self.trainer.set_step(self._step)
                x, y = device_batch(batch, self.device)  # type: ignore[arg-type]
                loss = self._train_step(x, y, loss_fn)
                if not math.isfinite(loss):
                    raise FloatingPointError(f"OneShot: the training loss became {loss} at epoch {epoch} "
                                             f"step {step}")
                total += loss
                count += 1
                self._step += 1
                self.trainer.set_step(self._step)
            if count == 0:
                raise ValueError("the train loader gave no batches")
            record = {"epoch": epoch, "train_loss": total / count,
                      "lr": self.trainer.lr if self.trainer else None,
                      "seconds": time.perf_counter() - start}
            self.history.append(record)
            self.epoch = epoch + 1
            if verbose:
                print(f"epoch {epoch}: train loss {record['train_loss']:.4f}")
            if callback is not None and callback(epoch, self) is True:
                break
        return self.history

    def _train_step(self, x: Any, y: Any, loss_fn: LossFn) -> float:
        assert self.supernet is not None and self.trainer is not None
        relax = self.relaxation
        relax.set_phase("weight")
        self.supernet.train()
        paths = self.fair_paths() if self.sampling == "fair" else [self.sample_path()]
        opt = self.trainer.optimizer
        if opt is None:
            return 0.0
        opt.zero_grad(set_to_none=True)
        total = 0.0
        trained = False
        for path in paths:
            relax.fixed = dict(path)
            relax.new_pass()
            with self.precision.autocast():
                loss = loss_fn(self.supernet(*x), y)
            total += float(loss.detach())
            if loss.requires_grad:
                self.precision.backward(loss)
                trained = True
        if trained:
            self.precision.apply(opt, self.trainer.params, grad_clip=self.grad_clip)
        return total / len(paths)

    # ---- scoring -------------------------------------------------------------------------------
    def evaluate(self, program_or_dna: Any, loader: Iterable[Any], *, loss_fn: LossFn | None = None,
                 calibration: Iterable[Any] | None = None, calibration_batches: int | None = None,
                 limit: int | None = None, device: str | torch.device | None = None) -> float:
        """The score of one architecture with the shared weights (higher is better).

        ``program_or_dna`` is a DNA of the space or a program materialized from it. BatchNorm
        statistics are recomputed first on ``calibration_batches`` batches of ``calibration``
        (default: of ``loader`` itself; pass the train loader for SPOS's recipe), with the
        architecture's path; then the score on ``loader`` (``limit`` batches at most):
        accuracy for class targets, else minus the loss, or ``score_fn``. Batches move to the
        supernet's device (``device``, when given, must be that one).
        """
        if self.supernet is None:
            raise ValueError("nothing to evaluate yet: train() the supernet, or load_state_dict()")
        if device is not None and not _same_device(torch.device(device), self.device):
            raise ValueError(f"this OneShot's supernet is on {self.device}, not {torch.device(device)}; "
                             f"build it there with OneShot(space, device={str(device)!r})")
        loss_fn = loss_fn or nn.functional.cross_entropy
        relax = self.relaxation
        relax.fixed = dict(self.path(program_or_dna))
        relax.set_phase("eval")
        model = self.supernet
        was_training = model.training
        try:
            batches = self.calibration_batches if calibration_batches is None else calibration_batches
            self._recalibrate(loader if calibration is None else calibration, batches)
            model.eval()
            score_sum, count = 0.0, 0
            with torch.no_grad():
                for i, batch in enumerate(loader):
                    if limit is not None and i >= limit:
                        break
                    inputs, y = device_batch(batch, self.device)  # type: ignore[arg-type]
                    relax.new_pass()
                    with self.precision.autocast():
                        out = model(*inputs)
                    n = batch_size(inputs)
                    if self.score_fn is not None:
                        score = float(self.score_fn(out, y))
                    elif is_classification(out, y):
                        score = float((out.argmax(dim=1) == y).double().mean())
                    else:
                        score = -float(loss_fn(out, y))
                    score_sum += score * n
                    count += n
        finally:
            model.train(was_training)
        if count == 0:
            raise ValueError("the evaluation loader gave no batches")
        return score_sum / count

    def _recalibrate(self, loader: Iterable[Any], batches: int) -> None:
        """Recomputes BatchNorm running statistics (cumulative averages) on ``batches`` batches."""
        assert self.supernet is not None
        norms = [m for m in self.supernet.modules()
                 if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.track_running_stats]
        if not norms or batches == 0:
            return
        momenta = [m.momentum for m in norms]
        self.supernet.eval()  # dropout and the rest as in evaluation; batch norms learn statistics
        for m in norms:
            m.reset_running_stats()
            m.momentum = None
            m.train()
        try:
            with torch.no_grad():
                for i, batch in enumerate(loader):
                    if i >= batches:
                        break
                    inputs, _ = device_batch(batch, self.device)  # type: ignore[arg-type]
                    self.relaxation.new_pass()
                    with self.precision.autocast():
                        self.supernet(*inputs)
        finally:
            for m, momentum in zip(norms, momenta):
                m.momentum = momentum
                m.eval()

    # ---- state ---------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """The weights, optimizer, schedule, random states, epoch and history (``torch.save`` it)."""
        if self.supernet is None or self.trainer is None:
            raise ValueError("nothing to save yet: the supernet is built by the first train() (or setup())")
        return {"version": 1, "kind": "OneShot", "device": str(self.device), "epoch": self.epoch,
                "step": self._step, "supernet": self.supernet.state_dict(),
                "decisions": sorted(self.decisions), "weights": self.trainer.state_dict(),
                "sampler": self.rng.getstate(), "history": [dict(h) for h in self.history],
                "rng": global_rng_state()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restores a :meth:`state_dict` (building the supernet first when needed)."""
        if state.get("kind") != "OneShot":
            raise ValueError(f"not a OneShot state dict (kind {state.get('kind')!r})")
        if self.supernet is None:
            self.setup(self.device or state.get("device"), lazy_ok=True)
        assert self.supernet is not None and self.trainer is not None
        check_keys("the state", list(self.decisions), list(state["decisions"]))
        self.supernet.load_state_dict(state["supernet"])
        self.trainer.load_state_dict(state["weights"])
        self.rng.setstate(state["sampler"])
        self.epoch, self._step = int(state["epoch"]), int(state["step"])
        self.trainer.set_step(self._step)
        self.history = [dict(h) for h in state.get("history", [])]
        if "rng" in state:
            set_global_rng_state(state["rng"])


def _same_device(a: torch.device, b: torch.device | None) -> bool:
    """``cuda`` and ``cuda:0`` are one device here (an index left out matches any)."""
    return b is not None and a.type == b.type and (a.index is None or b.index is None or a.index == b.index)


def _uniform(state: DecisionState, rng: random.Random) -> tuple[int, ...]:
    """One decision drawn uniformly, as a path entry (an index per position; OFF for the edges
    a cell leaves out)."""
    n = state.num_candidates
    if isinstance(state, CellState):
        row = [-1] * state.positions
        for i in range(state.num_nodes):
            for j in rng.sample(range(state.num_inputs + i), state.in_degree):
                row[state.edges.index((i, j))] = rng.randrange(n)
        return tuple(row)
    if state.kind == "many":
        k = state.positions
        picks = rng.sample(range(n), k) if state.distinct else [rng.randrange(n) for _ in range(k)]
        return tuple(sorted(picks) if state.sorted else picks)
    return (rng.randrange(n),)


def _fair_column(n: int, m: int, rng: random.Random) -> list[int]:
    """``m`` candidates of ``n``: shuffled rounds of all of them (each equally often when n | m)."""
    out: list[int] = []
    while len(out) < m:
        block = list(range(n))
        rng.shuffle(block)
        out += block
    return out[:m]


__all__ = ["OneShot"]
