"""The executor interface: the loop hands trials to an executor; one dispatch of outcomes;
no import circle among the search modules."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import symbo as sb
from symbo.backends.executors import (
    Executor,
    InlineExecutor,
    Outcome,
    ProcessExecutor,
    Task,
    TrialFeedback,
    call_objective,
    executor_for,
)

BACKENDS = Path(__file__).resolve().parents[2] / "symbo" / "backends"


def _space() -> sb.Dict:
    return sb.Dict(x=sb.int_range(0, 9, name="x"))


class Deferred(Executor):
    """Runs up to three trials at once, in this process, finishing them in reverse order."""

    capacity = 3

    def __init__(self) -> None:
        self.events: list[str] = []

    def start(self, task: Task) -> None:
        self.task, self.queue = task, []
        self.events.append("start")

    @property
    def running(self) -> int:
        return len(self.queue)

    def submit(self, feedback: TrialFeedback) -> None:
        self.queue.append(feedback)
        self.events.append(f"submit {feedback.trial_id}")

    def wait(self, timeout: float | None = None) -> list[TrialFeedback]:
        feedback = self.queue.pop()
        call_objective(self.task, feedback.program, feedback).settle(feedback)
        self.events.append(f"ended {feedback.trial_id}")
        return [feedback]

    def close(self) -> None:
        self.events.append("close")


def test_a_custom_executor_runs_the_trials_it_is_given() -> None:
    executor = Deferred()
    study = sb.tune(lambda p: float(p.x), _space(), sb.algorithms.Grid(), num_trials=5,
                    backend=executor)
    assert [(t.id, t.status, t.reward) for t in study.trials] == [
        (i, "completed", float(i)) for i in range(5)]
    assert executor.events[:5] == ["start", "submit 0", "submit 1", "submit 2", "ended 2"]
    assert executor.events[-1] == "close"
    assert executor.events.count("close") == 1


def test_close_runs_when_the_search_raises() -> None:
    executor = Deferred()

    def objective(p: sb.Dict) -> float:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        sb.tune(objective, _space(), sb.algorithms.Grid(), num_trials=5, backend=executor)
    assert executor.events[-1] == "close"


@pytest.mark.parametrize("outcome, status, reward, error", [
    (Outcome("result", 2.0), "completed", 2.0, None),
    (Outcome("done", 3.0), "completed", 3.0, None),
    (Outcome("result", None), "completed", 0.5, None),          # the last report
    (Outcome("result", None, stop_advised=True), "stopped", 0.5, None),
    (Outcome("stop"), "stopped", 0.5, None),
    (Outcome("fail", "skipped: no"), "failed", None, "skipped: no"),
    (Outcome("error", "Traceback ...\nValueError: x"), "failed", None, "ValueError: x"),
    (Outcome("result", float("nan")), "failed", None, "rewards must be finite"),
    (Outcome("result", 10 ** 400), "failed", None, "too large for a float"),
])
def test_one_dispatch_of_outcomes(outcome: Outcome, status: str, reward: object,
                                  error: str | None) -> None:
    for _program, feedback in sb.sample(_space(), sb.algorithms.Random(seed=0), num_trials=1):
        feedback.report(1, 0.5)
        outcome.settle(feedback)
        outcome.settle(feedback)  # a second time changes nothing
    trial = feedback.study.trials[0]
    assert (trial.status, trial.reward) == (status, reward)
    assert (trial.error is None) if error is None else (error in trial.error)


def test_executor_for_names_and_checks() -> None:
    assert isinstance(executor_for("local", workers=1, timeout=None), InlineExecutor)
    assert isinstance(executor_for("local", workers=1, timeout=2.0), ProcessExecutor)
    assert executor_for("local", workers=4, timeout=None).capacity == 4
    mine = Deferred()
    assert executor_for(mine, workers=1, timeout=None) is mine
    with pytest.raises(sb.SymbolicValueError, match="backend must be one of 'local', 'ray'"):
        executor_for("dask", workers=2, timeout=None)
    with pytest.raises(sb.SymbolicValueError, match="workers must be >= 1"):
        executor_for("local", workers=0, timeout=None)


@pytest.mark.parametrize("timeout", [0, -1.0, float("nan")])
def test_timeout_must_be_positive(timeout: float) -> None:
    with pytest.raises(sb.SymbolicValueError, match="timeout must be a number of seconds > 0"):
        sb.tune(lambda p: 1.0, _space(), sb.algorithms.Random(seed=0), num_trials=2,
                timeout=timeout)


# ---- layering ------------------------------------------------------------------------------------
def _top_level_imports(path: Path, modules: set[str]) -> set[str]:
    """The symbo modules a module imports when it is imported (not inside functions, not under
    ``if TYPE_CHECKING``); ``from package import module`` counts as importing the module."""
    tree = ast.parse(path.read_text())
    out: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("symbo"):
            submodules = {f"{node.module}.{a.name}" for a in node.names} & modules
            out.update(submodules or {node.module})
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("symbo"))
    return out


def _module(path: Path) -> str:
    rel = path.relative_to(BACKENDS.parents[1]).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def test_the_search_modules_import_each_other_in_one_direction() -> None:
    modules = {_module(p): p for p in BACKENDS.rglob("*.py") if "torch" not in p.parts}
    graph = {m: {i for i in _top_level_imports(p, set(modules)) if i in modules and i != m}
             for m, p in modules.items()}

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for nxt in graph[start]:
            if nxt == goal or (nxt not in seen and not seen.add(nxt) and reaches(nxt, goal, seen)):
                return True
        return False

    circles = [m for m in graph if reaches(m, m, set())
               and m != "symbo.backends"]  # the package re-exports its modules
    assert circles == []
    assert "symbo.backends.study" not in graph["symbo.backends.loop"]
    for name in graph:
        if name.startswith("symbo.backends.executors"):
            assert not {"symbo.backends.loop", "symbo.backends.study",
                        "symbo.backends.search"} & graph[name], name
