"""Which pages the public site has, what each shows, and a key that changes when it does.

Pure: the publisher passes one light ``Entry`` per published comment (no text), and gets
every page of the site with its input key. The store renders only pages whose key
changed, so a key must cover everything a page shows and nothing else: a comment's page
depends on that comment alone (its fingerprint), an archive page on its 50 members and
whether a newer page exists, never on totals that move with every approval.

A campaign (near-identical letters, ``moderation.campaigns``) of at least ``min_size``
members is listed once, where its first published member would stand, with its count;
each member keeps its own page, whose key depends on that member and on the campaign's
text only, never on the count, so approving one member rewrites the campaign's page and
the listings but no other member's page.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from config.catalogue import Catalogue
from moderation.models import AdditionsStatus
from publish import urls
from publish.urls import LANGUAGES, PAGE_SIZE, Language


class PageKind(StrEnum):
    ROOT = "root"  # the Albanian index at the site's root
    INDEX = "index"
    FRONT = "front"  # a commitment: counts, newest comments, its pages
    ARCHIVE = "archive"  # page N of a commitment's comments
    COMMENT = "comment"
    CAMPAIGN = "campaign"
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
    campaign_id: int | None = None  # as stored; shown as a campaign only from min_size
    # ``AdditionsStatus`` of the member's own sentences; None when it has none.
    additions_status: str | None = None


@dataclass(frozen=True, slots=True)
class Group:
    """A campaign as the loader sees it: its representative and how many members it has
    (every status: the size the grouping gave it, not how many are published)."""

    representative_id: int
    size: int


@dataclass(frozen=True, slots=True)
class CampaignPlan:
    """A campaign shown on the site: its published members and what its pages depend on."""

    id: int
    # The comment whose public text is the campaign's: the representative when it is
    # published, else the earliest published member with no sentences of its own, else
    # the earliest (its own sentences are then cut, ``own_cut``).
    text_id: int
    own_cut: bool
    members: tuple[int, ...]  # published, oldest first
    with_additions: tuple[int, ...]  # members whose own sentences are approved, oldest first
    labels: tuple[str, ...]  # the text's commitments: where the campaign is listed
    published_at: datetime  # its first member's: its place in the listings
    last_published: datetime
    # Changes when the campaign's text does: the members' pages depend on this alone.
    text_key: str
    # Changes with anything the campaign's block or page shows (the count included).
    fingerprint: str

    @property
    def count(self) -> int:
        return len(self.members)


Listed = Entry | CampaignPlan


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
    # The comments whose public view the page needs (a campaign's: its text's comment).
    members: tuple[int, ...] = ()
    has_newer: bool = False
    campaigns: tuple[int, ...] = ()  # the campaigns the page shows or belongs to
    # A listing's order: ("comment", id) or ("campaign", id), as shown.
    items: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class SitePlan:
    pages: dict[str, Page]
    # Per label: what its listings show (comments alone and campaigns) oldest first, and
    # its archive pages.
    by_label: dict[str, list[Listed]]
    archives: dict[str, list[ArchiveRange]]
    entries: dict[int, Entry] = field(default_factory=dict)
    last_published: datetime | None = None
    campaigns: dict[int, CampaignPlan] = field(default_factory=dict)
    # A member of a shown campaign -> the campaign.
    campaign_of: dict[int, int] = field(default_factory=dict)
    # Per label: its published comments (``count``), summed once for every page.
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return len(self.entries)

    def count(self, label_id: str) -> int:
        """Published comments listed under the label, a campaign's members included."""
        if label_id in self.counts:
            return self.counts[label_id]
        return sum(_size(item) for item in self.by_label.get(label_id, ()))

    def campaign_count(self, label_id: str | None = None) -> tuple[int, int]:
        """(campaigns, their comments) under the label, or on the whole site."""
        shown = (self.campaigns.values() if label_id is None else
                 [item for item in self.by_label.get(label_id, ())
                  if isinstance(item, CampaignPlan)])
        return len(shown), sum(campaign.count for campaign in shown)

    def unique_count(self, label_id: str | None = None) -> int:
        """Comments published alone (in no shown campaign), under the label or in all."""
        if label_id is None:
            return len(self.entries) - len(self.campaign_of)
        return sum(1 for item in self.by_label.get(label_id, ()) if isinstance(item, Entry))

    def keys(self) -> dict[str, str]:
        return {path: page.key for path, page in self.pages.items()}


