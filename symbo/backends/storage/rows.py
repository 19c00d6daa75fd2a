"""Reading stored rows back, column by column: a cell that is not what was written raises
:class:`StorageError` naming the study, the trial and the column (never a ``TypeError``,
``ValueError`` or ``OverflowError`` from deep inside).

>>> row = (0, '[null, []]', 'completed', '1.5', None, 1.0, 2.0, 2.0, 'h:1', None, 2.0, '{}', '{}')
>>> decode_trial("sqlite:///s.db", "study 'demo'", row, []).reward
1.5
>>> bad = (0, '[null, []]', 'completed', '"high"', None, 1.0, 2.0, 2.0, 'h:1', None, 2.0, '{}',
...        '{}')
>>> decode_trial("s.db", "study 'demo'", bad, [])
Traceback (most recent call last):
...
symbo.backends.storage.base.StorageError: s.db: study 'demo', trial 0: column 'reward' is corrupted ...

Params and the program's JSON are decoded when they are read (a resumed search never reads
them), and a corrupted one is named then:

>>> odd = (0, '[null, []]', 'completed', '1.5', None, 1.0, 2.0, 2.0, 'h:1', None, 2.0, '[1]',
...        '{}')
>>> record = decode_trial("s.db", "study 'demo'", odd, [])
>>> record.status, record.reward
('completed', 1.5)
>>> record.params
Traceback (most recent call last):
...
symbo.backends.storage.base.StorageError: s.db: study 'demo', trial 0: column 'params' is corrupted ...
"""

from __future__ import annotations

import contextlib
import functools
import gc
import json
import math
from collections.abc import Callable, Iterator
from typing import Any

from symbo.backends.storage.base import (
    STATUSES,
    Deferred,
    StorageError,
    StudyInfo,
    TrialRecord,
    dna_from_json,
    reward_from_json,
)


class _Bad(Exception):
    """A cell that is not what was written (the message says what it is instead)."""


def _json(text: Any) -> Any:
    if text is None:
        return None
    if not isinstance(text, (str, bytes)):
        raise _Bad(f"expected JSON text, got {type(text).__name__}")
    try:
        return json.loads(text)
    except (json.JSONDecodeError, ValueError, RecursionError) as e:
        raise _Bad(str(e)) from None


