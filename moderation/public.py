"""What may leave the building: the public view of a comment.

``CommentPublic`` has no sender address, no raw text and no moderator names;
the publisher renders only this, so a template cannot leak what it never gets.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from pydantic import BaseModel, ConfigDict
from sqlmodel import Session, col, select

from moderation.models import Comment, CommentCommitment, CommentStatus
from moderation.privacy import redact_email_addresses


class CommentPublic(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    subject: str
    display_html: str
    language: str
    commitments: tuple[str, ...]
    received_at: datetime | None
    published_at: datetime | None


def commitments_by_comment(session: Session, comment_ids: Sequence[int]) -> dict[int, list[str]]:
    result: dict[int, list[str]] = defaultdict(list)
    if not comment_ids:
        return result
    rows = session.exec(
        select(CommentCommitment)
        .where(col(CommentCommitment.comment_id).in_(list(comment_ids)))
        .order_by(col(CommentCommitment.comment_id), col(CommentCommitment.score).desc())
    ).all()
    for row in rows:
        result[row.comment_id].append(row.commitment_id)
    return result


def publishable_comments(session: Session) -> list[Comment]:
    """Approved and already published comments, oldest first."""
    statement = (
        select(Comment)
        .where(col(Comment.status).in_([CommentStatus.APPROVED, CommentStatus.PUBLISHED]))
        .order_by(col(Comment.received_at), col(Comment.id))
    )
    return list(session.exec(statement).all())


def to_public(comments: Sequence[Comment], labels: dict[int, list[str]]) -> list[CommentPublic]:
    return [
        CommentPublic(
            id=comment.id or 0,
            subject=redact_email_addresses(comment.subject),
            # A moderator's edit, when there is one, is what gets published.
            display_html=comment.edited_html or comment.display_html,
            language=comment.language,
            commitments=tuple(labels.get(comment.id or 0, [])),
            received_at=comment.received_at,
            published_at=comment.published_at,
        )
        for comment in comments
    ]
