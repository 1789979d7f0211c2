"""Near-identical comments: the fingerprint of a text, how alike two texts are, and what
a member adds to its campaign's text.

Pure: takes and returns plain values. A text becomes its set of word triples after folding
(lower case, no diacritics, so "Mbështes" and "mbeshtes" are one word), and a MinHash
signature of that set (``datasketch``) cut into LSH bands: two texts that share a band are
candidates, and a candidate joins only if the exact share of the shorter text's triples
found in the other reaches the threshold (containment, not Jaccard, so a letter with a
paragraph added, or cut short, still matches its campaign). ``Grouper`` groups a stream of
texts in memory with the same rule the database adapter (``moderation.campaigns``) applies
one comment at a time.
"""

from __future__ import annotations

import heapq
import re
import unicodedata
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache

import numpy as np
from datasketch import MinHash

SHINGLE_WORDS = 3
# 30 bands of 3 rows: texts with Jaccard 0.5 share a band with p = 0.98, 0.4 with 0.86,
# 0.1 with 0.03. A copy cut to half the letter, or with a paragraph of its own, has a
# Jaccard of 0.4-0.5 with the letter although nearly all of it is in the letter; with 20
# bands (p = 0.73 at 0.4) such copies were missed often enough to split campaigns
# (pairwise recall down to 0.93 on tests/campaign_set.py). Two rows a band found them
# too, but at 100,000 comments each text then shared a band with hundreds of unrelated
# ones (common phrases: greetings, the commitment's name), and the right candidates fell
# out of the MAX_CANDIDATES compared (recall 0.88).
BANDS = 30
ROWS = 3
NUM_PERM = BANDS * ROWS
# Too short to tell a form letter from a common phrase: never grouped.
MIN_SHINGLES = 8
# How many of the best candidates (by bands shared) are compared exactly.
MAX_CANDIDATES = 8
DEFAULT_THRESHOLD = 0.6
# A sentence is the member's own when less than this share of its triples is in the
# campaign's text, and it has at least this many words (greetings and sign-offs do not).
OWN_SENTENCE_SHARE = 0.5
MIN_ADDITION_WORDS = 5
# Greetings and closings people put around a letter, in Albanian (with and without ë/ç,
# as ``fold`` leaves them) and English; a sentence of at most MAX_COURTESY_WORDS words
# that opens with one is not an addition of the sender's own, whatever its length.
COURTESY = (
    "te nderuar", "i nderuar", "e nderuar", "pershendetje", "miredita", "mire dita",
    "tungjatjeta", "faleminderit", "ju faleminderit", "me respekt", "me konsiderate",
    "me nderime", "sinqerisht", "ne pritje", "ju pershendes", "gjithe te mirat",
    "dear", "hello", "hi", "good morning", "good afternoon", "good evening",
    "to whom it may concern", "thank you", "thanks", "many thanks", "kind regards",
    "best regards", "regards", "sincerely", "yours", "best wishes", "best", "respectfully",
    "looking forward", "cheers",
)
MAX_COURTESY_WORDS = 8
# A line this short ending in "," "!" or ":" stands apart from the text after it.
MAX_SALUTATION_WORDS = 6

_WORD = re.compile(r"\w+")
_COURTESY = frozenset(tuple(phrase.split()) for phrase in COURTESY)
_COURTESY_LONGEST = max(len(phrase) for phrase in _COURTESY)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n\s*\n|\n(?=\s*[-*•]\s)")
# The combining marks of the scripts people write to us in (Latin, Greek, Cyrillic): a
# regular expression drops them four times faster than testing every character.
_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")


def fold(text: str) -> str:
    """Lower case without diacritics: Albanian is often written without ë and ç."""
    folded = text.casefold()
    if folded.isascii():
        return folded
    return _COMBINING.sub("", unicodedata.normalize("NFKD", folded))


def words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


def shingles(text: str) -> frozenset[bytes]:
    """The text's runs of ``SHINGLE_WORDS`` words, folded."""
    tokens = words(text)
    # The shifted copies are shorter: zip stops at the last full run, as it should.
    runs = zip(*(tokens[start:] for start in range(SHINGLE_WORDS)), strict=False)
    return frozenset(" ".join(run).encode() for run in runs)


@cache
def _permutations() -> tuple[np.ndarray, np.ndarray]:
    # Built once per process: MinHash would otherwise draw them for every text.
    seeded = MinHash(num_perm=NUM_PERM, seed=1)
    return seeded.permutations  # type: ignore[no-any-return]


@cache
def _band_multipliers() -> np.ndarray:
    # A band's key is sum(value * multiplier) modulo 2**64 with random odd multipliers, one
    # per row of each band (a universal hash: two different bands of values get one key
    # with a chance of about 2**-64). Fixed seed: the keys are stored.
    draw = np.random.default_rng(2020).integers(1, 2**63, size=(BANDS, ROWS), dtype=np.uint64)
    return draw | np.uint64(1)


