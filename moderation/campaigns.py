"""Campaigns in the database: grouping as comments arrive, rebuilding every group, and the
moderators' actions on a campaign (approve or reject it at once, look at a member's own
additions, split a member out, merge two campaigns), each audited.

The similarity rule is ``intake.campaigns`` (pure); this module feeds it the published
text of each comment (personal data redacted, so a signature's name or phone number does
not make two letters look different) and keeps the LSH bands in ``campaign_band``: a new
comment meets the campaigns it may belong to through the rows that share its bands, and a
campaign keeps one row per distinct band, so a campaign of thousands costs a handful of
rows to look up.
"""

from __future__ import annotations

from collections import Counter, OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Engine, bindparam, text, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, delete, select

from intake.campaigns import (
    DEFAULT_THRESHOLD,
    Candidate,
    Fingerprint,
    Grouper,
    additions,
    best_match,
    fingerprint,
    strongest,
)
from moderation.db import session_scope
from moderation.models import (
    AdditionsStatus,
    Campaign,
    CampaignBand,
    Comment,
    CommentStatus,
    ModerationEvent,
    Redaction,
    RejectCode,
    utcnow,
)
from moderation.redaction import (
    RedactionField,
    active_ranges,
    active_redactions,
    apply,
    body_field,
    body_of,
)
from moderation.transitions import (
    Action,
    NoticePolicy,
    TransitionError,
    approve,
    reject,
)

# Any constant both databases agree on: PostgreSQL serialises grouping on it, so two
# workers never found two campaigns for one letter. (SQLite writes one at a time anyway.)
_ADVISORY_LOCK = 0x0C4A_9A16
_IN_CHUNK = 500


class CampaignError(TransitionError):
    """A campaign action that cannot be done; the message is shown to the user as is."""


@dataclass(frozen=True)
class CampaignSummary:
    id: int
    size: int
    representative_comment_id: int
    member_comment_ids: list[int]
    statuses: dict[str, int] = field(default_factory=dict)
    additions_pending: int = 0


@dataclass(frozen=True)
class CampaignDecision:
    campaign_id: int
    decided: list[int]
    # Members left as they were, and why (already decided, held by another moderator).
    skipped: dict[int, str]


@dataclass(frozen=True)
class RecomputeReport:
    comments: int
    campaigns: int  # groups of two or more
    grouped: int  # comments in them
    shown: int  # campaigns at or above the minimum size


def published_body(comment: Comment, ranges: Sequence[tuple[int, int]]) -> str:
    return apply(body_of(comment), ranges)


def _bodies(session: Session, comments: Sequence[Comment]) -> dict[int, str]:
    redactions = active_redactions(session, [c.id for c in comments if c.id is not None])
    return {comment.id or 0: published_body(comment, active_ranges(
        redactions.get(comment.id or 0, []), body_field(comment))) for comment in comments}


def _comments(session: Session, ids: Iterable[int]) -> dict[int, Comment]:
    wanted = sorted(set(ids))
    found: dict[int, Comment] = {}
    for start in range(0, len(wanted), _IN_CHUNK):
        chunk = wanted[start:start + _IN_CHUNK]
        for comment in session.exec(select(Comment).where(col(Comment.id).in_(chunk))).all():
            found[comment.id or 0] = comment
    return found


def _lock(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_LOCK})


def _set_additions(comment: Comment, common: str, own_text: str) -> None:
    """The member's own sentences; a moderator's earlier word stands while they are the same."""
    found = additions(common, own_text)
    if found == comment.additions and comment.additions_status is not None:
        return
    comment.additions = found
    comment.additions_status = AdditionsStatus.PENDING if found else None


