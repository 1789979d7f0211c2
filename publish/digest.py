"""The secretariat's digest as a value: every figure with the comment ids behind it (pure).

Input is plain rows (``DigestRow``: one comment, its commitments, its response's
outcome) and the texts of the few comments that may be quoted; output is a
``Digest``. No database, no clock, no files: the adapter (``publish.digest_load``)
reads the rows, the renderers (``publish.digest_render``) write them out. A figure
is never a bare number: it is a ``Figure`` whose count is the length of its ids,
so a reader can always follow a number to the comments it counts.

Dates are calendar days in the consultation's time zone; weeks are ISO weeks
(Monday to Sunday) there.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo

from config.catalogue import GENERAL, Catalogue
from moderation.models import CommentStatus, InboundSource, RejectCode, ResponseOutcome
from publish.typical import most_typical, spread_sample

LANGUAGES = ("sq", "en", "mixed", "und")
CHANNELS = tuple(source.value for source in InboundSource)
STATUSES = tuple(status.value for status in CommentStatus)
REASONS = tuple(code.value for code in RejectCode)
OUTCOMES = tuple(outcome.value for outcome in ResponseOutcome)
# Decided by a moderator (a withdrawal is the citizen's, not a decision).
DECIDED = frozenset({CommentStatus.APPROVED, CommentStatus.PUBLISHED, CommentStatus.REJECTED})
# Comments that may be quoted: never a rejected or withdrawn one.
QUOTABLE_STAFF = frozenset({CommentStatus.PENDING, CommentStatus.APPROVED,
                            CommentStatus.PUBLISHED})
QUOTABLE_PUBLIC = frozenset({CommentStatus.PUBLISHED})
REPRESENTATIVES = 3
# The most typical comments of a large group are found among an even sample of it:
# the centroid of 400 comments is as good as that of 40,000, at a hundredth of the cost.
SAMPLE_PER_LABEL = 400


@dataclass(frozen=True)
class DigestRow:
    """One comment as the digest sees it; nothing personal."""

    id: int
    reference: str
    status: str
    language: str
    channel: str
    received_at: datetime  # aware; when the message reached us
    decided_at: datetime | None = None
    reject_code: str | None = None
    labels: tuple[str, ...] = ()  # commitment ids, best first; none means ``general``
    outcome: str | None = None  # the response's outcome, if the comment has one
    # The campaign it belongs to, when that group is shown as one (``campaign_min_size``).
    campaign: int | None = None

    @property
    def label_ids(self) -> tuple[str, ...]:
        return self.labels or (GENERAL,)


@dataclass(frozen=True)
class QuoteText:
    """What may be quoted of a comment: already cleaned by the adapter."""

    subject: str
    text: str


@dataclass(frozen=True)
class Figure:
    comment_ids: tuple[int, ...]

    @property
    def count(self) -> int:
        return len(self.comment_ids)

    @classmethod
    def of(cls, ids: Iterable[int]) -> Figure:
        return cls(tuple(sorted(set(ids))))


EMPTY = Figure(())


@dataclass(frozen=True)
class Week:
    label: str  # ISO week, "2020-W37"
    start: date  # its Monday
    figure: Figure
    by_status: Mapping[str, int]

    @property
    def end(self) -> date:
        return self.start + timedelta(days=6)


@dataclass(frozen=True)
class Coverage:
    """Published comments of a group, and which of them have a response, by outcome."""

    published: Figure
    responded: Figure
    by_outcome: Mapping[str, Figure]

    @property
    def share(self) -> float | None:
        return self.responded.count / self.published.count if self.published.count else None


@dataclass(frozen=True)
class Quote:
    id: int
    reference: str
    label: str
    subject: str
    excerpt: str
    similarity: float  # to its group's centre, 0..1


@dataclass(frozen=True)
class Period:
    """Inclusive calendar days in ``zone``; ``None`` is open-ended."""

    since: date | None
    until: date | None
    zone: tzinfo

    def bounds(self) -> tuple[datetime | None, datetime | None]:
        """The instants [start, end) the days cover (midnight to midnight, local)."""
        start = (datetime.combine(self.since, datetime.min.time(), self.zone)
                 if self.since else None)
        end = (datetime.combine(self.until + timedelta(days=1), datetime.min.time(), self.zone)
               if self.until else None)
        return start, end

    def local_day(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()


@dataclass(frozen=True)
class Digest:
    period: Period
    public: bool
    generated_at: datetime
    received: Figure
    by_status: Mapping[str, Figure]
    by_commitment: Mapping[str, Figure]  # every label of the catalogue, in its order
    by_component: Mapping[str, Figure]
    by_language: Mapping[str, Figure]
    by_channel: Mapping[str, Figure]
    weeks: tuple[Week, ...]
    rejected_by_reason: Mapping[str, Figure]
    response_coverage: Mapping[str, Coverage]  # per label
    coverage_overall: Coverage
    decided: Figure  # the comments behind the median
    median_hours_to_decision: float | None
    representative: Mapping[str, tuple[Quote, ...]]
    references: Mapping[int, str] = field(default_factory=dict)
    # The label a comment is counted under first: its page on the public site.
    primary_label: Mapping[int, str] = field(default_factory=dict)
    # Campaigns and the comments sent alone, counted apart: a campaign of 500 letters is
    # one campaign of 500 comments, not 500 opinions.
    campaigns: Mapping[int, Figure] = field(default_factory=dict)
    unique: Figure = EMPTY

    @property
    def campaign_comments(self) -> int:
        return sum(figure.count for figure in self.campaigns.values())

    def status(self, name: str) -> Figure:
        return self.by_status.get(name, EMPTY)


# ---------------------------------------------------------------- steps


def in_period(rows: Iterable[DigestRow], period: Period) -> list[DigestRow]:
    start, end = period.bounds()
    return [row for row in rows
            if (start is None or row.received_at >= start)
            and (end is None or row.received_at < end)]


def iso_week(day: date) -> tuple[str, date]:
    year, week, weekday = day.isocalendar()
    return f"{year}-W{week:02d}", day - timedelta(days=weekday - 1)


def week_starts(first: date, last: date) -> list[date]:
    """Every Monday from the week of ``first`` to the week of ``last``."""
    start = iso_week(first)[1]
    return [start + timedelta(weeks=n) for n in range((iso_week(last)[1] - start).days // 7 + 1)]


def quote_candidates(rows: Sequence[DigestRow], public: bool,
                     per_label: int = SAMPLE_PER_LABEL) -> dict[str, list[int]]:
    """Per label, the comments among which its representatives are chosen (an even sample)."""
    quotable = QUOTABLE_PUBLIC if public else QUOTABLE_STAFF
    # A campaign is quoted at most once, by its first member (the representative, as a
    # rule): its letters would otherwise crowd out every other voice, and a member's whole
    # text may hold sentences of its own no moderator has approved for publication.
    first: dict[int, int] = {}
    for row in rows:
        if row.campaign is not None and row.status in quotable:
            first[row.campaign] = min(first.get(row.campaign, row.id), row.id)
    groups: dict[str, list[int]] = defaultdict(list)
    for row in rows:
        if row.campaign is not None and first.get(row.campaign) != row.id:
            continue
        if row.status in quotable:
            for label in row.label_ids:
                groups[label].append(row.id)
    return {label: spread_sample(sorted(ids), per_label) for label, ids in groups.items()}


def _by(rows: Iterable[DigestRow], key: str, known: Sequence[str]) -> dict[str, Figure]:
    groups: dict[str, list[int]] = {name: [] for name in known}
    for row in rows:
        groups.setdefault(str(getattr(row, key)), []).append(row.id)
    return {name: Figure.of(ids) for name, ids in groups.items()}


def _coverage(rows: Iterable[DigestRow]) -> Coverage:
    published = [row for row in rows if row.status == CommentStatus.PUBLISHED]
    outcomes: dict[str, list[int]] = {name: [] for name in OUTCOMES}
    for row in published:
        if row.outcome is not None:
            outcomes.setdefault(row.outcome, []).append(row.id)
    return Coverage(
        published=Figure.of(row.id for row in published),
        responded=Figure.of(row.id for row in published if row.outcome is not None),
        by_outcome={name: Figure.of(ids) for name, ids in outcomes.items()},
    )


def _weeks(rows: Sequence[DigestRow], period: Period) -> tuple[Week, ...]:
    days = [period.local_day(row.received_at) for row in rows]
    first = period.since or (min(days) if days else None)
    last = period.until or (max(days) if days else None)
    if first is None or last is None or first > last:
        return ()
    ids: dict[date, list[int]] = {start: [] for start in week_starts(first, last)}
    statuses: dict[date, dict[str, int]] = {start: dict.fromkeys(STATUSES, 0) for start in ids}
    for row, day in zip(rows, days, strict=True):
        start = iso_week(day)[1]
        ids[start].append(row.id)
        statuses[start][row.status] = statuses[start].get(row.status, 0) + 1
    return tuple(Week(iso_week(start)[0], start, Figure.of(ids[start]), statuses[start])
                 for start in sorted(ids))


def decision_hours(rows: Iterable[DigestRow]) -> list[float]:
    """Hours from receipt to decision of each decided comment."""
    return [((row.decided_at - row.received_at).total_seconds() / 3600)
            for row in rows if row.status in DECIDED and row.decided_at is not None]


def median_hours(hours: Sequence[float]) -> float | None:
    return round(statistics.median(hours), 2) if hours else None


def _median_hours(rows: Iterable[DigestRow]) -> tuple[Figure, float | None]:
    decided = [row for row in rows if row.status in DECIDED and row.decided_at is not None]
    return Figure.of(row.id for row in decided), median_hours(decision_hours(decided))


def excerpt(text: str, limit: int = 280) -> str:
    """The start of a text, on one line, cut at a word."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(",.;:") + " …"


