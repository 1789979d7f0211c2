"""The audit log: appending events that are not a comment's move, and reading the log.

Rows are never changed or deleted (a database trigger refuses it); this module
only adds and reads them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlmodel import Session, col, select

from moderation.models import ModerationEvent

MAX_ACTOR = 64


class AccountAction(StrEnum):
    LOGIN = "login"
    LOGIN_FAILED = "login-failed"
    LOGIN_THROTTLED = "login-throttled"
    LOGOUT = "logout"
    USER_ADD = "user-add"
    USER_DISABLE = "user-disable"
    USER_ENABLE = "user-enable"
    USER_ROLE = "user-role"
    USER_PASSWORD = "user-password"  # noqa: S105 (an action name, not a password)
    USER_TOTP = "user-totp"
    RAW_READ = "raw-read"


def record(session: Session, actor: str, action: str, *, reason: str | None = None,
           detail: str | None = None, inbound_id: int | None = None) -> None:
    """One event outside a comment's life: logins, account changes, raw mail read."""
    session.add(ModerationEvent(actor=actor[:MAX_ACTOR] or "-", action=action, reason=reason,
                                detail=detail, inbound_id=inbound_id))


@dataclass(frozen=True)
class AuditFilter:
    actor: str | None = None
    action: str | None = None
    comment_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None


CSV_COLUMNS = ("id", "at", "actor", "action", "comment_id", "inbound_id", "from_status",
               "to_status", "version", "reason", "detail")


def audit_events(session: Session, where: AuditFilter, limit: int | None = 200,
                 before_id: int | None = None) -> list[ModerationEvent]:
    """Newest first; ``before_id`` pages back through older events."""
    statement = select(ModerationEvent).order_by(col(ModerationEvent.id).desc())
    if where.actor:
        statement = statement.where(ModerationEvent.actor == where.actor)
    if where.action:
        statement = statement.where(ModerationEvent.action == where.action)
    if where.comment_id is not None:
        statement = statement.where(ModerationEvent.comment_id == where.comment_id)
    if where.since is not None:
        statement = statement.where(col(ModerationEvent.at) >= where.since)
    if where.until is not None:
        statement = statement.where(col(ModerationEvent.at) < where.until)
    if before_id is not None:
        statement = statement.where(col(ModerationEvent.id) < before_id)
    if limit is not None:
        statement = statement.limit(limit)
    return list(session.exec(statement).all())


def known_actions(session: Session) -> Sequence[str]:
    return list(session.exec(select(ModerationEvent.action).distinct()
                             .order_by(col(ModerationEvent.action))).all())


def to_csv(events: Iterable[ModerationEvent]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for event in events:
        row = []
        for name in CSV_COLUMNS:
            value = getattr(event, name)
            if isinstance(value, datetime):
                value = value.isoformat()
            row.append(_csv_safe("" if value is None else str(value)))
        writer.writerow(row)
    return out.getvalue()


def _csv_safe(value: str) -> str:
    # A cell starting with = + - @ runs as a formula in a spreadsheet (CSV injection).
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
