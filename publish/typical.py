"""The most typical comments of a group: nearest the group's centre in character n-grams (pure).

Character n-grams (within words, accents folded) treat "pershendetje" and
"përshëndetje", or "buxheti" and "buxhetin", as near neighbours without an
Albanian stemmer, and work the same for English and mixed text. Each group's
centre is the mean of its comments' TF-IDF vectors; the comments nearest it
(cosine) are the most typical. A near copy of one already chosen is skipped, so a
campaign of identical letters gives one quote, not three. Ties go to the lower id:
the same input always gives the same choice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

# Two texts this similar (cosine) are the same text for quoting.
NEAR_COPY = 0.9
# Enough of a comment to place it; the rest adds cost, not typicality.
MAX_CHARS = 1500


def spread_sample(ids: Sequence[int], limit: int) -> list[int]:
    """At most ``limit`` of ``ids`` (sorted), evenly spread over the whole list."""
    if len(ids) <= limit:
        return list(ids)
    step = len(ids) / limit
    return [ids[int(n * step)] for n in range(limit)]


def most_typical(groups: Mapping[str, Sequence[tuple[int, str]]],
                 n: int) -> dict[str, list[tuple[int, float]]]:
    """For each group of ``(id, text)``, up to ``n`` ids nearest its centre, with the similarity.

    One vocabulary is fitted on every text of every group (each text analysed once).
    """
    documents: dict[int, str] = {}
    for items in groups.values():
        for comment_id, text in items:
            documents.setdefault(comment_id, text[:MAX_CHARS])
    if not documents or n <= 0:
        return {label: [] for label in groups}
    order = sorted(documents)
    row_of = {comment_id: row for row, comment_id in enumerate(order)}
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), lowercase=True,
                                 strip_accents="unicode", sublinear_tf=True, min_df=1,
                                 dtype=np.float32)
    try:
        matrix = vectorizer.fit_transform([documents[i] for i in order])
    except ValueError:  # nothing but blanks and punctuation: no n-gram to compare
        return {label: [(i, 0.0) for i, _ in sorted(items)[:n]]
                for label, items in groups.items()}

    chosen: dict[str, list[tuple[int, float]]] = {}
    for label, items in groups.items():
        ids = sorted({comment_id for comment_id, _ in items})
        if not ids:
            chosen[label] = []
            continue
        rows = matrix[[row_of[i] for i in ids]]  # rows are L2-normalised
        centre = np.asarray(rows.mean(axis=0)).ravel()
        norm = float(np.linalg.norm(centre))
        scores = (rows @ centre) / norm if norm else np.zeros(len(ids))
        scores = np.asarray(scores).ravel()
        # Highest score first; equal scores (identical texts) by id.
        ranking = sorted(range(len(ids)), key=lambda k: (-round(float(scores[k]), 6), ids[k]))
        picks: list[int] = []
        for k in ranking:
            if len(picks) == n:
                break
            if picks:
                similar = rows[picks] @ rows[k].T
                if float(similar.max()) >= NEAR_COPY:
                    continue
            picks.append(k)
        chosen[label] = [(ids[k], round(float(scores[k]), 4)) for k in picks]
    return chosen
