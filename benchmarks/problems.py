"""The benchmark problems of ``compare_bench.py``: spaces, objectives (minimized) and optima.

Synthetic: Branin (2-d), Hartmann-6, Levy-10 (continuous) and NAS-like (a made-up conditional
categorical table, 5,376 points). Real, shipped as data in ``benchmarks/data/``:

- ``NAS-digits`` and ``NAS-cancer``: the 4,096 cells of ``nas_tabular.py`` (6 edges, 4 ops
  each) trained on digits / breast_cancer; the objective is 1 - validation accuracy;
- ``HPO-cancer``: the conditional, mixed space of ``hpo_tabular.py`` (SVM, gradient boosting
  or MLP, each with its own hyperparameters); the objective is 1 - CV accuracy rounded to 4
  decimals (differences below that are artefacts of the folds' sizes: 0.97893 and 0.97892
  misclassify the same number of samples).

Every problem's optimum is known (by enumeration for the tables), so the regret of a run is
its best value minus the optimum. This module needs only symbo and numpy (the tests import
it); the peers live in ``peers.py``.

>>> import symbo as sb
>>> import problems
>>> p = problems.PROBLEMS["NAS-like"]
>>> p.objective(sb.random_sample(p.space, seed=0)) >= p.optimum
True
"""

from __future__ import annotations

import bisect
import functools
import itertools
import json
import math
import os
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import symbo as sb

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")


@dataclass(frozen=True)
class Problem:
    """A minimization problem: ``objective(program)`` over ``space``, with its ``optimum``."""

    name: str
    space: Any
    objective: Callable[[Any], float]
    optimum: float
    kind: str    # "continuous", "categorical", "cell" or "mixed"
    note: str = ""


