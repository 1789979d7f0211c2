"""Staff accounts: argon2id password hashes, an optional TOTP second factor, roles.

Every change to an account is written to the audit log by the function that
makes it; a change that alters what a user may do (disable, new role, new
password) ends that user's sessions at once.
"""

from __future__ import annotations

from contextlib import suppress
from datetime import datetime
from enum import StrEnum
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import or_, update
from sqlmodel import Session, col, delete, select

from moderation import totp
from moderation.audit import AccountAction, record
from moderation.models import Role, User, WebSession, utcnow

_HASHER = PasswordHasher()
MIN_PASSWORD_LENGTH = 10


@cache
def _dummy_hash() -> str:
    """Verified against when the user does not exist, so timing does not tell.
    Made on first use: hashing costs a good part of a second, too much for every
    command's start-up."""
    return _HASHER.hash("not-a-real-password-for-timing")


class UserError(ValueError):
    pass


class LoginFailure(StrEnum):
    """Why a login failed: for the audit log only; the person sees one message for all."""

    UNKNOWN_USER = "unknown user"
    DISABLED = "account disabled"
    WRONG_PASSWORD = "wrong password"  # noqa: S105 -- a reason, not a password
    MISSING_CODE = "missing code"
    WRONG_CODE = "wrong code"
    REPLAYED_CODE = "code already used"


def _check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 64 or any(ch.isspace() for ch in name):
        raise UserError("a user name is 1-64 characters without spaces")
    return name


def _check_role(role: str) -> None:
    if role not in {r.value for r in Role}:
        raise UserError(f"role must be one of {', '.join(r.value for r in Role)}")


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")


def add_user(session: Session, name: str, role: str, password: str,
             actor: str = "cli") -> User:
    """Add a user; an existing one gets the new role and password, is enabled, and
    its sessions end."""
    name = _check_name(name)
    _check_role(role)
    _check_password(password)
    existing = find_user(session, name)
    if existing is not None:
        existing.role = role
        existing.password_hash = _HASHER.hash(password)
        existing.active = True
        session.add(existing)
        _end_sessions(session, existing)
        record(session, actor, AccountAction.USER_PASSWORD,
               detail=f"{name}: password reset by 'add', role {role}, enabled")
        return existing
    user = User(name=name, role=role, password_hash=_HASHER.hash(password))
    session.add(user)
    record(session, actor, AccountAction.USER_ADD, detail=f"{name} ({role})")
    return user


def check_credentials(session: Session, name: str, password: str, code: str = "",
                      now: datetime | None = None) -> User | LoginFailure:
    """The user, or why not. A user with a second factor also needs a code that
    was not used before (its time step must be newer than the last accepted one)."""
    user = find_user(session, name.strip())
    if user is None or not user.active:
        # Verify anyway, so the time taken does not tell whether the name exists.
        with suppress(VerificationError):
            _HASHER.verify(_dummy_hash(), password)
        return LoginFailure.UNKNOWN_USER if user is None else LoginFailure.DISABLED
    try:
        _HASHER.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return LoginFailure.WRONG_PASSWORD
    if user.totp_secret is None:
        return user
    if not code.strip():
        return LoginFailure.MISSING_CODE
    step = totp.matching_step(user.totp_secret, code, now or utcnow())
    if step is None:
        return LoginFailure.WRONG_CODE
    # Compare-and-set in one statement: two logins racing with one code cannot both win.
    taken = session.exec(
        update(User)
        .where(col(User.id) == user.id,
               or_(col(User.totp_last_step).is_(None), col(User.totp_last_step) < step))
        .values(totp_last_step=step)
    )
    if taken.rowcount != 1:
        return LoginFailure.REPLAYED_CODE
    user.totp_last_step = step
    return user


def authenticate(session: Session, name: str, password: str, code: str = "") -> User | None:
    checked = check_credentials(session, name, password, code)
    return checked if isinstance(checked, User) else None


def find_user(session: Session, name: str) -> User | None:
    return session.exec(select(User).where(User.name == name)).first()


def _existing(session: Session, name: str) -> User:
    user = find_user(session, name)
    if user is None:
        raise UserError(f"no user {name!r}")
    return user


def _end_sessions(session: Session, user: User) -> None:
    if user.id is not None:
        session.exec(delete(WebSession).where(col(WebSession.user_id) == user.id))


def set_active(session: Session, name: str, active: bool, actor: str) -> User:
    """Disable or enable an account; disabling ends its sessions at once."""
    user = _existing(session, name)
    user.active = active
    session.add(user)
    if not active:
        _end_sessions(session, user)
    record(session, actor, AccountAction.USER_ENABLE if active else AccountAction.USER_DISABLE,
           detail=name)
    return user


def set_role(session: Session, name: str, role: str, actor: str) -> User:
    """A new role takes effect at once: the user's sessions end."""
    _check_role(role)
    user = _existing(session, name)
    before = user.role
    user.role = role
    session.add(user)
    _end_sessions(session, user)
    record(session, actor, AccountAction.USER_ROLE, detail=f"{name}: {before} -> {role}")
    return user


def list_users(session: Session) -> list[User]:
    return list(session.exec(select(User).order_by(User.name)).all())


def reset_password(session: Session, name: str, password: str, actor: str) -> User:
    """A new password; sessions opened with the old one end."""
    _check_password(password)
    user = _existing(session, name)
    user.password_hash = _HASHER.hash(password)
    session.add(user)
    _end_sessions(session, user)
    record(session, actor, AccountAction.USER_PASSWORD, detail=name)
    return user


def enable_totp(session: Session, name: str, actor: str) -> str:
    """A new second-factor secret (replacing any earlier one); returns it to show once."""
    user = _existing(session, name)
    secret = totp.new_secret()
    user.totp_secret = secret
    user.totp_last_step = None
    session.add(user)
    record(session, actor, AccountAction.USER_TOTP, detail=f"{name}: enabled")
    return secret


def disable_totp(session: Session, name: str, actor: str) -> User:
    user = _existing(session, name)
    user.totp_secret = None
    user.totp_last_step = None
    session.add(user)
    record(session, actor, AccountAction.USER_TOTP, detail=f"{name}: disabled")
    return user
