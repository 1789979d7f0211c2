"""Mail one planned address confirmation; repeat-safe through the row's token marker.

``moderation.confirmations`` plans the row (in the form comment's transaction) and
owns the token; this module only builds the message and talks to the relay. A row
whose mail failed gets its ``unsent-`` marker back, so a retry mails a new token.
"""

from __future__ import annotations

import logging
import smtplib
from enum import StrEnum

from sqlalchemy import Engine
from sqlmodel import Session, select

from config.settings import Settings
from intake.receipts import clean_address, reference_for
from moderation.confirmations import claim_for_sending, confirm_link, release_after_failure
from moderation.models import AddressConfirmation, Comment, utcnow
from workers.mail import Sender
from workers.outgoing import ConfirmationContent, build_confirmation

log = logging.getLogger(__name__)


class Sent(StrEnum):
    SENT = "sent"
    SKIPPED = "skipped"  # mailed or confirmed already, or claimed by another process
    MISSING = "missing"  # no such row, or its comment (and address) is gone


def send_confirmation(engine: Engine, settings: Settings, sender: Sender,
                      confirmation_id: int) -> Sent:
    """Raises the relay's error after recording it (a retry mails a new token)."""
    with Session(engine) as session:
        row = session.get(AddressConfirmation, confirmation_id)
        if row is None:
            return Sent.MISSING
        inbound_id = row.inbound_id
        comment = session.exec(select(Comment).where(Comment.inbound_id == inbound_id)).first()
        address = clean_address(comment.author_email or "") if comment is not None else None
    if address is None:
        return Sent.MISSING
    token = claim_for_sending(engine, confirmation_id, settings.confirmation_hours)
    if token is None:
        return Sent.SKIPPED
    message = build_confirmation(ConfirmationContent(
        to=address,
        mail_from=settings.mail_from,
        reference=reference_for(inbound_id),
        link=confirm_link(settings.ui_url, token),
        hours=settings.confirmation_hours,
        sent_at=utcnow(),
    ))
    try:
        # RFC 3834, as for receipts: an empty envelope sender, so a bounce can never
        # come back as new feedback.
        sender.send(message, envelope_from="", recipient=address)
    except (smtplib.SMTPException, OSError) as error:
        release_after_failure(engine, confirmation_id, token)
        log.warning("confirmation %s not sent: %s", confirmation_id, error)
        raise
    log.info("confirmation %s sent for inbound %s", confirmation_id, inbound_id)
    return Sent.SENT
