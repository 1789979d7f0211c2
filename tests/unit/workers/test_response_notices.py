"""The citizen hears once about the secretariat's response: planned by the publish that first
shows it, sent by the decision notices' sender, never again for an edit; on both databases."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from config.catalogue import default_catalogue
from config.settings import Settings
from intake.receipts import reference_for
from moderation.db import session_scope
from moderation.models import Comment, CommentStatus, DecisionNotice, NoticeKind, NoticeStatus
from moderation.responses import edit_response, respond
from moderation.transitions import NoticePolicy, approve
from publish.site import publish_site
from publish.urls import comment_page
from tests.conftest import derive
from tests.unit.factories import load_comment, make_comment
from tests.unit.workers.test_notices import Recorder
from workers.notices import list_notices, send_due_notices
from workers.outgoing import NoticeContent, ResponseWords, build_notice

CATALOGUE = default_catalogue()
RESPONSES = NoticePolicy(responses=True)
SQ = "Propozimi u përfshi pjesërisht: regjistri do të hapet në 2021."
EN = "Partly adopted: the register opens in 2021."
LINK = "https://ogp.al/plan-2020-2022#angazhimi-2"


@pytest.fixture
def notice_settings(settings: Settings) -> Settings:
    return derive(settings, response_notices=True, mail_from="feedback@ogp.example.al",
                  public_site_url="https://ogp.example.al/site/")


def approved_comment(engine: Engine, sender: str = "Ana Hoxha <ana.hoxha@example.org>") -> int:
    comment_id = make_comment(engine, "Regjistri i pronarëve përfitues duhet të jetë i hapur.",
                              sender=sender)
    with session_scope(engine) as session:
        approve(session, comment_id, "mira")
    return comment_id


def publish(engine: Engine, out: Path, policy: NoticePolicy = RESPONSES) -> int:
    return publish_site(engine, CATALOGUE, out, "publisher", notices=policy).response_notices


def response_notices(engine: Engine) -> list[DecisionNotice]:
    with Session(engine) as session:
        return list(session.exec(select(DecisionNotice)
                                 .where(DecisionNotice.topic == "response")
                                 .order_by(col(DecisionNotice.id))).all())


def test_the_citizen_gets_the_response_once_with_the_link(engine: Engine,
                                                          notice_settings: Settings,
                                                          tmp_path: Path) -> None:
    comment_id = approved_comment(engine)
    with session_scope(engine) as session:
        response_id = respond(session, [comment_id], "partly-adopted", SQ, EN, LINK, "sara").id
    assert response_id is not None
    site = tmp_path / "site"

    assert publish(engine, site) == 1
    sender = Recorder()
    assert send_due_notices(engine, notice_settings, sender) == 1

    [(message, envelope_from, recipient)] = sender.sent
    assert (envelope_from, recipient) == ("", "ana.hoxha@example.org")
    assert message["Auto-Submitted"] == "auto-replied"
    assert message["X-Auto-Response-Suppress"] == "All"
    comment = load_comment(engine, comment_id)
    assert message["Subject"] == (f"Auto: {reference_for(comment.inbound_id)} Përgjigje për "
                                  "komentin tuaj / A response to your comment")
    assert "Koment për planin" not in message.get_content()
    albanian, english = message.get_content().split("\n---\n")
    assert "Vendimi: U pranua pjesërisht" in albanian
    assert f"    {SQ}" in albanian
    assert "Outcome: Partly adopted" in english
    assert f"    {EN}" in english
    # The comment's own page: its permalink, by the reference number on the receipt.
    page = comment_page("sq", reference_for(comment.inbound_id))
    link = f"https://ogp.example.al/site/{page}"
    assert message.get_content().split().count(link) == 2  # once in each language
    assert message.get_content().split().count(LINK) == 2
    # The page the link names shows the response with the comment.
    html = (site / page).read_text(encoding="utf-8")
    assert 'data-outcome="partly-adopted"' in html

    # An edit, a second publish and another send: nothing more for the citizen.
    with session_scope(engine) as session:
        edit_response(session, response_id, "adopted", SQ, EN, LINK, "tomi",
                      expected_version=1)
    assert publish(engine, site) == 0
    assert send_due_notices(engine, notice_settings, sender) == 0
    assert len(sender.sent) == 1
    assert 'data-outcome="adopted"' in (site / page).read_text(encoding="utf-8")
    [notice] = response_notices(engine)
    assert (notice.kind, notice.status, notice.message_id) == (
        "response", NoticeStatus.SENT, message["Message-ID"])
    with Session(engine) as session:
        [row] = list_notices(session)
    assert (row.comment_id, row.kind, row.status) == (comment_id, "response", "sent")


def test_with_decision_notices_too_the_citizen_hears_of_each_once(
        engine: Engine, notice_settings: Settings, tmp_path: Path) -> None:
    comment_id = approved_comment(engine)
    with session_scope(engine) as session:
        respond(session, [comment_id], "noted", "", EN, None, "sara")
    both = NoticePolicy(enabled=True, responses=True)

    publish(engine, tmp_path / "site", both)
    publish(engine, tmp_path / "site", both)
    sender = Recorder()
    assert send_due_notices(engine, derive(notice_settings, decision_notices=True), sender) == 2

    subjects = sorted(message["Subject"].split(" ", 2)[2] for message, _, _ in sender.sent)
    # Never the citizen's subject ("Koment për planin"): the reference is enough.
    assert subjects == ["Komenti u botua / Your comment was published",
                        "Përgjigje për komentin tuaj / A response to your comment"]
    response_text = next(m.get_content() for m, _, _ in sender.sent
                         if "response" in m["Subject"])
    assert "(Shpjegimi është dhënë vetëm në anglisht, më poshtë.)" in response_text
    assert f"    {EN}" in response_text


def test_switched_off_nothing_is_planned(engine: Engine, tmp_path: Path) -> None:
    comment_id = approved_comment(engine)
    with session_scope(engine) as session:
        respond(session, [comment_id], "noted", "Faleminderit.", "", None, "sara")
    assert publish(engine, tmp_path / "site", NoticePolicy()) == 0
    assert response_notices(engine) == []
    # The site shows the response all the same, on the comment's page.
    reference = reference_for(load_comment(engine, comment_id).inbound_id)
    page = tmp_path / "site" / comment_page("sq", reference)
    assert 'data-outcome="noted"' in page.read_text(encoding="utf-8")


def test_a_comment_no_longer_on_the_site_is_not_told(engine: Engine, notice_settings: Settings,
                                                     tmp_path: Path) -> None:
    comment_id = approved_comment(engine)
    with session_scope(engine) as session:
        respond(session, [comment_id], "noted", "Faleminderit.", "", None, "sara")
    publish(engine, tmp_path / "site")
    with session_scope(engine) as session:
        comment = session.get(Comment, comment_id)
        assert comment is not None
        comment.status = CommentStatus.WITHDRAWN  # no command withdraws yet
        session.add(comment)
    sender = Recorder()
    assert send_due_notices(engine, notice_settings, sender) == 0
    assert sender.sent == []
    [notice] = response_notices(engine)
    assert (notice.status, notice.error) == (
        NoticeStatus.CANCELLED,
        "the comment is now withdrawn; a 'response' notice would no longer be true")


def test_a_no_reply_sender_gets_no_response_notice(engine: Engine, notice_settings: Settings,
                                                   tmp_path: Path) -> None:
    robot = approved_comment(engine, sender="Njoftime <no-reply@example.org>")
    with session_scope(engine) as session:
        respond(session, [robot], "noted", "Faleminderit.", "", None, "sara")
    publish(engine, tmp_path / "site")
    sender = Recorder()
    assert send_due_notices(engine, notice_settings, sender) == 0
    [notice] = response_notices(engine)
    assert (notice.status, notice.error) == (NoticeStatus.CANCELLED,
                                             "the sender is a no-reply or system address")


def test_a_response_notice_needs_the_response_and_the_link() -> None:
    base = NoticeContent(kind=NoticeKind.RESPONSE, to="ana@example.org",
                         mail_from="feedback@ogp.example.al", reference="OGP-000001",
                         sent_at=datetime(2020, 10, 1, tzinfo=UTC),
                         link="https://ogp.example.al/site/sq/comments/000/OGP-000001.html")
    with pytest.raises(ValueError, match="must carry the response"):
        build_notice(base)
    words = ResponseWords("U mor në dijeni", "Noted", "Faleminderit.", "", None)
    with pytest.raises(ValueError, match="a response notice must give the link"):
        build_notice(NoticeContent(**{**base.__dict__, "link": "", "response": words}))
    text = build_notice(NoticeContent(**{**base.__dict__, "response": words})).get_content()
    assert "(The explanation is given in Albanian only, above.)" in text
    assert "Teksti i angazhimit" not in text  # no link to the commitment text given
