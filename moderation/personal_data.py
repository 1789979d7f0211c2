"""Erasure on request and raw-mail retention: removing the personal data we hold.

``erase_sender`` finds every message and comment from one address (the comment's sender,
the ``From``/``Sender``/``Reply-To`` of stored raw mail, a receipt's address, the
contact form's keyed hash) and removes the raw bytes, attachment rows, addresses and
names; the comments are withdrawn and emptied, or kept with every personal datum
redacted (``keep_anonymised``). ``erase_comment`` does the same for one comment.
``purge_raw`` deletes the raw bytes of processed messages past the retention period.

The audit log is append-only (a database trigger refuses UPDATE and DELETE), so an
erasure can never rewrite it: the one row an erasure writes holds a keyed hash of the
address (HMAC-SHA-256 with ``OGP_SECRET_KEY``), never the address or the name. This
module never publishes: the caller republishes after the commit.
"""

from __future__ import annotations

import email.parser
import email.policy
import email.utils
import hashlib
import hmac
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, func, text, update
from sqlmodel import Session, col, delete, select

from moderation.models import (
    Attachment,
    Comment,
    CommentClassification,
    CommentStatus,
    InboundMessage,
    InboundStatus,
    ModerationEvent,
    Receipt,
    Redaction,
    utcnow,
)
from moderation.privacy import NameIndex, redact_email_addresses
from moderation.transitions import cancel_notices

ERASE_ACTION = "erase"
ERASED_REASON = "erased on request"
# The headers a sender's address is read from in stored raw mail.
SENDER_HEADERS = ("from", "sender", "reply-to")
BATCH = 200

Anonymise = Callable[[str, Sequence[str]], str]
FormatText = Callable[[str], str]


class ErasureError(ValueError):
    """Nothing to erase, or a request that cannot be carried out; shown as is."""


def address_hash(secret_key: str, address: str) -> str:
    """Keyed, so the audit row cannot be turned back into the address by guessing.

    The same function as the contact form's rate-limit hash, so a form submission's
    ``submitter_hash`` finds its sender too.
    """
    return hmac.new(secret_key.encode(), address.strip().lower().encode(),
                    hashlib.sha256).hexdigest()


def default_anonymise(text: str, names: Sequence[str]) -> str:
    """Addresses and the sender's names, whole or word by word (the caller may pass the
    intake's fuller detector)."""
    return NameIndex(names, min_words=1).redact(redact_email_addresses(text))


@dataclass(frozen=True)
class ErasureReport:
    address_hash: str
    comments: tuple[int, ...]
    inbound: tuple[int, ...]
    withdrawn: int
    anonymised: int
    attachments: int
    receipts: int

    @property
    def found(self) -> bool:
        return bool(self.comments or self.inbound)


def sender_addresses(raw: bytes) -> set[str]:
    """The lower-cased addresses of a stored message's sender headers (header block only)."""
    try:
        headers = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(raw)
        values = [str(v) for name in SENDER_HEADERS for v in headers.get_all(name) or []]
        return {address.strip().lower() for _, address in email.utils.getaddresses(values)
                if "@" in address}
    except Exception:  # an unreadable header block names nobody
        return set()


def _messages_from(session: Session, address: str, secret_key: str) -> set[int]:
    """Ids of the inbound messages that came from ``address``, however it was recorded."""
    found: set[int] = set()
    found.update(session.exec(select(Comment.inbound_id).where(
        func.lower(Comment.author_email) == address)).all())
    found.update(session.exec(select(Receipt.inbound_id).where(
        func.lower(Receipt.address) == address)).all())
    found.update(i for i in session.exec(select(InboundMessage.id).where(
        InboundMessage.submitter_hash == address_hash(secret_key, address))).all()
        if i is not None)
    # Raw mail not (yet) turned into a comment: quarantined, failed, waiting.
    ids = [i for i in session.exec(
        select(InboundMessage.id).where(col(InboundMessage.raw_purged_at).is_(None))
        .order_by(col(InboundMessage.id))).all() if i is not None and i not in found]
    for start in range(0, len(ids), BATCH):
        rows = session.exec(select(InboundMessage.id, InboundMessage.raw).where(
            col(InboundMessage.id).in_(ids[start:start + BATCH]))).all()
        found.update(i for i, raw in rows if i is not None and address in sender_addresses(raw))
    return found


