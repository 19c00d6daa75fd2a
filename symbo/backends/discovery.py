"""Define-by-run studies: spaces that grow while trials run.

``sb.tune(objective)`` with no space runs the user's own code: an objective with no argument
calls named markers inline; one with one argument gets an Optuna-style trial
(:class:`~symbo.backends.live_trial.LiveTrial`). A traced space (``sb.trace(fn)``) runs the
same way, starting from what the trace found. The protocol:

1. The algorithm proposes a DNA of the space known so far (the decisions of earlier trials).
2. The trial runs; each marker it meets gets the proposed decision. A marker met for the
   first time (or where the tree said it was inactive) is decided at once, at random (the
   same draw in every process, seeded per trial and name): no extra run of the objective.
3. When the trial ends, the markers it met come back with the outcome. New decisions join
   the study's space, stored with the study (a name with a different definition, or met
   under another parent, fails that trial with an error naming it; the study goes on). The
   trial's ``params`` are exactly the markers it met.
4. The decisions are placed in a tree from the trials' evidence
   (:mod:`symbo.dsl.trace_tree`): a decision met only under some candidates of a choice is
   a conditional decision under them. Each trial's DNA in the current tree is read from its
   params (decisions it did not meet, but that the tree has active, get a fixed random
   filler).
5. When the tree changes, the algorithm is set up on the new spec and told every finished
   trial again (their DNA in the new tree), exactly as when a study is resumed; running
   trials are its pending proposals. This is the whole algorithm side of a growing space, so
   every algorithm works with one (see ``README.md``, "Define-by-run", for what each one does
   with a decision first seen mid-study).

Other processes read the space from the study (``sb.load_study``) and the trials' DNA from
their params.
"""

from __future__ import annotations

import inspect
import logging
import random
import time
from typing import TYPE_CHECKING, Any

import attrs

from symbo.algorithms.base import Algorithm
from symbo.backends.executors import Task
from symbo.backends.live_trial import LiveTrial
from symbo.backends.loop import COORDINATORS, Coordinator, Feedback, Run
from symbo.backends.storage import StorageError
from symbo.core import Dict, SymbolicValueError, from_json, to_json
from symbo.core.formatting import format as sym_format
from symbo.dsl import DNA
from symbo.dsl.trace import TracedProgram, TracedSpace, run_record
from symbo.dsl.trace_run import Met, fingerprint, is_choice
from symbo.dsl.trace_tree import Placements

if TYPE_CHECKING:
    from symbo.backends.study import Study, Trial

logger = logging.getLogger("symbo")


