"""Read-side queries shared by the CLI and the web UI."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from moderation.models import Comment, InboundMessage
from moderation.public import commitments_by_comment

STATUS_CHOICES = ("pending", "approved", "rejected", "published", "withdrawn", "all")


def list_comments(
    session: Session, status: str = "pending", limit: int | None = None, after_id: int = 0
) -> list[dict[str, Any]]:
    statement = (
        select(Comment, InboundMessage.message_id)
        .join(InboundMessage, col(InboundMessage.id) == col(Comment.inbound_id))
        .where(col(Comment.id) > after_id)
        .order_by(col(Comment.id))
    )
    if status != "all":
        statement = statement.where(Comment.status == status)
    if limit is not None:
        statement = statement.limit(limit)
    rows = session.exec(statement).all()
    labels = commitments_by_comment(session, [c.id for c, _ in rows if c.id is not None])
    return [
        {
            "id": comment.id,
            "status": comment.status,
            "subject": comment.subject,
            "commitments": labels.get(comment.id or 0, []),
            "language": comment.language,
            "message_id": message_id,
            "inbound_id": comment.inbound_id,
            "received_at": comment.received_at.isoformat() if comment.received_at else None,
            "reject_reason": comment.reject_reason,
        }
        for comment, message_id in rows
    ]


def count_by_status(session: Session) -> dict[str, int]:
    from sqlalchemy import func

    rows = session.exec(select(Comment.status, func.count()).group_by(Comment.status)).all()
    return dict(rows)