def _key(*parts: object) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(repr(part).encode())
        digest.update(b"\x1f")
    return digest.hexdigest()[:32]


def _size(item: Listed) -> int:
    return item.count if isinstance(item, CampaignPlan) else 1


def _ref(item: Listed) -> tuple[str, int]:
    return ("campaign" if isinstance(item, CampaignPlan) else "comment", item.id)


def _fingerprints(items: Iterable[Listed]) -> list[tuple[str, int, str]]:
    return [(*_ref(item), item.fingerprint) for item in items]


def _needed(items: Iterable[Listed]) -> tuple[int, ...]:
    """The comments a listing of ``items`` renders: each comment, each campaign's text."""
    return tuple(item.text_id if isinstance(item, CampaignPlan) else item.id for item in items)


def _listing(kind: PageKind, key: str, language: Language, items: Sequence[Listed],
             label: str | None = None, number: int = 0, has_newer: bool = False) -> Page:
    """A page that lists ``items`` in the order given (newest first)."""
    return Page(kind, key, language, label, number, _needed(items), has_newer,
                campaigns=tuple(item.id for item in items if isinstance(item, CampaignPlan)),
                items=tuple(_ref(item) for item in items))


def _chunks(items: Sequence[Listed]) -> list[Sequence[Listed]]:
    return [items[start:start + PAGE_SIZE] for start in range(0, len(items), PAGE_SIZE)]


def plan_campaigns(entries: Sequence[Entry], groups: Mapping[int, Group],
                   min_size: int) -> dict[int, CampaignPlan]:
    """The campaigns the site shows, from the published entries (oldest first) and the
    groups they belong to: a group smaller than ``min_size`` is not one (its members are
    published as ordinary comments), nor is a group with no published member."""
    members: dict[int, list[Entry]] = defaultdict(list)
    for entry in entries:
        group = groups.get(entry.campaign_id) if entry.campaign_id is not None else None
        if group is not None and group.size >= min_size:
            members[entry.campaign_id or 0].append(entry)
    result = {}
    for campaign_id, published in members.items():
        group = groups[campaign_id]
        text = next((entry for entry in published if entry.id == group.representative_id),
                    None)
        if text is None:
            text = next((entry for entry in published if entry.additions_status is None),
                        published[0])
        own_cut = text.id != group.representative_id and text.additions_status is not None
        text_key = f"{text.id}:{text.fingerprint}:{own_cut}"
        approved = tuple(entry for entry in published
                         if entry.additions_status == AdditionsStatus.APPROVED)
        labels = text.labels
        fingerprint = _key("campaign", campaign_id, text_key, len(published), labels,
                           published[0].published_at, published[-1].published_at,
                           _fingerprints(approved))
        result[campaign_id] = CampaignPlan(
            id=campaign_id, text_id=text.id, own_cut=own_cut,
            members=tuple(entry.id for entry in published),
            with_additions=tuple(entry.id for entry in approved), labels=labels,
            published_at=published[0].published_at,
            last_published=published[-1].published_at, text_key=text_key,
            fingerprint=fingerprint)
    return result


