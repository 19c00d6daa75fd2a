"""DARTS in symbo: what a supernet step costs next to one child network, and how good the
architecture it derives is, on scikit-learn's 8x8 handwritten digits (CPU).

Run it with ``make bench`` (which builds ``.venv-bench``) or directly::

    PYTHONPATH=. python benchmarks/darts_bench.py [--part cost|quality|all] [--repeat 7]
        [--min-time 0.2] [--random-archs 16] [--seeds 3] [--search-seeds 3] [--json out.json]

**The search space** (written with ``sbt.nn`` recipes, as ``examples/darts_cell.py``): a stem
(``Conv2d(1, C, 3)`` + ``BatchNorm2d``), one cell of 4 edges and a head
(``AdaptiveAvgPool2d(1)``, ``Flatten``, ``Linear(2C, 10)``). The cell computes
``n1 = e0(x) + e1(x)``, ``n2 = e2(x) + e3(n1)`` and outputs ``cat(n1, n2)``; every edge is a
``sb.one_of`` over the first ``k`` operations of the pool ``conv3x3``, ``conv5x5``,
``sep_conv3x3`` (depthwise 3x3 + pointwise 1x1), ``dil_conv3x3`` (dilation 2), ``max_pool+1x1``,
``avg_pool3x3``, ``skip`` (identity) and ``zero`` (DARTS's "none"); the convolutions are
ReLU-conv-BN without affine BN, as in DARTS. Every operation maps ``C`` channels to ``C`` at the
same size.

**(a) Cost** (``--part cost``), for k = 2..8 and ``C = --cost-width`` (16), batches of 64:

- *child*: a child network is the space materialized with one candidate per edge
  (``sb.materialize`` + ``sbt.build``). The "child" figure is the mean over the k children that
  use candidate ``i`` on all four edges (``i < k``), so every candidate counts once; a supernet
  that runs every candidate of every edge then costs about ``k`` children (less ``k - 1`` stems
  and heads). A child's weight step is forward + backward + ``clip_grad_norm_(5)`` + SGD step
  (lr 0.025, momentum 0.9, weight decay 3e-4: DARTS's default weight optimizer).
- *supernet*: ``sbt.DARTS(space_k, mode=..., seed=0).setup("cpu")``, and the weight step that
  ``DARTS.search`` runs (its ``_weight_step``: there is no public one-step method), in
  ``softmax`` mode (every candidate runs, weighted by ``softmax(alpha)``) and ``single_path``
  mode (ProxylessNAS: one sampled candidate per edge and step). The architecture step is timed
  too (``DARTS.architecture_gradients``, first order: the gradient of the validation loss in
  alpha; the Adam step on alpha itself is negligible).
- *time*: milliseconds per step, the median of ``--repeat`` (7) rounds; a round times one loop
  of every step (8 children, 7 x 2 supernets, weight and architecture steps) in turn, so that a
  change of load on a busy machine hits them alike; each loop lasts at least ``--min-time``
  (0.2 s; the calls per loop are calibrated per step) with the garbage collector off.
- *activation memory*: CPU has no allocator peak counter, so the script counts what autograd
  keeps for the backward pass: during one step, ``torch.autograd.graph.saved_tensors_hooks``
  sees every tensor saved for backward; the figure is the total size of the distinct storages
  so saved, parameters (weights and alpha) excluded. In single-path mode the path is random:
  the figure is the mean over 32 steps (the maximum is in the JSON). The single-path "peak" of
  the main table is the larger of its weight-step and architecture-step figures.

Targets: softmax supernet weight step <= 1.2 x k x the child's (the "ratio/k" column is
softmax / (k x child)); single-path activation memory <= 1.5 x the child's, for every k.

**(b) Quality** (``--part quality``), ``C = --quality-width`` (8), k = 8 (8^4 = 4,096
architectures). The 1,797 digits are split (stratified, seed 0) into 1,437 training and 360
**test** images; the test images are used for nothing but the final accuracies. The training
images are split in two halves, search-train and search-val, for DARTS.

- *DARTS*: ``sbt.DARTS(space, mode="softmax", order=1, seed=s, weight_optimizer=
  sbt.optim.Adam(lr=3e-3), arch_lr=3e-3, selection=...)`` searched for ``--search-epochs``
  (10) epochs on search-train (weights) / search-val (alpha), for ``--search-seeds`` (3) seeds,
  with magnitude selection (argmax of alpha) and with perturbation selection (Wang et al.
  2021). Not the paper's settings (SGD lr 0.025, alpha lr 3e-4): in the 120 steps of such a
  search they leave the supernet underfitted (35-41% validation accuracy) and every edge's
  softmax(alpha) within 0.117-0.133, so the argmax rests on margins of about 0.002.
- *Retraining*: every architecture (derived or random) is trained from scratch on all 1,437
  training images for ``--epochs`` (10) epochs (Adam lr 1e-2, cosine schedule per epoch,
  batch 64, shuffled) once per seed in ``range(--seeds)`` (the same seeds for every
  architecture; the seed fixes initialization and batch order) and scored by its test accuracy
  after the last epoch; an architecture's score is the mean over the seeds.
- *Random architectures*: ``--random-archs`` (16) distinct architectures drawn uniformly
  (``sb.random_dna``, seed 0), trained the same way.

Part (b) needs scikit-learn (the real digits); without it, it is skipped with a message.
The DARTS architecture's percentile is the share of random architectures it beats (ties count
half). Targets: it beats the mean random architecture and is in the top quarter (percentile
>= 75), checked per search and for the mean over searches.

The script prints PASS/MISS per target for information and exits 0 either way.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import random
import statistics
import sys
import time
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from _timing import environment, markdown_table
from torch import nn

import symbo as sb
from symbo.backends import torch as sbt
from symbo.backends.torch.mixed_ops import Zero

Batch = tuple[torch.Tensor, torch.Tensor]

OPS = ("conv3x3", "conv5x5", "sep_conv3x3", "dil_conv3x3", "max_pool+1x1", "avg_pool3x3", "skip", "zero")
SHORT = ("c3", "c5", "sep", "dil", "mp", "ap", "skip", "zero")
NUM_EDGES = 4
BATCH = 64
TIME_TARGET = 1.2  # softmax step / (k x child step), at most
MEMORY_TARGET = 1.5  # single-path activation memory / child's, at most
PERCENTILE_TARGET = 75.0  # the derived architecture's percentile among random ones, at least
SINGLE_PATH_SAMPLES = 32  # steps averaged for single-path activation memory
SEARCH_LR = 3e-3  # Adam lr of the weights during the search, and alpha's lr
RETRAIN_LR = 1e-2  # Adam lr of retraining (cosine to 0 over the epochs)


# ---- the search space ---------------------------------------------------------------------------
class Cell(nn.Module):
    """Four edges: ``n1 = e0(x) + e1(x)``, ``n2 = e2(x) + e3(n1)``; the output is ``cat(n1, n2)``."""

    def __init__(self, edges: list[nn.Module]) -> None:
        super().__init__()
        self.edges = nn.ModuleList(edges)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        e = self.edges
        n1 = e[0](x) + e[1](x)
        n2 = e[2](x) + e[3](n1)
        return torch.cat([n1, n2], dim=1)


class Net(nn.Module):
    """Stem, cell, head."""

    def __init__(self, stem: nn.Module, cell: nn.Module, head: nn.Module) -> None:
        super().__init__()
        self.stem, self.cell, self.head = stem, cell, head

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.cell(self.stem(x)))


CellSpace, NetSpace, ZeroOp = sb.symbolize(Cell), sb.symbolize(Net), sb.symbolize(Zero)


def operations(c: int) -> list[Any]:
    """The pool of candidate operations, in the order of ``OPS`` (each maps c channels to c)."""

    def conv(kernel: int, dilation: int = 1) -> Any:
        return sbt.nn.Sequential(
            sbt.nn.ReLU(),
            sbt.nn.Conv2d(c, c, kernel, padding=dilation * (kernel - 1) // 2, dilation=dilation, bias=False),
            sbt.nn.BatchNorm2d(c, affine=False))

    return [
        conv(3),
        conv(5),
        sbt.nn.Sequential(sbt.nn.ReLU(), sbt.nn.Conv2d(c, c, 3, padding=1, groups=c, bias=False),
                          sbt.nn.Conv2d(c, c, 1, bias=False), sbt.nn.BatchNorm2d(c, affine=False)),
        conv(3, dilation=2),
        sbt.nn.Sequential(sbt.nn.MaxPool2d(3, stride=1, padding=1), sbt.nn.Conv2d(c, c, 1, bias=False),
                          sbt.nn.BatchNorm2d(c, affine=False)),
        sbt.nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False),
        sbt.nn.Identity(),
        ZeroOp(),
    ]


def search_space(k: int, c: int) -> Any:
    """The space with the first ``k`` operations of the pool on each of the 4 edges."""
    return NetSpace(
        stem=sbt.nn.Sequential(sbt.nn.Conv2d(1, c, 3, padding=1, bias=False), sbt.nn.BatchNorm2d(c)),
        cell=CellSpace(edges=[sb.one_of(operations(c)[:k], name=f"edge{i}") for i in range(NUM_EDGES)]),
        head=sbt.nn.Sequential(sbt.nn.AdaptiveAvgPool2d(1), sbt.nn.Flatten(), sbt.nn.Linear(2 * c, 10)),
    )


def arch_name(dna: sb.DNA) -> str:
    """``c3/c5/dil/mp``: the operation of each edge."""
    return "/".join(SHORT[i] for i in dna.to_numbers())


# ---- data ---------------------------------------------------------------------------------------
@dataclass
class Digits:
    """The 8x8 digits as (N, 1, 8, 8) images: search halves, all training images, test batches."""

    train_x: torch.Tensor
    train_y: torch.Tensor
    search_train: list[Batch]
    search_val: list[Batch]
    test: list[Batch]


def batches(x: torch.Tensor, y: torch.Tensor, size: int = BATCH) -> list[Batch]:
    return [(x[i:i + size], y[i:i + size]) for i in range(0, len(y), size)]


class Shuffled:
    """Batches of ``(x, y)`` in a new seeded order every epoch."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor, seed: int, size: int = BATCH) -> None:
        self.x, self.y, self.size = x, y, size
        self.generator = torch.Generator().manual_seed(seed)

    def __len__(self) -> int:
        return math.ceil(len(self.y) / self.size)

    def __iter__(self) -> Iterator[Batch]:
        order = torch.randperm(len(self.y), generator=self.generator)
        for i in range(0, len(order), self.size):
            idx = order[i:i + self.size]
            yield self.x[idx], self.y[idx]


