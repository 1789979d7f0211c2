"""The sweeper: the database, not the broker, decides what still needs doing.

Rows left in a non-final state (an inbound message still ``received``, a receipt
still ``pending``) for longer than ``OGP_SWEEP_AFTER_SECONDS`` are handed to
processing again. A lost broker message therefore delays work but never loses
it; a duplicate is harmless because every task checks the row's status first.
Decision notices that have come due (a rejection once its undo window has
passed, a failed send after a rest) are handed to their sender, and so are
contact-form address confirmations whose mail never went out.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import col, select

from moderation.confirmations import UNSENT
from moderation.db import session_scope
from moderation.models import (
    AddressConfirmation,
    InboundMessage,
    InboundStatus,
    Receipt,
    ReceiptStatus,
    utcnow,
)
from moderation.personal_data import purge_raw
from workers.notices import count_due

log = logging.getLogger(__name__)
BATCH = 500


@dataclass(frozen=True)
class SweepReport:
    inbound: int
    receipts: int
    notices: int = 0
    confirmations: int = 0


def sweep(
    engine: Engine,
    older_than_seconds: float,
    enqueue: Callable[[Sequence[int]], None],
    send_receipts: Callable[[Sequence[int]], None],
    send_notices: Callable[[], None] | None = None,
    send_confirmation: Callable[[int], None] | None = None,
) -> SweepReport:
    cutoff = utcnow() - timedelta(seconds=older_than_seconds)
    with session_scope(engine) as session:
        stuck = list(session.exec(
            select(InboundMessage.id)
            .where(InboundMessage.status == InboundStatus.RECEIVED,
                   col(InboundMessage.updated_at) < cutoff)
            .order_by(col(InboundMessage.id)).limit(BATCH)
        ).all())
        unsent = list(session.exec(
            select(Receipt.id)
            .where(col(Receipt.status).in_([ReceiptStatus.PENDING, ReceiptStatus.FAILED]),
                   col(Receipt.updated_at) < cutoff)
            .order_by(col(Receipt.id)).limit(BATCH)
        ).all())
        # Touch them, so the next sweep waits a full period before trying again.
        now = utcnow()
        for message in session.exec(
            select(InboundMessage).where(col(InboundMessage.id).in_(stuck))
        ).all():
            message.updated_at = now
            session.add(message)
        for receipt in session.exec(select(Receipt).where(col(Receipt.id).in_(unsent))).all():
            receipt.updated_at = now
            session.add(receipt)
        # A failed notice rests one sweep period before it is tried again.
        notices = count_due(session, now, cutoff) if send_notices is not None else 0
        # A confirmation whose mail failed (or never left) still holds its marker.
        unconfirmed = list(session.exec(
            select(AddressConfirmation.id)
            .where(col(AddressConfirmation.token_hash).startswith(UNSENT),
                   col(AddressConfirmation.confirmed_at).is_(None),
                   col(AddressConfirmation.created_at) < cutoff)
            .order_by(col(AddressConfirmation.id)).limit(BATCH)
        ).all()) if send_confirmation is not None else []
    inbound_ids = [i for i in stuck if i is not None]
    receipt_ids = [i for i in unsent if i is not None]
    if inbound_ids:
        log.warning("sweeper: re-enqueueing %d messages stuck in 'received'", len(inbound_ids))
        enqueue(inbound_ids)  # after the commit above
    if receipt_ids:
        log.warning("sweeper: re-sending %d receipts", len(receipt_ids))
        send_receipts(receipt_ids)
    if notices and send_notices is not None:
        log.info("sweeper: %d decision notices are due", notices)
        send_notices()
    confirmation_ids = [i for i in unconfirmed if i is not None]
    if confirmation_ids and send_confirmation is not None:
        log.warning("sweeper: re-sending %d address confirmations", len(confirmation_ids))
        for confirmation_id in confirmation_ids:
            send_confirmation(confirmation_id)
    return SweepReport(inbound=len(inbound_ids), receipts=len(receipt_ids), notices=notices,
                       confirmations=len(confirmation_ids))


def purge_expired(engine: Engine, retention_days: int) -> int:
    """Raw mail of processed messages older than ``OGP_RAW_RETENTION_DAYS``; comments stay."""
    with session_scope(engine) as session:
        report = purge_raw(session, timedelta(days=retention_days))
    if report.messages:
        log.info("retention: deleted the raw mail of %d processed messages", report.messages)
    return report.messages


def run_periodically(engine: Engine, older_than_seconds: float,
                     enqueue: Callable[[Sequence[int]], None],
                     send_receipts: Callable[[Sequence[int]], None],
                     stop: threading.Event,
                     send_notices: Callable[[], None] | None = None,
                     retention_days: int | None = None,
                     send_confirmation: Callable[[int], None] | None = None
                     ) -> threading.Thread:
    """A daemon thread that sweeps every half period until ``stop`` is set; with
    ``retention_days`` it also deletes raw mail past the retention period."""
    interval = max(1.0, older_than_seconds / 2)

    def loop() -> None:
        while not stop.wait(interval):
            try:
                sweep(engine, older_than_seconds, enqueue, send_receipts, send_notices,
                      send_confirmation)
                if retention_days is not None:
                    purge_expired(engine, retention_days)
            except Exception:  # a failed sweep is retried next period
                log.exception("sweeper round failed")

    thread = threading.Thread(target=loop, name="sweeper", daemon=True)
    thread.start()
    return thread