def erase_sender(session: Session, address: str, actor: str, secret_key: str,
                 keep_anonymised: bool = False, anonymise: Anonymise = default_anonymise,
                 format_text: FormatText | None = None) -> ErasureReport:
    """Erase everything from ``address``; one audit row, with the address's keyed hash."""
    address = address.strip().lower()
    if "@" not in address:
        raise ErasureError(f"{address!r} is not an e-mail address")
    inbound_ids = _messages_from(session, address, secret_key)
    return _erase(session, inbound_ids, address, actor, secret_key, keep_anonymised,
                  anonymise, format_text, comment_id=None)


def erase_comment(session: Session, comment_id: int, actor: str, secret_key: str,
                  keep_anonymised: bool = False, anonymise: Anonymise = default_anonymise,
                  format_text: FormatText | None = None,
                  expected_version: int | None = None) -> ErasureReport:
    """Erase one comment's sender data and its message (the moderator page's button)."""
    comment = session.get(Comment, comment_id, with_for_update=True)
    if comment is None:
        raise ErasureError(f"no comment with id {comment_id}")
    if expected_version is not None and comment.version != expected_version:
        raise ErasureError(f"comment {comment_id} changed since you opened it; reload the page")
    if comment.erased:
        raise ErasureError(f"comment {comment_id} is already erased")
    return _erase(session, {comment.inbound_id}, comment.author_email.strip().lower(), actor,
                  secret_key, keep_anonymised, anonymise, format_text, comment_id=comment_id)


def _erase(session: Session, inbound_ids: set[int], address: str, actor: str, secret_key: str,
           keep_anonymised: bool, anonymise: Anonymise, format_text: FormatText | None,
           comment_id: int | None) -> ErasureReport:
    _secure_delete(session)
    digest = address_hash(secret_key, address) if address else "-"
    comments = list(session.exec(select(Comment).where(
        col(Comment.inbound_id).in_(sorted(inbound_ids))).order_by(col(Comment.id))).all())
    messages = list(session.exec(select(InboundMessage).where(
        col(InboundMessage.id).in_(sorted(inbound_ids))).order_by(col(InboundMessage.id))).all())
    names = sorted({n for c in comments for n in (c.author_name, c.author_public or "") if n})
    names += [address, address.split("@")[0]] if address else []
    # Word by word too ("Qarrishta" alone in a signature): an erasure would rather hide
    # an ordinary word than leave a name.
    names += sorted({w for n in names for w in n.replace("@", " ").replace(".", " ").split()
                     if len(w) >= 3})
    now = utcnow()
    withdrawn = anonymised = 0
    for comment in comments:
        if _erase_comment_row(session, comment, names, keep_anonymised, anonymise,
                              format_text, now):
            withdrawn += 1
        else:
            anonymised += 1
    for message in messages:
        message.raw = b""
        message.raw_purged_at = now
        message.message_id = None
        message.submitter_hash = None
        message.last_error = None
        if message.reason is not None or message.status == InboundStatus.RECEIVED:
            message.reason = ERASED_REASON
        if message.status == InboundStatus.RECEIVED:
            # Nothing is left to process: set aside, never turned into a comment.
            message.status = InboundStatus.QUARANTINED
        message.updated_at = now
        session.add(message)
    attachments = session.exec(delete(Attachment).where(
        col(Attachment.inbound_id).in_(sorted(inbound_ids)))).rowcount or 0
    receipts = 0
    for receipt in session.exec(select(Receipt).where(
            col(Receipt.inbound_id).in_(sorted(inbound_ids)))).all():
        # (address, day) is unique: each erased receipt keeps a distinct placeholder.
        receipt.address = f"[erased #{receipt.id}]"
        receipt.error = None
        session.add(receipt)
        receipts += 1
    ids = tuple(c.id or 0 for c in comments)
    report = ErasureReport(address_hash=digest, comments=ids,
                           inbound=tuple(sorted(inbound_ids)), withdrawn=withdrawn,
                           anonymised=anonymised, attachments=attachments, receipts=receipts)
    if report.found:
        session.add(ModerationEvent(
            comment_id=comment_id if comment_id is not None else (ids[0] if len(ids) == 1
                                                                  else None),
            actor=actor, action=ERASE_ACTION,
            detail=(f"sender hmac-sha256:{digest}; comments "
                    f"{', '.join(f'#{i}' for i in ids) or '-'} "
                    f"({'kept anonymised' if keep_anonymised else 'withdrawn'}); "
                    f"{len(inbound_ids)} message(s), {attachments} attachment(s), "
                    f"{receipts} receipt(s) erased"),
        ))
    return report


