"""The ``symbo`` command line: run, inspect, resume, export and plot studies; run the demo.

::

    symbo run SCRIPT.py | SPACE.sym --objective module:function [options]
    symbo show STORAGE [--study NAME]        symbo best STORAGE [--study NAME] [--k 5]
    symbo resume STORAGE --study NAME (--objective module:function | --script SCRIPT.py)
    symbo export STORAGE --study NAME -o trials.csv|trials.json
    symbo plot STORAGE --study NAME -o history.png [--kind history|parallel|intermediate]
    symbo plot --kind darts --alphas alphas.json -o alphas.png
    symbo demo [--trials N] [--storage URL] [--quiet]

``STORAGE`` is a URL (``sqlite:///study.db``, ``memory:``) or a path to a SQLite file
(``study.db``). ``--study`` may be left out when the storage holds one study.

**Scripts.** ``symbo run script.py`` executes the script as a module named
``__symbo_script__`` (so its ``if __name__ == "__main__":`` block does not run), then:

* when it defines ``objective`` and ``space``, symbo searches with the command line's options
  (the script may also define ``algorithm``, ``early_stopping``, ``num_trials`` and
  ``objectives``, which the options override);
* else when it defines ``main()``, symbo calls it;
* else the script's top-level code was the run (it called ``sb.tune`` itself).

**Spaces.** ``symbo run space.sym --objective module:function`` imports the module (which
registers the classes the space names: import it before the space is read) and reads the
space with ``sb.load_space``; ``module`` may also be a path, ``objectives.py:train``. The
module may define ``algorithm``, ``early_stopping``, ``num_trials`` and ``objectives`` as a
script does. ``symbo resume`` takes the objective the same way (``--objective`` or
``--script``) and the space and algorithm from the study; the module's (or script's)
``early_stopping`` applies unless ``--early-stopping`` says otherwise (``none``: off).

**Reading studies** (``show``, ``best``, ``export``, ``plot``) imports only what symbo
itself provides (its modules, torch's symbolized classes). A space naming your own classes
is read with those objects as plain dicts (decision names and values intact) unless
``--import MODULE`` imports the module that defines them.

**Exit codes**: 0 done; 1 the user's script or module raised (its traceback is printed);
2 a mistake in what was asked; 130 interrupted (finished trials stay recorded).

**Algorithms** are text in the space language, e.g. ``--algorithm
"RegularizedEvolution(population_size=20)"`` (registered classes resolve by short name). The
default is TPE (regularized evolution where TPE is not available).

Mistakes in what was asked (a storage that cannot be opened, an unknown study, bad
algorithm text) print one line on stderr.

>>> import os, tempfile
>>> import symbo as sb
>>> db = os.path.join(tempfile.mkdtemp(), "study.db")
>>> _ = sb.tune(lambda p: float(p.x), sb.Dict(x=sb.one_of([1, 2, 3], name="x")),
...             sb.algorithms.Grid(), num_trials=3, storage="sqlite:///" + db, study_name="demo")
>>> main(["best", db, "--k", "2"])
study 'demo': 3 trials: 3 completed; best 3 (trial 2)
<BLANKLINE>
top 2 trials (reward: maximize):
rank  trial  status     reward  duration  x
----  -----  ---------  ------  --------  -
   1      2  completed       3  ...s  3
   2      1  completed       2  ...s  2
<BLANKLINE>
best program (trial 2, reward 3):
{'x': 3}
0
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.util
import math
import os
import runpy
import sys
import time
import traceback
from collections.abc import Iterator, Sequence
from typing import Any, TextIO

from symbo.algorithms.base import Algorithm
from symbo.backends.storage import Storage, StorageError, open_storage
from symbo.backends.study import Study, Trial, load_study
from symbo.core import SymbolicError, from_json, registry
from symbo.core.formatting import format as sym_format

SCRIPT_MODULE = "__symbo_script__"
DEFAULT_TRIALS = 20


class CLIError(Exception):
    """A mistake on the command line: printed as one line, exit code 2."""


# ---- helpers shared with symbo.demo ---------------------------------------------------------------
def default_algorithm(seed: int | None = None) -> Algorithm:
    """TPE when this symbo has it, else regularized evolution.

    >>> type(default_algorithm(0)).__name__ in ("TPE", "RegularizedEvolution")
    True
    """
    tpe = _tpe_class()
    if tpe is not None:
        return tpe(seed=seed)
    from symbo.algorithms import RegularizedEvolution

    return RegularizedEvolution(population_size=20, tournament_size=5, seed=seed)


def _tpe_class() -> Any:
    import symbo.algorithms as algorithms

    tpe = getattr(algorithms, "TPE", None)
    if tpe is None:
        try:
            from symbo.algorithms.tpe import TPE as tpe  # noqa: N811 - registers it, too
        except ImportError:
            return None
    return tpe


def parse_algorithm(text: str, seed: int | None = None) -> Algorithm:
    """An algorithm from its text, e.g. ``"RegularizedEvolution(population_size=20)"``; a
    ``seed`` is set where the text leaves the algorithm's seed unset.

    >>> parse_algorithm("Random(seed=3)")
    Random(seed=3)
    >>> parse_algorithm("Random()", seed=5)
    Random(seed=5)
    >>> parse_algorithm("Nope()")
    Traceback (most recent call last):
    ...
    symbo.cli.CLIError: bad --algorithm 'Nope()': line 1, column 1: unknown class 'Nope'...
    """
    import symbo as sb

    _tpe_class()  # registers TPE where it exists
    try:
        value = sb.parse(text)
    except SymbolicError as e:
        raise CLIError(f"bad --algorithm {text!r}: {_first_line(e)}") from None
    if not isinstance(value, Algorithm):
        raise CLIError(f"bad --algorithm {text!r}: a {type(value).__name__} is not an algorithm "
                       f"(algorithms: {', '.join(algorithm_names())})")
    if seed is not None and "seed" in type(value).sym_schema().by_name and value.seed is None:
        value.rebind(seed=seed)
    return value


def algorithm_names() -> list[str]:
    """The short names of the registered algorithm classes."""
    out = set()
    for name in registry.names():
        value = registry.lookup(name)
        if isinstance(value, type) and issubclass(value, Algorithm) and value is not Algorithm:
            out.add(registry.short_name(value) or name)
    return sorted(out)


def _parse_policy(text: str | None) -> Any:
    """An early-stopping policy from its text; ``none`` is no policy; None: not given."""
    if text is None:
        return _UNSET
    if text.strip().lower() == "none":
        return None
    import symbo as sb
    from symbo.algorithms.early_stopping import EarlyStoppingPolicy

    try:
        value = sb.parse(text)
    except SymbolicError as e:
        raise CLIError(f"bad --early-stopping {text!r}: {_first_line(e)}") from None
    if not isinstance(value, EarlyStoppingPolicy):
        raise CLIError(f"bad --early-stopping {text!r}: not an early-stopping policy "
                       "(e.g. ASHA(), MedianStopping(min_trials=5))")
    return value


_UNSET: Any = object()


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


# ---- formatting -----------------------------------------------------------------------------------
def fmt_value(value: Any) -> str:
    """A short text for a table cell.

    >>> fmt_value(0.000123456), fmt_value(0.98333), fmt_value((1.0, 2.5)), fmt_value(None)
    ('0.0001235', '0.9833', '(1, 2.5)', '-')
    """
    if value is None:
        return "-"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return f"{value:.4g}" if math.isfinite(value) else str(value)
    if isinstance(value, (tuple, list)) and all(isinstance(v, (int, float)) for v in value):
        return "(" + ", ".join(fmt_value(float(v)) for v in value) + ")"
    text = str(value)
    return text if len(text) <= 40 else text[:39] + "…"


def fmt_duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.1f}s"
    return f"{int(seconds // 60)}m{int(seconds % 60):02d}s"


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain-text table; numbers right-aligned.

    >>> print(table(["id", "name"], [[1, "a"], [10, "bb"]]))
    id  name
    --  ----
     1  a
    10  bb
    """
    cells = [[str(c) for c in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        for i, c in enumerate(row):
            widths[i] = max(widths[i], len(c))
    numeric = [all(_is_number(row[i]) for row in cells) and bool(cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        parts = [c.rjust(w) if num else c.ljust(w) for c, w, num in zip(row, widths, numeric)]
        return "  ".join(parts).rstrip()

    out = [line(list(headers)), line(["-" * w for w in widths])]
    out += [line(row) for row in cells]
    return "\n".join(out)


def _is_number(text: str) -> bool:
    if text == "-":
        return True
    try:
        float(text.rstrip("s"))
    except ValueError:
        return False
    return True


def summary_line(study: Study) -> str:
    """``N trials: a completed, b stopped, c failed[, d running]; best R (trial i)``."""
    s = study.summary()
    parts = [f"{s['completed']} completed"]
    parts += [f"{s[k]} {k}" for k in ("stopped", "failed", "running", "pending") if s[k]]
    text = f"{s['trials']} trials: {', '.join(parts)}"
    if not study.is_multi_objective:
        best = study.best_trial
        if best is not None:
            text += f"; best {fmt_value(best.reward)} (trial {best.id})"
    else:
        text += f"; Pareto front of {len(study.pareto_front)}"
    return text


def trials_table(study: Study, trials: Sequence[Trial], *, rank: bool = False) -> str:
    """Trials as a table: id, status, reward, duration and the named decisions."""
    from symbo.backends.plots import decision_rows

    columns, decisions = decision_rows(trials, named_only=True)
    headers = (["rank"] if rank else []) + ["trial", "status", "reward", "duration", *columns]
    rows = []
    for i, (t, d) in enumerate(zip(trials, decisions)):
        row: list[Any] = [i + 1] if rank else []
        row += [t.id, t.status, fmt_value(t.reward), fmt_duration(t.duration)]
        row += [fmt_value(d.get(c)) if c in d else "" for c in columns]
        rows.append(row)
    return table(headers, rows)


def print_best(study: Study, k: int = 5, out: TextIO | None = None) -> None:
    """The ``k`` best trials as a table and the best program (a study with several
    objectives: its Pareto front)."""
    out = out or sys.stdout
    if study.is_multi_objective:
        front = study.pareto_front
        if not front:
            print("no completed trials yet", file=out)
            return
        print(f"\nPareto front ({len(front)} trials, objectives {', '.join(study.objectives)}):",
              file=out)
        print(trials_table(study, front), file=out)
        return
    best = study.best_trials(k)
    if not best:
        print("no completed trials yet", file=out)
        return
    print(f"\ntop {len(best)} trials (reward: {study.objectives[0]}imize):", file=out)
    print(trials_table(study, best, rank=True), file=out)
    program = best[0].program
    if program is not None:
        print(f"\nbest program (trial {best[0].id}, reward {fmt_value(best[0].reward)}):", file=out)
        print(sym_format(program, hide_default=False), file=out)


# ---- storages and studies -------------------------------------------------------------------------
def storage_url(text: str) -> str:
    """A storage URL from a URL or a bare path to a SQLite file.

    >>> storage_url("study.db"), storage_url("/tmp/s.db"), storage_url("memory:")
    ('sqlite:///study.db', 'sqlite:////tmp/s.db', 'memory:')
    """
    if "://" in text or text.startswith("memory:"):
        return text
    return "sqlite:///" + text


def _open_storage(text: str, *, must_exist: bool) -> Storage:
    url = storage_url(text)
    if must_exist and url.startswith("sqlite:///"):
        path = url[len("sqlite:///"):]
        if not os.path.isfile(path):
            raise CLIError(f"no such file: {path}")
    return open_storage(url)


def _study_name(storage: Storage, name: str | None) -> str:
    if name is not None:
        return name
    studies = storage.list_studies()
    if len(studies) == 1:
        return studies[0].name
    if not studies:
        raise CLIError(f"no studies in {storage.url}")
    names = ", ".join(s.name for s in studies)
    raise CLIError(f"{storage.url} holds {len(studies)} studies ({names}): pass --study NAME")


def _register_types(data: Any) -> None:
    """Imports what a stored space or algorithm needs: ``symbo`` modules, and torch's
    symbolized classes (when torch is installed). Nothing else is imported."""
    missing = {n for n in _type_names(data) if n not in registry._BY_NAME}
    if "symbo.algorithms.TPE" in missing:
        _tpe_class()
    if any(n.startswith("torch.") for n in missing):
        with contextlib.suppress(ImportError):
            from symbo.backends import torch as sbt

            sbt.register_all()
    for name in sorted(n for n in missing if n.startswith("symbo.")):
        parts = name.split(".")
        for end in range(len(parts) - 1, 0, -1):
            try:
                importlib.import_module(".".join(parts[:end]))
                break
            except ImportError:
                continue


def _type_names(data: Any) -> Iterator[str]:
    if isinstance(data, dict):
        for key in ("_type", "_ref"):
            if isinstance(data.get(key), str):
                yield data[key]
        for value in data.values():
            yield from _type_names(value)
    elif isinstance(data, list):
        for value in data:
            yield from _type_names(value)


def open_study(storage_text: str, name: str | None, *, space: Any = None,
               algorithm: Algorithm | None = None, err: TextIO | None = None,
               structural: bool = False) -> Study:
    """Opens a stored study for the command line (see :func:`symbo.load_study`), importing
    the ``symbo`` modules and torch classes its space needs.

    When the space names classes that are not registered (the user's, not imported), a
    ``structural`` open reads it with those objects as plain dicts, so that decisions keep
    their names and programs print (as dicts), and says so on ``err``.
    """
    storage = _open_storage(storage_text, must_exist=True)
    name = _study_name(storage, name)
    info = storage.load_study(name)
    _register_types([info.space_json, info.algorithm_json])
    study = load_study(storage, name, space=space, algorithm=algorithm)
    if study.space is None and info.space_json is not None:
        try:
            from_json(info.space_json)
            reason = "it cannot be read"
        except SymbolicError as e:
            reason = _first_line(e)
        fallback = _structural_space(info.space_json) if structural else None
        if fallback is not None:
            from symbo.dsl import dna_spec

            study.space, study.spec = fallback, dna_spec(fallback)
        if err is not None:
            shown = "its programs are shown as dicts" if fallback is not None else \
                "its decisions are shown as numbers"
            print(f"symbo: note: the space of study {name!r}: {reason}; {shown} "
                  "(--import MODULE imports the module that defines its classes)", file=err)
    return study


def _structural_space(space_json: Any) -> Any:
    """The stored space with objects of unregistered classes read as plain dicts (and
    unregistered references as their names); None when even that fails."""

    def strip(data: Any) -> Any:
        if isinstance(data, list):
            return [strip(v) for v in data]
        if not isinstance(data, dict):
            return data
        if isinstance(data.get("_ref"), str) and data["_ref"] not in registry._BY_NAME:
            return data["_ref"]
        kind = data.get("_type")
        out = {k: strip(v) for k, v in data.items()}
        if isinstance(kind, str) and kind not in registry._BY_NAME and kind not in ("tuple", "MISSING"):
            del out["_type"]
        return out

    try:
        return from_json(strip(space_json))
    except SymbolicError:
        return None


# ---- user code ------------------------------------------------------------------------------------
@contextlib.contextmanager
def _script_context(path: str) -> Iterator[None]:
    folder = os.path.dirname(os.path.abspath(path))
    argv = sys.argv
    sys.argv = [path]
    sys.path.insert(0, folder)
    try:
        yield
    finally:
        sys.argv = argv
        with contextlib.suppress(ValueError):
            sys.path.remove(folder)


class UserCodeError(Exception):
    """The user's script or module raised (its traceback was printed): exit code 1."""


@contextlib.contextmanager
def _user_code(what: str) -> Iterator[None]:
    try:
        yield
    except (CLIError, UserCodeError, KeyboardInterrupt, SystemExit):
        raise
    except BaseException as e:  # noqa: BLE001 - the user's error, shown with its traceback
        traceback.print_exc()
        raise UserCodeError(f"{what} raised {type(e).__name__}: {_first_line(e)}") from None


def run_script(path: str) -> dict[str, Any]:
    """Executes a script as the module ``__symbo_script__``; returns its globals."""
    if not os.path.isfile(path):
        raise CLIError(f"no such file: {path}")
    with _script_context(path), _user_code(path):
        return runpy.run_path(path, run_name=SCRIPT_MODULE)


def _cwd_on_path() -> None:
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.insert(0, cwd)


def import_module(name: str) -> Any:
    """Imports a module by name, or a ``.py`` file by path (registered under its stem)."""
    _cwd_on_path()
    if name.endswith(".py") or os.sep in name:
        if not os.path.isfile(name):
            raise CLIError(f"no such file: {name}")
        stem = os.path.splitext(os.path.basename(name))[0]
        spec = importlib.util.spec_from_file_location(stem, name)
        if spec is None or spec.loader is None:
            raise CLIError(f"cannot import {name}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[stem] = module
        with _script_context(name), _user_code(name):
            spec.loader.exec_module(module)
        return module
    with _user_code(f"module {name!r}"):
        try:
            return importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name and (name == e.name or name.startswith(e.name + ".")):
                raise CLIError(f"cannot import module {name!r}: {e}") from None
            raise


def load_objective(text: str) -> tuple[Any, Any]:
    """``module:function`` (or ``file.py:function``) -> (function, module)."""
    module_name, sep, function = text.rpartition(":")
    if not sep or not module_name or not function:
        raise CLIError(f"--objective must be module:function, got {text!r}")
    module = import_module(module_name)
    fn = getattr(module, function, None)
    if not callable(fn):
        raise CLIError(f"module {module_name!r} has no function {function!r}")
    return fn, module


def _load_space(path: str) -> Any:
    import symbo as sb

    if not os.path.isfile(path):
        raise CLIError(f"no such file: {path}")
    return sb.load(path) if path.endswith(".json") else sb.load_space(path)


# ---- commands -------------------------------------------------------------------------------------
def cmd_run(args: argparse.Namespace) -> int:
    for name in args.imports:
        import_module(name)
    target: str = args.target
    settings: dict[str, Any] = {}
    if target.endswith(".py"):
        if args.objective:
            fn, module = load_objective(args.objective)
            settings = vars(module)
        namespace = run_script(target)
        objective = namespace.get("objective") if not args.objective else fn
        if objective is None or namespace.get("space") is None:
            main_fn = namespace.get("main")
            if callable(main_fn):
                with _script_context(target), _user_code(f"{target}: main()"):
                    result = main_fn()
                if isinstance(result, Study):
                    _report(result, args)
                return 0
            if objective is not None:
                raise CLIError(f"{target} defines `objective` but no `space`")
            print(f"symbo: {target} ran; it defines no `objective` and `space` and no main() "
                  "(code under `if __name__ == \"__main__\":` does not run under symbo run)",
                  file=sys.stderr)
            return 0
        settings = {**settings, **namespace}
        space = namespace["space"]
    else:
        if not args.objective:
            raise CLIError(f"{target} is a space: pass --objective module:function")
        objective, module = load_objective(args.objective)
        settings = dict(vars(module))
        space = _load_space(target)
    return _search(objective, space, settings, args,
                   default_name=os.path.splitext(os.path.basename(target))[0])


def _search(objective: Any, space: Any, settings: dict[str, Any], args: argparse.Namespace,
            default_name: str) -> int:
    import symbo as sb

    algorithm = _algorithm(args, settings)
    policy = _parse_policy(args.early_stopping)
    if policy is _UNSET:
        policy = settings.get("early_stopping")
        if policy is not None and not hasattr(policy, "should_stop"):
            policy = None
    trials = args.trials if args.trials is not None else settings.get("num_trials", DEFAULT_TRIALS)
    objectives = tuple(settings.get("objectives", ("max",)))
    storage = storage_url(args.storage) if args.storage else None
    name = args.study or default_name
    study = Study.create(space, algorithm, storage=storage, study_name=name,
                         objectives=objectives, load_if_exists=True)
    before = len(study.trials)
    if not args.quiet:
        where = storage or "memory"
        print(f"symbo: study {name!r} in {where}, algorithm "
              f"{sym_format(algorithm, compact=True, hide_default=True)}"
              + (f"; continuing from {before} trials" if before else ""), file=sys.stderr)
    start = time.perf_counter()
    with _interrupt_hint(name, storage):
        study = sb.tune(objective, space, algorithm, num_trials=trials, study=study,
                        workers=args.workers, backend=args.backend, early_stopping=policy,
                        timeout=args.timeout, progress=not args.quiet)
    print(f"ran {len(study.trials) - before} trial(s) in {time.perf_counter() - start:.1f} s; "
          f"{summary_line(study)}")
    _report(study, args, storage=storage)
    return 0


def _algorithm(args: argparse.Namespace, settings: dict[str, Any]) -> Algorithm:
    if args.algorithm:
        return parse_algorithm(args.algorithm, args.seed)
    given = settings.get("algorithm")
    if isinstance(given, Algorithm):
        if args.seed is not None and "seed" in type(given).sym_schema().by_name:
            given.rebind(seed=args.seed)
        return given
    return default_algorithm(args.seed)


def _report(study: Study, args: argparse.Namespace, storage: str | None = None) -> None:
    print_best(study, k=getattr(args, "k", 5) or 5)
    if storage and not storage.startswith("memory:"):
        print(f"\ninspect it: symbo show {storage} --study {study.name}")
    elif storage is None:
        print("\n(the study was kept in memory: pass --storage study.db to keep it)")


@contextlib.contextmanager
def _interrupt_hint(name: str, storage: str | None, command: str | None = None) -> Iterator[None]:
    try:
        yield
    except KeyboardInterrupt:
        hint = ""
        if storage and not storage.startswith("memory:"):
            command = command or f"symbo resume {storage} --study {name} --objective ... --trials N"
            hint = f"; continue with: {command}"
        print(f"\nsymbo: interrupted; the finished trials are recorded{hint}", file=sys.stderr)
        raise


def cmd_show(args: argparse.Namespace) -> int:
    for name in args.imports:
        import_module(name)
    if args.study is None:
        storage = _open_storage(args.storage, must_exist=True)
        studies = storage.list_studies()
        if not studies:
            print(f"no studies in {storage.url}")
            return 0
        rows = []
        for info in studies:
            study = Study(storage, info, None, None)
            s = study.summary()
            best = None
            if len(info.objectives) == 1:
                bt = study.best_trial
                best = bt.reward if bt is not None else None
            rows.append([info.name, s["trials"], s["completed"], s["stopped"], s["failed"],
                         s["running"], fmt_value(best), ",".join(info.objectives),
                         time.strftime("%Y-%m-%d %H:%M", time.localtime(info.created_at))])
        print(table(["study", "trials", "completed", "stopped", "failed", "running", "best",
                     "objectives", "created"], rows))
        print(f"\n(symbo show {args.storage} --study NAME shows a study's trials)")
        return 0
    study = open_study(args.storage, args.study, err=sys.stderr, structural=True)
    print(f"study {study.name!r} in {study.storage.url}")
    print(f"objectives: {', '.join(study.objectives)}")
    print(summary_line(study))
    if study.algorithm is not None:
        print(f"algorithm: {sym_format(study.algorithm, compact=True, hide_default=True)}")
    if study.info.space_text:
        print("space:")
        print("  " + study.info.space_text.replace("\n", "\n  "))
    trials = study.trials
    if trials:
        print()
        print(trials_table(study, trials))
        failed = [t for t in trials if t.status == "failed" and t.error]
        for t in failed[-3:]:
            print(f"trial {t.id} failed: {_first_error_line(t.error)}")
    return 0


def _first_error_line(error: str | None) -> str:
    lines = (error or "").strip().splitlines()
    return lines[-1] if lines else ""


def cmd_best(args: argparse.Namespace) -> int:
    for name in args.imports:
        import_module(name)
    study = open_study(args.storage, args.study, err=sys.stderr, structural=True)
    print(f"study {study.name!r}: {summary_line(study)}")
    print_best(study, k=args.k)
    return 0


def cmd_resume(args: argparse.Namespace) -> int:
    for name in args.imports:
        import_module(name)
    if args.objective and args.script:
        raise CLIError("pass --objective or --script, not both")
    settings: dict[str, Any] = {}
    if args.script:
        settings = run_script(args.script)
        objective = settings.get("objective")
        if objective is None:
            raise CLIError(f"{args.script} defines no `objective`")
    elif args.objective:
        objective, module = load_objective(args.objective)
        settings = dict(vars(module))
    else:
        raise CLIError("resume needs the objective: --objective module:function or --script SCRIPT")
    space = settings.get("space") if args.script else None
    algorithm = parse_algorithm(args.algorithm, args.seed) if args.algorithm else None
    study = open_study(args.storage, args.study, space=space, algorithm=algorithm, err=sys.stderr)
    if study.space is None:
        raise CLIError(f"study {study.name!r}: its space cannot be read; import the module that "
                       "defines its classes (--import MODULE) or pass --script SCRIPT")
    if study.algorithm is None:
        raise CLIError(f"study {study.name!r}: its algorithm cannot be read; pass --algorithm TEXT")
    policy = _parse_policy(args.early_stopping)
    if policy is _UNSET:
        policy = settings.get("early_stopping")
        if policy is not None and not hasattr(policy, "should_stop"):
            policy = None
    before = len(study.trials)
    target = args.trials if args.trials is not None else study.info.metadata.get("num_trials")
    if not args.quiet:
        print(f"symbo: resuming study {study.name!r} ({before} trials) until "
              f"{target if target is not None else 'the algorithm stops'}", file=sys.stderr)
    start = time.perf_counter()
    with _interrupt_hint(study.name, study.storage.url):
        study.resume(objective, num_trials=target, workers=args.workers, backend=args.backend,
                     early_stopping=policy, timeout=args.timeout, progress=not args.quiet)
    print(f"ran {len(study.trials) - before} trial(s) in {time.perf_counter() - start:.1f} s; "
          f"{summary_line(study)}")
    print_best(study, k=5)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    for name in args.imports:
        import_module(name)
    study = open_study(args.storage, args.study, err=sys.stderr, structural=True)
    fmt = args.format or ("json" if args.output.endswith(".json") else "csv")
    try:
        study.export(args.output, fmt)
    except OSError as e:
        raise CLIError(f"cannot write {args.output}: {e.strerror or e}") from None
    print(f"wrote {len(study.trials)} trials of study {study.name!r} to {args.output}")
    return 0


def cmd_plot(args: argparse.Namespace) -> int:
    from symbo.backends import plots

    for name in args.imports:
        import_module(name)
    study = None
    if args.kind == "darts":
        if not args.alphas:
            raise CLIError("--kind darts needs --alphas FILE.json (the architecture-weight history "
                           "a DARTS search saved)")
    else:
        if not args.storage:
            raise CLIError(f"--kind {args.kind} needs the study's STORAGE")
        study = open_study(args.storage, args.study, err=sys.stderr, structural=True)
    kwargs: dict[str, Any] = {}
    if args.params and args.kind == "parallel":
        kwargs["params"] = [p.strip() for p in args.params.split(",") if p.strip()]
    if args.kind == "darts":
        kwargs["alphas"] = args.alphas
    try:
        plots.plot(study, args.output, kind=args.kind, **kwargs)
    except OSError as e:
        raise CLIError(f"cannot write {args.output}: {e.strerror or e}") from None
    print(f"wrote {args.output}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from symbo import demo

    algorithm = parse_algorithm(args.algorithm, args.seed) if args.algorithm else None
    storage = storage_url(args.storage) if args.storage else None
    plot = None if args.no_plot else (args.plot or "auto")
    command = f"symbo demo --trials {args.trials}{demo.demo_options(storage, args.study, args.epochs)}"
    with _interrupt_hint(args.study, storage, command):
        demo.run_demo(args.trials, storage=storage, study_name=args.study, epochs=args.epochs,
                      workers=args.workers, algorithm=algorithm, seed=args.seed,
                      use_early_stopping=not args.no_early_stopping, plot=plot, quiet=args.quiet)
    return 0


# ---- the parser -----------------------------------------------------------------------------------
def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {value}")
    return value


def _non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``symbo``."""
    from symbo import __version__

    parser = argparse.ArgumentParser(
        prog="symbo", description="symbo: symbolic AutoML for PyTorch. Run, inspect, resume, "
        "export and plot searches; STORAGE is a URL (sqlite:///study.db) or a SQLite file path.")
    parser.add_argument("--version", action="version", version=f"symbo {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    def common(p: argparse.ArgumentParser, *, study_required: bool = False) -> None:
        p.add_argument("--study", required=study_required, metavar="NAME",
                       help="the study's name (may be left out when the storage holds one)")
        p.add_argument("--import", dest="imports", action="append", default=[], metavar="MODULE",
                       help="import MODULE first (registers the classes a stored space names)")

    def running(p: argparse.ArgumentParser) -> None:
        p.add_argument("--trials", type=_non_negative, metavar="N",
                       help="run until the study has N trials")
        p.add_argument("--workers", type=_positive, default=1, metavar="N",
                       help="trials at once, in worker processes (default 1)")
        p.add_argument("--backend", choices=("local", "ray"), default="local")
        p.add_argument("--timeout", type=float, metavar="SECONDS",
                       help="fail a trial that runs longer (with workers)")
        p.add_argument("--early-stopping", metavar="TEXT",
                       help='an early-stopping policy, e.g. "ASHA(min_resource=2)"; none: off')
        p.add_argument("--algorithm", metavar="TEXT",
                       help='e.g. "RegularizedEvolution(population_size=20)" (default: TPE)')
        p.add_argument("--seed", type=int, metavar="S", help="the algorithm's seed")
        p.add_argument("--quiet", action="store_true", help="no progress bar")

    p = sub.add_parser("run", help="search with a script or a .sym space and an objective",
                       description="Run a search: SCRIPT.py defining `space` and `objective` (or "
                       "main()), or SPACE.sym with --objective module:function.")
    p.add_argument("target", metavar="SCRIPT_OR_SPACE")
    p.add_argument("--objective", metavar="MODULE:FUNCTION")
    p.add_argument("--storage", metavar="URL", help="where to keep the study (default: memory)")
    common(p)
    running(p)
    p.set_defaults(run=cmd_run)

    p = sub.add_parser("show", help="the studies of a storage, or one study's trials")
    p.add_argument("storage", metavar="STORAGE")
    common(p)
    p.set_defaults(run=cmd_show)

    p = sub.add_parser("best", help="the best trials of a study and its best program")
    p.add_argument("storage", metavar="STORAGE")
    p.add_argument("--k", type=_positive, default=5, help="how many trials (default 5)")
    common(p)
    p.set_defaults(run=cmd_best)

    p = sub.add_parser("resume", help="continue a stored study")
    p.add_argument("storage", metavar="STORAGE")
    p.add_argument("--objective", metavar="MODULE:FUNCTION")
    p.add_argument("--script", metavar="SCRIPT", help="a script defining `objective` (and `space`)")
    common(p)
    running(p)
    p.set_defaults(run=cmd_resume)

    p = sub.add_parser("export", help="write a study's trials to CSV or JSON")
    p.add_argument("storage", metavar="STORAGE")
    p.add_argument("-o", "--output", required=True, metavar="FILE", help="out.csv or out.json")
    p.add_argument("--format", choices=("csv", "json"), help="default: from the file's suffix")
    common(p)
    p.set_defaults(run=cmd_export)

    p = sub.add_parser("plot", help="plot a study (PNG)")
    p.add_argument("storage", metavar="STORAGE", nargs="?")
    p.add_argument("-o", "--output", required=True, metavar="FILE.png")
    p.add_argument("--kind", choices=("history", "parallel", "intermediate", "darts"),
                   default="history")
    p.add_argument("--params", metavar="A,B,...", help="the decisions of a parallel plot")
    p.add_argument("--alphas", metavar="FILE.json",
                   help="a DARTS architecture-weight history (for --kind darts)")
    common(p)
    p.set_defaults(run=cmd_plot)

    from symbo import demo as _demo_defaults

    p = sub.add_parser("demo", help="the main job: a real search on digits in about a minute",
                       description="Search an MLP for scikit-learn's digits (architecture and "
                       "training hyperparameters) with TPE and ASHA, kept in SQLite; running it "
                       "again continues the study.")
    p.add_argument("--trials", type=_non_negative, default=_demo_defaults.TRIALS, metavar="N",
                   help=f"run until the study has N trials (default {_demo_defaults.TRIALS})")
    p.add_argument("--storage", default=_demo_defaults.STORAGE, metavar="URL",
                   help=f"default {_demo_defaults.STORAGE}; memory: keeps nothing")
    p.add_argument("--study", default=_demo_defaults.STUDY_NAME, metavar="NAME")
    p.add_argument("--epochs", type=_positive, default=_demo_defaults.EPOCHS, metavar="N",
                   help=f"training epochs per trial (default {_demo_defaults.EPOCHS})")
    p.add_argument("--workers", type=_positive, metavar="N",
                   help="trials at once (default: 2 with two cores or more)")
    p.add_argument("--algorithm", metavar="TEXT", help="default: TPE")
    p.add_argument("--seed", type=int, default=0, metavar="S")
    p.add_argument("--no-early-stopping", action="store_true", help="train every trial fully")
    p.add_argument("--plot", metavar="FILE.png", help="where to plot the history "
                   "(default: beside the database)")
    p.add_argument("--no-plot", action="store_true")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command line; returns the exit code (0 done, 1 failed in user code, 2 a
    mistake in what was asked, 130 interrupted)."""
    import logging

    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # --help, --version, or a usage error (argparse printed it)
        return int(e.code or 0)
    logger = logging.getLogger("symbo")
    handler: logging.Handler | None = None
    if not logger.handlers:  # trial failures and notes, on stderr while the command runs
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("symbo: %(message)s"))
        handler.setLevel(logging.WARNING)
        logger.addHandler(handler)
    try:
        return int(args.run(args) or 0)
    except CLIError as e:
        print(f"symbo: error: {e}", file=sys.stderr)
        return 2
    except UserCodeError as e:
        print(f"symbo: error: {e}", file=sys.stderr)
        return 1
    except (StorageError, SymbolicError) as e:
        print(f"symbo: error: {_one_line(e)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader went away (symbo show ... | head)
        with contextlib.suppress(OSError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        return 1
    finally:
        if handler is not None:
            logger.removeHandler(handler)


def _one_line(error: BaseException) -> str:
    """The message, joined to one line where it is short; a long diff keeps its lines."""
    text = str(error).strip()
    lines = text.splitlines()
    return text if 1 < len(lines) <= 20 else (lines[0] if lines else type(error).__name__)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
