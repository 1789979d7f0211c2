"""The contact form, as a browser without JavaScript drives it, into the real pipeline.

The app is composed as ``ogp-feedback serve`` composes it (the moderation app plus
the contact router) and processes in-process, as it does without a broker.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import col, select
from starlette.exceptions import StarletteDeprecationWarning

from config.settings import Settings
from moderation.db import session_scope
from moderation.models import (
    Comment,
    CommentCommitment,
    CommentStatus,
    InboundMessage,
    InboundSource,
    utcnow,
)
from moderation.web.app import create_app
from tests.conftest import derive
from workers.runtime import Runtime

# Starlette warns once, when ``starlette.testclient`` is imported, that it runs on
# ``httpx`` rather than ``httpx2``; a mark cannot reach an import-time warning, so the
# import itself ignores exactly that warning (as tests/unit/moderation/web does).
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=r"Using `httpx` with `starlette\.testclient` "
                            r"is deprecated", category=StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
REFERENCE = re.compile(r"/contact/thanks\?ref=(OGP-\d{6})")
COMMENT = ("Portali i të dhënave të hapura duhet të publikojë buxhetet e bashkive në format "
           "të hapur.\n\nFaleminderit për mundësinë.")
RELOAD = "Reload the form page"


@dataclass
class Citizen:
    client: TestClient
    engine: Engine
    settings: Settings
    # (inbound id, visible from another connection when it was enqueued)
    enqueued: list[tuple[int, bool]] = field(default_factory=list)

    def csrf(self) -> str:
        page = self.client.get("/contact")
        assert page.status_code == 200, page.text
        match = CSRF_FIELD.search(page.text)
        assert match, "the form has no CSRF field"
        return match.group(1)

    def send(self, csrf: str | None = None, **changes: str) -> httpx.Response:
        fields = {"name": "Ana Hoxha", "email": "ana@example.org", "subject": "Buxhetet",
                  "commitment": "4", "comment": COMMENT, "website": "",
                  "csrf_token": csrf if csrf is not None else self.csrf(), **changes}
        response: httpx.Response = self.client.post("/contact", data=fields)
        return response

    def inbound(self) -> list[InboundMessage]:
        with session_scope(self.engine) as session:
            return list(session.exec(select(InboundMessage).order_by(col(InboundMessage.id))))

    def comments(self) -> list[Comment]:
        with session_scope(self.engine) as session:
            return list(session.exec(select(Comment).order_by(col(Comment.id))))


@pytest.fixture
def citizen(settings: Settings, engine: Engine) -> Iterator[Citizen]:
    # Sent at once, as a test does; the typing-time check has its own tests
    # (tests/functional/test_contact_flood.py).
    settings = derive(settings, form_min_seconds=0)
    runtime = Runtime(settings)
    enqueued: list[tuple[int, bool]] = []

    def enqueue(ids: Any) -> None:
        with session_scope(engine) as session:
            for inbound_id in ids:
                enqueued.append((inbound_id, session.get(InboundMessage, inbound_id) is not None))
        runtime.enqueue(ids)

    app = create_app(settings, engine=engine, enqueue=enqueue)
    with TestClient(app, follow_redirects=False) as client:
        yield Citizen(client, engine, settings, enqueued)
    runtime.engine.dispose()


def alert_text(html: str) -> str:
    match = re.search(r'<div class="error" role="alert" id="form-problems">(.*?)</div>', html,
                      re.S)
    assert match, "no role=alert summary on the page"
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split())


def test_a_valid_post_becomes_one_pending_comment(citizen: Citizen) -> None:
    response = citizen.send(name="Ana Hoxha", email="Ana@Example.org",
                            comment=COMMENT.replace("\n", "\r\n"))
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    match = REFERENCE.fullmatch(location)
    assert match, location

    [inbound] = citizen.inbound()
    assert inbound.id is not None
    assert match.group(1) == f"OGP-{inbound.id:06d}"
    assert inbound.source == InboundSource.FORM
    assert inbound.source == "form"
    assert inbound.status == "processed"
    assert inbound.submitter_hash == hmac.new(citizen.settings.secret_key.encode(),
                                              b"ana@example.org", hashlib.sha256).hexdigest()
    assert b"X-OGP-Source: contact-form" in inbound.raw
    # Handed to processing once, after the commit made the row visible to others.
    assert citizen.enqueued == [(inbound.id, True)]

    [comment] = citizen.comments()
    assert comment.inbound_id == inbound.id
    assert comment.status == CommentStatus.PENDING
    assert comment.text == COMMENT
    assert comment.author_name == "Ana Hoxha"
    assert comment.author_email == "ana@example.org"
    assert comment.subject == "Zgjerimi i portalit të të dhënave të hapura: Buxhetet"
    with session_scope(citizen.engine) as session:
        labels = set(session.exec(select(CommentCommitment.commitment_id).where(
            CommentCommitment.comment_id == comment.id)))
    assert "4" in labels

    thanks = citizen.client.get(location)
    assert thanks.status_code == 200
    assert f'<strong id="reference">{match.group(1)}</strong>' in thanks.text
    assert "Faleminderit" in thanks.text
    assert "Thank you" in thanks.text


def test_a_post_without_a_valid_csrf_token_is_refused(citizen: Citizen) -> None:
    citizen.csrf()  # the browser has a session, but the POST does not carry its token
    for token in ("", "forged-token"):
        response = citizen.send(csrf=token, comment="Teksti im i gjatë.")
        assert response.status_code == 403
        assert RELOAD in alert_text(response.text)
        assert "Ringarkoni faqen" in alert_text(response.text)
        assert "Teksti im i gjatë." in response.text  # the citizen's text is kept
    with TestClient(citizen.client.app, follow_redirects=False) as stranger:  # no cookie at all
        response = stranger.post("/contact", data={"email": "ana@example.org",
                                                   "comment": COMMENT})
    assert response.status_code == 403
    assert RELOAD in alert_text(response.text)
    assert citizen.inbound() == []
    assert citizen.enqueued == []


def test_a_filled_honeypot_is_refused_and_nothing_is_stored(citizen: Citizen) -> None:
    response = citizen.send(website="http://cheap-pills.example")
    assert response.status_code == 400
    assert alert_text(response.text) == ("Mesazhi nuk u pranua. Ju lutemi provoni përsëri. "
                                         "The message was not accepted. Please try again.")
    assert "cheap-pills" not in response.text
    assert citizen.inbound() == []


def test_the_sixth_post_within_an_hour_is_rate_limited(citizen: Citizen) -> None:
    limit = citizen.settings.form_rate_limit_per_hour
    assert limit == 5
    for n in range(limit):
        response = citizen.send(comment=f"{COMMENT} ({n})")
        assert response.status_code == 303, response.text

    refused = citizen.send(email="ANA@example.org", comment="Komenti i gjashtë.")
    assert refused.status_code == 429
    message = alert_text(refused.text)
    assert "More than 5 comments were sent from this address within one hour." in message
    assert re.search(r"Please try again in (59|60) minutes\.", message), message
    assert re.search(r"provoni përsëri pas (59|60) minutash\.", message), message
    assert 3500 <= int(refused.headers["Retry-After"]) <= 3600
    assert "Komenti i gjashtë." in refused.text
    assert len(citizen.inbound()) == limit
    assert len(citizen.comments()) == limit

    assert citizen.send(email="besa@example.org").status_code == 303  # another address

    with session_scope(citizen.engine) as session:  # an hour later, the old ones no longer count
        for row in session.exec(select(InboundMessage)):
            row.created_at = utcnow() - timedelta(hours=1, minutes=1)
            session.add(row)
    assert citizen.send(comment="Një orë më vonë.").status_code == 303
    assert len(citizen.inbound()) == limit + 2


@pytest.mark.parametrize("field_name", ["name", "subject"])
def test_line_breaks_in_name_or_subject_are_refused(citizen: Citizen, field_name: str) -> None:
    response = citizen.send(**{field_name: "Ana\r\nBcc: everyone@example.org"})
    assert response.status_code == 422
    label = {"name": "The name", "subject": "The subject"}[field_name]
    assert f"{label} cannot contain line breaks" in alert_text(response.text)
    assert f'aria-describedby="{field_name}' in response.text
    assert f'id="{field_name}-error"' in response.text
    assert citizen.inbound() == []


def test_an_invalid_address_is_refused(citizen: Citizen) -> None:
    response = citizen.send(email="ana at example.org")
    assert response.status_code == 422
    assert "This does not look like a valid e-mail address" in alert_text(response.text)
    assert 'value="ana at example.org"' in response.text
    assert citizen.inbound() == []


def test_an_overlong_comment_is_refused(citizen: Citizen) -> None:
    limit = citizen.settings.form_max_chars
    response = citizen.send(comment="a" * (limit + 1))
    assert response.status_code == 422
    assert (f"The comment has {limit + 1} characters; the limit is {limit}."
            in alert_text(response.text))
    assert citizen.inbound() == []

    # Far beyond any honest comment: refused before the body is read into memory.
    huge = citizen.send(comment="ë" * (limit * 4))
    assert huge.status_code == 413
    assert "The form you sent is too large." in alert_text(huge.text)
    assert citizen.inbound() == []

    assert citizen.send(comment="a" * limit).status_code == 303
    assert len(citizen.comments()) == 1


class _Form(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.controls: list[dict[str, str | None]] = []
        self.label_for: set[str] = set()
        self.ids: set[str] = set()
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(values["id"] or "")
        if tag == "label" and values.get("for"):
            self.label_for.add(values["for"] or "")
        if tag in ("input", "select", "textarea") and values.get("type") != "hidden":
            self.controls.append(values)
        if tag == "script":
            self.scripts += 1


def test_the_form_is_labelled_bilingual_and_works_without_javascript(citizen: Citizen) -> None:
    page = citizen.client.get("/contact?commitment=7")
    refused = citizen.send(email="", comment="")
    for html in (page.text, refused.text):
        form = _Form()
        form.feed(html)
        assert form.scripts == 0
        names = {control["name"] for control in form.controls}
        assert names == {"name", "publish_name", "email", "commitment", "subject", "comment",
                         "website"}
        for control in form.controls:
            assert control["id"] in form.label_for, control
            for described in (control.get("aria-describedby") or "").split():
                assert described in form.ids, described
        [honeypot] = [c for c in form.controls if c["name"] == "website"]
        assert honeypot["tabindex"] == "-1"
        assert "Leave this field empty" in html
        assert 'aria-hidden="true"' in html
        assert '<span lang="en">Your comment</span>' in html
        assert "Your e-mail address is never published" in html
        assert "will be published after a moderator has reviewed it" in html
    assert '<option value="7" selected>' in page.text
    assert refused.status_code == 422
    assert 'role="alert"' in refused.text
    assert 'aria-describedby="email-hint email-error" aria-invalid="true"' in refused.text
    assert 'aria-describedby="comment-hint comment-error" aria-invalid="true"' in refused.text


def test_the_thanks_page_shows_only_well_formed_references(citizen: Citizen) -> None:
    page = citizen.client.get("/contact/thanks", params={"ref": "<b>OGP-1</b>"})
    assert page.status_code == 200
    assert "<b>OGP-1</b>" not in page.text
    assert 'id="reference"' not in page.text


def test_the_name_is_published_only_when_the_box_is_ticked(citizen: Citizen) -> None:
    assert citizen.send().status_code == 303
    assert citizen.send(comment="Me emër.", publish_name="yes").status_code == 303
    refused = citizen.send(name="", comment="Pa emër.", publish_name="yes")
    assert refused.status_code == 422
    assert "Please write the name you want published with your comment." in refused.text
    anonymous, named = citizen.comments()
    assert anonymous.author_public is None
    assert (named.author_public, named.consent_source) == ("Ana Hoxha", "form")
    assert named.consent_at is not None
