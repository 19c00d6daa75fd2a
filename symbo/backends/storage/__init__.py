"""Storages for studies, chosen by URL: ``memory:`` or ``sqlite:///path/to/file.db``.

>>> from symbo.backends.storage import open_storage
>>> type(open_storage("memory:")).__name__
'InMemoryStorage'
>>> open_storage("postgres://x")
Traceback (most recent call last):
...
symbo.backends.storage.base.StorageError: cannot open 'postgres://x': unknown storage scheme ...
"""

from __future__ import annotations

from collections.abc import Callable

from symbo.backends.storage.base import (
    Deferred,
    Storage,
    StorageError,
    StudyInfo,
    TrialRecord,
    dna_from_json,
    dna_to_json,
    worker_alive,
    worker_id,
)
from symbo.backends.storage.memory import InMemoryStorage
from symbo.backends.storage.sqlite import SQLiteStorage

_MEMORY: dict[str, InMemoryStorage] = {}


def _memory(url: str, create: bool = True) -> Storage:
    # "memory:" is a fresh storage; "memory:NAME" is shared within this process.
    if url in ("memory:", "memory://"):
        return InMemoryStorage(url)
    return _MEMORY.setdefault(url, InMemoryStorage(url))


def _sqlite(url: str, create: bool = True) -> Storage:
    path = url[len("sqlite:///"):] if url.startswith("sqlite:///") else ""
    if not path:
        raise StorageError(f"cannot open {url!r}: write sqlite:///relative/path.db or "
                           "sqlite:////absolute/path.db")
    return SQLiteStorage(path, url=url, create=create)


#: URL scheme -> a function of (url, create) opening its storage
STORAGES: dict[str, Callable[[str, bool], Storage]] = {"memory": _memory, "sqlite": _sqlite}


def open_storage(url: str | Storage | None, *, create: bool = True) -> Storage:
    """The storage a URL names (a Storage is returned as is; None is a fresh memory storage).
    ``create=False`` opens only what exists (a SQLite file is never created)."""
    if url is None:
        return InMemoryStorage()
    if isinstance(url, Storage):
        return url
    if not isinstance(url, str):
        raise StorageError(f"a storage is a URL string, got {type(url).__name__}")
    scheme = url.split(":", 1)[0]
    factory = STORAGES.get(scheme)
    if factory is None:
        raise StorageError(f"cannot open {url!r}: unknown storage scheme {scheme!r} "
                           f"(known: {', '.join(sorted(STORAGES))})")
    return factory(url, create)


__all__ = [
    "Deferred", "InMemoryStorage", "SQLiteStorage", "STORAGES", "Storage", "StorageError", "StudyInfo",
    "TrialRecord", "dna_from_json", "dna_to_json", "open_storage", "worker_alive", "worker_id",
]
