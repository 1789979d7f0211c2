"""Text for display: the citizen's words as safe HTML (escaped, links made clickable).

The input is always plain text (HTML mail is converted first), so the output
can only contain the markup this module adds: ``<p>``, ``<br>`` and ``<a>``.
"""

from __future__ import annotations

import html
import re
from collections.abc import MutableMapping

import bleach
from bleach.linkifier import Linker

from intake.reflow import reflow
from moderation.privacy import redact_email_addresses

ALLOWED_TAGS = frozenset({"p", "br", "a"})
ALLOWED_ATTRIBUTES = {"a": ["href", "rel"]}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})


_Attrs = MutableMapping[tuple[str | None, str], str]


def _nofollow(attrs: _Attrs, new: bool = False) -> _Attrs:
    href = attrs.get((None, "href"), "")
    shown = attrs.get("_text", "").lower()  # type: ignore[call-overload]
    # "p.sh." or "nr.al" in running text is not a link: only a written-out
    # scheme or "www." makes one.
    if not href.lower().startswith(("http://", "https://")) or not shown.startswith(
        ("http://", "https://", "www.")
    ):
        # bleach drops the link when a callback returns None (its stub says otherwise).
        return None  # type: ignore[return-value]
    attrs[(None, "rel")] = "nofollow ugc noopener"
    return attrs


_LINKER = Linker(callbacks=[_nofollow], parse_email=False)
_URL_LIKE = re.compile(r"https?://|www\.", re.IGNORECASE)


def text_to_safe_html(text: str) -> str:
    # Which line breaks are the citizen's and which the mail client's: intake.reflow.
    rendered = "".join(
        "<p>" + "<br>\n".join(html.escape(line, quote=False) for line in paragraph.lines)
        + "</p>\n"
        for paragraph in reflow(text)
    )
    # Only a written-out scheme or "www." becomes a link (``_nofollow``): without one the
    # linkifier, a third of the cost of this function, would change nothing.
    linked = _LINKER.linkify(rendered) if _URL_LIKE.search(text) else rendered
    # Second, independent pass: whatever the steps above did, only the
    # allow-listed tags and attributes survive.
    return bleach.clean(
        linked,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        protocols=ALLOWED_PROTOCOLS,
        strip=True,
    )


def display_html(text: str) -> str:
    return text_to_safe_html(redact_email_addresses(text))
