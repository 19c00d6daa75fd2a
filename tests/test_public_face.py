"""The public face: ``symbo/__init__.py`` holds API.md's names, the error classes and the key
value types, and importing it loads neither torch, Ray nor networkx."""

from __future__ import annotations

import subprocess
import sys

import pytest

import symbo as sb


def test_every_public_name_exists_once():
    assert len(sb.__all__) == len(set(sb.__all__))
    assert [n for n in sb.__all__ if not hasattr(sb, n)] == []


def test_nothing_else_leaks_into_the_face():
    modules = {"algorithms", "backends", "core", "dsl", "demo", "cli"}
    public = {n for n in dir(sb) if not n.startswith("_")}
    assert public - set(sb.__all__) <= modules


def test_the_error_classes_are_symbolic_errors():
    errors = [getattr(sb, n) for n in sb.__all__ if n.endswith("Error")]
    assert len(errors) >= 12 and all(issubclass(e, sb.SymbolicError) for e in errors)


def test_space_was_renamed_with_a_clear_error():
    with pytest.raises(AttributeError, match="sb.Space was a tuple of decision points.*"
                       "sb.Decisions"):
        sb.Space  # noqa: B018
    assert sb.dna_spec(sb.Dict(a=sb.one_of([1, 2]))).space.__class__ is sb.Decisions
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        sb.nope  # noqa: B018


def test_import_symbo_loads_neither_torch_ray_nor_networkx():
    code = ("import sys, symbo; print(sorted(m for m in ('torch', 'ray', 'networkx') "
            "if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
