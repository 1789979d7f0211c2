"""The secretariat's digest page: the HTML digest for a date range, and its downloads."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from config.settings import Settings
from moderation.db import session_scope
from moderation.users import add_user
from moderation.web.app import create_app
from tests.unit.factories import SQLITE_ONLY
from tests.unit.moderation.web.test_app import CSRF_FIELD, TestClient
from tests.unit.publish.digest_consultation import generate

pytestmark = [pytest.mark.usefixtures("fast_hasher"), SQLITE_ONLY]
PASSWORD = "kodi-i-fshehte-2020"


@pytest.fixture
def client(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    generate(engine, comments=80)
    with session_scope(engine) as session:
        add_user(session, "klodiana", "secretariat", PASSWORD)
    with TestClient(create_app(settings, engine=engine), follow_redirects=False) as client:
        page = client.get("/login")
        match = CSRF_FIELD.search(page.text)
        assert match
        response = client.post("/login", data={"username": "klodiana", "password": PASSWORD,
                                                "csrf_token": match.group(1)})
        assert response.status_code == 303
        yield client


def test_the_page_shows_the_digest_with_its_form_and_downloads(client: TestClient) -> None:
    response = client.get("/digest", params={"since": "2020-09-14", "until": "2020-09-20"})
    assert response.status_code == 200
    page = response.text
    assert page.startswith("<!doctype html>")
    assert 'value="2020-09-14"' in page
    assert "2020-09-14 – 2020-09-20 (Europe/Tirane)" in page
    for fmt in ("html", "md", "csv", "json"):
        assert f'href="/digest.{fmt}?since=2020-09-14&amp;until=2020-09-20"' in page
    assert "<svg" in page
    assert 'href="/comments/' in page
    assert "<script" not in page


def test_the_downloads_are_the_same_digest(client: TestClient) -> None:
    params = {"since": "2020-09-14", "until": "2020-09-20"}
    data = client.get("/digest.json", params=params)
    assert data.headers["content-type"] == "application/json"
    assert 'filename="digest-2020-09-14-2020-09-20.json"' in data.headers["content-disposition"]
    figures = data.json()
    rows = list(csv.DictReader(io.StringIO(client.get("/digest.csv", params=params).text)))
    received = next(r for r in rows if (r["section"], r["key"]) == ("total", "received"))
    assert int(received["count"]) == figures["received"] > 0
    markdown = client.get("/digest.md", params=params).text
    assert f"| Received | {figures['received']} |" in markdown
    assert client.get("/digest.html", params=params).text.startswith("<!doctype html>")
    assert json.loads(json.dumps(figures))["since"] == "2020-09-14"


@pytest.mark.parametrize("params", [{"since": "yesterday"},
                                    {"since": "2020-10-02", "until": "2020-10-01"}])
def test_a_bad_range_is_refused_with_a_reason(client: TestClient,
                                              params: dict[str, str]) -> None:
    response = client.get("/digest", params=params)
    assert response.status_code == 400
    assert "YYYY-MM-DD" in response.text or "comes after" in response.text
