"""Status moves follow the policy table, and each one leaves an audit event."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from moderation.db import session_scope
from moderation.models import Comment, CommentStatus, ModerationEvent
from moderation.transitions import (
    MAX_REASON_LENGTH,
    TransitionError,
    approve,
    mark_published,
    reject,
)
from tests.unit.factories import SQLITE_ONLY, load_comment, make_comment


def events(engine: Engine, comment_id: int) -> list[tuple[str, str, str | None, str | None,
                                                           str | None]]:
    """(actor, action, from, to, reason) of the moderator's moves, oldest first."""
    with Session(engine) as session:
        rows = session.exec(
            select(ModerationEvent)
            .where(ModerationEvent.comment_id == comment_id, ModerationEvent.action != "classify")
            .order_by(col(ModerationEvent.id))
        ).all()
    return [(e.actor, e.action, e.from_status, e.to_status, e.reason) for e in rows]


def publish(engine: Engine, comment_id: int, actor: str = "publisher") -> int:
    with session_scope(engine) as session:
        comment = session.get(Comment, comment_id)
        assert comment is not None
        return mark_published(session, [comment], actor)


def test_approve_moves_pending_to_approved(engine: Engine) -> None:
    comment_id = make_comment(engine)
    with session_scope(engine) as session:
        approve(session, comment_id, "mira")

    comment = load_comment(engine, comment_id)
    assert comment.status == CommentStatus.APPROVED
    assert comment.decided_by == "mira"
    assert comment.decided_at is not None
    assert comment.version == 2
    assert events(engine, comment_id) == [("mira", "approve", "pending", "approved", None)]


def test_reject_keeps_the_normalised_reason(engine: Engine) -> None:
    comment_id = make_comment(engine)
    with session_scope(engine) as session:
        reject(session, comment_id, "mira", "  Përmban  të dhëna\npersonale. ")

    comment = load_comment(engine, comment_id)
    assert comment.status == CommentStatus.REJECTED
    assert comment.reject_reason == "Përmban të dhëna personale."
    assert events(engine, comment_id) == [
        ("mira", "reject", "pending", "rejected", "Përmban të dhëna personale.")]


def test_rejected_comment_can_be_approved_and_loses_the_reason(engine: Engine) -> None:
    comment_id = make_comment(engine)
    with session_scope(engine) as session:
        reject(session, comment_id, "mira", "Gabim")
    with session_scope(engine) as session:
        approve(session, comment_id, "besa")

    comment = load_comment(engine, comment_id)
    assert comment.status == CommentStatus.APPROVED
    assert comment.reject_reason is None
    assert comment.decided_by == "besa"
    assert [e[1:4] for e in events(engine, comment_id)] == [
        ("reject", "pending", "rejected"), ("approve", "rejected", "approved")]


def test_publish_moves_approved_to_published(engine: Engine) -> None:
    comment_id = make_comment(engine)
    with session_scope(engine) as session:
        approve(session, comment_id, "mira")

    assert publish(engine, comment_id) == 1

    comment = load_comment(engine, comment_id)
    assert comment.status == CommentStatus.PUBLISHED
    assert comment.published_at is not None
    assert comment.decided_by == "mira"  # publishing is not a moderation decision
    assert events(engine, comment_id)[-1] == (
        "publisher", "publish", "approved", "published", None)


def test_publishing_a_pending_comment_does_nothing(engine: Engine) -> None:
    comment_id = make_comment(engine)
    assert publish(engine, comment_id) == 0
    assert load_comment(engine, comment_id).status == CommentStatus.PENDING
    assert events(engine, comment_id) == []


def test_published_comment_cannot_be_approved_or_rejected(engine: Engine) -> None:
    comment_id = make_comment(engine)
    with session_scope(engine) as session:
        approve(session, comment_id, "mira")
    publish(engine, comment_id)

    with pytest.raises(TransitionError) as approving, session_scope(engine) as session:
        approve(session, comment_id, "mira")
    assert str(approving.value) == f"comment {comment_id} is published; cannot approve it"
    with pytest.raises(TransitionError) as rejecting, session_scope(engine) as session:
        reject(session, comment_id, "mira", "vonë")
    assert str(rejecting.value) == f"comment {comment_id} is published; cannot reject it"

    assert load_comment(engine, comment_id).status == CommentStatus.PUBLISHED
    assert [e[1] for e in events(engine, comment_id)] == ["approve", "publish"]


@SQLITE_ONLY
def test_approving_twice_is_refused(engine: Engine) -> None:
    comment_id = make_comment(engine)
    with session_scope(engine) as session:
        approve(session, comment_id, "mira")
    with pytest.raises(TransitionError, match="is approved; cannot approve it"), \
            session_scope(engine) as session:
        approve(session, comment_id, "besa")
    assert load_comment(engine, comment_id).decided_by == "mira"
    assert len(events(engine, comment_id)) == 1


def test_reject_needs_a_reason(engine: Engine) -> None:
    comment_id = make_comment(engine)
    for reason in ("", "   ", "\n\t"):
        with pytest.raises(TransitionError,
                           match="a rejection needs a reason the citizen can read"), \
                session_scope(engine) as session:
            reject(session, comment_id, "mira", reason)
    assert load_comment(engine, comment_id).status == CommentStatus.PENDING
    assert events(engine, comment_id) == []


@SQLITE_ONLY
def test_reject_reason_has_a_length_limit(engine: Engine) -> None:
    comment_id = make_comment(engine)
    with pytest.raises(TransitionError, match=f"longer than {MAX_REASON_LENGTH} characters"), \
            session_scope(engine) as session:
        reject(session, comment_id, "mira", "x" * (MAX_REASON_LENGTH + 1))
    assert load_comment(engine, comment_id).status == CommentStatus.PENDING


@SQLITE_ONLY
def test_unknown_comment_is_a_readable_error(engine: Engine) -> None:
    with pytest.raises(TransitionError, match="no comment with id 424242"), \
            session_scope(engine) as session:
        approve(session, 424242, "mira")
