"""Moderator accounts: argon2id password hashes, nothing else stored."""

from __future__ import annotations

from contextlib import suppress
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, select

from moderation.models import Role, User

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
