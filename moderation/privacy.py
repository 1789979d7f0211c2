"""Redaction shared by everything that produces public text."""

from __future__ import annotations

import re

_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+")
EMAIL_PLACEHOLDER = "[e-mail]"


def redact_email_addresses(text: str) -> str:
    """Public text never carries an address, a citizen's own or anyone else's."""
    return _EMAIL.sub(EMAIL_PLACEHOLDER, text)
