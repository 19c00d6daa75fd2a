"""Perturbation-based selection (Wang et al., "Rethinking Architecture Selection in
Differentiable NAS", ICLR 2021), for every decision DARTS relaxes.

Decisions are taken one at a time in the spec's order (a parent choice before the decisions
inside its chosen candidate), fine-tuning the supernet for ``fine_tune_steps`` steps after each:

* a **choice** (module, width, variant, ``many_of``): every candidate is removed in turn (its
  weight set to 0) and the validation score measured; the candidate whose removal lowers it most
  is chosen. In the sampling modes, where the supernet is evaluated at the argmax path, the
  score is measured with the decision fixed to each candidate in turn (the best is chosen).
* a **DAG cell**, in the paper's two steps: first the op of every edge (edges in a random order
  drawn from the search's generator), the non-'none' op whose removal hurts most; then, node by
  node (in a random order), the ``in_degree`` incoming edges whose removal hurts most are kept
  and the others removed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import torch

from symbo.backends.torch.batches import cycle, device_batch
from symbo.backends.torch.cells import CellState
from symbo.backends.torch.darts.steps import LossFn
from symbo.backends.torch.mixed_ops import OFF, DecisionState
from symbo.backends.torch.supernet import decision_key, select_from_scores
from symbo.dsl.spec import Choice, Space


class SelectionMixin:
    """Perturbation selection (mixed into :class:`~symbo.backends.torch.darts.DARTS`)."""

    def _select_by_perturbation(self, train_loader: Iterable[Any], val_loader: Iterable[Any],
                                loss_fn: LossFn, eval_batches: int | None,
                                scores_out: dict[str, list[Any]]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        train_iter, val_iter = cycle(train_loader), cycle(val_loader)
        cells_done: set[str] = set()
        fixed_values: dict[str, Any] = self.fixed  # type: ignore[attr-defined]
        cell_keys: dict[str, str] = self.analysis.cell_keys  # type: ignore[attr-defined]

        def tune() -> None:
            self._fine_tune(train_iter, val_iter, loss_fn)

        def score() -> float:
            return self.evaluate(val_loader, loss_fn, limit=eval_batches)[1]  # type: ignore[attr-defined]

        def visit(space: Space) -> None:
            for d in space.decisions:
                key = decision_key(d)
                if key in fixed_values:
                    value = fixed_values[key]
                elif key in values:
                    value = values[key]
                elif key in cell_keys:
                    cell_key = cell_keys[key]
                    if cell_key not in cells_done:
                        cells_done.add(cell_key)
                        state = self.decisions[cell_key]  # type: ignore[attr-defined]
                        values.update(self._select_cell(state, score, tune, scores_out))
                    value = values[key]
                else:
                    state = self.decisions[key]  # type: ignore[attr-defined]
                    value, scores = self._perturb(state, score)
                    values[key] = value
                    scores_out[key] = scores
                    picks = value if isinstance(value, list) else [value]
                    self.relaxation.fixed[key] = tuple(picks)  # type: ignore[attr-defined]
                    tune()
                if isinstance(d, Choice):
                    picks = value if isinstance(value, list) else [value]
                    for i in sorted(set(picks)):
                        visit(d.candidates[i].space)

        visit(self.spec.space)  # type: ignore[attr-defined]
        return values

    def _scored_with(self, score: Any, overrides: dict[tuple[str, int], Any]) -> float:
        relax = self.relaxation  # type: ignore[attr-defined]
        relax.overrides.update(overrides)
        try:
            return float(score())
        finally:
            for k in overrides:
                del relax.overrides[k]

    def _perturb(self, state: DecisionState, score: Any) -> tuple[Any, list[Any]]:
        n = state.num_candidates
        p = state.probabilities()
        rows = state.positions if state.per_position else 1
        positions = range(state.positions)
        table = torch.zeros(rows, n, dtype=torch.float64)
        if self.settings.mode == "softmax":  # type: ignore[attr-defined]
            base = float(score())
            for pos in range(rows):
                for i in range(n):
                    w = (p[pos] if state.per_position else p).clone()
                    w[i] = 0.0
                    where = [pos] if state.per_position else positions
                    table[pos, i] = base - self._scored_with(score, {(state.key, q): w for q in where})
        else:
            argmax = p.argmax(dim=-1)
            for pos in range(rows):
                for i in range(n):
                    if state.per_position:  # the others at their argmax, this one at i
                        over = {(state.key, q): (i if q == pos else int(argmax[q])) for q in positions}
                    else:
                        over = {(state.key, q): i for q in positions}
                    table[pos, i] = self._scored_with(score, over)  # the score with i alone
        scores = table if state.per_position else table[0]
        return select_from_scores(state, scores), scores.tolist()

    def _select_cell(self, state: CellState, score: Any, tune: Any,
                     scores_out: dict[str, list[Any]]) -> dict[str, Any]:
        relax = self.relaxation  # type: ignore[attr-defined]
        generator = relax.generator
        fixed: list[int | None] = list(relax.fixed.get(state.key, (None,) * state.positions))
        allowed = [o for o in range(state.num_candidates) if o not in state.none]
        softmax = self.settings.mode == "softmax"  # type: ignore[attr-defined]
        # Step 1: the op of every edge.
        for e in torch.randperm(state.positions, generator=generator).tolist():
            if fixed[e] is not None:
                continue
            i, j = state.edges[e]
            row: list[float | None] = [None] * state.num_candidates
            if softmax:
                base = float(score())
                p = state.probabilities()[e]
                for o in allowed:
                    w = p.clone()
                    w[o] = 0.0
                    row[o] = base - self._scored_with(score, {(state.key, e): w})
            else:
                for o in allowed:
                    row[o] = self._scored_with(score, {(state.key, e): o})
            fixed[e] = max(allowed, key=lambda o: (row[o], -o))
            scores_out[f"{state.key}.node{i}.edge{j}"] = row
            relax.fixed[state.key] = tuple(fixed)
            tune()
        # Step 2: the edges of every node.
        for i in torch.randperm(state.num_nodes, generator=generator).tolist():
            edges = state.node_edges(i)
            base = float(score())
            drops = {e: base - self._scored_with(score, {(state.key, e): OFF}) for e in edges}
            keep = sorted(edges, key=lambda e: (-drops[e], e))[:state.in_degree]
            for e in edges:
                if e not in keep:
                    fixed[e] = OFF
            scores_out[f"{state.key}.node{i}"] = [drops[e] for e in edges]
            relax.fixed[state.key] = tuple(fixed)
            tune()
        inputs = {i: [state.edges[e][1] for e in state.node_edges(i) if fixed[e] != OFF]
                  for i in range(state.num_nodes)}
        ops = {e: int(v) for e, v in enumerate(fixed) if v is not None and v != OFF}
        return state.decision_values(inputs, ops)

    def _fine_tune(self, train_iter: Iterator[Any], val_iter: Iterator[Any], loss_fn: LossFn) -> None:
        device = self.device  # type: ignore[attr-defined]
        for _ in range(self.settings.fine_tune_steps):  # type: ignore[attr-defined]
            x, y = device_batch(next(train_iter), device)
            if self.relaxation.parameters():  # type: ignore[attr-defined]
                xv, yv = device_batch(next(val_iter), device)
                self._arch_step(x, y, xv, yv, loss_fn)  # type: ignore[attr-defined]
            self._weight_step(x, y, loss_fn)  # type: ignore[attr-defined]


__all__ = ["SelectionMixin"]
