"""What moderators see of the classifier: the queue's low-confidence filter and the
explanation on the comment page."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from config.catalogue import default_catalogue
from config.settings import Settings
from moderation.classification import explanation_of
from moderation.db import session_scope
from moderation.queue import fetch_queue, parse_queue_query
from moderation.users import add_user
from moderation.web.app import create_app
from tests.unit.factories import SQLITE_ONLY, make_comment
from tests.unit.moderation.web.staff import TestClient, log_in

pytestmark = pytest.mark.usefixtures("fast_hasher")

CATALOGUE = default_catalogue()
SURE = "Portali i të dhënave të hapura duhet të ketë skedarë CSV."
UNSURE = "Kam një pyetje."


def _ids(engine: Engine, **params: str) -> list[int]:
    with Session(engine) as session:
        page = fetch_queue(session, parse_queue_query(params, CATALOGUE))
    return [item["id"] for item in page.items]


def test_the_queue_filters_on_low_confidence(engine: Engine) -> None:
    sure = make_comment(engine, text=SURE)
    unsure = make_comment(engine, text=UNSURE, subject="Pyetje")
    with Session(engine) as session:
        sure_view, unsure_view = explanation_of(session, sure), explanation_of(session, unsure)
    assert sure_view is not None
    assert unsure_view is not None
    assert (sure_view.low_confidence, unsure_view.low_confidence) == (False, True)
    assert _ids(engine, low_confidence="1") == [unsure]
    assert _ids(engine, low_confidence="0") == [sure]
    assert sorted(_ids(engine)) == sorted([sure, unsure])
    with Session(engine) as session:
        page = fetch_queue(session, parse_queue_query({}, CATALOGUE))
    flags = {item["id"]: item["low_confidence"] for item in page.items}
    assert flags == {sure: False, unsure: True}


@pytest.fixture
def client(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    with session_scope(engine) as session:
        add_user(session, "mira", "moderator", "kodi-i-fshehte-2020")
    with TestClient(create_app(settings, engine=engine), follow_redirects=False) as client:
        log_in(client, "mira", "kodi-i-fshehte-2020")
        yield client


@SQLITE_ONLY
def test_comment_page_explains_the_classification(engine: Engine, client: TestClient) -> None:
    sure = make_comment(engine, text=SURE)
    page = client.get(f"/comments/{sure}")
    assert page.status_code == 200
    reasons = page.text.split('id="classification-reasons"', 1)[1].split("</ul>", 1)[0]
    assert "4. Expansion of the Open Data Portal" in reasons
    assert "hapura" in reasons
    assert 'id="low-confidence"' not in page.text
    unsure = make_comment(engine, text=UNSURE, subject="Pyetje")
    assert 'id="low-confidence"' in client.get(f"/comments/{unsure}").text


@SQLITE_ONLY
def test_queue_page_low_confidence_filter(engine: Engine, client: TestClient) -> None:
    sure = make_comment(engine, text=SURE)
    unsure = make_comment(engine, text=UNSURE, subject="Pyetje")
    page = client.get("/queue?low_confidence=1")
    assert page.status_code == 200
    assert f'href="/comments/{unsure}"' in page.text
    assert f'href="/comments/{sure}"' not in page.text
    assert 'name="low_confidence" value="1" checked' in page.text
    assert client.get("/queue?low_confidence=maybe").status_code == 400


def test_the_queue_command_filters_on_low_confidence(settings: Settings, engine: Engine) -> None:
    import json

    from tests.conftest import run_cli

    sure = make_comment(engine, text=SURE)
    unsure = make_comment(engine, text=UNSURE, subject="Pyetje")
    unsure_only = run_cli(settings, "queue", "--low-confidence", "1", "--json")
    others = run_cli(settings, "queue", "--low-confidence", "0", "--json")
    assert unsure_only.returncode == 0, unsure_only.stderr
    assert [item["id"] for item in json.loads(unsure_only.stdout)] == [unsure]
    assert [item["id"] for item in json.loads(others.stdout)] == [sure]
