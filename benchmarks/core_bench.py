"""Core object model: symbo vs PyGlove 0.4.5 (and plain Python), side by side in one run.

Run it with ``make bench`` (which builds ``.venv-bench``) or directly::

    .venv-bench/bin/python benchmarks/core_bench.py [--repeat 7] [--min-time 0.1] [--json out.json]

Every operation is timed the same way for every implementation: a loop of ``number`` calls
(``number`` is calibrated so that one loop lasts at least ``--min-time`` seconds), repeated
``--repeat`` times with the garbage collector off during each loop (as ``timeit`` does); the
reported figure is the median loop time divided by ``number``, in microseconds per operation.

Operations (the tree is a list of 40 four-field objects: 1 list + 40 objects + 160 leaves):

1. construct one four-field object from four keyword arguments;
2. deep clone of the tree (plain baseline: ``copy.deepcopy`` of the same shape in dicts);
3. JSON round trip of the tree through a string (plain: ``json.loads(json.dumps(dicts))``);
4. rebind one leaf (``"[3].units"``) to alternating values;
5. structural equality of the tree with a deep clone of it;
6. structural hash of the tree.

Targets (from the issue): symbo at least 20x faster than PyGlove on each operation, and within
4x of plain ``deepcopy``/``json`` for clone and JSON. The script prints PASS/MISS per row for
information and exits 0 either way (it exits 1 only if a sanity check of the results fails).
"""

from __future__ import annotations

import argparse
import copy
import itertools
import json
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import pyglove as pg
from _timing import (
    add_timing_arguments,
    environment,
    finish,
    fmt_us,
    markdown_table,
    print_header,
    time_op,
)

import symbo as sb

NUM_LAYERS = 40
SPEEDUP_TARGET = 20.0  # PyGlove time / symbo time, at least
PLAIN_TARGET = 4.0  # symbo time / plain time, at most
ACTIVATIONS = ("relu", "gelu", "tanh")


# ---- the measured classes -----------------------------------------------------------------------
class SbLayer(sb.Object):
    """The four-field object, symbo version."""

    units: int = 64
    activation: str = "relu"
    dropout: float = 0.0
    use_bias: bool = True


class PgLayer(pg.Object):
    """The same object in PyGlove 0.4.5 (annotation form; same schema as ``@pg.members``)."""

    units: int = 64
    activation: str = "relu"
    dropout: float = 0.0
    use_bias: bool = True


def layer_kwargs(i: int) -> dict[str, Any]:
    """Field values of the i-th layer of the tree (varied, so nothing is shared by accident)."""
    return {
        "units": 16 * (i % 8 + 1),
        "activation": ACTIVATIONS[i % len(ACTIVATIONS)],
        "dropout": round(0.01 * i, 2),
        "use_bias": i % 2 == 0,
    }


def sb_tree() -> sb.List:
    return sb.List([SbLayer(**layer_kwargs(i)) for i in range(NUM_LAYERS)])


def pg_tree() -> pg.List:
    return pg.List([PgLayer(**layer_kwargs(i)) for i in range(NUM_LAYERS)])


def plain_tree() -> list[dict[str, Any]]:
    return [layer_kwargs(i) for i in range(NUM_LAYERS)]


# ---- the operations -----------------------------------------------------------------------------
@dataclass
class Row:
    """One operation: per-op microseconds for each implementation (None where not measured)."""

    op: str
    symbo_us: float
    pyglove_us: float
    plain_us: float | None = None

    @property
    def speedup(self) -> float:
        return self.pyglove_us / self.symbo_us

    @property
    def plain_ratio(self) -> float | None:
        return None if self.plain_us is None else self.symbo_us / self.plain_us


def _alternating(path: str, target: Any) -> Callable[[], Any]:
    values = itertools.cycle((32, 64))
    return lambda: target.rebind({path: next(values)})


def _require(ok: bool, what: str) -> None:
    if not ok:
        raise SystemExit(f"core_bench: sanity check failed: {what}")


