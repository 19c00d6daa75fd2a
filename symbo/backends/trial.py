"""A trial: one evaluation of one point of a study's space, as the study records it.

>>> import symbo as sb
>>> study = sb.tune(lambda p: p.x, sb.Dict(x=sb.int_range(0, 3, name="x")),
...                 sb.algorithms.Grid(), num_trials=2)
>>> trial = study.trials[1]
>>> trial.number, trial.status, trial.params, trial.reward, trial.is_finished
(1, 'completed', {'x': 1}, 1.0, True)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

from symbo.algorithms.base import Reward
from symbo.backends.storage import Deferred
from symbo.backends.storage.base import FINISHED
from symbo.dsl import DNA


@attrs.define(eq=False)
class Trial:
    """One evaluation of one point of the space.

    ``params`` are its decisions as literal values, ``{decision name (or id when unnamed):
    value}`` (``64``, not the index ``1``; the formatted text of candidates that are not plain
    data), stored with the trial so that a reader without the user's code sees them;
    ``sb.DNA.from_params(spec, trial.params)`` gives the DNA back. ``reward`` is the
    objective's value as the user gave it (a float, or a tuple with several objectives);
    ``reports`` are intermediate ``(step, value)`` measurements. ``program`` is materialized
    from the DNA when first read. ``user_attrs`` are the JSON values an Optuna-style
    objective set with ``trial.set_user_attr(key, value)``.

    >>> import symbo as sb
    >>> study = sb.tune(lambda p: p.batch, sb.Dict(batch=sb.one_of([32, 64], name="batch")),
    ...                 sb.algorithms.Grid(), num_trials=2)
    >>> [t.params for t in study.trials]
    [{'batch': 32}, {'batch': 64}]
    """

    id: int
    dna: DNA
    _program: Any = attrs.field(default=None, alias="program")
    status: str = "pending"
    reward: Reward | None = None
    error: str | None = None
    reports: list[tuple[int, float]] = attrs.Factory(list)
    started_at: float | None = None
    finished_at: float | None = None
    worker: str | None = None
    heartbeat_at: float | None = None
    metadata: dict[str, Any] = attrs.Factory(dict)
    _params: Any = attrs.field(factory=dict, alias="params")  # a dict, or a Deferred cell
    user_attrs: dict[str, Any] = attrs.Factory(dict)
    _program_error: str | None = attrs.field(default=None, alias="program_error")
    _load: Callable[[], tuple[Any, str | None]] | None = attrs.field(default=None, alias="load",
                                                                     repr=False)

    @property
    def params(self) -> dict[str, Any]:
        """The trial's decisions as literal values (decoded from the storage when first
        read: StorageError naming the study, trial and column if that cell is corrupted)."""
        params = self._params
        if type(params) is Deferred:
            self._params = params = params.value()
        return params  # type: ignore[no-any-return]

    @params.setter
    def params(self, value: dict[str, Any]) -> None:
        self._params = value

    @property
    def program(self) -> Any:
        """The program of this trial, made from its DNA when first read (None when it cannot
        be made here: :attr:`program_error` says why; StorageError when its stored JSON is
        corrupted)."""
        if self._program is None and self._load is not None:
            self._program, self._program_error = self._load()  # (a raise keeps the loader)
            self._load = None
        return self._program

    @program.setter
    def program(self, value: Any) -> None:
        self._program, self._load, self._program_error = value, None, None

    @property
    def program_error(self) -> str | None:
        """Why :attr:`program` is None (e.g. a type not imported here); None when it is not."""
        if self.program is not None:
            return None
        return self._program_error

    @property
    def number(self) -> int:
        """The trial's number in its study (Optuna's name for ``id``)."""
        return self.id

    @property
    def duration(self) -> float | None:
        """Seconds from start to finish (None while it runs)."""
        if self.started_at is None or self.finished_at is None:
            return None
        return self.finished_at - self.started_at

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED

    @property
    def last_report(self) -> tuple[int, float] | None:
        return self.reports[-1] if self.reports else None

    def __repr__(self) -> str:
        reward = "" if self.reward is None else f", reward={self.reward!r}"
        error = "" if self.error is None else f", error={self.error.strip().splitlines()[-1][:60]!r}"
        return f"Trial(id={self.id}, status={self.status!r}{reward}{error}, dna={self.dna!r})"
