"""Search spaces: symbo vs PyGlove 0.4.5, side by side in one run, on the issue's reference space.

Run it with ``make bench`` (which builds ``.venv-bench``) or directly::

    .venv-bench/bin/python benchmarks/dsl_bench.py [--repeat 7] [--min-time 0.1] [--json out.json]

Timing is the same as in ``core_bench.py`` (shared in ``_timing.py``): a loop of ``number``
calls (``number`` calibrated so that one loop lasts at least ``--min-time`` seconds), repeated
``--repeat`` times with the garbage collector off during each loop; the figure is the median loop
time divided by ``number``, in microseconds per operation.

The space (the issue's reference): a symbolic ``Model`` holding a list of 4 conv ``Block``s, each
with three four-way ``one_of`` (kernel, activation, filters) and a ``float_range`` (dropout),
plus a four-way ``one_of`` optimizer, a log-scale learning rate, and four-way batch-size and
epochs choices: 4 * 4 + 4 = 20 decisions. The same classes and markers are written in both
libraries (symbo ``sb.one_of``/``sb.float_range``, PyGlove ``pg.oneof``/``pg.floatv``).

Operations (``spec``, ``dna`` and the random generators are built once, outside the loop):

1. random DNA: ``sb.random_dna(spec, rng)`` vs ``pg.random_dna(spec, rng)``, ``rng`` a shared
   ``random.Random`` (both attach the spec to the DNA);
2. materialize (checked): ``sb.materialize(space, dna, spec=spec)`` (validates the DNA against
   the spec, the default) vs ``pg.materialize(space, dna)`` (builds a template of the space,
   then decodes: a deep clone plus a rebind; each primitive checks its own decision), cycling
   through 16 DNAs drawn beforehand;
3. random sample, fresh spec: everything from the space to a program, the spec included.
   symbo ``sb.random_sample(space, seed=rng)`` (``dna_spec`` + ``random_dna`` + ``materialize``
   with ``check=False``); PyGlove ``next(pg.random_sample(space, seed=i))`` on a new iterator
   each time (``template`` + ``dna_spec`` + ``geno.Random(i)`` set-up + ``random_dna`` +
   ``decode``; ``i`` counts up);
4. random sample, cached spec: a PyGlove ``pg.random_sample`` iterator builds the template and
   spec once, so ``next()`` on one long-lived iterator costs ``random_dna`` + ``decode``. symbo
   has no iterator form; its equivalent is the body of ``sb.random_sample`` with the spec built
   once: ``sb.materialize(space, sb.random_dna(spec, rng), spec=spec, check=False)``;
5. DNA spec: ``sb.dna_spec(space)`` vs ``pg.dna_spec(space)``.

Target (from the issue): symbo at least 50x faster than PyGlove on each operation. The script
prints PASS/MISS per row for information and exits 0 either way (it exits 1 only if a sanity
check fails: both spaces have 20 decisions with the same ids, the same numbers give the same
program in both, samples hold no markers, and symbo's checked materialize rejects a bad DNA).
"""

from __future__ import annotations

import argparse
import itertools
import random
import sys
import time
from collections.abc import Callable, Iterator
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

NUM_BLOCKS = 4
NUM_DECISIONS = 20
SPEEDUP_TARGET = 50.0  # PyGlove time / symbo time, at least
NUM_DNAS = 16  # distinct DNAs cycled through by the materialize row

KERNELS = [1, 3, 5, 7]
ACTIVATIONS = ["relu", "gelu", "silu", "tanh"]
FILTERS = [16, 32, 64, 128]
DROPOUT = (0.0, 0.5)
OPTIMIZERS = ["sgd", "adam", "adamw", "rmsprop"]
LEARNING_RATE = (1e-4, 1e-1)  # log scale
BATCH_SIZES = [32, 64, 128, 256]
EPOCHS = [10, 20, 50, 100]


# ---- the space, in both libraries ---------------------------------------------------------------
class Block(sb.Object):
    """A conv block, symbo version."""

    kernel: int = 3
    act: str = "relu"
    filters: int = 32
    dropout: float = 0.0


