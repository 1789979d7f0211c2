"""Process one stored inbound message into a pending comment (or a quarantine).

Safe to run twice for the same id: the row's status says whether the work is
done, and the unique ``comment.inbound_id`` stops a racing duplicate.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from config.settings import Settings
from intake import failpoints
from intake.analyse import DEFAULT_LIMITS, DEFAULT_MAX_TEXT_CHARS, Analysis, Quarantine, analyse
from intake.campaigns import DEFAULT_THRESHOLD
from intake.classifier.store import record_classification
from intake.classify import Classifier
from intake.limits import Limits
from intake.parse import AttachmentInfo
from intake.pii import detect_personal_data
from intake.receipts import decide_receipt, own_addresses, reference_for
from intake.stages import StageClock
from intake.timeout import TimeLimitExceeded, time_limit
from intake.webform import form_consent
from moderation.campaigns import group_new
from moderation.confirmations import address_confirmed, plan_confirmation, plan_receipt
from moderation.db import session_scope
from moderation.models import (
    Attachment,
    Comment,
    CommentCommitment,
    InboundMessage,
    InboundSource,
    InboundStatus,
    ModerationEvent,
    utcnow,
)
from moderation.redaction import detect_and_record

log = logging.getLogger(__name__)


class Outcome(StrEnum):
    PENDING = "pending"
    QUARANTINED = "quarantined"
    FAILED = "failed"
    ALREADY_DONE = "already-done"
    MISSING = "missing"


class ProcessingError(RuntimeError):
    """Processing raised; the error is recorded and the message will be retried
    (``will_retry``) or has now failed for good."""

    def __init__(self, inbound_id: int, error: BaseException, will_retry: bool) -> None:
        super().__init__(f"inbound {inbound_id}: {type(error).__name__}: {error}")
        self.inbound_id = inbound_id
        self.will_retry = will_retry


@dataclass(frozen=True)
class ProcessingOptions:
    limits: Limits = DEFAULT_LIMITS
    max_text_chars: int = DEFAULT_MAX_TEXT_CHARS
    time_limit_seconds: float = 20.0
    receipts: bool = False
    own_addresses: frozenset[str] = frozenset()
    confirmation_hours: int = 72
    max_attempts: int = 5
    campaign_threshold: float = DEFAULT_THRESHOLD

    @classmethod
    def from_settings(cls, settings: Settings) -> ProcessingOptions:
        return cls(
            limits=Limits(
                max_message_bytes=settings.max_message_bytes,
                max_header_bytes=settings.max_header_bytes,
                max_mime_depth=settings.max_mime_depth,
                max_mime_parts=settings.max_mime_parts,
                max_encoded_words=settings.max_encoded_words,
            ),
            max_text_chars=settings.max_text_chars,
            time_limit_seconds=settings.parse_time_limit_seconds,
            receipts=settings.receipts,
            own_addresses=own_addresses(settings.mail_from, settings.imap_user),
            confirmation_hours=settings.confirmation_hours,
            max_attempts=settings.max_attempts,
            campaign_threshold=settings.campaign_threshold,
        )


@dataclass(frozen=True)
class Processed:
    outcome: Outcome
    receipt_id: int | None = None
    # A contact-form address not yet confirmed gets a confirmation mail, not a receipt.
    confirmation_id: int | None = None


def process_inbound(
    engine: Engine,
    inbound_id: int,
    classifier: Classifier,
    options: ProcessingOptions | None = None,
    clock: StageClock | None = None,
) -> Processed:
    """Claim, analyse, persist. Raises ``ProcessingError`` after recording any failure."""
    options = options or ProcessingOptions()
    clock = clock or StageClock()
    with clock.stage("claim"):
        claimed = _claim(engine, inbound_id, options.max_attempts)
    if isinstance(claimed, Processed):
        return claimed
    clock.add("queue_wait", claimed.waited)
    try:
        result = _analyse_claimed(claimed, classifier, options, clock)
        with clock.outer("commit"):
            processed = _persist_alone(engine, inbound_id, result, options, clock)
    except Exception as error:
        will_retry = _record_failure(engine, inbound_id, error, claimed.attempt,
                                     options.max_attempts)
        raise ProcessingError(inbound_id, error, will_retry) from error
    _group(engine, [inbound_id], options, clock)
    return processed


@dataclass(frozen=True)
class Claimed:
    """A message this process has counted an attempt for and now works on."""

    inbound_id: int
    raw: bytes
    released: bool
    attempt: int
    waited: float  # seconds between storing the message and this claim


@dataclass
class BatchResult:
    outcomes: dict[int, Processed] = field(default_factory=dict)
    # Failed this time and will be tried again (each alone, with a delay).
    retry: list[int] = field(default_factory=list)
    # An earlier try of this batch died without a word (a killed worker): nothing was
    # claimed; the caller hands each message on alone, so one that kills its worker
    # fails alone.
    split: list[int] = field(default_factory=list)


def _claim_row(message: InboundMessage | None, max_attempts: int,
               now: datetime) -> Processed | Claimed:
    if message is None:
        return Processed(Outcome.MISSING)
    if message.status != InboundStatus.RECEIVED:
        return Processed(Outcome.ALREADY_DONE)
    if message.attempts >= max_attempts:
        # Earlier attempts died without recording an error (killed workers).
        message.status = InboundStatus.FAILED
        message.reason = (f"gave up after {message.attempts} attempts: "
                          f"{message.last_error or 'the worker stopped each time'}")
        message.updated_at = now
        return Processed(Outcome.FAILED)
    message.attempts += 1
    message.updated_at = now
    created = message.created_at if message.created_at.tzinfo else message.created_at.replace(
        tzinfo=UTC)
    return Claimed(message.id or 0, message.raw, message.released_by is not None,
                   message.attempts, max(0.0, (now - created).total_seconds()))


def _claim(engine: Engine, inbound_id: int, max_attempts: int) -> Processed | Claimed:
    """Count the attempt in its own transaction, so a crash mid-way still counts."""
    with session_scope(engine) as session:
        message = session.get(InboundMessage, inbound_id, with_for_update=True)
        return _claim_row(message, max_attempts, utcnow())


def process_batch(
    engine: Engine,
    inbound_ids: Sequence[int],
    classifier: Classifier,
    options: ProcessingOptions | None = None,
    clock: StageClock | None = None,
) -> BatchResult:
    """Process many stored messages with one claim and one commit for all of them.

    The guarantees of ``process_inbound`` hold for each message: a message whose analysis
    raises is recorded and retried alone; when the shared commit fails (a racing duplicate,
    one bad row), each message is committed again alone, so one cannot hold back the rest;
    a batch that an earlier try left half-claimed is split (``BatchResult.split``).
    """
    options = options or ProcessingOptions()
    clock = clock or StageClock()
    result = BatchResult()
    with clock.stage("claim"):
        claims = _claim_batch(engine, inbound_ids, options.max_attempts, result)
    analysed: list[tuple[Claimed, Analysis | Quarantine]] = []
    for claimed in claims:
        clock.add("queue_wait", claimed.waited)
        try:
            analysed.append((claimed, _analyse_claimed(claimed, classifier, options, clock)))
        except Exception as error:
            _failed(engine, claimed, error, options, result)
    with clock.outer("commit", len(analysed)):
        _commit_batch(engine, analysed, options, result, clock)
    # Every id of the batch, also those done by an earlier try that died before this step.
    _group(engine, list(inbound_ids), options, clock)
    return result


def _claim_batch(engine: Engine, inbound_ids: Sequence[int], max_attempts: int,
                 result: BatchResult) -> list[Claimed]:
    with session_scope(engine) as session:
        # In id order, so two workers claiming overlapping batches never deadlock.
        rows = {message.id: message for message in session.exec(
            select(InboundMessage).where(col(InboundMessage.id).in_(sorted(set(inbound_ids))))
            .order_by(col(InboundMessage.id)).with_for_update()).all()}
        waiting = [m for m in rows.values() if m.status == InboundStatus.RECEIVED]
        if len(inbound_ids) > 1 and any(m.attempts for m in waiting):
            result.split.extend(m.id or 0 for m in waiting)
            return []
        now = utcnow()
        claims: list[Claimed] = []
        for inbound_id in dict.fromkeys(inbound_ids):
            claimed = _claim_row(rows.get(inbound_id), max_attempts, now)
            if isinstance(claimed, Processed):
                result.outcomes[inbound_id] = claimed
            else:
                claims.append(claimed)
        return claims


def _commit_batch(engine: Engine, analysed: Sequence[tuple[Claimed, Analysis | Quarantine]],
                  options: ProcessingOptions, result: BatchResult, clock: StageClock) -> None:
    if not analysed:
        return
    try:
        with session_scope(engine) as session:
            done = _persist_all(session, [(claimed.inbound_id, found)
                                          for claimed, found in analysed], options, clock)
        result.outcomes.update(done)
        return
    except Exception as error:  # one row spoils the shared commit: each alone
        log.warning("batch of %d not committed together (%s: %s); committing one by one",
                    len(analysed), type(error).__name__, error)
    for claimed, found in analysed:
        try:
            result.outcomes[claimed.inbound_id] = _persist_alone(
                engine, claimed.inbound_id, found, options, clock)
        except Exception as error:
            _failed(engine, claimed, error, options, result)


def _failed(engine: Engine, claimed: Claimed, error: Exception, options: ProcessingOptions,
            result: BatchResult) -> None:
    """One message of a batch failed: recorded, and retried alone or failed for good."""
    if _record_failure(engine, claimed.inbound_id, error, claimed.attempt,
                       options.max_attempts):
        result.retry.append(claimed.inbound_id)
    else:
        result.outcomes[claimed.inbound_id] = Processed(Outcome.FAILED)


def _group(engine: Engine, inbound_ids: Sequence[int], options: ProcessingOptions,
           clock: StageClock) -> None:
    """Near-identical letters join their campaign right after they are stored, in one short
    transaction per batch. Grouping never fails a message: the comment stands, and
    ``ogp-feedback campaigns recompute`` groups what an error here left out."""
    try:
        with clock.outer("group", len(inbound_ids)), session_scope(engine) as session:
            group_new(session, inbound_ids, options.campaign_threshold)
    except Exception:
        log.exception("campaign grouping of %d messages failed; the comments stand "
                      "ungrouped until `ogp-feedback campaigns recompute`", len(inbound_ids))


def _record_failure(engine: Engine, inbound_id: int, error: BaseException, attempt: int,
                    max_attempts: int) -> bool:
    """Write the error down; on the last attempt the message ends ``failed``."""
    text = f"{type(error).__name__}: {error}"[:1000]
    try:
        with session_scope(engine) as session:
            message = session.get(InboundMessage, inbound_id, with_for_update=True)
            if message is None or message.status != InboundStatus.RECEIVED:
                return False
            message.last_error = text
            message.updated_at = utcnow()
            if attempt >= max_attempts:
                message.status = InboundStatus.FAILED
                message.reason = f"failed after {attempt} attempts: {text}"
                log.error("inbound %s failed for good: %s", inbound_id, text)
            else:
                log.warning("inbound %s attempt %d failed: %s", inbound_id, attempt, text)
            session.add(message)
            return attempt < max_attempts
    except Exception:  # the database itself is down: the sweeper will come back
        log.exception("could not record the failure of inbound %s", inbound_id)
        return True


def _analyse_claimed(claimed: Claimed, classifier: Classifier, options: ProcessingOptions,
                     clock: StageClock) -> Analysis | Quarantine:
    failpoints.raise_if("process:raise", claimed.raw)
    failpoints.kill_if("process:kill", claimed.raw)
    try:
        with time_limit(options.time_limit_seconds):
            return analyse(claimed.raw, classifier, options.limits, options.max_text_chars,
                           claimed.released, clock)
    except TimeLimitExceeded:
        return Quarantine(
            f"parsing took longer than OGP_PARSE_TIME_LIMIT_SECONDS="
            f"{options.time_limit_seconds:g}; the message is kept for a person to read"
        )


def _persist_alone(engine: Engine, inbound_id: int, result: Analysis | Quarantine,
                   options: ProcessingOptions, clock: StageClock) -> Processed:
    try:
        with session_scope(engine) as session:
            return _persist(session, inbound_id, result, options, clock)
    except IntegrityError:
        # Another delivery of the same task won the race; its comment stands.
        log.info("inbound %s already has a comment", inbound_id)
        return Processed(Outcome.ALREADY_DONE)


def _persist(session: Session, inbound_id: int, result: Analysis | Quarantine,
             options: ProcessingOptions, clock: StageClock) -> Processed:
    return _persist_all(session, [(inbound_id, result)], options, clock)[inbound_id]


def _persist_all(session: Session, items: Sequence[tuple[int, Analysis | Quarantine]],
                 options: ProcessingOptions, clock: StageClock) -> dict[int, Processed]:
    """Write the results of a batch: the messages locked in one statement, the comments
    inserted in one, then each comment's redactions, labels, classification and event."""
    ids = sorted(inbound_id for inbound_id, _result in items)
    messages = {message.id: message for message in session.exec(
        select(InboundMessage).where(col(InboundMessage.id).in_(ids))
        .order_by(col(InboundMessage.id)).with_for_update()).all()}
    outcomes: dict[int, Processed] = {}
    created: list[tuple[InboundMessage, Comment, Analysis]] = []
    for inbound_id, result in items:
        message = messages.get(inbound_id)
        if message is None or message.status != InboundStatus.RECEIVED:
            outcomes[inbound_id] = Processed(Outcome.ALREADY_DONE)
            continue
        message.updated_at = utcnow()
        message.last_error = None
        _record_attachments(session, inbound_id, result.attachments)
        if isinstance(result, Quarantine):
            _quarantine(message, result)
            session.add(message)
            outcomes[inbound_id] = Processed(Outcome.QUARANTINED)
            continue
        comment = _comment_from(message, result)
        session.add(comment)
        created.append((message, comment, result))
    session.flush()  # every comment gets its id
    for message, comment, result in created:
        # Safe by default: what looks like personal data is hidden when published.
        with clock.stage("redact"):
            detect_and_record(session, comment, detect_personal_data)
        for label in result.classification.labels:
            session.add(CommentCommitment(comment_id=comment.id or 0,
                                          commitment_id=label.commitment_id,
                                          score=label.score))
        record_classification(session, comment.id or 0, result.classification)
        session.add(ModerationEvent(comment_id=comment.id, inbound_id=message.id,
                                    actor="system", action="classify",
                                    to_status=comment.status, reason=_explain(result)))
        message.status = InboundStatus.PROCESSED
        message.reason = None
        session.add(message)
        log.info("inbound %s -> pending comment", message.id)
        outcomes[message.id or 0] = _plan_receipt(session, message, comment, result, options)
    return outcomes


