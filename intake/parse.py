"""Parse raw message bytes into plain values; no I/O, no database.

``parse_message`` never raises for bad mail: a message it cannot turn into a
comment comes back with ``problem`` set, a reason a moderator can read.
"""

from __future__ import annotations

import email
import email.policy
import email.utils
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage, Message

from intake.htmltext import html_to_text

FALLBACK_CHARSETS = ("utf-8", "windows-1252", "iso-8859-1")


@dataclass(frozen=True)
class ParsedMail:
    subject: str
    author_name: str
    author_email: str
    message_id: str | None
    sent_at: datetime | None
    text: str
    text_source: str  # "plain", "html" or "none"
    problem: str | None = None


def _header(message: Message, name: str) -> str:
    try:
        value = message.get(name)
    except Exception:
        return ""
    if value is None:
        return ""
    return " ".join(str(value).split())


def _decode_part(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    declared = part.get_content_charset()
    candidates = ([declared] if declared else []) + list(FALLBACK_CHARSETS)
    for charset in candidates:
        try:
            return payload.decode(charset)
        except (LookupError, UnicodeDecodeError):
            continue
    return payload.decode("utf-8", errors="replace")  # pragma: no cover  (latin-1 never fails)


def _first_part(message: Message, subtype: str) -> Message | None:
    for part in message.walk():
        if part.is_multipart() or part.get_content_maintype() != "text":
            continue
        if part.get_content_subtype() != subtype:
            continue
        if part.get_content_disposition() == "attachment":
            continue
        return part
    return None


def extract_text(message: Message) -> tuple[str, str]:
    """The citizen's text: the plain part, else the HTML part turned into text."""
    plain = _first_part(message, "plain")
    if plain is not None:
        text = _decode_part(plain)
        if text.strip():
            return normalise_text(text), "plain"
    html = _first_part(message, "html")
    if html is not None:
        return normalise_text(html_to_text(_decode_part(html))), "html"
    return "", "none"


def normalise_text(text: str) -> str:
    text = text.replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n")
    lines = [line.rstrip() for line in text.split("\n")]
    out: list[str] = []
    for line in lines:
        if not line and (not out or not out[-1]):
            continue  # collapse runs of blank lines
        out.append(line)
    return "\n".join(out).strip()


def _sent_at(message: Message) -> datetime | None:
    raw = _header(message, "Date")
    if not raw:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)  # RFC 5322 "-0000": zone unknown, take UTC
    return parsed.astimezone(UTC)


def _author(message: Message) -> tuple[str, str]:
    raw = _header(message, "From")
    name, address = email.utils.parseaddr(raw)
    return " ".join(name.split()), address.strip().lower()


def parse_message(raw: bytes) -> ParsedMail:
    message = email.message_from_bytes(raw, _class=EmailMessage, policy=email.policy.default)
    subject = _header(message, "Subject")
    name, address = _author(message)
    message_id = _header(message, "Message-ID") or None
    text, source = extract_text(message)
    problem = None
    if not text:
        problem = "no readable text: the message has no text/plain or text/html body"
    return ParsedMail(
        subject=subject,
        author_name=name,
        author_email=address,
        message_id=message_id,
        sent_at=_sent_at(message),
        text=text,
        text_source=source,
        problem=problem,
    )


def peek_message_id(raw: bytes) -> str | None:
    """Message-ID from the header block only; cheap enough for the poller."""
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    try:
        value = email.message_from_bytes(head, policy=email.policy.compat32).get("Message-ID")
    except Exception:
        return None
    if value is None:
        return None
    cleaned = " ".join(str(value).split())
    return cleaned[:998] or None
