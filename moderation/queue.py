"""The moderation queue: filters, full-text search, keyset pages and counts per status tab.

Pure values first (``QueueQuery``, ``Cursor``, the search-term helpers), then the one
read function ``fetch_queue``. The web route and the ``queue`` command both parse their
input with ``parse_queue_query``, so they refuse the same values with the same words.
This module only reads; it never writes a row.

Pages are keyset pages on ``(created_at, id)``: a cursor names the last row seen, so
page 100 costs what page 1 costs and a comment arriving meanwhile shifts nothing. The
search index is kept by the database (migration 0005), never by this code.
"""

from __future__ import annotations

import base64
import binascii
import re
import threading
from collections import OrderedDict
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime
from typing import Any, Final, cast

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Integer,
    Table,
    and_,
    column,
    exists,
    false,
    func,
    literal_column,
    or_,
    select,
    text,
    true,
)
from sqlmodel import Session

from config.catalogue import Catalogue
from config.settings import Settings
from moderation.classification import low_confidence_ids
from moderation.models import (
    Campaign,
    Comment,
    CommentClassification,
    CommentCommitment,
    CommentStatus,
    CommitmentRecord,
    InboundMessage,
    InboundSource,
    Response,
)
from moderation.public import commitments_by_comment
from moderation.redaction import all_redactions, summary
from moderation.responses import responses_by_comment

STATUSES: Final = tuple(str(s) for s in CommentStatus)
STATUS_CHOICES: Final = (*STATUSES, "all")
CHANNELS: Final = tuple(str(s) for s in InboundSource)
# What ``intake.classify.detect_language`` answers.
LANGUAGES: Final = ("sq", "en", "mixed", "und")
SORTS: Final = ("newest", "oldest")
DEFAULT_LIMIT: Final = 50
MAX_LIMIT: Final = 200
MAX_SEARCH_CHARS: Final = 200
_MAX_CURSOR_CHARS = 100
_CURSOR_TIME = "%Y-%m-%dT%H:%M:%S.%f"
_CURSOR_PAYLOAD = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6})\|([1-9]\d{0,17})")
_FLAG_VALUES = {"1": True, "0": False}
# A caller without settings (a script, a test) groups as an unconfigured install does.
DEFAULT_CAMPAIGN_MIN_SIZE: Final[int] = Settings.model_fields["campaign_min_size"].default


class QueueError(ValueError):
    """A filter, cursor or limit the queue cannot use; the message names it and why."""


# ---------------------------------------------------------------- cursors

@dataclass(frozen=True)
class Cursor:
    """A position in the queue: the ``(created_at, id)`` of one row. Opaque to users."""

    created_at: datetime
    id: int

    def encode(self) -> str:
        moment = self.created_at.astimezone(UTC).strftime(_CURSOR_TIME)
        raw = f"{moment}|{self.id}".encode("ascii")
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")

    @classmethod
    def decode(cls, token: str) -> Cursor:
        bad = QueueError("Kursori i faqes është i pavlefshëm. / The page cursor is not valid; "
                         "go back to the first page.")
        if not token or len(token) > _MAX_CURSOR_CHARS:
            raise bad
        try:
            raw = base64.b64decode(token + "=" * (-len(token) % 4), altchars=b"-_",
                                   validate=True).decode("ascii")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise bad from None
        match = _CURSOR_PAYLOAD.fullmatch(raw)
        if match is None:
            raise bad
        try:
            moment = datetime.strptime(match.group(1), _CURSOR_TIME).replace(tzinfo=UTC)
        except ValueError:
            raise bad from None
        return cls(moment, int(match.group(2)))


# ---------------------------------------------------------------- search terms

def search_terms(q: str) -> list[str]:
    """The words of a search, as the user typed them (case and accents are the index's job).

    Pieces without a letter or digit ("-", "...") would be empty phrases: left out.
    """
    return [word for word in q.split() if any(ch.isalnum() for ch in word)]


def fts5_match(terms: list[str]) -> str:
    """An FTS5 MATCH expression that finds rows with every term.

    Each term is a quoted string, so nothing the user types (``AND``, ``NEAR``, ``*``,
    ``:``, quotes) is read as FTS5 syntax; inside quotes FTS5 tokenizes as it indexed.
    """
    return " ".join('"' + term.replace('"', '""') + '"' for term in terms)


