"""Moderator accounts: argon2 hashes, refusals a person can act on."""

from __future__ import annotations

import pytest
from argon2 import Type
from sqlalchemy import Engine
from sqlmodel import select

import moderation.users
from moderation.db import session_scope
from moderation.models import User
from moderation.users import MIN_PASSWORD_LENGTH, UserError, add_user, authenticate, find_user
from tests.unit.factories import SQLITE_ONLY

PASSWORD = "kodi-i-fshehte-2020"
# Captured at import, before the ``fast_hasher`` fixture swaps them for cheap ones.
PRODUCTION_HASHER = moderation.users._HASHER
PRODUCTION_DUMMY_HASH = moderation.users._dummy_hash
pytestmark = pytest.mark.usefixtures("fast_hasher")


def test_production_hasher_is_argon2id_with_strong_parameters() -> None:
    assert PRODUCTION_HASHER.type is Type.ID
    assert PRODUCTION_HASHER.memory_cost >= 64 * 1024
    assert PRODUCTION_HASHER.time_cost >= 2
    assert PRODUCTION_DUMMY_HASH().startswith("$argon2id$")


def create(engine: Engine, name: str = "mira", role: str = "moderator",
           password: str = PASSWORD) -> None:
    with session_scope(engine) as session:
        add_user(session, name, role, password)


def test_password_is_stored_as_argon2_hash(engine: Engine) -> None:
    create(engine)
    with session_scope(engine) as session:
        user = find_user(session, "mira")
    assert user is not None
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash
    assert user.role == "moderator"
    assert user.active


def test_authenticate_with_the_right_password(engine: Engine) -> None:
    create(engine)
    with session_scope(engine) as session:
        user = authenticate(session, " mira ", PASSWORD)
    assert user is not None
    assert user.name == "mira"


@SQLITE_ONLY
def test_authenticate_fails_on_wrong_password_or_name(engine: Engine) -> None:
    create(engine)
    with session_scope(engine) as session:
        for name, password in [("mira", PASSWORD + "x"), ("mira", ""), ("MIRA", PASSWORD),
                               ("nobody", PASSWORD)]:
            assert authenticate(session, name, password) is None, (name, password)


@SQLITE_ONLY
def test_inactive_user_cannot_log_in(engine: Engine) -> None:
    create(engine)
    with session_scope(engine) as session:
        user = find_user(session, "mira")
        assert user is not None
        user.active = False
        session.add(user)
    with session_scope(engine) as session:
        assert authenticate(session, "mira", PASSWORD) is None


@SQLITE_ONLY
def test_adding_an_existing_user_resets_password_and_role(engine: Engine) -> None:
    create(engine)
    create(engine, role="admin", password="a-new-password-2021")
    with session_scope(engine) as session:
        assert authenticate(session, "mira", PASSWORD) is None
        user = authenticate(session, "mira", "a-new-password-2021")
        assert user is not None
        assert user.role == "admin"


REFUSALS = [
    ("mira", "moderator", "x" * (MIN_PASSWORD_LENGTH - 1),
     f"a password needs at least {MIN_PASSWORD_LENGTH} characters"),
    ("mira", "superuser", PASSWORD, "role must be one of moderator, secretariat, admin"),
    ("mira", "", PASSWORD, "role must be one of"),
    ("mira hoxha", "moderator", PASSWORD, "a user name is 1-64 characters without spaces"),
    ("  ", "moderator", PASSWORD, "a user name is 1-64 characters without spaces"),
    ("m" * 65, "moderator", PASSWORD, "a user name is 1-64 characters without spaces"),
]


@SQLITE_ONLY
def test_add_user_refuses(engine: Engine) -> None:
    for name, role, password, message in REFUSALS:
        with pytest.raises(UserError, match=message), session_scope(engine) as session:
            add_user(session, name, role, password)
    with session_scope(engine) as session:
        assert session.exec(select(User)).all() == []