def _erase_comment_row(session: Session, comment: Comment, names: Sequence[str],
                       keep_anonymised: bool, anonymise: Anonymise,
                       format_text: FormatText | None, now: datetime) -> bool:
    """Blank the sender on one comment; True when it was withdrawn (and emptied)."""
    withdraw = not keep_anonymised or comment.status == CommentStatus.WITHDRAWN
    comment.author_email = ""
    comment.author_name = ""
    comment.author_public = None
    comment.consent_source = comment.consent_by = None
    comment.consent_at = None
    comment.claimed_by = None
    comment.claimed_until = None
    # The trimmed quotes and signature are never published: nothing to keep.
    comment.quoted_text = ""
    if withdraw:
        comment.status = CommentStatus.WITHDRAWN
        comment.subject = comment.text = comment.display_html = ""
        comment.edited_text = comment.edited_html = None
    else:
        comment.subject = anonymise(comment.subject, names)
        comment.text = anonymise(comment.text, names)
        comment.display_html = (format_text(comment.text) if format_text is not None
                                else anonymise(comment.display_html, names))
        if comment.edited_text is not None:
            comment.edited_text = anonymise(comment.edited_text, names)
            comment.edited_html = (format_text(comment.edited_text) if format_text is not None
                                   else anonymise(comment.edited_html or "", names))
    # Spans index the text as it was; the text has changed.
    session.exec(delete(Redaction).where(col(Redaction.comment_id) == comment.id))
    # The classifier's explanation quotes the citizen's words (the version and scores stay).
    session.exec(update(CommentClassification)
                 .where(col(CommentClassification.comment_id) == comment.id)
                 .values(explanation="{}"))
    cancel_notices(session, comment.id or 0, ERASED_REASON)
    comment.erased = True
    comment.updated_at = now
    comment.version += 1
    session.add(comment)
    return withdraw


def _secure_delete(session: Session) -> None:
    """SQLite: overwrite freed pages with zeros, so deleted bytes do not linger in the file."""
    if session.get_bind().dialect.name == "sqlite":
        session.exec(text("PRAGMA secure_delete=ON"))  # type: ignore[call-overload]


def compact(engine: Engine) -> None:
    """After an erasure's commit: on SQLite, drop the old search-index segments, rebuild
    the file and empty the write-ahead log, so no copy of the erased bytes is left on disk.

    PostgreSQL keeps dead row versions only until vacuum; a dump never contains them.
    """
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as connection:
        connection.execute(text("INSERT INTO comment_fts(comment_fts) VALUES ('optimize')"))
        connection.commit()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM"))
        connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))


# ---------------------------------------------------------------- retention

@dataclass(frozen=True)
class PurgeReport:
    messages: int
    cutoff: datetime


def purge_raw(session: Session, older_than: timedelta, now: datetime | None = None
              ) -> PurgeReport:
    """Delete the raw bytes (and so the attachments' bytes) of processed messages
    received before ``now - older_than``; comments and attachment metadata stay.

    Quarantined, failed and waiting messages are kept: a person still has to read
    them. Safe to repeat: a purged message is not counted again.
    """
    cutoff = (now or utcnow()) - older_than
    _secure_delete(session)
    result = session.exec(
        update(InboundMessage)
        .where(col(InboundMessage.status) == InboundStatus.PROCESSED,
               col(InboundMessage.raw_purged_at).is_(None),
               col(InboundMessage.created_at) < cutoff)
        .values(raw=b"", raw_purged_at=now or utcnow())
    )
    return PurgeReport(messages=result.rowcount or 0, cutoff=cutoff)
