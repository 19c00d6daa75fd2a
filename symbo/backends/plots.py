"""Plots of a study: optimization history, parallel coordinates, intermediate values, and the
architecture weights of a DARTS search.

Each function draws one PNG-ready matplotlib figure and returns it; with ``path`` it also
writes the figure there (PNG). matplotlib is imported only when a plot is drawn, and only its
object-oriented API is used (``Figure`` with the Agg canvas), so plotting never changes the
pyplot backend of a notebook or a script.

>>> import os, tempfile
>>> import symbo as sb
>>> from symbo.backends import plots
>>> study = sb.tune(lambda p: -(p.x - 3) ** 2, sb.Dict(x=sb.int_range(0, 6, name="x")),
...                 sb.algorithms.Grid(), num_trials=7)
>>> path = os.path.join(tempfile.mkdtemp(), "history.png")
>>> _ = plots.plot_history(study, path)
>>> open(path, "rb").read(8) == plots.PNG_SIGNATURE
True

The tables of ``symbo show`` use :func:`decision_rows` (no matplotlib needed):

>>> columns, rows = plots.decision_rows(study.trials[:2])
>>> columns, rows
(['x'], [{'x': 0}, {'x': 1}])
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from symbo.core import KeyPath, Symbolic, SymbolicError, SymbolicValueError
from symbo.core.formatting import format as sym_format
from symbo.dsl.spec import Choice, FloatDecision, IntDecision

if TYPE_CHECKING:  # pragma: no cover - for type hints only
    from matplotlib.figure import Figure

    from symbo.backends.study import Study, Trial

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
KINDS = ("history", "parallel", "intermediate", "darts")

_STATUS_STYLE = {  # colour and marker of each trial status
    "completed": ("tab:blue", "o"),
    "stopped": ("tab:orange", "x"),
    "failed": ("tab:red", "v"),
    "running": ("tab:gray", "."),
    "pending": ("tab:gray", "."),
}


class PlotError(SymbolicValueError):
    """matplotlib is missing, or a study (or an alpha history) has nothing to plot."""


# ---- matplotlib, lazily ------------------------------------------------------------------------
def _figure(width: float, height: float) -> Figure:
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise PlotError(
            "plotting needs matplotlib: pip install matplotlib (or symbo[plots])"
        ) from None
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Figure, path: str | os.PathLike | None) -> Figure:
    if path is not None:
        fig.savefig(os.fspath(path), format="png", dpi=110)
    return fig


def _title(study: Study, what: str) -> str:
    return f"{study.name}: {what}"


# ---- the decisions of trials, for plots and tables --------------------------------------------
def _display(value: Any) -> Any:
    """A choice's literal text (quotes of plain strings removed); numbers as they are."""
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        inner = value[1:-1]
        if value[0] not in inner:
            return inner
    if isinstance(value, list):
        return "[" + ", ".join(str(_display(v)) for v in value) + "]"
    return value


def _program_value(program: Any, decision_id: str) -> tuple[bool, Any]:
    """The value a decision gave in a materialized program (``[=i]`` parts of its id dropped)."""
    if not isinstance(program, Symbolic):
        return False, None
    try:
        path = KeyPath.parse(re.sub(r"\[=\d+\]", "", decision_id))
        if len(path) and not program.sym_has(path):
            return False, None
        value = program.sym_get(path) if len(path) else program
    except SymbolicError:
        return False, None
    return True, (sym_format(value, compact=True) if isinstance(value, Symbolic) else value)


def _decisions(trial: Trial) -> list[tuple[str, str, Any, Any, Any]] | None:
    """``(key, id, decision point or None, literal, index or number)`` per active decision;
    None without a spec."""
    dna = trial.dna
    spec = dna.spec
    if spec is None:
        return None
    try:
        literal = dna.to_dict(value_type="literal")
        ids = dna.to_dict(key_type="id")
    except SymbolicError:
        return None
    out = []
    for (key, text), (did, value) in zip(literal.items(), ids.items()):
        decision = spec.by_name.get(key) if key != did else spec.by_id.get(did)
        out.append((key, did, decision, text, value))
    return out


