"""``ogp-feedback publish``: the only module that writes the public site.

One run, in one transaction: mark the approved comments published, plan every page
from a light query (``publish.plan``), render only the pages whose inputs changed,
and switch the site to the new tree atomically (``publish.store``). Comments are
marked published only if the switch happened (the transaction commits after it).
"""

from __future__ import annotations

import hashlib
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from config.catalogue import Catalogue
from config.settings import Settings
from intake.receipts import reference_for
from intake.sanitize import display_html
from moderation.db import session_scope
from moderation.models import (
    Campaign,
    Comment,
    CommentCommitment,
    CommentStatus,
    Response,
    ResponseComment,
    utcnow,
)
from moderation.privacy import redact_email_addresses
from moderation.public import CommentPublic, public_view
from moderation.redaction import active_redactions, field_text
from moderation.responses import plan_response_notices, responses_by_comment
from moderation.transitions import NoticePolicy, mark_published
from publish import urls
from publish.campaigns import CampaignPublic, as_member, campaign_public, hide
from publish.digest_site import record_files
from publish.opendata import datapackage
from publish.plan import CampaignPlan, Entry, Group, SitePlan, plan_campaigns, plan_site
from publish.render import SiteOptions, SiteRenderer, render_version
from publish.segments import SegmentedOutputs, member_keys, segments_of
from publish.store import SiteStore, StoreError

__all__ = ["PublishReport", "StoreError", "publish_site", "publish_with_settings"]

_CHUNK = 2000


@dataclass(frozen=True)
class PublishReport:
    total: int  # comments on the site
    newly_published: int
    pages: int  # files of the site
    pages_written: int = 0
    pages_unchanged: int = 0
    seconds: float = 0.0
    # Response notices planned by this run (the caller sends them).
    response_notices: int = 0
    # The files whose content changed, and the pages rendered because their key changed.
    written_paths: tuple[str, ...] = ()
    rendered_paths: tuple[str, ...] = ()