def band_keys(triples: frozenset[bytes]) -> tuple[int, ...]:
    """The LSH bands of a set of triples, as signed 64-bit keys (a BIGINT column)."""
    if len(triples) < MIN_SHINGLES:
        return ()
    # CRC-32 as the base hash: stable across processes (the keys are stored) and a C call,
    # where datasketch's default (SHA-1 in Python) was half the cost of a text. The
    # permutations on top of it make the signature. Changing any of this changes every
    # key: ``ogp-feedback campaigns recompute`` writes them again.
    signature = MinHash(num_perm=NUM_PERM, seed=1, hashfunc=zlib.crc32,
                        permutations=_permutations())
    signature.update_batch(list(triples))
    rows = signature.hashvalues.reshape(BANDS, ROWS).astype(np.uint64)
    keys = (rows * _band_multipliers()).sum(axis=1, dtype=np.uint64)
    return tuple(keys.view(np.int64).tolist())


class Fingerprint:
    """A text's folded word triples, and its LSH bands, worked out when first read.

    Lazy because most fingerprints are only compared (``similarity`` reads the triples):
    the MinHash of the candidates a new comment is compared with was a quarter of the time
    of grouping it in the database. Equal when the triples are (the bands follow from them).
    """

    __slots__ = ("_bands", "shingles")

    def __init__(self, shingles: frozenset[bytes], bands: tuple[int, ...] | None = None
                 ) -> None:
        self.shingles = shingles
        self._bands = bands

    @property
    def bands(self) -> tuple[int, ...]:
        """Empty when the text is too short to be grouped."""
        if self._bands is None:
            self._bands = band_keys(self.shingles)
        return self._bands

    @property
    def groupable(self) -> bool:
        return len(self.shingles) >= MIN_SHINGLES  # as band_keys decides, without its cost

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Fingerprint) and other.shingles == self.shingles

    def __hash__(self) -> int:
        return hash(self.shingles)

    def __repr__(self) -> str:
        return f"Fingerprint({len(self.shingles)} triples)"


# A new comment is compared with the same few members of each campaign (those holding its
# bands) again and again: remember the latest texts' fingerprints (about 10 KB each).
@lru_cache(maxsize=1024)
def fingerprint(text: str) -> Fingerprint:
    return Fingerprint(shingles(text))


def similarity(first: Fingerprint, second: Fingerprint) -> float:
    """The share of the smaller text's triples that the other text has too."""
    smaller = min(len(first.shingles), len(second.shingles))
    if smaller == 0:
        return 0.0
    return len(first.shingles & second.shingles) / smaller


@dataclass(frozen=True, slots=True)
class Candidate:
    """An earlier text that shares bands with the new one, and the group it is in."""

    key: int
    group: int | None  # None: the candidate is alone so far
    fingerprint: Fingerprint
    bands_shared: int = 0


@dataclass(frozen=True, slots=True)
class Match:
    candidate: Candidate
    similarity: float


def best_match(new: Fingerprint, candidates: Iterable[Candidate],
               threshold: float = DEFAULT_THRESHOLD) -> Match | None:
    """The most similar candidate at or above ``threshold``, one already in a group first;
    ties go to the earliest.

    A candidate that is alone although it is like the new text was missed by its campaign
    (LSH is a matter of chance, and the first copies of a letter are often the most
    edited): pairing with it would start a second group for the same letter, and every
    later copy would be split between the two.
    """
    best: Match | None = None
    best_rank: tuple[bool, float, int] | None = None
    for candidate in candidates:
        score = similarity(new, candidate.fingerprint)
        if score < threshold:
            continue
        rank = (candidate.group is not None, score, -candidate.key)
        if best_rank is None or rank > best_rank:
            best, best_rank = Match(candidate, score), rank
    return best


def strongest(shared: dict[int, int], limit: int = MAX_CANDIDATES) -> list[int]:
    """The keys sharing the most bands (a MinHash estimate of similarity), best first."""
    return heapq.nsmallest(limit, shared, key=lambda key: (-shared[key], key))


def _salutation_line(line: str) -> bool:
    """A line of its own such as "Të nderuar,", "Dear Sir or Madam," or "Me respekt,"."""
    stripped = line.strip()
    return (stripped.endswith((",", "!", ":"))
            and len(_WORD.findall(stripped)) <= MAX_SALUTATION_WORDS)


def sentences(text: str) -> list[str]:
    """Sentences and paragraphs, with a salutation or closing line apart from the text it
    heads ("Hi,\nI am a teacher..." is two)."""
    found: list[str] = []
    for part in _SENTENCE_END.split(text):
        lines: list[str] = []
        for line in part.split("\n"):
            if _salutation_line(line):
                found.append("\n".join(lines))
                found.append(line)
                lines = []
            else:
                lines.append(line)
        found.append("\n".join(lines))
    return [piece.strip() for piece in found if piece.strip()]