def load_digits() -> Digits | None:
    """The real digits (None without scikit-learn: the synthetic fallback has no images)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = sbt.datasets.digits(val_fraction=0.2, seed=0)  # stratified; "val" is our test set
    if data.name != "sklearn-digits":
        return None
    x, y = data.train.tensors
    tx, ty = data.val.tensors
    x, tx = x.view(-1, 1, 8, 8), tx.view(-1, 1, 8, 8)
    half = len(y) // 2
    return Digits(x, y, batches(x[:half], y[:half]), batches(x[half:], y[half:]), batches(tx, ty))


# ---- measuring one step -------------------------------------------------------------------------
def saved_bytes(step: Callable[[], Any], exclude: Iterable[torch.Tensor]) -> int:
    """Bytes of the distinct storages autograd saves for backward while ``step()`` runs."""
    skip = {t.untyped_storage().data_ptr() for t in exclude}
    seen: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        storage = t.untyped_storage()
        ptr = storage.data_ptr()
        if ptr not in skip:
            seen[ptr] = max(seen.get(ptr, 0), storage.nbytes())
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        step()
    return sum(seen.values())


def child_step(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> Callable[[], None]:
    """One weight step of a child network, with DARTS's default weight optimizer."""
    opt = torch.optim.SGD(model.parameters(), lr=0.025, momentum=0.9, weight_decay=3e-4)
    params = list(model.parameters())
    model.train()

    def step() -> None:
        opt.zero_grad(set_to_none=True)
        nn.functional.cross_entropy(model(x), y).backward()
        nn.utils.clip_grad_norm_(params, 5.0)
        opt.step()

    return step


