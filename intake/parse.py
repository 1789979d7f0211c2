"""Parse raw message bytes into plain values; no I/O, no database.

``parse_message`` never raises for bad mail: a message it cannot turn into a
comment comes back with ``problem`` set, a reason a moderator can read.
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import hashlib
import itertools
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from email.errors import HeaderParseError
from email.header import decode_header
from email.headerregistry import Address
from email.message import EmailMessage, Message

from intake.htmltext import html_to_text

# After the declared charset. Albanian ë and ç sit at the same code points in
# Windows-1250/1252 and ISO-8859-1/-2, so the order only matters for other text.
FALLBACK_CHARSETS = ("utf-8", "windows-1252", "iso-8859-2", "iso-8859-1")


@dataclass(frozen=True)
class AttachmentInfo:
    filename: str
    content_type: str
    size: int
    sha256: str
    dangerous: bool
    danger_reason: str | None


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
    attachments: tuple[AttachmentInfo, ...] = ()


def _header(message: Message, name: str) -> str:
    try:
        value = message.get(name)
    except Exception:
        return ""
    if value is None:
        return ""
    return " ".join(str(value).split())


def _declared_charset(part: Message) -> str | None:
    try:
        return part.get_content_charset()
    except Exception:  # a broken parameter is as good as none
        return None


def _decode_part(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    declared = _declared_charset(part)
    candidates = ([declared] if declared else []) + list(FALLBACK_CHARSETS)
    for charset in candidates:
        try:
            return payload.decode(charset)
        except (LookupError, UnicodeDecodeError):
            continue
    return payload.decode("utf-8", errors="replace")  # pragma: no cover  (latin-1 never fails)


def _text_parts(message: Message, subtype: str) -> list[Message]:
    return [
        part for part in message.walk()
        if not part.is_multipart()
        and part.get_content_maintype() == "text"
        and part.get_content_subtype() == subtype
        and part.get_content_disposition() != "attachment"
    ]


def _plain_text(part: Message) -> str:
    text = _decode_part(part)
    if str(part.get_param("format", "")).lower() == "flowed":
        text = unflow(text, str(part.get_param("delsp", "")).lower() == "yes")
    return text


def _body_parts(message: Message) -> tuple[Message | None, Message | None]:
    """The first plain and the first HTML part that hold any text."""
    plain = next((p for p in _text_parts(message, "plain") if _decode_part(p).strip()), None)
    html = next((p for p in _text_parts(message, "html")
                 if html_to_text(_decode_part(p)).strip()), None)
    return plain, html


def extract_text(message: Message) -> tuple[str, str]:
    """The citizen's text: the plain part, else the HTML part turned into text."""
    plain, html = _body_parts(message)
    if plain is not None:
        return normalise_text(_plain_text(plain)), "plain"
    if html is not None:
        return normalise_text(html_to_text(_decode_part(html))), "html"
    for rescued in _rescue_broken_multipart(message):
        text, source = extract_text(rescued)
        if text:
            return text, source
    return "", "none"


_DELIMITER_LINE = re.compile(r"^--[^\s]{1,200}[ \t\r]*$", re.MULTILINE)


def _rescue_broken_multipart(message: Message) -> list[Message]:
    """Parts of a multipart whose boundary the parser could not use.

    Outlook Express and others write boundaries the standard parser rejects
    (unquoted, with ``=``); the container then looks like one opaque blob.
    Splitting on delimiter-looking lines recovers the citizen's text.
    """
    rescued: list[Message] = []
    for part in message.walk():
        if part.get_content_maintype() != "multipart" or part.is_multipart():
            continue
        payload = part.get_payload()
        if not isinstance(payload, str):
            continue
        for chunk in _DELIMITER_LINE.split(payload)[1:][:50]:
            entity = email.message_from_string(chunk.lstrip("\r\n"), policy=email.policy.default)
            if entity.get_content_maintype() == "text":
                rescued.append(entity)
    return rescued