def trial_decisions(trial: Trial, *, named_only: bool = False) -> dict[str, Any]:
    """``{name_or_id: value}`` of a trial's decisions: the chosen candidate's text for a
    choice (``relu`` for ``'relu'``), or the value it gave in the program when the candidate
    holds decisions of its own (``[256, 128]``); the number for a range. ``named_only``: only
    decisions given a ``name``. Without the space's spec (a study whose space could not be
    loaded), the DNA's flat numbers as ``{"#0": ..., "#1": ...}``."""
    rows = _decisions(trial)
    if rows is None:
        return {} if named_only else {f"#{i}": v for i, v in enumerate(trial.dna.to_numbers())}
    out: dict[str, Any] = {}
    for key, did, decision, text, _value in rows:
        if named_only and (decision is None or decision.name != key):
            continue
        if isinstance(decision, Choice) and (decision.is_conditional or decision.num_choices > 1):
            found, value = _program_value(trial.program, did)
            if found:
                out[key] = value
                continue
        out[key] = _display(text)
    return out


def decision_rows(trials: Iterable[Trial], *, named_only: bool = False
                  ) -> tuple[list[str], list[dict[str, Any]]]:
    """The decision keys (in order of first appearance) and one dict of decisions per trial
    (see :func:`trial_decisions`); a decision inactive in a trial is absent from its dict.
    ``named_only`` falls back to every decision when none is named."""
    trials = list(trials)
    columns: list[str] = []
    rows = []
    for t in trials:
        row = trial_decisions(t, named_only=named_only)
        columns += [k for k in row if k not in columns]
        rows.append(row)
    if named_only and not columns:
        return decision_rows(trials)
    return columns, rows


def _reward_value(reward: Any, index: int = 0) -> float | None:
    if reward is None:
        return None
    if isinstance(reward, (tuple, list)):
        return float(reward[index])
    return float(reward)


# ---- optimization history ----------------------------------------------------------------------
def plot_history(study: Study, path: str | os.PathLike | None = None) -> Figure:
    """The reward of every finished trial by trial number, with the best so far as a step line
    (stopped trials drawn with their last reported value, failed ones along the bottom). With
    several objectives, one panel per objective and no best line."""
    trials = [t for t in study.trials if t.is_finished]
    if not trials:
        raise PlotError(f"study {study.name!r} has no finished trials to plot")
    num = len(study.objectives)
    fig = _figure(8.0, 3.6 * num if num > 1 else 4.5)
    axes = fig.subplots(num, 1, squeeze=False)[:, 0]
    for k, ax in enumerate(axes):
        values = [(t.id, _reward_value(t.reward, k)) for t in trials]
        known = [v for _, v in values if v is not None]
        bottom = min(known) if known else 0.0
        for status in ("completed", "stopped", "failed"):
            colour, marker = _STATUS_STYLE[status]
            pts = [(i, v if v is not None else bottom) for (i, v), t in zip(values, trials)
                   if t.status == status]
            if pts:
                label = f"{status} ({len(pts)})" + (": last report" if status == "stopped" else "")
                ax.scatter([p[0] for p in pts], [p[1] for p in pts], c=colour, marker=marker,
                           s=22, alpha=0.9 if status == "completed" else 0.5, label=label,
                           zorder=3 if status == "completed" else 2)
        if num == 1:
            best = [(i, b) for i, _, b in study.history if b is not None]
            if best:
                xs = [i for i, _ in best] + [trials[-1].id]
                ys = [b for _, b in best] + [best[-1][1]]
                ax.step(xs, ys, where="post", color="tab:green", lw=2,
                        label=f"best so far ({_fmt(ys[-1])})", zorder=2)
        direction = study.objectives[k]
        ax.set_ylabel(f"reward ({direction})" if num == 1 else f"objective {k} ({direction})")
        ax.grid(alpha=0.3)
        ax.legend(loc="best", fontsize=8)
    axes[-1].set_xlabel("trial")
    axes[0].set_title(_title(study, f"optimization history, {len(trials)} trials"))
    return _save(fig, path)