def build_digest(
    rows: Sequence[DigestRow],
    texts: Mapping[int, QuoteText],
    catalogue: Catalogue,
    period: Period,
    generated_at: datetime,
    public: bool = False,
    representatives: int = REPRESENTATIVES,
) -> Digest:
    """Every figure of the digest of ``rows`` received in ``period``.

    ``texts``: the quotable text of the comments ``quote_candidates`` named (others
    are ignored); ``public``: only published comments count, and only they are quoted.
    """
    rows = sorted(in_period(rows, period), key=lambda row: row.id)
    if public:
        rows = [row for row in rows if row.status == CommentStatus.PUBLISHED]

    label_ids = [label.id for label in catalogue.labels]
    by_label: dict[str, list[DigestRow]] = {label: [] for label in label_ids}
    for row in rows:
        for label in row.label_ids:
            by_label.setdefault(label, []).append(row)
    component_of = {c: comp.id for comp in catalogue.components for c in comp.commitment_ids}
    by_component: dict[str, set[int]] = {comp.id: set() for comp in catalogue.components}
    for row in rows:
        for label in row.label_ids:
            if label in component_of:
                by_component[component_of[label]].add(row.id)

    rejected = [row for row in rows if row.status == CommentStatus.REJECTED]
    reasons: dict[str, list[int]] = {code: [] for code in REASONS}
    for row in rejected:
        # An unknown or missing code reads as "other", as in the citizen's notice.
        code = row.reject_code if row.reject_code in reasons else RejectCode.OTHER.value
        reasons[code].append(row.id)

    decided, median = _median_hours(rows)
    candidates = quote_candidates(rows, public)
    subjects = {row.id: row for row in rows}
    chosen = most_typical(
        {label: [(i, texts[i].text) for i in ids if i in texts and texts[i].text.strip()]
         for label, ids in candidates.items()},
        representatives,
    )
    quotes = {
        label: tuple(
            Quote(id=i, reference=subjects[i].reference, label=label,
                  subject=texts[i].subject, excerpt=excerpt(texts[i].text), similarity=score)
            for i, score in picks)
        for label, picks in chosen.items()
    }

    return Digest(
        period=period,
        public=public,
        generated_at=generated_at,
        received=Figure.of(row.id for row in rows),
        by_status=_by(rows, "status", STATUSES),
        by_commitment={label: Figure.of(row.id for row in items)
                       for label, items in by_label.items()},
        by_component={comp: Figure.of(ids) for comp, ids in by_component.items()},
        by_language=_by(rows, "language", LANGUAGES),
        by_channel=_by(rows, "channel", CHANNELS),
        weeks=_weeks(rows, period),
        rejected_by_reason={code: Figure.of(ids) for code, ids in reasons.items()},
        response_coverage={label: _coverage(items) for label, items in by_label.items()},
        coverage_overall=_coverage(rows),
        decided=decided,
        median_hours_to_decision=median,
        representative={label: quotes.get(label, ()) for label in by_label},
        references={row.id: row.reference for row in rows},
        primary_label={row.id: row.label_ids[0] for row in rows},
        campaigns=_campaigns(rows),
        unique=Figure.of(row.id for row in rows if row.campaign is None),
    )