def assign(session: Session, comment: Comment, threshold: float = DEFAULT_THRESHOLD,
           redactions: Sequence[Redaction] | None = None) -> int | None:
    """Group one new comment: its campaign's id, or None.

    ``redactions``: the comment's active ones, when the caller has them (saves a query).
    Idempotent: a comment already in a campaign, split out by a moderator, or too short to
    compare is left as it is.
    """
    if comment.id is None or comment.campaign_id is not None or comment.campaign_split:
        return comment.campaign_id
    _lock(session)
    known = {comment.id: list(redactions)} if redactions is not None else None
    return _Grouping(session, threshold).group([comment], known).get(comment.id)


def group_new(session: Session, inbound_ids: Sequence[int],
              threshold: float = DEFAULT_THRESHOLD) -> dict[int, int | None]:
    """Group the comments of these inbound messages that are not grouped yet, oldest first,
    in one transaction (one lock for the lot): comment id -> campaign id or None.

    Run after the transaction that stored them, so the lock that keeps two workers from
    founding two campaigns for one letter is held for this short step only. Safe to
    repeat: a comment with band rows, in a campaign or split out is left as it is.
    """
    comments = list(session.exec(
        select(Comment).where(col(Comment.inbound_id).in_(list(inbound_ids)),
                              col(Comment.campaign_id).is_(None),
                              col(Comment.campaign_split).is_(False),
                              col(Comment.erased).is_(False))
        .order_by(col(Comment.id))).all())
    if not comments:
        return {}
    _lock(session)
    ids = [c.id or 0 for c in comments]
    banded = set(session.exec(select(CampaignBand.comment_id).where(
        col(CampaignBand.comment_id).in_(ids))).all())
    return _Grouping(session, threshold).group(
        [comment for comment in comments if comment.id not in banded])


# (database, comment id, version) -> its published text and fingerprint. The members of
# one letter keep meeting the same few candidates, batch after batch; a comment's version
# changes with every edit of what is published, so an entry is never stale.
_SEEN: OrderedDict[tuple[str, int, int], tuple[str, Fingerprint]] = OrderedDict()
_SEEN_MAX = 20_000