@dataclass
class CostRow:
    """Part (a), one k: ms per step and MB of saved activations."""

    k: int
    child_ms: float
    softmax_ms: float
    single_ms: float
    softmax_arch_ms: float
    single_arch_ms: float
    child_mb: float
    softmax_mb: float
    single_mb: float  # weight step, mean over sampled paths
    single_mb_max: float
    softmax_arch_mb: float
    single_arch_mb: float  # architecture step, mean over sampled paths
    single_arch_mb_max: float

    @property
    def time_ratio(self) -> float:
        return self.softmax_ms / (self.k * self.child_ms)

    @property
    def single_peak_mb(self) -> float:
        return max(self.single_mb, self.single_arch_mb)


def interleaved_ms(steps: dict[str, Callable[[], Any]], repeat: int, min_time: float) -> dict[str, float]:
    """Milliseconds per call of each step: the median of ``repeat`` rounds, each round timing one
    loop of every step in turn (so a change of load on a busy machine hits every step alike);
    each loop lasts at least ``min_time`` (calls calibrated per step), garbage collector off."""

    def loop(fn: Callable[[], Any], number: int) -> float:
        gc.collect()
        gc.disable()
        try:
            start = time.perf_counter()
            for _ in range(number):
                fn()
            return time.perf_counter() - start
        finally:
            gc.enable()

    numbers = {}
    for name, fn in steps.items():
        fn()  # warm up
        once = max(loop(fn, 3) / 3, 1e-6)
        numbers[name] = max(1, math.ceil(min_time / once))
    times: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(repeat):
        for name, fn in steps.items():
            times[name].append(loop(fn, numbers[name]) / numbers[name])
    return {name: 1e3 * statistics.median(t) for name, t in times.items()}


