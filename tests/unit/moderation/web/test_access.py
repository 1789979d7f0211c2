"""The role table holds for every route the app answers, and every form needs its CSRF token.

Routes are read from the app itself (the contact form and operations routers
included), so a route added without an entry in ``ROUTE_ROLES`` fails here.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import pytest
from sqlmodel import Session, select
from starlette.exceptions import StarletteDeprecationWarning

from config.settings import Settings
from moderation.access import PUBLIC, ROUTE_ROLES
from moderation.db import session_scope
from moderation.models import Comment, Role
from moderation.users import add_user
from moderation.web.context import declared_routes
from tests.conftest import derive
from tests.unit.factories import SQLITE_ONLY, make_comment
from tests.unit.moderation.web.test_app import CSRF_FIELD, HTTPX_DEPRECATION
from workers.runtime import Runtime

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=HTTPX_DEPRECATION,
                            category=StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

pytestmark = [pytest.mark.usefixtures("fast_hasher"), SQLITE_ONLY]

PASSWORD = "kodi-i-fshehte-2020"
ROLES = (None, Role.MODERATOR, Role.SECRETARIAT, Role.ADMIN)


@dataclass
class App:
    runtime: Runtime
    comment_id: int
    inbound_id: int

    def client(self) -> TestClient:
        # From loopback, as Prometheus on the host: the operations view's own gate (the
        # ops token) is tested in test_exposure.py; here only the role table counts.
        return TestClient(self.runtime.web_app(), follow_redirects=False,
                          client=("127.0.0.1", 50000))

    def logged_in(self, client: TestClient, role: Role | None) -> str:
        """Log ``client`` in as the user holding ``role``; returns the CSRF token."""
        page = client.get("/login")
        match = CSRF_FIELD.search(page.text)
        assert match
        if role is None:
            return match.group(1)
        response = client.post("/login", data={"username": role.value, "password": PASSWORD,
                                                "csrf_token": match.group(1)})
        assert response.status_code == 303, response.text
        queue = client.get("/help")
        match = CSRF_FIELD.search(queue.text)
        assert match, queue.text
        return match.group(1)

    def url(self, path: str) -> str:
        return (path.replace("{comment_id}", str(self.comment_id))
                .replace("{inbound_id}", str(self.inbound_id))
                .replace("{redaction_id}", "1")
                .replace("{campaign_id}", "1")
                .replace("{name}", "someone-else"))


@pytest.fixture
def app(settings: Settings, make_runtime: Any) -> App:
    runtime: Runtime = make_runtime(derive(settings, receipts=False))
    comment_id = make_comment(runtime.engine)
    with session_scope(runtime.engine) as session:
        for role in Role:
            add_user(session, role.value, role.value, PASSWORD)
        add_user(session, "someone-else", Role.MODERATOR.value, PASSWORD)
        comment = session.get(Comment, comment_id)
        assert comment is not None
        inbound_id = comment.inbound_id
    return App(runtime, comment_id, inbound_id)


def routes_of(app: App) -> set[tuple[str, str]]:
    return set(declared_routes(app.runtime.web_app().routes))


def test_every_route_has_an_entry_and_every_entry_a_route(app: App) -> None:
    routes = routes_of(app)
    assert routes - set(ROUTE_ROLES) == set(), "routes missing from ROUTE_ROLES"
    assert set(ROUTE_ROLES) - routes == set(), "ROUTE_ROLES names routes that do not exist"


def _sent_to_login(status: int, location: str) -> bool:
    # Logging out also ends at /login, but only a refusal asks to come back ("next").
    return status == 303 and location.startswith("/login?next=")


def _answer(app: App, method: str, path: str, role: Role | None) -> tuple[int, str]:
    with app.client() as client:
        csrf = app.logged_in(client, role)
        if ROUTE_ROLES.get((method, path)) == PUBLIC:
            # A form anyone may send carries the token its own page gives, not a session's.
            match = CSRF_FIELD.search(client.get("/login").text)
            assert match
            csrf = match.group(1)
        if method == "GET":
            response = client.get(app.url(path))
        else:
            response = client.post(app.url(path), data={"csrf_token": csrf, "version": 1})
        return response.status_code, response.headers.get("location", "")


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.value if r else "anonymous")
def test_each_role_gets_what_the_table_says(app: App, role: Role | None) -> None:
    wrong = []
    for method, path in sorted(routes_of(app)):
        required = ROUTE_ROLES[(method, path)]
        status, location = _answer(app, method, path, role)
        if required == PUBLIC:
            ok = status != 403 and not _sent_to_login(status, location)
            expected = "not refused"
        elif role is None:
            ok = _sent_to_login(status, location)
            expected = "redirect to /login"
        elif role in required:
            ok = status not in (401, 403) and not _sent_to_login(status, location)
            expected = "allowed"
        else:
            ok = status == 403
            expected = "403"
        if not ok:
            wrong.append(f"{method} {path}: {status} {location} (expected {expected})")
    assert wrong == []


@pytest.mark.parametrize("token", ["", "forged-token"], ids=["missing", "forged"])
def test_every_form_refuses_a_missing_or_forged_csrf_token(app: App, token: str) -> None:
    wrong = []
    for method, path in sorted(routes_of(app)):
        if method != "POST":
            continue
        with app.client() as client:
            # The most powerful role, so only the CSRF check can refuse.
            app.logged_in(client, Role.ADMIN if ROUTE_ROLES[(method, path)] != PUBLIC else None)
            data = {"version": "1", "username": Role.ADMIN.value, "password": PASSWORD}
            if token:
                data["csrf_token"] = token
            response = client.post(app.url(path), data=data)
        if response.status_code != 403:
            wrong.append(f"POST {path}: {response.status_code}")
    assert wrong == []
    with Session(app.runtime.engine) as session:
        comment = session.exec(select(Comment)).one()
    assert comment.status == "pending"


def test_disabling_a_user_ends_their_live_session(app: App) -> None:
    with app.client() as moderator, app.client() as admin:
        app.logged_in(moderator, Role.MODERATOR)
        assert moderator.get("/queue").status_code == 200
        csrf = app.logged_in(admin, Role.ADMIN)
        response = admin.post(f"/users/{Role.MODERATOR.value}/disable", data={"csrf_token": csrf})
        assert response.status_code == 303
        after = moderator.get("/queue")
        assert _sent_to_login(after.status_code, after.headers.get("location", ""))
        assert "moderator" in admin.get("/audit", params={"action": "user-disable"}).text


def test_a_moderator_cannot_release_quarantined_mail(app: App) -> None:
    with app.client() as client:
        csrf = app.logged_in(client, Role.MODERATOR)
        response = client.post(f"/inbound/{app.inbound_id}/release", data={"csrf_token": csrf})
        assert response.status_code == 403
        assert "role does not allow" in response.text