# ---- synthetic functions -----------------------------------------------------------------------
def branin(x: Sequence[float]) -> float:
    x1, x2 = x
    b, c, t = 5.1 / (4 * math.pi ** 2), 5 / math.pi, 1 / (8 * math.pi)
    return (x2 - b * x1 ** 2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


HARTMANN_ALPHA = (1.0, 1.2, 3.0, 3.2)
HARTMANN_A = ((10, 3, 17, 3.5, 1.7, 8), (0.05, 10, 17, 0.1, 8, 14),
              (3, 3.5, 1.7, 10, 17, 8), (17, 8, 0.05, 10, 0.1, 14))
HARTMANN_P = tuple(tuple(v * 1e-4 for v in row) for row in (
    (1312, 1696, 5569, 124, 8283, 5886), (2329, 4135, 8307, 3736, 1004, 9991),
    (2348, 1451, 3522, 2883, 3047, 6650), (4047, 8828, 8732, 5743, 1091, 381)))


def hartmann6(x: Sequence[float]) -> float:
    return -sum(
        alpha * math.exp(-sum(a * (xj - p) ** 2 for a, xj, p in zip(a_row, x, p_row)))
        for alpha, a_row, p_row in zip(HARTMANN_ALPHA, HARTMANN_A, HARTMANN_P)
    )


def levy(x: Sequence[float]) -> float:
    w = [1 + (xi - 1) / 4 for xi in x]
    total = math.sin(math.pi * w[0]) ** 2
    for wi in w[:-1]:
        total += (wi - 1) ** 2 * (1 + 10 * math.sin(math.pi * wi + 1) ** 2)
    return total + (w[-1] - 1) ** 2 * (1 + math.sin(2 * math.pi * w[-1]) ** 2)


def _continuous(name: str, fn: Callable[[Sequence[float]], float], optimum: float,
                bounds: Sequence[tuple[float, float]]) -> Problem:
    space = sb.Dict(**{f"x{i}": sb.float_range(lo, hi) for i, (lo, hi) in enumerate(bounds)})
    n = len(bounds)
    return Problem(name, space, lambda p: fn([p[f"x{i}"] for i in range(n)]), optimum,
                   "continuous")


# ---- NAS-like: a made-up conditional categorical table -------------------------------------------
NAS_CELLS = (("conv", 5), ("attention", 4), ("mlp", 3))
NAS_OPTIONS = 4
NAS_BASE = {"conv": 0.10, "attention": 0.08, "mlp": 0.14}


def _nas_tables() -> dict[str, Any]:
    rng = random.Random(2024)

    def table(*shape: int, scale: float) -> Any:
        if len(shape) == 1:
            return [round(scale * rng.random(), 4) for _ in range(shape[0])]
        return [table(*shape[1:], scale=scale) for _ in range(shape[0])]

    return {cell: {"main": table(k, NAS_OPTIONS, scale=0.05),
                   "pair": table(k - 1, NAS_OPTIONS, NAS_OPTIONS, scale=0.04),
                   "lr": table(NAS_OPTIONS, scale=0.06),
                   "lr_first": table(NAS_OPTIONS, NAS_OPTIONS, scale=0.04)}
            for cell, k in NAS_CELLS}


NAS_TABLES = _nas_tables()


def nas_error(cell: str, subs: Sequence[int], lr: int) -> float:
    t = NAS_TABLES[cell]
    error = NAS_BASE[cell] + t["lr"][lr] + t["lr_first"][subs[0]][lr]
    error += sum(t["main"][i][c] for i, c in enumerate(subs))
    error += sum(t["pair"][i][subs[i]][subs[i + 1]] for i in range(len(subs) - 1))
    return error


def _nas_like() -> Problem:
    cells = [sb.Dict(type=cell, **{f"d{i}": sb.one_of(list(range(NAS_OPTIONS))) for i in range(k)})
             for cell, k in NAS_CELLS]
    space = sb.Dict(cell=sb.one_of(cells), lr=sb.one_of(list(range(NAS_OPTIONS))))

    def objective(p: Any) -> float:
        k = dict(NAS_CELLS)[p.cell.type]
        return nas_error(p.cell.type, [p.cell[f"d{i}"] for i in range(k)], p.lr)

    optimum = min(nas_error(cell, subs, lr) for cell, k in NAS_CELLS
                  for subs in itertools.product(range(NAS_OPTIONS), repeat=k)
                  for lr in range(NAS_OPTIONS))
    return Problem("NAS-like", space, objective, optimum, "categorical")


# ---- the tabular benchmarks ----------------------------------------------------------------------
@functools.cache
def load_table(name: str) -> dict[str, Any]:
    with open(os.path.join(DATA, name), encoding="utf-8") as f:
        return json.load(f)


def nas_cell(ops: Sequence[str], edges: Sequence[Sequence[int]]) -> sb.Cell:
    """The table's cell as an ``sb.Cell``: one input (the stem's output), node ``j`` reads
    every earlier state through an op of its own (``edge{i}{j}``), so the decisions come in
    the order of ``edges`` (by target, then source) and graph-aware algorithms see the DAG."""
    targets = sorted({j for _, j in edges})
    nodes = [sb.CellNode(inputs=[i for i, jj in edges if jj == j],
                         ops=[sb.one_of(list(ops), name=f"edge{i}{j}") for i, jj in edges if jj == j])
             for j in targets]
    return sb.Cell(num_inputs=1, nodes=nodes)


def _nas_tabular(dataset: str, label: str) -> Problem:
    table = load_table(f"nas_tabular_{dataset}.json")
    ops, edges = table["ops"], table["edges"]
    val = table["datasets"][dataset]["val"]
    space = sb.Dict(cell=nas_cell(ops, edges))
    index = {op: k for k, op in enumerate(ops)}

    def objective(p: Any) -> float:
        cell = [op for node in p.cell.nodes for op in node.ops]
        k = sum(index[op] * len(ops) ** e for e, op in enumerate(cell))
        return 1.0 - val[k]

    return Problem(label, space, objective, 1.0 - max(val), "cell",
                   f"{len(val)} cells trained on {dataset}")


def _snap(grid: Sequence[float], value: float) -> float:
    """The grid value nearest to ``value`` in log space (grids are sorted, positive)."""
    logs = [math.log(g) for g in grid]
    x = math.log(value)
    i = bisect.bisect_left(logs, x)
    if i == 0:
        return grid[0]
    if i == len(grid):
        return grid[-1]
    return grid[i] if logs[i] - x < x - logs[i - 1] else grid[i - 1]


_SNAPPED = {"C", "gamma", "learning_rate", "alpha", "learning_rate_init", "width"}  # ranges


def _hpo() -> Problem:
    table = load_table("hpo_tabular.json")
    models = table["models"]
    g = {kind: m["grid"] for kind, m in models.items()}
    space = sb.Dict(model=sb.one_of([
        sb.Dict(kind="svm", C=sb.float_range(g["svm"]["C"][0], g["svm"]["C"][-1], scale="log"),
                gamma=sb.float_range(g["svm"]["gamma"][0], g["svm"]["gamma"][-1], scale="log"),
                kernel=sb.one_of(g["svm"]["kernel"])),
        sb.Dict(kind="gbm",
                learning_rate=sb.float_range(g["gbm"]["learning_rate"][0],
                                             g["gbm"]["learning_rate"][-1], scale="log"),
                max_depth=sb.one_of(g["gbm"]["max_depth"]),
                max_iter=sb.one_of(g["gbm"]["max_iter"]),
                l2_regularization=sb.one_of(g["gbm"]["l2_regularization"])),
        sb.Dict(kind="mlp", width=sb.int_range(8, 128, scale="log"),
                alpha=sb.float_range(g["mlp"]["alpha"][0], g["mlp"]["alpha"][-1], scale="log"),
                learning_rate_init=sb.float_range(g["mlp"]["learning_rate_init"][0],
                                                  g["mlp"]["learning_rate_init"][-1], scale="log")),
    ]))

    def position(kind: str, config: dict[str, Any]) -> int:
        k = 0
        for name, values in g[kind].items():
            v = config[name]
            if name in _SNAPPED:
                v = _snap(values, v)
            k = k * len(values) + values.index(v)
        return k

    def objective(p: Any) -> float:
        m = p.model
        config = {name: m[name] for name in g[m.kind]}
        return 1.0 - round(models[m.kind]["accuracy"][position(m.kind, config)], 4)

    best = round(max(max(m["accuracy"]) for m in models.values()), 4)
    return Problem("HPO-cancer", space, objective, 1.0 - best, "mixed",
                   "SVM / gradient boosting / MLP on breast_cancer, 3-fold CV")


def _problems() -> dict[str, Problem]:
    out = [
        _continuous("Branin", branin, 0.397887357729739, ((-5.0, 10.0), (0.0, 15.0))),
        _continuous("Hartmann-6", hartmann6, -3.32236801141551, ((0.0, 1.0),) * 6),
        _continuous("Levy-10", levy, 0.0, ((-10.0, 10.0),) * 10),
        _nas_like(),
    ]
    for file, make in (("nas_tabular_digits.json", lambda: _nas_tabular("digits", "NAS-digits")),
                       ("nas_tabular_breast_cancer.json",
                        lambda: _nas_tabular("breast_cancer", "NAS-cancer")),
                       ("hpo_tabular.json", _hpo)):
        if os.path.exists(os.path.join(DATA, file)):
            out.append(make())
    return {p.name: p for p in out}


PROBLEMS = _problems()
