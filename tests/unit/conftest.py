"""Fixtures shared by the unit tests (the databases come from ``tests/conftest.py``)."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

import moderation.users


@pytest.fixture
def fast_hasher(monkeypatch: pytest.MonkeyPatch) -> PasswordHasher:
    """Argon2id with the cheapest parameters: same code paths, milliseconds per hash.

    ``test_users.py::test_production_hasher_*`` checks the real parameters.
    """
    hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(moderation.users, "_HASHER", hasher)
    dummy = hasher.hash("dummy-password")
    monkeypatch.setattr(moderation.users, "_dummy_hash", lambda: dummy)
    return hasher
