"""Moderator accounts: argon2id password hashes, nothing else stored."""

from __future__ import annotations

from contextlib import suppress
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, col, delete, select

from moderation.models import Role, User, WebSession

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


def add_user(session: Session, name: str, role: str, password: str) -> User:
    name = name.strip()
    if not name or len(name) > 64 or any(ch.isspace() for ch in name):
        raise UserError("a user name is 1-64 characters without spaces")
    if role not in {r.value for r in Role}:
        raise UserError(f"role must be one of {', '.join(r.value for r in Role)}")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    existing = session.exec(select(User).where(User.name == name)).first()
    if existing is not None:
        existing.role = role
        existing.password_hash = _HASHER.hash(password)
        existing.active = True
        session.add(existing)
        return existing
    user = User(name=name, role=role, password_hash=_HASHER.hash(password))
    session.add(user)
    return user


def authenticate(session: Session, name: str, password: str) -> User | None:
    user = session.exec(select(User).where(User.name == name.strip())).first()
    if user is None or not user.active:
        with suppress(VerificationError):
            _HASHER.verify(_dummy_hash(), password)
        return None
    try:
        _HASHER.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    return user


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
    from moderation.audit import AccountAction, record

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
    from moderation.audit import AccountAction, record

    if role not in {r.value for r in Role}:
        raise UserError(f"role must be one of {', '.join(r.value for r in Role)}")
    user = _existing(session, name)
    before = user.role
    user.role = role
    session.add(user)
    _end_sessions(session, user)
    record(session, actor, AccountAction.USER_ROLE, detail=f"{name}: {before} -> {role}")
    return user


def list_users(session: Session) -> list[User]:
    return list(session.exec(select(User).order_by(User.name)).all())