def run_cost(width: int, repeat: int, min_time: float, digits: Digits | None,
             progress: Callable[[str], None]) -> list[CostRow]:
    """Part (a): child, softmax and single-path steps for k = 2..8."""
    if digits is not None:
        (x, y), (xv, yv) = digits.search_train[0], digits.search_val[0]
    else:  # the timing does not depend on the pixels
        g = torch.Generator().manual_seed(0)
        x, xv = torch.rand(BATCH, 1, 8, 8, generator=g), torch.rand(BATCH, 1, 8, 8, generator=g)
        y, yv = torch.randint(0, 10, (BATCH,), generator=g), torch.randint(0, 10, (BATCH,), generator=g)
    ce = nn.functional.cross_entropy
    mb = lambda nbytes: nbytes / 2**20  # noqa: E731
    steps: dict[str, Callable[[], Any]] = {}
    memory: dict[str, tuple[float, float]] = {}  # step -> (mean MB, max MB)

    # Child i: candidate i on every edge (the same network for every k > i).
    full = search_space(len(OPS), width)
    spec = sb.dna_spec(full)
    for i in range(len(OPS)):
        torch.manual_seed(i)
        model = sbt.build(sb.materialize(full, sb.DNA.from_numbers(spec, [i] * NUM_EDGES)),
                          example_input=x[:2])
        step = steps[f"child {i}"] = child_step(model, x, y)
        nbytes = mb(saved_bytes(step, model.parameters()))
        memory[f"child {i}"] = (nbytes, nbytes)
    for k in range(2, len(OPS) + 1):
        for mode in ("softmax", "single_path"):
            darts = sbt.DARTS(search_space(k, width), mode=mode, order=1, seed=0, device="cpu")
            darts.setup("cpu", example=x[:2])
            assert darts.supernet is not None
            params = [*darts.supernet.parameters(), *darts.arch_parameters()]
            weight = lambda d=darts: d._weight_step(x, y, ce)  # what DARTS.search runs per step
            arch = lambda d=darts: d.architecture_gradients((x, y), (xv, yv), ce)
            samples = 1 if mode == "softmax" else SINGLE_PATH_SAMPLES
            for phase, step in (("weight", weight), ("arch", arch)):
                sizes = [mb(saved_bytes(step, params)) for _ in range(samples)]
                memory[f"{mode} {phase} {k}"] = (statistics.mean(sizes), max(sizes))
                steps[f"{mode} {phase} {k}"] = step
    progress(f"timing {len(steps)} steps, {repeat} rounds")
    ms = interleaved_ms(steps, repeat, min_time)

    rows = []
    for k in range(2, len(OPS) + 1):
        def get(name: str, table: dict[str, Any], kk: int = k) -> Any:
            return table[f"{name} {kk}"]

        rows.append(CostRow(
            k, statistics.mean(ms[f"child {i}"] for i in range(k)),
            get("softmax weight", ms), get("single_path weight", ms),
            get("softmax arch", ms), get("single_path arch", ms),
            statistics.mean(memory[f"child {i}"][0] for i in range(k)),
            get("softmax weight", memory)[0], *get("single_path weight", memory),
            get("softmax arch", memory)[0], *get("single_path arch", memory)))
    return rows


