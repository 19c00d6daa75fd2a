"""A study's trials as records, CSV, JSON and a pandas data frame.

Every form has one entry per trial with its number, status, reward(s), each decision as a
literal value (``trial.params``; blank or missing where the decision was not active), times,
reports and error.

>>> import symbo as sb
>>> study = sb.tune(lambda p: p.x * 2, sb.Dict(x=sb.one_of([1, 2], name="x")),
...                 sb.algorithms.Grid(), num_trials=2)
>>> print(to_csv(study.to_records()).splitlines()[0])
id,status,reward,x,duration,worker,error,program
"""

from __future__ import annotations

import csv
import io
import json
import math
from typing import TYPE_CHECKING, Any

from symbo.backends.rewards import reward_to_json
from symbo.core import SymbolicValueError
from symbo.core.formatting import format as sym_format

if TYPE_CHECKING:
    from symbo.backends.study import Study


def records(study: Study) -> list[dict[str, Any]]:
    """One JSON-compatible dict per trial: ``number`` (and ``id``, the same), status, reward,
    ``params`` (the decisions as literal values, as stored: readable without the space),
    ``dna`` (its numbers), the program's text, reports, timings, worker and error."""
    out = []
    for t in study.trials:
        program = t.program
        out.append({
            "number": t.id, "id": t.id, "status": t.status, "reward": reward_to_json(t.reward),
            "params": dict(t.params), "dna": t.dna.to_numbers(),
            "program": None if program is None else sym_format(program, compact=True),
            "reports": [list(r) for r in t.reports], "started_at": t.started_at,
            "finished_at": t.finished_at, "duration": t.duration, "worker": t.worker,
            "error": t.error,
        })
    return out


def to_json_text(study: Study) -> str:
    """The study's name, objectives and trial records as JSON text."""
    return json.dumps({"study": study.name, "objectives": list(study.objectives),
                       "trials": records(study)}, indent=2)


def to_csv(rows: list[dict[str, Any]]) -> str:
    """Records as CSV: one column per decision, blank where it was not active."""
    keys: dict[str, None] = {}
    for r in rows:
        keys.update(dict.fromkeys(r["params"]))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", "status", "reward", *keys, "duration", "worker", "error", "program"])
    for r in rows:
        params = r["params"]
        reward = r["reward"]
        writer.writerow([r["number"], r["status"], "" if reward is None else json.dumps(reward),
                         *(_cell(params[k]) if k in params else "" for k in keys),
                         "" if r["duration"] is None else f"{r['duration']:.6f}", r["worker"] or "",
                         (r["error"] or "").strip().splitlines()[-1] if r["error"] else "",
                         r["program"] or ""])
    return out.getvalue()


def _cell(value: Any) -> str:
    """A param in a CSV cell: numbers and strings as they are, lists and dicts as JSON."""
    if isinstance(value, float) and math.isfinite(value):
        return repr(value)
    return json.dumps(value) if isinstance(value, (list, dict)) else str(value)


#: Optuna's names of trial states, for the ``state`` column of the data frame
OPTUNA_STATES = {"completed": "COMPLETE", "stopped": "PRUNED", "failed": "FAIL",
                 "running": "RUNNING", "pending": "WAITING"}


def data_frame(study: Study) -> Any:
    """The trials as a pandas DataFrame, one row per trial (see
    :meth:`symbo.Study.trials_dataframe` for the columns)."""
    try:
        import pandas as pd
    except ImportError:
        raise SymbolicValueError(
            "trials_dataframe needs pandas: pip install 'symbo[pandas]' (or pip install pandas)"
        ) from None
    trials = study.trials
    k = len(study.objectives)
    rewards = ["reward"] if k == 1 else [f"reward_{i}" for i in range(k)]
    values = ["value"] if k == 1 else [f"values_{i}" for i in range(k)]
    keys: dict[str, None] = {}
    attr_keys: dict[str, None] = {}
    for t in trials:
        keys.update(dict.fromkeys(t.params))
        attr_keys.update(dict.fromkeys(t.user_attrs))
    rows = []
    for t in trials:
        if t.reward is None:
            reward: tuple[Any, ...] = (None,) * k
        else:
            reward = t.reward if isinstance(t.reward, tuple) else (t.reward,)
        row: dict[str, Any] = {"number": t.id, "status": t.status,
                               "state": OPTUNA_STATES.get(t.status, t.status)}
        for name, alias, v in zip(rewards, values, reward):
            row[name] = row[alias] = v
        for key in keys:
            row[f"params_{key}"] = t.params.get(key)
        for key in attr_keys:
            row[f"user_attrs_{key}"] = t.user_attrs.get(key)
        row["datetime_start"] = _when(t.started_at)
        row["datetime_complete"] = _when(t.finished_at)
        row["duration"] = pd.Timedelta(seconds=t.duration) if t.duration is not None else pd.NaT
        row["reports"] = list(t.reports)
        row["worker"] = t.worker
        row["error"] = _last_line(t.error)
        rows.append(row)
    columns = ["number", "status", "state", *rewards, *values, *(f"params_{key}" for key in keys),
               *(f"user_attrs_{key}" for key in attr_keys), "datetime_start", "datetime_complete",
               "duration", "reports", "worker", "error"]
    return pd.DataFrame(rows, columns=columns)


def _when(seconds: float | None) -> Any:
    import pandas as pd

    return pd.NaT if seconds is None else pd.Timestamp(seconds, unit="s")


def _last_line(error: str | None) -> str | None:
    if not error:
        return None
    lines = error.strip().splitlines()
    return lines[-1] if lines else None
