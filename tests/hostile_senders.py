"""Sender display names that try to break the address parser, and mail that carries them.

A display name is whatever the sender's client writes; RFC 2047 lets it encode any
character, CR and LF included. The names here carry encoded line breaks, quotes,
angle brackets, commas, colons and markup; ``xss_payloads`` adds the 372 payloads of
``shared/corpora/xss`` (markup of every kind, many with line breaks).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from email.quoprimime import header_encode
from email.utils import format_datetime
from pathlib import Path

CORPORA = Path(__file__).resolve().parent.parent.parent / "shared" / "corpora"
XSS_VECTORS = CORPORA / "xss" / "vectors.json"

HOSTILE_NAMES = (
    "Ana\nBerisha",
    "Ana\r\nBcc: victim@example.com",
    "Ana\r\n\r\n<html>body</html>",
    '"Ana Berisha" <impostor@example.com>',
    "Berisha, Ana",
    "Ana <script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "Ana\x00Berisha\x1b[31m",
    "\u202eahsireB anA",
    "Ana\u2028Berisha",
    'Ana "the \\"quoted\\"" <a@b.c>, Bob <d@e.f>',
    "Ana: Bob;",
    "=?utf-8?q?nested?=",
    "Ana\tBerisha\x7f",
    "Zyra e Kryeministrit\n<ogp@kryeministria.al>",
)
# Control characters, line and paragraph separators, bidi overrides and isolates.
_NOT_IN_A_NAME = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def expected_name(display_name: str) -> str:
    """What a moderator should see: the same words, every control character a space."""
    return " ".join(_NOT_IN_A_NAME.sub(" ", display_name).split())[:200]


def has_control_characters(name: str) -> bool:
    return _NOT_IN_A_NAME.search(name) is not None


def encoded_name(display_name: str, how: str) -> str:
    """One RFC 2047 encoded word: ``q`` (quoted-printable) or ``b`` (base64)."""
    data = display_name.encode("utf-8", "surrogatepass")
    if how == "q":
        return header_encode(data, charset="utf-8")
    return f"=?utf-8?b?{base64.b64encode(data).decode('ascii')}?="


def hostile_mail(display_name: str, address: str, how: str = "q", number: int = 0) -> bytes:
    """A plain message whose ``From`` is the encoded name and the address in angle brackets."""
    head = {
        "From": f"{encoded_name(display_name, how)} <{address}>",
        "To": "feedback@ogp.example.al",
        "Subject": "Koment për planin",
        "Date": format_datetime(datetime(2020, 9, 1, 9, number % 60, tzinfo=UTC)),
        "Message-ID": f"<hostile-{number}-{how}@example.org>",
        "MIME-Version": "1.0",
        "Content-Type": "text/plain; charset=utf-8",
    }
    lines = b"".join(f"{name}: {value}\r\n".encode() for name, value in head.items())
    body = f"Koment {number}: shërbimet në e-Albania duhet të jenë më të shpejta.\r\n"
    return lines + b"\r\n" + body.encode("utf-8")


def xss_payloads() -> Iterator[str]:
    """The XSS corpus's payloads, or nothing when the corpus is not beside the checkout."""
    if not XSS_VECTORS.is_file():
        return
    for vector in json.loads(XSS_VECTORS.read_text(encoding="utf-8")):
        yield str(vector["payload"])
