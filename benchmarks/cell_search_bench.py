"""DARTS, one-shot weight sharing and random search on the DARTS paper's cell space, on digits.

The space is the paper's (``sbt.darts_space``: normal and reduction cells of 4 nodes, each node
reading 2 earlier states through one of 8 primitives, 'none' included; every normal cell shares
one set of decisions, every reduction cell another), downscaled for a CPU: ``--channels`` C (4;
the paper: 16), ``--layers`` cells (3: normal, reduction, reduction; the paper: 8), 8x8 digits
(scikit-learn's 1,797 images: 1,437 train, 360 test, stratified, seed 0) instead of CIFAR-10.

* **Random**: ``--random-archs`` distinct architectures (by ``sb.graph_hash``) drawn with
  ``sb.random_dna``.
* **DARTS**: softmax mode, first order, ``--search-epochs`` on the two halves of the training
  images (weights on one, alpha on the other), weights by Adam (lr 3e-3), alpha by Adam
  (lr 3e-3, the paper's betas and decay), the paper's derivation; one search per
  ``--search-seeds`` seed.
* **OneShot**: ``sbt.OneShot`` trained ``--oneshot-epochs`` on the first half (uniform single
  paths, Adam lr 1e-2, cosine); every architecture above scored with the shared weights on the
  second half (BatchNorm statistics recomputed on 10 batches of the first); then regularized
  evolution (population 10, tournament 3) over ``--evolution-trials`` candidates scored the same
  way, its best retrained.
* **Retraining**: every architecture is trained from scratch with the final network's ops
  (``darts_space.final_network``) on all 1,437 training images for ``--retrain-epochs`` (Adam lr
  1e-2, cosine, batch 64) with ``--retrain-seeds`` seeds; the figure is the mean test accuracy
  (and the mean test loss, a finer ranking where accuracies saturate).

Reported: DARTS's (and one-shot evolution's) architecture against the random ones (mean, rank);
the Kendall tau between shared-weight scores and stand-alone accuracies over the random
architectures; and the cost of a one-shot search against DARTS's and against training each
candidate. Run with one thread and ``nice``:

    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/cell_search_bench.py --json cells.json
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from typing import Any

import torch
from _timing import environment, markdown_table

import symbo as sb
from symbo.backends import torch as sbt
from symbo.backends.torch import darts_space


def kendall_tau(xs: list[float], ys: list[float]) -> float:
    """Kendall's tau-b (ties counted as in scipy.stats.kendalltau)."""
    n = len(xs)
    concordant = discordant = ties_x = ties_y = 0
    for i in range(n):
        for j in range(i + 1, n):
            dx, dy = xs[i] - xs[j], ys[i] - ys[j]
            if dx == 0 and dy == 0:
                continue
            if dx == 0:
                ties_x += 1
            elif dy == 0:
                ties_y += 1
            elif (dx > 0) == (dy > 0):
                concordant += 1
            else:
                discordant += 1
    denom = math.sqrt((concordant + discordant + ties_x) * (concordant + discordant + ties_y))
    return (concordant - discordant) / denom if denom else float("nan")


