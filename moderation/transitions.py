"""The only module that changes a comment's status or content; each change writes an audit event.

The allowed moves are a table, not an if-ladder, so the policy reads at a glance.
Every write that comes from a form names the ``version`` the moderator saw: a
stale version is refused (``StaleVersionError``), never silently overwritten.
A claim is a soft lock: while another moderator holds a comment, a decision is
refused until the holder releases it, it expires, or someone takes it over
(which is audited).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlmodel import Session, col, delete, select

from config.settings import Settings
from moderation.models import (
    Comment,
    CommentCommitment,
    CommentStatus,
    DecisionNotice,
    InboundMessage,
    InboundStatus,
    LabelledExample,
    ModerationEvent,
    NoticeKind,
    NoticeStatus,
    NoticeTopic,
    RejectCode,
    utcnow,
)
from moderation.privacy import NameIndex, redact_email_addresses
from moderation.reasons import REJECT_REASONS


class Action(StrEnum):
    CLASSIFY = "classify"
    APPROVE = "approve"
    REJECT = "reject"
    PUBLISH = "publish"
    WITHDRAW = "withdraw"
    UNDO = "undo"
    EDIT = "edit"
    RECLASSIFY = "reclassify"
    CLAIM_OVERRIDE = "claim-override"
    RELEASE = "release"
    REPROCESS = "reprocess"
    CONSENT = "consent"
    CONSENT_REMOVE = "consent-remove"
    # Campaigns (``moderation.campaigns``): decisions on every undecided member at once,
    # a member's own additions, and changes of membership.
    CAMPAIGN_APPROVE = "campaign-approve"
    CAMPAIGN_REJECT = "campaign-reject"
    CAMPAIGN_SPLIT = "campaign-split"
    CAMPAIGN_MERGE = "campaign-merge"
    CAMPAIGN_RECOMPUTE = "campaign-recompute"
    ADDITIONS_APPROVE = "additions-approve"
    ADDITIONS_REJECT = "additions-reject"


S = CommentStatus
ALLOWED: dict[Action, dict[str, str]] = {
    # action: {from_status: to_status}
    Action.APPROVE: {S.PENDING: S.APPROVED, S.REJECTED: S.APPROVED},
    Action.REJECT: {S.PENDING: S.REJECTED, S.APPROVED: S.REJECTED},
    Action.PUBLISH: {S.APPROVED: S.PUBLISHED},
    # A citizen may withdraw before a decision too: a pending or rejected comment then
    # can never be approved later. Withdrawn is final.
    Action.WITHDRAW: {S.PUBLISHED: S.WITHDRAWN, S.APPROVED: S.WITHDRAWN,
                      S.PENDING: S.WITHDRAWN, S.REJECTED: S.WITHDRAWN},
}
DECISIONS = frozenset({Action.APPROVE, Action.REJECT})
# What a moderator may still change: a published comment is corrected by withdrawal.
EDITABLE = frozenset({S.PENDING, S.APPROVED, S.REJECTED})
MAX_REASON_LENGTH = 2000
MAX_EDIT_LENGTH = 50_000


class TransitionError(ValueError):
    """A move the policy does not allow; the message is shown to the user as is."""


class InputError(TransitionError):
    """The request itself is wrong (no reason, unknown commitment): HTTP 400, not 409."""


class StaleVersionError(TransitionError):
    """The form was made from an older version of the comment (HTTP 409)."""

    def __init__(self, comment_id: int, expected: int, current: int) -> None:
        super().__init__(
            f"comment {comment_id} changed since you opened it (you saw version {expected}, "
            f"it is now version {current}); nothing was overwritten"
        )
        self.comment_id = comment_id
        self.expected = expected
        self.current = current


class ClaimedError(TransitionError):
    """Another moderator holds the comment (HTTP 409)."""

    def __init__(self, comment_id: int, holder: str, until: datetime) -> None:
        super().__init__(
            f"comment {comment_id} is held by {holder} until {until:%H:%M} UTC; "
            "take it over or wait"
        )
        self.holder = holder
        self.until = until


@dataclass(frozen=True)
class NoticePolicy:
    """Whether decisions are told to the citizen, and how long an undo may cancel that;
    ``responses``: whether the secretariat's responses are told too."""

    enabled: bool = False
    undo_window: timedelta = timedelta(seconds=600)
    responses: bool = False

    @classmethod
    def from_settings(cls, settings: Settings) -> NoticePolicy:
        return cls(enabled=settings.decision_notices_enabled,
                   undo_window=timedelta(seconds=settings.undo_seconds),
                   responses=settings.response_notices_enabled)