def cost_tables(rows: list[CostRow]) -> tuple[str, str]:
    """The weight-step table (with the targets) and the architecture-step table."""
    main = []
    for r in rows:
        mem_ratio = r.single_peak_mb / r.child_mb
        main.append([
            str(r.k), f"{r.child_ms:.2f}", f"{r.softmax_ms:.2f}", f"{r.time_ratio:.2f}",
            "PASS" if r.time_ratio <= TIME_TARGET else "MISS", f"{r.single_ms:.2f}",
            f"{r.single_ms / r.child_ms:.2f}x",
            f"{r.softmax_mb:.2f}", f"{r.single_peak_mb:.2f}", f"{r.child_mb:.2f}",
            f"{r.softmax_mb / r.child_mb:.2f}x", f"{mem_ratio:.2f}x",
            "PASS" if mem_ratio <= MEMORY_TARGET else "MISS"])
    header = ["k", "child ms", "softmax ms", "ratio/k", f"<= {TIME_TARGET:g}", "single-path ms", "sp/child",
              "softmax act MB", "single-path act MB", "child act MB", "softmax/child",
              "single-path/child", f"<= {MEMORY_TARGET:g}x"]
    arch = [[str(r.k), f"{r.softmax_arch_ms:.2f}", f"{r.single_arch_ms:.2f}",
             f"{r.softmax_arch_mb:.2f}", f"{r.single_mb:.2f}", f"{r.single_arch_mb:.2f}",
             f"{r.single_mb / r.child_mb:.2f}x", f"{r.single_arch_mb / r.child_mb:.2f}x"]
            for r in rows]
    arch_header = ["k", "softmax arch ms", "single-path arch ms", "softmax arch act MB",
                   "single-path weight act MB", "single-path arch act MB", "weight/child",
                   "arch/child"]
    return markdown_table(header, main), markdown_table(arch_header, arch)


# ---- quality ------------------------------------------------------------------------------------
@dataclass
class ArchResult:
    """One architecture retrained from scratch: test accuracy per seed."""

    label: str
    arch: str
    accuracies: list[float]
    search_s: float = 0.0
    percentile: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def mean(self) -> float:
        return statistics.mean(self.accuracies)

    @property
    def std(self) -> float:
        return statistics.stdev(self.accuracies) if len(self.accuracies) > 1 else 0.0


def retrain(space: Any, dna: sb.DNA, seed: int, digits: Digits, epochs: int) -> float:
    """Test accuracy of the architecture ``dna`` trained from scratch (seeded) on all training images."""
    torch.manual_seed(seed)
    model = sbt.build(sb.materialize(space, dna), example_input=digits.train_x[:2])
    opt = torch.optim.Adam(model.parameters(), lr=RETRAIN_LR)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    history = sbt.fit(model, opt, Shuffled(digits.train_x, digits.train_y, seed), digits.test,
                      epochs=epochs, scheduler=scheduler)
    return float(history[-1]["val_accuracy"])


def percentile(value: float, population: list[float]) -> float:
    """Share of ``population`` below ``value`` (ties count half), in percent."""
    below = sum(p < value for p in population) + 0.5 * sum(p == value for p in population)
    return 100.0 * below / len(population)