def batches(xs: torch.Tensor, ys: torch.Tensor, size: int = 64) -> list:
    return [(xs[i:i + size], ys[i:i + size]) for i in range(0, len(ys), size)]


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        data = sbt.datasets.digits(seed=0, images=True)
        if data.name != "sklearn-digits":
            raise SystemExit("this benchmark needs scikit-learn's digits: pip install scikit-learn")
        x, y = data.train.tensors
        self.train = batches(x, y)
        half = len(self.train) // 2
        self.search_train, self.search_val = self.train[:half], self.train[half:]
        self.test = batches(*data.val.tensors)
        normal = sb.dag_cell(4, darts_space.PRIMITIVES, name="normal")
        reduce = sb.dag_cell(4, darts_space.PRIMITIVES, name="reduce")
        self.space = darts_space.network(C=args.channels, num_classes=10, layers=args.layers,
                                         normal=normal, reduce=reduce, in_channels=1)
        self.spec = sb.dna_spec(self.space)
        self.retrain_seconds: list[float] = []
        self.losses: dict[str, float] = {}  # mean stand-alone test loss by architecture

    def log(self, text: str) -> None:
        if self.args.verbose:
            print(f"  .. {text}", flush=True)

    def retrain(self, program: Any) -> list[float]:
        """Test accuracies, one per seed (the test losses go to ``self.losses``)."""
        accs, losses = [], []
        for seed in range(self.args.retrain_seeds):
            sbt.seed_everything(seed)
            model = sbt.build(darts_space.final_network(program), example_input=self.test[0][0][:2])
            opt = torch.optim.Adam(model.parameters(), lr=1e-2)
            sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, self.args.retrain_epochs)
            start = time.perf_counter()
            history = sbt.fit(model, opt, self.train, self.test, epochs=self.args.retrain_epochs,
                              scheduler=sched)
            self.retrain_seconds.append(time.perf_counter() - start)
            accs.append(history[-1]["val_accuracy"])
            losses.append(sbt.evaluate(model, self.test, metric="loss"))
        self.losses[sb.graph_hash(program)] = statistics.mean(losses)
        return accs

    def random_programs(self) -> list[Any]:
        out, seen, seed = [], set(), 0
        while len(out) < self.args.random_archs:
            program = sb.materialize(self.space, sb.random_dna(self.spec, seed=1000 + seed))
            seed += 1
            key = sb.graph_hash(program)
            if key not in seen:
                seen.add(key)
                out.append(program)
        return out

    def darts(self, seed: int) -> tuple[Any, float, dict[str, Any]]:
        start = time.perf_counter()
        darts = sbt.DARTS(self.space, seed=seed, device="cpu", arch_lr=3e-3,
                          weight_optimizer=sbt.optim.Adam(lr=3e-3))
        dna = darts.search(self.search_train, self.search_val, epochs=self.args.search_epochs)
        seconds = time.perf_counter() - start
        info = {"supernet_val_accuracy": darts.history[-1]["val_score"],
                "alpha_change": darts.result.alpha_change}
        return sb.materialize(self.space, dna), seconds, info

    def oneshot(self) -> tuple[sbt.OneShot, float]:
        start = time.perf_counter()
        ws = sbt.OneShot(self.space, seed=0, device="cpu", optimizer=sbt.optim.Adam(lr=1e-2))
        ws.train(self.search_train, epochs=self.args.oneshot_epochs)
        return ws, time.perf_counter() - start

    def score(self, ws: sbt.OneShot, program: Any) -> float:
        return ws.evaluate(program, self.search_val, calibration=self.search_train, calibration_batches=10)


def genotype_text(program: Any) -> str:
    normal = program.cells[0].cell
    reduce = next(c.cell for c in program.cells if c.reduction)
    return repr(sbt.genotype(normal, reduce))