def _event(session: Session, comment: Comment, action: Action, actor: str,
           before: str | None = None, reason: str | None = None,
           detail: str | None = None) -> None:
    session.add(ModerationEvent(
        comment_id=comment.id, inbound_id=comment.inbound_id, actor=actor, action=action.value,
        from_status=before, to_status=comment.status, reason=reason, version=comment.version,
        detail=detail,
    ))


def _touch(comment: Comment) -> None:
    comment.updated_at = utcnow()
    comment.version += 1


def _load(session: Session, comment_id: int) -> Comment:
    comment = session.get(Comment, comment_id, with_for_update=True)
    if comment is None:
        raise TransitionError(f"no comment with id {comment_id}")
    return comment


def _guard(comment: Comment, actor: str, expected_version: int | None,
           now: datetime | None = None) -> None:
    if expected_version is not None and comment.version != expected_version:
        raise StaleVersionError(comment.id or 0, expected_version, comment.version)
    holder = claim_holder(comment, now or utcnow())
    if holder is not None and holder != actor:
        assert comment.claimed_until is not None
        raise ClaimedError(comment.id or 0, holder, comment.claimed_until)


def _move(session: Session, comment: Comment, action: Action, actor: str,
          reason: str | None = None) -> Comment:
    targets = ALLOWED[action]
    if comment.status not in targets:
        raise TransitionError(f"comment {comment.id} is {comment.status}; cannot {action} it")
    before = comment.status
    comment.status = targets[before]
    _touch(comment)
    if action in DECISIONS:
        comment.decided_by = actor
        comment.decided_at = comment.updated_at
        if action is Action.APPROVE:
            comment.reject_code = None
            comment.reject_reason = None
        # A decision ends the decider's claim: the comment is done.
        comment.claimed_by = None
        comment.claimed_until = None
    if action is Action.PUBLISH:
        comment.published_at = comment.updated_at
    session.add(comment)
    _event(session, comment, action, actor, before, reason)
    return comment


def commitments_of(session: Session, comment_id: int) -> list[str]:
    rows = session.exec(
        select(CommentCommitment.commitment_id)
        .where(CommentCommitment.comment_id == comment_id)
        .order_by(col(CommentCommitment.score).desc(), col(CommentCommitment.commitment_id))
    ).all()
    return list(rows)


def approve(session: Session, comment_id: int, actor: str,
            expected_version: int | None = None) -> Comment:
    comment = _load(session, comment_id)
    _guard(comment, actor, expected_version)
    _move(session, comment, Action.APPROVE, actor)
    # An approval confirms the commitments: a labelled example for the classifier.
    session.add(LabelledExample(comment_id=comment_id, source="approve", actor=actor,
                                commitments=",".join(commitments_of(session, comment_id))))
    return comment


def rejection_text(code: RejectCode, reason: str) -> str:
    """What the citizen reads: the chosen reason in both languages, then the moderator's words."""
    label = REJECT_REASONS[code].label
    return f"{label}. {reason}" if reason else label


def reject(session: Session, comment_id: int, actor: str, reason: str = "",
           code: RejectCode = RejectCode.OTHER, expected_version: int | None = None,
           notices: NoticePolicy | None = None) -> Comment:
    reason = " ".join(reason.split())
    if code is RejectCode.OTHER and not reason:
        raise InputError("a rejection needs a reason the citizen can read: choose one from "
                         "the list or write it")
    if len(reason) > MAX_REASON_LENGTH:
        raise InputError(f"the reason is longer than {MAX_REASON_LENGTH} characters")
    comment = _load(session, comment_id)
    _guard(comment, actor, expected_version)
    _move(session, comment, Action.REJECT, actor, reason or None)
    comment.reject_code = code.value
    comment.reject_reason = reason or None
    if notices is not None and notices.enabled:
        _plan_notice(session, comment, NoticeKind.REJECTED, utcnow() + notices.undo_window)
    return comment


def _plan_notice(session: Session, comment: Comment, kind: NoticeKind, due_at: datetime) -> None:
    """At most one decision notice per comment: once one exists, later decisions add nothing."""
    existing = session.exec(
        select(DecisionNotice).where(DecisionNotice.comment_id == comment.id,
                                     DecisionNotice.topic == NoticeTopic.DECISION)
    ).first()
    if existing is None:
        session.add(DecisionNotice(comment_id=comment.id or 0, topic=NoticeTopic.DECISION,
                                   kind=kind.value, due_at=due_at))


