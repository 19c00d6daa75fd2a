"""Fair comparisons of search algorithms: every algorithm, every seed, the same budget.

``compare(objective, space, {name: factory})`` runs ``factory(seed)`` for every seed as its own
search of ``num_trials`` trials (a study, through :func:`symbo.tune`), and keeps, for every
run, the value of each trial in trial order. From that it gives the best value so far per
trial (seeds x trials), the mean, standard deviation and confidence interval of the best value
at chosen budgets (``table``, ``interval``), curves with bands (``plot``), and save/load.
Algorithms' rankings change with seeds and settings (ArchGym's "hyperparameter lottery"), so
the uncertainty is always shown with the mean.

Values are in the objective's own direction: with ``objectives=("min",)`` the best value so
far is the smallest. A trial that failed or was stopped counts against the budget and gives
no value. A run whose algorithm cannot search the space (or any other error that ends a run)
is recorded in :attr:`Comparison.errors` and the comparison goes on with the other runs.

With ``storage`` (a URL such as ``"sqlite:///compare.db"``) each run is a study named
``{study_prefix}.{algorithm}.seed{seed}`` in it, so a comparison that was interrupted is
resumed by calling ``compare`` again with the same arguments: finished runs are read back,
unfinished ones continue.

>>> import symbo as sb
>>> space = sb.Dict(x=sb.float_range(-1.0, 1.0), y=sb.int_range(0, 4))
>>> res = sb.compare(lambda p: (p.x - 0.3) ** 2 + p.y, space,
...                  {"Random": lambda seed: sb.algorithms.Random(seed=seed),
...                   "TPE": lambda seed: sb.algorithms.TPE(seed=seed)},
...                  seeds=3, num_trials=20, objectives=("min",))
>>> res.best_so_far("TPE").shape
(3, 20)
>>> low, mean, high = res.interval("Random", 20)
>>> bool(low <= mean <= high)
True
>>> sorted({row["algorithm"] for row in res.table(as_frame=False)})
['Random', 'TPE']
"""

from __future__ import annotations

import inspect
import json
import math
import os
import statistics
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from symbo.algorithms import Algorithm
from symbo.backends.search import tune
from symbo.core import SymbolicTypeError, SymbolicValueError

if TYPE_CHECKING:  # pragma: no cover - for type hints only
    from matplotlib.figure import Figure

    from symbo.backends.storage import Storage
    from symbo.backends.study import Study

Factory = Callable[[int], Algorithm]
DEFAULT_BUDGETS = (25, 50, 100, 200)
_FORMAT = "symbo.compare/1"