def _campaigns(rows: Iterable[DigestRow]) -> dict[int, Figure]:
    members: dict[int, list[int]] = defaultdict(list)
    for row in rows:
        if row.campaign is not None:
            members[row.campaign].append(row.id)
    return {campaign: Figure.of(ids) for campaign, ids in sorted(members.items())}


def split_by_week(rows: Sequence[DigestRow], zone: tzinfo) -> dict[date, list[DigestRow]]:
    """Rows grouped by the Monday of their week of receipt (for the weekly public digests)."""
    weeks: dict[date, list[DigestRow]] = defaultdict(list)
    for row in rows:
        weeks[iso_week(row.received_at.astimezone(zone).date())[1]].append(row)
    return dict(sorted(weeks.items()))


@dataclass(frozen=True)
class Statistics:
    """The consultation's public figures: counts only, no comment behind a rejection named.

    Response coverage keeps its ids: it counts published comments only.
    """

    received: int
    by_status: Mapping[str, int]
    rejected_by_reason: Mapping[str, int]
    decisions: int
    median_hours_to_decision: float | None
    response_coverage: Mapping[str, Coverage]
    coverage_overall: Coverage
    # Per campaign (its id as text, as JSON keeps it): its comments received, and published.
    campaigns: Mapping[str, int] = field(default_factory=dict)
    campaigns_published: Mapping[str, int] = field(default_factory=dict)

    @property
    def campaign_comments(self) -> tuple[int, int]:
        """Comments in campaigns: received, published."""
        return sum(self.campaigns.values()), sum(self.campaigns_published.values())

    @property
    def unique(self) -> tuple[int, int]:
        """Comments sent alone (in no campaign): received, published."""
        received, published = self.campaign_comments
        return (self.received - received,
                self.by_status.get(CommentStatus.PUBLISHED, 0) - published)


