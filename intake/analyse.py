"""From raw bytes to what a comment needs: the pure heart of processing.

limits -> machine mail -> parse -> pick the text -> sanitize for display ->
detect language -> classify. No database, no network: the worker persists
whatever this returns, and a message that cannot become a comment comes back
as a ``Quarantine`` with a reason a moderator can read.
"""

from __future__ import annotations

import email.policy
from dataclasses import dataclass, field
from datetime import datetime
from email.message import Message
from email.parser import BytesHeaderParser

from intake.classify import Classification, Classifier, detect_language
from intake.limits import Limits, check_limits, header_block, strip_envelope_noise
from intake.machine import detect_machine_mail
from intake.parse import AttachmentInfo, ParsedMail, parse_message
from intake.sanitize import display_html
from intake.stages import StageClock
from intake.trim import Trimmed, trim_reply

DEFAULT_LIMITS = Limits(
    max_message_bytes=25 * 1024 * 1024,
    max_header_bytes=64 * 1024,
    max_mime_depth=20,
    max_mime_parts=200,
    max_encoded_words=500,
)
DEFAULT_MAX_TEXT_CHARS = 200_000


@dataclass(frozen=True)
class Analysis:
    subject: str
    author_name: str
    author_email: str
    message_id: str | None
    sent_at: datetime | None
    text: str
    display_html: str
    language: str
    classification: Classification
    quoted_text: str = ""
    attachments: tuple[AttachmentInfo, ...] = ()
    suppress_auto_reply: bool = False


@dataclass(frozen=True)
class Quarantine:
    """The message is kept but not turned into a comment; ``reason`` is for moderators."""

    reason: str
    machine_kind: str | None = None
    attachments: tuple[AttachmentInfo, ...] = field(default=())


def analyse(
    raw: bytes,
    classifier: Classifier,
    limits: Limits = DEFAULT_LIMITS,
    max_text_chars: int = DEFAULT_MAX_TEXT_CHARS,
    released: bool = False,
    clock: StageClock | None = None,
) -> Analysis | Quarantine:
    """``released``: a moderator overrode an earlier quarantine, so the
    machine-mail rules and structural limits are not applied again. ``clock``: where the
    time of the parse, sanitize and classify stages is added up."""
    clock = clock or StageClock()
    with clock.stage("parse"):
        read = _read(raw, limits, max_text_chars, released)
    if isinstance(read, Quarantine):
        return read
    parsed, headers, trimmed = read
    with clock.stage("sanitize"):
        html = display_html(trimmed.text)
    with clock.stage("classify"):
        language = detect_language(f"{parsed.subject}\n{trimmed.text}")
        classification = classifier.classify(parsed.subject, trimmed.text)
    suppress = str(headers.get("X-Auto-Response-Suppress", "")).lower()
    return Analysis(
        subject=parsed.subject[:500],
        author_name=parsed.author_name[:200],
        author_email=parsed.author_email[:320],
        message_id=parsed.message_id,
        sent_at=parsed.sent_at,
        text=trimmed.text,
        display_html=html,
        language=language,
        classification=classification,
        quoted_text=trimmed.removed,
        attachments=parsed.attachments,
        suppress_auto_reply=any(word in suppress for word in ("all", "autoreply", "oof")),
    )


def _read(raw: bytes, limits: Limits, max_text_chars: int, released: bool
          ) -> tuple[ParsedMail, Message, Trimmed] | Quarantine:
    """Limits, machine mail, MIME parse and reply trimming: the message or why not."""
    raw = strip_envelope_noise(raw)
    over_limit = None if released else check_limits(raw, limits)
    if over_limit:
        return Quarantine(over_limit)
    try:
        headers = BytesHeaderParser(policy=email.policy.compat32).parsebytes(header_block(raw))
    except Exception as error:
        return Quarantine(f"unreadable header block: {type(error).__name__}: {error}"[:500])
    machine = None if released else detect_machine_mail(headers)
    if machine is not None:
        return Quarantine(machine.reason, machine_kind=machine.kind)
    try:
        parsed = parse_message(raw)
    except Exception as error:  # bad mail is an outcome, not a crash
        return Quarantine(f"unparseable message: {type(error).__name__}: {error}"[:500])
    if parsed.problem:
        return Quarantine(parsed.problem, attachments=parsed.attachments)
    if len(parsed.text) > max_text_chars:
        return Quarantine(
            f"text of {len(parsed.text)} characters is over the limit "
            f"OGP_MAX_TEXT_CHARS={max_text_chars}",
            attachments=parsed.attachments,
        )
    return parsed, headers, trim_reply(parsed.text)
