"""From raw bytes to what a comment needs: the pure heart of processing.

parse -> pick the text -> sanitize for display -> detect language -> classify.
No database, no network: the worker persists whatever this returns.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from intake.classify import Classification, Classifier, detect_language
from intake.parse import parse_message
from intake.sanitize import display_html


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


@dataclass(frozen=True)
class Quarantine:
    """The message is kept but not turned into a comment; ``reason`` is for moderators."""

    reason: str


def analyse(raw: bytes, classifier: Classifier) -> Analysis | Quarantine:
    try:
        parsed = parse_message(raw)
    except Exception as error:
        return Quarantine(f"unparseable message: {type(error).__name__}: {error}"[:500])
    if parsed.problem:
        return Quarantine(parsed.problem)
    return Analysis(
        subject=parsed.subject[:500],
        author_name=parsed.author_name[:200],
        author_email=parsed.author_email[:320],
        message_id=parsed.message_id,
        sent_at=parsed.sent_at,
        text=parsed.text,
        display_html=display_html(parsed.text),
        language=detect_language(f"{parsed.subject}\n{parsed.text}"),
        classification=classifier.classify(parsed.subject, parsed.text),
    )
