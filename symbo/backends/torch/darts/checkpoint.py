"""State dicts of searches: everything a search needs to go on as if it had never stopped.

A state holds the supernet's weights, every decision's alpha, the weight and architecture
optimizers, the schedule, the sampling generator, the epoch and step counters, the history and
the best epoch so far, decisions fixed by perturbation selection, and the global random states
(torch's, CUDA's, Python's and NumPy's: shuffling loaders and dropout go on as in one run).
``load_state_dict`` restores them all, the global states included; a fresh object built with
the same space and settings restores without a search call first.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from symbo.backends.torch.random_state import global_rng_state, set_global_rng_state

STATE_VERSION = 1


def check_keys(what: str, expected: list[str], got: list[str]) -> None:
    """Raises ``ValueError`` when a state's decisions are not this search's."""
    if sorted(expected) != sorted(got):
        theirs = sorted(set(got) - set(expected))
        ours = sorted(set(expected) - set(got))
        raise ValueError(
            f"this state is from another space: {what} has decisions {theirs} where this search has "
            f"{ours}; build the search with the space (and settings) the state was saved from")


class CheckpointMixin:
    """``state_dict``/``load_state_dict`` (mixed into :class:`~symbo.backends.torch.darts.DARTS`)."""

    def state_dict(self) -> dict[str, Any]:
        """Everything the search needs to continue (see the module docstring); ``torch.save`` it.

        >>> import torch, symbo as sb
        >>> from symbo.backends import torch as sbt
        >>> space = sb.one_of([sbt.nn.Linear(2, 2), sbt.nn.Sequential(sbt.nn.Linear(2, 2), sbt.nn.ReLU())])
        >>> darts = sbt.DARTS(space, seed=0, device="cpu")
        >>> data = [(torch.randn(8, 2), torch.randint(0, 2, (8,)))]
        >>> _ = darts.search(data, data, epochs=1)
        >>> other = sbt.DARTS(space, seed=0, device="cpu")
        >>> other.load_state_dict(darts.state_dict())
        >>> other.alphas() == darts.alphas() and other.epoch == 1
        True
        """
        if self.supernet is None:  # type: ignore[attr-defined]
            raise ValueError("nothing to save yet: the supernet is built by the first search() "
                             "(or setup())")
        relax = self.relaxation  # type: ignore[attr-defined]
        arch_opt = self._arch_opt  # type: ignore[attr-defined]
        best = self._best  # type: ignore[attr-defined]
        return {
            "version": STATE_VERSION,
            "kind": type(self).__name__,
            "device": str(self.device),  # type: ignore[attr-defined]
            "epoch": self.epoch,  # type: ignore[attr-defined]
            "step": self._step,  # type: ignore[attr-defined]
            "supernet": self.supernet.state_dict(),  # type: ignore[attr-defined]
            "alphas": {k: d.alpha.detach().clone() for k, d in self.decisions.items()  # type: ignore[attr-defined]
                       if d.alpha is not None},
            "alpha_start": {k: v.clone() for k, v in self._alpha_start.items()},  # type: ignore[attr-defined]
            "weights": self.trainer.state_dict(),  # type: ignore[attr-defined]
            "arch_optimizer": None if arch_opt is None else arch_opt.state_dict(),
            "generator": relax.generator.get_state(),
            "fixed": dict(relax.fixed),
            "temperature": relax.temperature,
            "history": [dict(h) for h in self.history],  # type: ignore[attr-defined]
            "best": None if best is None else (best[0], best[1], {k: v.clone() for k, v in best[2].items()}),
            "rng": global_rng_state(),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restores a :meth:`state_dict` (building the supernet first when needed), so that
        ``alphas()``, ``derive()`` and a continued ``search`` work as in the saved object."""
        if state.get("kind") not in (None, type(self).__name__) or "alphas" not in state:
            raise ValueError(f"not a {type(self).__name__} state dict (kind {state.get('kind')!r})")
        if self.supernet is None:  # type: ignore[attr-defined]
            self.setup(self.device or state.get("device"), lazy_ok=True)  # type: ignore[attr-defined]
        decisions = self.decisions  # type: ignore[attr-defined]
        expected = [k for k, d in decisions.items() if d.alpha is not None]
        check_keys("the state", expected, list(state["alphas"]))
        self.supernet.load_state_dict(state["supernet"])  # type: ignore[attr-defined]
        with torch.no_grad():
            for key, value in state["alphas"].items():
                decisions[key].alpha.copy_(value)
        self._alpha_start = {k: v.clone() for k, v in state.get("alpha_start", {}).items()}  # type: ignore[attr-defined]
        self.trainer.load_state_dict(state["weights"])  # type: ignore[attr-defined]
        if self._arch_opt is not None and state.get("arch_optimizer") is not None:  # type: ignore[attr-defined]
            self._arch_opt.load_state_dict(state["arch_optimizer"])  # type: ignore[attr-defined]
        relax = self.relaxation  # type: ignore[attr-defined]
        relax.generator.set_state(state["generator"])
        relax.fixed = {k: tuple(v) for k, v in state.get("fixed", {}).items()}
        relax.temperature = state.get("temperature", relax.temperature)
        self.epoch = int(state["epoch"])  # type: ignore[attr-defined]
        self._step = int(state["step"])  # type: ignore[attr-defined]
        self.trainer.set_step(self._step)  # type: ignore[attr-defined]
        self.history = [dict(h) for h in state.get("history", [])]  # type: ignore[attr-defined]
        best = state.get("best")
        self._best = None if best is None else (best[0], best[1], dict(best[2]))  # type: ignore[attr-defined]
        self.result = None  # type: ignore[attr-defined]
        if "rng" in state:
            set_global_rng_state(state["rng"])


__all__ = ["CheckpointMixin", "check_keys"]