# ---- the objective, as executors call it --------------------------------------------------------
def objective_kind(objective: Any, traced: bool) -> str:
    """How a define-by-run objective is called: ``"call"`` (no argument: it calls markers
    inline), ``"trial"`` (one argument: an Optuna-style trial), or for a traced space
    ``"program"``/``"program+feedback"`` (it calls the program itself)."""
    from symbo.backends.executors import takes_feedback

    if traced:
        return "program+feedback" if takes_feedback(objective) else "program"
    try:
        params = list(inspect.signature(objective).parameters.values())
    except (TypeError, ValueError):
        return "trial"
    required = [p for p in params if p.default is p.empty
                and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if len(required) > 1:
        raise SymbolicValueError(
            f"an objective without a space takes no argument (it calls named markers) or one "
            f"(an Optuna-style trial); {getattr(objective, '__name__', objective)!r} takes "
            f"{len(required)}")
    return "trial" if required else "call"


def discovered_space(objective: Any) -> TracedSpace:
    """The (empty) space of ``sb.tune(objective)`` given no space."""
    if not callable(objective):
        raise SymbolicValueError(f"the objective must be a function, got {type(objective).__name__}")
    objective_kind(objective, traced=False)  # takes no argument, or one
    return TracedSpace(discovered=True)


def define_by_run_task(objective: Any, study: Any, catch: tuple[type[BaseException], ...]) -> Task:
    """The task of a define-by-run study (the objective wrapped, see :func:`objective_kind`)."""
    space = study.space
    kind = objective_kind(objective, traced=not space.discovered)
    return DefineByRunTask(DefineByRunObjective(objective, kind), space, study.spec, study.where,
                           tuple(catch))


class DefineByRunObjective:
    """Calls the user's objective on a trial's program (see :func:`objective_kind`)."""

    def __init__(self, objective: Any, kind: str) -> None:
        self.objective = objective
        self.kind = kind

    def __call__(self, program: TracedProgram, feedback: Any) -> Any:
        if self.kind == "program":
            return self.objective(program)
        if self.kind == "program+feedback":
            return self.objective(program, feedback)
        with program.apply():
            if self.kind == "call":
                return self.objective()
            return self.objective(LiveTrial(program, feedback))


@attrs.frozen
class DefineByRunTask(Task):
    """A task whose program is made from what the coordinator decided (the space in the
    worker may be older than the study's), and whose record is what the run met."""

    def payload(self, feedback: Any) -> Any:
        program = feedback.program
        return {"nodes": {k: _to_json(n) for k, n in program.nodes.items()},
                "seed": program.seed, "known": program.known, "scopes": program.scopes,
                "enqueued": dict(program.__dict__.get("_enqueued") or {})}

    def program(self, dna: DNA, payload: Any) -> Any:
        fn = getattr(self.objective, "objective", self.objective)
        return TracedProgram.of(fn, payload["nodes"], new_markers="decide", seed=payload["seed"],
                                known=payload["known"], scopes=payload["scopes"],
                                enqueued=payload.get("enqueued"))

    def record(self, program: Any) -> Any:
        return program_record(program)


def program_record(program: TracedProgram) -> dict[str, Any]:
    """What a define-by-run run met, to send to the coordinator: each key with its definition
    (only where the program did not know it), decision, param, scope and whether the run
    decided it; and the user attrs it set."""
    space = program.__dict__.get("_space")
    known_keys = space.decisions if space is not None else program.__dict__.get("_known", {})
    return {
        "met": [[m.key, None if m.key in known_keys else m.definition, _to_json(m.dna),
                 m.param, m.scope, m.new] for m in program.met],
        "user_attrs": dict(program.user_attrs),
    }


# ---- the coordinator ----------------------------------------------------------------------------
class DefineByRunFeedback(Feedback):
    """A trial's feedback that also takes the run's record (see :class:`DefineByRunTask`);
    where the program ran in this process (``sb.sample``), it reads the record itself."""

    taken = False

    def take_record(self, record: Any, kind: str) -> None:
        self.taken = True
        self._run.take_record(self, record, kind)  # type: ignore[attr-defined]

    def _read_program(self, kind: str) -> None:
        if not self.taken and not self.is_finished and self.program.met:
            self.take_record(program_record(self.program), kind)

    def done(self, reward: Any) -> None:
        self._read_program("done")
        if not self.is_finished:
            super().done(reward)

    def stop(self) -> None:
        self._read_program("stop")
        if not self.is_finished:
            super().stop()

    def fail(self, error: str | BaseException) -> None:
        self._read_program("fail")
        if not self.is_finished:
            super().fail(error)


class DefineByRunRun(Run):
    """The coordinator of a study whose space is a :class:`~symbo.dsl.TracedSpace` that grows
    (see the module docstring)."""

    def __init__(self, study: Study, algorithm: Algorithm, num_trials: int | None,
                 early_stopping: Any = None, dead_trials: str = "retry",
                 heartbeat_timeout: float = 60.0, *, limit: int | None = None) -> None:
        space = study.space
        if not isinstance(space, TracedSpace):
            raise SymbolicValueError(f"a define-by-run study needs a traced space, got "
                                     f"{type(space).__name__}")
        self.study = study
        self._spec_of_trials: Any = None
        self._seeds = random.Random()
        self._nodes: dict[int, dict[str, DNA]] = {}   # the decisions of trials, by number
        self._proposed: dict[int, dict[str, DNA]] = {}  # those of this process's proposals
        self._guessed: dict[int, DNA] = {}  # running trials' DNA as last told to the algorithm
        self._runs: set[int] = set()                  # trials whose evidence is counted
        self._placements = Placements(
            {k: len(m.candidates) for k, m in space.decisions.items() if is_choice(m)},
            dict(space.scopes), {k: (p[0], tuple(p[1])) for k, p in space.parents.items()})
        self._pull_space()
        for trial in study.trials:
            self._count(trial)
        self._regrow(tell=False)
        super().__init__(study, algorithm, num_trials, early_stopping, dead_trials,
                         heartbeat_timeout, limit=limit)
        self._spec_of_algorithm = study.spec

    # ---- hooks of Run --------------------------------------------------------------------------
    def make_program(self, dna: DNA, check: bool) -> Any:
        # markers the DNA does not decide are drawn from this seed: from the algorithm's seed
        # and the proposal's rank when it has one (a seeded search is reproducible)
        seed = getattr(self.algorithm, "seed", None)
        seed = self._seeds.getrandbits(63) if seed is None else \
            f"{seed}/{self.algorithm.num_proposed}"
        return self.space.materialize(dna, check=check, new_markers="decide", seed=seed)

    def initial_params(self, dna: DNA) -> dict[str, Any]:
        return {}  # a trial's params are the markers its run meets

    def _claim_next(self) -> Trial | None:
        # an enqueued trial's given params: its run takes each when it meets that name (a
        # name the space did not know when it was enqueued included)
        trial = super()._claim_next()
        if trial is not None and trial.params:
            trial.program._enqueued = dict(trial.params)
        return trial

    def _complete(self, trial: Trial) -> tuple[DNA | None, DNA]:
        # the DNA of an enqueued trial from the given decisions the tree has now (the others
        # are taken by the run when it meets them)
        spec = self.study.spec
        known = {**spec.by_id, **spec.by_name}
        given = dict(trial.params)
        trial.params = {k: v for k, v in given.items() if k in known}
        try:
            return super()._complete(trial)
        except StorageError:  # (a given decision the tree has inactive under another)
            trial.params = {}
            return super()._complete(trial)
        finally:
            trial.params = given

    def next_feedback(self) -> Feedback | None:
        if self.mine and _enumerates(self.algorithm) and self._placements.undecided():
            # an exhaustive search starts no trial in a tree still being learned: a point
            # proposed now may differ from a running one only in a decision its run will not
            # meet (the same point twice); it waits for the evidence
            return None
        trial = self.next_trial()
        if trial is None:
            return None
        self._proposed[trial.id] = trial.program.nodes  # a running trial's point
        return DefineByRunFeedback(self, trial)

    def more_later(self) -> bool:
        return bool(self.mine)

    def sync(self) -> None:
        fresh = [t for t in self.study.refresh()
                 if t.is_finished and t.id not in self.told and t.id not in self.mine]
        if fresh:
            if any(k not in self.space.decisions for t in fresh for k in t.params):
                self._pull_space()
            for trial in fresh:
                self._count(trial)
            self._regrow()
        for trial in fresh:
            self.told.add(trial.id)
            trial.dna = self.space.trial_dna(trial.id, trial.params, self._nodes.get(trial.id))
            self._tell(trial)

    def save_state(self) -> None:
        # the history of a growing space is read back from the trials (their params), never
        # from numbers of an older spec: no state is saved (the budget is the study's)
        self._saved_at = time.monotonic()
        self.study.storage.save_algorithm_state(
            self.study.info.id, {"state": None, "worker": self.worker})

    @property
    def space(self) -> TracedSpace:
        return self.study.space

    # ---- what a run met -----------------------------------------------------------------------
    def take_record(self, feedback: DefineByRunFeedback, record: Any, kind: str) -> None:
        trial = feedback.trial
        if "error" in record:
            feedback.fail(f"trial {trial.id}: what the run met could not be read back:\n"
                          f"{record['error']}")
            return
        met = [_met(entry, self.space) for entry in record.get("met", [])]
        try:
            self._join(met)
        except SymbolicValueError as e:  # a name redefined, a marker under two parents
            self.study.set_params(trial, {m.key: m.param for m in met},
                                  dict(record.get("user_attrs", {})))
            feedback.fail(f"trial {trial.id}: {e}")
            return
        trial.params = {m.key: m.param for m in met}
        user_attrs = dict(record.get("user_attrs", {}))
        # the decisions it met, and where it met none, those it was proposed with (the
        # algorithm is told its own point, not a filler)
        self._nodes[trial.id] = {**self._proposed.pop(trial.id, {}),
                                 **{m.key: m.dna for m in met}}
        self._placements.add(run_record(met, kind in ("result", "done")))
        self._runs.add(trial.id)
        self._regrow()
        trial.dna = self.space.trial_dna(trial.id, trial.params, self._nodes[trial.id])
        guessed = self._guessed.pop(trial.id, None)
        if guessed is not None and guessed != trial.dna:
            # the algorithm was set up while this trial ran, and took it for another point
            # (the tree had decisions it was not proposed with): tell it what it really was
            self._set_up_algorithm(self.study.spec)
        # its program: the decisions its run met (as another process reads it back), made
        # when first read
        space, dna, params = self.space, trial.dna, dict(trial.params)
        trial.program = None
        trial._load = lambda: (space.trial_program(dna, params), None)
        self.study.set_params(trial, trial.params, user_attrs)

    def _join(self, met: list[Met]) -> None:
        """Adds the decisions first met to the space (checked against what is known)."""
        space = self.space
        known = space.fingerprints()
        new: dict[str, Any] = {}
        scopes: dict[str, str] = {}
        for m in met:
            if m.key in known:
                expected = space.scopes.get(m.key)
                if expected != m.scope:
                    raise SymbolicValueError(
                        f"marker {m.key!r} is met under two different parents: "
                        f"{_where(expected)} and {_where(m.scope)}")
                continue
            if m.definition is None:  # known to the worker, not to us: read the study's space
                self._pull_space()
                if m.key not in self.space.decisions:
                    raise SymbolicValueError(f"marker {m.key!r} is not in the study's space")
                continue
            new[m.key] = m.definition
            if m.scope is not None:
                scopes[m.key] = m.scope
        if new:
            self._add_decisions(new, scopes)

    def _add_decisions(self, new: dict[str, Any], scopes: dict[str, str]) -> None:
        """Adds decisions to the study's space, as stored (another process may have added
        one of them first, with another definition: then this trial fails)."""
        stored = self.study.update_space(
            lambda old, text: _grown(old, self.space, new, scopes, None))
        self._merge(_space_from_json(stored, self.space) if stored is not None
                    else _with(self.space, new, scopes))

    def _pull_space(self) -> None:
        try:
            stored = self.study.stored_space_json()
        except StorageError as e:  # the study's row is unreadable: go on with what we know
            logger.warning("study %r: its stored space could not be read: %s", self.study.name, e)
            return
        if stored is not None:
            self._merge(_space_from_json(stored, self.space))

    def _store_parents(self, space: TracedSpace) -> None:
        try:
            self.study.update_space(lambda old, text: _grown(old, space, {}, {}, space.parents))
        except (StorageError, SymbolicValueError) as e:
            logger.warning("study %r: the tree of its space was not stored: %s", self.study.name, e)

    def _merge(self, stored: TracedSpace) -> None:
        """Takes the decisions and scopes of ``stored`` that this process does not know."""
        space = self.space
        new = {k: m for k, m in stored.decisions.items() if k not in space.decisions}
        if not new and stored is space:
            return
        scopes = {k: s for k, s in stored.scopes.items() if k in new}
        merged = _with(space, new, scopes) if new else space
        self._set_space(merged)
        for key, m in new.items():
            if is_choice(m):
                self._placements.add_choice(key, len(m.candidates))
            if key in scopes:
                self._placements.add_scope(key, scopes[key])

    def _count(self, trial: Trial) -> None:
        """Counts a finished trial's evidence (once)."""
        if not trial.is_finished or trial.id in self._runs or not trial.params:
            return
        nodes = self._nodes.get(trial.id)
        if nodes is None:
            nodes = self.space.trial_nodes(trial.params)
            self._nodes[trial.id] = nodes
        met = [Met(k, self.space.decisions[k], nodes[k], trial.params[k])
               for k in trial.params if k in nodes]
        self._placements.add(run_record(met, trial.status == "completed"))
        self._runs.add(trial.id)

    def _trial_nodes(self, trial: Trial) -> dict[str, DNA] | None:
        """The decisions of a trial: what its run met, or (running here, params not known
        yet) what it was proposed with, so that the algorithm counts the point it runs."""
        nodes = self._nodes.get(trial.id)
        if nodes is None and not trial.params:
            nodes = self._proposed.get(trial.id)
        return nodes

    def _set_space(self, space: TracedSpace) -> None:
        self.study.space = space
        self.study.spec = space.dna_spec()

    def _regrow(self, tell: bool = True) -> None:
        """Re-places the decisions; when the tree changed, re-derives every trial's DNA and
        sets the algorithm up on the new spec, telling it the finished trials again."""
        space = self.space
        parents = {k: (c, tuple(s)) for k, (c, s) in self._placements.parents().items()}
        if parents != {k: (p[0], tuple(p[1])) for k, p in space.parents.items()}:
            space = space.rebind({"parents": Dict(parents)})
            self._set_space(space)
            self._store_parents(space)
        spec = self.study.spec
        if spec == self._spec_of_trials:
            return
        self._spec_of_trials = spec
        for trial in self.study._trials.values():
            trial.dna = space.trial_dna(trial.id, trial.params, self._trial_nodes(trial))
        if not tell or spec == self._spec_of_algorithm:
            return
        self._set_up_algorithm(spec)

    def _set_up_algorithm(self, spec: Any) -> None:
        """Sets the algorithm up on ``spec`` and tells it every finished trial again (their
        DNA in this tree); this process's running trials are its pending proposals."""
        self._spec_of_algorithm = spec
        self._guessed = {t: self.study._trials[t].dna for t in self.mine
                         if t in self.study._trials and not self._nodes.get(t)}
        algorithm = self.algorithm
        state = algorithm.rng_state
        algorithm.setup(spec, num_objectives=len(self.study.objectives))
        trials = sorted(self.study._trials.values(), key=lambda t: t.id)
        algorithm.restore([self._past(t) for t in trials
                           if (t.is_finished and t.id in self.told) or t.id in self.mine])
        algorithm.load_state(state)
        logger.debug("the space grew to %d decisions; %s set up again", len(spec),
                     type(algorithm).__name__)


def _enumerates(algorithm: Algorithm) -> bool:
    """Whether ``algorithm`` proposes each point once (Grid, or Auto delegating to it)."""
    from symbo.algorithms.grid import Grid

    return isinstance(algorithm, Grid) or isinstance(getattr(algorithm, "inner", None), Grid)


def _with(space: TracedSpace, new: dict[str, Any], scopes: dict[str, str]) -> TracedSpace:
    return TracedSpace(fn=space.fn, decisions=Dict({**space.decisions, **new}),
                       parents=Dict(dict(space.parents)), scopes=Dict({**space.scopes, **scopes}),
                       discovered=space.discovered)


def _space_from_json(data: Any, space: TracedSpace) -> TracedSpace:
    """The decisions and scopes of a stored define-by-run space, around this process's ``fn``
    (read without resolving the stored one)."""
    if not isinstance(data, dict):
        return space
    decisions = from_json(data.get("decisions") or {})
    scopes = from_json(data.get("scopes") or {})
    return TracedSpace(fn=space.fn, decisions=Dict(dict(decisions)),
                       parents=Dict(dict(space.parents)), scopes=Dict(dict(scopes)),
                       discovered=space.discovered)


def _grown(old: Any, space: TracedSpace, new: dict[str, Any], scopes: dict[str, str],
           parents: Any) -> tuple[Any, str]:
    """The stored space ``old`` (JSON) with the decisions ``new`` added (an error when one of
    them is stored already with another definition) and, if given, ``parents`` set."""
    stored = _space_from_json(old, space) if old is not None else space
    for key, definition in new.items():
        known = stored.decisions.get(key)
        if known is not None and fingerprint(known) != fingerprint(definition):
            raise SymbolicValueError(
                f"two markers are named {key!r} with different definitions: {fingerprint(known)} "
                f"and {fingerprint(definition)}; one name is one decision, so give one of them "
                "another name")
    added = {k: d for k, d in new.items() if k not in stored.decisions}
    grown = _with(stored, added, {k: s for k, s in scopes.items() if k in added})
    if parents is not None:
        grown = grown.rebind({"parents": Dict(dict(parents))})
    data = dict(old) if isinstance(old, dict) else to_json(grown.rebind({"fn": None}))
    data["decisions"] = to_json(grown.decisions)
    data["scopes"] = to_json(grown.scopes)
    data["parents"] = to_json(grown.parents)
    return data, sym_format(grown.rebind({"fn": None}))


def _where(scope: str | None) -> str:
    return "the top level" if scope is None else f"a callable candidate of {scope!r}"


def _met(entry: list[Any], space: TracedSpace) -> Met:
    key, definition, node, param, scope, new = entry
    if definition is None:
        definition = space.decisions.get(key)
    return Met(key, definition, _from_json(node), param, scope, new)


def _to_json(dna: DNA) -> list:
    return [dna.value, [_to_json(c) for c in dna.children]]


def _from_json(data: Any) -> DNA:
    value, children = data
    return DNA(value, tuple(_from_json(c) for c in children))


def _reward_json(reward: Any) -> Any:
    return list(reward) if isinstance(reward, tuple) else reward


COORDINATORS.append(Coordinator(lambda study: isinstance(study.space, TracedSpace),
                                DefineByRunRun, define_by_run_task))
