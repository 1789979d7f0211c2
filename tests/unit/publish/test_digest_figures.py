"""Every figure of the JSON digest, checked against the database by SQL written here.

A generated consultation (600 comments over six weeks, ``digest_consultation``) is read
by ``load_digest`` and written as JSON; each count and each list of ids is compared with
a query of this test's own. The SQL counts; the test computes no figure in Python except
the median (SQL has no portable median).
"""

from __future__ import annotations

import json
import re
import statistics
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, bindparam, text
from sqlmodel import Session

from config.catalogue import default_catalogue
from moderation.models import InboundMessage, RejectCode, ResponseOutcome
from publish.digest import Period
from publish.digest_load import load_digest, snapshot
from publish.digest_render import Links, SitePage, digest_page, render
from tests.unit.publish.digest_consultation import ZONE, Generated, generate

CATALOGUE = default_catalogue()
ADDRESS = re.compile(r"[\w.%+\-]+@[\w\-]+(?:\.[\w\-]+)+")
NOW = datetime(2020, 10, 20, 12, 0, tzinfo=UTC)
AT = InboundMessage.__table__.c.created_at.type  # type: ignore[attr-defined]
# Weeks 38 to 40: begins at local midnight between the two comments of the midnight pair.
SINCE, UNTIL = date(2020, 9, 14), date(2020, 10, 4)

IN_PERIOD = """
    FROM comment c JOIN inbound_message m ON m.id = c.inbound_id
    WHERE m.created_at >= :start AND m.created_at < :end {extra}
"""


@pytest.fixture
def consultation(engine: Engine) -> Generated:
    return generate(engine)


def bounds(since: date | None, until: date | None) -> dict[str, datetime]:
    start = datetime.combine(since, datetime.min.time(), ZONE) if since else \
        datetime(1970, 1, 1, tzinfo=UTC)
    end = datetime.combine(until + timedelta(days=1), datetime.min.time(), ZONE) if until \
        else datetime(2100, 1, 1, tzinfo=UTC)
    return {"start": start, "end": end}


class Sql:
    """The test's own queries over the comments received in one period."""

    def __init__(self, session: Session, since: date | None, until: date | None,
                 published_only: bool = False) -> None:
        self.session = session
        self.params: dict[str, Any] = bounds(since, until)
        self.where = "AND c.status = 'published'" if published_only else ""

    def ids(self, select: str, extra: str = "", joins: str = "",
            **params: Any) -> list[int]:
        sql = f"SELECT DISTINCT {select} " + IN_PERIOD.format(extra=f"{self.where} {extra}")
        sql = sql.replace("WHERE", f"{joins} WHERE", 1)
        statement = text(sql).bindparams(bindparam("start", type_=AT),
                                         bindparam("end", type_=AT))
        rows = self.session.connection().execute(statement, {**self.params, **params})
        return sorted(int(row[0]) for row in rows)

    def grouped(self, key: str, joins: str = "", extra: str = "") -> dict[str, list[int]]:
        sql = f"SELECT {key}, c.id " + IN_PERIOD.format(extra=f"{self.where} {extra}")
        sql = sql.replace("WHERE", f"{joins} WHERE", 1)
        statement = text(sql).bindparams(bindparam("start", type_=AT),
                                         bindparam("end", type_=AT))
        groups: dict[str, set[int]] = defaultdict(set)
        for group, comment_id in self.session.connection().execute(statement, self.params):
            groups[str(group)].add(int(comment_id))
        return {group: sorted(ids) for group, ids in groups.items()}


def figure(value: dict[str, Any]) -> list[int]:
    assert value["count"] == len(value["comment_ids"]), value
    return list(value["comment_ids"])


def non_empty(figures: dict[str, Any]) -> dict[str, list[int]]:
    return {key: figure(value) for key, value in figures.items() if value["count"]}


def digest_json(engine: Engine, since: date | None, until: date | None,
                public: bool = False) -> dict[str, Any]:
    with snapshot(engine) as session:
        digest = load_digest(session, CATALOGUE, Period(since, until, ZONE), NOW,
                             public_only=public)
    data: dict[str, Any] = json.loads(render(digest, CATALOGUE, "json", Links(public)))
    return data


