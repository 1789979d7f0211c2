"""The admins' users page: who has an account, and disabling one from the web."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import Engine

from config.settings import Settings
from moderation.db import session_scope
from moderation.users import add_user, enable_totp
from moderation.web.app import create_app
from tests.unit.factories import SQLITE_ONLY
from tests.unit.moderation.web.staff import CSRF_FIELD, TestClient
from tests.unit.moderation.web.staff import log_in as log_in_as

pytestmark = [pytest.mark.usefixtures("fast_hasher"), SQLITE_ONLY]

PASSWORD = "kodi-i-fshehte-2020"


def log_in(client: TestClient, name: str) -> str:
    return log_in_as(client, name, PASSWORD, landing="/users")


@pytest.fixture
def app_engine(settings: Settings, engine: Engine) -> tuple[Settings, Engine]:
    with session_scope(engine) as session:
        add_user(session, "ana", "admin", PASSWORD)
        add_user(session, "mira", "moderator", PASSWORD)
        add_user(session, "besa", "secretariat", PASSWORD)
        enable_totp(session, "besa", "cli")
    return settings, engine


def rows(html: str) -> dict[str, str]:
    return {m.group(1): m.group(0) for m in re.finditer(r"<tr>\s*<td>([^<]+)</td>.*?</tr>",
                                                        html, re.S)}


def test_admin_sees_every_user_with_role_state_and_second_factor(
        app_engine: tuple[Settings, Engine]) -> None:
    settings, engine = app_engine
    with TestClient(create_app(settings, engine=engine), follow_redirects=False) as client:
        log_in(client, "ana")
        table = rows(client.get("/users").text)
    assert sorted(table) == ["ana", "besa", "mira"]
    assert "<td>secretariat</td>" in table["besa"]
    assert "TOTP" in table["besa"]
    assert "TOTP" not in table["mira"]
    assert 'action="/users/mira/disable"' in table["mira"]
    assert 'name="csrf_token"' in table["mira"]
    assert "/disable" not in table["ana"]  # no button to lock yourself out


def test_disabling_from_the_page_logs_the_user_out(app_engine: tuple[Settings, Engine]) -> None:
    settings, engine = app_engine
    app = create_app(settings, engine=engine)
    with TestClient(app, follow_redirects=False) as admin, \
            TestClient(app, follow_redirects=False) as mira:
        csrf = log_in(admin, "ana")
        mira_csrf = CSRF_FIELD.search(mira.get("/login").text)
        assert mira_csrf
        assert mira.post("/login", data={"username": "mira", "password": PASSWORD,
                                         "csrf_token": mira_csrf.group(1)}).status_code == 303
        assert mira.get("/queue").status_code == 200

        assert admin.post("/users/mira/disable", data={}).status_code == 403  # no CSRF token
        assert mira.get("/queue").status_code == 200
        assert admin.post("/users/mira/disable", data={"csrf_token": csrf}).status_code == 303
        assert mira.get("/queue").status_code == 303
        table = rows(admin.get("/users").text)
        assert "jo / no" in table["mira"]
        assert 'action="/users/mira/enable"' in table["mira"]

        assert admin.post("/users/mira/enable", data={"csrf_token": csrf}).status_code == 303
        assert "/disable" in rows(admin.get("/users").text)["mira"]
