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
import keyword
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
    """Executes a script as the module named by its file stem (``train.py`` -> ``train``, kept
    in ``sys.modules``); returns its globals.

    Its ``if __name__ == "__main__":`` block does not run, and the classes and functions it
    defines are registered and stored as ``train.Name``: the names they have when another
    process imports the script, or runs it with ``python train.py`` (where symbo registers
    ``__main__``'s names under the stem too). So a study written by ``symbo run train.py`` is
    read by ``import train``, and resumed by ``python train.py`` or ``symbo resume --script``.
    A stem that is no module name (``my-script.py``), or names another module already imported
    (``json.py``), runs as ``__symbo_script__`` instead.
    """
    if not os.path.isfile(path):
        raise CLIError(f"no such file: {path}")
    stem = os.path.splitext(os.path.basename(path))[0]
    loaded = sys.modules.get(stem)
    with script_context(path), user_code(path):
        if not stem.isidentifier() or keyword.iskeyword(stem):
            return runpy.run_path(path, run_name=SCRIPT_MODULE)
        if loaded is not None:
            ours = _LOADED.get(stem)
            if _same_file(getattr(loaded, "__file__", None), path):
                if ours is None or ours == _stamp(path):
                    return vars(loaded)  # already imported (--import, --objective): it ran then
            elif ours is None:  # another module of that name: don't replace it
                return runpy.run_path(path, run_name=SCRIPT_MODULE)
        return vars(_exec_file(stem, path))


_LOADED: dict[str, tuple[str, int]] = {}  # module name -> (file, mtime) of files loaded here


def _stamp(path: str) -> tuple[str, int]:
    return os.path.realpath(path), os.stat(path).st_mtime_ns


def _same_file(a: str | None, b: str) -> bool:
    try:
        return a is not None and os.path.samefile(a, b)
    except OSError:
        return False


def _exec_file(module_name: str, path: str) -> Any:
    """Executes a file as the module ``module_name``, kept in ``sys.modules``."""
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise CLIError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    _LOADED[module_name] = _stamp(path)
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(module_name, None)
        _LOADED.pop(module_name, None)
        raise
    return module


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
        with script_context(name), user_code(name):
            return _exec_file(stem, name)
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
