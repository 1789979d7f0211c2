"""Reasoned responses in the moderation UI, as a browser without JavaScript uses it: on the
comment page (write, edit with a version, history) and from the queue (one response for
the ticked comments); only the secretariat and admins may write."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from config.settings import Settings
from moderation.db import session_scope
from moderation.models import ModerationEvent, Response
from moderation.responses import respond, response_of
from moderation.transitions import approve
from moderation.users import add_user
from moderation.web.app import create_app
from tests.unit.factories import SQLITE_ONLY, make_comment
from tests.unit.moderation.web.staff import TestClient, log_in

pytestmark = [pytest.mark.usefixtures("fast_hasher"), SQLITE_ONLY]

PASSWORD = "sekretariati-2021"
SQ = "Propozimi juaj u përfshi në angazhimin 4."
EN = "Your proposal was included in commitment 4."


@dataclass
class Staff:
    client: TestClient
    engine: Engine
    csrf: str

    def page(self, url: str) -> str:
        response = self.client.get(url)
        assert response.status_code == 200, response.text
        return response.text

    def post(self, url: str, **data: object) -> tuple[int, str, str]:
        response = self.client.post(url, data={"csrf_token": self.csrf, **data})
        return response.status_code, response.headers.get("location", ""), response.text


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
            people[name] = Staff(client, engine, log_in(client, name, PASSWORD))
        yield people


def approved(engine: Engine, count: int) -> list[int]:
    ids = [make_comment(engine, text=f"Koment {n}: portali duhet të ketë të dhëna CSV.")
           for n in range(count)]
    with session_scope(engine) as session:
        for comment_id in ids:
            approve(session, comment_id, "mira")
    return ids


def the_response(engine: Engine, comment_id: int) -> Response | None:
    with Session(engine) as session:
        view = response_of(session, comment_id)
        return view.response if view is not None else None


def test_the_secretariat_writes_and_edits_a_response_on_the_comment_page(
        staff: dict[str, Staff]) -> None:
    sara = staff["sara"]
    [comment_id] = approved(sara.engine, 1)
    page = sara.page(f"/comments/{comment_id}")
    assert 'id="no-response"' in page
    assert f'action="/comments/{comment_id}/response" id="response-form"' in page

    status, location, _ = sara.post(f"/comments/{comment_id}/response", outcome="noted",
                                    text_sq=SQ, text_en="", link="")
    assert (status, location) == (303, f"/comments/{comment_id}")
    page = sara.page(f"/comments/{comment_id}")
    assert '<strong id="response-outcome" data-outcome="noted">U mor në dijeni / Noted' in page
    assert f'id="response-text-sq" style="white-space: pre-line">{SQ}</blockquote>' in page
    assert 'id="response-text-en"' not in page
    assert f'action="/comments/{comment_id}/response/edit" id="response-form"' in page
    assert '<input type="hidden" name="version" value="1">' in page
    written = the_response(sara.engine, comment_id)
    assert written is not None
    assert f"sara · respond · response #{written.id}: noted</li>" in page  # the audit trail

    status, location, _ = sara.post(f"/comments/{comment_id}/response/edit", version=1,
                                    outcome="adopted", text_sq=SQ, text_en=EN,
                                    link="https://ogp.al/plan#4")
    assert (status, location) == (303, f"/comments/{comment_id}")
    page = sara.page(f"/comments/{comment_id}")
    assert 'data-outcome="adopted"' in page
    assert '<a id="response-link" href="https://ogp.al/plan#4"' in page
    history = page[page.index('id="response-history"'):]
    assert "Earlier versions (1)" in history
    assert "version 1 · sara" in history
    assert "U mor në dijeni / Noted" in history
    assert "· respond-edit ·" in page  # the comment's own history lists the edit


def test_a_stale_edit_gets_409_and_overwrites_nothing(staff: dict[str, Staff]) -> None:
    sara = staff["sara"]
    [comment_id] = approved(sara.engine, 1)
    with session_scope(sara.engine) as session:
        respond(session, [comment_id], "noted", SQ, "", None, "tomi")
    sara.post(f"/comments/{comment_id}/response/edit", version=1, outcome="adopted",
              text_sq=SQ, text_en="", link="")

    status, _, page = sara.post(f"/comments/{comment_id}/response/edit", version=1,
                                outcome="not-adopted", text_sq="Jo.", text_en="", link="")
    assert status == 409
    response = the_response(sara.engine, comment_id)
    assert response is not None
    assert (f"response #{response.id} changed since you opened it (you saw version 1, it is "
            "now version 2); nothing was overwritten") in page
    assert (response.outcome, response.version) == ("adopted", 2)

    status, _, page = sara.post(f"/comments/{comment_id}/response/edit", outcome="adopted",
                                text_sq="Po.", text_en="", link="")
    assert status == 400
    assert "the form did not say which version of the response it was made from" in page


def test_words_that_cannot_be_published_get_400(staff: dict[str, Staff]) -> None:
    sara = staff["sara"]
    [comment_id] = approved(sara.engine, 1)
    status, _, page = sara.post(f"/comments/{comment_id}/response", outcome="adopted",
                                text_sq=" ", text_en="", link="javascript:alert(1)")
    assert status == 400
    assert ("a reasoned response needs an explanation in Albanian or in English (or both); "
            "the link must be an http:// or https:// address") in page
    assert the_response(sara.engine, comment_id) is None


def test_a_pending_comment_offers_no_form_and_refuses_a_response(
        staff: dict[str, Staff]) -> None:
    sara = staff["sara"]
    comment_id = make_comment(sara.engine)
    page = sara.page(f"/comments/{comment_id}")
    assert 'id="response-form"' not in page
    assert "A response answers an approved or published comment." in page
    status, _, page = sara.post(f"/comments/{comment_id}/response", outcome="noted",
                                text_sq=SQ, text_en="", link="")
    assert status == 409
    assert "is pending; a response answers a comment the public can read" in page


def test_a_moderator_reads_the_response_but_cannot_write_one(staff: dict[str, Staff]) -> None:
    mira, sara = staff["mira"], staff["sara"]
    first, second = approved(mira.engine, 2)
    with session_scope(mira.engine) as session:
        respond(session, [first], "noted", SQ, "", None, "sara")
    page = mira.page(f"/comments/{first}")
    assert 'data-outcome="noted"' in page
    assert 'id="response-form"' not in page
    assert 'id="respond-selected"' not in mira.page("/queue?status=approved")
    assert 'id="respond-selected"' in sara.page("/queue?status=approved")

    for url in (f"/comments/{second}/response", f"/comments/{first}/response/edit",
                "/comments/respond"):
        status, _, _ = mira.post(url, ids=[second], version=1, outcome="adopted", text_sq=SQ,
                                 text_en="", link="")
        assert status == 403, url
    assert the_response(mira.engine, second) is None


def test_one_response_for_the_ticked_comments_from_the_queue(staff: dict[str, Staff]) -> None:
    sara = staff["sara"]
    ids = approved(sara.engine, 4)
    chosen = ids[:3]
    page = sara.page("/queue?status=approved")
    # The respond button sends the queue's one bulk form elsewhere: no JavaScript needed.
    assert 'formaction="/comments/respond" id="respond-selected"' in page
    back = "/queue?status=approved"

    status, location, _ = sara.post("/comments/respond", ids=chosen, outcome="partly-adopted",
                                    text_sq=SQ, text_en=EN, link="", back=back,
                                    action="", reason_code="spam", reason="")
    assert (status, location) == (303, f"{back}&done=respond:3")
    responses = {i: the_response(sara.engine, i) for i in ids}
    assert responses[ids[3]] is None
    assert len({r.id for r in responses.values() if r is not None}) == 1
    page = sara.page(location)
    assert 'id="done">U dha përgjigje për / Responded to: 3' in page
    for comment_id in chosen:
        assert f'id="response-of-{comment_id}" title="Përgjigja / Response">↩ partly-adopted' \
               in page
    assert f'id="response-of-{ids[3]}"' not in page
    with Session(sara.engine) as session:
        logged = session.exec(select(ModerationEvent.comment_id)
                              .where(ModerationEvent.action == "respond")
                              .order_by(col(ModerationEvent.comment_id))).all()
    assert list(logged) == sorted(chosen)


def test_a_selection_with_one_unanswerable_comment_writes_nothing(
        staff: dict[str, Staff]) -> None:
    sara = staff["sara"]
    ready = approved(sara.engine, 2)
    pending = make_comment(sara.engine)
    status, _, page = sara.post("/comments/respond", ids=[*ready, pending], outcome="noted",
                                text_sq=SQ, text_en="", link="", back="/queue?status=all")
    assert status == 409
    refused = page[page.index('id="refused"'):]
    assert (f"#{pending} is pending; a response answers a comment the public can read, so "
            "approve it first") in refused
    assert all(the_response(sara.engine, i) is None for i in ready)

    status, _, page = sara.post("/comments/respond", outcome="noted", text_sq=SQ,
                                text_en="", link="")
    assert status == 400
    assert "Nothing selected." in page
