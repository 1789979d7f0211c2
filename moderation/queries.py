"""Read-side queries shared by the CLI and the web UI."""

from __future__ import annotations

import email
import email.policy
from email.header import decode_header, make_header
from typing import Any

from sqlalchemy import func
from sqlalchemy import select as sql_select
from sqlmodel import Session, col, select

from moderation.models import InboundMessage

INBOUND_STATUS_CHOICES = ("received", "processed", "quarantined", "failed", "all")


def list_inbound(
    session: Session, status: str = "all", limit: int | None = None
) -> list[dict[str, Any]]:
    """Inbound messages without their bytes (the raw column is never loaded here)."""
    names = ("id", "status", "reason", "source", "message_id", "sha256", "size",
             "machine_kind", "truncated", "created_at", "released_by", "attempts")
    table = InboundMessage.__table__  # type: ignore[attr-defined]
    statement = sql_select(*(table.c[name] for name in names)).order_by(table.c.id)
    if status != "all":
        statement = statement.where(table.c.status == status)
    if limit is not None:
        statement = statement.limit(limit)
    items = []
    for row in session.connection().execute(statement).all():
        item = dict(zip(names, row, strict=True))
        item["created_at"] = item["created_at"].isoformat()
        items.append(item)
    return items


def inbound_outcomes(session: Session, inbound_ids: list[int]) -> dict[str, int]:
    """How many of these messages are in each status ("received" = still queued)."""
    counts: dict[str, int] = {}
    for start in range(0, len(inbound_ids), 500):
        chunk = inbound_ids[start : start + 500]
        rows = session.exec(
            select(InboundMessage.status, func.count())
            .where(col(InboundMessage.id).in_(chunk))
            .group_by(InboundMessage.status)
        ).all()
        for status, count in rows:
            counts[status] = counts.get(status, 0) + count
    return counts


def _headline(head: bytes) -> tuple[str, str]:
    """Subject and sender from the first bytes of a message, for listings only."""
    message = email.message_from_bytes(head, policy=email.policy.compat32)
    def decoded(name: str) -> str:
        value = message.get(name)
        if value is None:
            return ""
        try:
            return " ".join(str(make_header(decode_header(str(value)))).split())[:200]
        except Exception:
            return " ".join(str(value).split())[:200]
    return decoded("Subject"), decoded("From")


def quarantined_messages(
    session: Session, limit: int = 500, status: str = "quarantined"
) -> list[dict[str, Any]]:
    """Set-aside messages with subject and sender, reading 8 kB of each, not all of it."""
    table = InboundMessage.__table__  # type: ignore[attr-defined]
    statement = (
        sql_select(table.c.id, table.c.reason, table.c.machine_kind, table.c.source,
                   table.c.size, table.c.truncated, table.c.created_at, table.c.last_error,
                   table.c.attempts, func.substr(table.c.raw, 1, 8192).label("head"))
        .where(table.c.status == status)
        .order_by(table.c.id.desc())
        .limit(limit)
    )
    items = []
    for row in session.connection().execute(statement).all():
        head = bytes(row.head or b"").split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
        subject, sender = _headline(head)
        items.append({
            "id": row.id, "reason": row.reason, "machine_kind": row.machine_kind,
            "source": row.source, "size": row.size, "truncated": row.truncated,
            "created_at": row.created_at, "subject": subject, "sender": sender,
            "last_error": row.last_error, "attempts": row.attempts,
        })
    return items