class _Grouping:
    """One transaction's grouping, under the lock: a batch of new comments decided in
    memory, against the database's band rows read once, with ``Grouper``'s rule (new
    comments of the batch meet each other too), then written in a few statements."""

    def __init__(self, session: Session, threshold: float) -> None:
        self.session = session
        self.threshold = threshold
        self.database = str(session.get_bind().engine.url)
        self.texts: dict[int, str] = {}
        self.prints: dict[int, Fingerprint] = {}

    def _remember(self, comment_id: int, version: int, text: str) -> None:
        self.texts[comment_id] = text
        self.prints[comment_id] = fingerprint(text)
        _SEEN[(self.database, comment_id, version)] = (text, self.prints[comment_id])
        while len(_SEEN) > _SEEN_MAX:
            _SEEN.popitem(last=False)

    def _load(self, versions: dict[int, int]) -> None:
        """The texts of these comments (id -> version), from the cache or the database."""
        missing = []
        for comment_id, version in versions.items():
            if comment_id in self.texts:
                continue
            seen = _SEEN.get((self.database, comment_id, version))
            if seen is None:
                missing.append(comment_id)
            else:
                self.texts[comment_id], self.prints[comment_id] = seen
        if not missing:
            return
        # The four columns the published body needs, not whole rows with their HTML.
        redactions = active_redactions(self.session, missing)
        for start in range(0, len(missing), _IN_CHUNK):
            for comment_id, version, original, edited in self.session.execute(
                sa_select(col(Comment.id), col(Comment.version), col(Comment.text),
                          col(Comment.edited_text))
                .where(col(Comment.id).in_(missing[start:start + _IN_CHUNK]))
            ).all():
                field = RedactionField.TEXT if edited is None else RedactionField.EDITED
                body = original if edited is None else edited
                self._remember(comment_id, version, apply(
                    body, active_ranges(redactions.get(comment_id, []), field)))

    def _stored_bands(self, keys: set[int], new: set[int]
                      ) -> tuple[dict[int, list[int]], dict[int, int | None], dict[int, int]]:
        """key -> earlier comments holding it; their campaigns; their versions."""
        index: dict[int, list[int]] = defaultdict(list)
        group_of: dict[int, int | None] = {}
        versions: dict[int, int] = {}
        ordered = sorted(keys)
        for start in range(0, len(ordered), _IN_CHUNK):
            for key, other, group, version in self.session.execute(
                sa_select(col(CampaignBand.key), col(CampaignBand.comment_id),
                          col(Comment.campaign_id), col(Comment.version))
                .join(Comment, col(Comment.id) == col(CampaignBand.comment_id))
                .where(col(CampaignBand.key).in_(ordered[start:start + _IN_CHUNK]),
                       col(Comment.campaign_split).is_(False), col(Comment.erased).is_(False))
            ).all():
                if other in new:
                    continue
                index[key].append(other)
                group_of[other] = group
                versions[other] = version
        return index, group_of, versions

    def group(self, comments: Sequence[Comment],
              redactions: dict[int, list[Redaction]] | None = None) -> dict[int, int | None]:
        if not comments:
            return {}
        ids = [c.id or 0 for c in comments]
        known = redactions if redactions is not None else active_redactions(self.session, ids)
        for comment in comments:
            self._remember(comment.id or 0, comment.version, published_body(
                comment, active_ranges(known.get(comment.id or 0, []), body_field(comment))))
        result: dict[int, int | None] = dict.fromkeys(ids)
        groupable = [c for c in comments if self.prints[c.id or 0].groupable]
        if not groupable:
            return result
        index, group_of, versions = self._stored_bands(
            {key for c in groupable for key in self.prints[c.id or 0].bands}, set(ids))
        # Every stored candidate any new comment may meet, loaded at once.
        self._load({other: versions[other] for c in groupable
                    for other in strongest(self._shared(index, c.id or 0))})
        founders: dict[int, int] = {}  # new campaign (negative, until written) -> founder
        band_rows: list[dict[str, int]] = []
        for comment in groupable:
            comment_id = comment.id or 0
            shared = self._shared(index, comment_id)
            nearest = strongest(shared)
            self._load({o: versions[o] for o in nearest if o not in self.texts and o in versions})
            match = best_match(self.prints[comment_id], [
                Candidate(other, group_of.get(other), self.prints[other], shared[other])
                for other in nearest if other in self.prints], self.threshold)
            group = None
            if match is not None:
                group = match.candidate.group
                if group is None:
                    group = -1 - len(founders)
                    founders[group] = match.candidate.key
                    group_of[match.candidate.key] = group
            group_of[comment_id] = group
            for key in dict.fromkeys(self.prints[comment_id].bands):
                holders = index[key]
                if group is not None and any(group_of.get(h) == group for h in holders):
                    continue
                holders.append(comment_id)
                band_rows.append({"key": key, "comment_id": comment_id})
        self._write(comments, group_of, founders, band_rows, result)
        return result

    def _shared(self, index: dict[int, list[int]], comment_id: int) -> dict[int, int]:
        shared: Counter[int] = Counter()
        for key in self.prints[comment_id].bands:
            for other in index.get(key, ()):
                if other != comment_id:
                    shared[other] += 1
        return dict(shared)

    def _write(self, comments: Sequence[Comment], group_of: dict[int, int | None],
               founders: dict[int, int], band_rows: list[dict[str, int]],
               result: dict[int, int | None]) -> None:
        session = self.session
        now = utcnow()
        real: dict[int, int] = {}
        for temporary, founder in founders.items():
            campaign = Campaign(representative_comment_id=founder, size=0, created_at=now,
                                updated_at=now)
            session.add(campaign)
            session.flush()
            real[temporary] = campaign.id or 0
        joined: Counter[int] = Counter()
        for temporary, founder in founders.items():
            stored = session.get(Comment, founder)
            if stored is not None:
                stored.campaign_id = real[temporary]
                session.add(stored)
                joined[real[temporary]] += 1
        campaigns = {c.id: c for c in session.exec(select(Campaign).where(col(Campaign.id).in_(
            sorted({real.get(g, g) for g in group_of.values() if g is not None})))).all()}
        representatives = {c.representative_comment_id for c in campaigns.values()}
        unknown = sorted(r for r in representatives if r not in self.texts)
        if unknown:
            self._load(dict(session.execute(sa_select(col(Comment.id), col(Comment.version))
                                            .where(col(Comment.id).in_(unknown))).tuples().all()))
        for comment in comments:
            comment_id = comment.id or 0
            group = group_of.get(comment_id)
            if group is None or comment_id in founders.values():
                continue
            campaign = campaigns[real.get(group, group)]
            comment.campaign_id = campaign.id
            _set_additions(comment, self.texts.get(campaign.representative_comment_id, ""),
                           self.texts[comment_id])
            session.add(comment)
            joined[campaign.id or 0] += 1
            result[comment_id] = campaign.id
        for temporary, founder in founders.items():
            if founder in result:
                result[founder] = real[temporary]
        for campaign_id, count in joined.items():
            campaign = campaigns[campaign_id]
            campaign.size += count
            campaign.updated_at = now
            session.add(campaign)
        if band_rows:  # one INSERT, not the unit of work: these rows are never read as objects
            table = CampaignBand.__table__  # type: ignore[attr-defined]
            for start in range(0, len(band_rows), _IN_CHUNK):
                session.execute(table.insert().values(band_rows[start:start + _IN_CHUNK]))


