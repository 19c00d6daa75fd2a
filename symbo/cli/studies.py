"""Opening stored studies from the command line: storage arguments, study names, and the
space of a study whose classes are not imported.

>>> storage_url("study.db")
'sqlite:///study.db'
"""

from __future__ import annotations

import contextlib
import importlib
import os
from collections.abc import Iterator
from typing import Any, TextIO

from symbo.algorithms.base import Algorithm
from symbo.backends.storage import Storage, open_storage
from symbo.backends.study import Study, load_study
from symbo.cli.algorithms import tpe_class
from symbo.cli.errors import CLIError, first_line
from symbo.core import SymbolicError, from_json, registry, to_json
from symbo.dsl.custom import CustomHyper


def storage_url(text: str) -> str:
    """A storage URL from a URL or a bare path to a SQLite file.

    >>> storage_url("study.db"), storage_url("/tmp/s.db"), storage_url("memory:")
    ('sqlite:///study.db', 'sqlite:////tmp/s.db', 'memory:')
    """
    if "://" in text or text.startswith("memory:"):
        return text
    return "sqlite:///" + text


def open_storage_arg(text: str, *, must_exist: bool) -> Storage:
    url = storage_url(text)
    if must_exist and url.startswith("sqlite:///"):
        path = url[len("sqlite:///"):]
        if not os.path.isfile(path):
            raise CLIError(f"no such file: {path}")
    return open_storage(url)


def study_name(storage: Storage, name: str | None) -> str:
    if name is not None:
        return name
    studies = storage.list_studies()
    if len(studies) == 1:
        return studies[0].name
    if not studies:
        raise CLIError(f"no studies in {storage.url}")
    names = ", ".join(s.name for s in studies)
    raise CLIError(f"{storage.url} holds {len(studies)} studies ({names}): pass --study NAME")


def register_types(data: Any) -> None:
    """Imports what a stored space or algorithm needs: ``symbo`` modules, and torch's
    symbolized classes (when torch is installed). Nothing else is imported."""
    missing = {n for n in _type_names(data) if not registry.is_registered(n)}
    if "symbo.algorithms.TPE" in missing:
        tpe_class()
    if any(n.startswith("torch.") for n in missing):
        with contextlib.suppress(ImportError):
            from symbo.backends import torch as sbt

            sbt.register_all()
    for name in sorted(n for n in missing if n.startswith("symbo.")):
        parts = name.split(".")
        for end in range(len(parts) - 1, 0, -1):
            try:
                importlib.import_module(".".join(parts[:end]))
                break
            except ImportError:
                continue


def _type_names(data: Any) -> Iterator[str]:
    if isinstance(data, dict):
        for key in ("_type", "_ref"):
            if isinstance(data.get(key), str):
                yield data[key]
        for value in data.values():
            yield from _type_names(value)
    elif isinstance(data, list):
        for value in data:
            yield from _type_names(value)


def open_study(storage_text: str, name: str | None, *, space: Any = None,
               algorithm: Algorithm | None = None, err: TextIO | None = None,
               structural: bool = False) -> Study:
    """Opens a stored study for the command line (see :func:`symbo.load_study`), importing
    the ``symbo`` modules and torch classes its space needs.

    When the space names classes that are not registered (the user's, not imported), a
    ``structural`` open reads it with those objects as plain dicts, so that decisions keep
    their names and programs print (as dicts), and says so on ``err``.
    """
    storage = open_storage_arg(storage_text, must_exist=True)
    name = study_name(storage, name)
    info = storage.load_study(name)
    register_types([info.space_json, info.algorithm_json])
    study = load_study(storage, name, space=space, algorithm=algorithm)
    if study.space is None and info.space_json is not None:
        try:
            from_json(info.space_json)
            reason = "it cannot be read"
        except SymbolicError as e:
            reason = first_line(e)
        fallback = None
        if structural:
            names: set[str] = set()
            if any(True for _ in _unknown_named(info.space_json)):  # maybe a CustomHyper
                records = storage.get_trials(info.id, on_error=lambda number, error: None)
                names = {key for r in records[:50] for key in (r.params or {})}
            fallback = _structural_space(info.space_json, names)
        if fallback is not None:
            from symbo.dsl import dna_spec

            study.space, study.spec = fallback, dna_spec(fallback)
        if err is not None:
            shown = "its programs are shown as dicts" if fallback is not None else \
                "its programs are not shown (its decisions are, by their stored values)"
            print(f"symbo: note: the space of study {name!r}: {reason}; {shown} "
                  "(--import MODULE imports the module that defines its classes)", file=err)
    return study


def _unknown_named(data: Any) -> Iterator[str]:
    """The ``name`` of each object of an unregistered class in stored JSON that has one."""
    if isinstance(data, list):
        for value in data:
            yield from _unknown_named(value)
    elif isinstance(data, dict):
        kind = data.get("_type")
        if isinstance(kind, str) and not registry.is_registered(kind) and \
                isinstance(data.get("name"), str):
            yield data["name"]
        for value in data.values():
            yield from _unknown_named(value)


def _structural_space(space_json: Any, decision_names: set[str] = frozenset()) -> Any:
    """The stored space with objects of unregistered classes read as plain dicts (and
    unregistered references as their names); None when even that fails. An unregistered
    object named as one of the trials' decisions (``decision_names``) is a user's
    ``sb.CustomHyper``: it becomes a decision whose programs show the genome."""

    def strip(data: Any) -> Any:
        if isinstance(data, list):
            return [strip(v) for v in data]
        if not isinstance(data, dict):
            return data
        if isinstance(data.get("_ref"), str) and not registry.is_registered(data["_ref"]):
            return data["_ref"]
        kind = data.get("_type")
        if isinstance(kind, str) and not registry.is_registered(kind) and \
                data.get("name") in decision_names:
            return to_json(StoredGenome(name=data["name"]))
        out = {k: strip(v) for k, v in data.items()}
        if isinstance(kind, str) and not registry.is_registered(kind) and kind not in ("tuple", "MISSING"):
            del out["_type"]
        return out

    try:
        return from_json(strip(space_json))
    except SymbolicError:
        return None


class StoredGenome(CustomHyper):
    """Stands for a user's ``sb.CustomHyper`` whose class is not imported: the program shows
    its genome (the stored string)."""

    def custom_decode(self, dna: Any) -> Any:
        return dna.value
