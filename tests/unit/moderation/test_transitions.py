"""Status moves follow the policy table, and each one leaves an audit event."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from moderation.db import session_scope
from moderation.models import (
    Comment,
    CommentStatus,
    DecisionNotice,
    InboundMessage,
    LabelledExample,
    ModerationEvent,
    RejectCode,
)
from moderation.transitions import (
    MAX_REASON_LENGTH,
    ClaimedError,
    NoticePolicy,
    StaleVersionError,
    TransitionError,
    approve,
    claim,
    commitments_of,
    edit,
    mark_published,
    reclassify,
    reject,
    release_inbound,
    undo,
)
from tests.unit.factories import CLASSIFIER, SQLITE_ONLY, load_comment, make_comment, store
from workers.pipeline import process_inbound


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


# ---------------------------------------------------------------- versions, claims, undo

def test_a_stale_version_is_refused_and_nothing_changes(engine: Engine) -> None:
    comment_id = make_comment(engine)
    with session_scope(engine) as session:
        approve(session, comment_id, "mira", expected_version=1)
    with pytest.raises(StaleVersionError, match="you saw version 1, it is now version 2"), \
            session_scope(engine) as session:
        reject(session, comment_id, "ben", "Jashtë teme.", expected_version=1)
    comment = load_comment(engine, comment_id)
    assert (comment.status, comment.decided_by, comment.version) == ("approved", "mira", 2)


def test_another_moderators_claim_blocks_a_decision_until_taken_over(engine: Engine) -> None:
    comment_id = make_comment(engine)
    with session_scope(engine) as session:
        claim(session, comment_id, "mira", timedelta(minutes=5))
    with session_scope(engine) as session:
        claim(session, comment_id, "ben", timedelta(minutes=5))  # does not take it
    assert load_comment(engine, comment_id).claimed_by == "mira"
    with pytest.raises(ClaimedError, match="held by mira until"), \
            session_scope(engine) as session:
        approve(session, comment_id, "ben", expected_version=1)
    with session_scope(engine) as session:
        claim(session, comment_id, "ben", timedelta(minutes=5), take_over=True)
    with session_scope(engine) as session:
        approve(session, comment_id, "ben", expected_version=1)
    comment = load_comment(engine, comment_id)
    assert comment.status == "approved"
    assert comment.claimed_by is None  # a decision ends the claim
    assert ("ben", "claim-override", "pending", "pending", None) in events(engine, comment_id)


def test_an_expired_claim_holds_nobody(engine: Engine) -> None:
    comment_id = make_comment(engine)
    with session_scope(engine) as session:
        claim(session, comment_id, "mira", timedelta(seconds=-1))
    with session_scope(engine) as session:
        approve(session, comment_id, "ben", expected_version=1)
    assert load_comment(engine, comment_id).decided_by == "ben"


def test_undo_returns_a_rejection_to_pending_and_cancels_its_notice(engine: Engine) -> None:
    comment_id = make_comment(engine)
    policy = NoticePolicy(enabled=True, undo_window=timedelta(minutes=10))
    with session_scope(engine) as session:
        reject(session, comment_id, "mira", "", RejectCode.SPAM, notices=policy)
    with Session(engine) as session:
        assert session.exec(select(DecisionNotice)).one().kind == "rejected"
    with session_scope(engine) as session:
        undo(session, comment_id, "mira", timedelta(minutes=10), expected_version=2)
    comment = load_comment(engine, comment_id)
    assert (comment.status, comment.reject_code, comment.decided_by) == ("pending", None, None)
    assert comment.version == 3
    with Session(engine) as session:
        assert session.exec(select(DecisionNotice)).all() == []
    assert events(engine, comment_id)[-1][:4] == ("mira", "undo", "rejected", "pending")


def test_undo_is_refused_after_the_window(engine: Engine) -> None:
    comment_id = make_comment(engine)
    with session_scope(engine) as session:
        approve(session, comment_id, "mira")
    later = load_comment(engine, comment_id).decided_at + timedelta(minutes=11)  # type: ignore[operator]
    with pytest.raises(TransitionError, match="can no longer be undone"), \
            session_scope(engine) as session:
        undo(session, comment_id, "mira", timedelta(minutes=10), now=later)
    assert load_comment(engine, comment_id).status == "approved"


@SQLITE_ONLY
def test_undo_is_refused_once_published(engine: Engine) -> None:
    comment_id = make_comment(engine)
    with session_scope(engine) as session:
        approve(session, comment_id, "mira")
    publish(engine, comment_id)
    with pytest.raises(TransitionError, match="no decision to undo"), \
            session_scope(engine) as session:
        undo(session, comment_id, "mira", timedelta(minutes=10))


def test_only_one_notice_per_comment_whatever_is_decided_later(engine: Engine) -> None:
    comment_id = make_comment(engine)
    policy = NoticePolicy(enabled=True, undo_window=timedelta(0))
    with session_scope(engine) as session:
        reject(session, comment_id, "mira", "Jashtë teme.", RejectCode.OFF_TOPIC, notices=policy)
    with session_scope(engine) as session:
        approve(session, comment_id, "ben")
    with session_scope(engine) as session:
        comment = session.get(Comment, comment_id)
        assert comment is not None
        mark_published(session, [comment], "publisher", notices=policy)
    with Session(engine) as session:
        assert [n.kind for n in session.exec(select(DecisionNotice)).all()] == ["rejected"]


def test_no_notice_is_planned_when_notices_are_off(engine: Engine) -> None:
    comment_id = make_comment(engine)
    with session_scope(engine) as session:
        reject(session, comment_id, "mira", "", RejectCode.SPAM, notices=NoticePolicy())
    with Session(engine) as session:
        assert session.exec(select(DecisionNotice)).all() == []


# ---------------------------------------------------------------- edits and commitments

def _html(text: str) -> str:
    return f"<p>{text}</p>"


def test_an_edit_keeps_the_original_and_is_audited(engine: Engine) -> None:
    comment_id = make_comment(engine, text="Rreshti i parë.\nNumri im: 069 123 4567.")
    with session_scope(engine) as session:
        edit(session, comment_id, "mira", "Rreshti i parë.\nNumri im: [hequr].", _html,
             expected_version=1)
    comment = load_comment(engine, comment_id)
    assert "069 123 4567" in comment.text
    assert comment.edited_text == "Rreshti i parë.\nNumri im: [hequr]."
    assert comment.edited_html == "<p>Rreshti i parë.\nNumri im: [hequr].</p>"
    assert (comment.edited_by, comment.version) == ("mira", 2)
    with Session(engine) as session:
        event = session.exec(select(ModerationEvent).where(ModerationEvent.action == "edit")).one()
    assert (event.actor, event.detail, event.version) == ("mira", "1 line(s) added, 1 removed", 2)


def test_an_unchanged_edit_is_refused(engine: Engine) -> None:
    comment_id = make_comment(engine, text="Teksti.")
    with pytest.raises(TransitionError, match="unchanged"), session_scope(engine) as session:
        edit(session, comment_id, "mira", "Teksti.", _html)


def test_reclassify_replaces_the_commitments_and_keeps_a_labelled_example(
    engine: Engine
) -> None:
    comment_id = make_comment(engine, text="Portali i të dhënave të hapura.")
    known = [str(n) for n in range(1, 11)] + ["general"]
    with session_scope(engine) as session:
        assert commitments_of(session, comment_id) == ["4"]
        reclassify(session, comment_id, "mira", ["9", "4"], known, expected_version=1)
    with Session(engine) as session:
        assert sorted(commitments_of(session, comment_id)) == ["4", "9"]
        example = session.exec(select(LabelledExample)).one()
    assert (example.commitments, example.source, example.actor) == ("9,4", "reclassify", "mira")
    assert events(engine, comment_id)[-1][1] == "reclassify"
    with pytest.raises(TransitionError, match="unknown commitment"), \
            session_scope(engine) as session:
        reclassify(session, comment_id, "mira", ["11"], known)


def test_a_release_audits_the_kind_of_hold_not_the_reason_text(engine: Engine) -> None:
    bounce = (b"From: Besnik Dedaj <MAILER-DAEMON@example.org>\r\nTo: feedback@ogp.example.al\r\n"
              b"Subject: Undelivered Mail Returned to Sender\r\n"
              b"Content-Type: text/plain; charset=utf-8\r\n\r\nDelivery failed.\r\n")
    [inbound_id] = store(engine, bounce)
    process_inbound(engine, inbound_id, CLASSIFIER)
    with Session(engine) as session:
        message = session.get(InboundMessage, inbound_id)
        assert message is not None
        assert message.status == "quarantined"
    with session_scope(engine) as session:
        release_inbound(session, inbound_id, "mira")
    with Session(engine) as session:
        event = session.exec(select(ModerationEvent)
                             .where(ModerationEvent.action == "release")).one()
    assert event.reason == "held as bounce"