# ---------------------------------------------------------------- the query value

@dataclass(frozen=True)
class QueueQuery:
    """Which comments (filters), in which order, and which page of them."""

    status: str = "pending"
    commitment: str | None = None
    component: str | None = None
    language: str | None = None
    channel: str | None = None
    has_attachments: bool | None = None
    released: bool | None = None
    # The classifier was not sure (``comment_classification.low_confidence``).
    low_confidence: bool | None = None
    q: str = ""
    sort: str = "newest"
    after: Cursor | None = None
    before: Cursor | None = None
    limit: int = DEFAULT_LIMIT

    @property
    def descending(self) -> bool:
        return self.sort == "newest"

    @property
    def filtered(self) -> bool:
        """True when anything besides the status narrows the list."""
        return any(getattr(self, name) not in (None, "") for name in
                   ("commitment", "component", "language", "channel", "has_attachments",
                    "released", "low_confidence", "q"))

    def first_page(self, **changes: Any) -> QueueQuery:
        """The same filters (with ``changes``) from the first page."""
        return replace(self, after=None, before=None, **changes)

    def to_params(self) -> dict[str, str]:
        """URL (or command-line) parameters that give back this query; defaults left out."""
        params: dict[str, str] = {}
        defaults = QueueQuery()
        for item in fields(self):
            value = getattr(self, item.name)
            if value == getattr(defaults, item.name) or value is None:
                continue
            if isinstance(value, bool):
                params[item.name] = "1" if value else "0"
            elif isinstance(value, Cursor):
                params[item.name] = value.encode()
            else:
                params[item.name] = str(value)
        return params


def _choice(name: str, value: str, allowed: tuple[str, ...] | list[str]) -> str:
    if value not in allowed:
        raise QueueError(f"Filtër i pavlefshëm / Invalid filter: {name} must be one of "
                         f"{', '.join(allowed)} (got {value!r}).")
    return value


def parse_queue_query(values: Mapping[str, str | None], catalogue: Catalogue) -> QueueQuery:
    """Check raw strings (URL parameters, command-line options) and build a query.

    A missing or empty value means "no filter"; anything else unknown raises
    ``QueueError`` with a message fit to show the user.
    """
    def get(name: str) -> str | None:
        value = values.get(name)
        return value.strip() if value is not None and value.strip() else None

    status = _choice("status", get("status") or "pending", list(STATUS_CHOICES))
    commitment = get("commitment")
    if commitment is not None:
        _choice("commitment", commitment, [label.id for label in catalogue.labels])
    component = get("component")
    if component is not None:
        _choice("component", component, [item.id for item in catalogue.components])
    language = get("language")
    if language is not None:
        _choice("language", language, list(LANGUAGES))
    channel = get("channel")
    if channel is not None:
        _choice("channel", channel, list(CHANNELS))
    flags: dict[str, bool | None] = {}
    for name in ("has_attachments", "released", "low_confidence"):
        raw = get(name)
        if raw is not None and raw not in _FLAG_VALUES:
            raise QueueError(f"Filtër i pavlefshëm / Invalid filter: {name} must be 1 or 0 "
                             f"(got {raw!r}).")
        flags[name] = None if raw is None else _FLAG_VALUES[raw]
    q = " ".join((values.get("q") or "").split())
    if len(q) > MAX_SEARCH_CHARS:
        raise QueueError(f"Kërkimi është shumë i gjatë / The search is too long "
                         f"(at most {MAX_SEARCH_CHARS} characters).")
    sort = _choice("sort", get("sort") or "newest", list(SORTS))
    raw_limit = get("limit")
    limit = DEFAULT_LIMIT
    if raw_limit is not None:
        if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= MAX_LIMIT:
            raise QueueError(f"limit must be a whole number from 1 to {MAX_LIMIT} "
                             f"(got {raw_limit!r}).")
        limit = int(raw_limit)
    after_token, before_token = get("after"), get("before")
    if after_token is not None and before_token is not None:
        raise QueueError("Give after or before, not both.")
    return QueueQuery(
        status=status, commitment=commitment, component=component, language=language,
        channel=channel, has_attachments=flags["has_attachments"], released=flags["released"],
        low_confidence=flags["low_confidence"], q=q, sort=sort, limit=limit,
        after=Cursor.decode(after_token) if after_token is not None else None,
        before=Cursor.decode(before_token) if before_token is not None else None,
    )


