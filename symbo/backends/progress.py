"""A progress bar with the best value so far (tqdm), for long searches.

>>> from symbo.backends.progress import ProgressBar
>>> bar = ProgressBar(total=3, disable=True)
>>> bar.close()
"""

from __future__ import annotations

from typing import Any


class ProgressBar:
    """Counts finished trials and shows the best reward; ``disable=True`` shows nothing."""

    def __init__(self, total: int | None, *, disable: bool = False, desc: str = "search") -> None:
        try:
            from tqdm.auto import tqdm
        except ImportError:  # tqdm is optional: fall back to silence
            tqdm = None
        self._bar = None if (disable or tqdm is None) else tqdm(total=total, desc=desc, unit="trial",
                                                                dynamic_ncols=True)
        self._best: Any = None
        self._failed = 0

    def update(self, feedback: Any) -> None:
        if self._bar is None:
            return
        trial = feedback.trial
        study = feedback.study
        if trial.status == "failed":
            self._failed += 1
        elif trial.reward is not None and not study.is_multi_objective:
            if self._best is None or study.signed(trial.reward) > study.signed(self._best):
                self._best = trial.reward
        postfix = {}
        if self._best is not None:
            postfix["best"] = f"{self._best:.4g}"
        if self._failed:
            postfix["failed"] = self._failed
        self._bar.set_postfix(postfix, refresh=False)
        self._bar.update(1)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
