"""The moderation queue: search kept by the database, filters, keyset pages, tab counts,
and the ``queue`` command's flags."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, bindparam, event, text
from sqlmodel import Session
from sqlmodel.sql.sqltypes import UTCDateTime

from config.catalogue import default_catalogue
from config.settings import Settings
from moderation.queue import (
    MAX_LIMIT,
    Cursor,
    QueueError,
    QueuePage,
    QueueQuery,
    fetch_queue,
    fts5_match,
    parse_queue_query,
    search_terms,
)
from tests.conftest import run_cli
from tests.unit.factories import SQLITE_ONLY, make_comment

CATALOGUE = default_catalogue()
T0 = datetime(2021, 3, 1, 8, 0, tzinfo=UTC)


def insert_comment(engine: Engine, *, subject: str = "Koment", body: str = "Tekst",
                   created_at: datetime = T0, status: str = "pending", language: str = "sq",
                   channel: str = "imap", has_attachments: bool = False,
                   released: bool = False, commitments: tuple[str, ...] = ()) -> int:
    """A comment written by hand-made SQL, as a script or an operator might: no ORM."""
    stamp = bindparam("at", created_at, type_=UTCDateTime())
    raw = f"Subject: {subject}\r\n\r\n{body}\r\n{uuid.uuid4()}".encode()
    with engine.begin() as conn:
        inbound_id = conn.execute(text(
            "INSERT INTO inbound_message (created_at, updated_at, source, sha256, size, raw, "
            "status, attempts) VALUES (:at, :at, :source, :sha, :size, :raw, 'processed', 1) "
            "RETURNING id").bindparams(stamp),
            {"source": channel, "sha": hashlib.sha256(raw).hexdigest(), "size": len(raw),
             "raw": raw}).scalar_one()
        comment_id = conn.execute(text(
            "INSERT INTO comment (inbound_id, created_at, updated_at, status, subject, "
            "author_name, author_email, language, text, display_html, version, channel, "
            "has_attachments, released) VALUES (:inbound, :at, :at, :status, :subject, '', "
            "'x@example.org', :language, :body, '', 1, :channel, :attachments, :released) "
            "RETURNING id").bindparams(stamp),
            {"inbound": inbound_id, "status": status, "subject": subject, "language": language,
             "body": body, "channel": channel, "attachments": has_attachments,
             "released": released}).scalar_one()
        for commitment in commitments:
            conn.execute(text("INSERT INTO comment_commitment (comment_id, commitment_id, score) "
                              "VALUES (:c, :k, 1.0)"), {"c": comment_id, "k": commitment})
    return int(comment_id)


def page(engine: Engine, **params: str) -> QueuePage:
    query = parse_queue_query(params, CATALOGUE)
    with Session(engine) as session:
        return fetch_queue(session, query)


def ids(engine: Engine, **params: str) -> list[int]:
    return [item["id"] for item in page(engine, **params).items]


# ---------------------------------------------------------------- pure values

def test_cursor_round_trips_and_is_url_safe() -> None:
    cursor = Cursor(datetime(2021, 3, 1, 8, 0, 0, 123456, tzinfo=UTC), 98765)
    token = cursor.encode()
    assert token.replace("-", "").replace("_", "").isalnum()
    assert Cursor.decode(token) == cursor


@pytest.mark.parametrize("token", [
    "garbage!", "Zm9v", "", "A" * 200,
    Cursor(T0, 5).encode()[:-3],  # cut short
    "MjAyMS0wMy0wMVQwODowMDowMC4wMDAwMDB8MA",  # id 0
    "MjAyMS0xMy0wMVQwODowMDowMC4wMDAwMDB8NQ",  # month 13
])
def test_bad_cursor_is_refused_with_a_clear_message(token: str) -> None:
    with pytest.raises(QueueError, match="cursor is not valid"):
        Cursor.decode(token)


def test_search_input_is_quoted_for_fts5() -> None:
    assert search_terms('  e-Albania  AND "x" -- ... ') == ["e-Albania", "AND", '"x"']
    assert fts5_match(["e-Albania", "AND", '"x"', "NEAR(a*"]) == (
        '"e-Albania" "AND" """x""" "NEAR(a*"')


@pytest.mark.parametrize(("params", "message"), [
    ({"status": "bogus"}, "status must be one of pending, approved"),
    ({"commitment": "11"}, "commitment must be one of 1, 2"),
    ({"component": "nope"}, "component must be one of"),
    ({"language": "de"}, "language must be one of sq, en, mixed, und"),
    ({"channel": "fax"}, "channel must be one of imap, import, form"),
    ({"has_attachments": "yes"}, "has_attachments must be 1 or 0"),
    ({"sort": "random"}, "sort must be one of newest, oldest"),
    ({"limit": "0"}, f"limit must be a whole number from 1 to {MAX_LIMIT}"),
    ({"limit": str(MAX_LIMIT + 1)}, "limit must be a whole number"),
    ({"limit": "-5"}, "limit must be a whole number"),
    ({"after": Cursor(T0, 1).encode(), "before": Cursor(T0, 2).encode()}, "not both"),
    ({"q": "fjalë " * 50}, "too long"),
])
def test_invalid_parameters_are_refused(params: dict[str, str], message: str) -> None:
    with pytest.raises(QueueError, match=message):
        parse_queue_query(params, CATALOGUE)


def test_query_survives_a_trip_through_its_url_parameters() -> None:
    query = parse_queue_query({
        "status": "all", "commitment": "general", "component": "digital_governance",
        "language": "en", "channel": "form", "q": "  open   data ", "has_attachments": "0",
        "released": "1", "sort": "oldest", "after": Cursor(T0, 7).encode(), "limit": "20",
    }, CATALOGUE)
    assert query.q == "open data"
    assert query.has_attachments is False
    assert query.released is True
    assert parse_queue_query(query.to_params(), CATALOGUE) == query
    assert QueueQuery().to_params() == {}
    # Empty form fields mean "no filter".
    assert parse_queue_query({"commitment": "", "language": "", "q": ""}, CATALOGUE) == QueueQuery()


# ---------------------------------------------------------------- search

def test_search_ignores_diacritics_and_case(engine: Engine) -> None:
    greeting = make_comment(engine, text="Përshëndetje! Shërbimet në e-Albania nuk punojnë.",
                            subject="Çështje për portalin")
    plain = make_comment(engine, text="Pershendetje, buxheti i qytetarit duhet botuar.",
                         subject="Buxheti")
    other = make_comment(engine, text="The open data portal is down again.",
                         subject="Open data")
    assert sorted(ids(engine, q="pershendetje")) == sorted([greeting, plain])
    assert sorted(ids(engine, q="PËRSHËNDETJE")) == sorted([greeting, plain])
    assert ids(engine, q="sherbimet") == [greeting]
    assert ids(engine, q="ceshtje") == [greeting]  # the subject is searched too
    assert ids(engine, q="Open DATA") == [other]
    assert ids(engine, q="open buxheti") == []  # every word must be there
    assert ids(engine, q='"AND" NEAR(') == []  # FTS5 syntax is just text


def test_rows_written_without_the_orm_are_searchable(engine: Engine) -> None:
    comment_id = insert_comment(engine, subject="Drejtësia", body="Gjykatat e Tiranës vonojnë.")
    assert ids(engine, q="tiranes") == [comment_id]
    # A hand-written UPDATE moves the index with it: the old word no longer finds it.
    with engine.begin() as conn:
        conn.execute(text("UPDATE comment SET text = 'Prokuroria në Durrës' WHERE id = :id"),
                     {"id": comment_id})
    assert ids(engine, q="tiranes") == []
    assert ids(engine, q="durres") == [comment_id]
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM comment WHERE id = :id"), {"id": comment_id})
    assert ids(engine, q="durres") == []


# ---------------------------------------------------------------- filters and counts

def test_filters_and_counts_per_status(engine: Engine) -> None:
    at = [T0 + timedelta(minutes=n) for n in range(6)]
    budget = insert_comment(engine, body="Buxheti", created_at=at[0], commitments=("9",),
                            language="sq", channel="imap")
    portal = insert_comment(engine, body="Portal", created_at=at[1], commitments=("4", "9"),
                            language="en", channel="form", has_attachments=True)
    general = insert_comment(engine, body="Përgjithshëm", created_at=at[2],
                             commitments=("general",), language="mixed", channel="import",
                             released=True)
    approved = insert_comment(engine, body="Buxheti miratuar", created_at=at[3],
                              commitments=("9",), status="approved")
    rejected = insert_comment(engine, body="Spam", created_at=at[4], status="rejected")
    withdrawn = insert_comment(engine, body="Tërhequr", created_at=at[5], status="withdrawn")

    assert ids(engine) == [general, portal, budget]  # pending, newest first
    assert ids(engine, sort="oldest") == [budget, portal, general]
    assert ids(engine, status="all") == [withdrawn, rejected, approved, general, portal, budget]
    assert ids(engine, status="withdrawn") == [withdrawn]
    assert ids(engine, commitment="9") == [portal, budget]
    assert ids(engine, commitment="9", status="all") == [approved, portal, budget]
    assert ids(engine, commitment="general") == [general]
    fiscal = next(c.component_id for c in CATALOGUE.commitments if c.id == "9")
    digital = next(c.component_id for c in CATALOGUE.commitments if c.id == "4")
    assert fiscal != digital
    assert ids(engine, component=digital) == [portal]
    assert ids(engine, component=fiscal, status="all") == [approved, portal, budget]
    assert ids(engine, language="en") == [portal]
    assert ids(engine, channel="import") == [general]
    assert ids(engine, has_attachments="1") == [portal]
    assert ids(engine, has_attachments="0") == [general, budget]
    assert ids(engine, released="1") == [general]
    assert ids(engine, q="buxheti", status="all") == [approved, budget]

    counts = page(engine, commitment="9").counts
    assert counts == {"pending": 2, "approved": 1, "rejected": 0, "published": 0,
                      "withdrawn": 0, "all": 3}
    # The counts ignore the status shown: the tabs say what each one would list.
    assert page(engine, commitment="9", status="approved").counts == counts
    assert page(engine).counts == {"pending": 3, "approved": 1, "rejected": 1,
                                   "published": 0, "withdrawn": 1, "all": 6}


def test_items_keep_the_list_comments_keys_and_add_version_channel_created_at(
    engine: Engine,
) -> None:
    comment_id = make_comment(engine, text="Shërbimet online në e-Albania nuk funksionojnë.")
    [item] = page(engine).items
    assert item["id"] == comment_id
    for key in ("id", "status", "subject", "commitments", "language", "message_id",
                "inbound_id", "received_at", "reject_reason", "version", "channel",
                "created_at"):
        assert key in item, key
    assert item["message_id"].endswith("@example.org>")
    assert item["commitments"]  # the classifier's labels
    assert item["version"] == 1
    assert item["channel"] == "import"


POSTGRESQL_ONLY = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


def test_tab_counts_follow_every_commit(engine: Engine) -> None:
    first = insert_comment(engine, commitments=("9",))
    assert page(engine, commitment="9").counts["pending"] == 1
    insert_comment(engine, commitments=("9",), created_at=T0 + timedelta(minutes=1))
    assert page(engine, commitment="9").counts["pending"] == 2
    with engine.begin() as conn:
        conn.execute(text("UPDATE comment SET status = 'approved' WHERE id = :id"),
                     {"id": first})
    counts = page(engine, commitment="9").counts
    assert (counts["pending"], counts["approved"], counts["all"]) == (1, 1, 2)


@POSTGRESQL_ONLY
def test_counts_of_an_unchanged_database_are_not_counted_again(engine: Engine) -> None:
    insert_comment(engine, commitments=("9",))
    insert_comment(engine, commitments=("9",), created_at=T0 + timedelta(minutes=1))
    counted: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if "GROUP BY" in statement:
            counted.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    first = page(engine, commitment="9", limit="1")
    assert first.next is not None
    # The next page, another status tab: same filters, same snapshot, no new count.
    page(engine, commitment="9", limit="1", after=first.next)
    page(engine, commitment="9", status="approved")
    assert len(counted) == 1
    page(engine, commitment="4")  # other filters: counted
    assert len(counted) == 2
    with engine.begin() as conn:  # any commit ends the snapshot
        conn.execute(text("UPDATE comment SET status = 'rejected' WHERE id = (SELECT min(id) "
                          "FROM comment)"))
    assert page(engine, commitment="9").counts["rejected"] == 1
    assert len(counted) == 3


# ---------------------------------------------------------------- keyset pages

def _walk(engine: Engine, limit: int, **params: str) -> tuple[list[int], list[int]]:
    """Every id going forwards by ``next``, then back from the last page by ``prev``."""
    forwards: list[int] = []
    pages: list[QueuePage] = []
    cursor: dict[str, str] = {}
    while True:
        current = page(engine, limit=str(limit), **params, **cursor)
        pages.append(current)
        forwards += [item["id"] for item in current.items]
        if current.next is None:
            break
        cursor = {"after": current.next}
        assert len(pages) < 100, "paging does not end"
    backwards = [item["id"] for item in pages[-1].items]
    current = pages[-1]
    while current.prev is not None:
        current = page(engine, limit=str(limit), before=current.prev, **params)
        backwards = [item["id"] for item in current.items] + backwards
        assert len(backwards) < 1000, "paging back does not end"
    return forwards, backwards


@pytest.mark.parametrize("sort", ["newest", "oldest"])
def test_keyset_pages_visit_every_row_once_with_ties(engine: Engine, sort: str) -> None:
    # 17 comments on 5 distinct timestamps: most pages split a group of equal created_at.
    made = [(T0 + timedelta(seconds=n % 5), insert_comment(engine, created_at=T0 + timedelta(
        seconds=n % 5), body=f"koment {n}")) for n in range(17)]
    insert_comment(engine, created_at=T0, status="approved")  # another tab: never listed
    expected = [comment_id for _, comment_id in sorted(made, reverse=sort == "newest")]
    for limit in (1, 3, 4, 17, 50):
        forwards, backwards = _walk(engine, limit, sort=sort)
        assert forwards == expected, limit
        assert backwards == expected, limit
    first = page(engine, limit="4", sort=sort)
    assert first.prev is None
    assert first.next is not None


def test_a_page_after_the_last_row_is_empty_and_leads_back(engine: Engine) -> None:
    only = insert_comment(engine)
    empty = page(engine, after=Cursor(T0, only).encode())
    assert empty.items == []
    assert empty.next is None
    assert empty.prev is not None
    assert [item["id"] for item in page(engine, before=empty.prev).items] == []
    assert ids(engine, before=Cursor(T0 + timedelta(days=1), 1).encode(), sort="oldest") == [only]


# ---------------------------------------------------------------- the command

@SQLITE_ONLY
def test_queue_command_filters_pages_and_prints_the_next_cursor(
    settings: Settings, engine: Engine
) -> None:
    first = insert_comment(engine, body="Përshëndetje nga Shkodra", created_at=T0,
                           commitments=("3",), language="sq")
    second = insert_comment(engine, body="Pershendetje from Vlora", created_at=T0,
                            commitments=("3",), language="mixed", channel="form")
    insert_comment(engine, body="Nothing to do with it", created_at=T0, commitments=("5",),
                   language="en")

    found = run_cli(settings, "queue", "--q", "PERSHENDETJE", "--commitment", "3", "--json")
    assert found.returncode == 0, found.stderr
    items = json.loads(found.stdout)
    assert [item["id"] for item in items] == [second, first]
    assert set(items[0]) >= {"id", "status", "subject", "commitments", "language",
                             "message_id", "version"}
    assert items[0]["version"] == 1

    only_form = run_cli(settings, "queue", "--channel", "form", "--language", "mixed", "--json")
    assert [item["id"] for item in json.loads(only_form.stdout)] == [second]

    human = run_cli(settings, "queue", "--q", "pershendetje", "--limit", "1", "--sort", "oldest")
    assert human.returncode == 0, human.stderr
    assert human.stdout.lstrip().startswith(str(first))
    token = human.stdout.split("--after ", 1)[1].split()[0]
    rest = run_cli(settings, "queue", "--q", "pershendetje", "--limit", "1", "--sort", "oldest",
                   "--after", token, "--json")
    assert [item["id"] for item in json.loads(rest.stdout)] == [second]


@SQLITE_ONLY
def test_queue_command_refuses_bad_values(settings: Settings) -> None:
    bad = run_cli(settings, "queue", "--commitment", "42")
    assert bad.returncode == 2
    assert "commitment must be one of" in bad.stderr
    cursor = run_cli(settings, "queue", "--after", "not-a-cursor")
    assert cursor.returncode == 2
    assert "cursor is not valid" in cursor.stderr

