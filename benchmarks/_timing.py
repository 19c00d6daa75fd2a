"""Helpers shared by the benchmark scripts: timing, table formatting and machine facts.

Imported as a sibling module (``from _timing import ...``): the scripts are run as files
(``python benchmarks/core_bench.py``), which puts ``benchmarks/`` first on ``sys.path``.

Timing follows ``timeit``: a loop of ``number`` calls (``number`` calibrated so that one loop
lasts at least ``min_time`` seconds), repeated ``repeat`` times with the garbage collector off
during each loop; the figure is the median loop time divided by ``number``, in microseconds.
"""

from __future__ import annotations

import gc
import itertools
import os
import platform
import statistics
import subprocess
import time
from collections.abc import Callable
from importlib import metadata
from typing import Any

import symbo as sb


def _loop(fn: Callable[[], Any], number: int) -> float:
    """Seconds taken by ``number`` calls of ``fn`` with the garbage collector off."""
    calls = itertools.repeat(None, number)
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        for _ in calls:
            fn()
        return time.perf_counter() - start
    finally:
        if gc_was_enabled:
            gc.enable()


def time_op(fn: Callable[[], Any], repeat: int, min_time: float) -> float:
    """Median time of one call of ``fn`` in microseconds."""
    fn()  # warm up (caches, generated code)
    number = 1
    while True:  # calibrate: grow the loop until it lasts at least min_time / 4
        elapsed = _loop(fn, number)
        if elapsed >= min_time / 4:
            break
        number *= 2 if elapsed < min_time / 40 else 4
    number = max(1, int(number * min_time / elapsed))
    times = []
    for _ in range(repeat):
        gc.collect()
        times.append(_loop(fn, number) / number)
    return statistics.median(times) * 1e6


def fmt_us(value: float | None) -> str:
    """Microseconds for a table cell: two decimals below 100, whole numbers above."""
    if value is None:
        return "-"
    return f"{value:,.2f}" if value < 100 else f"{value:,.0f}"


def markdown_table(header: list[str], body: list[list[str]]) -> str:
    """A Markdown table (readable as plain text too): first column left, the rest right."""
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]

    def fmt(cells: list[str]) -> str:
        pairs = enumerate(zip(cells, widths, strict=True))
        out = [c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in pairs]
        return "| " + " | ".join(out) + " |"

    rule = "|" + "|".join(
        "-" * (w + 1) + ("-" if i == 0 else ":") for i, w in enumerate(widths)
    ) + "|"
    return "\n".join([fmt(header), rule, *(fmt(line) for line in body)])


def git_state() -> str:
    """The commit of the symbo checkout, marked dirty when the working tree has edits."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(sb.__file__)))
    try:
        head = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", root, "status", "--porcelain", "--", "symbo"],
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "not a git checkout"
    return f"git {head}{', symbo/ modified' if dirty else ''}"


def environment(**peers: str) -> dict[str, str]:
    """Versions and machine facts printed above the table; ``peers`` adds name=version rows."""
    return {
        "python": f"{platform.python_version()} ({platform.python_implementation()})",
        "platform": platform.platform(),
        "cpus": str(os.cpu_count()),
        "symbo": f"{metadata.version('symbo')} ({git_state()})",
        **peers,
    }


def print_header(env: dict[str, str], repeat: int, min_time: float) -> None:
    """The environment and the timing method, as printed above a table."""
    for key, value in env.items():
        print(f"{key + ':':10} {value}")
    print(f"timing:    median of {repeat} loops of >= {min_time:g} s each, "
          "gc off inside loops; µs per operation\n", flush=True)


def add_timing_arguments(parser: Any, *, repeat: int = 7, min_time: float = 0.1) -> None:
    """``--repeat``, ``--min-time`` and ``--json``, as every timing script takes them."""
    parser.add_argument("--repeat", type=int, default=repeat,
                        help=f"timed loops per measurement (>= 5, default {repeat})")
    parser.add_argument("--min-time", type=float, default=min_time,
                        help=f"seconds each timed loop lasts at least (default {min_time})")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON here")


def finish(misses: int, started: float, results: Any, json_path: str | None) -> int:
    """Prints the closing line (targets are informational) and writes the JSON; returns 0."""
    import json

    print(f"\n{misses} target(s) missed (informational); "
          f"took {time.perf_counter() - started:.1f} s")
    if json_path:
        with open(json_path, "w", encoding="utf-8") as f:
            json.dump(results, f, indent=2, default=str)
    return 0
