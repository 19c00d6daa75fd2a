"""Structural fingerprints: the identity of a value, the same in every process and run.

``fingerprint(value)`` hashes the canonical text of the value's JSON (``sb.to_json``): full
registered type names and references (never the short names printing uses, which depend on
what else is registered), dict entries in their order (they are the order of a space's
decisions), numbers as JSON writes them. Equal values built in different processes, with
different other modules imported, have equal fingerprints; values that differ anywhere that
JSON records have different ones. Studies compare spaces by it.

>>> import symbo as sb
>>> from symbo.core.fingerprint import fingerprint
>>> a = sb.Dict(lr=sb.float_range(1e-4, 1e-1, scale="log"), act=sb.one_of(["relu", "gelu"]))
>>> fingerprint(a) == fingerprint(sb.clone(a)), fingerprint(a) == fingerprint(sb.Dict(lr=0.1))
(True, False)
>>> len(fingerprint(a))
64
"""

from __future__ import annotations

import hashlib
import json
from typing import Any


def canonical_json(data: Any) -> str:
    """The canonical text of a JSON structure (compact, ASCII, entries in their order)."""
    return json.dumps(data, separators=(",", ":"), ensure_ascii=True, allow_nan=True)


def json_fingerprint(data: Any) -> str:
    """The fingerprint (SHA-256, hex) of a JSON structure, e.g. a space as a study stores it."""
    return hashlib.sha256(canonical_json(data).encode("ascii")).hexdigest()


def fingerprint(value: Any) -> str:
    """The fingerprint of a value: that of its JSON (raises SerializationError, naming the path,
    for a value that cannot be written as JSON)."""
    from symbo.core.serialization import to_json

    return json_fingerprint(to_json(value))