def check_every_figure(data: dict[str, Any], sql: Sql, public: bool) -> None:
    received = sql.ids("c.id")
    assert data["received"] == len(received)
    assert data["received_ids"] == received
    for status in ("published", "approved", "rejected", "pending", "withdrawn"):
        expected = sql.ids("c.id", extra="AND c.status = :status", status=status)
        assert data[status] == len(expected), status
        assert figure(data["by_status"][status]) == expected, status

    # A comment with no commitment row is a general comment.
    labels = sql.grouped("cc.commitment_id",
                         joins="JOIN comment_commitment cc ON cc.comment_id = c.id")
    unlabelled = sql.ids("c.id", extra="AND NOT EXISTS (SELECT 1 FROM comment_commitment x "
                                       "WHERE x.comment_id = c.id)")
    labels["general"] = sorted({*labels.get("general", []), *unlabelled})
    assert non_empty(data["by_commitment"]) == {k: v for k, v in labels.items() if v}
    assert set(data["by_commitment"]) == {label.id for label in CATALOGUE.labels}

    components = sql.grouped(
        "k.component_id", joins="JOIN comment_commitment cc ON cc.comment_id = c.id "
                                "JOIN commitment k ON k.id = cc.commitment_id",
        extra="AND k.component_id IS NOT NULL")
    assert non_empty(data["by_component"]) == components
    assert non_empty(data["by_language"]) == sql.grouped("c.language")
    assert non_empty(data["by_channel"]) == sql.grouped("c.channel")
    assert set(data["by_channel"]) >= {"imap", "import", "form"}

    # Weeks: Monday 00:00 to Monday 00:00 in the consultation's time zone.
    for label, week in data["by_week"].items():
        start = date.fromisoformat(week["start"])
        assert start.weekday() == 0
        assert label == f"{start:%G-W%V}"
        week_sql = Sql(sql.session, start, start + timedelta(days=6), published_only=public)
        assert figure(week) == [i for i in week_sql.ids("c.id") if i in set(received)], label
        assert sum(week["by_status"].values()) == week["count"]
    assert sum(week["count"] for week in data["by_week"].values()) == len(received)

    reasons = sql.grouped("COALESCE(c.reject_code, 'other')", extra="AND c.status = 'rejected'")
    assert non_empty(data["rejected_by_reason"]) == reasons
    assert set(data["rejected_by_reason"]) == {code.value for code in RejectCode}

    # Response coverage: published comments of each label, and those with a response.
    responded = sql.grouped(
        "r.outcome", joins="JOIN response_comment rc ON rc.comment_id = c.id "
                           "JOIN response r ON r.id = rc.response_id",
        extra="AND c.status = 'published'")
    published = set(sql.ids("c.id", extra="AND c.status = 'published'"))
    overall = data["response_coverage_overall"]
    assert figure(overall["published"]) == sorted(published)
    assert non_empty(overall["by_outcome"]) == responded
    assert figure(overall["responded"]) == sorted({i for ids in responded.values() for i in ids})
    for label_id, coverage in data["response_coverage"].items():
        in_label = set(labels.get(label_id, []))
        assert figure(coverage["published"]) == sorted(in_label & published), label_id
        expected = {o: sorted(in_label & set(ids)) for o, ids in responded.items()}
        assert non_empty(coverage["by_outcome"]) == {o: v for o, v in expected.items() if v}
        answered = sorted({i for ids in expected.values() for i in ids})
        assert figure(coverage["responded"]) == answered
        share = coverage["share"]
        assert share == (round(len(answered) / len(in_label & published), 4)
                         if in_label & published else None), label_id

    # The median time from receipt to decision (SQL selects, Python takes the median).
    statement = text(
        "SELECT c.decided_at, m.created_at " + IN_PERIOD.format(
            extra=f"{sql.where} AND c.status IN ('approved', 'published', 'rejected') "
                  "AND c.decided_at IS NOT NULL")
    ).bindparams(bindparam("start", type_=AT), bindparam("end", type_=AT)).columns(
        decided_at=AT, created_at=AT)
    pairs = sql.session.connection().execute(statement, sql.params).all()
    hours = [(decided - created).total_seconds() / 3600 for decided, created in pairs]
    assert data["decision_time"]["count"] == len(pairs)
    assert data["decision_time"]["median_hours"] == (
        round(statistics.median(hours), 2) if hours else None)

    # Representative comments: a few of each label's own comments, never a rejected one.
    quotable = set(sql.ids("c.id", extra="AND c.status IN ('pending', 'approved', "
                                         "'published')"))
    for label_id, ids in data["representative"].items():
        assert len(ids) <= 3
        assert len(set(ids)) == len(ids)
        assert set(ids) <= set(labels.get(label_id, [])) & quotable, label_id
        if set(labels.get(label_id, [])) & quotable:
            assert ids, f"no representative comment for {label_id}"
        for comment_id in ids:
            assert data["quotes"][str(comment_id)]["reference"].startswith("OGP-")


