"""A progress bar with the best value so far (tqdm), for long searches.

>>> from symbo.backends.progress import ProgressBar
>>> bar = ProgressBar(total=3, disable=True)
>>> bar.close()
"""

from __future__ import annotations

from typing import Any


class ProgressBar:
    """Counts finished trials and shows the best reward; ``disable=True`` shows nothing."""

    def __init__(self, total: int | None, *, disable: bool = False, desc: str = "search",
                 initial: int = 0, best: Any = None) -> None:
        try:
            from tqdm.auto import tqdm
        except ImportError:  # tqdm is optional: fall back to silence
            tqdm = None
        self._bar = None if (disable or tqdm is None) else tqdm(total=total, desc=desc, unit="trial",
                                                                dynamic_ncols=True,
                                                                initial=initial)
        self._best: Any = best
        self._failed = 0
        self._show()

    @classmethod
    def for_study(cls, study: Any, total: int | None, **kwargs: Any) -> ProgressBar:
        """A bar that starts from the study's finished trials and their best reward (a
        resumed search goes on counting where it was)."""
        done = [t for t in study.trials if t.is_finished]
        best = None
        if not study.is_multi_objective and study.best_trial is not None:
            best = study.best_trial.reward
        bar = cls(total, initial=len(done), best=best, **kwargs)
        bar._failed = sum(t.status == "failed" for t in done)
        bar._show()
        return bar

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
        self._show()
        self._bar.update(1)

    def _show(self) -> None:
        if self._bar is None:
            return
        postfix: dict[str, Any] = {}
        if self._best is not None:
            postfix["best"] = f"{self._best:.4g}"
        if self._failed:
            postfix["failed"] = self._failed
        self._bar.set_postfix(postfix, refresh=False)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
