"""Process one stored inbound message into a pending comment (or a quarantine).

Safe to run twice for the same id: the row's status says whether the work is
done, and the unique ``comment.inbound_id`` stops a racing duplicate.
"""

from __future__ import annotations

import logging
from enum import StrEnum

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from intake.analyse import Analysis, Quarantine, analyse
from intake.classify import Classifier
from moderation.db import session_scope
from moderation.models import (
    Comment,
    CommentCommitment,
    InboundMessage,
    InboundStatus,
    ModerationEvent,
    utcnow,
)

log = logging.getLogger(__name__)


class Outcome(StrEnum):
    PENDING = "pending"
    QUARANTINED = "quarantined"
    ALREADY_DONE = "already-done"
    MISSING = "missing"


def process_inbound(engine: Engine, inbound_id: int, classifier: Classifier) -> Outcome:
    with session_scope(engine) as session:
        message = session.get(InboundMessage, inbound_id)
        if message is None:
            return Outcome.MISSING
        if message.status != InboundStatus.RECEIVED:
            return Outcome.ALREADY_DONE
        raw = message.raw
    result = analyse(raw, classifier)
    try:
        with session_scope(engine) as session:
            message = session.get(InboundMessage, inbound_id, with_for_update=True)
            if message is None or message.status != InboundStatus.RECEIVED:
                return Outcome.ALREADY_DONE
            message.attempts += 1
            message.updated_at = utcnow()
            if isinstance(result, Quarantine):
                _quarantine(message, result)
                session.add(message)
                return Outcome.QUARANTINED
            comment = _comment_from(message, result)
            session.add(comment)
            session.flush()
            for label in result.classification.labels:
                session.add(CommentCommitment(comment_id=comment.id or 0,
                                              commitment_id=label.commitment_id,
                                              score=label.score))
            session.add(ModerationEvent(comment_id=comment.id, inbound_id=message.id,
                                        actor="system", action="classify",
                                        to_status=comment.status,
                                        reason=_explain(result)))
            message.status = InboundStatus.PROCESSED
            message.reason = None
            session.add(message)
    except IntegrityError:
        # Another delivery of the same task won the race; its comment stands.
        log.info("inbound %s already has a comment", inbound_id)
        return Outcome.ALREADY_DONE
    log.info("inbound %s -> %s", inbound_id, "pending comment")
    return Outcome.PENDING


def _quarantine(message: InboundMessage, result: Quarantine) -> None:
    message.status = InboundStatus.QUARANTINED
    message.reason = result.reason
    log.info("inbound %s quarantined: %s", message.id, result.reason)


def _comment_from(message: InboundMessage, result: Analysis) -> Comment:
    return Comment(
        inbound_id=message.id or 0,
        subject=result.subject,
        author_name=result.author_name,
        author_email=result.author_email,
        language=result.language,
        text=result.text,
        display_html=result.display_html,
        received_at=result.sent_at or message.created_at,
    )


def _explain(result: Analysis) -> str:
    parts = [
        f"{label.commitment_id}: {', '.join(label.matched) or 'no keyword'}"
        for label in result.classification.labels
    ]
    return "classified as " + "; ".join(parts)