class Comparison:
    """The result of :func:`compare`: per algorithm and seed, the value of every trial.

    ``values[name][i]`` lists the values of the run with seed ``seeds[i]`` in trial order
    (``nan`` for failed or stopped trials); ``errors[name]`` maps a seed to the error that
    ended its run. ``direction`` is ``"max"`` or ``"min"``.

    >>> import symbo as sb
    >>> res = sb.Comparison({"A": [[1.0, 3.0, 2.0], [0.0, float("nan"), 5.0]]}, seeds=[0, 1],
    ...                     num_trials=3)
    >>> res.best_so_far("A").tolist()
    [[1.0, 3.0, 3.0], [0.0, 0.0, 5.0]]
    >>> res.interval("A", 3)[1]
    4.0
    """

    def __init__(self, values: Mapping[str, Sequence[Sequence[float]]], *,
                 seeds: Sequence[int], num_trials: int, direction: str = "max",
                 errors: Mapping[str, Mapping[int, str]] | None = None,
                 study_names: Mapping[str, Sequence[str]] | None = None,
                 storage: str | None = None, confidence: float = 0.95,
                 budgets: Sequence[int] | None = None) -> None:
        if direction not in ("max", "min"):
            raise SymbolicValueError(f"direction must be 'max' or 'min', got {direction!r}")
        self.seeds = [int(s) for s in seeds]
        self.num_trials = int(num_trials)
        self.direction = direction
        self.confidence = float(confidence)
        self.storage = storage
        self.budgets = _budgets(budgets, self.num_trials)
        self.values: dict[str, list[list[float]]] = {}
        for name, runs in values.items():
            if len(runs) != len(self.seeds):
                raise SymbolicValueError(
                    f"algorithm {name!r}: {len(runs)} runs for {len(self.seeds)} seeds")
            self.values[name] = [[_float(v) for v in run][: self.num_trials] for run in runs]
        self.errors = {name: {int(s): str(e) for s, e in errs.items()}
                       for name, errs in (errors or {}).items() if errs}
        self.study_names = {name: list(names) for name, names in (study_names or {}).items()}

    @property
    def algorithms(self) -> list[str]:
        """The algorithms' names, in the order they were given."""
        return list(self.values)

    # ---- the figures ------------------------------------------------------------------------
    def best_so_far(self, name: str) -> np.ndarray:
        """(seeds, num_trials): the best value among each run's first ``t + 1`` trials (``nan``
        before its first completed trial, and for a run that ended in an error)."""
        runs = self._runs(name)
        out = np.full((len(runs), self.num_trials), np.nan)
        for i, run in enumerate(runs):
            a = np.full(self.num_trials, np.nan)
            a[: len(run)] = run
            sign = 1.0 if self.direction == "max" else -1.0
            filled = np.where(np.isnan(a), -np.inf, sign * a)
            best = np.maximum.accumulate(filled) * sign
            out[i] = np.where(np.isinf(best), np.nan, best)
        return out

    def final(self, name: str, budget: int) -> np.ndarray:
        """The best value of each run after ``budget`` trials (``nan`` where a run has none)."""
        if not 1 <= budget <= self.num_trials:
            raise SymbolicValueError(f"budget must be in [1, {self.num_trials}], got {budget}")
        return self.best_so_far(name)[:, budget - 1]

    def interval(self, name: str, budget: int | None = None,
                 confidence: float | None = None) -> tuple[float, float, float]:
        """``(low, mean, high)``: the mean over seeds of the best value after ``budget``
        trials (default: all) and its Student-t confidence interval (``confidence``, default
        the comparison's, 0.95). With one run, low and high are ``nan``."""
        values = self.final(name, self.num_trials if budget is None else budget)
        values = values[~np.isnan(values)]
        if values.size == 0:
            return (math.nan, math.nan, math.nan)
        mean = float(values.mean())
        if values.size < 2:
            return (math.nan, mean, math.nan)
        level = self.confidence if confidence is None else confidence
        half = t_quantile(0.5 + level / 2, values.size - 1) * float(values.std(ddof=1)) \
            / math.sqrt(values.size)
        return (mean - half, mean, mean + half)

    def rows(self, budgets: Sequence[int] | None = None) -> list[dict[str, Any]]:
        """The table as a list of dicts: one per algorithm and budget (see :meth:`table`)."""
        out = []
        for name in self.values:
            for budget in (self.budgets if budgets is None else _budgets(budgets, self.num_trials)):
                values = self.final(name, budget)
                ok = values[~np.isnan(values)]
                low, mean, high = self.interval(name, budget)
                out.append({
                    "algorithm": name, "budget": budget, "mean": mean,
                    "std": float(ok.std(ddof=1)) if ok.size > 1 else math.nan,
                    "ci_low": low, "ci_high": high, "median": float(np.median(ok)) if ok.size else math.nan,
                    "runs": int(ok.size), "errors": len(self.errors.get(name, {})),
                })
        return out

    def table(self, budgets: Sequence[int] | None = None, *, as_frame: bool | None = None) -> Any:
        """Per algorithm and budget: ``mean``, ``std``, ``ci_low``/``ci_high`` (the confidence
        interval of the mean), ``median`` of the best value so far over the seeds, the number
        of ``runs`` that had a value, and of runs that ended in ``errors``.

        A pandas DataFrame when pandas is installed (``as_frame=False``: always the list of
        dicts, each with an ``algorithm`` and a ``budget`` key). Budgets default to 25, 50,
        100, 200 (those within ``num_trials``) and ``num_trials``.
        """
        rows = self.rows(budgets)
        if as_frame is False:
            return rows
        try:
            import pandas as pd
        except ImportError:
            if as_frame:
                raise SymbolicValueError("table(as_frame=True) needs pandas: pip install pandas") from None
            return rows
        return pd.DataFrame(rows, columns=list(rows[0]) if rows else ["algorithm", "budget"])

    def format(self, budgets: Sequence[int] | None = None) -> str:
        """The table as text: ``mean [ci_low, ci_high]`` per algorithm (rows) and budget."""
        budgets = self.budgets if budgets is None else _budgets(budgets, self.num_trials)
        header = ["algorithm"] + [f"@{b}" for b in budgets]
        lines = [header]
        by = {(r["algorithm"], r["budget"]): r for r in self.rows(budgets)}
        for name in self.values:
            cells = [name]
            for b in budgets:
                r = by[(name, b)]
                cells.append(_fmt(r["mean"]) + (f" [{_fmt(r['ci_low'])}, {_fmt(r['ci_high'])}]"
                                                 if not math.isnan(r["ci_low"]) else ""))
            lines.append(cells)
        widths = [max(len(row[i]) for row in lines) for i in range(len(header))]
        text = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in
                          enumerate(zip(row, widths))) for row in lines]
        best = "highest" if self.direction == "max" else "lowest"
        text.insert(0, f"best value so far ({best} is best), mean [{self.confidence:.0%} CI] over "
                       f"{len(self.seeds)} seed(s), at each budget of trials")
        for name, errs in self.errors.items():
            for seed, err in errs.items():
                text.append(f"{name} seed {seed}: {err.strip().splitlines()[-1]}")
        return "\n".join(text)

    def __repr__(self) -> str:
        return (f"Comparison({self.algorithms}, seeds={len(self.seeds)}, "
                f"num_trials={self.num_trials}, direction={self.direction!r})")

    # ---- plotting ---------------------------------------------------------------------------
    def plot(self, path: str | os.PathLike | None = None, *, log: bool = False,
             title: str | None = None) -> Figure:
        """Mean best value so far against trials, one curve per algorithm, with its confidence
        band; ``log=True`` for a log y axis (regrets). Writes a PNG to ``path`` when given and
        returns the matplotlib figure."""
        from symbo.backends.plots import _figure, _save

        fig = _figure(7.0, 4.2)
        ax = fig.add_subplot()
        trials = np.arange(1, self.num_trials + 1)
        for name in self.values:
            curves = self.best_so_far(name)
            mean, low, high = _bands(curves, self.confidence)
            (line,) = ax.plot(trials, mean, label=name, linewidth=1.6)
            ax.fill_between(trials, low, high, color=line.get_color(), alpha=0.2, linewidth=0)
        ax.set_xlabel("trials")
        ax.set_ylabel(f"best value so far ({'max' if self.direction == 'max' else 'min'})")
        if log:
            ax.set_yscale("log")
        ax.set_title(title or f"mean over {len(self.seeds)} seeds, {self.confidence:.0%} CI bands")
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
        return _save(fig, path)

    # ---- saving -----------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {
            "format": _FORMAT, "seeds": self.seeds, "num_trials": self.num_trials,
            "direction": self.direction, "confidence": self.confidence, "budgets": self.budgets,
            "storage": self.storage, "errors": {n: {str(s): e for s, e in errs.items()}
                                                for n, errs in self.errors.items()},
            "study_names": self.study_names,
            "values": {n: [[None if math.isnan(v) else v for v in run] for run in runs]
                       for n, runs in self.values.items()},
        }

    def save(self, path: str | os.PathLike) -> None:
        """Writes the comparison to a JSON file (read back with :meth:`load`)."""
        with open(path, "w", encoding="utf-8") as f:
            json.dump(self.to_json(), f)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Comparison:
        if data.get("format") != _FORMAT:
            raise SymbolicValueError(
                f"not a saved comparison (format {data.get('format')!r}, expected {_FORMAT!r})")
        return cls({n: [[math.nan if v is None else v for v in run] for run in runs]
                    for n, runs in data["values"].items()},
                   seeds=data["seeds"], num_trials=data["num_trials"], direction=data["direction"],
                   errors={n: {int(s): e for s, e in errs.items()} for n, errs in data["errors"].items()},
                   study_names=data.get("study_names"), storage=data.get("storage"),
                   confidence=data.get("confidence", 0.95), budgets=data.get("budgets"))

    @classmethod
    def load(cls, path: str | os.PathLike) -> Comparison:
        """Reads a comparison written by :meth:`save`."""
        try:
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
        except json.JSONDecodeError as e:
            raise SymbolicValueError(f"{os.fspath(path)}: not JSON ({e})") from None
        return cls.from_json(data)

    def _runs(self, name: str) -> list[list[float]]:
        try:
            return self.values[name]
        except KeyError:
            raise SymbolicValueError(
                f"no algorithm {name!r} in this comparison; it has {self.algorithms}") from None