def _fmt(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


# ---- parallel coordinates ----------------------------------------------------------------------
def plot_parallel_coordinates(study: Study, path: str | os.PathLike | None = None, *,
                              params: Sequence[str] | None = None) -> Figure:
    """One line per completed trial across one axis per decision, coloured by reward (the
    first objective); the best trial drawn on top, thicker.

    The axes are the named decisions (every decision when none is named), or ``params``.
    Ranges are scaled to their bounds (log ranges in log space); a choice's axis lists its
    candidates (markers inside a candidate shown as ``?``). A decision inactive in a trial
    leaves a gap in its line.
    """
    trials = [t for t in study.trials if t.status == "completed"]
    if not trials:
        raise PlotError(f"study {study.name!r} has no completed trials to plot")
    rows = [_parallel_row(t) for t in trials]
    named = [k for r in rows for k, (d, _) in r.items() if d is not None and d.name == k]
    columns: list[str] = []
    for r in rows:
        columns += [k for k in r if k not in columns and (not named or k in named)]
    if params is not None:
        unknown = [p for p in params if not any(p in r for r in rows)]
        if unknown:
            raise PlotError(f"no decision(s) {unknown} in study {study.name!r} (it has {columns})")
        columns = list(params)
    if not columns:
        raise PlotError(f"study {study.name!r} has no decisions to plot")
    axes_info = [_axis([r[name] for r in rows if name in r]) for name in columns]
    rewards = [_reward_value(t.reward) or 0.0 for t in trials]
    sign = 1.0 if study.objectives[0] == "max" else -1.0
    lo, hi = min(rewards), max(rewards)

    import numpy as np
    from matplotlib import cm, colors

    fig = _figure(max(6.5, 1.35 * (len(columns) + 1) + 1.5), 5.0)
    ax = fig.add_subplot()
    norm = colors.Normalize(vmin=lo, vmax=hi if hi > lo else lo + 1e-12)
    cmap = cm.viridis if sign > 0 else cm.viridis_r
    xs = np.arange(len(columns) + 1)
    order = sorted(range(len(trials)), key=lambda i: sign * rewards[i])
    best = order[-1]
    for i in order:
        ys = [info.position(rows[i].get(name, (None, None))[1])
              for name, info in zip(columns, axes_info)]
        ys.append(0.5 if hi == lo else (rewards[i] - lo) / (hi - lo))
        ax.plot(xs, ys, color=cmap(norm(rewards[i])), lw=2.8 if i == best else 1.0,
                alpha=1.0 if i == best else 0.55, zorder=3 if i == best else 2)
    for x, info in enumerate(axes_info):
        ax.axvline(x, color="0.6", lw=0.8, zorder=1)
        for pos, label in info.ticks():
            ax.annotate(label, (x, pos), xytext=(3, 0), textcoords="offset points", fontsize=7,
                        va="center", color="0.25")
    ax.axvline(len(columns), color="0.6", lw=0.8, zorder=1)
    for pos, value in ((0.0, lo), (1.0, hi)):
        ax.annotate(_fmt(value), (len(columns), pos), xytext=(3, 0), textcoords="offset points",
                    fontsize=7, va="center", color="0.25")
    ax.set_xticks(xs, [*[_short(c, 24) for c in columns], "reward"], rotation=20, ha="right",
                  fontsize=8)
    ax.set_yticks([])
    ax.set_ylim(-0.05, 1.05)
    ax.set_xlim(-0.1, len(columns) + 0.6)
    fig.colorbar(cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax, label="reward")
    ax.set_title(_title(study, f"decisions of {len(trials)} completed trials"))
    return _save(fig, path)


def _parallel_row(trial: Trial) -> dict[str, tuple[Any, Any]]:
    """``{key: (decision point or None, index or number)}`` of one trial."""
    rows = _decisions(trial)
    if rows is None:
        return {f"#{i}": (None, v) for i, v in enumerate(trial.dna.to_numbers())}
    return {key: (decision, value) for key, _did, decision, _text, value in rows}


class _Axis:
    """Maps one decision's values to [0, 1] and names a few tick positions."""

    def __init__(self, labels: list[str] | None = None, low: float = 0.0, high: float = 1.0,
                 log: bool = False, indexed: bool = False) -> None:
        self.labels = labels
        self.indexed = indexed  # values are candidate indices (else labels are the values)
        self.log = log and low > 0 and high > 0
        self.low, self.high = (math.log(low), math.log(high)) if self.log else (low, high)

    def position(self, value: Any) -> float:
        if value is None:
            return math.nan
        if self.labels is not None:
            n = len(self.labels)
            if self.indexed:
                index = int(value)
            elif str(value) in self.labels:
                index = self.labels.index(str(value))
            else:
                return math.nan
            return 0.5 if n == 1 else index / (n - 1)
        v = float(value)
        if self.log:
            v = math.log(v) if v > 0 else self.low
        return 0.5 if self.high == self.low else (v - self.low) / (self.high - self.low)

    def ticks(self) -> list[tuple[float, str]]:
        if self.labels is not None:
            n = len(self.labels)
            return [(0.5 if n == 1 else i / (n - 1), _short(label))
                    for i, label in enumerate(self.labels)]
        ends = (math.exp(self.low), math.exp(self.high)) if self.log else (self.low, self.high)
        return [(0.0, _fmt(float(ends[0]))), (1.0, _fmt(float(ends[1])))]


def _short(text: str, width: int = 18) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


_MARKER_CALL = re.compile(r"\b(?:one_of|many_of|permutate|float_range|int_range)\(")


def skeleton(literal: str) -> str:
    """A candidate's text with the markers inside it shown as ``?``.

    >>> skeleton("[one_of([32, 64]), one_of([32, 64])]")
    '[?, ?]'
    """
    out, i = [], 0
    for m in _MARKER_CALL.finditer(literal):
        if m.start() < i:
            continue
        out.append(literal[i:m.start()])
        depth, j, quote = 0, m.end() - 1, ""
        while j < len(literal):
            ch = literal[j]
            if quote:
                if ch == "\\":
                    j += 1
                elif ch == quote:
                    quote = ""
            elif ch in "'\"":
                quote = ch
            elif ch in "([{":
                depth += 1
            elif ch in ")]}":
                depth -= 1
                if depth == 0:
                    break
            j += 1
        out.append("?")
        i = j + 1
    out.append(literal[i:])
    return "".join(out)


def _axis(values: list[tuple[Any, Any]]) -> _Axis:
    decision = next((d for d, _ in values if d is not None), None)
    if isinstance(decision, (FloatDecision, IntDecision)):
        return _Axis(low=decision.low, high=decision.high, log=decision.scale == "log")
    if isinstance(decision, Choice) and decision.num_choices == 1:
        return _Axis(labels=[str(_display(skeleton(c.literal))) for c in decision.candidates],
                     indexed=True)
    present = [v for _, v in values if v is not None]
    if present and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present):
        return _Axis(low=float(min(present)), high=float(max(present)))
    return _Axis(labels=sorted({str(v) for v in present}))