# ---------------------------------------------------------------- reading

@dataclass(frozen=True)
class QueuePage:
    items: list[dict[str, Any]]
    # Encoded cursors: pass ``next`` as ``after`` and ``prev`` as ``before``.
    next: str | None
    prev: str | None
    # Per status (and "all") under the same filters, whatever status is shown.
    counts: dict[str, int]


def _table(model: type[Any]) -> Table:
    return cast(Table, model.__table__)


COMMENT = _table(Comment)
LINK = _table(CommentCommitment)
COMMITMENT = _table(CommitmentRecord)
INBOUND = _table(InboundMessage)
CLASSIFICATION = _table(CommentClassification)
CAMPAIGN = _table(Campaign)
_PAGE_COLUMNS = ("id", "status", "subject", "language", "inbound_id", "received_at",
                 "reject_reason", "version", "channel", "created_at", "has_attachments",
                 "released", "author_public", "campaign_id")


def _search_condition(dialect: str, terms: list[str]) -> ColumnElement[bool]:
    if dialect == "sqlite":
        matching = text("SELECT rowid FROM comment_fts WHERE comment_fts MATCH :fts").bindparams(
            fts=fts5_match(terms)).columns(column("rowid", Integer))
        return COMMENT.c.id.in_(matching)
    if dialect == "postgresql":
        # Same folding as the generated column: ogp_unaccent, then the 'simple'
        # configuration (lower case, no stemming, no stop words).
        query = func.plainto_tsquery(literal_column("'simple'::regconfig"),
                                     func.ogp_unaccent(" ".join(terms)))
        vector: ColumnElement[Any] = literal_column("comment.search_vector")
        return vector.op("@@", return_type=Boolean)(query)
    raise QueueError(f"search is not available on {dialect}")


def _filters(query: QueueQuery, dialect: str) -> list[ColumnElement[bool]]:
    """Every condition but the status (the tabs count across statuses)."""
    c = COMMENT.c
    conditions: list[ColumnElement[bool]] = []
    if query.commitment is not None:
        conditions.append(exists().where(LINK.c.comment_id == c.id,
                                         LINK.c.commitment_id == query.commitment))
    if query.component is not None:
        of_component = select(COMMITMENT.c.id).where(COMMITMENT.c.component_id == query.component)
        conditions.append(exists().where(LINK.c.comment_id == c.id,
                                         LINK.c.commitment_id.in_(of_component)))
    if query.language is not None:
        conditions.append(c.language == query.language)
    if query.channel is not None:
        conditions.append(c.channel == query.channel)
    # ``= true`` (not IS TRUE): the partial indexes of migration 0005 are WHERE flag = true.
    if query.has_attachments is not None:
        conditions.append(c.has_attachments == (true() if query.has_attachments else false()))
    if query.released is not None:
        conditions.append(c.released == (true() if query.released else false()))
    if query.low_confidence is not None:
        unsure = exists().where(CLASSIFICATION.c.comment_id == c.id,
                                CLASSIFICATION.c.low_confidence == true())
        conditions.append(unsure if query.low_confidence else ~unsure)
    terms = search_terms(query.q)
    if terms:
        conditions.append(_search_condition(dialect, terms))
    return conditions


def _beyond(cursor: Cursor, later: bool) -> ColumnElement[bool]:
    """Rows strictly after (``later``) or before the cursor in (created_at, id) order.

    Written with a leading range on created_at rather than as a bare OR: the range
    bounds the index scan, the OR then only breaks ties; PostgreSQL scans the whole
    index for ``created_at > :c OR (created_at = :c AND id > :id)``.
    """
    c = COMMENT.c
    if later:
        return and_(c.created_at >= cursor.created_at,
                    or_(c.created_at > cursor.created_at, c.id > cursor.id))
    return and_(c.created_at <= cursor.created_at,
                or_(c.created_at < cursor.created_at, c.id < cursor.id))


