"""The comment page shows the original beside the published version; spans are lifted and
text is redacted by hand through versioned forms, each audited."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from config.settings import Settings
from moderation.db import session_scope
from moderation.models import ModerationEvent, Redaction
from moderation.redaction import PLACEHOLDER
from moderation.users import add_user
from moderation.web.app import create_app
from tests.unit.factories import SQLITE_ONLY, make_comment
from tests.unit.moderation.web.test_app import PASSWORD, USER, Browser, TestClient

pytestmark = pytest.mark.usefixtures("fast_hasher")

PHONE = "+355 69 123 4567"
TEXT = f"Më telefononi në {PHONE}.\n\nMe respekt,\nBesnik Dedaj"


@pytest.fixture
def browser(settings: Settings, engine: Engine) -> Iterator[Browser]:
    with session_scope(engine) as session:
        add_user(session, USER, "moderator", PASSWORD)
    with TestClient(create_app(settings, engine=engine), follow_redirects=False) as client:
        yield Browser(client, engine)


def _section(page: str, element_id: str) -> str:
    match = re.search(rf'<div id="{element_id}">(.*?)</div>\n</div>', page, re.S)
    assert match, element_id
    return html.unescape(match.group(1))


@SQLITE_ONLY
def test_lift_and_redact_by_hand_from_the_comment_page(browser: Browser) -> None:
    comment_id = make_comment(browser.engine, text=TEXT,
                              sender="Besnik Dedaj <besnik@example.org>")
    csrf = browser.log_in()
    page = browser.client.get(f"/comments/{comment_id}").text
    assert PHONE in _section(page, "original")
    published = _section(page, "published")
    assert PHONE not in published
    assert "Dedaj" not in published
    assert PLACEHOLDER in published
    with Session(browser.engine) as session:
        phone = session.exec(select(Redaction).where(Redaction.kind == "phone")).one()
    lift_url = f"/comments/{comment_id}/redactions/{phone.id}/lift"
    assert f'action="{lift_url}"' in page

    refused = browser.client.post(lift_url, data={"csrf_token": csrf, "version": 1})
    assert refused.status_code == 400
    assert "needs a reason" in refused.text
    lifted = browser.client.post(lift_url, data={"csrf_token": csrf, "version": 1,
                                                 "reason": "the office's number"})
    assert lifted.status_code == 303
    stale = browser.client.post(f"/comments/{comment_id}/redactions", data={
        "csrf_token": csrf, "version": 1, "field": "text", "selection": "Me respekt",
        "reason": "x"})
    assert stale.status_code == 409
    added = browser.client.post(f"/comments/{comment_id}/redactions", data={
        "csrf_token": csrf, "version": 2, "field": "text", "selection": "telefononi",
        "reason": "asked by the citizen"})
    assert added.status_code == 303

    published = _section(browser.client.get(f"/comments/{comment_id}").text, "published")
    assert PHONE in published
    assert "telefononi" not in published
    with Session(browser.engine) as session:
        events = [(e.action, e.actor, e.reason, e.version) for e in session.exec(
            select(ModerationEvent).where(col(ModerationEvent.action).startswith("redaction-"))
            .order_by(col(ModerationEvent.id)))]
    assert events == [("redaction-lift", "mira", "the office's number", 2),
                      ("redaction-add", "mira", "asked by the citizen", 3)]
