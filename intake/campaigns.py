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

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache

import numpy as np
from datasketch import MinHash

SHINGLE_WORDS = 3
BANDS = 20
ROWS = 3  # 20 bands of 3: texts with Jaccard 0.5 share a band with p = 0.93, 0.1 with 0.02
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

_WORD = re.compile(r"\w+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n\s*\n|\n(?=\s*[-*•]\s)")


def fold(text: str) -> str:
    """Lower case without diacritics: Albanian is often written without ë and ç."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


def shingles(text: str) -> frozenset[bytes]:
    tokens = words(text)
    if len(tokens) < SHINGLE_WORDS:
        return frozenset()
    return frozenset(" ".join(tokens[i:i + SHINGLE_WORDS]).encode()
                     for i in range(len(tokens) - SHINGLE_WORDS + 1))


@cache
def _permutations() -> tuple[np.ndarray, np.ndarray]:
    # Built once per process: MinHash would otherwise draw them for every text.
    seeded = MinHash(num_perm=NUM_PERM, seed=1)
    return seeded.permutations  # type: ignore[no-any-return]


def band_keys(triples: frozenset[bytes]) -> tuple[int, ...]:
    """The LSH bands of a set of triples, as signed 64-bit keys (a BIGINT column)."""
    if len(triples) < MIN_SHINGLES:
        return ()
    signature = MinHash(num_perm=NUM_PERM, seed=1, permutations=_permutations())
    signature.update_batch(list(triples))
    values = signature.hashvalues
    keys = []
    for band in range(BANDS):
        digest = hashlib.blake2b(band.to_bytes(2, "big")
                                 + values[band * ROWS:(band + 1) * ROWS].tobytes(),
                                 digest_size=8).digest()
        keys.append(int.from_bytes(digest, "big", signed=True))
    return tuple(keys)


@dataclass(frozen=True, slots=True)
class Fingerprint:
    shingles: frozenset[bytes]
    bands: tuple[int, ...]  # empty when the text is too short to be grouped

    @property
    def groupable(self) -> bool:
        return bool(self.bands)


def fingerprint(text: str) -> Fingerprint:
    triples = shingles(text)
    return Fingerprint(triples, band_keys(triples))


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
    """The most similar candidate at or above ``threshold``; ties go to the earliest."""
    best: Match | None = None
    for candidate in candidates:
        score = similarity(new, candidate.fingerprint)
        if score < threshold:
            continue
        if best is None or (score, -candidate.key) > (best.similarity, -best.candidate.key):
            best = Match(candidate, score)
    return best


def strongest(shared: dict[int, int], limit: int = MAX_CANDIDATES) -> list[int]:
    """The keys sharing the most bands (a MinHash estimate of similarity), best first."""
    return sorted(shared, key=lambda key: (-shared[key], key))[:limit]


def sentences(text: str) -> list[str]:
    return [part.strip() for part in _SENTENCE_END.split(text) if part and part.strip()]


def additions(common: str, member: str) -> str:
    """The member's own sentences: those the campaign's text (``common``) does not have.

    Greetings, sign-offs and other lines under ``MIN_ADDITION_WORDS`` words are left
    out; sentences keep their order, one paragraph each.
    """
    known = shingles(common)
    known_words = set(words(common))
    own: list[str] = []
    for sentence in sentences(member):
        tokens = words(sentence)
        if len(tokens) < MIN_ADDITION_WORDS:
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
        self.index: dict[int, list[int]] = {}
        self.fingerprints: dict[int, Fingerprint] = {}
        self.group_of: dict[int, int] = {}
        self.groups: dict[int, _Group] = {}
        # (band key, text key) pairs in the index, for the database's band table.
        self.band_rows: list[tuple[int, int]] = []

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
            self.groups[group_id].members.append(key)
            self.group_of[key] = group_id
        self.fingerprints[key] = found
        self._index(key, found.bands, group_id)
        return group_id

    def _index(self, key: int, bands: Sequence[int], group_id: int | None) -> None:
        for band in bands:
            holders = self.index.setdefault(band, [])
            if group_id is not None and any(self.group_of.get(h) == group_id for h in holders):
                continue
            holders.append(key)
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
