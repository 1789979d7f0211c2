"""The public record pages with a cache: a republish rebuilds only the weeks that changed,
and the pages are the same with or without the cache."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text
from sqlmodel import col

from config.catalogue import default_catalogue
from moderation.models import Comment, InboundMessage
from publish.digest import Period, statistics_of
from publish.digest_load import load_digest, snapshot
from publish.digest_render import STATISTICS_PAGE, SitePage, render_statistics
from publish.digest_site import (
    STATISTICS_CHARTS,
    RecordReport,
    record_files,
    record_files_reported,
)
from tests.unit.publish.digest_consultation import ZONE, Generated, generate

CATALOGUE = default_catalogue()
NOW = datetime(2020, 10, 20, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)


@pytest.fixture
def consultation(engine: Engine) -> Generated:
    return generate(engine, comments=300)


def build(engine: Engine, cache: Path | None,
          at: datetime = NOW) -> tuple[dict[str, str], RecordReport]:
    with snapshot(engine) as session:
        return record_files_reported(session, CATALOGUE, at, str(ZONE), cache=cache)


def plain(engine: Engine, at: datetime = NOW) -> dict[str, str]:
    with snapshot(engine) as session:
        return record_files(session, CATALOGUE, at, str(ZONE))


def change(engine: Engine, statement: str, comment_id: int | None = None) -> None:
    """A moderator's change as the database sees it: every change bumps the version."""
    with engine.begin() as connection:
        connection.execute(text(statement), {"id": comment_id})


def published_in(engine: Engine, week: int) -> int:
    """A published comment received in ``week`` (ISO week of 2020, local time)."""
    with engine.connect() as connection:
        rows = connection.execute(select(col(Comment.id), col(InboundMessage.created_at))
                                  .join(InboundMessage,
                                        col(InboundMessage.id) == col(Comment.inbound_id))
                                  .where(col(Comment.status) == "published")
                                  .order_by(col(Comment.id))).all()
    return next(int(i) for i, at in rows if at.astimezone(ZONE).isocalendar()[1] == week)


def week_pages(files: dict[str, str]) -> list[str]:
    return sorted(name for name in files
                  if name.startswith("digests/20") and name.endswith(".html"))


def test_with_the_cache_a_republish_without_change_builds_no_week(
        engine: Engine, consultation: Generated, tmp_path: Path) -> None:
    cache = tmp_path / "records-cache"
    cold, first = build(engine, cache)
    assert first.weeks == len(week_pages(cold)) >= 5
    assert first.weeks_rebuilt == first.weeks
    assert first.weeks_recounted >= first.weeks
    assert cold == plain(engine)  # the cache changes nothing in what is published

    warm, second = build(engine, cache, LATER)
    assert second == RecordReport(weeks=first.weeks, weeks_rebuilt=0, weeks_recounted=0)
    # The weeks come from the cache as they were; the index and the statistics say when
    # they were updated, and nothing else of them changes.
    changed = {name for name in cold if cold[name] != warm[name]}
    assert changed == {"digests/index.html", "statistics.html"}
    fresh = plain(engine, LATER)
    for name in changed:
        assert warm[name] == fresh[name]


def test_a_change_in_one_week_rebuilds_that_week_only(
        engine: Engine, consultation: Generated, tmp_path: Path) -> None:
    cache = tmp_path / "records-cache"
    before, _ = build(engine, cache)
    # A published comment of week 38 changes its language (a moderator's correction).
    change(engine, "UPDATE comment SET language = CASE WHEN language = 'en' THEN 'sq' "
                   "ELSE 'en' END, version = version + 1 WHERE id = :id",
           published_in(engine, 38))
    after, report = build(engine, cache)
    assert report.weeks_rebuilt == 1
    assert report.weeks_recounted == 1  # the statistics count every comment
    changed = {name for name in before if before[name] != after[name]}
    assert changed == {"digests/2020-W38.html"}
    assert after == plain(engine)


def test_a_comment_leaving_the_site_rebuilds_its_week_and_the_index(
        engine: Engine, consultation: Generated, tmp_path: Path) -> None:
    cache = tmp_path / "records-cache"
    before, _ = build(engine, cache)
    change(engine, "UPDATE comment SET status = 'withdrawn', version = version + 1 "
                   "WHERE id = (SELECT max(id) FROM comment WHERE status = 'published')")
    after, report = build(engine, cache)
    assert report.weeks_rebuilt == 1
    assert after == plain(engine)
    assert after["digests/index.html"] != before["digests/index.html"]


def test_a_change_only_moderators_see_rebuilds_the_statistics_not_the_weeks(
        engine: Engine, consultation: Generated, tmp_path: Path) -> None:
    cache = tmp_path / "records-cache"
    build(engine, cache)
    change(engine, "UPDATE comment SET status = 'rejected', reject_code = 'spam', "
                   "version = version + 1 "
                   "WHERE id = (SELECT min(id) FROM comment WHERE status = 'pending')")
    after, report = build(engine, cache)
    assert report.weeks_rebuilt == 0
    assert report.weeks_recounted == 1
    assert after == plain(engine)


def test_the_statistics_counted_a_week_at_a_time_are_those_of_all_comments_at_once(
        engine: Engine, consultation: Generated, tmp_path: Path) -> None:
    files, _ = build(engine, tmp_path / "records-cache")
    with snapshot(engine) as session:
        everything = load_digest(session, CATALOGUE, Period(None, None, ZONE), NOW,
                                 public_only=False, with_quotes=False)
    page = render_statistics(statistics_of(everything), CATALOGUE, NOW, ZONE,
                             site=SitePage(STATISTICS_PAGE, STATISTICS_CHARTS))
    assert files[STATISTICS_PAGE] == page.html
    for name, svg in page.files.items():
        assert files[name] == svg


def test_a_lost_or_damaged_cache_only_costs_a_rebuild(
        engine: Engine, consultation: Generated, tmp_path: Path) -> None:
    cache = tmp_path / "records-cache"
    before, first = build(engine, cache)
    (cache / "manifest.json").write_text("{not json", encoding="utf-8")
    after, report = build(engine, cache)
    assert report.weeks_rebuilt == first.weeks
    assert after == before