def every_id(data: dict[str, Any]) -> set[int]:
    found: set[int] = set()

    def walk(value: Any) -> None:
        # Every list of numbers in the digest is a list of comment ids.
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list) and all(isinstance(item, int) for item in value):
            found.update(value)

    walk(data)
    found.update(int(i) for i in data["quotes"])
    found.update(int(i) for i in data["references"])
    return found


EXISTING = "SELECT id FROM comment WHERE id IN :ids"
PUBLISHED = "SELECT id FROM comment WHERE id IN :ids AND status = 'published'"


def existing(session: Session, ids: set[int], published_only: bool = False) -> set[int]:
    statement = text(PUBLISHED if published_only else EXISTING).bindparams(
        bindparam("ids", expanding=True))
    return {int(row[0]) for row in session.connection().execute(statement,
                                                                 {"ids": sorted(ids)})}


def test_the_generated_consultation_has_what_the_digest_must_count(
        engine: Engine, consultation: Generated) -> None:
    data = digest_json(engine, None, None)
    assert data["received"] >= 500
    assert len(data["by_week"]) >= 6
    assert all(data["by_language"][lang]["count"] for lang in ("sq", "en", "mixed", "und"))
    assert all(data["by_channel"][ch]["count"] for ch in ("imap", "import", "form"))
    assert all(data["rejected_by_reason"][code.value]["count"] for code in RejectCode)
    outcomes = data["response_coverage_overall"]["by_outcome"]
    assert all(outcomes[outcome.value]["count"] for outcome in ResponseOutcome)


@pytest.mark.parametrize(("since", "until"), [(None, None), (SINCE, UNTIL)],
                         ids=["whole", "three-weeks"])
def test_every_figure_of_the_staff_digest_matches_the_database(
        engine: Engine, consultation: Generated, since: date | None,
        until: date | None) -> None:
    data = digest_json(engine, since, until)
    with Session(engine) as session:
        check_every_figure(data, Sql(session, since, until), public=False)
        ids = every_id(data)
        assert ids
        assert existing(session, ids) == ids
    assert data["since"] == (since.isoformat() if since else None)


def test_every_figure_of_the_public_digest_matches_and_names_only_published_comments(
        engine: Engine, consultation: Generated) -> None:
    data = digest_json(engine, SINCE, UNTIL, public=True)
    with Session(engine) as session:
        check_every_figure(data, Sql(session, SINCE, UNTIL, published_only=True),
                           public=True)
        ids = every_id(data)
        assert ids
        assert existing(session, ids, published_only=True) == ids
    assert data["rejected"] == data["pending"] == data["approved"] == 0


def test_days_are_counted_in_the_consultation_time_zone(
        engine: Engine, consultation: Generated) -> None:
    """Sunday 23:50 and Monday 00:10 in Tirana are the same UTC day, in different weeks."""
    data = digest_json(engine, SINCE, UNTIL)
    assert consultation.monday_early in data["received_ids"]
    assert consultation.sunday_late not in data["received_ids"]
    whole = digest_json(engine, None, None)
    assert consultation.sunday_late in whole["by_week"]["2020-W37"]["comment_ids"]
    assert consultation.monday_early in whole["by_week"]["2020-W38"]["comment_ids"]


def test_a_campaign_of_identical_letters_is_quoted_once(
        engine: Engine, consultation: Generated) -> None:
    data = digest_json(engine, None, None)
    quoted = [i for i in data["representative"]["2"] if i in consultation.campaign_ids]
    assert len(quoted) <= 1
    # Deterministic: the same database gives the same quotes.
    assert digest_json(engine, None, None)["representative"] == data["representative"]


@pytest.mark.parametrize("fmt", ["json", "csv", "md", "html", "site"])
def test_the_public_digest_carries_no_personal_data_and_no_unpublished_words(
        engine: Engine, consultation: Generated, fmt: str) -> None:
    with snapshot(engine) as session:
        digest = load_digest(session, CATALOGUE, Period(None, None, ZONE), NOW,
                             public_only=True)
    if fmt == "site":  # the public site's page and its chart files
        page = digest_page(digest, CATALOGUE, Links(public=True, prefix="../"),
                           site=SitePage("digests/all.html", "digests/charts"))
        assert page.files
        output = "\n".join([page.html, *page.files.values()])
    else:
        output = render(digest, CATALOGUE, fmt, Links(public=True))
    leaked = {secret: why for secret, why in consultation.secrets.items() if secret in output}
    assert leaked == {}
    unpublished = [token for token in consultation.unpublished_tokens if token in output]
    assert unpublished == []
    assert ADDRESS.findall(output) == []