class _CountMemo:
    """Tab counts remembered per database, filters and MVCC snapshot (PostgreSQL only).

    Counting is the costly part of a queue page (it reads every matching row, where
    the page stops at 51). Two statements that see the same snapshot (same xmin,
    xmax and in-progress list) see the same rows, so their counts are equal: a
    remembered count is reused only while no transaction has committed anywhere in
    the cluster since, which makes it exact, never stale. Paging through a filter,
    or several moderators on the same view while no mail arrives, then counts once.
    """

    def __init__(self, size: int = 256) -> None:
        self._size = size
        self._items: OrderedDict[Hashable, dict[str, int]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> dict[str, int] | None:
        with self._lock:
            counts = self._items.get(key)
            if counts is not None:
                self._items.move_to_end(key)
            return None if counts is None else dict(counts)

    def put(self, key: Hashable, counts: dict[str, int]) -> None:
        with self._lock:
            self._items[key] = dict(counts)
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)


_COUNTS = _CountMemo()


def _begin_read(session: Session) -> str | None:
    """On PostgreSQL: custom plans for this transaction, and the snapshot to key counts by.

    psycopg prepares a statement it has run five times, and PostgreSQL then may
    switch to one generic plan for every value. Here the best plan depends on the
    value: a common word walks the (created_at, id) order and stops at the page
    size, a rare one reads its few rows from the GIN index. A generic plan picks one
    of the two for both, and made a common-word page five to ten times slower.
    ``set_config(..., true)`` is ``SET LOCAL``, sent in the same round trip.

    The snapshot is None when this transaction has written (its own changes are not
    in the snapshot) or on another database: counts are then not remembered.
    """
    if session.get_bind().dialect.name != "postgresql":
        return None
    snapshot, clean = session.connection().exec_driver_sql(
        "SELECT set_config('plan_cache_mode', 'force_custom_plan', true), "
        "pg_current_snapshot()::text, pg_current_xact_id_if_assigned() IS NULL").one()[1:]
    return str(snapshot) if clean else None


def count_statuses(session: Session, query: QueueQuery) -> dict[str, int]:
    """Comments per status under the query's filters, its status aside; plus "all"."""
    return _count(session, query, _begin_read(session))


def _count(session: Session, query: QueueQuery, snapshot: str | None) -> dict[str, int]:
    key: Hashable = None
    if snapshot is not None:
        url = session.connection().engine.url
        # The filters alone: status, order and page do not change the counts.
        filters = replace(query.first_page(), status="all", sort="newest", limit=DEFAULT_LIMIT)
        key = (url.host, url.port, url.database, filters, snapshot)
        remembered = _COUNTS.get(key)
        if remembered is not None:
            return remembered
    dialect = session.get_bind().dialect.name
    statement = (select(COMMENT.c.status, func.count())
                 .where(*_filters(query, dialect)).group_by(COMMENT.c.status))
    counts = dict.fromkeys(STATUSES, 0)
    for status, count in session.connection().execute(statement).all():
        counts[status] = int(count)
    counts["all"] = sum(counts.values())
    if key is not None:
        _COUNTS.put(key, counts)
    return counts