# Reading ----------------------------------------------------------------------------------

def _summaries(session: Session, campaigns: Sequence[Campaign]) -> list[CampaignSummary]:
    ids = [c.id for c in campaigns if c.id is not None]
    members: dict[int, list[int]] = defaultdict(list)
    statuses: dict[int, Counter[str]] = defaultdict(Counter)
    pending: Counter[int] = Counter()
    for start in range(0, len(ids), _IN_CHUNK):
        for comment_id, campaign_id, status, additions_status in session.execute(
            sa_select(col(Comment.id), col(Comment.campaign_id), col(Comment.status),
                      col(Comment.additions_status))
            .where(col(Comment.campaign_id).in_(ids[start:start + _IN_CHUNK]))
            .order_by(col(Comment.id))
        ).all():
            members[campaign_id].append(comment_id)
            statuses[campaign_id][status] += 1
            if additions_status == AdditionsStatus.PENDING:
                pending[campaign_id] += 1
    return [CampaignSummary(id=c.id or 0, size=c.size,
                            representative_comment_id=c.representative_comment_id,
                            member_comment_ids=members[c.id or 0],
                            statuses=dict(statuses[c.id or 0]),
                            additions_pending=pending[c.id or 0]) for c in campaigns]


def list_campaigns(session: Session, min_size: int) -> list[CampaignSummary]:
    """Campaigns large enough to be shown as such, largest first."""
    campaigns = session.exec(select(Campaign).where(col(Campaign.size) >= min_size)
                             .order_by(col(Campaign.size).desc(), col(Campaign.id))).all()
    return _summaries(session, campaigns)


def get_campaign(session: Session, campaign_id: int) -> CampaignSummary:
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise CampaignError(f"no campaign with id {campaign_id}")
    return _summaries(session, [campaign])[0]


def shown_campaign_ids(session: Session, comment_ids: Iterable[int],
                       min_size: int) -> dict[int, int | None]:
    """Each comment's campaign when that campaign is large enough to be shown, else None."""
    wanted = sorted(set(comment_ids))
    result: dict[int, int | None] = dict.fromkeys(wanted)
    for start in range(0, len(wanted), _IN_CHUNK):
        for comment_id, campaign_id in session.execute(
            sa_select(col(Comment.id), col(Comment.campaign_id))
            .join(Campaign, col(Campaign.id) == col(Comment.campaign_id))
            .where(col(Comment.id).in_(wanted[start:start + _IN_CHUNK]),
                   col(Campaign.size) >= min_size)
        ).all():
            result[comment_id] = campaign_id
    return result


