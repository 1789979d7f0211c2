"""Which pages the public site has, what each shows, and a key that changes when it does.

Pure: the publisher passes one light ``Entry`` per published comment (no text), and gets
every page of the site with its input key. The store renders only pages whose key
changed, so a key must cover everything a page shows and nothing else: a comment's page
depends on that comment alone (its fingerprint), an archive page on its 50 members and
whether a newer page exists, never on totals that move with every approval.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from config.catalogue import Catalogue
from publish import urls
from publish.urls import LANGUAGES, PAGE_SIZE, Language


class PageKind(StrEnum):
    ROOT = "root"  # the Albanian index at the site's root
    INDEX = "index"
    FRONT = "front"  # a commitment: counts, newest comments, its pages
    ARCHIVE = "archive"  # page N of a commitment's comments
    COMMENT = "comment"
    FEED = "feed"
    LABEL_FEED = "label-feed"
    SEARCH = "search"
    DATA = "data"
    ASSET = "asset"


@dataclass(frozen=True, slots=True)
class Entry:
    """A published comment as the planner sees it: no text, only what places it."""

    id: int
    reference: str
    published_at: datetime
    # Changes whenever anything the public sees of the comment changes.
    fingerprint: str
    labels: tuple[str, ...]  # commitment ids, or ("general",)
    answered: bool = False  # the secretariat's response is published with it


@dataclass(frozen=True)
class ArchiveRange:
    number: int
    first: datetime
    last: datetime
    size: int


@dataclass(slots=True)
class Page:
    kind: PageKind
    key: str
    language: Language | None = None
    label: str | None = None
    number: int = 0
    # The comments the page shows, in the order shown.
    members: tuple[int, ...] = ()
    has_newer: bool = False


@dataclass(frozen=True)
class SitePlan:
    pages: dict[str, Page]
    # Per label: its comments oldest first, and its archive pages.
    by_label: dict[str, list[Entry]]
    archives: dict[str, list[ArchiveRange]]
    entries: dict[int, Entry] = field(default_factory=dict)
    last_published: datetime | None = None

    @property
    def total(self) -> int:
        return len(self.entries)

    def count(self, label_id: str) -> int:
        return len(self.by_label.get(label_id, ()))

    def keys(self) -> dict[str, str]:
        return {path: page.key for path, page in self.pages.items()}


def _key(*parts: object) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(repr(part).encode())
        digest.update(b"\x1f")
    return digest.hexdigest()[:32]


def _fingerprints(entries: Iterable[Entry]) -> list[tuple[int, str]]:
    return [(entry.id, entry.fingerprint) for entry in entries]


def _chunks(entries: Sequence[Entry]) -> list[Sequence[Entry]]:
    return [entries[start:start + PAGE_SIZE] for start in range(0, len(entries), PAGE_SIZE)]


def plan_site(catalogue: Catalogue, entries: Sequence[Entry], version: str) -> SitePlan:
    """Every page of the site. ``entries`` in any order; ``version`` changes with the
    templates, the words and the settings that pages show."""
    ordered = sorted(entries, key=lambda entry: (entry.published_at, entry.id))
    known = {label.id for label in catalogue.labels}
    by_label: dict[str, list[Entry]] = defaultdict(list)
    for entry in ordered:
        for label_id in entry.labels:
            by_label[label_id if label_id in known else catalogue.general.id].append(entry)
    last = ordered[-1].published_at if ordered else None
    counts = tuple((label.id, len(by_label.get(label.id, ()))) for label in catalogue.labels)
    pages: dict[str, Page] = {}
    archives: dict[str, list[ArchiveRange]] = {}

    pages[urls.ROOT_INDEX] = Page(PageKind.ROOT, _key(version, "root", counts, last), "sq")
    pages[urls.STYLESHEET] = Page(PageKind.ASSET, _key(version, "style"))
    pages[urls.SEARCH_SCRIPT] = Page(PageKind.ASSET, _key(version, "script"))
    newest = tuple(reversed(ordered[-PAGE_SIZE:]))
    for language in LANGUAGES:
        pages[urls.index_page(language)] = Page(
            PageKind.INDEX, _key(version, "index", language, counts, last), language)
        pages[urls.search_page(language)] = Page(PageKind.SEARCH, _key(version, "search",
                                                                        language), language)
        pages[urls.data_page(language)] = Page(PageKind.DATA, _key(version, "data", language),
                                               language)
        pages[urls.feed(language)] = Page(
            PageKind.FEED, _key(version, "feed", language, _fingerprints(newest)), language,
            members=tuple(entry.id for entry in newest))
        # The most numerous pages: a plain key, no hashing (the store compares keys as is).
        prefix = f"{version}|{language}|"
        for entry in ordered:
            pages[urls.comment_page(language, entry.reference)] = Page(
                PageKind.COMMENT, f"{prefix}{entry.fingerprint}|{','.join(entry.labels)}",
                language, members=(entry.id,))
    pages[urls.ROOT_FEED] = Page(PageKind.FEED, pages[urls.feed("sq")].key, "sq",
                                 members=pages[urls.feed("sq")].members)

    for label in catalogue.labels:
        items = by_label.get(label.id, [])
        chunks = _chunks(items)
        ranges = [ArchiveRange(number, chunk[0].published_at, chunk[-1].published_at, len(chunk))
                  for number, chunk in enumerate(chunks, start=1)]
        archives[label.id] = ranges
        latest = tuple(reversed(items[-PAGE_SIZE:]))
        for language in LANGUAGES:
            pages[urls.commitment_page(language, label.id)] = Page(
                PageKind.FRONT,
                _key(version, "front", language, label.id, len(items), _fingerprints(latest),
                     [(r.number, r.first, r.last, r.size) for r in ranges]),
                language, label.id, members=tuple(entry.id for entry in latest))
            pages[urls.commitment_feed(language, label.id)] = Page(
                PageKind.LABEL_FEED, _key(version, "label-feed", language, label.id,
                                          _fingerprints(latest)),
                language, label.id, members=tuple(entry.id for entry in latest))
            for number, chunk in enumerate(chunks, start=1):
                has_newer = number < len(chunks)
                shown = tuple(reversed(chunk))
                pages[urls.archive_page(language, label.id, number)] = Page(
                    PageKind.ARCHIVE,
                    _key(version, "archive", language, label.id, number, has_newer,
                         _fingerprints(shown)),
                    language, label.id, number, tuple(entry.id for entry in shown), has_newer)
    return SitePlan(pages=pages, by_label=dict(by_label), archives=archives,
                    entries={entry.id: entry for entry in ordered}, last_published=last)
