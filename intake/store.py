"""Store raw inbound bytes first, before anything else looks at them.

A message is identified by the SHA-256 of its bytes (and, for IMAP, by
``(mailbox, UIDVALIDITY, UID)``); storing the same bytes twice returns the
existing row, so every intake path is safe to repeat.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlmodel import Session, col, func, select

from intake.parse import peek_message_id
from moderation.models import InboundMessage, InboundSource, InboundStatus

Enqueue = Callable[[Sequence[int]], None]
"""Hands stored row ids to processing; called only after the commit."""


@dataclass(frozen=True)
class RawMessage:
    raw: bytes
    source: InboundSource
    mailbox: str | None = None
    uidvalidity: int | None = None
    uid: int | None = None
    # Set when the message is known to be unprocessable before it is parsed
    # (over the size limit: ``raw`` is then its header block only).
    truncated: bool = False
    quarantine_reason: str | None = None

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.raw).hexdigest()


@dataclass(frozen=True)
class Stored:
    inbound_id: int
    created: bool


def store_raw_batch(session: Session, items: Sequence[RawMessage]) -> list[Stored]:
    """Insert what is new, in the caller's transaction; duplicates map to the old row."""
    hashes = [item.sha256 for item in items]
    existing = dict(
        session.exec(
            select(InboundMessage.sha256, InboundMessage.id).where(
                col(InboundMessage.sha256).in_(hashes)
            )
        ).all()
    )
    results: list[Stored] = []
    fresh: dict[str, InboundMessage] = {}
    for item, digest in zip(items, hashes, strict=True):
        if digest in existing:
            results.append(Stored(existing[digest] or 0, created=False))
            continue
        if digest in fresh:  # the same bytes twice in one batch
            results.append(Stored(-1, created=False))
            continue
        row = InboundMessage(
            source=item.source,
            sha256=digest,
            size=len(item.raw),
            raw=item.raw,
            message_id=peek_message_id(item.raw),
            mailbox=item.mailbox,
            uidvalidity=item.uidvalidity,
            uid=item.uid,
            truncated=item.truncated,
        )
        if item.quarantine_reason:
            row.status = InboundStatus.QUARANTINED
            row.reason = item.quarantine_reason
        session.add(row)
        fresh[digest] = row
        results.append(Stored(-1, created=True))
    session.flush()
    resolved = []
    for item_digest, stored in zip(hashes, results, strict=True):
        if stored.inbound_id == -1:
            resolved.append(Stored(fresh[item_digest].id or 0, stored.created))
        else:
            resolved.append(stored)
    return resolved


def waiting_for_processing(session: Session) -> int:
    """Stored messages not yet processed: the backpressure the poller and the contact form
    share (``OGP_BACKPRESSURE_MAX_UNPROCESSED``)."""
    return int(session.exec(select(func.count()).select_from(InboundMessage)
                            .where(InboundMessage.status == InboundStatus.RECEIVED)).one())
