"""Atom feeds: they parse, hold the right comments newest first, and never change by
themselves (the same comments give the same bytes)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import feedparser

from intake.receipts import reference_for
from intake.sanitize import display_html
from moderation.public import CommentPublic
from publish import urls
from publish.feeds import MAX_ENTRIES, atom_feed

SITE = "https://ogp.example.al/"
EMPTY_UPDATED = datetime(2020, 9, 1, tzinfo=UTC)
START = datetime(2020, 9, 2, 8, 0, tzinfo=UTC)


def comment(comment_id: int, *, published: datetime | None = None, subject: str = "Koment",
            text: str = "Portali i të dhënave të hapura duhet të ketë buxhetin e bashkive.",
            commitments: tuple[str, ...] = ("4",), author: str | None = None,
            received: datetime | None = None) -> CommentPublic:
    return CommentPublic(
        id=comment_id, reference=reference_for(comment_id + 100), subject=subject,
        text=text, display_html=display_html(text), language="sq", commitments=commitments,
        received_at=received or START, published_at=published, author=author,
    )


def feed(comments: list[CommentPublic], *, site_url: str = SITE,
         self_path: str = "sq/feed.atom") -> bytes:
    return atom_feed(comments, language="sq", self_path=self_path, title="Komentet e publikuara",
                     site_url=site_url, updated=EMPTY_UPDATED)


def parse(document: bytes) -> feedparser.FeedParserDict:
    parsed = feedparser.parse(document)
    assert not parsed.bozo, parsed.get("bozo_exception")
    return parsed


def test_entries_are_newest_first_with_their_page() -> None:
    comments = [comment(i, published=START + timedelta(hours=i)) for i in range(1, 4)]
    parsed = parse(feed(comments))
    references = [reference_for(i + 100) for i in (3, 2, 1)]
    assert [entry.link for entry in parsed.entries] == [
        SITE + urls.comment_page("sq", reference) for reference in references]
    assert [entry.id for entry in parsed.entries] == [
        "tag:ogp-feedback,2020:" + urls.comment_page("sq", reference) for reference in references]
    assert [entry.title for entry in parsed.entries] == [f"{r}: Koment" for r in references]
    assert parsed.feed.language == "sq"


def test_same_date_orders_by_id_newest_first() -> None:
    comments = [comment(i, published=START) for i in (5, 9, 7)]
    parsed = parse(feed(comments))
    assert [entry.id.rsplit("/", 1)[1] for entry in parsed.entries] == [
        "OGP-000109.html", "OGP-000107.html", "OGP-000105.html"]


def test_at_most_fifty_entries_the_newest() -> None:
    comments = [comment(i, published=START + timedelta(minutes=i)) for i in range(1, 61)]
    parsed = parse(feed(comments))
    assert len(parsed.entries) == MAX_ENTRIES == 50
    assert parsed.entries[0].id.endswith("OGP-000160.html")
    assert parsed.entries[-1].id.endswith("OGP-000111.html")


def test_entry_content_dates_categories_and_author() -> None:
    published = datetime(2020, 10, 1, 9, 30, tzinfo=UTC)
    text = "Propozim <i>i rëndësishëm</i> & i qartë: https://opendata.gov.al"
    document = feed([comment(1, published=published, text=text, commitments=("1", "4"),
                             author="Arbër Çela")])
    entry = parse(document).entries[0]
    assert entry.content[0].type == "text/html"
    assert entry.content[0].value == display_html(text).strip()
    assert entry.published == entry.updated == "2020-10-01T09:30:00+00:00"
    assert [tag.term for tag in entry.tags] == ["1", "4"]
    assert entry.author == "Arbër Çela"


def test_anonymous_comment_has_no_author_and_no_address() -> None:
    document = feed([comment(1, published=START, text="Shkruani te [e-mail] për më shumë.")])
    entry = parse(document).entries[0]
    assert "author" not in entry
    assert b"@" not in document.replace(b"@SUM", b"")


def test_feed_updated_is_the_newest_entry_not_now() -> None:
    newest = START + timedelta(days=3)
    parsed = parse(feed([comment(1, published=START), comment(2, published=newest)]))
    assert parsed.feed.updated == newest.isoformat()


def test_same_comments_give_identical_bytes() -> None:
    comments = [comment(i, published=START + timedelta(hours=i)) for i in range(1, 6)]
    first = feed(comments)
    assert feed(list(reversed(comments))) == first
    assert feed(comments) == first


def test_a_new_comment_changes_the_bytes() -> None:
    comments = [comment(i, published=START + timedelta(hours=i)) for i in range(1, 4)]
    assert feed(comments) != feed([*comments, comment(9, published=START + timedelta(days=1))])


def test_received_date_stands_in_for_a_missing_publication_date() -> None:
    received = datetime(2020, 9, 5, 7, 0)  # naive, as SQLite returns it: taken as UTC
    entry = parse(feed([comment(1, received=received)])).entries[0]
    assert entry.published == "2020-09-05T07:00:00+00:00"


def test_empty_feed_is_valid_and_dated_by_the_caller() -> None:
    parsed = parse(feed([]))
    assert parsed.entries == []
    assert parsed.feed.updated == EMPTY_UPDATED.isoformat()


def test_without_site_url_links_are_relative_to_the_feed() -> None:
    self_path = urls.commitment_feed("en", "4")
    document = atom_feed([comment(1, published=START)], language="en", self_path=self_path,
                         title="Commitment 4", site_url="", updated=EMPTY_UPDATED)
    parsed = parse(document)
    reference = reference_for(101)
    assert parsed.entries[0].link == urls.relative(self_path, urls.comment_page("en", reference))
    alternate = [link.href for link in parsed.feed.links if link.rel == "alternate"]
    assert alternate == [urls.relative(self_path, urls.commitment_page("en", "4"))]


def test_control_characters_and_markup_in_a_subject_do_not_break_the_feed() -> None:
    subject = "Buxheti \x0c<b>2021</b> & \"të dhënat\""
    entry = parse(feed([comment(1, published=START, subject=subject)])).entries[0]
    assert entry.title == f"{reference_for(101)}: Buxheti <b>2021</b> & \"të dhënat\""