def undo(session: Session, comment_id: int, actor: str, window: timedelta,
         expected_version: int | None = None, now: datetime | None = None) -> Comment:
    """Take back the last approval or rejection within the undo window, before publishing."""
    now = now or utcnow()
    comment = _load(session, comment_id)
    _guard(comment, actor, expected_version, now)
    if comment.status not in {S.APPROVED, S.REJECTED} or comment.decided_at is None:
        raise TransitionError(f"comment {comment_id} is {comment.status}; there is no "
                              "decision to undo")
    if now - comment.decided_at > window:
        raise TransitionError(f"the decision on comment {comment_id} is older than "
                              f"{int(window.total_seconds())} seconds and can no longer be undone")
    last = session.exec(
        select(ModerationEvent)
        .where(ModerationEvent.comment_id == comment_id,
               col(ModerationEvent.action).in_([a.value for a in DECISIONS]))
        .order_by(col(ModerationEvent.id).desc())
    ).first()
    notice = session.exec(
        select(DecisionNotice).where(DecisionNotice.comment_id == comment_id,
                                     DecisionNotice.topic == NoticeTopic.DECISION)
    ).first()
    if notice is not None and notice.status != NoticeStatus.PENDING:
        raise TransitionError(f"the citizen has already been told about comment {comment_id}; "
                              "it can no longer be undone")
    if notice is not None:
        # Only while still pending: a sender that claimed it meanwhile wins, and the undo fails.
        deleted = session.exec(delete(DecisionNotice).where(
            col(DecisionNotice.id) == notice.id,
            col(DecisionNotice.status) == NoticeStatus.PENDING))
        if deleted.rowcount != 1:
            raise TransitionError(f"the citizen is being told about comment {comment_id}; "
                                  "it can no longer be undone")
    before = comment.status
    comment.status = (last.from_status if last is not None and last.from_status else S.PENDING)
    _touch(comment)
    if comment.status == S.PENDING:
        comment.decided_by = None
        comment.decided_at = None
    if comment.status != S.REJECTED:
        comment.reject_code = None
        comment.reject_reason = None
    session.add(comment)
    _event(session, comment, Action.UNDO, actor, before,
           detail=f"undid {last.action} by {last.actor}" if last is not None else None)
    return comment


def edit(session: Session, comment_id: int, actor: str, text: str,
         format_text: Callable[[str], str], expected_version: int | None = None) -> Comment:
    """Change the text to be published; the citizen's original stays beside it."""
    text = text.replace("\r\n", "\n").strip()
    if len(text) > MAX_EDIT_LENGTH:
        raise InputError(f"the text is longer than {MAX_EDIT_LENGTH} characters")
    comment = _load(session, comment_id)
    _guard(comment, actor, expected_version)
    if comment.status not in EDITABLE:
        raise TransitionError(f"comment {comment_id} is {comment.status}; it cannot be edited")
    current = comment.edited_text if comment.edited_text is not None else comment.text
    if text == current.strip():
        raise InputError("the text is unchanged")
    if text == comment.text.strip():
        # Back to what the citizen wrote: no edit left to show.
        comment.edited_text = comment.edited_html = None
    else:
        comment.edited_text = text
        comment.edited_html = format_text(text)
    comment.edited_by = actor
    comment.edited_at = utcnow()
    _touch(comment)
    session.add(comment)
    added, removed = _diff_size(current, text)
    _event(session, comment, Action.EDIT, actor, comment.status,
           detail=f"{added} line(s) added, {removed} removed")
    return comment


def _diff_size(before: str, after: str) -> tuple[int, int]:
    added = removed = 0
    for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0):
        if line.startswith("+") and not line.startswith("+++"):
            added += 1
        elif line.startswith("-") and not line.startswith("---"):
            removed += 1
    return added, removed