def statistics_of(digest: Digest) -> Statistics:
    """The public figures of a staff digest (all statuses) of the whole consultation."""
    return Statistics(
        received=digest.received.count,
        by_status={name: figure.count for name, figure in digest.by_status.items()},
        rejected_by_reason={code: figure.count
                            for code, figure in digest.rejected_by_reason.items()},
        decisions=digest.decided.count,
        median_hours_to_decision=digest.median_hours_to_decision,
        response_coverage=digest.response_coverage,
        coverage_overall=digest.coverage_overall,
        campaigns={str(c): figure.count for c, figure in digest.campaigns.items()},
        campaigns_published=_published_members(digest),
    )


def _published_members(digest: Digest) -> dict[str, int]:
    published = set(digest.status(CommentStatus.PUBLISHED).comment_ids)
    counts = {str(campaign): sum(1 for i in figure.comment_ids if i in published)
              for campaign, figure in digest.campaigns.items()}
    return {campaign: count for campaign, count in counts.items() if count}


def _merged_counts(parts: Iterable[Mapping[str, int]]) -> dict[str, int]:
    total: dict[str, int] = {}
    for part in parts:
        for name, count in part.items():
            total[name] = total.get(name, 0) + count
    return total


def _merged_figures(parts: Iterable[Figure]) -> Figure:
    return Figure.of(i for part in parts for i in part.comment_ids)


def _merged_coverage(parts: Sequence[Coverage]) -> Coverage:
    outcomes: dict[str, list[Figure]] = {}
    for part in parts:
        for name, figure in part.by_outcome.items():
            outcomes.setdefault(name, []).append(figure)
    return Coverage(published=_merged_figures(part.published for part in parts),
                    responded=_merged_figures(part.responded for part in parts),
                    by_outcome={name: _merged_figures(f) for name, f in outcomes.items()})


def merge_statistics(parts: Sequence[tuple[Statistics, Sequence[float]]],
                     catalogue: Catalogue) -> Statistics:
    """The statistics of disjoint sets of comments (weeks), from each one's statistics and
    decision hours: the same figures as ``statistics_of`` the digest of them all."""
    nothing = Coverage(EMPTY, EMPTY, dict.fromkeys(OUTCOMES, EMPTY))
    labels: dict[str, list[Coverage]] = {label.id: [nothing] for label in catalogue.labels}
    for stats, _hours in parts:
        for label, coverage in stats.response_coverage.items():
            labels.setdefault(label, []).append(coverage)
    hours = [h for _stats, part_hours in parts for h in part_hours]
    return Statistics(
        received=sum(stats.received for stats, _ in parts),
        by_status=_merged_counts([dict.fromkeys(STATUSES, 0),
                                  *(stats.by_status for stats, _ in parts)]),
        rejected_by_reason=_merged_counts([dict.fromkeys(REASONS, 0),
                                           *(stats.rejected_by_reason for stats, _ in parts)]),
        decisions=len(hours),
        median_hours_to_decision=median_hours(hours),
        response_coverage={label: _merged_coverage(items) for label, items in labels.items()},
        coverage_overall=_merged_coverage([nothing,
                                           *(stats.coverage_overall for stats, _ in parts)]),
        campaigns=_merged_counts(stats.campaigns for stats, _ in parts),
        campaigns_published=_merged_counts(stats.campaigns_published for stats, _ in parts),
    )