# ---- intermediate values -----------------------------------------------------------------------
def plot_intermediate(study: Study, path: str | os.PathLike | None = None) -> Figure:
    """The reports ``(step, value)`` of every trial as one line each, ending in a marker for
    its status: an ``x`` where an early-stopping policy stopped it."""
    trials = [t for t in study.trials if t.reports]
    if not trials:
        raise PlotError(f"study {study.name!r} has no intermediate values (feedback.report) to plot")
    fig = _figure(8.0, 4.5)
    ax = fig.add_subplot()
    seen: set[str] = set()
    for t in trials:
        colour, marker = _STATUS_STYLE.get(t.status, ("tab:gray", "."))
        steps = [s for s, _ in t.reports]
        values = [v for _, v in t.reports]
        ax.plot(steps, values, color=colour, lw=1.0, alpha=0.5)
        label = None if t.status in seen else t.status
        seen.add(t.status)
        ax.scatter(steps[-1:], values[-1:], color=colour, marker=marker, s=28, zorder=3,
                   label=label)
    stopped = sum(t.status == "stopped" for t in trials)
    ax.set_xlabel("step")
    ax.set_ylabel("reported value")
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    ax.set_title(_title(study, f"intermediate values of {len(trials)} trials, {stopped} stopped"))
    return _save(fig, path)


