"""What the classifier said about comments, as moderators read it (comment page, queue).

Reads ``CommentClassification`` rows only; the classifier itself (``intake``) writes them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import Session, col, select

from moderation.models import CommentClassification


@dataclass(frozen=True)
class Explanation:
    """The classifier's view of one comment: version, off-topic, aspect, how sure, why."""

    model_version: str
    spam: bool
    aspect: str
    confidence: float
    low_confidence: bool
    # Label (or "off-topic", "aspect") -> the terms that weighed most.
    reasons: dict[str, list[str]]
    # Label -> calibrated probability.
    scores: dict[str, float]


def explanation_of(session: Session, comment_id: int) -> Explanation | None:
    row = session.get(CommentClassification, comment_id)
    if row is None:
        return None
    return Explanation(row.model_version, row.spam, row.aspect, row.confidence,
                       row.low_confidence, json.loads(row.explanation or "{}"),
                       json.loads(row.scores or "{}"))


def low_confidence_ids(session: Session, comment_ids: Sequence[int]) -> set[int]:
    """Which of these comments the classifier was not sure about."""
    if not comment_ids:
        return set()
    rows = session.exec(select(CommentClassification.comment_id).where(
        col(CommentClassification.comment_id).in_(list(comment_ids)),
        col(CommentClassification.low_confidence))).all()
    return set(rows)
