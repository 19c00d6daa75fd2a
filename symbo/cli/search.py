"""The commands that run trials: ``symbo run``, ``symbo resume`` and ``symbo demo``.

``run`` searches with a script (defining ``space`` and ``objective``, or ``main()``) or a
``.sym`` space and ``--objective module:function``; ``resume`` continues a stored study with
the objective given the same way; ``demo`` runs (or continues) the main job.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from collections.abc import Iterator
from typing import Any

from symbo.algorithms.base import Algorithm
from symbo.backends.study import Study
from symbo.cli.algorithms import UNSET, default_algorithm, parse_algorithm, parse_policy
from symbo.cli.errors import CLIError
from symbo.cli.options import (
    add_import_option,
    add_running_options,
    add_study_options,
    chosen_study,
    non_negative,
    positive,
)
from symbo.cli.studies import open_study, storage_url
from symbo.cli.tables import print_best, summary_line
from symbo.cli.usercode import (
    import_module,
    load_objective,
    load_space_file,
    run_script,
    script_context,
    user_code,
)
from symbo.core.formatting import format as sym_format

DEFAULT_TRIALS = 20


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
                with script_context(target), user_code(f"{target}: main()"):
                    result = main_fn()
                if isinstance(result, Study):
                    _report(result, args)
                return 0
            if objective is not None:  # define-by-run: the space is discovered as trials run
                return _search(objective, _discovered(target, objective), namespace, args,
                               default_name=os.path.splitext(os.path.basename(target))[0])
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
        space = load_space_file(target)
    return _search(objective, space, settings, args,
                   default_name=os.path.splitext(os.path.basename(target))[0])


def _discovered(target: str, objective: Any) -> Any:
    """The (empty) space of a script that defines ``objective`` and no ``space``: an
    objective taking no argument (named markers inline) or one (an Optuna-style trial)."""
    from symbo.backends.discovery import discovered_space
    from symbo.core import SymbolicError

    try:
        return discovered_space(objective)
    except SymbolicError as e:
        raise CLIError(f"{target} defines `objective` but no `space`, so it is searched define-"
                       f"by-run; {e}") from None


def _search(objective: Any, space: Any, settings: dict[str, Any], args: argparse.Namespace,
            default_name: str) -> int:
    import symbo as sb

    trials = args.trials if args.trials is not None else settings.get("num_trials", DEFAULT_TRIALS)
    algorithm = _algorithm(args, settings, trials)
    policy = _policy(args, settings)
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
                        timeout=args.timeout, time_budget=args.time_budget,
                        progress=not args.quiet)
    print(f"ran {len(study.trials) - before} trial(s) in {time.perf_counter() - start:.1f} s; "
          f"{summary_line(study)}")
    _report(study, args, storage=storage)
    return 0


def _algorithm(args: argparse.Namespace, settings: dict[str, Any],
               num_trials: int | None) -> Algorithm:
    """``--algorithm``; else the script's ``algorithm``; else ``sb.algorithms.Auto``."""
    if args.algorithm:
        return parse_algorithm(args.algorithm, args.seed)
    given = settings.get("algorithm")
    if isinstance(given, Algorithm):
        if args.seed is not None and "seed" in type(given).sym_schema().by_name:
            given.rebind(seed=args.seed)
        return given
    return default_algorithm(args.seed, num_trials)


def _report(study: Study, args: argparse.Namespace, storage: str | None = None) -> None:
    print_best(study, k=getattr(args, "k", 5) or 5)
    if storage and not storage.startswith("memory:"):
        shown = args.storage if getattr(args, "storage", None) else storage
        print(f"\ninspect it: symbo show {shown} {study.name}")
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
    study = open_study(args.storage, chosen_study(args), space=space, algorithm=algorithm, err=sys.stderr)
    if study.space is None:
        raise CLIError(f"study {study.name!r}: its space cannot be read; import the module that "
                       "defines its classes (--import MODULE) or pass --script SCRIPT")
    if study.algorithm is None:
        raise CLIError(f"study {study.name!r}: its algorithm cannot be read; pass --algorithm TEXT")
    policy = _policy(args, settings)
    before = len(study.trials)
    target = args.trials if args.trials is not None else study.info.metadata.get("num_trials")
    if not args.quiet:
        print(f"symbo: resuming study {study.name!r} ({before} trials) until "
              f"{target if target is not None else 'the algorithm stops'}", file=sys.stderr)
    start = time.perf_counter()
    with _interrupt_hint(study.name, study.storage.url):
        study.resume(objective, num_trials=target, workers=args.workers, backend=args.backend,
                     early_stopping=policy, timeout=args.timeout, time_budget=args.time_budget,
                        progress=not args.quiet)
    print(f"ran {len(study.trials) - before} trial(s) in {time.perf_counter() - start:.1f} s; "
          f"{summary_line(study)}")
    print_best(study, k=5)
    return 0