def _time(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _Bad(f"expected a time in seconds, got {_short(value)}")
    return float(value)


def _text(value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise _Bad(f"expected text, got {type(value).__name__}")
    return value


def _short(value: Any) -> str:
    try:
        return repr(value)[:40]
    except ValueError:
        return f"<{type(value).__name__}>"


def _cell(url: str, place: str, column: str, fn: Callable[[Any], Any], value: Any) -> Any:
    try:
        return fn(value)
    except (_Bad, StorageError, TypeError, ValueError, OverflowError, RecursionError) as e:
        raise StorageError(f"{url}: {place}: column {column!r} is corrupted ({e}); the "
                           "other records are intact") from None


def _status(value: Any) -> str:
    if value not in STATUSES:
        raise _Bad(f"unknown status {_short(value)}")
    return str(value)


def _dna(value: Any) -> Any:
    data = _json(value)
    if not (isinstance(data, list) and len(data) == 2 and isinstance(data[1], list)):
        dna_from_json(data)  # raises StorageError saying what is wrong (the rest: when decoded)
    return data


def _reward(value: Any) -> Any:
    data = _json(value)
    reward_from_json(data)
    return data


def _params(value: Any) -> dict[str, Any]:
    data = _json(value)
    if not isinstance(data, dict):
        raise _Bad("not a JSON object")
    return data


def _reports(rows: list[tuple[Any, Any]]) -> list[tuple[int, float]]:
    out = []
    for step, value in rows:
        if isinstance(step, bool) or not isinstance(step, int):
            raise _Bad(f"a step of {_short(step)}")
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not math.isfinite(value):
            raise _Bad(f"the value {_short(value)} at step {step}")
        out.append((step, float(value)))
    return out


def decode_trial(url: str, study: str, row: tuple, reports: list[tuple[Any, Any]]) -> TrialRecord:
    """A trials row (``number, dna, status, reward, error, started_at, finished_at,
    heartbeat_at, worker, program_json, updated_at, params, user_attrs``) and its reports as a
    record.

    The cells every reader needs are checked now; ``params`` and ``program_json`` (the
    larger ones, which a resumed search does not read) are :class:`Deferred`: decoded, and
    checked, when they are first read."""
    (number, dna, status, reward, error, started, finished, heartbeat, worker, program,
     updated, params, user_attrs) = row
    if isinstance(number, bool) or not isinstance(number, int):
        raise StorageError(f"{url}: {study}: a trial's column 'number' is corrupted "
                           f"({_short(number)}); the other records are intact")
    place = f"{study}, trial {number}"

    def cell(column: str, fn: Callable[[Any], Any], value: Any) -> Any:
        return _cell(url, place, column, fn, value)

    def later(column: str, fn: Callable[[Any], Any], value: Any) -> Any:
        if value is None and column == "program_json":
            return None
        return Deferred(functools.partial(_cell, url, place, column, fn, value))

    if _plain(status, error, started, finished, heartbeat, worker, updated):
        # (the common case, checked at once; any doubt goes through the cell checks below)
        return TrialRecord(
            number, cell("dna", _dna, dna), status, cell("reward", _reward, reward), error,
            cell("reports", _reports, reports) if reports else [], started, finished, heartbeat,
            worker, later("program_json", _json, program), updated,
            later("params", _params, params), _attrs(cell, user_attrs))
    return TrialRecord(
        number, cell("dna", _dna, dna), cell("status", _status, status),
        cell("reward", _reward, reward), cell("error", _text, error),
        cell("reports", _reports, reports), cell("started_at", _time, started),
        cell("finished_at", _time, finished), cell("heartbeat_at", _time, heartbeat),
        cell("worker", _text, worker), later("program_json", _json, program),
        cell("updated_at", _time, updated) or 0.0, later("params", _params, params),
        _attrs(cell, user_attrs))


def _attrs(cell: Callable[[str, Callable[[Any], Any], Any], Any], value: Any) -> dict[str, Any]:
    """A trial's user attrs (most trials have none: ``'{}'``, read without decoding)."""
    return {} if value == "{}" else cell("user_attrs", _params, value)  # type: ignore[no-any-return]


_STATUSES = frozenset(STATUSES)


def _plain(status: Any, error: Any, started: Any, finished: Any, heartbeat: Any, worker: Any,
           updated: Any) -> bool:
    """Whether a row's small cells are what was written (a known status, text or NULL,
    finite times as floats) without looking at each on its own."""
    if type(status) is not str or status not in _STATUSES or type(updated) is not float \
            or not (error is None or type(error) is str) \
            or not (worker is None or type(worker) is str):
        return False
    for t in (started, finished, heartbeat, updated):
        if t is not None and (type(t) is not float or t - t != 0.0):  # (inf - inf is nan)
            return False
    return True


def decode_study(url: str, row: tuple) -> StudyInfo:
    """A studies row (``id, name, objectives, space_json, space_text, algorithm_json,
    created_at, num_trials``) as a StudyInfo."""
    sid, name, objectives, space_json, space_text, algorithm_json, created_at, num_trials = row
    place = f"study {name!r}"

    def cell(column: str, fn: Callable[[Any], Any], value: Any) -> Any:
        return _cell(url, place, column, fn, value)

    directions = cell("objectives", _objectives, objectives)
    budget = cell("num_trials", _budget, num_trials)
    info = StudyInfo(sid, str(name), directions, cell("space_json", _json, space_json),
                     cell("space_text", _text, space_text),
                     cell("algorithm_json", _json, algorithm_json),
                     cell("created_at", _time, created_at) or 0.0, num_trials=budget)
    if budget is not None:
        info.metadata["num_trials"] = budget
    return info


def _objectives(value: Any) -> tuple[str, ...]:
    data = _json(value)
    if not isinstance(data, list) or not data or any(d not in ("max", "min") for d in data):
        raise _Bad(f"expected a list of 'max'/'min', got {_short(data)}")
    return tuple(data)


def _budget(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _Bad(f"expected a number of trials, got {_short(value)}")
    return value


@contextlib.contextmanager
def bulk() -> Iterator[None]:
    """Reading many records at once (a study's trials, replayed into its algorithm): the
    cyclic garbage collector waits until the block ends, instead of walking the growing heap
    again and again (a third of the time of resuming a 10,000-trial study). Records form no
    reference cycles, so nothing waits to be freed meanwhile. Blocks may nest.

    >>> import gc
    >>> with bulk():
    ...     gc.isenabled()
    False
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