# ---- DARTS architecture weights ----------------------------------------------------------------
def load_alpha_history(source: str | os.PathLike | Mapping[str, Any] | Sequence[Any]
                       ) -> tuple[dict[str, list[list[float]]], dict[str, list[str]]]:
    """Reads an architecture-weight history into ``({decision: [[w per candidate] per epoch]},
    {decision: candidate labels})``.

    Accepted forms (a JSON file holding one of them, or the value itself):

    * ``{decision: [[w, ...] per epoch]}``;
    * a list of per-epoch snapshots ``[{decision: [w, ...]}, ...]``, each may instead be
      ``{"epoch": e, "weights"|"alphas": {decision: [w, ...]}}``;
    * either of these under ``"history"`` (or ``"alphas"``/``"weights"``) in a dict that may
      also give ``"candidates": {decision: [label, ...]}`` (what :func:`save_alpha_history`
      writes);
    * a DARTS object (``symbo.backends.torch.darts.DARTS`` after ``search``): its ``history``
      and its candidates' text; ``json.dump(darts.history, f)`` also reads back.

    >>> h, labels = load_alpha_history([{"op": [0.5, 0.5]}, {"op": [0.7, 0.3]}])
    >>> h, labels
    ({'op': [[0.5, 0.5], [0.7, 0.3]]}, {'op': ['0', '1']})
    """
    data: Any = source
    if isinstance(source, (str, os.PathLike)):
        try:
            with open(source, encoding="utf-8") as f:
                data = json.load(f)
        except (OSError, json.JSONDecodeError) as e:
            raise PlotError(f"cannot read an alpha history from {os.fspath(source)!r}: {e}") from None
    labels: dict[str, list[str]] = {}
    if not isinstance(data, (Mapping, Sequence)) and isinstance(getattr(data, "history", None), list):
        labels = _darts_labels(data)  # a DARTS object: its per-epoch history and candidates
        data = data.history
    if isinstance(data, Mapping):
        for key in ("history", "alphas", "weights"):
            if key in data and isinstance(data[key], (Mapping, list)):
                labels = {str(k): [str(x) for x in v] for k, v in dict(data.get("candidates") or {}).items()}
                data = data[key]
                break
    history: dict[str, list[list[float]]] = {}
    if isinstance(data, Mapping):
        for name, rows in data.items():
            history[str(name)] = [_weights(row, name) for row in rows]
    elif isinstance(data, Sequence) and not isinstance(data, (str, bytes)):
        for epoch, snapshot in enumerate(data):
            if isinstance(snapshot, Mapping) and any(k in snapshot for k in ("weights", "alphas")):
                snapshot = snapshot.get("weights", snapshot.get("alphas"))
            if not isinstance(snapshot, Mapping):
                raise PlotError(f"alpha history: epoch {epoch} is not a {{decision: weights}} dict")
            for name, row in snapshot.items():
                history.setdefault(str(name), []).append(_weights(row, name))
    else:
        raise PlotError(f"an alpha history is a dict or a list of dicts, got {type(data).__name__}")
    if not history or not any(history.values()):
        raise PlotError("the alpha history is empty")
    for name, rows in history.items():
        width = max(len(r) for r in rows)
        labels.setdefault(name, [str(i) for i in range(width)])
    return history, labels


def _darts_labels(darts: Any) -> dict[str, list[str]]:
    decisions = getattr(darts, "decisions", None)
    if not isinstance(decisions, Mapping):
        return {}
    return {str(k): [str(_display(x)) for x in getattr(d, "literals", ())]
            for k, d in decisions.items() if getattr(d, "literals", None)}