# Moderation -------------------------------------------------------------------------------

def _event(session: Session, actor: str, action: Action, comment: Comment | None,
           detail: str, reason: str | None = None) -> None:
    session.add(ModerationEvent(
        comment_id=comment.id if comment else None,
        inbound_id=comment.inbound_id if comment else None, actor=actor, action=action.value,
        from_status=comment.status if comment else None,
        to_status=comment.status if comment else None, reason=reason,
        version=comment.version if comment else None, detail=detail))


def _decide_all(session: Session, campaign_id: int, actor: str,
                decide: Callable[[int], object], action: Action,
                reason: str | None = None) -> CampaignDecision:
    campaign = session.get(Campaign, campaign_id, with_for_update=True)
    if campaign is None:
        raise CampaignError(f"no campaign with id {campaign_id}")
    decided: list[int] = []
    skipped: dict[int, str] = {}
    members = session.exec(select(Comment).where(col(Comment.campaign_id) == campaign_id)
                           .order_by(col(Comment.id))).all()
    for member in members:
        member_id = member.id or 0
        if member.status != CommentStatus.PENDING:
            skipped[member_id] = f"already {member.status}"
            continue
        try:
            with session.begin_nested():
                decide(member_id)
        except TransitionError as error:
            skipped[member_id] = str(error)
            continue
        decided.append(member_id)
    representative = session.get(Comment, campaign.representative_comment_id)
    _event(session, actor, action, representative,
           f"campaign {campaign_id}: {len(decided)} of {len(members)} members", reason)
    return CampaignDecision(campaign_id, decided, skipped)


def approve_campaign(session: Session, campaign_id: int, actor: str) -> CampaignDecision:
    """Approve every undecided member for the campaign's text; members' own additions
    keep waiting for a moderator's look (``decide_additions``)."""
    return _decide_all(session, campaign_id, actor,
                       lambda member_id: approve(session, member_id, actor),
                       Action.CAMPAIGN_APPROVE)


def reject_campaign(session: Session, campaign_id: int, actor: str,
                    code: RejectCode = RejectCode.OTHER, reason: str = "",
                    notices: NoticePolicy | None = None) -> CampaignDecision:
    return _decide_all(session, campaign_id, actor,
                       lambda member_id: reject(session, member_id, actor, reason, code,
                                                notices=notices),
                       Action.CAMPAIGN_REJECT, reason or code.value)


def _member(session: Session, comment_id: int) -> Comment:
    comment = session.get(Comment, comment_id, with_for_update=True)
    if comment is None:
        raise CampaignError(f"no comment with id {comment_id}")
    if comment.campaign_id is None:
        raise CampaignError(f"comment {comment_id} is not in a campaign")
    return comment


def _touch(comment: Comment) -> None:
    comment.updated_at = utcnow()
    comment.version += 1


def decide_additions(session: Session, comment_id: int, actor: str, approved: bool,
                     reason: str = "") -> Comment:
    """A moderator's word on what a member added: approved additions are published under
    the campaign, rejected ones never are (the common text still is)."""
    comment = _member(session, comment_id)
    if not comment.additions:
        raise CampaignError(f"comment {comment_id} adds nothing to its campaign's text")
    comment.additions_status = AdditionsStatus.APPROVED if approved else AdditionsStatus.REJECTED
    _touch(comment)
    session.add(comment)
    _event(session, actor, Action.ADDITIONS_APPROVE if approved else Action.ADDITIONS_REJECT,
           comment, f"campaign {comment.campaign_id}", reason or None)
    return comment


def _members(session: Session, campaign_id: int) -> list[Comment]:
    return list(session.exec(select(Comment).where(col(Comment.campaign_id) == campaign_id)
                             .order_by(col(Comment.id))).all())