def compare(
    objective: Callable[..., Any],
    space: Any,
    algorithms: Mapping[str, Factory],
    seeds: int | Sequence[int] = 10,
    num_trials: int = 100,
    *,
    workers: int = 1,
    storage: str | Storage | None = None,
    study_prefix: str = "compare",
    objectives: tuple[str, ...] = ("max",),
    budgets: Sequence[int] | None = None,
    confidence: float = 0.95,
    timeout: float | None = None,
    catch: tuple[type[BaseException], ...] = (Exception,),
    progress: bool = False,
) -> Comparison:
    """Runs every algorithm with every seed for ``num_trials`` trials and compares them.

    ``algorithms`` maps a name to a factory that takes the seed and returns a fresh algorithm
    (``lambda seed: sb.algorithms.TPE(seed=seed)``); ``seeds`` is their number (seeds 0 to
    N - 1) or the seeds themselves. Each run is ``sb.tune(objective, space, factory(seed),
    num_trials, workers=workers, ...)``: ``workers`` trials at once within a run, a study in
    ``storage`` named ``{study_prefix}.{name}.seed{seed}`` (in memory by default; with a
    storage, calling ``compare`` again resumes it). ``objectives`` is ``("max",)`` or
    ``("min",)``. An objective that raises one of ``catch`` fails that trial (recorded); an
    error that ends a run (an algorithm that cannot search the space) is recorded in
    ``errors`` and the other runs go on. ``progress=True`` shows a bar over the runs.

    >>> import symbo as sb
    >>> res = sb.compare(lambda p: p.x, sb.Dict(x=sb.int_range(0, 9)),
    ...                  {"Grid": lambda seed: sb.algorithms.Grid()}, seeds=2, num_trials=10)
    >>> res.best_so_far("Grid")[:, -1].tolist()
    [9.0, 9.0]
    """
    seed_list = _seeds(seeds)
    if not isinstance(algorithms, Mapping) or not algorithms:
        raise SymbolicValueError(
            "compare needs at least one algorithm: {name: factory}, e.g. "
            "{'TPE': lambda seed: sb.algorithms.TPE(seed=seed)}")
    if isinstance(num_trials, bool) or not isinstance(num_trials, int) or num_trials < 1:
        raise SymbolicValueError(f"num_trials must be an int >= 1, got {num_trials!r}")
    objectives = tuple(objectives)
    if len(objectives) != 1:
        raise SymbolicValueError(
            f"compare ranks runs by one objective; got objectives={objectives!r}")
    for name, factory in algorithms.items():
        _check_factory(name, factory, seed_list[0])
    url = storage if isinstance(storage, str) or storage is None else storage.url
    values: dict[str, list[list[float]]] = {}
    errors: dict[str, dict[int, str]] = {}
    names: dict[str, list[str]] = {}
    bar = _bar(progress, len(algorithms) * len(seed_list))
    try:
        for name, factory in algorithms.items():
            values[name], errors[name], names[name] = [], {}, []
            for seed in seed_list:
                study_name = f"{study_prefix}.{name}.seed{seed}"
                names[name].append(study_name)
                try:
                    study = tune(objective, space, factory(seed), num_trials, storage=storage,
                                 study_name=study_name, load_if_exists=storage is not None,
                                 workers=workers, objectives=objectives, timeout=timeout,
                                 catch=catch)
                    values[name].append(run_values(study, num_trials))
                except catch as e:
                    errors[name][seed] = f"{type(e).__name__}: {e}"
                    values[name].append([])
                bar.update(1)
    finally:
        bar.close()
    return Comparison(values, seeds=seed_list, num_trials=num_trials, direction=objectives[0],
                      errors=errors, study_names=names, storage=url, confidence=confidence,
                      budgets=budgets)


