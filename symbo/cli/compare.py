"""``symbo compare SCRIPT --algorithms TPE,Random --seeds N --trials T -o compare.png``.

SCRIPT defines ``space`` and ``objective`` (and may define ``objectives``, e.g. ``("min",)``).
Every algorithm (text in the space language, separated by commas outside parentheses; each
run gets its seed unless the text sets one) runs once per seed for the same number of trials
through :func:`symbo.compare`; the table of the mean best value so far with its confidence
interval is printed and the curves are drawn. With ``--storage`` every run is a study there,
so running the command again resumes the comparison.

>>> split_algorithms("TPE, RegularizedEvolution(population_size=20, tournament_size=5),Random")
['TPE', 'RegularizedEvolution(population_size=20, tournament_size=5)', 'Random']
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from symbo.cli.algorithms import parse_algorithm
from symbo.cli.errors import CLIError
from symbo.cli.options import positive
from symbo.cli.studies import storage_url
from symbo.cli.usercode import run_script, script_context, user_code


def split_algorithms(text: str) -> list[str]:
    """The algorithm texts of ``--algorithms``: split at commas outside brackets."""
    out, depth, current = [], 0, []
    for ch in text:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        if ch == "," and depth == 0:
            out.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
    out.append("".join(current).strip())
    return [t for t in out if t]


def _factory(text: str) -> Any:
    def make(seed: int) -> Any:
        return parse_algorithm(text if "(" in text else f"{text}()", seed)

    make(0)  # a bad text fails here, before anything runs
    return make


def cmd_compare(args: argparse.Namespace) -> int:
    import symbo as sb

    texts = split_algorithms(args.algorithms)
    if not texts:
        raise CLIError("--algorithms names no algorithm (e.g. --algorithms TPE,Random)")
    if len(set(texts)) != len(texts):
        raise CLIError(f"--algorithms names an algorithm twice: {args.algorithms!r}")
    factories = {text: _factory(text) for text in texts}
    namespace = run_script(args.script)
    objective, space = namespace.get("objective"), namespace.get("space")
    if objective is None or space is None:
        raise CLIError(f"{args.script} must define `space` and `objective`")
    objectives = tuple(namespace.get("objectives", ("max",)))
    budgets = [int(b) for b in args.budgets.split(",")] if args.budgets else None
    storage = storage_url(args.storage) if args.storage else None
    with script_context(args.script), user_code(f"{args.script}: compare"):
        result = sb.compare(objective, space, factories, seeds=args.seeds, num_trials=args.trials,
                            workers=args.workers, storage=storage, objectives=objectives,
                            budgets=budgets, progress=not args.quiet)
    print(result.format())
    if args.save:
        result.save(args.save)
        print(f"wrote {args.save}")
    if args.output:
        try:
            result.plot(args.output, log=args.log)
        except sb.SymbolicValueError as e:
            raise CLIError(str(e)) from None
        print(f"wrote {os.fspath(args.output)}")
    return 0


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "compare", help="compare algorithms on a script's space and objective, over seeds",
        description="Runs every algorithm with every seed for the same number of trials "
        "(sb.compare) and prints the mean best value so far with its 95%% confidence interval.")
    p.add_argument("script", metavar="SCRIPT", help="a .py file defining space and objective")
    p.add_argument("--algorithms", required=True, metavar="A,B",
                   help="algorithms, e.g. TPE,Random,'RegularizedEvolution(population_size=20)'")
    p.add_argument("--seeds", type=positive, default=5, metavar="N", help="seeds 0..N-1 (5)")
    p.add_argument("--trials", type=positive, default=50, metavar="T", help="trials per run (50)")
    p.add_argument("--workers", type=positive, default=1, metavar="N",
                   help="trials at once within each run")
    p.add_argument("--storage", metavar="URL", help="keep every run as a study there (resumable)")
    p.add_argument("--budgets", metavar="B,B", help="budgets of the table (25,50,100,200,T)")
    p.add_argument("-o", "--output", metavar="PNG", help="write the curves with their bands")
    p.add_argument("--log", action="store_true", help="log scale for the plot's y axis")
    p.add_argument("--save", metavar="JSON", help="save the comparison (sb.Comparison.load)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=cmd_compare)


if __name__ == "__main__":  # pragma: no cover
    sys.exit("run it as: symbo compare SCRIPT ...")