def cmd_demo(args: argparse.Namespace) -> int:
    from symbo import demo

    algorithm = parse_algorithm(args.algorithm, args.seed) if args.algorithm else None
    storage = storage_url(args.storage) if args.storage else None
    plot = None if args.no_plot else (args.plot or "auto")
    trials = "" if args.trials is None else f" --trials {args.trials}"
    command = f"symbo demo{trials}{demo.demo_options(storage, args.study, args.epochs)}"
    with _interrupt_hint(args.study, storage, command):
        demo.run_demo(args.trials, storage=storage, study_name=args.study, epochs=args.epochs,
                      workers=args.workers, algorithm=algorithm, seed=args.seed,
                      use_early_stopping=not args.no_early_stopping, plot=plot, quiet=args.quiet)
    return 0


def _policy(args: argparse.Namespace, settings: dict[str, Any]) -> Any:
    """``--early-stopping`` (``none``: off); else the script's ``early_stopping``."""
    policy = parse_policy(args.early_stopping)
    if policy is UNSET:
        policy = settings.get("early_stopping")
        if policy is not None and not hasattr(policy, "should_stop"):
            policy = None
    return policy


def add_parser(sub: Any) -> None:
    """Adds ``run``, ``resume`` and ``demo`` to the subcommands ``sub``."""
    p = sub.add_parser("run", help="search with a script or a .sym space and an objective",
                       description="Run a search: SCRIPT.py defining `space` and `objective` (or "
                       "main()), or SPACE.sym with --objective module:function.")
    p.add_argument("target", metavar="SCRIPT_OR_SPACE")
    p.add_argument("--objective", metavar="MODULE:FUNCTION")
    p.add_argument("--storage", metavar="URL", help="where to keep the study (default: memory)")
    p.add_argument("--study", metavar="NAME", help="the study's name (default: the file's stem)")
    add_import_option(p)
    add_running_options(p)
    p.set_defaults(run=cmd_run)

    p = sub.add_parser("resume", help="continue a stored study")
    add_study_options(p)
    p.add_argument("--objective", metavar="MODULE:FUNCTION")
    p.add_argument("--script", metavar="SCRIPT", help="a script defining `objective` (and `space`)")
    add_running_options(p)
    p.set_defaults(run=cmd_resume)

    from symbo import demo as defaults

    p = sub.add_parser("demo", help="the main job: a real search on digits in about a minute",
                       description="Search an MLP for scikit-learn's digits (architecture and "
                       "training hyperparameters) with TPE and ASHA, kept in SQLite; running it "
                       "again continues the study.")
    p.add_argument("--trials", type=non_negative, metavar="N",
                   help=f"run until the study has N trials (default {defaults.TRIALS}; a study "
                   f"that has them already gets {defaults.MORE} more)")
    p.add_argument("--storage", default=defaults.STORAGE, metavar="URL",
                   help=f"default {defaults.STORAGE}; memory: keeps nothing")
    p.add_argument("--study", default=defaults.STUDY_NAME, metavar="NAME")
    p.add_argument("--epochs", type=positive, default=defaults.EPOCHS, metavar="N",
                   help=f"training epochs per trial (default {defaults.EPOCHS})")
    p.add_argument("--workers", type=positive, metavar="N",
                   help="trials at once (default: 2 with two cores or more)")
    p.add_argument("--algorithm", metavar="TEXT", help="default: TPE")
    p.add_argument("--seed", type=int, default=0, metavar="S")
    p.add_argument("--no-early-stopping", action="store_true", help="train every trial fully")
    p.add_argument("--plot", metavar="FILE.png", help="where to plot the history "
                   "(default: beside the database)")
    p.add_argument("--no-plot", action="store_true")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=cmd_demo)
