"""Redactions: personal data is hidden in the published text unless a moderator lifts it.

A ``Redaction`` row marks a span of a comment's ``subject``, ``text`` or moderator-``edited``
text. What is published is the field with every active span replaced by a placeholder and,
for the body, rendered to HTML again by the same formatter the intake used.

``apply`` and ``published_version`` are pure. The loaders read rows in bulk (one query per
chunk of ids, never one per comment). This module never decides what personal data is:
detection (``intake.pii``) is handed in as a callable, and a moderator's lift or addition
is checked like every comment change (version, claim) and audited in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from sqlmodel import Session, col, delete, select

from moderation.models import Comment, ModerationEvent, Redaction, RedactionState, utcnow
from moderation.transitions import (
    MAX_REASON_LENGTH,
    ClaimedError,
    InputError,
    StaleVersionError,
    TransitionError,
    claim_holder,
)

PLACEHOLDER = "[të dhëna personale / personal data]"
MANUAL = "manual"
SYSTEM = "system"
_IN_CHUNK = 500


class RedactionField(StrEnum):
    SUBJECT = "subject"
    TEXT = "text"
    EDITED = "edited"


class RedactionAction(StrEnum):
    """Audit actions (``moderation_event.action``) of a moderator's redaction change."""

    LIFT = "redaction-lift"
    ADD = "redaction-add"


class Found(Protocol):
    """A detected span (``intake.pii.Span`` is one)."""

    @property
    def kind(self) -> str: ...

    @property
    def start(self) -> int: ...

    @property
    def end(self) -> int: ...


# (text, the sender's names) -> the personal data in it.
Detector = Callable[[str, Sequence[str]], Iterable[Found]]


@dataclass(frozen=True)
class PublishedVersion:
    """What the public sees of a comment: subject, body as plain text and as HTML."""

    subject: str
    text: str
    html: str


def apply(text: str, ranges: Iterable[tuple[int, int]], placeholder: str = PLACEHOLDER) -> str:
    """``text`` with each range replaced by ``placeholder``; overlapping ranges count once."""
    pieces: list[str] = []
    position = 0
    for start, end in _union(ranges, len(text)):
        pieces.append(text[position:start])
        pieces.append(placeholder)
        position = end
    pieces.append(text[position:])
    return "".join(pieces)


def _union(ranges: Iterable[tuple[int, int]], length: int) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted((max(0, s), min(length, e)) for s, e in ranges):
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def body_field(comment: Comment) -> RedactionField:
    """The body that is published: the moderator's edit when there is one."""
    return RedactionField.EDITED if comment.edited_text is not None else RedactionField.TEXT


def body_of(comment: Comment) -> str:
    return comment.edited_text if comment.edited_text is not None else comment.text


def active_ranges(redactions: Iterable[Redaction], field: str) -> list[tuple[int, int]]:
    return [(r.start, r.end) for r in redactions
            if r.field == field and r.state == RedactionState.ACTIVE]


def published_version(comment: Comment, redactions: Sequence[Redaction],
                      format_text: Callable[[str], str]) -> PublishedVersion:
    """The comment as published: the active redactions of its subject and body applied.

    Without an active span in the body the stored HTML is already the published one (the
    same formatter made it), so the formatter runs only for bodies with something to hide.
    """
    subject = apply(comment.subject, active_ranges(redactions, RedactionField.SUBJECT))
    body = body_of(comment)
    ranges = active_ranges(redactions, body_field(comment))
    if not ranges:
        stored = comment.edited_html if comment.edited_text is not None else None
        return PublishedVersion(subject, body, stored or comment.display_html)
    text = apply(body, ranges)
    return PublishedVersion(subject, text, format_text(text))


def _chunks(ids: Sequence[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), _IN_CHUNK):
        yield list(ids[start:start + _IN_CHUNK])


def active_redactions(session: Session, comment_ids: Iterable[int]) -> dict[int, list[Redaction]]:
    """The active redactions of each comment, by comment id (absent: none)."""
    result: dict[int, list[Redaction]] = {}
    for chunk in _chunks(sorted(set(comment_ids))):
        rows = session.exec(
            select(Redaction)
            .where(col(Redaction.comment_id).in_(chunk),
                   col(Redaction.state) == RedactionState.ACTIVE)
            .order_by(col(Redaction.comment_id), col(Redaction.field), col(Redaction.start))
        ).all()
        for row in rows:
            result.setdefault(row.comment_id, []).append(row)
    return result


def all_redactions(session: Session, comment_ids: Iterable[int]) -> dict[int, list[Redaction]]:
    """Every redaction (active or lifted) of each comment, by comment id."""
    result: dict[int, list[Redaction]] = {}
    for chunk in _chunks(sorted(set(comment_ids))):
        rows = session.exec(
            select(Redaction)
            .where(col(Redaction.comment_id).in_(chunk))
            .order_by(col(Redaction.comment_id), col(Redaction.field), col(Redaction.start),
                      col(Redaction.id))
        ).all()
        for row in rows:
            result.setdefault(row.comment_id, []).append(row)
    return result


def record_detected(session: Session, comment_id: int, field: RedactionField,
                    found: Iterable[Found]) -> list[Redaction]:
    """Active rows for what detection found, created by ``system``."""
    rows = [Redaction(comment_id=comment_id, field=field.value, kind=str(span.kind),
                      start=span.start, end=span.end, created_by=SYSTEM)
            for span in found]
    session.add_all(rows)
    return rows