class Model(sb.Object):
    """The model, symbo version."""

    blocks: list[Block] = []
    optimizer: str = "adam"
    lr: float = 1e-3
    batch_size: int = 32
    epochs: int = 10


class PgBlock(pg.Object):
    """The same block in PyGlove 0.4.5 (annotation form)."""

    kernel: int = 3
    act: str = "relu"
    filters: int = 32
    dropout: float = 0.0


class PgModel(pg.Object):
    """The same model in PyGlove 0.4.5."""

    blocks: list[PgBlock] = []
    optimizer: str = "adam"
    lr: float = 1e-3
    batch_size: int = 32
    epochs: int = 10


def sb_space() -> Model:
    """The reference space in symbo: 20 decisions."""
    return Model(
        blocks=[
            Block(kernel=sb.one_of(KERNELS), act=sb.one_of(ACTIVATIONS),
                  filters=sb.one_of(FILTERS), dropout=sb.float_range(*DROPOUT))
            for _ in range(NUM_BLOCKS)
        ],
        optimizer=sb.one_of(OPTIMIZERS),
        lr=sb.float_range(*LEARNING_RATE, scale="log"),
        batch_size=sb.one_of(BATCH_SIZES),
        epochs=sb.one_of(EPOCHS),
    )


def pg_space() -> PgModel:
    """The same space in PyGlove 0.4.5."""
    return PgModel(
        blocks=[
            PgBlock(kernel=pg.oneof(KERNELS), act=pg.oneof(ACTIVATIONS),
                    filters=pg.oneof(FILTERS), dropout=pg.floatv(*DROPOUT))
            for _ in range(NUM_BLOCKS)
        ],
        optimizer=pg.oneof(OPTIMIZERS),
        lr=pg.floatv(*LEARNING_RATE, scale="log"),
        batch_size=pg.oneof(BATCH_SIZES),
        epochs=pg.oneof(EPOCHS),
    )


def plain(program: Any) -> dict[str, Any]:
    """The field values of a materialized program of either library, as plain data."""
    return {
        "blocks": [
            {"kernel": b.kernel, "act": b.act, "filters": b.filters, "dropout": b.dropout}
            for b in program.blocks
        ],
        "optimizer": program.optimizer,
        "lr": program.lr,
        "batch_size": program.batch_size,
        "epochs": program.epochs,
    }


# ---- checks ------------------------------------------------------------------------------------
@dataclass
class Row:
    """One operation: per-op microseconds in symbo and in PyGlove."""

    op: str
    symbo_us: float
    pyglove_us: float

    @property
    def speedup(self) -> float:
        return self.pyglove_us / self.symbo_us


def _require(ok: bool, what: str) -> None:
    if not ok:
        raise SystemExit(f"dsl_bench: sanity check failed: {what}")


def check_equivalence() -> None:
    """Fails loudly if the two spaces differ or an operation does not do what it claims."""
    s_space, p_space = sb_space(), pg_space()
    s_spec, p_spec = sb.dna_spec(s_space), pg.dna_spec(p_space)
    s_ids = [d.id for d in s_spec.decision_points]
    p_ids = [str(d.id) for d in p_spec.decision_points]
    _require(len(s_ids) == NUM_DECISIONS, f"symbo space has {NUM_DECISIONS} decisions")
    _require(len(p_ids) == NUM_DECISIONS, f"PyGlove space has {NUM_DECISIONS} decisions")
    _require(s_ids == p_ids, "both spaces have the same decision ids in the same order")

    rng = random.Random(0)
    for _ in range(5):  # the same numbers give the same program, in both directions
        s_dna = sb.random_dna(s_spec, rng)
        p_dna = pg.random_dna(p_spec, rng)
        for numbers in (s_dna.to_numbers(), p_dna.to_numbers()):
            s_prog = sb.materialize(s_space, sb.DNA.from_numbers(s_spec, numbers), spec=s_spec)
            p_prog = pg.materialize(p_space, pg.DNA(numbers))
            _require(plain(s_prog) == plain(p_prog), "same numbers, same program")
            _require(sb.is_deterministic(s_prog) and pg.is_deterministic(p_prog),
                     "materialized programs hold no markers")

    s_sample = sb.random_sample(s_space, seed=rng)
    p_sample = next(pg.random_sample(p_space, seed=0))
    _require(isinstance(s_sample, Model) and sb.is_deterministic(s_sample),
             "symbo random_sample gives a program")
    _require(isinstance(p_sample, PgModel) and pg.is_deterministic(p_sample),
             "PyGlove random_sample gives a program")
    _require(sb.is_deterministic(s_sample) and not sb.is_deterministic(s_space),
             "symbo leaves the space untouched")

    good = sb.random_dna(s_spec, rng)
    bad = sb.DNA(None, (sb.DNA(len(KERNELS)), *good.children[1:]))
    try:
        sb.materialize(s_space, bad, spec=s_spec)
    except sb.DNAError:
        pass
    else:
        _require(False, "symbo materialize (checked) rejects an out-of-range index")