def _chunks(ids: Sequence[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield list(ids[start:start + _CHUNK])


def load_entries(session: Session, catalogue: Catalogue) -> list[Entry]:
    """One light row per comment on the site: what places it and what changes it."""
    rows = session.execute(
        sa_select(col(Comment.id), col(Comment.inbound_id), col(Comment.version),
                  col(Comment.updated_at), col(Comment.published_at), col(Comment.received_at),
                  col(Comment.author_public), col(ResponseComment.response_id),
                  col(Response.version), col(Comment.campaign_id),
                  col(Comment.additions_status), func.length(col(Comment.additions)))
        .outerjoin(ResponseComment, col(ResponseComment.comment_id) == col(Comment.id))
        .outerjoin(Response, col(Response.id) == col(ResponseComment.response_id))
        .where(col(Comment.status) == CommentStatus.PUBLISHED)
    ).all()
    labels: dict[int, list[str]] = {}
    for comment_id, label_id in session.exec(
        select(CommentCommitment.comment_id, CommentCommitment.commitment_id)
        .join(Comment, col(Comment.id) == col(CommentCommitment.comment_id))
        .where(col(Comment.status) == CommentStatus.PUBLISHED)
        .order_by(col(CommentCommitment.comment_id), col(CommentCommitment.score).desc())
    ).all():
        labels.setdefault(comment_id, []).append(label_id)
    entries = []
    for (comment_id, inbound_id, version, updated_at, published_at, received_at, author,
         response_id, response_version, campaign_id, additions_status, additions_length) in rows:
        assert comment_id is not None
        # A member's own sentences and their review show on its page: in its fingerprint
        # whether or not the moderation action bumped the version.
        fingerprint = (f"{version}|{updated_at}|{published_at}|{author}|"
                       f"{response_id}:{response_version}|{additions_status}:"
                       f"{additions_length or 0}")
        entries.append(Entry(
            id=comment_id, reference=reference_for(inbound_id),
            published_at=published_at or received_at or updated_at,
            fingerprint=fingerprint,
            labels=tuple(labels.get(comment_id, ())) or (catalogue.general.id,),
            answered=response_id is not None,
            campaign_id=campaign_id, additions_status=additions_status,
        ))
    return entries


def load_groups(session: Session, entries: Iterable[Entry]) -> dict[int, Group]:
    """The campaigns the published comments belong to (``Campaign.size`` counts every
    member, whatever its status)."""
    wanted = sorted({entry.campaign_id for entry in entries if entry.campaign_id is not None})
    groups: dict[int, Group] = {}
    for chunk in _chunks(wanted):
        for campaign_id, representative_id, size in session.execute(
                sa_select(col(Campaign.id), col(Campaign.representative_comment_id),
                          col(Campaign.size)).where(col(Campaign.id).in_(chunk))):
            groups[int(campaign_id)] = Group(int(representative_id), int(size))
    return groups


def load_own_sentences(session: Session, comment_ids: Iterable[int]) -> dict[int, str]:
    """The members' own sentences as stored at grouping time, with whatever a moderator
    has hidden in the member's text since hidden in them too, and no address."""
    result: dict[int, str] = {}
    for chunk in _chunks(sorted(set(comment_ids))):
        comments = session.exec(select(Comment).where(col(Comment.id).in_(chunk))).all()
        redactions = active_redactions(session, chunk)
        for comment in comments:
            secrets = []
            for redaction in redactions.get(comment.id or 0, ()):
                text = field_text(comment, redaction.field) or ""
                secrets.append(text[redaction.start:redaction.end])
            result[comment.id or 0] = redact_email_addresses(hide(comment.additions, secrets))
    return result


def load_campaigns(session: Session, plans: Iterable[CampaignPlan],
                   public: Mapping[int, CommentPublic],
                   entries: Iterable[Entry]) -> dict[int, CampaignPublic]:
    """The public view of campaigns; ``public`` holds the view of each one's text."""
    chosen = list(plans)
    own = load_own_sentences(
        session, {member for plan in chosen for member in plan.with_additions}
        | {plan.text_id for plan in chosen if plan.own_cut})
    references = {entry.id: entry.reference for entry in entries}
    return {plan.id: campaign_public(plan, public[plan.text_id], own, references,
                                     display_html, source_own=own.get(plan.text_id, ""))
            for plan in chosen}


def as_members(public: Mapping[int, CommentPublic], campaign_of: Mapping[int, int],
               campaigns: Mapping[int, CampaignPublic]) -> dict[int, CommentPublic]:
    """Comments as the site publishes them: a member of a shown campaign with the
    campaign's words and its own approved sentences only, never the rest of its text."""
    return {comment_id: (view if comment_id not in campaign_of else
                         as_member(view, campaigns[campaign_of[comment_id]], display_html))
            for comment_id, view in public.items()}


def published_views(session: Session, catalogue: Catalogue,
                    public: Mapping[int, CommentPublic],
                    campaign_min_size: int = 3) -> dict[int, CommentPublic]:
    """``as_members`` of published comments for a reader other than the site (the
    evidence archive): the campaigns are planned as ``publish_site`` plans them."""
    entries = load_entries(session, catalogue)
    campaigns = plan_campaigns(sorted(entries, key=lambda e: (e.published_at, e.id)),
                               load_groups(session, entries), campaign_min_size)
    campaign_of = {member: campaign.id for campaign in campaigns.values()
                   for member in campaign.members}
    texts = dict(public)
    texts.update(load_public(session, {c.text_id for c in campaigns.values()} - set(texts)))
    shown = load_campaigns(session, campaigns.values(), texts, entries)
    return as_members(public, campaign_of, shown)


def load_public(session: Session, comment_ids: Iterable[int]) -> dict[int, CommentPublic]:
    result: dict[int, CommentPublic] = {}
    for chunk in _chunks(sorted(set(comment_ids))):
        comments = session.exec(select(Comment).where(col(Comment.id).in_(chunk))).all()
        for public in public_view(session, comments, display_html,
                                  responses_by_comment(session, chunk)):
            result[public.id] = public
    return result


class _Site:
    """The pages of one run: planned pages, generated files, and the comments they show."""

    def __init__(self, session: Session, catalogue: Catalogue, options: SiteOptions,
                 plan: SitePlan, version: str, extra: Mapping[str, bytes]) -> None:
        self.session = session
        self.catalogue = catalogue
        self.plan = plan
        self.renderer = SiteRenderer(catalogue, options)
        self.extra = dict(extra)
        self.public: dict[int, CommentPublic] = {}
        self.campaigns: dict[int, CampaignPublic] = {}
        self.keys = plan.keys()
        self.add(self.extra)
        self.keys[urls.DATA_PACKAGE] = version  # its words change only with the code

    def add(self, files: Mapping[str, bytes]) -> None:
        for path, content in files.items():
            self.extra[path] = content
            self.keys[path] = hashlib.sha256(content).hexdigest()[:32]

    def load(self, changed: set[str], more: Iterable[int] = ()) -> None:
        """Load, in bulk, the public view of every comment a changed page shows."""
        needed = set(more)
        campaigns: set[int] = set()
        for path in changed:
            page = self.plan.pages.get(path)
            if page is not None:
                needed.update(page.members)
                campaigns.update(page.campaigns)
        # The search index and the open data show a member as its campaign shows it.
        campaigns.update(self.plan.campaign_of[member] for member in more
                         if member in self.plan.campaign_of)
        plans = [self.plan.campaigns[c] for c in sorted(campaigns - set(self.campaigns))]
        needed.update(plan.text_id for plan in plans)
        missing = needed - set(self.public)
        self.public.update(load_public(self.session, missing))
        self.campaigns.update(load_campaigns(self.session, plans, self.public,
                                             self.plan.entries.values()))

    def as_published(self, comment_ids: Iterable[int]) -> dict[int, CommentPublic]:
        """The public view of comments as the site publishes them (``as_members``)."""
        return as_members({i: self.public[i] for i in comment_ids}, self.plan.campaign_of,
                          self.campaigns)

    def render(self, path: str) -> bytes:
        if path in self.extra:
            return self.extra[path]
        if path == urls.DATA_PACKAGE:
            return datapackage(self.catalogue).encode()
        return self.renderer.render(path, self.plan.pages[path], self.plan, self.public,
                                    self.campaigns)


def publish_site(
    engine: Engine, catalogue: Catalogue, out: Path, actor: str, contact_url: str = "/contact",
    notices: NoticePolicy | None = None, time_zone: str = "Europe/Tirane",
    site_url: str = "http://127.0.0.1:8000/site/", settled_before: datetime | None = None,
    campaign_min_size: int = 3,
) -> PublishReport:
    """``notices``: plan a 'published' notice for each newly published comment, and
    (``notices.responses``) a response notice for each comment whose response the site
    now shows; the caller sends them after this returns, when the commit has made them
    visible. ``settled_before``: publish only approvals made before then (those whose undo
    window has passed); ``None``: every approved comment. ``campaign_min_size``: a group of
    near-identical comments is shown as one campaign from this many members."""
    started = time.perf_counter()
    options = SiteOptions(contact_url=contact_url, site_url=site_url, time_zone=time_zone)
    store = SiteStore(out)
    with store.locked(), session_scope(engine) as session, \
            tempfile.TemporaryDirectory(prefix="ogp-publish-") as scratch:
        now = utcnow()
        due = select(Comment).where(col(Comment.status) == CommentStatus.APPROVED)
        if settled_before is not None:
            due = due.where(col(Comment.decided_at) <= settled_before)
        approved = session.exec(due).all()
        newly = mark_published(session, approved, actor, notices=notices)
        session.flush()
        version = render_version(catalogue, options)
        entries = load_entries(session, catalogue)
        plan = plan_site(catalogue, entries, version, load_groups(session, entries),
                         campaign_min_size)
        # Weekly digests and statistics count what this run publishes.
        records = {path: text.encode() for path, text in
                   record_files(session, catalogue, now, time_zone,
                                cache=store.home / "records-cache",
                                campaign_min_size=campaign_min_size).items()}
        site = _Site(session, catalogue, options, plan, version, records)
        outputs = SegmentedOutputs(store, catalogue, site_url,
                                   segments_of(plan.entries.values(), version,
                                               member_keys(plan)), Path(scratch),
                                   campaign_of=plan.campaign_of)
        needed = outputs.comments_needed()
        site.load(store.changed_pages(site.keys), more=needed)
        outputs.build(site.as_published(needed))
        site.keys.update(outputs.keys)
        site.extra.update(outputs.files)
        written = store.publish(site.keys, site.render)
        outputs.remember()
        answered = (plan_response_notices(
            session, {entry.id for entry in plan.entries.values() if entry.answered}, now)
            if notices is not None and notices.responses else 0)
    return PublishReport(total=plan.total, newly_published=newly, pages=len(site.keys),
                         pages_written=written.written, pages_unchanged=written.unchanged,
                         seconds=round(time.perf_counter() - started, 3),
                         response_notices=answered, written_paths=written.written_paths,
                         rendered_paths=written.rendered_paths)


def publish_with_settings(engine: Engine, catalogue: Catalogue, settings: Settings, actor: str,
                          out: Path | None = None, notices: NoticePolicy | None = None,
                          settled_before: datetime | None = None) -> PublishReport:
    """``publish_site`` with the output, links and time zone the settings give."""
    return publish_site(engine, catalogue, out or settings.site_dir, actor=actor,
                        contact_url=settings.contact_url, notices=notices,
                        time_zone=settings.time_zone, site_url=settings.public_site_url,
                        settled_before=settled_before,
                        campaign_min_size=settings.campaign_min_size)


def next_settlement(engine: Engine, undo_seconds: int) -> datetime | None:
    """When the oldest approval still waiting for publication leaves its undo window."""
    with Session(engine) as session:
        oldest = session.exec(
            select(Comment.decided_at)
            .where(col(Comment.status) == CommentStatus.APPROVED,
                   col(Comment.decided_at).is_not(None))
            .order_by(col(Comment.decided_at)).limit(1)).first()
    return None if oldest is None else oldest + timedelta(seconds=undo_seconds)