def _record_attachments(session: Session, inbound_id: int,
                        attachments: tuple[AttachmentInfo, ...]) -> None:
    for info in attachments:
        session.add(Attachment(inbound_id=inbound_id, filename=info.filename,
                               content_type=info.content_type, size=info.size,
                               sha256=info.sha256, dangerous=info.dangerous,
                               danger_reason=info.danger_reason))


def _plan_receipt(session: Session, message: InboundMessage, comment: Comment,
                  result: Analysis, options: ProcessingOptions) -> Processed:
    """A pending receipt row (or, for an unconfirmed form address, a confirmation row),
    in the comment's transaction; sent after the commit."""
    pending = Processed(Outcome.PENDING)
    if not options.receipts:
        return pending
    decision = decide_receipt(result.author_email, options.own_addresses,
                              result.suppress_auto_reply)
    if decision.address is None:
        log.info("inbound %s: no receipt (%s)", message.id, decision.reason)
        return pending
    inbound_id = message.id or 0
    now = utcnow()
    if message.source == InboundSource.FORM and not address_confirmed(session,
                                                                       decision.address):
        # Anyone can type any address into the form: the first mail asks its owner.
        return Processed(Outcome.PENDING, confirmation_id=plan_confirmation(
            session, inbound_id, decision.address, now, options.confirmation_hours))
    return Processed(Outcome.PENDING, plan_receipt(
        session, inbound_id, comment.id, decision.address, reference_for(inbound_id), now))