def is_courtesy(sentence: str) -> bool:
    """A greeting or a closing ("Përshëndetje", "Ju faleminderit për vëmendjen", "Kind
    regards"): short, and opening with one of ``COURTESY`` (folded)."""
    tokens = words(sentence)
    if not tokens or len(tokens) > MAX_COURTESY_WORDS:
        return False
    return any(tuple(tokens[:length]) in _COURTESY for length in range(1, _COURTESY_LONGEST + 1))


@lru_cache(maxsize=64)
def _known(common: str) -> tuple[frozenset[bytes], frozenset[str]]:
    # A campaign's text is compared with each of its members in turn (recompute: 30,000
    # members of 20 texts): read it once.
    return shingles(common), frozenset(words(common))


def additions(common: str, member: str) -> str:
    """The member's own sentences: those the campaign's text (``common``) does not have.

    Greetings, sign-offs (``is_courtesy``), names and other lines under
    ``MIN_ADDITION_WORDS`` words are left out; sentences keep their order, one paragraph
    each.
    """
    known, known_words = _known(common)
    own: list[str] = []
    for sentence in sentences(member):
        tokens = words(sentence)
        if len(tokens) < MIN_ADDITION_WORDS or is_courtesy(sentence):
            continue
        triples = shingles(sentence)
        shared = (len(triples & known) / len(triples) if triples
                  else float(set(tokens) <= known_words))
        if shared < OWN_SENTENCE_SHARE:
            own.append(sentence)
    return "\n\n".join(own)


@dataclass
class _Group:
    members: list[int] = field(default_factory=list)


class Grouper:
    """Groups texts in the order given, in memory, with the database adapter's rule.

    Each text joins the group of its most similar earlier candidate (or forms a group with
    a lone candidate); band keys are indexed once per group, so a campaign of thousands
    adds few rows and a new text meets each group through a handful of candidates.
    """

    def __init__(self, threshold: float = DEFAULT_THRESHOLD) -> None:
        self.threshold = threshold
        # Tuples, not lists: tuples of ints are not tracked by the garbage collector, and
        # its full passes over two million lists (one a band) were a cost of their own.
        self.index: dict[int, tuple[int, ...]] = {}
        self.fingerprints: dict[int, Fingerprint] = {}
        self.group_of: dict[int, int] = {}
        self.groups: dict[int, _Group] = {}
        # (band key, text key) pairs in the index, for the database's band table.
        self.band_rows: list[tuple[int, int]] = []
        # (band key, group id) for every band a group already holds.
        self._held: set[tuple[int, int]] = set()

    def add(self, key: int, text: str) -> int | None:
        """Index ``key``'s text; its group's id (the first member's key) or None."""
        found = fingerprint(text)
        if not found.groupable:
            return None
        shared: dict[int, int] = {}
        for band in found.bands:
            for other in self.index.get(band, ()):
                shared[other] = shared.get(other, 0) + 1
        candidates = [Candidate(other, self.group_of.get(other), self.fingerprints[other],
                                shared[other]) for other in strongest(shared)]
        match = best_match(found, candidates, self.threshold)
        group_id: int | None = None
        if match is not None:
            group_id = match.candidate.group
            if group_id is None:
                group_id = match.candidate.key
                self.groups[group_id] = _Group([group_id])
                self.group_of[group_id] = group_id
                self._held.update((band, group_id)
                                  for band in self.fingerprints[group_id].bands)
            self.groups[group_id].members.append(key)
            self.group_of[key] = group_id
        self.fingerprints[key] = found
        self._index(key, found.bands, group_id)
        return group_id

    def _index(self, key: int, bands: Sequence[int], group_id: int | None) -> None:
        for band in dict.fromkeys(bands):
            if group_id is not None:
                if (band, group_id) in self._held:
                    continue
                self._held.add((band, group_id))
            self.index[band] = (*self.index.get(band, ()), key)
            self.band_rows.append((band, key))

    def grouped(self, min_size: int = 2) -> dict[int, list[int]]:
        return {group_id: list(group.members) for group_id, group in self.groups.items()
                if len(group.members) >= min_size}


def group_texts(texts: Sequence[str], threshold: float = DEFAULT_THRESHOLD,
                min_size: int = 2) -> list[int | None]:
    """For each text, the index of its group's first text, or None when it is alone."""
    grouper = Grouper(threshold)
    for position, text in enumerate(texts):
        grouper.add(position, text)
    kept = grouper.grouped(min_size)
    return [grouper.group_of.get(position) if grouper.group_of.get(position) in kept else None
            for position in range(len(texts))]