def run_quality(width: int, digits: Digits, num_random: int, seeds: int, search_seeds: int,
                search_epochs: int, epochs: int,
                progress: Callable[[str], None]) -> tuple[list[ArchResult], list[ArchResult]]:
    """Part (b): random architectures and DARTS-derived ones, retrained the same way."""
    space = search_space(len(OPS), width)
    spec = sb.dna_spec(space)
    rng = random.Random(0)
    dnas: dict[tuple[int, ...], sb.DNA] = {}
    while len(dnas) < num_random:
        dna = sb.random_dna(spec, rng)
        dnas.setdefault(tuple(dna.to_numbers()), dna)
    randoms = []
    for dna in dnas.values():
        accs = [retrain(space, dna, s, digits, epochs) for s in range(seeds)]
        randoms.append(ArchResult("random", arch_name(dna), accs))
        progress(f"random {arch_name(dna)}: {statistics.mean(accs):.4f}")
    population = [r.mean for r in randoms]

    derived = []
    for selection in ("magnitude", "perturbation"):
        for seed in range(search_seeds):
            start = time.perf_counter()
            darts = sbt.DARTS(space, mode="softmax", order=1, seed=seed, device="cpu",
                              weight_optimizer=sbt.optim.Adam(lr=SEARCH_LR), arch_lr=SEARCH_LR,
                              selection=selection)
            dna = darts.search(digits.search_train, digits.search_val, epochs=search_epochs)
            searched = time.perf_counter() - start
            accs = [retrain(space, dna, s, digits, epochs) for s in range(seeds)]
            result = ArchResult(f"DARTS {selection} (search seed {seed})", arch_name(dna), accs,
                                searched)
            result.percentile = percentile(result.mean, population)
            result.extra = {"supernet_val_accuracy": darts.history[-1]["val_score"],
                            "alphas": darts.alphas()}
            derived.append(result)
            progress(f"{result.label}: {result.arch} {result.mean:.4f} "
                     f"(p{result.percentile:.0f}, search {searched:.1f} s)")
    return randoms, derived


def quality_tables(randoms: list[ArchResult], derived: list[ArchResult]) -> tuple[str, str]:
    """The DARTS-vs-random table (with the targets) and the random architectures, best first."""
    population = [r.mean for r in randoms]
    mean_random = statistics.mean(population)

    def verdicts(acc: float, pct: float) -> list[str]:
        return ["PASS" if acc > mean_random else "MISS",
                "PASS" if pct >= PERCENTILE_TARGET else "MISS"]

    body = []
    for r in derived:
        assert r.percentile is not None
        body.append([r.label, r.arch, f"{r.mean:.4f} ± {r.std:.4f}", f"{r.mean - mean_random:+.4f}",
                     f"{r.percentile:.0f}", *verdicts(r.mean, r.percentile), f"{r.search_s:.1f}"])
    for selection in ("magnitude", "perturbation"):
        runs = [r for r in derived if selection in r.label]
        if not runs:
            continue
        acc = statistics.mean(r.mean for r in runs)
        pct = percentile(acc, population)
        body.append([f"DARTS {selection}, mean of {len(runs)} searches", "-", f"{acc:.4f}",
                     f"{acc - mean_random:+.4f}", f"{pct:.0f}", *verdicts(acc, pct),
                     f"{statistics.mean(r.search_s for r in runs):.1f}"])
    ranked = sorted(population)
    q3 = ranked[math.ceil(0.75 * len(ranked)) - 1]
    for label, value in (("random: mean", mean_random), ("random: median", statistics.median(ranked)),
                         ("random: 75th percentile", q3), ("random: best", ranked[-1]),
                         ("random: worst", ranked[0])):
        body.append([label, "-", f"{value:.4f}", f"{value - mean_random:+.4f}", "-", "-", "-", "-"])
    header = ["architecture", "edges e0/e1/e2/e3", "test accuracy", "vs random mean", "percentile",
              "beats mean", f"top quarter (>= p{PERCENTILE_TARGET:.0f})", "search s"]
    listing = [[str(i + 1), r.arch, f"{r.mean:.4f} ± {r.std:.4f}",
                " ".join(f"{a:.3f}" for a in r.accuracies)]
               for i, r in enumerate(sorted(randoms, key=lambda r: -r.mean))]
    return (markdown_table(header, body),
            markdown_table(["rank", "random architecture", "test accuracy", "per seed"], listing))