def run_values(study: Study, num_trials: int) -> list[float]:
    """The value of each of a study's first ``num_trials`` trials in trial order, in the
    objective's direction (``nan`` for trials that failed, were stopped or still run)."""
    trials = sorted(study.trials, key=lambda t: t.id)[:num_trials]
    return [_float(t.reward) if t.status == "completed" else math.nan for t in trials]


# ---- helpers ------------------------------------------------------------------------------------
def t_quantile(p: float, df: int) -> float:
    """The ``p`` quantile of Student's t distribution with ``df`` degrees of freedom (exact
    for 1 and 2, a Cornish-Fisher expansion from the normal quantile beyond: error < 1e-3).

    >>> from symbo.backends.compare import t_quantile
    >>> round(t_quantile(0.975, 19), 3), round(t_quantile(0.975, 1), 3)
    (2.093, 12.706)
    """
    if df < 1:
        raise SymbolicValueError(f"df must be >= 1, got {df}")
    if df == 1:
        return math.tan(math.pi * (p - 0.5))
    if df == 2:
        return (2 * p - 1) / math.sqrt(2 * p * (1 - p))
    z = statistics.NormalDist().inv_cdf(p)
    z2 = z * z
    g1 = (z2 + 1) * z / 4
    g2 = ((5 * z2 + 16) * z2 + 3) * z / 96
    g3 = (((3 * z2 + 19) * z2 + 17) * z2 - 15) * z / 384
    g4 = ((((79 * z2 + 776) * z2 + 1482) * z2 - 1920) * z2 - 945) * z / 92160
    return z + g1 / df + g2 / df ** 2 + g3 / df ** 3 + g4 / df ** 4


