"""The queue page as a browser without JavaScript uses it: filters in the URL, status tabs
with counts, keyset pages, one bulk form, and a 400 for a value it cannot use."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import Engine

from config.settings import Settings
from moderation.db import session_scope
from moderation.models import CommentStatus
from moderation.users import add_user
from moderation.web.app import create_app
from tests.unit.factories import SQLITE_ONLY, load_comment, make_comment
from tests.unit.moderation.test_queue import T0, insert_comment
from tests.unit.moderation.web.staff import TestClient, log_in

pytestmark = pytest.mark.usefixtures("fast_hasher")

USER, PASSWORD = "arben", "radha-e-gjate-2021"
ROW = re.compile(r'<tr data-href="/comments/(\d+)">')


@dataclass
class Moderator:
    client: TestClient
    engine: Engine
    csrf: str

    def queue(self, url: str = "/queue", status: int = 200) -> str:
        response = self.client.get(url)
        assert response.status_code == status, response.text
        return response.text


def rows(page: str) -> list[int]:
    return [int(n) for n in ROW.findall(page)]


def link(page: str, rel: str) -> str | None:
    match = re.search(rf'<a rel="{rel}" href="([^"]+)"', page)
    return html.unescape(match.group(1)) if match else None


@pytest.fixture
def moderator(settings: Settings, engine: Engine) -> Iterator[Moderator]:
    with session_scope(engine) as session:
        add_user(session, USER, "moderator", PASSWORD)
    with TestClient(create_app(settings, engine=engine), follow_redirects=False) as client:
        yield Moderator(client, engine, log_in(client, USER, PASSWORD))


def test_search_and_filters_live_in_the_url(moderator: Moderator) -> None:
    greeting = make_comment(moderator.engine, subject="Përshëndetje nga Korça",
                            text="Përshëndetje! Portali e-Albania nuk punon.")
    budget = make_comment(moderator.engine, subject="Budget", text="The citizens' budget is late.")
    page = moderator.queue("/queue?q=pershendetje")
    assert rows(page) == [greeting]
    assert "Përshëndetje nga Korça" in page
    assert 'name="q" value="pershendetje"' in page
    # Every tab keeps the search and shows what it would list.
    assert 'href="/queue?q=pershendetje"' in page
    assert 'href="/queue?status=approved&amp;q=pershendetje"' in page
    assert "pending (1)" in page
    assert "approved (0)" in page
    assert "all (1)" in page

    imported = moderator.queue("/queue?channel=import&sort=oldest")
    assert rows(imported) == [greeting, budget]
    assert '<option value="import" selected>' in imported
    assert '<option value="oldest" selected>' in imported
    assert rows(moderator.queue("/queue?channel=form")) == []


@SQLITE_ONLY
def test_rows_checkboxes_and_one_bulk_form(moderator: Moderator) -> None:
    first = insert_comment(moderator.engine, subject="Një", created_at=T0)
    second = insert_comment(moderator.engine, subject="Dy", created_at=T0 + timedelta(1))
    page = moderator.queue("/queue?commitment=&language=")
    assert rows(page) == [second, first]
    assert page.count('<form method="post" action="/comments/bulk"') == 1
    for comment_id in (first, second):
        assert f'<input type="checkbox" name="ids" value="{comment_id}"' in page
        assert f'<a href="/comments/{comment_id}">' in page
    assert f'name="csrf_token" value="{moderator.csrf}"' in page
    assert '<input type="hidden" name="back" value="/queue">' in page
    assert '<button type="submit" name="action" value="approve">' in page
    assert '<button type="submit" name="action" value="reject">' in page
    assert '<option value="spam">' in page
    assert 'name="reason"' in page


@SQLITE_ONLY
def test_bulk_approve_returns_to_the_same_filtered_view(moderator: Moderator) -> None:
    kept = insert_comment(moderator.engine, body="Buxheti", commitments=("9",))
    other = insert_comment(moderator.engine, body="Portali", commitments=("4",))
    view = "/queue?commitment=9"
    page = moderator.queue(view)
    assert rows(page) == [kept]
    assert '<input type="hidden" name="back" value="/queue?commitment=9">' in page
    response = moderator.client.post("/comments/bulk", data={
        "csrf_token": moderator.csrf, "action": "approve", "ids": [str(kept)],
        "back": "/queue?commitment=9"})
    assert response.status_code == 303
    assert response.headers["location"] == "/queue?commitment=9&done=approve:1"
    after = moderator.queue(response.headers["location"])
    assert rows(after) == []
    assert "approved (1)" in after
    assert load_comment(moderator.engine, kept).status == CommentStatus.APPROVED
    assert load_comment(moderator.engine, other).status == CommentStatus.PENDING


def test_next_and_prev_links_walk_the_pages(moderator: Moderator) -> None:
    made = [insert_comment(moderator.engine, created_at=T0 + timedelta(minutes=n // 2),
                           body=f"koment {n}", language="en") for n in range(5)]
    # Pairs share a created_at: the order within a pair is the id's.
    newest_first = [made[n] for n in sorted(range(5), key=lambda n: (n // 2, made[n]),
                                            reverse=True)]
    seen: list[int] = []
    url: str | None = "/queue?language=en&limit=2"
    pages = []
    while url:
        page = moderator.queue(url)
        pages.append(page)
        seen += rows(page)
        url = link(page, "next")
        if url:
            query = parse_qs(urlsplit(url).query)
            assert query["language"] == ["en"]
            assert query["limit"] == ["2"]
    assert seen == newest_first
    assert len(pages) == 3
    assert link(pages[0], "prev") is None
    back = link(pages[-1], "prev")
    assert back is not None
    assert rows(moderator.queue(back)) == newest_first[2:4]


@SQLITE_ONLY
@pytest.mark.parametrize(("query", "message"), [
    ("status=bogus", "status must be one of"),
    ("commitment=99", "commitment must be one of"),
    ("channel=fax", "channel must be one of imap, import, form"),
    ("has_attachments=yes", "has_attachments must be 1 or 0"),
    ("limit=500", "limit must be a whole number from 1 to 200"),
    ("limit=ten", "limit must be a whole number"),
    ("after=bm90LWEtY3Vyc29y", "cursor is not valid"),
    ("before=%%%", "cursor is not valid"),
    ("sort=random", "sort must be one of newest, oldest"),
    ("decided=abc", "decided must be a comment number"),
])
def test_invalid_values_are_a_400_with_a_clear_message(
    moderator: Moderator, query: str, message: str
) -> None:
    response = moderator.client.get(f"/queue?{query}")
    assert response.status_code == 400
    assert message in html.unescape(response.text)


@SQLITE_ONLY
def test_decided_comment_gets_the_undo_banner(moderator: Moderator) -> None:
    comment_id = make_comment(moderator.engine)
    response = moderator.client.post(f"/comments/{comment_id}/approve",
                                      data={"csrf_token": moderator.csrf, "version": "1"})
    assert response.status_code == 303
    page = moderator.queue(f"/queue?decided={comment_id}")
    assert 'id="decided"' in page
    assert f'action="/comments/{comment_id}/undo"' in page
    assert 'id="decided"' not in moderator.queue("/queue")