# ---- the operations -----------------------------------------------------------------------------
def run(repeat: int, min_time: float) -> list[Row]:
    """Measures every operation; returns one row per operation."""
    check_equivalence()

    def measure(op: str, sb_fn: Callable[[], Any], pg_fn: Callable[[], Any]) -> Row:
        return Row(op, time_op(sb_fn, repeat, min_time), time_op(pg_fn, repeat, min_time))

    s_space, p_space = sb_space(), pg_space()
    s_spec, p_spec = sb.dna_spec(s_space), pg.dna_spec(p_space)
    s_rng, p_rng = random.Random(1), random.Random(1)
    s_dnas = itertools.cycle([sb.random_dna(s_spec, s_rng) for _ in range(NUM_DNAS)])
    p_dnas = itertools.cycle([pg.random_dna(p_spec, p_rng) for _ in range(NUM_DNAS)])
    seeds = itertools.count()
    p_stream: Iterator[Any] = pg.random_sample(p_space, seed=0)  # infinite; spec built once

    return [
        measure("random DNA",
                lambda: sb.random_dna(s_spec, s_rng),
                lambda: pg.random_dna(p_spec, p_rng)),
        measure("materialize (checked)",
                lambda: sb.materialize(s_space, next(s_dnas), spec=s_spec),
                lambda: pg.materialize(p_space, next(p_dnas))),
        measure("random sample (fresh spec)",
                lambda: sb.random_sample(s_space, seed=s_rng),
                lambda: next(pg.random_sample(p_space, seed=next(seeds)))),
        measure("random sample (cached spec)",
                lambda: sb.materialize(s_space, sb.random_dna(s_spec, s_rng), spec=s_spec,
                                       check=False),
                lambda: next(p_stream)),
        measure("DNA spec",
                lambda: sb.dna_spec(s_space),
                lambda: pg.dna_spec(p_space)),
    ]


# ---- output -------------------------------------------------------------------------------------
def format_table(rows: list[Row]) -> str:
    """A Markdown table (readable as plain text too)."""
    header = ["operation", "symbo µs", "PyGlove µs", "speed-up (PG/sb)",
              f">= {SPEEDUP_TARGET:g}x"]
    body = [
        [r.op, fmt_us(r.symbo_us), fmt_us(r.pyglove_us), f"{r.speedup:,.1f}x",
         "PASS" if r.speedup >= SPEEDUP_TARGET else "MISS"]
        for r in rows
    ]
    return markdown_table(header, body)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_timing_arguments(parser)
    args = parser.parse_args(argv)
    if args.repeat < 5:
        parser.error("--repeat must be at least 5")

    env = environment(pyglove=pg.__version__)
    env["space"] = f"Model of {NUM_BLOCKS} Blocks, {NUM_DECISIONS} decisions"
    print_header(env, args.repeat, args.min_time)

    started = time.perf_counter()
    rows = run(args.repeat, args.min_time)
    print(format_table(rows))
    misses = sum(r.speedup < SPEEDUP_TARGET for r in rows)
    return finish(misses, started, {"environment": env, "rows": [asdict(r) for r in rows]}, args.json)


if __name__ == "__main__":
    sys.exit(main())
