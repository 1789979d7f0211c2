"""Moderator accounts: argon2 hashes, refusals a person can act on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from argon2 import Type
from sqlalchemy import Engine
from sqlmodel import col, select

import moderation.users
from moderation.db import session_scope
from moderation.models import ModerationEvent, User, WebSession
from moderation.totp import code_at
from moderation.users import (
    MIN_PASSWORD_LENGTH,
    LoginFailure,
    UserError,
    add_user,
    authenticate,
    check_credentials,
    disable_totp,
    enable_totp,
    find_user,
    reset_password,
    set_active,
    set_role,
)
from moderation.web.sessions import start_session
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


# ---------------------------------------------------------------- why a login fails

def audit_rows(engine: Engine) -> list[tuple[str, str, str | None]]:
    with session_scope(engine) as session:
        events = session.exec(select(ModerationEvent).order_by(col(ModerationEvent.id)))
        return [(e.actor, e.action, e.detail) for e in events]


def with_second_factor(engine: Engine, name: str = "mira") -> str:
    with session_scope(engine) as session:
        return enable_totp(session, name, "cli")


def check(engine: Engine, password: str = PASSWORD, code: str = "", name: str = "mira",
          now: datetime | None = None) -> User | LoginFailure:
    with session_scope(engine) as session:
        return check_credentials(session, name, password, code, now)


@SQLITE_ONLY
def test_check_credentials_names_each_failure(engine: Engine) -> None:
    create(engine)
    create(engine, "ana")
    with session_scope(engine) as session:
        set_active(session, "ana", False, "cli")
    assert check(engine, name="nobody") is LoginFailure.UNKNOWN_USER
    assert check(engine, name="ana") is LoginFailure.DISABLED
    assert check(engine, password="wrong-password") is LoginFailure.WRONG_PASSWORD
    assert isinstance(check(engine), User)

    secret = with_second_factor(engine)
    now = datetime(2026, 3, 1, 10, 0, 10, tzinfo=UTC)
    assert check(engine, now=now) is LoginFailure.MISSING_CODE
    assert check(engine, code="12345", now=now) is LoginFailure.WRONG_CODE
    assert check(engine, code=code_at(secret, now - timedelta(minutes=5)),
                 now=now) is LoginFailure.WRONG_CODE
    # A right code with a wrong password says "wrong password": the code is not consumed.
    assert check(engine, password="wrong-password", code=code_at(secret, now),
                 now=now) is LoginFailure.WRONG_PASSWORD
    assert isinstance(check(engine, code=code_at(secret, now), now=now), User)


def test_a_code_is_accepted_once(engine: Engine) -> None:
    create(engine)
    secret = with_second_factor(engine)
    now = datetime(2026, 3, 1, 10, 0, 10, tzinfo=UTC)
    code = code_at(secret, now)
    assert isinstance(check(engine, code=code, now=now), User)
    assert check(engine, code=code, now=now) is LoginFailure.REPLAYED_CODE
    # The previous step's code is within the drift allowance but older than the one used.
    earlier = code_at(secret, now - timedelta(seconds=30))
    assert check(engine, code=earlier, now=now) is LoginFailure.REPLAYED_CODE
    later = now + timedelta(seconds=30)
    assert isinstance(check(engine, code=code_at(secret, later), now=later), User)


@SQLITE_ONLY
def test_codes_one_step_either_side_are_accepted(engine: Engine) -> None:
    create(engine)
    secret = with_second_factor(engine)
    now = datetime(2026, 3, 1, 10, 0, 10, tzinfo=UTC)
    assert isinstance(check(engine, code=code_at(secret, now - timedelta(seconds=30)),
                            now=now), User)
    assert isinstance(check(engine, code=code_at(secret, now + timedelta(seconds=30)),
                            now=now), User)
    assert check(engine, code=code_at(secret, now + timedelta(seconds=90)),
                 now=now) is LoginFailure.WRONG_CODE


# ---------------------------------------------------------------- account changes

def live_sessions(engine: Engine, name: str = "mira") -> int:
    with session_scope(engine) as session:
        user = find_user(session, name)
        assert user is not None
        return len(session.exec(select(WebSession).where(WebSession.user_id == user.id)).all())


def log_in(engine: Engine, name: str = "mira") -> None:
    with session_scope(engine) as session:
        start_session(session, find_user(session, name), 3600)


def authenticate_new(engine: Engine, password: str) -> bool:
    with session_scope(engine) as session:
        return authenticate(session, "mira", password) is not None


def test_account_changes_are_audited_and_end_sessions(engine: Engine) -> None:
    create(engine)
    create(engine, "ana")
    log_in(engine)
    log_in(engine, "ana")
    with session_scope(engine) as session:
        reset_password(session, "mira", "a-new-password-2021", "cli")
    assert live_sessions(engine) == 0
    assert live_sessions(engine, "ana") == 1  # only the changed account's sessions end
    assert authenticate_new(engine, "a-new-password-2021")

    log_in(engine)
    create(engine, role="admin")  # 'add' on an existing user resets it
    assert live_sessions(engine) == 0
    log_in(engine)
    with session_scope(engine) as session:
        set_role(session, "mira", "secretariat", "ana")
    assert live_sessions(engine) == 0
    assert audit_rows(engine) == [
        ("cli", "user-add", "mira (moderator)"),
        ("cli", "user-add", "ana (moderator)"),
        ("cli", "user-password", "mira"),
        ("cli", "user-password", "mira: password reset by 'add', role admin, enabled"),
        ("ana", "user-role", "mira: admin -> secretariat"),
    ]


@SQLITE_ONLY
def test_enabling_totp_again_replaces_the_secret(engine: Engine) -> None:
    create(engine)
    first = with_second_factor(engine)
    now = datetime(2026, 3, 1, 10, 0, 10, tzinfo=UTC)
    assert isinstance(check(engine, code=code_at(first, now), now=now), User)
    second = with_second_factor(engine)
    assert second != first
    with session_scope(engine) as session:
        user = find_user(session, "mira")
        assert user is not None
        assert (user.totp_secret, user.totp_last_step) == (second, None)
    with session_scope(engine) as session:
        disable_totp(session, "mira", "cli")
    assert isinstance(check(engine), User)
    with pytest.raises(UserError, match="no user 'nobody'"), session_scope(engine) as session:
        enable_totp(session, "nobody", "cli")
