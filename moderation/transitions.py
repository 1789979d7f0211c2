"""The only module that changes a comment's status; each change writes an audit event.

The allowed moves are a table, not an if-ladder, so the policy reads at a glance.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session

from moderation.models import (
    Comment,
    CommentStatus,
    InboundMessage,
    InboundStatus,
    ModerationEvent,
    utcnow,
)

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


def _restart(session: Session, inbound_id: int, expected: str) -> InboundMessage:
    message = session.get(InboundMessage, inbound_id, with_for_update=True)
    if message is None:
        raise TransitionError(f"no inbound message with id {inbound_id}")
    if message.status != expected:
        raise TransitionError(f"inbound message {inbound_id} is {message.status}, not {expected}")
    return message


def _back_to_received(session: Session, message: InboundMessage, actor: str, action: str,
                      reason: str | None) -> InboundMessage:
    before = message.status
    message.status = InboundStatus.RECEIVED
    message.attempts = 0
    message.updated_at = utcnow()
    session.add(message)
    session.add(ModerationEvent(inbound_id=message.id, actor=actor, action=action,
                                from_status=before, to_status=message.status, reason=reason))
    return message


def release_inbound(session: Session, inbound_id: int, actor: str) -> InboundMessage:
    """A moderator overrides a quarantine: the message goes back into processing.

    Processing then skips the machine-mail rules and the structural limits that
    held it (the time limit still applies).
    """
    message = _restart(session, inbound_id, InboundStatus.QUARANTINED)
    if message.truncated:
        raise TransitionError(
            f"inbound message {inbound_id} was over the size limit and only its header block "
            "was downloaded; read it in the mailbox's processed folder instead"
        )
    message.released_by = actor
    return _back_to_received(session, message, actor, "release", message.reason)


def reprocess_inbound(session: Session, inbound_id: int, actor: str) -> InboundMessage:
    """A failed message (a dead letter) gets a fresh set of attempts."""
    message = _restart(session, inbound_id, InboundStatus.FAILED)
    return _back_to_received(session, message, actor, "reprocess", message.last_error)