def _refresh_additions(session: Session, campaign: Campaign, members: Sequence[Comment]) -> None:
    texts = _bodies(session, members)
    common = texts.get(campaign.representative_comment_id)
    if common is None:
        rep = _comments(session, [campaign.representative_comment_id]).values()
        common = _bodies(session, list(rep)).get(campaign.representative_comment_id, "")
    for member in members:
        before = (member.additions, member.additions_status)
        _set_additions(member, common, texts[member.id or 0])
        if (member.additions, member.additions_status) != before:
            _touch(member)
            session.add(member)


def split_member(session: Session, comment_id: int, actor: str, reason: str = "") -> Comment:
    """Take a comment out of its campaign for good: it is then moderated and published alone."""
    comment = _member(session, comment_id)
    campaign = session.get(Campaign, comment.campaign_id, with_for_update=True)
    assert campaign is not None
    comment.campaign_id = None
    comment.campaign_split = True
    comment.additions = ""
    comment.additions_status = None
    _touch(comment)
    session.add(comment)
    _event(session, actor, Action.CAMPAIGN_SPLIT, comment, f"campaign {campaign.id}",
           reason or None)
    rest = _members(session, campaign.id or 0)
    if len(rest) < 2:
        for member in rest:
            member.campaign_id = None
            member.additions = ""
            member.additions_status = None
            _touch(member)
            session.add(member)
        session.flush()
        session.delete(campaign)
        return comment
    campaign.size = len(rest)
    campaign.updated_at = utcnow()
    if campaign.representative_comment_id == comment_id:
        campaign.representative_comment_id = rest[0].id or 0
        _refresh_additions(session, campaign, rest)
    session.add(campaign)
    return comment


def merge_campaigns(session: Session, into_id: int, from_id: int, actor: str) -> Campaign:
    """Move every member of ``from_id`` into ``into_id``; the emptied campaign is removed."""
    if into_id == from_id:
        raise CampaignError("a campaign cannot be merged into itself")
    into = session.get(Campaign, into_id, with_for_update=True)
    other = session.get(Campaign, from_id, with_for_update=True)
    if into is None or other is None:
        raise CampaignError(f"no campaign with id {into_id if into is None else from_id}")
    moved = _members(session, from_id)
    for member in moved:
        member.campaign_id = into_id
        _touch(member)
        session.add(member)
    into.size += len(moved)
    into.updated_at = utcnow()
    session.add(into)
    session.flush()
    session.delete(other)
    _refresh_additions(session, into, moved)
    representative = session.get(Comment, into.representative_comment_id)
    _event(session, actor, Action.CAMPAIGN_MERGE, representative,
           f"campaign {from_id} ({len(moved)} members) merged into campaign {into_id}")
    return into


# Rebuilding -------------------------------------------------------------------------------

def _representative(members: Sequence[int], fingerprints: dict[int, Fingerprint]) -> int:
    """The member nearest the campaign's common text: most of the word triples most members
    share, fewest of its own; ties go to the earliest."""
    counts: Counter[bytes] = Counter()
    for member in members:
        counts.update(fingerprints[member].shingles)
    core = {triple for triple, n in counts.items() if n * 2 >= len(members)}

    def closeness(member: int) -> tuple[int, int]:
        own = fingerprints[member].shingles
        return (len(own & core) - len(own - core), -member)

    return max(members, key=closeness)