def unflow(text: str, delsp: bool = False) -> str:
    """RFC 3676 format=flowed: a line ending in a space continues on the next."""
    out: list[str] = []
    carry = ""
    carry_depth = -1
    for line in text.replace("\r\n", "\n").split("\n"):
        depth = len(line) - len(line.lstrip(">"))
        body = line[depth:]
        if body.startswith(" "):
            body = body[1:]  # space-stuffing
        if carry and depth != carry_depth:
            out.append(">" * carry_depth + (" " if carry_depth else "") + carry)
            carry = ""
        soft = body.endswith(" ") and body != "-- "
        if soft:
            carry += body[:-1] if delsp else body
            carry_depth = depth
            continue
        joined = carry + body
        carry = ""
        out.append(">" * depth + (" " if depth else "") + joined)
    if carry:
        out.append(">" * carry_depth + (" " if carry_depth else "") + carry)
    return "\n".join(out)


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


# Bidi embeddings, overrides and isolates: they can make a name read as something else.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# A display name longer than this is not a name; the rest is cut.
NAME_MAX_CHARS = 200


def clean_display_name(name: str) -> str:
    """A sender's name fit for one line of a moderator's screen and a mail header.

    Control characters (CR, LF, NUL, escape), line and paragraph separators and bidi
    overrides become spaces, runs of space collapse. Markup stays as text: the
    templates escape it.
    """
    name = _undo_surrogates(name)
    spaced = "".join(" " if unicodedata.category(ch) in ("Cc", "Zl", "Zp")
                     or ch in _BIDI_CONTROLS else ch for ch in name)
    return " ".join(spaced.split())[:NAME_MAX_CHARS]


def _undo_surrogates(value: str) -> str:
    """Raw 8-bit bytes in a header (RFC 6532 UTF-8, or a legacy charset) that the parser
    kept as surrogates, decoded like a body; a database cannot store a lone surrogate."""
    if not any(unicodedata.category(ch) == "Cs" for ch in value):
        return value
    try:
        raw = value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return "".join("\ufffd" if unicodedata.category(ch) == "Cs" else ch for ch in value)
    for charset in FALLBACK_CHARSETS:
        try:
            return raw.decode(charset)
        except UnicodeDecodeError:
            continue
    return raw.decode("utf-8", errors="replace")  # pragma: no cover  (latin-1 never fails)


def _plain_address(value: str) -> str:
    address = _undo_surrogates(value).strip().lower()
    if any(ch.isspace() or unicodedata.category(ch) == "Cc" for ch in address):
        return ""
    return address


_ENCODED_WORD = re.compile(r"=\?[^?\s]+\?[QqBb]\?[^?\s]*\?=")
# What an encoded word stands in for while the header's structure is read.
_WORD_MARK = "OGPENCODEDWORD{}X"
_WORD_MARK_RE = re.compile(r"OGPENCODEDWORD(\d+)X")


def _decode_word(word: str) -> str:
    """One RFC 2047 encoded word decoded, whatever it decodes to (also CR and LF)."""
    try:
        [(chunk, charset)] = decode_header(word)
    except (HeaderParseError, ValueError):
        return word
    if isinstance(chunk, str):
        return chunk
    data = bytes(chunk)
    for candidate in ([str(charset)] if charset else []) + list(FALLBACK_CHARSETS):
        try:
            return data.decode(candidate)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("utf-8", errors="replace")  # pragma: no cover  (latin-1 never fails)


def _sender_from_raw(raw: str) -> tuple[str, str]:
    """Name and address read from the undecoded header.

    Each encoded word is masked by a plain atom while the address structure is read,
    so nothing it decodes to (a colon, a comma, angle brackets) can move the address;
    the name is then decoded word by word. Adjacent encoded words join without the
    space between them (RFC 2047, section 6.2).
    """
    words = _ENCODED_WORD.findall(raw)
    numbers = itertools.count()
    masked = _ENCODED_WORD.sub(lambda _: _WORD_MARK.format(next(numbers)), raw)
    for name, address in email.utils.getaddresses([masked]):
        if not address or _WORD_MARK_RE.search(address) or "@" not in address:
            continue
        joined = re.sub(r"(OGPENCODEDWORD\d+X)\s+(?=OGPENCODEDWORD\d+X)", r"\1", name)
        decoded = _WORD_MARK_RE.sub(lambda m: _decode_word(words[int(m.group(1))]), joined)
        return decoded, address
    return "", ""


def _raw_header(message: Message, name: str) -> str:
    """The first such header as received: folded, its encoded words still encoded."""
    for key, value in message.raw_items():
        if key.lower() == name.lower():
            return str(value)
    return ""


