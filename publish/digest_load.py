"""Reads the digest's rows from the database: a few bulk selects, never one per comment.

A comment is received when its message reached us (``inbound_message.created_at``),
not when its sender says it was written (the ``Date`` header). Four statements,
each filtered the same way: the comments, their commitments, their responses'
outcomes, and the texts of the few comments that may be quoted.

``public_only`` reads published comments only, and of them only what the public
site shows: the published HTML (as text) and the subject, with addresses hidden.
No address, no author name, nothing from the raw message is ever selected.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta, tzinfo
from html import unescape
from html.parser import HTMLParser
from typing import Any, TypeVar

from sqlalchemy import Date, Engine, Select, case, cast, func, select
from sqlmodel import Session, col

from config.catalogue import Catalogue
from intake.receipts import reference_for
from intake.sanitize import display_html
from moderation.models import (
    Campaign,
    Comment,
    CommentCommitment,
    CommentStatus,
    InboundMessage,
    Response,
    ResponseComment,
)
from moderation.privacy import redact_email_addresses
from moderation.redaction import RedactionField, active_ranges, active_redactions, apply
from publish.digest import (
    Digest,
    DigestRow,
    Period,
    QuoteText,
    Statistics,
    build_digest,
    decision_hours,
    iso_week,
    quote_candidates,
    split_by_week,
    statistics_of,
)

IN_CHUNK = 900  # ids per IN (...) list: well under every backend's limit on parameters
Statement = TypeVar("Statement", bound=Select[*tuple[Any, ...]])
BLOCKS = frozenset({"p", "br", "div", "li", "blockquote", "pre", "tr", "h1", "h2", "h3"})


def _filtered(statement: Statement, period: Period, public_only: bool) -> Statement:
    start, end = period.bounds()
    if start is not None:
        statement = statement.where(col(InboundMessage.created_at) >= start)
    if end is not None:
        statement = statement.where(col(InboundMessage.created_at) < end)
    if public_only:
        statement = statement.where(col(Comment.status) == CommentStatus.PUBLISHED)
    return statement


def _shown_campaign(min_size: int) -> Any:
    """The comment's campaign when its group is shown as one (``Campaign.size``, every
    member counted, reaches ``min_size``), else NULL; needs the outer join on ``campaign``."""
    return case((col(Campaign.size) >= min_size, col(Comment.campaign_id)), else_=None)


def load_rows(session: Session, period: Period, public_only: bool = False,
              campaign_min_size: int = 3) -> list[DigestRow]:
    """The comments received in ``period``, with their commitments, response outcomes
    and campaigns (those of at least ``campaign_min_size`` members)."""
    connection = session.connection()
    joined = (col(InboundMessage.id) == col(Comment.inbound_id))
    comments = _filtered(
        select(col(Comment.id), col(Comment.inbound_id), col(Comment.status),
               col(Comment.language), col(Comment.channel), col(Comment.reject_code),
               col(Comment.decided_at), col(InboundMessage.created_at),
               _shown_campaign(campaign_min_size))
        .select_from(Comment).join(InboundMessage, joined)
        .outerjoin(Campaign, col(Campaign.id) == col(Comment.campaign_id)),
        period, public_only)
    labels: dict[int, list[str]] = {}
    for comment_id, commitment_id in connection.execute(_filtered(
        select(col(CommentCommitment.comment_id), col(CommentCommitment.commitment_id))
        .select_from(CommentCommitment)
        .join(Comment, col(Comment.id) == col(CommentCommitment.comment_id))
        .join(InboundMessage, joined)
        .order_by(col(CommentCommitment.comment_id), col(CommentCommitment.score).desc(),
                  col(CommentCommitment.commitment_id)),
        period, public_only)):
        labels.setdefault(comment_id, []).append(commitment_id)
    outcomes: dict[int, str] = dict(connection.execute(_filtered(
        select(col(ResponseComment.comment_id), col(Response.outcome))
        .select_from(ResponseComment)
        .join(Response, col(Response.id) == col(ResponseComment.response_id))
        .join(Comment, col(Comment.id) == col(ResponseComment.comment_id))
        .join(InboundMessage, joined),
        period, public_only)).all())
    return [
        DigestRow(
            id=int(comment_id or 0), reference=reference_for(inbound_id), status=status,
            language=language, channel=channel, received_at=received_at,
            decided_at=decided_at, reject_code=reject_code,
            labels=tuple(labels.get(comment_id or 0, ())), outcome=outcomes.get(comment_id or 0),
            campaign=campaign,
        )
        for (comment_id, inbound_id, status, language, channel, reject_code, decided_at,
             received_at, campaign) in connection.execute(comments)
    ]


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_text(html: str) -> str:
    """The text a reader sees in published HTML."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    return unescape("".join(parser.parts)).strip()


def _chunks(ids: Sequence[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), IN_CHUNK):
        yield list(ids[start:start + IN_CHUNK])


