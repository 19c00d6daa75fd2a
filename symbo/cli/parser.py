"""The argument parser of ``symbo``: one subcommand per command module.

A command module has ``add_parser(sub)``, which adds its subcommands (each with
``set_defaults(run=function)``); add a new module to :data:`COMMAND_MODULES`.

>>> build_parser().parse_args(["show", "study.db", "search"]).name
'search'
"""

from __future__ import annotations

import argparse
import importlib

#: the modules whose ``add_parser(sub)`` adds the subcommands, in the order ``--help`` lists them
COMMAND_MODULES = ["symbo.cli.search", "symbo.cli.report", "symbo.cli.compare"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``symbo``."""
    from symbo import __version__

    parser = argparse.ArgumentParser(
        prog="symbo", description="symbo: symbolic AutoML for PyTorch. Run, inspect, resume, "
        "export and plot searches; STORAGE is a URL (sqlite:///study.db) or a SQLite file path.")
    parser.add_argument("--version", action="version", version=f"symbo {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMAND_MODULES:
        importlib.import_module(name).add_parser(sub)
    return parser
