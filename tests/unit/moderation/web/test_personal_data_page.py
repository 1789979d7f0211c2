"""Consent, withdrawal and erasure on the comment page, as a browser without JavaScript
uses them: a moderator records consent; only the secretariat withdraws and erases."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from config.settings import Settings
from moderation.db import session_scope
from moderation.models import Comment, CommentStatus, InboundMessage, ModerationEvent
from moderation.transitions import approve
from moderation.users import add_user
from moderation.web.app import create_app
from tests.published import published_text
from tests.unit.factories import SQLITE_ONLY, make_comment
from tests.unit.moderation.web.staff import TestClient, log_in

pytestmark = [pytest.mark.usefixtures("fast_hasher"), SQLITE_ONLY]

PASSWORD = "sekretariati-2021"
SENDER = "Liridon Berisha <liridon.berisha@example.al>"


@dataclass
class Staff:
    client: TestClient
    csrf: str

    def post(self, url: str, **data: object) -> int:
        response = self.client.post(url, data={"csrf_token": self.csrf, **data})
        return int(response.status_code)


@pytest.fixture
def staff(settings: Settings, engine: Engine) -> Iterator[dict[str, Staff]]:
    with session_scope(engine) as session:
        add_user(session, "sara", "secretariat", PASSWORD)
        add_user(session, "mira", "moderator", PASSWORD)
    app = create_app(settings, engine=engine)
    with TestClient(app, follow_redirects=False) as sara, \
            TestClient(app, follow_redirects=False) as mira:
        people = {}
        for name, client in (("sara", sara), ("mira", mira)):
            people[name] = Staff(client, log_in(client, name, PASSWORD))
        yield people


def _comment(engine: Engine, comment_id: int) -> Comment:
    with Session(engine) as session:
        comment = session.get(Comment, comment_id)
        assert comment is not None
        return comment


def test_consent_recorded_and_removed_by_a_moderator(staff: dict[str, Staff],
                                                     engine: Engine) -> None:
    comment_id = make_comment(engine, text="Portali ka nevojë për CSV.", sender=SENDER)
    mira = staff["mira"]
    page = mira.client.get(f"/comments/{comment_id}").text
    assert 'id="consent-form"' in page
    assert 'id="withdraw-form"' not in page  # a moderator may not withdraw
    assert mira.post(f"/comments/{comment_id}/consent", version=1, name="Liridon Berisha",
                     note="email nga liridon.berisha@example.al, 3 tetor") == 303
    comment = _comment(engine, comment_id)
    assert (comment.author_public, comment.consent_source, comment.consent_by) == (
        "Liridon Berisha", "moderator", "mira")
    assert "Botohet me emrin" in mira.client.get(f"/comments/{comment_id}").text
    assert mira.post(f"/comments/{comment_id}/consent/remove", version=2,
                     reason="Liridon Berisha e tërhoqi") == 303
    assert _comment(engine, comment_id).author_public is None
    with Session(engine) as session:
        reasons = session.exec(select(ModerationEvent.reason).where(
            ModerationEvent.comment_id == comment_id,
            col(ModerationEvent.action).in_(["consent", "consent-remove"]))).all()
    assert reasons == ["email nga [e-mail], 3 tetor", "[name] e tërhoqi"]


def test_withdraw_and_erase_are_for_the_secretariat(staff: dict[str, Staff], engine: Engine,
                                                    settings: Settings) -> None:
    first = make_comment(engine, text="Komenti i parë.", sender=SENDER)
    second = make_comment(engine, text="Komenti i dytë, Liridon Berisha.", sender=SENDER)
    with session_scope(engine) as session:
        approve(session, second, "mira")
    assert staff["mira"].post(f"/comments/{first}/withdraw", version=1, reason="kërkesë") == 403
    assert staff["mira"].post(f"/comments/{first}/erase", version=1, confirm="erase") == 403
    sara = staff["sara"]
    assert sara.post(f"/comments/{first}/withdraw", version=1, reason="") == 400
    assert sara.post(f"/comments/{first}/withdraw", version=1, reason="kërkesë me email") == 303
    assert _comment(engine, first).status == CommentStatus.WITHDRAWN
    assert sara.post(f"/comments/{second}/erase", version=2, confirm="") == 400
    assert sara.post(f"/comments/{second}/erase", version=2, confirm="erase",
                     keep_anonymised="yes") == 303
    erased = _comment(engine, second)
    assert erased.erased
    assert erased.status == CommentStatus.PUBLISHED  # kept anonymised, and republished
    assert (erased.author_email, erased.author_name) == ("", "")
    assert "Berisha" not in erased.text
    site = published_text(Path(settings.site_dir))
    assert "Komenti i dytë" in site
    assert "Berisha" not in site
    with Session(engine) as session:
        inbound = session.get(InboundMessage, erased.inbound_id)
        assert inbound is not None
        assert inbound.raw == b""
        # The first comment, from the same sender, is not touched by a one-comment erasure.
        assert session.get(InboundMessage, _comment(engine, first).inbound_id).raw  # type: ignore[union-attr]
    assert "Fshirë me kërkesë" in sara.client.get(f"/comments/{second}").text
