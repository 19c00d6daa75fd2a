"""Options shared by several commands, so that every command spells them the same way.

A command module adds its subcommand with ``add_parser(sub)`` and uses these helpers:

>>> import argparse
>>> parser = argparse.ArgumentParser()
>>> add_study_options(parser)
>>> args = parser.parse_args(["study.db", "search"])
>>> chosen_study(args)
'search'
>>> chosen_study(parser.parse_args(["study.db", "--study", "search"]))
'search'
"""

from __future__ import annotations

import argparse

from symbo.cli.errors import CLIError


def positive(text: str) -> int:
    """An argparse type: a whole number >= 1."""
    value = _whole(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {value}")
    return value


def non_negative(text: str) -> int:
    """An argparse type: a whole number >= 0."""
    value = _whole(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {value}")
    return value


def seconds(text: str) -> float:
    """An argparse type: a number of seconds > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number of seconds > 0, got {text}")
    return value


def _whole(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None


def add_storage_argument(p: argparse.ArgumentParser, *, optional: bool = False) -> None:
    """The STORAGE positional: a URL or a SQLite file path."""
    p.add_argument("storage", metavar="STORAGE", nargs="?" if optional else None,
                   help="a storage URL (sqlite:///study.db) or a SQLite file path")


def add_study_options(p: argparse.ArgumentParser, *, storage_optional: bool = False) -> None:
    """STORAGE, then the study's name as a positional NAME or ``--study NAME`` (either may be
    left out when the storage holds one study), and ``--import MODULE``."""
    add_storage_argument(p, optional=storage_optional)
    p.add_argument("name", metavar="NAME", nargs="?",
                   help="the study's name (or --study NAME)")
    p.add_argument("--study", metavar="NAME",
                   help="the study's name (may be left out when the storage holds one)")
    add_import_option(p)


def add_import_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--import", dest="imports", action="append", default=[], metavar="MODULE",
                   help="import MODULE first (registers the classes a stored space names)")


def chosen_study(args: argparse.Namespace) -> str | None:
    """The study named by the positional NAME or ``--study`` (None: neither was given)."""
    positional, option = getattr(args, "name", None), getattr(args, "study", None)
    if positional is not None and option is not None and positional != option:
        raise CLIError(f"two study names were given: {positional!r} and --study {option!r}")
    return positional if positional is not None else option


def add_running_options(p: argparse.ArgumentParser) -> None:
    """The options of a command that runs trials (``run``, ``resume``)."""
    p.add_argument("--trials", type=non_negative, metavar="N",
                   help="run until the study has N trials")
    p.add_argument("--workers", type=positive, default=1, metavar="N",
                   help="trials at once, in worker processes (default 1)")
    p.add_argument("--backend", choices=("local", "ray"), default="local")
    p.add_argument("--timeout", type=seconds, metavar="SECONDS",
                   help="fail a trial that runs longer (runs trials in worker processes)")
    p.add_argument("--time-budget", type=seconds, metavar="SECONDS",
                   help="start no new trial after this many seconds")
    p.add_argument("--early-stopping", metavar="TEXT",
                   help='an early-stopping policy, e.g. "ASHA(min_resource=2)"; none: off')
    p.add_argument("--algorithm", metavar="TEXT",
                   help='e.g. "RegularizedEvolution(population_size=20)" (default: run uses '
                   "the script's `algorithm`, else sb.algorithms.Auto, as sb.tune does; resume "
                   "uses the study's)")
    p.add_argument("--seed", type=int, metavar="S", help="the algorithm's seed")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
