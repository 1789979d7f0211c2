"""Language of a short text: ``sq``, ``en``, ``mixed`` (both, each a real share) or
``und`` (too little to tell), with lingua's models for Albanian and English.

Sentences are judged one by one, so a letter that switches language half-way is
``mixed``; a sentence lingua is unsure of does not count. The detector is built on
first use and its models load lazily (about 15 ms), so importing this costs nothing.
"""

from __future__ import annotations

import re
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lingua import LanguageDetector

_CHUNK = re.compile(r"(?<=[.!?;:])\s+|\n+")
_WORD = re.compile(r"[^\W\d_]{2,}")
SURE = 0.75
MIXED_SHARE = 0.2
MIXED_MIN_WORDS = 3


@cache
def _detector() -> LanguageDetector:
    from lingua import Language, LanguageDetectorBuilder

    return LanguageDetectorBuilder.from_languages(Language.ALBANIAN, Language.ENGLISH).build()


def _code(language: object) -> str:
    return "sq" if getattr(language, "name", "") == "ALBANIAN" else "en"


def detect_language(text: str) -> str:
    """``sq``, ``en``, ``mixed`` or ``und``."""
    total_words = len(_WORD.findall(text))
    if total_words < 2:
        return "und"
    detector = _detector()
    words = {"sq": 0, "en": 0}
    for chunk in _CHUNK.split(text):
        count = len(_WORD.findall(chunk))
        if count < 3:
            continue
        best = detector.compute_language_confidence_values(chunk)[0]
        if best.value >= SURE:
            words[_code(best.language)] += count
    if not any(words.values()):
        best = detector.compute_language_confidence_values(text)[0]
        return _code(best.language) if best.value >= 0.6 else "und"
    minority = min(words.values())
    if minority >= MIXED_MIN_WORDS and minority >= MIXED_SHARE * sum(words.values()):
        return "mixed"
    return max(words, key=lambda code: words[code])
