"""Redaction shared by everything that produces public text."""

from __future__ import annotations

import re

# \w, not A-Za-z: internationalised addresses ("ana@shqipëri.al") are addresses too.
_EMAIL = re.compile(r"[\w.%+\-]+@[\w\-]+(?:\.[\w\-]+)+")
EMAIL_PLACEHOLDER = "[e-mail]"


def redact_email_addresses(text: str) -> str:
    """Public text never carries an address, a citizen's own or anyone else's."""
    return _EMAIL.sub(EMAIL_PLACEHOLDER, text)