def recompute(engine: Engine, threshold: float = DEFAULT_THRESHOLD, min_size: int = 2,
              progress: Callable[[int], object] | None = None, actor: str = "system"
              ) -> RecomputeReport:
    """Group every comment again, in one transaction: band rows, campaigns, each member's
    additions. A campaign keeps its id when most of its members stay together, so links
    and moderators' notes still point at it; members split out by a moderator stay out."""
    with session_scope(engine) as session:
        _lock(session)
        grouper = Grouper(threshold)
        texts: dict[int, str] = {}
        old_group: dict[int, int | None] = {}
        statuses: dict[int, tuple[str, str | None]] = {}
        total = 0
        last_id = 0
        while True:
            batch = session.exec(
                select(Comment).where(col(Comment.id) > last_id,
                                      col(Comment.campaign_split).is_(False),
                                      col(Comment.erased).is_(False))
                .order_by(col(Comment.id)).limit(_IN_CHUNK)).all()
            if not batch:
                break
            bodies = _bodies(session, batch)
            for comment in batch:
                comment_id = comment.id or 0
                texts[comment_id] = bodies[comment_id]
                old_group[comment_id] = comment.campaign_id
                statuses[comment_id] = (comment.additions, comment.additions_status)
                grouper.add(comment_id, bodies[comment_id])
            last_id = batch[-1].id or 0
            total += len(batch)
            session.expunge_all()
            if progress is not None:
                progress(len(batch))
        groups = grouper.grouped(2)
        session.exec(delete(CampaignBand))
        _write_groups(session, groups, grouper, texts, old_group, statuses)
        if grouper.band_rows:
            session.execute(CampaignBand.__table__.insert(),  # type: ignore[attr-defined]
                            [{"key": key, "comment_id": comment_id}
                             for key, comment_id in grouper.band_rows])
        grouped = sum(len(members) for members in groups.values())
        shown = sum(1 for members in groups.values() if len(members) >= min_size)
        session.add(ModerationEvent(actor=actor, action=Action.CAMPAIGN_RECOMPUTE.value,
                                    detail=f"{len(groups)} groups of {grouped} comments "
                                           f"({shown} shown as campaigns) among {total}"))
    return RecomputeReport(total, len(groups), grouped, shown)


def _write_groups(session: Session, groups: dict[int, list[int]], grouper: Grouper,
                  texts: dict[int, str], old_group: dict[int, int | None],
                  statuses: dict[int, tuple[str, str | None]]) -> None:
    now = utcnow()
    old_ids = set(session.exec(select(Campaign.id)).all())
    taken: set[int] = set()
    new_group: dict[int, int | None] = dict.fromkeys(old_group)
    additions_of: dict[int, tuple[str, str | None]] = {}
    # Largest first, so the big campaigns keep their ids when two compete for one.
    for members in sorted(groups.values(), key=len, reverse=True):
        votes = Counter(old_group[m] for m in members if old_group[m] is not None)
        kept = next((cid for cid, _n in votes.most_common() if cid not in taken), None)
        representative = _representative(members, grouper.fingerprints)
        if kept is None:
            campaign = Campaign(representative_comment_id=representative, size=len(members),
                                created_at=now, updated_at=now)
            session.add(campaign)
            session.flush()
            kept = campaign.id or 0
        else:
            session.execute(update(Campaign).where(col(Campaign.id) == kept).values(
                representative_comment_id=representative, size=len(members), updated_at=now))
        taken.add(kept)
        common = texts[representative]
        for member in members:
            new_group[member] = kept
            found = additions(common, texts[member]) if member != representative else ""
            previous, status = statuses[member]
            if found != previous or status is None:
                status = AdditionsStatus.PENDING if found else None
            additions_of[member] = (found, status)
    changed = [{"member": m, "campaign": new_group[m],
                "own": additions_of.get(m, ("", None))[0],
                "own_status": additions_of.get(m, ("", None))[1]}
               for m in new_group
               if (old_group[m], statuses[m]) != (new_group[m], additions_of.get(m, ("", None)))]
    if changed:
        table = Comment.__table__  # type: ignore[attr-defined]
        session.execute(
            update(table).where(table.c.id == bindparam("member")).values(
                campaign_id=bindparam("campaign"), additions=bindparam("own"),
                additions_status=bindparam("own_status")),
            changed)
    gone = old_ids - taken
    if gone:
        session.execute(update(Comment).where(col(Comment.campaign_id).in_(gone))
                        .values(campaign_id=None, additions="", additions_status=None))
        session.exec(delete(Campaign).where(col(Campaign.id).in_(gone)))

