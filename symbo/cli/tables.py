"""Tables and summary lines: how the command line (and the demo) print studies.

>>> print(table(["id", "name"], [[1, "a"], [10, "bb"]]))
id  name
--  ----
 1  a
10  bb
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from symbo.backends.plots import skeleton
from symbo.backends.study import Study, Trial
from symbo.core.formatting import format as sym_format


def fmt_value(value: Any) -> str:
    """A short text for a table cell.

    >>> fmt_value(0.000123456), fmt_value(0.98333), fmt_value((1.0, 2.5)), fmt_value(None)
    ('0.0001235', '0.9833', '(1, 2.5)', '-')
    """
    if value is None:
        return "-"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return f"{value:.4g}" if math.isfinite(value) else str(value)
    if isinstance(value, (tuple, list)) and all(isinstance(v, (int, float)) for v in value):
        return "(" + ", ".join(fmt_value(float(v)) for v in value) + ")"
    text = str(value)
    return text if len(text) <= 40 else text[:39] + "…"


def fmt_duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.1f}s"
    return f"{int(seconds // 60)}m{int(seconds % 60):02d}s"


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain-text table; numbers right-aligned.

    >>> print(table(["id", "name"], [[1, "a"], [10, "bb"]]))
    id  name
    --  ----
     1  a
    10  bb
    """
    cells = [[str(c) for c in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        for i, c in enumerate(row):
            widths[i] = max(widths[i], len(c))
    numeric = [all(_is_number(row[i]) for row in cells) and bool(cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        parts = [c.rjust(w) if num else c.ljust(w) for c, w, num in zip(row, widths, numeric)]
        return "  ".join(parts).rstrip()

    out = [line(list(headers)), line(["-" * w for w in widths])]
    out += [line(row) for row in cells]
    return "\n".join(out)


def _is_number(text: str) -> bool:
    if text == "-":
        return True
    try:
        float(text.rstrip("s"))
    except ValueError:
        return False
    return True


def summary_line(study: Study) -> str:
    """``N trials: a completed, b stopped, c failed[, d running]; best R (trial i)``."""
    s = study.summary()
    parts = [f"{s['completed']} completed"]
    parts += [f"{s[k]} {k}" for k in ("stopped", "failed", "running", "pending") if s[k]]
    text = f"{s['trials']} trials: {', '.join(parts)}"
    if not study.is_multi_objective:
        best = study.best_trial
        if best is not None:
            text += f"; best {fmt_value(best.reward)} (trial {best.id})"
    else:
        text += f"; Pareto front of {len(study.pareto_front)}"
    return text


def trials_table(study: Study, trials: Sequence[Trial], *, rank: bool = False) -> str:
    """Trials as a table: number, status, reward, duration and one column per decision with
    its literal value (``trial.params``, as stored: no user code needed), blank where the
    decision was not active in that trial.

    >>> import symbo as sb
    >>> space = sb.Dict(opt=sb.one_of(["adam", sb.Dict(m=sb.float_range(0.5, 0.9, name="m"))],
    ...                               name="opt"))
    >>> study = sb.tune(lambda p: 1.0, space, sb.algorithms.Grid(grid_size=2), num_trials=None)
    >>> print(trials_table(study, study.trials))
    trial  status     reward  duration  opt       m
    -----  ---------  ------  --------  --------  ---
        0  completed       1      0.0s  adam
        1  completed       1      0.0s  {'m': ?}  0.5
        2  completed       1      0.0s  {'m': ?}  0.9
    """
    columns: dict[str, None] = {}
    for t in trials:
        columns.update(dict.fromkeys(t.params))
    headers = (["rank"] if rank else []) + ["trial", "status", "reward", "duration", *columns]
    rows = []
    for i, t in enumerate(trials):
        row: list[Any] = [i + 1] if rank else []
        row += [t.id, t.status, fmt_value(t.reward), fmt_duration(t.duration)]
        row += [_param_cell(t.params[c]) if c in t.params else "" for c in columns]
        rows.append(row)
    return table(headers, rows)


def _param_cell(value: Any) -> str:
    """A param in a table: a candidate that holds decisions of its own shows them as ``?``
    (their values are their own columns).

    >>> _param_cell("{'m': float_range(0.5, 0.9, name='m')}"), _param_cell(0.5)
    ("{'m': ?}", '0.5')
    """
    return fmt_value(skeleton(value) if isinstance(value, str) else value)


def print_best(study: Study, k: int = 5, out: TextIO | None = None) -> None:
    """The ``k`` best trials as a table and the best program (a study with several
    objectives: its Pareto front)."""
    out = out or sys.stdout
    if study.is_multi_objective:
        front = study.pareto_front
        if not front:
            print("\nno completed trials yet", file=out)
            return
        print(f"\nPareto front ({len(front)} trials, objectives {', '.join(study.objectives)}):",
              file=out)
        print(trials_table(study, front), file=out)
        return
    best = study.best_trials(k)
    if not best:
        print("\nno completed trials yet", file=out)
        return
    print(f"\ntop {len(best)} trials (reward: {study.objectives[0]}imize):", file=out)
    print(trials_table(study, best, rank=True), file=out)
    program = best[0].program
    if program is not None:
        print(f"\nbest program (trial {best[0].id}, reward {fmt_value(best[0].reward)}):", file=out)
        print(sym_format(program, hide_default=False), file=out)
