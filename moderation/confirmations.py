"""Contact-form addresses: nothing is mailed to one until its owner has confirmed it.

The form takes any address, so without this anyone could make us mail a stranger.
The first mail to a form address is a link to ``/contact/confirm``; only after the
owner presses the button there does the receipt go out, and decision and response
notices for a form comment go only to a confirmed address. An address is confirmed
once for all its form comments.

Only the SHA-256 of a token is stored. A confirmation row that has not been mailed
yet holds an ``unsent-`` marker instead of a hash (no hash begins so, and no token
hashes to one): the sender swaps the marker for the hash of a fresh token with a
conditional UPDATE, so only one process ever mails a given row. This module never
sends mail and never logs an address.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlalchemy import Engine, func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from moderation.db import session_scope
from moderation.models import AddressConfirmation, Comment, Receipt

log = logging.getLogger(__name__)
UNSENT = "unsent-"
# At most one confirmation mail per address in this long, whatever the form is made
# to submit (the form itself takes OGP_FORM_RATE_LIMIT_PER_HOUR per address).
RESEND_AFTER = timedelta(hours=24)
_TOKEN = re.compile(r"[A-Za-z0-9_-]{32,128}")


def new_token() -> str:
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def unsent_marker() -> str:
    return UNSENT + secrets.token_hex(16)


def well_formed(token: str) -> bool:
    """A token as ``new_token`` makes them; anything else is unknown without a query."""
    return bool(_TOKEN.fullmatch(token))


def confirm_link(ui_url: str, token: str) -> str:
    return f"{ui_url.rstrip('/')}/contact/confirm?token={token}"


class ConfirmState(StrEnum):
    VALID = "valid"  # may be confirmed now
    ALREADY = "already"  # confirmed before: nothing more to do
    EXPIRED = "expired"
    UNKNOWN = "unknown"


def state_of(row: AddressConfirmation | None, now: datetime) -> ConfirmState:
    if row is None or row.token_hash.startswith(UNSENT):
        return ConfirmState.UNKNOWN
    if row.confirmed_at is not None:
        return ConfirmState.ALREADY
    expires_at = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=UTC)
    return ConfirmState.EXPIRED if expires_at <= now else ConfirmState.VALID


def _for_address(address: str) -> SelectOfScalar[int | None]:
    return (
        select(col(AddressConfirmation.id))
        .join(Comment, col(Comment.inbound_id) == col(AddressConfirmation.inbound_id))
        .where(func.lower(col(Comment.author_email)) == address.lower())
    )


def address_confirmed(session: Session, address: str) -> bool:
    """Has the owner of ``address`` confirmed it for any of their form comments?"""
    statement = _for_address(address).where(col(AddressConfirmation.confirmed_at).is_not(None))
    return session.exec(statement.limit(1)).first() is not None


def asked_recently(session: Session, address: str, now: datetime) -> bool:
    statement = _for_address(address).where(
        col(AddressConfirmation.created_at) > now - RESEND_AFTER)
    return session.exec(statement.limit(1)).first() is not None


def plan_confirmation(session: Session, inbound_id: int, address: str, now: datetime,
                      hours: int) -> int | None:
    """A confirmation row to mail after the commit, or ``None`` when one went out lately.

    Called in the transaction that creates the form comment (so the comment's address
    counts for the next submission's rate check).
    """
    if asked_recently(session, address, now):
        log.info("inbound %s: no confirmation mail (one went to this address within %d hours)",
                 inbound_id, RESEND_AFTER.total_seconds() // 3600)
        return None
    row = AddressConfirmation(inbound_id=inbound_id, token_hash=unsent_marker(),
                              created_at=now, expires_at=now + timedelta(hours=hours))
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return None  # this message already has one (a repeated task)
    return row.id


def claim_for_sending(engine: Engine, confirmation_id: int, hours: int) -> str | None:
    """The token to mail, or ``None`` if the row was mailed (or confirmed) already.

    Only the process whose UPDATE replaced the ``unsent-`` marker may mail the token;
    the link is valid for ``hours`` from now.
    """
    with session_scope(engine) as session:
        row = session.get(AddressConfirmation, confirmation_id)
        if row is None or row.confirmed_at is not None or not row.token_hash.startswith(UNSENT):
            return None
        token = new_token()
        now = datetime.now(UTC)
        claimed = session.exec(
            update(AddressConfirmation)
            .where(col(AddressConfirmation.id) == confirmation_id,
                   col(AddressConfirmation.token_hash) == row.token_hash)
            .values(token_hash=hash_token(token), expires_at=now + timedelta(hours=hours))
        )
        return token if claimed.rowcount == 1 else None


def release_after_failure(engine: Engine, confirmation_id: int, token: str) -> None:
    """The mail did not go: the token was never seen; a retry mails a new one."""
    with session_scope(engine) as session:
        session.exec(
            update(AddressConfirmation)
            .where(col(AddressConfirmation.id) == confirmation_id,
                   col(AddressConfirmation.token_hash) == hash_token(token))
            .values(token_hash=unsent_marker())
        )


@dataclass(frozen=True)
class Confirmed:
    """What pressing the button did; the comment's id and address when there is one."""

    state: ConfirmState
    inbound_id: int | None = None
    comment_id: int | None = None
    address: str | None = None


def look_up(session: Session, token: str, now: datetime) -> ConfirmState:
    """The state of a link, changing nothing (for the page with the button)."""
    if not well_formed(token):
        return ConfirmState.UNKNOWN
    row = session.exec(select(AddressConfirmation)
                       .where(AddressConfirmation.token_hash == hash_token(token))).first()
    return state_of(row, now)


def confirm(session: Session, token: str, now: datetime) -> Confirmed:
    """Confirm the link's address; the caller commits and then plans the receipt."""
    if not well_formed(token):
        return Confirmed(ConfirmState.UNKNOWN)
    row = session.exec(select(AddressConfirmation)
                       .where(AddressConfirmation.token_hash == hash_token(token))
                       .with_for_update()).first()
    state = state_of(row, now)
    if row is None or state is not ConfirmState.VALID:
        return Confirmed(state)
    row.confirmed_at = now
    session.add(row)
    comment = session.exec(select(Comment).where(Comment.inbound_id == row.inbound_id)).first()
    if comment is None:  # erased meanwhile: the address is confirmed, there is nothing to send
        return Confirmed(state, row.inbound_id)
    return Confirmed(state, row.inbound_id, comment.id, comment.author_email)


def plan_receipt(session: Session, inbound_id: int, comment_id: int | None, address: str,
                 reference: str, now: datetime) -> int | None:
    """A pending receipt row, sent after the commit; at most one per address and day."""
    day = now.astimezone(UTC).date().isoformat()
    already = session.exec(
        select(Receipt.id).where(Receipt.address == address, Receipt.day == day)
    ).first()
    if already is not None:
        log.info("inbound %s: no receipt (one was already sent to this address today)",
                 inbound_id)
        return None
    receipt = Receipt(inbound_id=inbound_id, comment_id=comment_id, address=address, day=day,
                      reference=reference)
    try:
        with session.begin_nested():
            session.add(receipt)
    except IntegrityError:
        return None  # a concurrent message from the same address took today's receipt
    return receipt.id
