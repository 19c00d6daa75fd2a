"""Random branchy functions for property tests of define-by-run (hypothesis strategies).

A program is a block of statements; each statement calls one named marker (a ``one_of`` over
small ints, some of whose candidates may be callables running a block of their own; an int
range over a few values; a float range) and may branch on the value it got: ``if v == 2:
<block>``. :func:`build` turns a program into a real Python function that records the names
of the markers it calls, so a test can compare a run's ``params`` with what it met.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
from hypothesis import strategies as st

import symbo as sb


@attrs.frozen
class Stmt:
    kind: str                                  # "one_of", "int", "float"
    name: str
    size: int = 2                              # candidates (one_of) or values (int)
    branches: tuple[tuple[int, tuple[Stmt, ...]], ...] = ()   # (value, block) for ``if v == value``
    calls: tuple[tuple[int, tuple[Stmt, ...]], ...] = ()      # (index, block): callable candidates


@st.composite
def programs(draw: st.DrawFn, max_statements: int = 8, callables: bool = True) -> tuple[Stmt, ...]:
    """A random program (a block) of at most ``max_statements`` statements in all."""
    counter = [0]

    def block(depth: int) -> tuple[Stmt, ...]:
        out = []
        for _ in range(draw(st.integers(1 if depth == 0 else 0, 3))):
            if counter[0] >= max_statements:
                break
            out.append(stmt(depth))
        return tuple(out)

    def stmt(depth: int) -> Stmt:
        name = f"d{counter[0]}"
        counter[0] += 1
        kind = draw(st.sampled_from(["one_of", "one_of", "int", "float"]))
        if kind == "float":
            return Stmt("float", name)
        size = draw(st.integers(2, 3))
        branches: list[tuple[int, tuple[Stmt, ...]]] = []
        calls: list[tuple[int, tuple[Stmt, ...]]] = []
        if depth < 3:
            for value in range(size):
                what = draw(st.sampled_from(["none", "none", "branch", "call"]))
                if what == "branch":
                    branches.append((value, block(depth + 1)))
                elif what == "call" and kind == "one_of" and callables:
                    calls.append((value, block(depth + 1)))
        return Stmt(kind, name, size, tuple(branches), tuple(calls))

    return block(0)


def build(program: tuple[Stmt, ...]) -> tuple[Callable[[], Any], list[str]]:
    """The function a program stands for, and the list it appends the marker names it calls to
    (cleared at the start of each call)."""
    met: list[str] = []

    def run(block: tuple[Stmt, ...]) -> None:
        for s in block:
            if s.kind == "float":
                met.append(s.name)
                sb.float_range(0.0, 1.0, name=s.name)
                continue
            if s.kind == "int":
                met.append(s.name)
                value = sb.int_range(0, s.size - 1, name=s.name)
            else:
                calls = dict(s.calls)
                candidates: list[Any] = [
                    (lambda b=calls[i]: run(b) or -1) if i in calls else i for i in range(s.size)
                ]
                met.append(s.name)
                value = sb.one_of(candidates, name=s.name)
            for v, sub in s.branches:
                if value == v:
                    run(sub)

    def fn() -> float:
        met.clear()
        run(program)
        return float(len(met))

    return fn, met


def names(program: tuple[Stmt, ...]) -> list[str]:
    """Every marker name in a program."""
    out: list[str] = []

    def walk(block: tuple[Stmt, ...]) -> None:
        for s in block:
            out.append(s.name)
            for _, sub in s.branches + s.calls:
                walk(sub)

    walk(program)
    return out
