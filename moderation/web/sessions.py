"""Server-side sessions and CSRF tokens.

The cookie holds a random token; the database holds only its SHA-256, the user
and a per-session CSRF token that every POST form must echo back.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session, col, delete

from config.settings import Settings
from moderation.models import User, WebSession, utcnow

COOKIE_NAME = "ogp_session"
# With HTTPS-only cookies (always in production) the browser enforces what the prefix
# promises: set with Secure, by this host alone, for path "/"; no sibling subdomain can
# plant or overwrite it.
SECURE_PREFIX = "__Host-"


def cookie_name(settings: Settings, name: str = COOKIE_NAME) -> str:
    return SECURE_PREFIX + name if settings.cookie_secure else name


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class ActiveSession:
    token: str
    record: WebSession
    user: User | None


# The last-seen time is written at most this often, not on every request.
TOUCH_EVERY = timedelta(seconds=60)


def load_session(session: Session, token: str | None,
                 idle_seconds: int | None = None) -> ActiveSession | None:
    if not token or len(token) > 128:
        return None
    record = session.get(WebSession, _hash(token))
    now = utcnow()
    if record is None or record.expires_at < now:
        return None
    if (idle_seconds is not None and record.user_id is not None
            and now - record.last_seen_at > timedelta(seconds=idle_seconds)):
        # Idle too long: the session ends, the next page asks for a login.
        session.delete(record)
        return None
    if now - record.last_seen_at > TOUCH_EVERY:
        record.last_seen_at = now
        session.add(record)
    user = session.get(User, record.user_id) if record.user_id else None
    if user is not None and not user.active:
        user = None
    return ActiveSession(token, record, user)


def start_session(session: Session, user: User | None, max_age: int) -> ActiveSession:
    """A fresh token (also at login, so a planted session id is worthless)."""
    token = secrets.token_urlsafe(32)
    record = WebSession(
        token_hash=_hash(token),
        user_id=user.id if user else None,
        csrf_token=secrets.token_urlsafe(32),
        expires_at=utcnow() + timedelta(seconds=max_age),
    )
    session.add(record)
    # Expired sessions are swept on the way; there is no separate job for it.
    session.exec(delete(WebSession).where(col(WebSession.expires_at) < utcnow()))
    return ActiveSession(token, record, user)


def end_session(session: Session, active: ActiveSession) -> None:
    session.delete(active.record)


def csrf_valid(active: ActiveSession | None, submitted: str | None) -> bool:
    if active is None or not submitted:
        return False
    return hmac.compare_digest(active.record.csrf_token, submitted)