def plan_site(catalogue: Catalogue, entries: Sequence[Entry], version: str,
              groups: Mapping[int, Group] | None = None, min_size: int = 3) -> SitePlan:
    """Every page of the site. ``entries`` in any order; ``version`` changes with the
    templates, the words and the settings that pages show; ``groups``: the campaigns the
    entries belong to (``Entry.campaign_id``), shown from ``min_size`` members."""
    ordered = sorted(entries, key=lambda entry: (entry.published_at, entry.id))
    campaigns = plan_campaigns(ordered, groups or {}, min_size)
    campaign_of = {member: campaign.id for campaign in campaigns.values()
                   for member in campaign.members}
    listed: list[Listed] = [entry for entry in ordered if entry.id not in campaign_of]
    listed += campaigns.values()
    listed.sort(key=lambda item: (item.published_at, _ref(item)[0] == "campaign", item.id))
    known = {label.id for label in catalogue.labels}
    by_label: dict[str, list[Listed]] = defaultdict(list)
    for item in listed:
        for label_id in item.labels:
            by_label[label_id if label_id in known else catalogue.general.id].append(item)
    last = ordered[-1].published_at if ordered else None
    counts = (tuple((label.id, sum(_size(item) for item in by_label.get(label.id, ())),
                     sum(isinstance(item, CampaignPlan) for item in by_label.get(label.id, ())))
                    for label in catalogue.labels),
              len(campaigns), len(campaign_of))  # the index's campaigns and unique comments
    pages: dict[str, Page] = {}
    archives: dict[str, list[ArchiveRange]] = {}

    pages[urls.ROOT_INDEX] = Page(PageKind.ROOT, _key(version, "root", counts, last), "sq")
    pages[urls.STYLESHEET] = Page(PageKind.ASSET, _key(version, "style"))
    pages[urls.SEARCH_SCRIPT] = Page(PageKind.ASSET, _key(version, "script"))
    newest = tuple(reversed(listed[-PAGE_SIZE:]))
    for language in LANGUAGES:
        pages[urls.index_page(language)] = Page(
            PageKind.INDEX, _key(version, "index", language, counts, last), language)
        pages[urls.search_page(language)] = Page(PageKind.SEARCH, _key(version, "search",
                                                                        language), language)
        pages[urls.data_page(language)] = Page(PageKind.DATA, _key(version, "data", language),
                                               language)
        pages[urls.feed(language)] = _listing(
            PageKind.FEED, _key(version, "feed", language, _fingerprints(newest)), language,
            newest)
        # The most numerous pages: a plain key, no hashing (the store compares keys as is).
        prefix = f"{version}|{language}|"
        for entry in ordered:
            key = f"{prefix}{entry.fingerprint}|{','.join(entry.labels)}"
            campaign = campaigns.get(campaign_of.get(entry.id, 0))
            if campaign is None:
                pages[urls.comment_page(language, entry.reference)] = Page(
                    PageKind.COMMENT, key, language, members=(entry.id,))
            else:
                # The campaign's text, never its count: one approval rewrites no other
                # member's page.
                pages[urls.comment_page(language, entry.reference)] = Page(
                    PageKind.COMMENT, f"{key}|c{campaign.id}:{campaign.text_key}", language,
                    members=(entry.id, campaign.text_id), campaigns=(campaign.id,))
        for campaign in campaigns.values():
            pages[urls.campaign_page(language, campaign.id)] = Page(
                PageKind.CAMPAIGN, _key(version, "campaign", language, campaign.fingerprint),
                language, members=(campaign.text_id,), campaigns=(campaign.id,))
    root_feed = pages[urls.feed("sq")]
    pages[urls.ROOT_FEED] = Page(PageKind.FEED, root_feed.key, "sq",
                                 members=root_feed.members, campaigns=root_feed.campaigns,
                                 items=root_feed.items)

    for label in catalogue.labels:
        items = by_label.get(label.id, [])
        chunks = _chunks(items)
        ranges = [ArchiveRange(number, chunk[0].published_at, chunk[-1].published_at,
                               sum(_size(item) for item in chunk))
                  for number, chunk in enumerate(chunks, start=1)]
        archives[label.id] = ranges
        latest = tuple(reversed(items[-PAGE_SIZE:]))
        counted = (sum(_size(item) for item in items),
                   sum(isinstance(item, CampaignPlan) for item in items), len(items))
        for language in LANGUAGES:
            pages[urls.commitment_page(language, label.id)] = _listing(
                PageKind.FRONT,
                _key(version, "front", language, label.id, counted, _fingerprints(latest),
                     [(r.number, r.first, r.last, r.size) for r in ranges]),
                language, latest, label.id)
            pages[urls.commitment_feed(language, label.id)] = _listing(
                PageKind.LABEL_FEED, _key(version, "label-feed", language, label.id,
                                          _fingerprints(latest)),
                language, latest, label.id)
            for number, chunk in enumerate(chunks, start=1):
                has_newer = number < len(chunks)
                shown = tuple(reversed(chunk))
                pages[urls.archive_page(language, label.id, number)] = _listing(
                    PageKind.ARCHIVE,
                    _key(version, "archive", language, label.id, number, has_newer,
                         _fingerprints(shown)),
                    language, shown, label.id, number, has_newer)
    return SitePlan(pages=pages, by_label=dict(by_label), archives=archives,
                    entries={entry.id: entry for entry in ordered}, last_published=last,
                    campaigns=campaigns, campaign_of=campaign_of,
                    counts={label_id: count for label_id, count, _ in counts[0]})