def rank_of(acc: float, randoms: list[float]) -> int:
    """1 + the number of random architectures strictly better."""
    return 1 + sum(r > acc for r in randoms)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, default=4)
    parser.add_argument("--layers", type=int, default=3)
    parser.add_argument("--random-archs", type=int, default=20, help=">= 20 for the Kendall tau")
    parser.add_argument("--retrain-epochs", type=int, default=4)
    parser.add_argument("--retrain-seeds", type=int, default=3)
    parser.add_argument("--search-epochs", type=int, default=8)
    parser.add_argument("--search-seeds", type=int, default=2)
    parser.add_argument("--oneshot-epochs", type=int, default=100)
    parser.add_argument("--evolution-trials", type=int, default=40)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--json", metavar="PATH")
    args = parser.parse_args(argv)
    if args.random_archs < 10:
        parser.error("--random-archs must be at least 10")
    torch.set_num_threads(args.threads)
    env = environment(torch=torch.__version__)
    env["threads"] = str(torch.get_num_threads())
    for key, value in env.items():
        print(f"{key + ':':10} {value}")
    started = time.perf_counter()
    bench = Bench(args)
    print(f"{'space:':10} DARTS cells (4 nodes, 8 ops), C={args.channels}, {args.layers} cells; "
          f"{float(bench.spec.space_size):.2e} architectures\n", flush=True)

    randoms = bench.random_programs()
    random_accs = []
    for i, program in enumerate(randoms):
        random_accs.append(bench.retrain(program))
        bench.log(f"random {i}: {statistics.mean(random_accs[-1]):.4f}")
    random_means = [statistics.mean(a) for a in random_accs]

    darts_rows = []
    for seed in range(args.search_seeds):
        program, seconds, info = bench.darts(seed)
        accs = bench.retrain(program)
        darts_rows.append({"seed": seed, "program": program, "accs": accs, "seconds": seconds, **info})
        bench.log(f"DARTS seed {seed}: {statistics.mean(accs):.4f} ({seconds:.0f} s)")

    ws, oneshot_seconds = bench.oneshot()
    t0 = time.perf_counter()
    shared = [bench.score(ws, p) for p in randoms]
    per_candidate = (time.perf_counter() - t0) / len(randoms)
    tau = kendall_tau(shared, random_means)
    random_losses = [bench.losses[sb.graph_hash(p)] for p in randoms]
    tau_loss = kendall_tau(shared, [-v for v in random_losses])
    t0 = time.perf_counter()
    evolution = sb.algorithms.RegularizedEvolution(population_size=10, tournament_size=3, seed=0)
    study = sb.tune(lambda program: bench.score(ws, program), bench.space, evolution,
                    num_trials=args.evolution_trials)
    evolution_seconds = time.perf_counter() - t0
    best = study.best_trial
    best_accs = bench.retrain(best.program)
    bench.log(f"one-shot evolution: {statistics.mean(best_accs):.4f}")
    retrain_s = statistics.mean(bench.retrain_seconds)

    mean_random = statistics.mean(random_means)
    ordered = sorted(random_means, reverse=True)
    header = ["architecture", "test accuracy", "vs random mean", f"rank among {len(randoms)} random",
              "search s"]
    body = []
    for row in darts_rows:
        acc = statistics.mean(row["accs"])
        spread = statistics.pstdev(row["accs"])
        body.append([f"DARTS (search seed {row['seed']})", f"{acc:.4f} ± {spread:.4f}",
                     f"{acc - mean_random:+.4f}", str(rank_of(acc, random_means)), f"{row['seconds']:.0f}"])
    darts_mean = statistics.mean(statistics.mean(r["accs"]) for r in darts_rows)
    body.append([f"DARTS, mean of {len(darts_rows)} searches", f"{darts_mean:.4f}",
                 f"{darts_mean - mean_random:+.4f}", str(rank_of(darts_mean, random_means)),
                 f"{statistics.mean(r['seconds'] for r in darts_rows):.0f}"])
    acc = statistics.mean(best_accs)
    body.append([f"one-shot + evolution ({args.evolution_trials} candidates)",
                 f"{acc:.4f} ± {statistics.pstdev(best_accs):.4f}", f"{acc - mean_random:+.4f}",
                 str(rank_of(acc, random_means)), f"{oneshot_seconds + evolution_seconds:.0f}"])
    for label, value in (("random: mean", mean_random), ("random: median", statistics.median(random_means)),
                         ("random: best", ordered[0]), ("random: worst", ordered[-1])):
        body.append([label, f"{value:.4f}", f"{value - mean_random:+.4f}", "-", "-"])
    print(f"(a) Retrained test accuracy ({args.retrain_epochs} epochs x {args.retrain_seeds} seeds, "
          "360 held-out images)\n")
    print(markdown_table(header, body))

    print(f"\n(b) One-shot ranking over the {len(randoms)} random architectures: Kendall tau between "
          f"shared-weight scores and stand-alone test accuracy {tau:.3f}, and minus the stand-alone test "
          f"loss {tau_loss:.3f}\n")
    listing = sorted(zip(shared, random_means, random_losses), key=lambda t: -t[1])
    header = ["stand-alone rank", "stand-alone accuracy", "stand-alone loss", "shared-weight score"]
    print(markdown_table(header, [[str(i + 1), f"{a:.4f}", f"{lo:.4f}", f"{s:.4f}"]
                                  for i, (s, a, lo) in enumerate(listing)]))

    train_each = args.evolution_trials * retrain_s / args.retrain_seeds
    print("\n(c) Cost (wall seconds, this machine)\n")
    print(markdown_table(["what", "seconds", "vs one-shot search"], [
        ["one-shot: train the supernet", f"{oneshot_seconds:.1f}", "-"],
        ["one-shot: score one candidate", f"{per_candidate:.2f}", "-"],
        [f"one-shot search ({args.evolution_trials} candidates, supernet included)",
         f"{oneshot_seconds + evolution_seconds:.1f}", "1.00x"],
        ["DARTS search (mean over seeds)", f"{statistics.mean(r['seconds'] for r in darts_rows):.1f}",
         f"{statistics.mean(r['seconds'] for r in darts_rows) / (oneshot_seconds + evolution_seconds):.2f}x"],
        ["train one candidate from scratch (one seed)", f"{retrain_s / 1:.1f}", "-"],
        [f"train each of the {args.evolution_trials} candidates from scratch", f"{train_each:.0f}",
         f"{train_each / (oneshot_seconds + evolution_seconds):.1f}x"],
    ]))
    print("\nGenotypes:")
    for row in darts_rows:
        print(f"  DARTS seed {row['seed']}: {genotype_text(row['program'])}")
    print(f"  one-shot + evolution: {genotype_text(best.program)}")
    print(f"\ntotal {time.perf_counter() - started:.0f} s")
    if args.json:
        out = {"environment": env, "args": vars(args), "random": [{"accs": a, "shared": s, "loss": lo}
               for a, s, lo in zip(random_accs, shared, random_losses)], "kendall_tau": tau,
               "kendall_tau_loss": tau_loss,
               "darts": [{k: v for k, v in r.items() if k != "program"}
                         | {"genotype": genotype_text(r["program"])} for r in darts_rows],
               "oneshot": {"train_s": oneshot_seconds, "per_candidate_s": per_candidate,
                           "evolution_s": evolution_seconds, "best_accs": best_accs,
                           "best_shared": best.reward, "genotype": genotype_text(best.program)},
               "retrain_s": retrain_s}
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(out, f, indent=2, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
