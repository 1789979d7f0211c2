"""First classifier: catalogue keywords, matched without regard to diacritics.

Albanian is written with and without ë/ç, with hyphens or spaces ("e-qeverisje",
"e qeverisje") and with inflected endings ("qeverisja", "qeverisjes"); both the
keywords and the text are folded and lightly stemmed before matching, so that
all of those meet.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from config.catalogue import GENERAL, Catalogue

_NON_WORD = re.compile(r"[^0-9a-z]+")

# One suffix is removed from words of five letters or more; longest first.
# Albanian definite/plural/case endings, then the English plural.
_SUFFIXES = (
    "jeve",
    "jes",
    "jen",
    "ave",
    "eve",
    "ive",
    "it",
    "in",
    "ja",
    "je",
    "ve",
    "et",
    "es",
    "at",
    "ne",
    "a",
    "e",
    "i",
    "s",
    "t",
)

_SQ_WORDS = frozenset(
    [
        "dhe",
        "te",
        "per",
        "nje",
        "eshte",
        "nuk",
        "qe",
        "ne",
        "me",
        "se",
        "ka",
        "jane",
        "si",
        "kjo",
        "por",
        "mund",
        "duhet",
        "shume",
        "keto",
        "jam",
        "jemi",
        "do",
        "kam",
        "nga",
        "tek",
        "ju",
        "une",
        "mire",
        "faleminderit",
        "pershendetje",
        "ose",
        "edhe",
        "lidhje",
    ]
)
_EN_WORDS = frozenset(
    [
        "the",
        "and",
        "to",
        "of",
        "is",
        "that",
        "for",
        "it",
        "not",
        "we",
        "are",
        "this",
        "be",
        "with",
        "should",
        "would",
        "have",
        "has",
        "please",
        "thank",
        "thanks",
        "you",
        "our",
        "your",
        "from",
        "about",
        "which",
        "can",
        "will",
        "there",
        "their",
    ]
)


def fold(text: str) -> str:
    """Lowercase, drop diacritics (ë->e, ç->c), turn punctuation into spaces."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _NON_WORD.sub(" ", stripped).strip()


def stem(word: str) -> str:
    if len(word) < 5 or word.isdigit():
        return word
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def tokens(text: str) -> list[str]:
    return [stem(word) for word in fold(text).split()]


@dataclass(frozen=True)
class LabelScore:
    commitment_id: str
    score: float
    matched: tuple[str, ...]


@dataclass(frozen=True)
class Classification:
    labels: tuple[LabelScore, ...]

    @property
    def commitment_ids(self) -> list[str]:
        return [label.commitment_id for label in self.labels]


@dataclass(frozen=True)
class _Keyword:
    phrase: str
    tokens: tuple[str, ...]


def _compile(phrases: tuple[str, ...]) -> tuple[_Keyword, ...]:
    compiled: dict[tuple[str, ...], _Keyword] = {}
    for phrase in phrases:
        toks = tuple(tokens(phrase))
        # Inflected spellings of one keyword stem alike; count them once.
        if toks and toks not in compiled:
            compiled[toks] = _Keyword(phrase, toks)
    return tuple(compiled.values())


class Classifier:
    """Scores each label by the keywords found; weak runners-up are dropped."""

    max_labels = 3
    relative_floor = 0.5
    subject_weight = 2.0

    def __init__(self, catalogue: Catalogue) -> None:
        self._keywords = {
            label.id: _compile(
                (*label.keywords_en, *label.keywords_sq, label.title_en, label.title_sq)
            )
            for label in catalogue.labels
        }

    @staticmethod
    def _hits(keywords: tuple[_Keyword, ...], text_tokens: list[str]) -> list[_Keyword]:
        joined = " " + " ".join(text_tokens) + " "
        found = []
        for keyword in keywords:
            needle = " " + " ".join(keyword.tokens) + " "
            if needle in joined or (
                # "ealbania" for "e-Albania", "eqeverisje" for "e-qeverisje"
                len(keyword.tokens) > 1
                and len(keyword.tokens[0]) == 1
                and " " + "".join(keyword.tokens) + " " in joined
            ):
                found.append(keyword)
        return found

    def classify(self, subject: str, text: str) -> Classification:
        subject_tokens = tokens(subject)
        text_tokens = tokens(text)
        scored: list[LabelScore] = []
        for label_id, keywords in self._keywords.items():
            score = 0.0
            matched: list[str] = []
            for weight, toks in ((self.subject_weight, subject_tokens), (1.0, text_tokens)):
                for keyword in self._hits(keywords, toks):
                    score += weight * len(keyword.tokens) ** 0.5
                    if keyword.phrase not in matched:
                        matched.append(keyword.phrase)
            if score > 0:
                scored.append(LabelScore(label_id, round(score, 3), tuple(matched)))
        specific = [s for s in scored if s.commitment_id != GENERAL]
        if not specific:
            general = next((s for s in scored if s.commitment_id == GENERAL), None)
            return Classification((general or LabelScore(GENERAL, 0.0, ()),))
        specific.sort(key=lambda s: (-s.score, int(s.commitment_id)))
        best = specific[0].score
        kept = [s for s in specific if s.score >= best * self.relative_floor]
        return Classification(tuple(kept[: self.max_labels]))


def detect_language(text: str) -> str:
    """``sq``, ``en``, ``mixed`` or ``und`` (too little text to tell)."""
    words = fold(text).split()
    sq = sum(1 for w in words if w in _SQ_WORDS)
    en = sum(1 for w in words if w in _EN_WORDS)
    if sq + en < 3:
        return "und"
    if min(sq, en) >= 3 and min(sq, en) >= 0.2 * (sq + en):
        return "mixed"
    return "sq" if sq > en else "en"
