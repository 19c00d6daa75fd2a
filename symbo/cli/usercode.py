"""Running the user's code from the command line: scripts, modules, objectives, space files.
An error in the user's code is shown with its traceback and becomes :class:`UserCodeError`.

>>> load_objective("nocolon")
Traceback (most recent call last):
...
symbo.cli.errors.CLIError: --objective must be module:function, got 'nocolon'
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os
import runpy
import sys
import traceback
from collections.abc import Iterator
from typing import Any

from symbo.cli.errors import CLIError, UserCodeError, first_line

SCRIPT_MODULE = "__symbo_script__"


@contextlib.contextmanager
def script_context(path: str) -> Iterator[None]:
    folder = os.path.dirname(os.path.abspath(path))
    argv = sys.argv
    sys.argv = [path]
    sys.path.insert(0, folder)
    try:
        yield
    finally:
        sys.argv = argv
        with contextlib.suppress(ValueError):
            sys.path.remove(folder)


@contextlib.contextmanager
def user_code(what: str) -> Iterator[None]:
    try:
        yield
    except (CLIError, UserCodeError, KeyboardInterrupt, SystemExit):
        raise
    except BaseException as e:  # noqa: BLE001 - the user's error, shown with its traceback
        traceback.print_exc()
        raise UserCodeError(f"{what} raised {type(e).__name__}: {first_line(e)}") from None


def run_script(path: str) -> dict[str, Any]:
    """Executes a script as the module ``__symbo_script__``; returns its globals."""
    if not os.path.isfile(path):
        raise CLIError(f"no such file: {path}")
    with script_context(path), user_code(path):
        return runpy.run_path(path, run_name=SCRIPT_MODULE)


def _cwd_on_path() -> None:
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.insert(0, cwd)


def import_module(name: str) -> Any:
    """Imports a module by name, or a ``.py`` file by path (registered under its stem)."""
    _cwd_on_path()
    if name.endswith(".py") or os.sep in name:
        if not os.path.isfile(name):
            raise CLIError(f"no such file: {name}")
        stem = os.path.splitext(os.path.basename(name))[0]
        spec = importlib.util.spec_from_file_location(stem, name)
        if spec is None or spec.loader is None:
            raise CLIError(f"cannot import {name}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[stem] = module
        with script_context(name), user_code(name):
            spec.loader.exec_module(module)
        return module
    with user_code(f"module {name!r}"):
        try:
            return importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name and (name == e.name or name.startswith(e.name + ".")):
                raise CLIError(f"cannot import module {name!r}: {e}") from None
            raise


def load_objective(text: str) -> tuple[Any, Any]:
    """``module:function`` (or ``file.py:function``) -> (function, module)."""
    module_name, sep, function = text.rpartition(":")
    if not sep or not module_name or not function:
        raise CLIError(f"--objective must be module:function, got {text!r}")
    module = import_module(module_name)
    fn = getattr(module, function, None)
    if not callable(fn):
        raise CLIError(f"module {module_name!r} has no function {function!r}")
    return fn, module


def load_space_file(path: str) -> Any:
    import symbo as sb

    if not os.path.isfile(path):
        raise CLIError(f"no such file: {path}")
    return sb.load(path) if path.endswith(".json") else sb.load_space(path)