def save_alpha_history(source: Any, path: str | os.PathLike) -> None:
    """Writes an architecture-weight history as JSON for ``symbo plot --kind darts --alphas``:
    ``{"history": [{decision: weights} per epoch], "candidates": {decision: labels}}``.
    ``source`` is a DARTS object (after ``search``) or anything :func:`load_alpha_history`
    reads.

    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "alphas.json")
    >>> save_alpha_history({"op": [[0.5, 0.5], [0.8, 0.2]]}, path)
    >>> load_alpha_history(path)[0]
    {'op': [[0.5, 0.5], [0.8, 0.2]]}
    """
    weights, labels = load_alpha_history(source)
    epochs = max(len(rows) for rows in weights.values())
    history = [{name: rows[e] for name, rows in weights.items() if e < len(rows)}
               for e in range(epochs)]
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"history": history, "candidates": labels}, f, indent=1)


def _weights(row: Any, name: Any) -> list[float]:
    if hasattr(row, "tolist"):  # numpy arrays and torch tensors
        row = row.tolist()
    if isinstance(row, (int, float)):
        return [float(row)]
    try:
        return [float(x) for x in _flatten(row)]
    except (TypeError, ValueError):
        raise PlotError(f"alpha history of {name!r}: weights must be numbers, got {row!r:.60}") from None


def _flatten(row: Any) -> list[Any]:
    out: list[Any] = []
    for x in row:
        if isinstance(x, (list, tuple)):
            out += _flatten(x)
        else:
            out.append(x)
    return out


def _softmax(row: list[float]) -> list[float]:
    m = max(row)
    e = [math.exp(x - m) for x in row]
    s = sum(e)
    return [x / s for x in e]


def plot_alpha_history(history: Any, path: str | os.PathLike | None = None, *,
                       softmax: bool | None = None, title: str = "DARTS architecture weights"
                       ) -> Figure:
    """The architecture weights of each decision over epochs, one panel per decision and one
    line per candidate. ``history`` is anything :func:`load_alpha_history` reads (a JSON
    file, a dict, a list of snapshots, or an object with an ``alpha_history``). ``softmax``:
    apply a softmax to each row first (default: when the rows do not already sum to 1).
    """
    weights, labels = load_alpha_history(history)
    names = list(weights)
    cols = min(3, len(names))
    rows_n = math.ceil(len(names) / cols)
    fig = _figure(4.2 * cols, 3.0 * rows_n + 0.4)
    axes = fig.subplots(rows_n, cols, squeeze=False)
    for k, name in enumerate(names):
        ax = axes[k // cols][k % cols]
        rows = weights[name]
        apply = softmax if softmax is not None else any(abs(sum(r) - 1.0) > 1e-3 for r in rows)
        rows = [_softmax(r) if apply and r else r for r in rows]
        width = max(len(r) for r in rows)
        for c in range(width):
            ys = [r[c] if c < len(r) else math.nan for r in rows]
            label = labels[name][c] if c < len(labels[name]) else str(c)
            ax.plot(range(len(rows)), ys, marker="." if len(rows) < 30 else None,
                    label=_short(label, 24))
        ax.set_title(_short(name, 40), fontsize=9)
        ax.set_xlabel("epoch", fontsize=8)
        ax.set_ylabel("weight" + (" (softmax)" if apply else ""), fontsize=8)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="best")
    for k in range(len(names), rows_n * cols):
        axes[k // cols][k % cols].set_visible(False)
    fig.suptitle(title)
    return _save(fig, path)


def plot(study: Study | None, path: str | os.PathLike | None = None, kind: str = "history",
         **kwargs: Any) -> Figure:
    """The plot of ``kind`` (one of :data:`KINDS`); ``darts`` takes ``alphas=`` (a history)."""
    if kind == "darts":
        alphas = kwargs.pop("alphas", None)
        if alphas is None:
            raise PlotError("the darts plot needs the architecture-weight history (alphas=...)")
        return plot_alpha_history(alphas, path, **kwargs)
    if study is None:
        raise PlotError(f"the {kind} plot needs a study")
    functions = {"history": plot_history, "parallel": plot_parallel_coordinates,
                 "intermediate": plot_intermediate}
    if kind not in functions:
        raise PlotError(f"unknown plot kind {kind!r}; choose one of {', '.join(KINDS)}")
    return functions[kind](study, path, **kwargs)