# ---- main ---------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("cost", "quality", "all"), default="all")
    parser.add_argument("--repeat", type=int, default=7, help="timed loops per step time (>= 3)")
    parser.add_argument("--min-time", type=float, default=0.2, help="seconds per timed loop, at least")
    parser.add_argument("--cost-width", type=int, default=16, help="channels C for part (a)")
    parser.add_argument("--quality-width", type=int, default=8, help="channels C for part (b)")
    parser.add_argument("--random-archs", type=int, default=16, help="random architectures (>= 10)")
    parser.add_argument("--seeds", type=int, default=3, help="retraining seeds per architecture")
    parser.add_argument("--search-seeds", type=int, default=3, help="DARTS searches per selection")
    parser.add_argument("--search-epochs", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=10, help="retraining epochs")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    parser.add_argument("--verbose", action="store_true", help="print progress")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON here")
    args = parser.parse_args(argv)
    if args.repeat < 3:
        parser.error("--repeat must be at least 3")
    if args.random_archs < 10:
        parser.error("--random-archs must be at least 10")

    torch.set_num_threads(args.threads)
    progress = (lambda s: print(f"  .. {s}", flush=True)) if args.verbose else (lambda s: None)
    env = environment(torch=torch.__version__)
    env["threads"] = str(torch.get_num_threads())
    for key, value in env.items():
        print(f"{key + ':':10} {value}")
    digits = load_digits()
    data = ("sklearn digits: 1,437 train (two search halves), 360 test" if digits else
            "NO scikit-learn (pip install scikit-learn): random 8x8 inputs for (a), (b) skipped")
    print(f"{'data:':10} {data}\n", flush=True)
    started = time.perf_counter()
    out: dict[str, Any] = {"environment": env, "args": vars(args)}

    if args.part in ("cost", "all"):
        t0 = time.perf_counter()
        rows = run_cost(args.cost_width, args.repeat, args.min_time, digits, progress)
        main_table, arch_table = cost_tables(rows)
        print(f"(a) Supernet cost vs one child, C={args.cost_width}, batch {BATCH}: weight step "
              f"(median of {args.repeat} interleaved rounds, loops of >= {args.min_time:g} s) and "
              "activation memory (MB saved for backward; single-path: the larger of its weight and "
              "architecture steps)\n")
        print(main_table)
        print("\nArchitecture step (first-order alpha gradient) and the single-path phases:\n")
        print(arch_table)
        misses = sum(r.time_ratio > TIME_TARGET for r in rows) + sum(
            r.single_peak_mb / r.child_mb > MEMORY_TARGET for r in rows)
        print(f"\n(a): {misses} target(s) missed; took {time.perf_counter() - t0:.0f} s\n", flush=True)
        out["cost"] = [{**asdict(r), "time_ratio": r.time_ratio} for r in rows]

    if args.part in ("quality", "all") and digits is not None:
        t0 = time.perf_counter()
        randoms, derived = run_quality(args.quality_width, digits, args.random_archs, args.seeds,
                                       args.search_seeds, args.search_epochs, args.epochs, progress)
        table, listing = quality_tables(randoms, derived)
        print(f"(b) Quality, C={args.quality_width}, k={len(OPS)}: DARTS (softmax, first order, "
              f"{args.search_epochs} search epochs) vs {len(randoms)} random architectures, each "
              f"retrained {args.epochs} epochs x {args.seeds} seeds; test accuracy on 360 held-out "
              "images\n")
        print(table)
        print("\nRandom architectures, best first:\n")
        print(listing)
        print(f"\n(b): took {time.perf_counter() - t0:.0f} s\n")
        out["quality"] = {"random": [asdict(r) for r in randoms], "darts": [asdict(r) for r in derived]}
    elif args.part in ("quality", "all"):
        print("(b) skipped: it needs the real digits, from scikit-learn (pip install scikit-learn)\n")

    print(f"total {time.perf_counter() - started:.0f} s (PASS/MISS are informational)")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(out, f, indent=2, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
