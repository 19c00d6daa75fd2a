"""Runs the docstring examples of every module in the ``symbo`` package.

Each module's examples run against a registry holding only what ``symbo`` itself registers, so
classes defined by tests (or by other modules' examples) never change how names print.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import symbo
from symbo.core import registry

from .conftest import registry_restore, registry_snapshot


def _module_names() -> list[str]:
    names = ["symbo"]
    for info in pkgutil.walk_packages(symbo.__path__, "symbo."):
        names.append(info.name)
    return sorted(names)


def _only_symbo_names() -> None:
    for name in [n for n in registry._BY_NAME if not n.startswith("symbo.")]:
        value = registry._BY_NAME.pop(name)
        if registry._NAME_OF.get(id(value)) == name:
            del registry._NAME_OF[id(value)]
    for short, full in list(registry._SHORT.items()):
        full.intersection_update(registry._BY_NAME)
        if not full:
            del registry._SHORT[short]


@pytest.mark.parametrize("module_name", _module_names())
def test_docstring_examples(module_name: str) -> None:
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:  # an optional dependency (torch, ray) that is not installed
        pytest.skip(f"{module_name}: {e}")
    snapshot = registry_snapshot()
    try:
        _only_symbo_names()
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS, report=True, verbose=False)
    finally:
        registry_restore(snapshot)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {module_name}"