def reclassify(session: Session, comment_id: int, actor: str, commitments: Sequence[str],
               known: Iterable[str], expected_version: int | None = None) -> Comment:
    """Set the commitments a comment is about, as a moderator says; kept as a labelled example."""
    allowed = set(known)
    chosen = list(dict.fromkeys(c for c in commitments if c))
    unknown = [c for c in chosen if c not in allowed]
    if unknown:
        raise InputError(f"unknown commitment(s): {', '.join(unknown)}")
    comment = _load(session, comment_id)
    _guard(comment, actor, expected_version)
    if comment.status not in EDITABLE:
        raise TransitionError(f"comment {comment_id} is {comment.status}; it cannot be "
                              "reclassified")
    before = commitments_of(session, comment_id)
    if sorted(before) == sorted(chosen):
        raise InputError("the commitments are unchanged")
    session.exec(delete(CommentCommitment).where(col(CommentCommitment.comment_id) == comment_id))
    for commitment_id in chosen:
        # A moderator's label is certain.
        session.add(CommentCommitment(comment_id=comment_id, commitment_id=commitment_id,
                                      score=1.0))
    _touch(comment)
    session.add(comment)
    session.add(LabelledExample(comment_id=comment_id, source="reclassify", actor=actor,
                                commitments=",".join(chosen)))
    _event(session, comment, Action.RECLASSIFY, actor, comment.status,
           detail=f"{','.join(before) or '-'} -> {','.join(chosen) or '-'}")
    return comment


def withdraw(session: Session, comment_id: int, actor: str, reason: str,
             expected_version: int | None = None) -> Comment:
    """Take a comment off the public site for good (the next publish drops it).

    Any notice not yet sent about it is cancelled: the citizen asked for it to go.
    """
    reason = " ".join(reason.split())
    if not reason:
        raise InputError("a withdrawal needs a reason (it is kept in the audit log)")
    if len(reason) > MAX_REASON_LENGTH:
        raise InputError(f"the reason is longer than {MAX_REASON_LENGTH} characters")
    comment = _load(session, comment_id)
    if expected_version is not None and comment.version != expected_version:
        raise StaleVersionError(comment_id, expected_version, comment.version)
    _move(session, comment, Action.WITHDRAW, actor, scrub(comment, reason))
    comment.claimed_by = None
    comment.claimed_until = None
    cancel_notices(session, comment_id, "the comment was withdrawn")
    return comment


def scrub(comment: Comment, text: str) -> str:
    """Words for the append-only audit log, without the sender's address or name: an
    erasure can blank the comment but never rewrite an audit row."""
    names = [n for n in (comment.author_name, comment.author_public) if n]
    return redact_email_addresses(NameIndex(names, min_words=1).redact(text))


def cancel_notices(session: Session, comment_id: int, why: str) -> None:
    for notice in session.exec(select(DecisionNotice).where(
            DecisionNotice.comment_id == comment_id,
            col(DecisionNotice.status).in_([NoticeStatus.PENDING, NoticeStatus.FAILED]))).all():
        notice.status = NoticeStatus.CANCELLED
        notice.error = why
        notice.updated_at = utcnow()
        session.add(notice)


MAX_PUBLIC_NAME = 200


def record_consent(session: Session, comment_id: int, actor: str, name: str, note: str,
                   expected_version: int | None = None) -> Comment:
    """A moderator records the citizen's written consent to publish ``name`` with the comment.

    The audit row keeps the source note, never the name: an erasure cannot rewrite it.
    """
    name = " ".join(name.split())
    note = " ".join(note.split())
    if not name:
        raise InputError("write the name the citizen agreed to publish")
    if len(name) > MAX_PUBLIC_NAME:
        raise InputError(f"the name is longer than {MAX_PUBLIC_NAME} characters")
    if not note:
        raise InputError("say where the citizen gave consent (e.g. 'reply of 3 October')")
    if len(note) > MAX_REASON_LENGTH:
        raise InputError(f"the note is longer than {MAX_REASON_LENGTH} characters")
    comment = _load(session, comment_id)
    _guard(comment, actor, expected_version)
    if comment.status == S.WITHDRAWN or comment.erased:
        raise TransitionError(f"comment {comment_id} is {comment.status}; consent cannot "
                              "be recorded")
    comment.author_public = name
    comment.consent_source = "moderator"
    comment.consent_by = actor
    comment.consent_at = utcnow()
    _touch(comment)
    session.add(comment)
    _event(session, comment, Action.CONSENT, actor, comment.status, reason=scrub(comment, note),
           detail="name to be published with the comment")
    return comment


def remove_consent(session: Session, comment_id: int, actor: str, reason: str,
                   expected_version: int | None = None) -> Comment:
    """The comment is anonymous again from the next publish."""
    reason = " ".join(reason.split())
    if not reason:
        raise InputError("say why the consent is removed")
    comment = _load(session, comment_id)
    _guard(comment, actor, expected_version)
    if comment.author_public is None:
        raise InputError(f"comment {comment_id} is already anonymous")
    said = scrub(comment, reason[:MAX_REASON_LENGTH])
    comment.author_public = None
    comment.consent_source = comment.consent_by = None
    comment.consent_at = None
    _touch(comment)
    session.add(comment)
    _event(session, comment, Action.CONSENT_REMOVE, actor, comment.status,
           reason=said)
    return comment


