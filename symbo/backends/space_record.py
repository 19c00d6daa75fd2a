"""How a study keeps its space: stored faithfully or refused at once, identified by fingerprint.

* :func:`storable_json` writes a space (or a program, or an algorithm) as JSON for a storage.
  Values that are neither symbolic objects nor plain data are written by reference (see
  ``symbo.core.registry``); one that has no reference (a lambda, a local function, an instance
  built at run time) makes a storage that keeps data (SQLite) refuse the study at once with a
  :class:`~symbo.core.errors.SerializationError` naming the path and the fix, before anything
  is written. An in-memory storage keeps the objects themselves and never refuses.
* :func:`check_same_space` compares a stored space with a given one by the structural
  fingerprint of their JSON (``symbo.core.fingerprint``), independent of registration order
  and short names; a mismatch is a :class:`StudyMismatchError` with a diff of the two spaces.
* :func:`read_space` loads a stored space back (no module is imported), or says why it cannot.

>>> import symbo as sb
>>> from symbo.backends.space_record import storable_json
>>> from symbo.backends.storage import open_storage
>>> import os, tempfile
>>> store = open_storage("sqlite:///" + os.path.join(tempfile.mkdtemp(), "s.db"))
>>> storable_json(sb.Dict(act=sb.one_of([abs, max])), "space", store)["act"]["candidates"]
[{'_ref': 'builtins.abs'}, {'_ref': 'builtins.max'}]
>>> storable_json(sb.Dict(act=sb.one_of([lambda x: x])), "space", store)
Traceback (most recent call last):
...
symbo.core.errors.SerializationError: the space cannot be stored in ...: act.candidates[0]: ...
"""

from __future__ import annotations

import difflib
import json
from typing import Any

from symbo.backends.storage import Storage, StorageError, StudyInfo
from symbo.core import SerializationError, SymbolicError, from_json, to_json
from symbo.core.fingerprint import json_fingerprint
from symbo.core.formatting import format as sym_format

FIX = ("values that are neither symbolic objects nor plain data are stored by reference (their "
       "module and name): use functions and classes defined at module level (not lambdas or "
       "local definitions), symbolic recipes (e.g. sbt.nn.Linear(4, 8)) instead of objects "
       "built at run time, or register a value with sb.register(value, 'a.name')")


class StudyMismatchError(StorageError):
    """The space given to continue a study differs from the one it was started with."""


def storable_json(value: Any, what: str, storage: Storage) -> Any:
    """``value`` as JSON for ``storage``: refused with a SerializationError naming the path and
    the fix when a storage that keeps data (``storage.shared``) cannot store it; for an
    in-memory storage, None when it has no JSON (the objects themselves are kept)."""
    if value is None:
        return None
    try:
        return to_json(value)
    except SymbolicError as e:
        if not storage.shared:
            return None
        raise SerializationError(f"the {what} cannot be stored in {storage.url}: {e}; {FIX}") \
            from None


def check_storable(space: Any, storage: Storage, *, algorithm: Any = None) -> Any:
    """Raises SerializationError when ``storage`` could not store ``space`` (or ``algorithm``);
    returns the space's JSON. What ``sb.tune``, ``sb.sample`` and ``sb.create_study`` check
    before a study is created, so that nothing is half-written."""
    space_json = storable_json(space, "space", storage)
    storable_json(algorithm, "algorithm", storage)
    return space_json


def fingerprint_of(space_json: Any) -> str | None:
    """The fingerprint of a stored space's JSON (None when there is none)."""
    return None if space_json is None else json_fingerprint(space_json)


def check_same_space(info: StudyInfo, space: Any, space_json: Any) -> None:
    """Raises StudyMismatchError, with a diff, when ``space`` is not the study's space."""
    if info.space_json is not None and space_json is not None:
        if json_fingerprint(info.space_json) == json_fingerprint(space_json):
            return
        stored, _ = read_space(info)
        stored_text = (sym_format(stored) if stored is not None
                       else json.dumps(info.space_json, indent=1))
        given_text = sym_format(space) if stored is not None else json.dumps(space_json, indent=1)
        raise StudyMismatchError(mismatch(info.name, stored_text, given_text))
    # a study stored without JSON (an in-memory study): compare the printed text
    text = sym_format(space)
    if info.space_text is not None and info.space_text != text:
        raise StudyMismatchError(mismatch(info.name, info.space_text, text))


def mismatch(name: str, stored: str, given: str) -> str:
    diff = "\n".join(difflib.unified_diff(stored.splitlines(), given.splitlines(), "stored space",
                                          "given space", lineterm="", n=1))
    if not diff:  # equal text, different structure (e.g. types of the same short name)
        diff = "(the two spaces print alike but differ in their types or references)"
    return f"study {name!r} was started with another space:\n{diff}"


def read_space(info: StudyInfo) -> tuple[Any, str | None]:
    """(the stored space, None), or (None, why it cannot be read in this process)."""
    if info.space_json is None:
        return None, f"study {info.name!r} has no stored space"
    try:
        return from_json(info.space_json), None
    except SymbolicError as e:
        return None, f"study {info.name!r}: its space cannot be read here: {e}"
