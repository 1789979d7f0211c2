"""The only module that changes a comment's status; each change writes an audit event.

The allowed moves are a table, not an if-ladder, so the policy reads at a glance.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session

from moderation.models import Comment, CommentStatus, ModerationEvent, utcnow

S = CommentStatus
ALLOWED: dict[str, dict[str, str]] = {
    # action: {from_status: to_status}
    "approve": {S.PENDING: S.APPROVED, S.REJECTED: S.APPROVED},
    "reject": {S.PENDING: S.REJECTED, S.APPROVED: S.REJECTED},
    "publish": {S.APPROVED: S.PUBLISHED},
    "withdraw": {S.PUBLISHED: S.WITHDRAWN, S.APPROVED: S.WITHDRAWN},
}
MAX_REASON_LENGTH = 2000


class TransitionError(ValueError):
    """A move the policy does not allow; the message is shown to the user as is."""


def _move(
    session: Session, comment: Comment, action: str, actor: str, reason: str | None = None
) -> Comment:
    targets = ALLOWED[action]
    if comment.status not in targets:
        raise TransitionError(
            f"comment {comment.id} is {comment.status}; cannot {action} it"
        )
    before = comment.status
    comment.status = targets[before]
    comment.updated_at = utcnow()
    comment.version += 1
    if action in {"approve", "reject"}:
        comment.decided_by = actor
        comment.decided_at = comment.updated_at
        comment.reject_reason = reason if action == "reject" else None
    if action == "publish":
        comment.published_at = comment.updated_at
    session.add(comment)
    session.add(
        ModerationEvent(
            comment_id=comment.id,
            inbound_id=comment.inbound_id,
            actor=actor,
            action=action,
            from_status=before,
            to_status=comment.status,
            reason=reason,
        )
    )
    return comment


def _load(session: Session, comment_id: int) -> Comment:
    comment = session.get(Comment, comment_id, with_for_update=True)
    if comment is None:
        raise TransitionError(f"no comment with id {comment_id}")
    return comment


def approve(session: Session, comment_id: int, actor: str) -> Comment:
    return _move(session, _load(session, comment_id), "approve", actor)


def reject(session: Session, comment_id: int, actor: str, reason: str) -> Comment:
    reason = " ".join(reason.split())
    if not reason:
        raise TransitionError("a rejection needs a reason the citizen can read")
    if len(reason) > MAX_REASON_LENGTH:
        raise TransitionError(f"the reason is longer than {MAX_REASON_LENGTH} characters")
    return _move(session, _load(session, comment_id), "reject", actor, reason)


def mark_published(session: Session, comments: Iterable[Comment], actor: str) -> int:
    count = 0
    for comment in comments:
        if comment.status == S.APPROVED:
            _move(session, comment, "publish", actor)
            count += 1
    return count