# ---------------------------------------------------------------- claims

def claim_holder(comment: Comment, now: datetime) -> str | None:
    """Who holds the comment now, if anyone."""
    if comment.claimed_by and comment.claimed_until and comment.claimed_until > now:
        return comment.claimed_by
    return None


def claim(session: Session, comment_id: int, actor: str, duration: timedelta,
          take_over: bool = False, expected_version: int | None = None) -> Comment:
    """Hold the comment for ``duration`` unless someone else does (``take_over`` is audited).

    A claim is not a change of the comment: it does not bump the version, so the
    holder's open form stays valid.
    """
    now = utcnow()
    comment = _load(session, comment_id)
    if expected_version is not None and comment.version != expected_version:
        raise StaleVersionError(comment_id, expected_version, comment.version)
    holder = claim_holder(comment, now)
    if holder is not None and holder != actor:
        if not take_over:
            return comment
        _event(session, comment, Action.CLAIM_OVERRIDE, actor, comment.status,
               detail=f"took over from {holder}")
    if comment.status not in EDITABLE:
        return comment
    comment.claimed_by = actor
    comment.claimed_until = now + duration
    session.add(comment)
    return comment


def release_claim(session: Session, comment_id: int, actor: str,
                  expected_version: int | None = None) -> Comment:
    comment = _load(session, comment_id)
    if expected_version is not None and comment.version != expected_version:
        raise StaleVersionError(comment_id, expected_version, comment.version)
    if comment.claimed_by == actor:
        comment.claimed_by = None
        comment.claimed_until = None
        session.add(comment)
    return comment


# ---------------------------------------------------------------- publishing

def mark_published(session: Session, comments: Iterable[Comment], actor: str,
                   notices: NoticePolicy | None = None) -> int:
    count = 0
    for comment in comments:
        if comment.status == S.APPROVED:
            _move(session, comment, Action.PUBLISH, actor)
            if notices is not None and notices.enabled:
                _plan_notice(session, comment, NoticeKind.PUBLISHED, utcnow())
            count += 1
    return count


# ---------------------------------------------------------------- inbound messages

def _restart(session: Session, inbound_id: int, expected: str) -> InboundMessage:
    message = session.get(InboundMessage, inbound_id, with_for_update=True)
    if message is None:
        raise TransitionError(f"no inbound message with id {inbound_id}")
    if message.status != expected:
        raise TransitionError(f"inbound message {inbound_id} is {message.status}, not {expected}")
    return message


def _back_to_received(session: Session, message: InboundMessage, actor: str, action: Action,
                      reason: str | None) -> InboundMessage:
    before = message.status
    message.status = InboundStatus.RECEIVED
    message.attempts = 0
    message.updated_at = utcnow()
    session.add(message)
    session.add(ModerationEvent(inbound_id=message.id, actor=actor, action=action.value,
                                from_status=before, to_status=message.status, reason=reason))
    return message


def release_inbound(session: Session, inbound_id: int, actor: str) -> InboundMessage:
    """A moderator overrides a quarantine: the message goes back into processing.

    Processing then skips the machine-mail rules and the structural limits that
    held it (the time limit still applies).
    """
    message = _restart(session, inbound_id, InboundStatus.QUARANTINED)
    if message.truncated:
        raise TransitionError(
            f"inbound message {inbound_id} was over the size limit and only its header block "
            "was downloaded; read it in the mailbox's processed folder instead"
        )
    message.released_by = actor
    # The audit row names the kind of hold only: a quarantine reason may quote a subject
    # or a display name, and the audit log can never be erased.
    return _back_to_received(session, message, actor, Action.RELEASE,
                             f"held as {message.machine_kind or 'over a limit'}")


def reprocess_inbound(session: Session, inbound_id: int, actor: str) -> InboundMessage:
    """A failed message (a dead letter) gets a fresh set of attempts."""
    message = _restart(session, inbound_id, InboundStatus.FAILED)
    error_class = (message.last_error or "").split(":", 1)[0][:64] or "failed"
    return _back_to_received(session, message, actor, Action.REPROCESS, error_class)