def _bands(curves: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per trial: the mean over runs and its confidence band (runs without a value left out)."""
    ok = ~np.isnan(curves)
    n = ok.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(n > 0, np.nansum(curves, axis=0) / np.maximum(n, 1), np.nan)
        dev = np.where(ok, curves - mean, 0.0)
        std = np.sqrt((dev ** 2).sum(axis=0) / np.maximum(n - 1, 1))
        t = np.array([t_quantile(0.5 + confidence / 2, int(k) - 1) if k > 1 else np.nan for k in n])
        half = t * std / np.sqrt(np.maximum(n, 1))
    return mean, mean - half, mean + half


def _check_factory(name: str, factory: Any, seed: int) -> None:
    if not callable(factory):
        raise SymbolicTypeError(
            f"algorithm {name!r}: expected a factory taking the seed, got {type(factory).__name__}; "
            f"write {{{name!r}: lambda seed: ...(seed=seed)}}")
    try:
        inspect.signature(factory).bind(seed)
    except TypeError:
        raise SymbolicTypeError(
            f"algorithm {name!r}: its factory must take the seed as its one argument, e.g. "
            f"lambda seed: sb.algorithms.TPE(seed=seed)") from None
    except ValueError:  # no signature (some builtins): the call below tells
        pass
    algo = factory(seed)
    if not isinstance(algo, Algorithm):
        raise SymbolicTypeError(
            f"algorithm {name!r}: its factory returned {type(algo).__name__}, not an "
            "sb.algorithms.Algorithm")


def _seeds(seeds: int | Sequence[int]) -> list[int]:
    if isinstance(seeds, bool):
        raise SymbolicValueError(f"seeds must be an int >= 1 or a list of ints, got {seeds!r}")
    if isinstance(seeds, int):
        if seeds < 1:
            raise SymbolicValueError(f"seeds must be >= 1, got {seeds}")
        return list(range(seeds))
    out = list(seeds)
    if not out or not all(isinstance(s, int) and not isinstance(s, bool) for s in out):
        raise SymbolicValueError(f"seeds must be an int >= 1 or a non-empty list of ints, got {seeds!r}")
    if len(set(out)) != len(out):
        raise SymbolicValueError(f"seeds must be distinct, got {out}")
    return out


def _budgets(budgets: Sequence[int] | None, num_trials: int) -> list[int]:
    if budgets is None:
        return sorted({b for b in DEFAULT_BUDGETS if b <= num_trials} | {num_trials})
    out = sorted({int(b) for b in budgets})
    bad = [b for b in out if not 1 <= b <= num_trials]
    if bad:
        raise SymbolicValueError(f"budgets must be in [1, {num_trials}], got {bad}")
    return out


def _float(value: Any) -> float:
    if value is None:
        return math.nan
    if isinstance(value, (tuple, list)):
        value = value[0]
    return float(value)


def _fmt(value: float) -> str:
    return "nan" if math.isnan(value) else f"{value:.4g}"


class _NoBar:
    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


def _bar(enabled: bool, total: int) -> Any:
    if not enabled:
        return _NoBar()
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="compare", unit="run")