def load_texts(session: Session, ids: Iterable[int],
               public_only: bool = False) -> dict[int, QuoteText]:
    """What may be quoted of ``ids``: the published text in public, the citizen's otherwise."""
    connection = session.connection()
    texts: dict[int, QuoteText] = {}
    wanted = sorted(set(ids))
    for chunk in _chunks(wanted):
        if public_only:
            # Quotes are published text: the comment's active redactions are applied.
            redactions = active_redactions(session, chunk)
            published = (select(col(Comment.id), col(Comment.subject), col(Comment.edited_html),
                                col(Comment.display_html), col(Comment.edited_text),
                                col(Comment.text))
                         .where(col(Comment.id).in_(chunk),
                                col(Comment.status) == CommentStatus.PUBLISHED))
            for comment_id, subject, edited_html, html, edited_text, text in connection.execute(
                    published):
                hidden = redactions.get(comment_id or 0, [])
                subject = apply(subject, active_ranges(hidden, RedactionField.SUBJECT))
                body_field = RedactionField.TEXT if edited_text is None else RedactionField.EDITED
                ranges = active_ranges(hidden, body_field)
                if ranges:
                    html = display_html(apply(text if edited_text is None else edited_text,
                                              ranges))
                elif edited_text is not None:
                    html = edited_html or html
                texts[comment_id or 0] = QuoteText(
                    subject=redact_email_addresses(subject),
                    text=redact_email_addresses(html_text(html)))
        else:
            statement = (select(col(Comment.id), col(Comment.subject), col(Comment.edited_text),
                                col(Comment.text))
                         .where(col(Comment.id).in_(chunk)))
            for comment_id, subject, edited_text, text in connection.execute(statement):
                texts[comment_id or 0] = QuoteText(
                    subject=redact_email_addresses(subject),
                    text=redact_email_addresses(edited_text if edited_text is not None else text))
    return texts


def candidate_ids(candidates: Mapping[str, Sequence[int]]) -> set[int]:
    return {comment_id for ids in candidates.values() for comment_id in ids}


def load_digest(session: Session, catalogue: Catalogue, period: Period, generated_at: datetime,
                public_only: bool = False, with_quotes: bool = True,
                campaign_min_size: int = 3) -> Digest:
    """The digest of the comments received in ``period`` (published ones only if ``public_only``).

    ``with_quotes=False``: no representative comments, and no text is read at all.
    ``campaign_min_size``: a group of near-identical comments counts as a campaign from
    this many members (``OGP_CAMPAIGN_MIN_SIZE``).
    """
    rows = load_rows(session, period, public_only, campaign_min_size)
    texts = (load_texts(session, candidate_ids(quote_candidates(rows, public_only)), public_only)
             if with_quotes else {})
    return build_digest(rows, texts, catalogue, period, generated_at, public=public_only)


def load_weekly_digests(session: Session, catalogue: Catalogue, period: Period,
                        generated_at: datetime,
                        only: Collection[date] | None = None,
                        campaign_min_size: int = 3) -> list[Digest]:
    """One public digest per week of receipt that has published comments, oldest first.

    ``only``: the Mondays of the weeks wanted (the others are neither read nor built)."""
    if only is not None:
        if not only:
            return []
        period = Period(min(only), max(only) + timedelta(days=6), period.zone)
    rows = load_rows(session, period, public_only=True, campaign_min_size=campaign_min_size)
    weeks = split_by_week(rows, period.zone)
    if only is not None:
        weeks = {monday: week_rows for monday, week_rows in weeks.items() if monday in only}
    wanted: set[int] = set()
    for week_rows in weeks.values():
        wanted |= candidate_ids(quote_candidates(week_rows, public=True))
    texts = load_texts(session, wanted, public_only=True)
    digests = []
    for monday, week_rows in weeks.items():
        week = Period(monday, monday.fromordinal(monday.toordinal() + 6), period.zone)
        digests.append(build_digest(week_rows, texts, catalogue, week, generated_at,
                                    public=True))
    return digests


