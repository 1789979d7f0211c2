"""Redaction shared by everything that produces public text."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from itertools import pairwise

# \w, not A-Za-z: internationalised addresses ("ana@shqipëri.al") are addresses too.
_EMAIL = re.compile(r"[\w.%+\-]+@[\w\-]+(?:\.[\w\-]+)+")
EMAIL_PLACEHOLDER = "[e-mail]"


def redact_email_addresses(text: str) -> str:
    """Public text never carries an address, a citizen's own or anyone else's."""
    return _EMAIL.sub(EMAIL_PLACEHOLDER, text)


# ---------------------------------------------------------------- names

NAME_PLACEHOLDER = "[name]"
# A word of a name: letters and digits, with inner apostrophes or hyphens ("O'Neill", "Ana-Maria").
_WORD = re.compile(r"\w+(?:['’\-]\w+)*")
# What may stand between the words of a name in running text: "Besnik Dedaj", "Dedaj, Besnik".
_BETWEEN_WORDS = re.compile(r"[\s,]+")
# Parts of a display name that are not the name: "(via Google Docs)", "[Shoqata X]".
_ASIDE = re.compile(r"\([^)]*\)|\[[^\]]*\]")
# Titles before a name, folded; "Dr. Besnik Dedaj" signs his mail "Besnik Dedaj".
_TITLES = frozenset({"dr", "prof", "z", "znj", "zj", "mr", "mrs", "ms", "miss", "av", "ing"})
_MIN_LETTERS = 3


class _Folder(dict[int, str]):
    """``str.translate`` table that folds case and accents, filled as characters are met."""

    def __missing__(self, codepoint: int) -> str:
        decomposed = unicodedata.normalize("NFKD", chr(codepoint))
        folded = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
        self[codepoint] = folded
        return folded


_FOLD = _Folder()


def _folded(text: str) -> tuple[str, list[int] | None]:
    """``text`` without case or accents, and where each folded character came from.

    ë -> e and ç -> c keep the length, so the positions are the same (``None``);
    a character that folds to several (ß -> ss) needs the map back.
    """
    folded = text.translate(_FOLD)
    if len(folded) == len(text):
        return folded, None
    origin: list[int] = []
    for index, char in enumerate(text):
        origin.extend([index] * len(char.translate(_FOLD)))
    return folded, origin


def name_words(display_name: str) -> tuple[str, ...]:
    """The folded words of a display name, without an address, asides and titles."""
    name = _ASIDE.sub(" ", _EMAIL.sub(" ", display_name))
    words = tuple(w for w in _WORD.findall(_folded(name)[0]) if w not in _TITLES)
    return words if sum(len(w) for w in words) >= _MIN_LETTERS else ()


class NameIndex:
    """Display names to hide wherever they are written out in full, in either order.

    Matching ignores case and Albanian (and other) accents: "BESNIK DEDAJ",
    "besnik dedaj", "Dedaj, Besnik" and "Besnik  Dedaj" are all the same name.
    Only whole names are hidden: "Besnik" alone, a declined form ("Dedajt") or
    initials ("B. Dedaj") are not; a moderator's edit is the tool for those.
    ``min_words=2`` leaves out one-word names, which are often ordinary words too
    ("Ana" is also "side"): use them only on their sender's own text.
    """

    def __init__(self, display_names: Iterable[str], min_words: int = 2) -> None:
        phrases: set[tuple[str, ...]] = set()
        for display_name in display_names:
            words = name_words(display_name)
            if len(words) >= max(1, min_words):
                phrases.update({words, words[::-1]})
        self._lengths: dict[str, list[int]] = {}
        for phrase in phrases:
            self._lengths.setdefault(phrase[0], []).append(len(phrase))
        for lengths in self._lengths.values():
            lengths.sort(reverse=True)
        self._phrases = frozenset(phrases)

    def __bool__(self) -> bool:
        return bool(self._phrases)

    def redact(self, text: str) -> str:
        """``text`` with every name of the index replaced by ``[name]``."""
        if not self._phrases or not text:
            return text
        folded, origin = _folded(text)
        words = list(_WORD.finditer(folded))
        if self._lengths.keys().isdisjoint(w.group() for w in words):
            return text
        spans: list[tuple[int, int]] = []
        i = 0
        while i < len(words):
            found = self._match_at(folded, words, i)
            if found:
                start, end = words[i].start(), words[i + found - 1].end()
                if origin is not None:
                    start, end = origin[start], origin[end - 1] + 1
                spans.append((start, end))
                i += found
            else:
                i += 1
        for start, end in reversed(spans):
            text = text[:start] + NAME_PLACEHOLDER + text[end:]
        return text

    def _match_at(self, folded: str, words: list[re.Match[str]], i: int) -> int:
        """How many words from ``i`` on spell a name (the longest), or 0."""
        for length in self._lengths.get(words[i].group(), ()):
            run = words[i:i + length]
            if len(run) < length:
                continue
            if tuple(w.group() for w in run) not in self._phrases:
                continue
            gaps = (folded[a.end():b.start()] for a, b in pairwise(run))
            if all(_BETWEEN_WORDS.fullmatch(gap) for gap in gaps):
                return length
        return 0
