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


LAYERS = ("core", "dsl", "algorithms", "backends", "cli")


def _layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 and parts[0] == "symbo" and parts[1] in LAYERS else None


def test_layers_use_each_others_public_names_only():
    """No module reaches into another layer's ``_private`` names (imported, or read as an
    attribute of an imported module); a layer that needs more grows a public hook."""
    import ast
    from pathlib import Path

    root = Path(sb.__file__).parent
    found = []
    for path in sorted(root.rglob("*.py")):
        module = ".".join(path.relative_to(root.parent).with_suffix("").parts)
        mine = _layer(module)
        tree = ast.parse(path.read_text())
        others: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("symbo."):
                if _layer(node.module + ".x") not in (None, mine):
                    found += [f"{module}: {node.module}.{a.name}" for a in node.names
                              if a.name.startswith("_")]
                    others |= {a.asname or a.name for a in node.names}
            elif isinstance(node, ast.Import):
                others |= {a.asname or a.name for a in node.names
                           if _layer(a.name + ".x") not in (None, mine)}
        found += [f"{module}: {node.value.id}.{node.attr}" for node in ast.walk(tree)
                  if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                  and node.value.id in others and node.attr.startswith("_")
                  and not node.attr.startswith("__")]
    assert found == []
