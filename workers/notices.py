"""Send the notices that are due: one message per comment and topic, never two.

``moderation.transitions`` plans a decision notice (a rejection waits out the undo
window, a publication is due at once), ``moderation.responses`` a response notice
(once the site shows the response); this module only sends them. Each notice is claimed
with a conditional UPDATE before the SMTP conversation, so the web (after a
decision), the sweeper and ``ogp-feedback notices --send`` may all run at once:
only the process whose UPDATE changed the row talks to the relay. A notice left in
``sending`` (the process died between the send and the commit) is not sent again:
a citizen may miss one notice but never gets two. It never creates a notice.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import ColumnElement, Engine, and_, func, or_, update
from sqlmodel import Session, col, select

from config.catalogue import Catalogue, default_catalogue
from config.settings import Settings
from intake.receipts import decide_receipt, reference_for
from moderation.confirmations import address_confirmed
from moderation.db import session_scope
from moderation.models import (
    Comment,
    CommentStatus,
    DecisionNotice,
    InboundMessage,
    InboundSource,
    NoticeKind,
    NoticeStatus,
    RejectCode,
    utcnow,
)
from moderation.public import response_public
from moderation.responses import responses_by_comment
from moderation.transitions import rejection_text
from workers.mail import Sender
from workers.outgoing import (
    NoticeContent,
    ResponseWords,
    asks_for_no_auto_reply,
    build_notice,
    comment_link,
)
from workers.pipeline import ProcessingOptions

log = logging.getLogger(__name__)
UNCONFIRMED = ("the contact-form address was never confirmed: nothing is mailed to an "
               "address its owner has not confirmed")
BATCH = 200
# A notice the relay keeps refusing is given up after this long past its due time.
GIVE_UP_AFTER = timedelta(days=7)
# What the comment must still be for its notice to be true when it is sent.
STATUS_FOR = {
    NoticeKind.REJECTED: CommentStatus.REJECTED,
    NoticeKind.PUBLISHED: CommentStatus.PUBLISHED,
    # The link must show the response: the comment must still be on the site.
    NoticeKind.RESPONSE: CommentStatus.PUBLISHED,
}


class Outcome(StrEnum):
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"
    SKIPPED = "skipped"  # not due, already handled, or claimed by another sender


@dataclass(frozen=True)
class Prepared:
    """A notice ready to go, or the reason it must not be sent."""

    content: NoticeContent | None
    cancel_reason: str | None = None


def _retry_before(settings: Settings, now: datetime) -> datetime:
    """A failed notice is tried again once it has rested this long (one sweep period)."""
    return now - timedelta(seconds=settings.sweep_after_seconds)


def _sendable(now: datetime, retry_before: datetime) -> ColumnElement[bool]:
    """Due, and pending or failed long enough ago: the same test to select and to claim."""
    return and_(
        col(DecisionNotice.due_at) <= now,
        or_(col(DecisionNotice.status) == NoticeStatus.PENDING,
            and_(col(DecisionNotice.status) == NoticeStatus.FAILED,
                 col(DecisionNotice.updated_at) < retry_before)),
    )


def count_due(session: Session, now: datetime, retry_before: datetime) -> int:
    """How many notices a sender would pick up now (the sweeper asks before it triggers one)."""
    return int(session.exec(
        select(func.count()).select_from(DecisionNotice).where(_sendable(now, retry_before))
    ).one())


def due_notice_ids(engine: Engine, settings: Settings, now: datetime | None = None) -> list[int]:
    now = now or utcnow()
    with Session(engine) as session:
        rows = session.exec(
            select(DecisionNotice.id)
            .where(_sendable(now, _retry_before(settings, now)))
            .order_by(col(DecisionNotice.due_at), col(DecisionNotice.id))
            .limit(BATCH)
        ).all()
    return [notice_id for notice_id in rows if notice_id is not None]


def _prepare(session: Session, settings: Settings, catalogue: Catalogue,
             notice: DecisionNotice, now: datetime) -> Prepared:
    comment = session.get(Comment, notice.comment_id)
    if comment is None or comment.id is None:
        return Prepared(None, "the comment no longer exists")
    kind = NoticeKind(notice.kind)
    if comment.status != STATUS_FOR[kind]:
        return Prepared(None, f"the comment is now {comment.status}; "
                              f"a '{kind.value}' notice would no longer be true")
    inbound = session.get(InboundMessage, comment.inbound_id)
    suppressed = inbound is not None and asks_for_no_auto_reply(inbound.raw)
    own = ProcessingOptions.from_settings(settings).own_addresses
    decision = decide_receipt(comment.author_email, own, suppressed)
    if decision.address is None:
        return Prepared(None, decision.reason)
    if (inbound is not None and inbound.source == InboundSource.FORM
            and not address_confirmed(session, decision.address)):
        return Prepared(None, UNCONFIRMED)
    reason = link = ""
    words = None
    if kind is NoticeKind.REJECTED:
        code = (RejectCode(comment.reject_code)
                if comment.reject_code in set(RejectCode) else RejectCode.OTHER)
        reason = rejection_text(code, comment.reject_reason or "")
    else:
        link = comment_link(settings.public_site_url, reference_for(comment.inbound_id))
    if kind is NoticeKind.RESPONSE:
        response = responses_by_comment(session, [comment.id]).get(comment.id)
        if response is None:
            return Prepared(None, "the comment has no response")
        # Word for word what the site shows beside the comment.
        public = response_public(response)
        words = ResponseWords(outcome_sq=public.outcome_sq, outcome_en=public.outcome_en,
                              text_sq=public.text_sq, text_en=public.text_en, link=public.link)
    return Prepared(NoticeContent(
        kind=kind,
        to=decision.address,
        mail_from=settings.mail_from,
        reference=reference_for(comment.inbound_id),
        sent_at=now,
        in_reply_to=inbound.message_id if inbound is not None else None,
        reason=reason,
        link=link,
        response=words,
    ))


def _claim(engine: Engine, settings: Settings, notice_id: int, comment_id: int,
           kind: NoticeKind, now: datetime) -> bool:
    """Move the notice to ``sending`` unless someone else did, or the comment's status no
    longer makes the notice true.

    The comment row is locked first (PostgreSQL), as ``undo`` locks it: an undo
    and a claim of the same comment take turns, so an undone decision is never told.
    """
    with session_scope(engine) as session:
        comment = session.get(Comment, comment_id, with_for_update=True)
        if comment is None or comment.status != STATUS_FOR[kind]:
            return False
        claimed = session.exec(
            update(DecisionNotice)
            .where(col(DecisionNotice.id) == notice_id,
                   _sendable(now, _retry_before(settings, now)))
            .values(status=NoticeStatus.SENDING, updated_at=utcnow())
        )
        return bool(claimed.rowcount == 1)


def _finish(engine: Engine, notice_id: int, status: NoticeStatus, error: str | None = None,
            message_id: str | None = None, only_from: Sequence[NoticeStatus] = ()) -> bool:
    """Record the outcome; with ``only_from``, only if the notice is still in one of those."""
    values: dict[str, object] = {"status": status, "error": error, "updated_at": utcnow()}
    if status is NoticeStatus.SENT:
        values.update(sent_at=values["updated_at"], message_id=message_id)
    statement = update(DecisionNotice).where(col(DecisionNotice.id) == notice_id)
    if only_from:
        statement = statement.where(col(DecisionNotice.status).in_(list(only_from)))
    with session_scope(engine) as session:
        result = session.exec(statement.values(**values))
        return bool(result.rowcount == 1)


def _permanent(error: Exception) -> bool:
    """The relay refused the citizen's address for good (5xx): trying again cannot help."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return bool(error.recipients) and all(
            code >= 500 for code, _ in error.recipients.values())
    return False


