"""Albanian-aware normalisation and the features the model reads.

Citizens write Albanian with and without ë/ç, in the standard (Tosk) or the northern
(Gheg) spelling, with doubled or dropped letters. Everything is folded to one spelling
before features are taken, so "përgjigjë", "pergjigje" and "përgjigjja" meet. Features
are a word's light stem and its character 3- to 5-grams (inside word boundaries), which
also carry a typo or an unseen inflection to the right label.

Pure and deterministic: training and classification call the same functions.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

_NON_WORD = re.compile(r"[^0-9a-z]+")
_REPEAT = re.compile(r"([a-z])\1+")
_WRITTEN_WORD = re.compile(r"[^\W_]+")

# One suffix is removed from words of five letters or more; longest first.
# Albanian definite/plural/case endings, then the English plural.
_SUFFIXES = (
    "jeve", "jes", "jen", "ave", "eve", "ive", "it", "in", "ja", "je", "ve", "et",
    "es", "at", "ne", "a", "e", "i", "s", "t",
)

# Spellings that differ from the standard in more than diacritics: Gheg forms and
# frequent phonetic typing. Applied to whole folded words.
_VARIANTS = {
    "asht": "eshte", "osht": "eshte", "esht": "eshte", "ashte": "eshte",
    "nji": "nje", "njo": "nje", "qysh": "si", "kqyr": "shiko",
    "kshtu": "keshtu", "qka": "cka", "qfare": "cfare", "qdo": "cdo", "tash": "tani",
    "kan": "kane", "jan": "jane", "shum": "shume", "mir": "mire",
}


def fold(text: str) -> str:
    """Lowercase, drop diacritics (ë->e, ç->c), turn punctuation into spaces."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _NON_WORD.sub(" ", stripped).strip()


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    if len(word) < 5 or word.isdigit():
        return word
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


@lru_cache(maxsize=65536)
def normal_word(word: str) -> str:
    """One folded word in its normal spelling: variants mapped, doubled letters single
    ("rr"/"r", "ll"/"l" and typed repeats "shumeee" meet)."""
    word = _VARIANTS.get(word, word)
    return _REPEAT.sub(r"\1", word)


def words(text: str) -> list[str]:
    """The normalised words of a text, in order."""
    return [normal for normal, _ in word_pairs(text)]


def word_pairs(text: str) -> list[tuple[str, str]]:
    """``(normalised, as written)`` for each word, for explanations a reader recognises."""
    pairs: list[tuple[str, str]] = []
    for written in _WRITTEN_WORD.findall(text):
        for normal in _normal_parts(written):
            pairs.append((normal, written))
    return pairs


@lru_cache(maxsize=65536)
def _normal_parts(written: str) -> tuple[str, ...]:
    return tuple(normal_word(part) for part in fold(written).split())


def tokens(text: str) -> list[str]:
    """Stemmed words (the keyword matcher of the aspect rules reads these)."""
    return [stem(w) for w in fold(text).split()]


# Words that say how someone writes, not what about: pronouns, articles, auxiliaries,
# politeness, in both languages (folded). Left out of the features so that the
# catalogue's formal sentences and a citizen's "I waited, please help" meet on content.
_STOP_WORDS_TEXT = """
a e i te ne me per nga se si qe ka kam kemi keni kane jam je eshte jemi jeni jane ishte
do dhe ose por edhe nuk s mos u une ti ai ajo ne ju ata ato im ime yt jot tij saj yne
jone juaj tyre mua ty atij asaj neve juve atyre kjo ky keto keta ajo ato cdo cila cili
kete ket kesaj ketij ata atje ketu tek te deri pa mbi nen pas para prej sepse kur ku
nje disa shume pak mire ju lutem faleminderit pershendetje respekt tjeter tjera vetem
kush cfare sa pse mund duhet them thote tha
the a an and or but not no nor of to in on at by for from with about as into than then
i me my mine we us our ours you your yours he him his she her it its they them their
is am are was were be been being do does did have has had will would shall should can
could may might must this that these those there here what which who whom whose why
how when where all any each some such only very just also too so please thank thanks
hello hi dear regards kind best sincerely sir madam
"""
STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())


@lru_cache(maxsize=65536)
def word_features(word: str) -> tuple[str, ...]:
    """What one normalised word contributes: its stem and its character n-grams."""
    if word in STOP_WORDS:
        return ()
    if word.isdigit():
        return ("#num",) if len(word) != 4 else ("#year",)
    padded = f" {word} "
    grams = [padded[i : i + n] for n in (3, 4, 5) for i in range(len(padded) - n + 1)]
    return (f"w:{stem(word)}", *grams)


def features(text: str) -> list[str]:
    """Every feature occurrence of a text (counts matter: duplicates are kept)."""
    out: list[str] = []
    for word in words(text):
        out.extend(word_features(word))
    return out


def join(subject: str, body: str) -> str:
    """The text the model reads: the subject, then the body."""
    subject = subject.strip()
    # "Re:", "Fwd:", "Përgjigje:" say nothing about the topic.
    subject = re.sub(r"^(?:\s*(?:re|fw|fwd|aw|tr|p[ëe]rgjigj[ea]?|pergjigje)\s*:\s*)+", "",
                     subject, flags=re.IGNORECASE)
    return f"{subject}\n{body}" if subject else body


def vocabulary_of(texts: Iterable[str]) -> dict[str, int]:
    vocab: dict[str, int] = {}
    for text in texts:
        for feature in features(text):
            if feature not in vocab:
                vocab[feature] = len(vocab)
    return vocab
