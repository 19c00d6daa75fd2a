"""The commands that read studies: ``symbo show``, ``best``, ``export`` and ``plot``.

They import only what symbo itself provides (its modules, torch's symbolized classes); a space
naming the user's classes is read with those objects as plain dicts unless ``--import MODULE``
imports the module that defines them.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from symbo.backends.study import Study
from symbo.cli.errors import CLIError
from symbo.cli.options import add_study_options, chosen_study, positive
from symbo.cli.studies import open_storage_arg, open_study
from symbo.cli.tables import fmt_value, print_best, summary_line, table, trials_table
from symbo.cli.usercode import import_module
from symbo.core.formatting import format as sym_format


def cmd_show(args: argparse.Namespace) -> int:
    for name in args.imports:
        import_module(name)
    name = chosen_study(args)
    if name is None:
        storage = open_storage_arg(args.storage, must_exist=True)
        studies = storage.list_studies()
        if not studies:
            print(f"no studies in {storage.url}")
            return 0
        if len(studies) == 1:  # the one study of the file: shown as `symbo best` shows it
            return _show_study(args.storage, studies[0].name)
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
        print(f"\n(symbo show {args.storage} NAME shows a study's trials)")
        return 0
    return _show_study(args.storage, name)


def _show_study(where: str, name: str) -> int:
    study = open_study(where, name, err=sys.stderr, structural=True)
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
    study = open_study(args.storage, chosen_study(args), err=sys.stderr, structural=True)
    print(f"study {study.name!r}: {summary_line(study)}")
    print_best(study, k=args.k)
    return 0



def cmd_export(args: argparse.Namespace) -> int:
    for name in args.imports:
        import_module(name)
    study = open_study(args.storage, chosen_study(args), err=sys.stderr, structural=True)
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
        study = open_study(args.storage, chosen_study(args), err=sys.stderr, structural=True)
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


def add_parser(sub: Any) -> None:
    """Adds ``show``, ``best``, ``export`` and ``plot`` to the subcommands ``sub``."""
    p = sub.add_parser("show", help="the studies of a storage, or one study's trials")
    add_study_options(p)
    p.set_defaults(run=cmd_show)

    p = sub.add_parser("best", help="the best trials of a study and its best program")
    add_study_options(p)
    p.add_argument("--k", type=positive, default=5, help="how many trials (default 5)")
    p.set_defaults(run=cmd_best)

    p = sub.add_parser("export", help="write a study's trials to CSV or JSON")
    add_study_options(p)
    p.add_argument("-o", "--output", required=True, metavar="FILE", help="out.csv or out.json")
    p.add_argument("--format", choices=("csv", "json"), help="default: from the file's suffix")
    p.set_defaults(run=cmd_export)

    p = sub.add_parser("plot", help="plot a study (PNG)")
    add_study_options(p, storage_optional=True)
    p.add_argument("-o", "--output", required=True, metavar="FILE.png")
    p.add_argument("--kind", choices=("history", "parallel", "intermediate", "darts"),
                   default="history")
    p.add_argument("--params", metavar="A,B,...", help="the decisions of a parallel plot")
    p.add_argument("--alphas", metavar="FILE.json",
                   help="a DARTS architecture-weight history (for --kind darts)")
    p.set_defaults(run=cmd_plot)
