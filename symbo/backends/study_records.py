"""Reading a study's stored records back as trials: each cell checked (a corrupted one is a
StorageError naming the study, trial and column), the larger ones (params, the program's JSON)
decoded when first read, programs materialized when first read.

>>> import symbo as sb
>>> study = sb.tune(lambda p: p.x, sb.Dict(x=sb.int_range(0, 3, name="x")),
...                 sb.algorithms.Grid(), num_trials=2)
>>> record = study.storage.get_trials(study.info.id)[1]
>>> trial = trial_from_record(study, record)
>>> trial.id, trial.params, trial.program.x
(1, {'x': 1}, 1)
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from symbo.backends.enqueue import is_partial
from symbo.backends.storage import Deferred, StorageError, TrialRecord, dna_from_json
from symbo.backends.storage.base import FINISHED, reward_from_json
from symbo.backends.trial import Trial
from symbo.core import SymbolicError, from_json
from symbo.dsl import DNA, DNASpec, materialize
from symbo.dsl.dna import validate

if TYPE_CHECKING:
    from symbo.backends.study import Study


def trial_from_record(study: Study, record: TrialRecord,
                      trial_dna: Callable[..., DNA] | None = None) -> Trial:
    """The trial of ``study`` that a stored record holds: its DNA, status and reward decoded
    and checked now (a resumed search needs them), its params and program when first read.
    ``trial_dna(number, params)`` (a define-by-run space's) derives the DNA from the params.
    StorageError naming the study, trial and column for a cell that cannot be read."""
    place = f"{study.storage.url}: study {study.name!r}, trial {record.number}"
    try:
        dna = dna_from_json(record.dna_json)
    except (StorageError, RecursionError) as e:
        raise StorageError(f"{place}: column 'dna' is corrupted ({e}); the other records are "
                           "intact") from None
    try:
        reward = reward_from_json(record.reward)
    except StorageError as e:
        raise StorageError(f"{place}: column 'reward' is corrupted ({e}); the other records "
                           "are intact") from None
    params: Any = record.cell("params")
    if trial_dna is not None:  # a define-by-run space: the DNA is read from the params
        params = record.params
        if params:
            try:
                dna = trial_dna(record.number, params)
            except SymbolicError:
                pass
    if study.spec is not None:
        if record.status == "pending" and is_partial(dna, study.spec):
            pass  # enqueued with some decisions: completed when it starts
        elif trial_dna is None:  # (a growing space's trials are re-derived from their params)
            try:
                validate(study.spec, dna)
            except SymbolicError as e:
                raise StorageError(f"{place}: column 'dna' does not fit the study's space "
                                   f"({e}); the other records are intact") from None
        dna = DNA(dna.value, dna.children, study.spec)
        if dna.children:  # a file of schema version 1 has no params: those of the DNA
            params = Deferred(functools.partial(params_or_dna, params, dna, study.spec))
    old = study._trials.get(record.number)
    trial = Trial(record.number, dna, None, record.status, reward, record.error,
                  list(record.reports), record.started_at, record.finished_at, record.worker,
                  record.heartbeat_at, params=params, user_attrs=dict(record.user_attrs))
    if old is not None and old._program is not None:
        trial.program = old._program
    else:
        trial._load = program_loader(study, record.number, dna, record.cell("program_json"),
                                     params if record.status in FINISHED else None)
    return trial


def program_loader(study: Study, number: int, dna: DNA, program_json: Any, met: Any = None
                   ) -> Callable[[], tuple[Any, str | None]]:
    """What makes a trial's program when it is first read: materialized from its DNA when the
    space is known here (a define-by-run trial that ran: from the decisions it met, ``met``),
    else from its stored JSON; ``(None, why)`` when neither can be."""
    space, spec, where, space_error = study.space, study.spec, study.where, study.space_error
    # a define-by-run trial that ran: its program holds the decisions its run met only
    trial_program = getattr(space, "trial_program", None) \
        if met is not None and where is None else None

    def load() -> tuple[Any, str | None]:
        error = None
        if space is not None and spec is not None:
            try:
                ran = Deferred.resolve(met) if trial_program is not None else None
                if ran:  # (params, decoded now: StorageError for a corrupted cell)
                    return trial_program(dna, ran), None
                return materialize(space, dna, spec=spec, where=where, check=False), None
            except SymbolicError as e:
                error = f"trial {number}: its DNA does not fit the space: {e}"
        stored = Deferred.resolve(program_json)  # StorageError for a corrupted cell
        if stored is not None:
            try:
                return from_json(stored), None
            except SymbolicError as e:
                error = f"trial {number}: its program cannot be read here: {e}"
        return None, error or space_error or f"trial {number} has no stored program"

    return load


def params_or_dna(stored: Any, dna: DNA, spec: DNASpec) -> dict[str, Any]:
    """A trial's stored params; for a file written before params were stored (schema
    version 1: ``{}``), those of its DNA."""
    params = Deferred.resolve(stored)
    if params:
        return params  # type: ignore[no-any-return]
    try:
        return dna.to_params(spec)
    except SymbolicError:
        return {}
