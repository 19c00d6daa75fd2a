"""Shared test fixtures.

Classes defined inside a test register themselves in the symbolic class registry. The fixture
below restores the registry after every test, so a class named ``A`` in one test never makes
the short name ``A`` ambiguous (and its printed form longer) in another.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from symbo.core import registry


def registry_snapshot() -> tuple[dict, dict, dict]:
    return (
        dict(registry._BY_NAME),
        dict(registry._NAME_OF),
        {k: set(v) for k, v in registry._SHORT.items()},
    )


def registry_restore(snapshot: tuple[dict, dict, dict]) -> None:
    by_name, name_of, short = snapshot
    registry._BY_NAME.clear()
    registry._BY_NAME.update(by_name)
    registry._NAME_OF.clear()
    registry._NAME_OF.update(name_of)
    registry._SHORT.clear()
    registry._SHORT.update({k: set(v) for k, v in short.items()})


@pytest.fixture(autouse=True)
def _isolated_registry() -> Iterator[None]:
    snapshot = registry_snapshot()
    yield
    registry_restore(snapshot)