def detect_and_record(session: Session, comment: Comment, detect: Detector) -> list[Redaction]:
    """Detection over the subject and the citizen's text, at processing."""
    names = [comment.author_name] if comment.author_name else []
    comment_id = comment.id or 0
    return [
        *record_detected(session, comment_id, RedactionField.SUBJECT,
                         detect(comment.subject, names)),
        *record_detected(session, comment_id, RedactionField.TEXT, detect(comment.text, names)),
    ]


def redetect_edited(session: Session, comment: Comment, detect: Detector | None) -> None:
    """After an edit: the old ``edited`` spans point into a text that is gone; detect anew."""
    session.exec(delete(Redaction).where(
        col(Redaction.comment_id) == comment.id,
        col(Redaction.field) == RedactionField.EDITED))
    if comment.edited_text is not None and detect is not None:
        names = [comment.author_name] if comment.author_name else []
        record_detected(session, comment.id or 0, RedactionField.EDITED,
                        detect(comment.edited_text, names))


def field_text(comment: Comment, field: str) -> str | None:
    """The stored text a field's offsets index, or None (no edit, unknown field)."""
    if field == RedactionField.SUBJECT:
        return comment.subject
    if field == RedactionField.TEXT:
        return comment.text
    if field == RedactionField.EDITED:
        return comment.edited_text
    return None


def summary(redactions: Mapping[int, Sequence[Redaction]], comment_id: int
            ) -> list[dict[str, object]]:
    """What ``queue --json`` shows of a comment's redactions."""
    return [{"field": r.field, "kind": r.kind, "start": r.start, "end": r.end, "state": r.state}
            for r in redactions.get(comment_id, ())]


def _reason(reason: str, what: str) -> str:
    reason = " ".join(reason.split())
    if not reason:
        raise InputError(f"{what} needs a reason (it is kept in the audit log)")
    if len(reason) > MAX_REASON_LENGTH:
        raise InputError(f"the reason is longer than {MAX_REASON_LENGTH} characters")
    return reason


def _checked(session: Session, comment_id: int, actor: str,
             expected_version: int | None) -> Comment:
    comment = session.get(Comment, comment_id, with_for_update=True)
    if comment is None:
        raise TransitionError(f"no comment with id {comment_id}")
    if expected_version is not None and comment.version != expected_version:
        raise StaleVersionError(comment_id, expected_version, comment.version)
    holder = claim_holder(comment, utcnow())
    if holder is not None and holder != actor:
        assert comment.claimed_until is not None
        raise ClaimedError(comment_id, holder, comment.claimed_until)
    return comment


def _changed(session: Session, comment: Comment, actor: str, action: RedactionAction,
             reason: str, detail: str) -> None:
    """A redaction changes what is published: a new version, and the audit row."""
    comment.updated_at = utcnow()
    comment.version += 1
    session.add(comment)
    session.add(ModerationEvent(
        comment_id=comment.id, inbound_id=comment.inbound_id, actor=actor, action=action.value,
        from_status=comment.status, to_status=comment.status, reason=reason,
        version=comment.version, detail=detail))


def lift(session: Session, comment_id: int, redaction_id: int, actor: str, reason: str,
         expected_version: int | None = None) -> Redaction:
    """Publish a span after all (a false positive, a public figure): who and why are kept."""
    reason = _reason(reason, "lifting a redaction")
    comment = _checked(session, comment_id, actor, expected_version)
    row = session.get(Redaction, redaction_id, with_for_update=True)
    if row is None or row.comment_id != comment_id:
        raise InputError(f"comment {comment_id} has no redaction {redaction_id}")
    if row.state != RedactionState.ACTIVE:
        raise InputError(f"redaction {redaction_id} is already lifted")
    row.state = RedactionState.LIFTED
    row.lifted_by = actor
    row.lifted_reason = reason
    row.lifted_at = utcnow()
    session.add(row)
    _changed(session, comment, actor, RedactionAction.LIFT, reason,
             f"{row.kind} in {row.field} at {row.start}-{row.end} (redaction {row.id})")
    return row


def add(session: Session, comment_id: int, field: str, selection: str, actor: str,
        reason: str, expected_version: int | None = None) -> list[Redaction]:
    """Hide an exact piece of a field by hand (``kind`` manual), wherever it appears in that
    field. Undoing a lift is adding the span again."""
    reason = _reason(reason, "a redaction")
    comment = _checked(session, comment_id, actor, expected_version)
    text = field_text(comment, field)
    if text is None:
        raise InputError(f"comment {comment_id} has no field {field!r} to redact")
    selection = selection.replace("\r\n", "\n")
    if not selection.strip():
        raise InputError("give the exact text to redact")
    starts: list[int] = []
    start = text.find(selection)
    while start >= 0:
        starts.append(start)
        start = text.find(selection, start + len(selection))
    if not starts:
        raise InputError(f"the {field} does not contain that exact text")
    rows = [Redaction(comment_id=comment_id, field=field, kind=MANUAL, start=s,
                      end=s + len(selection), created_by=actor, reason=reason) for s in starts]
    session.add_all(rows)
    session.flush()
    where = ", ".join(f"{r.start}-{r.end}" for r in rows)
    _changed(session, comment, actor, RedactionAction.ADD, reason,
             f"manual in {field} at {where} (redaction {', '.join(str(r.id) for r in rows)})")
    return rows
