"""Rewards as objectives give them, checked once before anything records them.

>>> check_reward(0.5, 1)
(0.5, None)
>>> check_reward(10 ** 400, 1)[1]
'the objective returned an int too large for a float (1000000000...); rewards must be finite'
>>> check_reward((1, 2.5), 2)
((1.0, 2.5), None)
"""

from __future__ import annotations

import math
from typing import Any

Reward = float | tuple[float, ...]


def check_reward(value: Any, num_objectives: int) -> tuple[Reward | None, str | None]:
    """Validates an objective's value: returns (reward, None) or (None, the reason it is not
    one). A reward is a finite number (ints, numpy and torch scalars convert), or a tuple or
    list of ``num_objectives`` of them."""
    values = value if isinstance(value, (tuple, list)) else (value,)
    if len(values) != num_objectives:
        return None, (f"expected {num_objectives} objective value(s), got {len(values)}: "
                      f"{_short(value)}")
    out = []
    for v in values:
        number, error = _number(v)
        if error is not None:
            return None, error
        out.append(number)
    return (tuple(out) if num_objectives > 1 else out[0]), None


def _number(v: Any) -> tuple[float, str | None]:
    if isinstance(v, bool) or not (isinstance(v, (int, float)) or hasattr(v, "__float__")):
        return 0.0, f"the objective returned {type(v).__name__} {_short(v)}; expected a number"
    try:
        number = float(v)
    except OverflowError:
        return 0.0, (f"the objective returned an int too large for a float ({_short(v, 10)}...); "
                     "rewards must be finite")
    except (TypeError, ValueError) as e:
        return 0.0, f"the objective returned {type(v).__name__} {_short(v)}: {e}"
    if not math.isfinite(number):
        return 0.0, f"the objective returned {number}; rewards must be finite"
    return number, None


def _short(value: Any, limit: int = 60) -> str:
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - a repr that raises (or an int too long to print)
        text = f"<{type(value).__name__}>"
    return text[:limit]


def reward_to_json(reward: Reward | None) -> Any:
    """A reward as JSON data: a float, a list of floats, or None."""
    return list(reward) if isinstance(reward, tuple) else reward
