"""Send one planned receipt; repeat-safe through the row's status."""

from __future__ import annotations

import logging
import smtplib
from collections import Counter
from collections.abc import Sequence

from sqlalchemy import Engine, update
from sqlmodel import col

from config.settings import Settings
from intake.receipts import ReceiptContent, build_receipt, clean_message_id
from moderation.db import session_scope
from moderation.models import InboundMessage, Receipt, ReceiptStatus, utcnow
from workers.mail import Sender

log = logging.getLogger(__name__)


def _claim(engine: Engine, receipt_id: int) -> bool:
    """Move the receipt to ``sending`` unless someone else already did: only the
    process whose UPDATE changed the row may talk to the SMTP server."""
    with session_scope(engine) as session:
        claimed = session.exec(
            update(Receipt)
            .where(col(Receipt.id) == receipt_id,
                   col(Receipt.status).in_([ReceiptStatus.PENDING, ReceiptStatus.FAILED]))
            .values(status=ReceiptStatus.SENDING, updated_at=utcnow())
        )
        return bool(claimed.rowcount == 1)


def _finish(engine: Engine, receipt_id: int, status: ReceiptStatus, error: str | None,
            message_id: str | None) -> None:
    with session_scope(engine) as session:
        receipt = session.get(Receipt, receipt_id)
        if receipt is None:
            return
        receipt.status = status
        receipt.error = error
        receipt.updated_at = utcnow()
        if status is ReceiptStatus.SENT:
            receipt.sent_at = receipt.updated_at
            receipt.message_id = message_id
        session.add(receipt)


def send_receipt(engine: Engine, settings: Settings, sender: Sender, receipt_id: int) -> str:
    with session_scope(engine) as session:
        receipt = session.get(Receipt, receipt_id)
        if receipt is None:
            return "missing"
        if receipt.status in {ReceiptStatus.SENT, ReceiptStatus.SENDING}:
            return f"already-{receipt.status}"
        inbound = session.get(InboundMessage, receipt.inbound_id)
        content = ReceiptContent(
            to=receipt.address,
            mail_from=settings.mail_from,
            reference=receipt.reference,
            in_reply_to=clean_message_id(inbound.message_id if inbound else None),
            sent_at=utcnow(),
        )
    message = build_receipt(content)
    if not _claim(engine, receipt_id):
        return "already-claimed"
    try:
        # RFC 3834: the envelope sender of an automatic reply is empty, so a
        # bounce of the receipt can never come back as new feedback.
        sender.send(message, envelope_from="", recipient=content.to)
    except (smtplib.SMTPException, OSError) as error:
        _finish(engine, receipt_id, ReceiptStatus.FAILED,
                f"{type(error).__name__}: {error}"[:500], None)
        log.warning("receipt %s not sent: %s", receipt_id, error)
        raise
    _finish(engine, receipt_id, ReceiptStatus.SENT, None, str(message["Message-ID"]))
    return "sent"


def send_receipts(engine: Engine, settings: Settings, sender: Sender,
                  receipt_ids: Sequence[int]) -> str:
    """Send each receipt of a batch; a failure does not stop the others. Raises the first
    failure at the end, so the batch is retried: receipts already sent are skipped then."""
    outcomes: Counter[str] = Counter()
    first: Exception | None = None
    for receipt_id in receipt_ids:
        try:
            outcomes[send_receipt(engine, settings, sender, receipt_id)] += 1
        except (smtplib.SMTPException, OSError) as error:
            outcomes["failed"] += 1
            first = first or error
    if first is not None:
        raise first
    return " ".join(f"{name}={count}" for name, count in sorted(outcomes.items()))