def check_equivalence() -> None:
    """Fails loudly if an implementation does not do what the benchmark claims to measure."""
    a, p, d = sb_tree(), pg_tree(), plain_tree()
    _require([{k: v for k, v in x.items() if k != "_type"} for x in sb.to_json(a)] == d,
             "symbo JSON holds the plain values")
    sc, pc = sb.clone(a), p.clone(deep=True)
    _require(sc is not a and sc[0] is not a[0] and sb.eq(sc, a) and sb.hash(sc) == sb.hash(a),
             "symbo clone is a distinct equal tree")
    _require(pc is not p and pc[0] is not p[0] and pg.eq(pc, p) and pg.hash(pc) == pg.hash(p),
             "PyGlove clone is a distinct equal tree")
    _require(sb.eq(sb.from_json(json.loads(json.dumps(sb.to_json(a)))), a),
             "symbo JSON round trip gives an equal tree")
    _require(pg.eq(pg.from_json_str(pg.to_json_str(p)), p),
             "PyGlove JSON round trip gives an equal tree")
    a.rebind({"[3].units": 7})
    p.rebind({"[3].units": 7})
    _require(a[3].units == 7 and p[3].units == 7, "rebind sets the leaf")
    _require(not sb.eq(a, sc) and not pg.eq(p, pc), "eq sees the rebound leaf")
    _require(sb.hash(a) != sb.hash(sc) and pg.hash(p) != pg.hash(pc), "hash sees the rebound leaf")


def run(repeat: int, min_time: float) -> list[Row]:
    """Measures every operation; returns one row per operation."""
    check_equivalence()

    def measure(op: str, sb_fn: Callable[[], Any], pg_fn: Callable[[], Any],
                plain_fn: Callable[[], Any] | None = None) -> Row:
        return Row(op, time_op(sb_fn, repeat, min_time), time_op(pg_fn, repeat, min_time),
                   None if plain_fn is None else time_op(plain_fn, repeat, min_time))

    sa, pa, da = sb_tree(), pg_tree(), plain_tree()
    sa_clone, pa_clone = sb.clone(sa), pa.clone(deep=True)
    s_rebind, p_rebind = sb_tree(), pg_tree()
    dumps, loads = json.dumps, json.loads
    return [
        measure("construct (4 fields)",
                lambda: SbLayer(units=64, activation="relu", dropout=0.0, use_bias=True),
                lambda: PgLayer(units=64, activation="relu", dropout=0.0, use_bias=True)),
        measure("deep clone (201 nodes)",
                lambda: sb.clone(sa),
                lambda: pa.clone(deep=True),
                lambda: copy.deepcopy(da)),
        measure("JSON round trip",
                lambda: sb.from_json(loads(dumps(sb.to_json(sa)))),
                lambda: pg.from_json_str(pg.to_json_str(pa)),
                lambda: loads(dumps(da))),
        measure("rebind one leaf",
                _alternating("[3].units", s_rebind),
                _alternating("[3].units", p_rebind)),
        measure("eq (tree vs clone)",
                lambda: sb.eq(sa, sa_clone),
                lambda: pg.eq(pa, pa_clone)),
        measure("hash (tree)",
                lambda: sb.hash(sa),
                lambda: pg.hash(pa)),
    ]


# ---- output -------------------------------------------------------------------------------------
def format_table(rows: list[Row]) -> str:
    """A Markdown table (readable as plain text too)."""
    header = ["operation", "symbo µs", "PyGlove µs", "speed-up (PG/sb)",
              f">= {SPEEDUP_TARGET:g}x", "plain µs", "symbo/plain", f"<= {PLAIN_TARGET:g}x"]
    body = []
    for r in rows:
        ratio = r.plain_ratio
        body.append([
            r.op, fmt_us(r.symbo_us), fmt_us(r.pyglove_us), f"{r.speedup:,.1f}x",
            "PASS" if r.speedup >= SPEEDUP_TARGET else "MISS",
            fmt_us(r.plain_us), "-" if ratio is None else f"{ratio:.2f}x",
            "-" if ratio is None else ("PASS" if ratio <= PLAIN_TARGET else "MISS"),
        ])
    return markdown_table(header, body)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_timing_arguments(parser)
    args = parser.parse_args(argv)
    if args.repeat < 5:
        parser.error("--repeat must be at least 5")

    env = environment(pyglove=pg.__version__)
    print_header(env, args.repeat, args.min_time)

    started = time.perf_counter()
    rows = run(args.repeat, args.min_time)
    print(format_table(rows))
    misses = sum(r.speedup < SPEEDUP_TARGET for r in rows) + sum(
        r.plain_ratio is not None and r.plain_ratio > PLAIN_TARGET for r in rows)
    return finish(misses, started, {"environment": env, "rows": [asdict(r) for r in rows]}, args.json)


if __name__ == "__main__":
    sys.exit(main())
