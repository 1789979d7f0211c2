"""A stored message becomes one pending comment, or a quarantine with a reason."""

from __future__ import annotations

import json
from email.message import EmailMessage

from sqlalchemy import Engine, func
from sqlmodel import Session, select

from moderation.models import (
    Comment,
    CommentClassification,
    CommentCommitment,
    CommentStatus,
    InboundMessage,
    InboundStatus,
    ModerationEvent,
)
from tests.mailgen import build
from tests.unit.factories import CLASSIFIER, SQLITE_ONLY, comment_for, plain_mail, store
from workers.pipeline import Outcome, process_inbound


def count(engine: Engine, model: type) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(model)).one()


def test_message_becomes_a_pending_classified_comment(engine: Engine) -> None:
    mail = build(2, "plain-base64")
    [inbound_id] = store(engine, mail.raw)

    assert process_inbound(engine, inbound_id, CLASSIFIER).outcome is Outcome.PENDING

    comment = comment_for(engine, inbound_id)
    assert comment is not None
    assert comment.status == CommentStatus.PENDING
    assert comment.subject == "e-Albania dhe vula elektronike"
    assert comment.author_email == mail.sender
    assert comment.author_name == "Qytetar 2"
    assert mail.token in comment.text
    assert mail.token in comment.display_html
    assert comment.language == "sq"
    assert comment.received_at is not None
    with Session(engine) as session:
        labels = session.exec(select(CommentCommitment.commitment_id)
                              .where(CommentCommitment.comment_id == comment.id)).all()
        inbound = session.get(InboundMessage, inbound_id)
        events = session.exec(select(ModerationEvent)
                              .where(ModerationEvent.comment_id == comment.id)).all()
    assert "3" in labels
    assert inbound is not None
    assert inbound.status == InboundStatus.PROCESSED
    assert inbound.attempts == 1
    assert [(e.actor, e.action, e.to_status) for e in events] == [
        ("system", "classify", "pending")]
    assert events[0].reason is not None
    assert events[0].reason.startswith(f"classified by {CLASSIFIER.version} as 3 ")
    with Session(engine) as session:
        recorded = session.get(CommentClassification, comment.id)
    assert recorded is not None
    assert (recorded.model_version, recorded.spam) == (CLASSIFIER.version, False)
    assert "3" in json.loads(recorded.explanation)


def test_processing_twice_makes_one_comment(engine: Engine) -> None:
    [inbound_id] = store(engine, plain_mail("Portali i të dhënave të hapura."))

    assert process_inbound(engine, inbound_id, CLASSIFIER).outcome is Outcome.PENDING
    assert process_inbound(engine, inbound_id, CLASSIFIER).outcome is Outcome.ALREADY_DONE

    assert count(engine, Comment) == 1
    with Session(engine) as session:
        inbound = session.get(InboundMessage, inbound_id)
    assert inbound is not None
    assert inbound.status == InboundStatus.PROCESSED
    assert inbound.attempts == 1


def test_message_without_text_is_quarantined_with_the_reason(engine: Engine) -> None:
    msg = EmailMessage()
    msg["From"] = "Ana <ana@example.org>"
    msg["Subject"] = "Vetëm skedar"
    msg.add_attachment(b"\x89PNG....", maintype="image", subtype="png", filename="foto.png")
    [inbound_id] = store(engine, msg.as_bytes())

    assert process_inbound(engine, inbound_id, CLASSIFIER).outcome is Outcome.QUARANTINED

    assert count(engine, Comment) == 0
    with Session(engine) as session:
        inbound = session.get(InboundMessage, inbound_id)
    assert inbound is not None
    assert inbound.status == InboundStatus.QUARANTINED
    assert inbound.reason is not None
    assert inbound.reason.startswith(
        "no readable text: the message has no text/plain or text/html body")
    assert "foto.png" in inbound.reason
    # A quarantined message is not retried into a comment.
    assert process_inbound(engine, inbound_id, CLASSIFIER).outcome is Outcome.ALREADY_DONE
    assert count(engine, Comment) == 0


@SQLITE_ONLY
def test_unknown_id_is_missing(engine: Engine) -> None:
    assert process_inbound(engine, 987654, CLASSIFIER).outcome is Outcome.MISSING


@SQLITE_ONLY
def test_hostile_html_mail_is_stored_sanitized(engine: Engine) -> None:
    mail = build(7, "hostile-html")
    [inbound_id] = store(engine, mail.raw)
    assert process_inbound(engine, inbound_id, CLASSIFIER).outcome is Outcome.PENDING
    comment = comment_for(engine, inbound_id)
    assert comment is not None
    assert mail.token in comment.display_html
    for unsafe in ("<script", "onerror", "onclick", "javascript:", "<img", "alert"):
        assert unsafe not in comment.display_html