def load_weeks(session: Session, catalogue: Catalogue, zone: tzinfo, generated_at: datetime,
               recount: Collection[date], rebuild: Collection[date],
               campaign_min_size: int = 3,
               ) -> tuple[list[Digest], dict[date, tuple[Statistics, list[float]]]]:
    """For the weeks of receipt named by their Monday: the public digest of each week in
    ``rebuild`` (oldest first), and the statistics of all comments of each week in
    ``recount`` (every status) with their hours to a decision (``merge_statistics`` adds
    them up). The rows are read once for both; texts only for the digests' quotes."""
    needed = set(recount) | set(rebuild)
    if not needed:
        return [], {}
    span = Period(min(needed), max(needed) + timedelta(days=6), zone)
    weeks = {monday: rows for monday, rows in split_by_week(
                 load_rows(session, span, campaign_min_size=campaign_min_size), zone).items()
             if monday in needed}
    parts = {}
    for monday in sorted(set(weeks) & set(recount)):
        week = Period(monday, monday + timedelta(days=6), zone)
        digest = build_digest(weeks[monday], {}, catalogue, week, generated_at)
        # Sorted: the cache keeps how long decisions took, not whose decision took how long.
        parts[monday] = (statistics_of(digest), sorted(decision_hours(weeks[monday])))
    public = {monday: [row for row in weeks[monday] if row.status == CommentStatus.PUBLISHED]
              for monday in sorted(set(weeks) & set(rebuild))}
    wanted: set[int] = set()
    for rows in public.values():
        wanted |= candidate_ids(quote_candidates(rows, public=True))
    texts = load_texts(session, wanted, public_only=True)
    digests = [build_digest(rows, texts, catalogue,
                            Period(monday, monday + timedelta(days=6), zone), generated_at,
                            public=True)
               for monday, rows in public.items() if rows]
    return digests, parts


# What a week's figures are made of, summed per (week, status): its comments and their
# versions (every moderator's change bumps one: a decision, an edit, a redaction, a
# reclassification; a comment's commitments are otherwise written only with the comment
# itself), and their responses (an edit bumps the response's version; a comment linked
# or unlinked changes the count and the sum of ids), and the campaigns they are counted
# in (a comment grouped, split or merged, or its campaign reaching the minimum size,
# changes the sum of campaign ids or how many are in one, whatever the version says).
Tally = tuple[int, int, int, str, int, int, str, int, int]


def _merge(a: Tally | None, b: Tally) -> Tally:
    if a is None:
        return b
    return (a[0] + b[0], a[1] + b[1], a[2] + b[2], max(a[3], b[3]), a[4] + b[4], a[5] + b[5],
            max(a[6], b[6]), a[7] + b[7], a[8] + b[8])


def week_tallies(session: Session, zone: tzinfo,
                 campaign_min_size: int = 3) -> dict[tuple[date, str], Tally]:
    """Per (Monday of the week of receipt in ``zone``, status): a tally that changes
    whenever a comment of that week or its responses change.

    One statement. On PostgreSQL the weeks are grouped in the database; elsewhere (SQLite,
    tests) per instant of receipt and merged here."""
    connection = session.connection()
    responses = (select(col(ResponseComment.comment_id).label("comment_id"),
                        func.count().label("n"),
                        func.sum(col(Response.id)).label("ids"),
                        func.sum(col(Response.version)).label("versions"),
                        func.max(col(Response.updated_at)).label("updated"))
                 .select_from(ResponseComment)
                 .join(Response, col(Response.id) == col(ResponseComment.response_id))
                 .group_by(col(ResponseComment.comment_id)).subquery())
    postgres = connection.dialect.name == "postgresql"
    received = col(InboundMessage.created_at)
    key = (cast(func.date_trunc("week", func.timezone(str(zone), received)), Date)
           if postgres else received)
    shown = _shown_campaign(campaign_min_size)
    statement = (
        select(key.label("week"), col(Comment.status),
               func.count(), func.sum(col(Comment.id)), func.sum(col(Comment.version)),
               func.max(col(Comment.updated_at)),
               func.coalesce(func.sum(responses.c.ids), 0),
               func.coalesce(func.sum(responses.c.versions), 0)
               + func.coalesce(func.sum(responses.c.n), 0) * 1_000_003,
               func.max(responses.c.updated),
               func.coalesce(func.sum(shown), 0), func.count(shown))
        .select_from(Comment)
        .join(InboundMessage, col(InboundMessage.id) == col(Comment.inbound_id))
        .outerjoin(responses, responses.c.comment_id == col(Comment.id))
        .outerjoin(Campaign, col(Campaign.id) == col(Comment.campaign_id))
        .group_by(key, col(Comment.status)))
    tallies: dict[tuple[date, str], Tally] = {}
    for (week, status, count, ids, versions, updated, answer_ids, answers,
         answered, campaign_ids, grouped) in connection.execute(statement):
        if not postgres:
            moment = week if isinstance(week, datetime) else datetime.fromisoformat(str(week))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            week = iso_week(moment.astimezone(zone).date())[1]
        tally: Tally = (int(count), int(ids or 0), int(versions or 0), str(updated),
                        int(answer_ids), int(answers), str(answered or ""), int(campaign_ids),
                        int(grouped))
        where = (week, str(status))
        tallies[where] = _merge(tallies.get(where), tally)
    return tallies


@contextmanager
def snapshot(engine: Engine) -> Iterator[Session]:
    """A read-only session whose statements all see one snapshot of the database.

    The digest reads in several statements; on PostgreSQL, REPEATABLE READ keeps a
    moderator's decision between two of them from making the figures disagree.
    """
    with Session(engine) as session:
        if engine.dialect.name == "postgresql":
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        try:
            yield session
        finally:
            session.rollback()