def fetch_queue(session: Session, query: QueueQuery, with_counts: bool = True,
                campaign_min_size: int = DEFAULT_CAMPAIGN_MIN_SIZE) -> QueuePage:
    """One page of the queue, its neighbours' cursors and (by default) the tab counts.

    ``campaign_min_size`` is the setting ``OGP_CAMPAIGN_MIN_SIZE``: an item names its
    campaign only when the campaign is at least that large (as the campaigns page lists).
    """
    snapshot = _begin_read(session)
    dialect = session.get_bind().dialect.name
    c = COMMENT.c
    conditions = _filters(query, dialect)
    if query.status != "all":
        conditions.append(c.status == query.status)
    backwards = query.before is not None
    if query.after is not None:
        conditions.append(_beyond(query.after, later=not query.descending))
    if query.before is not None:
        conditions.append(_beyond(query.before, later=query.descending))
    # Reading backwards (a "before" page) walks the order in reverse, then turns round.
    descending = query.descending != backwards
    order = ((c.created_at.desc(), c.id.desc()) if descending
             else (c.created_at.asc(), c.id.asc()))
    statement = (select(*(c[name] for name in _PAGE_COLUMNS))
                 .where(*conditions).order_by(*order).limit(query.limit + 1))
    rows = list(session.connection().execute(statement).all())
    more = len(rows) > query.limit
    del rows[query.limit:]
    if backwards:
        rows.reverse()
    items = _items(session, [dict(zip(_PAGE_COLUMNS, row, strict=True)) for row in rows],
                   campaign_min_size)

    def at(item: dict[str, Any]) -> str:
        return Cursor(item["_created_at"], item["id"]).encode()

    next_cursor = prev_cursor = None
    if items:
        if (more and not backwards) or query.before is not None:
            next_cursor = at(items[-1])
        if (more and backwards) or query.after is not None:
            prev_cursor = at(items[0])
    elif query.after is not None:
        prev_cursor = query.after.encode()
    elif query.before is not None:
        next_cursor = query.before.encode()
    for item in items:
        del item["_created_at"]
    counts = _count(session, query, snapshot) if with_counts else {}
    return QueuePage(items=items, next=next_cursor, prev=prev_cursor, counts=counts)


def _response_item(response: Response | None) -> dict[str, str] | None:
    if response is None:
        return None
    return {"outcome": response.outcome, "text_sq": response.text_sq,
            "text_en": response.text_en}


def _campaign_sizes(session: Session, campaign_ids: set[int], min_size: int) -> dict[int, int]:
    """The size of each campaign that is large enough to be shown as one."""
    if not campaign_ids:
        return {}
    found = session.connection().execute(
        select(CAMPAIGN.c.id, CAMPAIGN.c.size)
        .where(CAMPAIGN.c.id.in_(sorted(campaign_ids)), CAMPAIGN.c.size >= min_size))
    return {row.id: row.size for row in found.all()}


def _items(session: Session, rows: list[dict[str, Any]],
           campaign_min_size: int) -> list[dict[str, Any]]:
    """The keys the queue has always listed, and a few more (version, channel, created_at,
    the secretariat's response, the campaign when it is shown as one)."""
    ids = [row["id"] for row in rows]
    sizes = _campaign_sizes(session, {row["campaign_id"] for row in rows
                                      if row["campaign_id"] is not None}, campaign_min_size)
    labels = commitments_by_comment(session, ids)
    responses = responses_by_comment(session, ids)
    redactions = all_redactions(session, ids)
    unsure = low_confidence_ids(session, ids)
    inbound_ids = [row["inbound_id"] for row in rows]
    message_ids: dict[int, str | None] = {}
    if inbound_ids:
        found = session.connection().execute(
            select(INBOUND.c.id, INBOUND.c.message_id).where(INBOUND.c.id.in_(inbound_ids)))
        message_ids = {row.id: row.message_id for row in found.all()}
    return [
        {
            "id": row["id"],
            "status": row["status"],
            "subject": row["subject"],
            "commitments": labels.get(row["id"], []),
            "language": row["language"],
            "message_id": message_ids.get(row["inbound_id"]),
            "inbound_id": row["inbound_id"],
            "received_at": row["received_at"].isoformat() if row["received_at"] else None,
            "reject_reason": row["reject_reason"],
            "version": row["version"],
            "channel": row["channel"],
            "created_at": row["created_at"].isoformat(),
            "has_attachments": bool(row["has_attachments"]),
            "released": bool(row["released"]),
            "response": _response_item(responses.get(row["id"])),
            "redactions": summary(redactions, row["id"]),
            "author_public": row["author_public"],
            "low_confidence": row["id"] in unsure,
            # None when alone or in a group below the minimum size (moderated one by one).
            "campaign_id": row["campaign_id"] if row["campaign_id"] in sizes else None,
            "campaign_size": sizes.get(row["campaign_id"]),
            "_created_at": row["created_at"],
        }
        for row in rows
    ]