def _quarantine(message: InboundMessage, result: Quarantine) -> None:
    message.status = InboundStatus.QUARANTINED
    message.reason = result.reason
    message.machine_kind = result.machine_kind
    log.info("inbound %s quarantined: %s", message.id, result.reason)


def _comment_from(message: InboundMessage, result: Analysis) -> Comment:
    consented = bool(result.author_name) and form_consent(message.source, message.raw)
    return Comment(
        inbound_id=message.id or 0,
        subject=result.subject,
        author_name=result.author_name,
        author_email=result.author_email,
        language=result.language,
        text=result.text,
        display_html=result.display_html,
        quoted_text=result.quoted_text,
        received_at=result.sent_at or message.created_at,
        channel=message.source,
        has_attachments=bool(result.attachments),
        released=message.released_by is not None,
        # Anonymous unless the citizen ticked the form's box (e-mail: a moderator records it).
        author_public=result.author_name if consented else None,
        consent_source="form" if consented else None,
        consent_at=utcnow() if consented else None,
    )


def _explain(result: Analysis) -> str:
    # Labels and scores only: the audit log cannot be erased, so the citizen's words (the
    # explanation's terms) stay in ``comment_classification``, which erasure blanks.
    found = result.classification
    if found.spam:
        return f"classified by {found.model_version} as off-topic ({found.confidence:.2f})"
    parts = [f"{label.commitment_id} {label.score:.2f}" for label in found.labels]
    return f"classified by {found.model_version} as " + ", ".join(parts)