def send_notice(engine: Engine, settings: Settings, sender: Sender, notice_id: int,
                catalogue: Catalogue | None = None, now: datetime | None = None) -> Outcome:
    """Send one notice if it is due and nobody else has; never raises for a refused send."""
    now = now or utcnow()
    with Session(engine) as session:
        notice = session.get(DecisionNotice, notice_id)
        if notice is None or notice.due_at > now or notice.status not in {
                NoticeStatus.PENDING, NoticeStatus.FAILED}:
            return Outcome.SKIPPED
        comment_id, kind = notice.comment_id, NoticeKind(notice.kind)
        prepared = _prepare(session, settings, catalogue or default_catalogue(), notice, now)
    if prepared.content is None:
        reason = prepared.cancel_reason or "not sendable"
        if _finish(engine, notice_id, NoticeStatus.CANCELLED, reason,
                   only_from=(NoticeStatus.PENDING, NoticeStatus.FAILED)):
            log.info("notice %s cancelled: %s", notice_id, reason)
            return Outcome.CANCELLED
        return Outcome.SKIPPED
    message = build_notice(prepared.content)
    if not _claim(engine, settings, notice_id, comment_id, kind, now):
        return Outcome.SKIPPED
    try:
        # RFC 3834: the envelope sender of an automatic reply is empty, so a
        # bounce of the notice can never come back as new feedback.
        sender.send(message, envelope_from="", recipient=prepared.content.to)
    except (smtplib.SMTPException, OSError) as error:
        text = f"{type(error).__name__}: {error}"[:500]
        if _permanent(error):
            _finish(engine, notice_id, NoticeStatus.CANCELLED, f"the relay refused the address: "
                                                               f"{text}")
            log.info("notice %s cancelled: the relay refused the address", notice_id)
            return Outcome.CANCELLED
        _finish(engine, notice_id, NoticeStatus.FAILED, text)
        log.warning("notice %s not sent (tried again later): %s", notice_id, text)
        return Outcome.FAILED
    if not _finish(engine, notice_id, NoticeStatus.SENT, message_id=str(message["Message-ID"])):
        log.warning("notice %s was sent but its row is gone", notice_id)
    return Outcome.SENT