def _author(message: Message) -> tuple[str, str]:
    """The sender's name and address from the first From header.

    A display name may be an encoded word that decodes to anything: a line break,
    quotes, angle brackets, commas (RFC 2047 allows it; hostile mail uses it). The
    standard parser refuses a decoded CR or LF outright, so the address, which never
    needs decoding, is then read from the raw header: the moderator must see who wrote,
    and the receipt and notices need the address. The name is kept without its control
    characters.
    """
    try:
        # policy.default gives an address header: its ``addresses`` are parsed per RFC 5322.
        addresses: tuple[Address, ...] = getattr(message["From"], "addresses", ())
    except Exception:  # the parser raises on a decoded line break, among others
        addresses = ()
    for parsed in addresses:
        if parsed.addr_spec:
            return clean_display_name(parsed.display_name), _plain_address(parsed.addr_spec)
    name, address = _sender_from_raw(" ".join(_raw_header(message, "From").split()))
    return clean_display_name(name), _plain_address(address)


DANGEROUS_EXTENSIONS = frozenset({
    "exe", "scr", "com", "pif", "bat", "cmd", "vbs", "vbe", "js", "jse", "wsf", "wsh", "hta",
    "msi", "msp", "ps1", "psm1", "jar", "lnk", "reg", "dll", "cpl", "iso", "img", "vhd",
    "docm", "xlsm", "pptm", "dotm", "xlam", "one", "apk", "app", "dmg",
})
DANGEROUS_TYPES = frozenset({
    "application/x-msdownload", "application/x-msdos-program", "application/x-dosexec",
    "application/x-executable", "application/hta", "application/x-ms-shortcut",
    "application/javascript", "application/x-javascript", "text/javascript",
    "application/vnd.ms-word.document.macroenabled.12",
    "application/vnd.ms-excel.sheet.macroenabled.12",
})
_UNSAFE_FILENAME = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069<>:\"/\\|?*]")


def sanitize_filename(name: str, fallback: str) -> str:
    """A name safe to show and to store: no path, no controls, no bidi tricks."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE_FILENAME.sub("_", name).strip(" .")
    return name[:200] or fallback


def _danger(filename: str, content_type: str) -> str | None:
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if extension in DANGEROUS_EXTENSIONS:
        return f"executable or macro file type .{extension}"
    if content_type in DANGEROUS_TYPES:
        return f"executable content type {content_type}"
    return None


def _attachments(message: Message, body_parts: set[int]) -> tuple[AttachmentInfo, ...]:
    found: list[AttachmentInfo] = []
    for part in message.walk():
        if part.is_multipart() or id(part) in body_parts:
            continue
        if part.get_content_maintype() == "multipart":
            continue  # a container the parser could not split, not an attachment
        content_type = part.get_content_type()
        try:
            filename = part.get_filename() or ""
        except Exception:
            filename = ""
        disposition = part.get_content_disposition()
        if content_type.startswith("text/") and not filename and disposition != "attachment":
            continue
        if content_type == "message/rfc822" or content_type.startswith("message/"):
            payload = part.as_bytes() if content_type == "message/rfc822" else b""
        else:
            decoded = part.get_payload(decode=True)
            payload = decoded if isinstance(decoded, bytes) else b""
        name = sanitize_filename(filename, f"attachment-{len(found) + 1}")
        danger = _danger(name, content_type)
        found.append(AttachmentInfo(
            filename=name, content_type=content_type[:255], size=len(payload),
            sha256=hashlib.sha256(payload).hexdigest(), dangerous=danger is not None,
            danger_reason=danger,
        ))
    return tuple(found)


def parse_message(raw: bytes) -> ParsedMail:
    message = email.message_from_bytes(raw, _class=EmailMessage, policy=email.policy.default)
    subject = _header(message, "Subject")
    name, address = _author(message)
    message_id = _header(message, "Message-ID") or None
    text, source = extract_text(message)
    body_parts = {id(p) for p in _body_parts(message) if p is not None}
    try:
        attachments = _attachments(message, body_parts)
    except Exception:  # attachments are metadata; a broken one must not cost the text
        attachments = ()
    problem = None
    if not text:
        problem = "no readable text: the message has no text/plain or text/html body"
        if attachments:
            names = ", ".join(a.filename for a in attachments[:5])
            problem += f" (it carries {len(attachments)} attachment(s): {names})"
    return ParsedMail(
        subject=subject,
        author_name=name,
        author_email=address,
        message_id=message_id,
        sent_at=_sent_at(message),
        text=text,
        text_source=source,
        problem=problem,
        attachments=attachments,
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
