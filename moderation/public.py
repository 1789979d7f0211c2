"""What may leave the building: the public view of a comment.

``CommentPublic`` has no sender address, no raw text and no moderator names;
the publisher renders only this, so a template cannot leak what it never gets.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime

from pydantic import BaseModel, ConfigDict
from sqlmodel import Session, col, select

from moderation.models import Comment, CommentCommitment, CommentStatus, Response, ResponseOutcome
from moderation.privacy import redact_email_addresses
from moderation.responses import OUTCOMES


class ResponsePublic(BaseModel):
    """The secretariat's response as published: the words, never who wrote them."""

    model_config = ConfigDict(frozen=True)

    outcome: str
    outcome_sq: str
    outcome_en: str
    text_sq: str
    text_en: str
    link: str | None


class CommentPublic(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    subject: str
    display_html: str
    language: str
    commitments: tuple[str, ...]
    received_at: datetime | None
    published_at: datetime | None
    response: ResponsePublic | None = None


def response_public(response: Response) -> ResponsePublic:
    label = OUTCOMES[ResponseOutcome(response.outcome)]
    return ResponsePublic(
        outcome=response.outcome, outcome_sq=label.sq, outcome_en=label.en,
        # Public text never carries an address, whoever typed it.
        text_sq=redact_email_addresses(response.text_sq),
        text_en=redact_email_addresses(response.text_en),
        link=response.link,
    )


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


def to_public(comments: Sequence[Comment], labels: dict[int, list[str]],
              responses: Mapping[int, Response] | None = None) -> list[CommentPublic]:
    answers = {comment_id: response_public(response)
               for comment_id, response in (responses or {}).items()}
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
            response=answers.get(comment.id or 0),
        )
        for comment in comments
    ]