def _give_up(engine: Engine, now: datetime) -> None:
    """A notice that has failed for ``GIVE_UP_AFTER`` past its due time is not tried again."""
    with session_scope(engine) as session:
        stale = session.exec(
            select(DecisionNotice)
            .where(col(DecisionNotice.status) == NoticeStatus.FAILED,
                   col(DecisionNotice.due_at) < now - GIVE_UP_AFTER)
        ).all()
        for notice in stale:
            notice.status = NoticeStatus.CANCELLED
            notice.error = (f"not sent within {GIVE_UP_AFTER.days} days; last error: "
                            f"{notice.error or '-'}")[:500]
            notice.updated_at = utcnow()
            session.add(notice)
            log.warning("notice %s given up after %d days", notice.id, GIVE_UP_AFTER.days)


def send_due_notices(engine: Engine, settings: Settings, sender: Sender,
                     now: datetime | None = None, catalogue: Catalogue | None = None) -> int:
    """Send every notice that is due; returns how many were sent. Safe to repeat and to run
    in several processes at once."""
    now = now or utcnow()
    _give_up(engine, now)
    catalogue = catalogue or default_catalogue()
    sent = 0
    for notice_id in due_notice_ids(engine, settings, now):
        outcome = send_notice(engine, settings, sender, notice_id, catalogue, now)
        sent += outcome is Outcome.SENT
    return sent


# ---------------------------------------------------------------- listing

@dataclass(frozen=True)
class NoticeRow:
    """One notice as the ``notices`` command shows it (no address: the console is not private)."""

    id: int
    comment_id: int
    reference: str
    kind: str
    status: str
    due_at: datetime
    sent_at: datetime | None
    error: str | None

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id, "comment_id": self.comment_id, "reference": self.reference,
            "kind": self.kind, "status": self.status, "due_at": self.due_at.isoformat(),
            "sent_at": self.sent_at.isoformat() if self.sent_at else None, "error": self.error,
        }


def list_notices(session: Session, statuses: Sequence[str] | None = None) -> list[NoticeRow]:
    statement = (
        select(DecisionNotice, Comment.inbound_id)
        .join(Comment, col(Comment.id) == col(DecisionNotice.comment_id))
        .order_by(col(DecisionNotice.due_at), col(DecisionNotice.id))
    )
    if statuses:
        statement = statement.where(col(DecisionNotice.status).in_(list(statuses)))
    return [
        NoticeRow(id=notice.id or 0, comment_id=notice.comment_id,
                  reference=reference_for(inbound_id), kind=notice.kind, status=notice.status,
                  due_at=notice.due_at, sent_at=notice.sent_at, error=notice.error)
        for notice, inbound_id in session.exec(statement).all()
    ]
