"""Plots of the architecture weights over a search (matplotlib, without pyplot's global state)."""

from __future__ import annotations

import math
from typing import Any

from symbo.backends.torch.cells import CellState


class PlottingMixin:
    """``plot_alphas`` (mixed into :class:`~symbo.backends.torch.darts.DARTS`)."""

    def plot_alphas(self, path: str | None = None) -> Any:
        """Plots softmax(alpha) per decision over the epochs of ``history`` (matplotlib); a DAG
        cell's weights are shown as a heat map (edges by ops) at the last epoch.

        Saves to ``path`` when given (the format from its suffix: ``.png``, ``.pdf``, ``.svg``);
        returns the ``matplotlib.figure.Figure`` (notebooks display it).
        """
        try:
            from matplotlib.figure import Figure  # no pyplot: no global backend state touched
            from matplotlib.ticker import MaxNLocator
        except ImportError as e:  # pragma: no cover - depends on the environment
            raise ImportError("plot_alphas needs matplotlib: pip install matplotlib") from e
        decisions = self.decisions  # type: ignore[attr-defined]
        history = self.history  # type: ignore[attr-defined]
        keys = list(decisions)
        if not keys or not history:
            raise ValueError("nothing to plot: run search() first")
        cols = min(3, len(keys))
        rows = math.ceil(len(keys) / cols)
        fig = Figure(figsize=(4.5 * cols, 3.2 * rows))
        axes = fig.subplots(rows, cols, squeeze=False)
        epochs = [h["epoch"] for h in history]
        for ax, key in zip(axes.flat, keys):
            state = decisions[key]
            series = [h["alphas"][key] for h in history]
            if isinstance(state, CellState):
                image = ax.imshow(series[-1], aspect="auto", vmin=0.0, cmap="viridis")
                ax.set_xticks(range(state.num_candidates), state.op_names, rotation=60, fontsize="x-small")
                ax.set_yticks(range(len(state.edges)), [f"{i}<-{j}" for i, j in state.edges],
                              fontsize="x-small")
                ax.set_title(f"{key} (epoch {epochs[-1]})")
                fig.colorbar(image, ax=ax)
                continue
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


__all__ = ["PlottingMixin"]
