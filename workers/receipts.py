"""Send one planned receipt; repeat-safe through the row's status."""

from __future__ import annotations

import logging
import smtplib

from sqlalchemy import Engine

from config.settings import Settings
from intake.receipts import ReceiptContent, build_receipt, clean_message_id
from moderation.db import session_scope
from moderation.models import Comment, InboundMessage, Receipt, ReceiptStatus, utcnow
from workers.mail import Sender

log = logging.getLogger(__name__)


def send_receipt(engine: Engine, settings: Settings, sender: Sender, receipt_id: int) -> str:
    with session_scope(engine) as session:
        receipt = session.get(Receipt, receipt_id)
        if receipt is None:
            return "missing"
        if receipt.status == ReceiptStatus.SENT:
            return "already-sent"
        inbound = session.get(InboundMessage, receipt.inbound_id)
        comment = session.get(Comment, receipt.comment_id) if receipt.comment_id else None
        content = ReceiptContent(
            to=receipt.address,
            mail_from=settings.mail_from,
            reference=receipt.reference,
            subject=comment.subject if comment else "",
            in_reply_to=clean_message_id(inbound.message_id if inbound else None),
            sent_at=utcnow(),
        )
    message = build_receipt(content)
    try:
        # RFC 3834: the envelope sender of an automatic reply is empty, so a
        # bounce of the receipt can never come back as new feedback.
        sender.send(message, envelope_from="", recipient=content.to)
    except (smtplib.SMTPException, OSError) as error:
        with session_scope(engine) as session:
            failed = session.get(Receipt, receipt_id)
            if failed is not None:
                failed.status = ReceiptStatus.FAILED
                failed.error = f"{type(error).__name__}: {error}"[:500]
                session.add(failed)
        log.warning("receipt %s not sent: %s", receipt_id, error)
        raise
    with session_scope(engine) as session:
        sent = session.get(Receipt, receipt_id)
        if sent is not None:
            sent.status = ReceiptStatus.SENT
            sent.error = None
            sent.sent_at = utcnow()
            sent.message_id = str(message["Message-ID"])
            session.add(sent)
    return "sent"
