"""What may leave the building: the public view of a comment.

``CommentPublic`` has no sender address, no raw text and no moderator names;
the publisher renders only this, so a template cannot leak what it never gets.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from pydantic import BaseModel, ConfigDict
from sqlmodel import Session, col, select

from intake.receipts import reference_for
from moderation.models import (
    Comment,
    CommentCommitment,
    CommentStatus,
    Redaction,
    Response,
    ResponseOutcome,
)
from moderation.privacy import redact_email_addresses
from moderation.redaction import active_redactions, published_version
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
    # "OGP-000123": the number on the citizen's receipt, and the name of the comment's page.
    reference: str
    subject: str
    # The published words as plain text (redactions applied) and as the safe HTML shown.
    text: str
    display_html: str
    language: str
    commitments: tuple[str, ...]
    received_at: datetime | None
    published_at: datetime | None
    response: ResponsePublic | None = None
    # The author's name only when they consented to its publication; else anonymous.
    author: str | None = None


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
              redactions: Mapping[int, Sequence[Redaction]], format_text: Callable[[str], str],
              responses: Mapping[int, Response] | None = None) -> list[CommentPublic]:
    """The public view: subject and body with their active redactions applied (the body is
    the moderator's edit when there is one), re-rendered by ``format_text``, the formatter
    that made the stored HTML; the author's name only as ``author_public``."""
    answers = {comment_id: response_public(response)
               for comment_id, response in (responses or {}).items()}
    public = []
    for comment in comments:
        published = published_version(comment, redactions.get(comment.id or 0, ()), format_text)
        public.append(CommentPublic(
            id=comment.id or 0,
            reference=reference_for(comment.inbound_id),
            subject=redact_email_addresses(published.subject),
            text=redact_email_addresses(published.text),
            display_html=published.html,
            language=comment.language,
            commitments=tuple(labels.get(comment.id or 0, [])),
            received_at=comment.received_at,
            published_at=comment.published_at,
            response=answers.get(comment.id or 0),
            author=comment.author_public or None,
        ))
    return public


def public_view(session: Session, comments: Sequence[Comment], format_text: Callable[[str], str],
                responses: Mapping[int, Response] | None = None) -> list[CommentPublic]:
    """``to_public`` with the commitments and active redactions loaded in bulk."""
    ids = [c.id for c in comments if c.id is not None]
    return to_public(comments, commitments_by_comment(session, ids),
                     active_redactions(session, ids), format_text, responses)
