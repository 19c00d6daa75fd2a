"""The global random states a resumed search restores (torch, CUDA, Python, NumPy).

>>> import torch
>>> from symbo.backends.torch.random_state import global_rng_state, set_global_rng_state
>>> state = global_rng_state(); a = torch.rand(1)
>>> set_global_rng_state(state); bool(torch.rand(1) == a)
True
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

import torch


def global_rng_state() -> dict[str, Any]:
    """torch's, CUDA's, Python's and NumPy's random states."""
    state: dict[str, Any] = {"torch": torch.get_rng_state(), "python": random.getstate()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    try:
        import numpy as np

        kind, keys, pos, has_gauss, cached = np.random.get_state()
        # plain values, so torch.load(weights_only=True) (its default) reads a saved state
        state["numpy"] = (str(kind), [int(k) for k in keys], int(pos), int(has_gauss), float(cached))
    except ImportError:  # pragma: no cover - numpy is a dependency of symbo
        pass
    return state


def set_global_rng_state(state: Mapping[str, Any]) -> None:
    """Restores what :func:`global_rng_state` saved."""
    if "torch" in state:
        value = state["torch"]
        torch.set_rng_state(value.cpu() if isinstance(value, torch.Tensor) else value)
    if "python" in state:
        random.setstate(state["python"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    if "numpy" in state:
        import numpy as np

        kind, keys, pos, has_gauss, cached = state["numpy"]
        np.random.set_state((kind, np.asarray(keys, dtype=np.uint32), pos, has_gauss, cached))


__all__ = ["global_rng_state", "set_global_rng_state"]
