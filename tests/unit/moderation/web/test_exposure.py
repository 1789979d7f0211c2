"""What the web app shows about itself: security headers on every route, no API schema,
operations details only to the operator, no exception text in a public answer, the
session cookie's name and SameSite policy."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from config.settings import Settings
from moderation.access import PUBLIC, ROUTE_ROLES
from moderation.db import session_scope
from moderation.users import add_user
from moderation.web.app import SERVER_ERROR
from moderation.web.context import declared_routes
from moderation.web.sessions import COOKIE_NAME
from tests.conftest import derive
from tests.unit.factories import SQLITE_ONLY, make_comment
from tests.unit.moderation.web.staff import TestClient, log_in
from workers.runtime import Runtime

pytestmark = pytest.mark.usefixtures("fast_hasher")

OPS_TOKEN = "ops-token-for-prometheus-0123456789"
OUTSIDE = ("203.0.113.7", 40000)
LOOPBACK = ("127.0.0.1", 40000)
ADMIN, PASSWORD = "ada", "kodi-i-fshehte-2020"
HSTS = "max-age=31536000"
# What an exception's text or a framework's error detail would show.
LEAKS = re.compile(r"OperationalError|sqlite3|Traceback|unable to open|psycopg|"
                   r"int_parsing|Input should be|ConnectionError|refused", re.I)
MakeRuntime = Callable[[Settings], Runtime]


def client(runtime: Runtime, secure: bool, peer: tuple[str, int] = OUTSIDE,
           **headers: str) -> TestClient:
    # Secure cookies travel over HTTPS only, so the client speaks to an https:// base.
    return TestClient(runtime.web_app(), follow_redirects=False, client=peer,
                      base_url="https://testserver" if secure else "http://testserver",
                      headers=headers or None, raise_server_exceptions=False)


def every_request(routes: set[tuple[str, str]], comment_id: int) -> list[tuple[str, str]]:
    """Every declared route with its parameters filled, the mounts, an unknown path and a
    method a route does not take."""
    filled = {(method, re.sub(r"\{[a-z_]+\}", lambda m: str(comment_id)
                              if m[0] != "{name}" else "nobody", path))
              for method, path in routes}
    return sorted(filled | {("GET", "/site/"), ("GET", "/static/keys.js"),
                            ("GET", "/no-such-page"), ("DELETE", "/queue"),
                            ("GET", "/openapi.json"), ("GET", "/docs")})


def assert_security_headers(response: Any, secure: bool, what: str) -> None:
    headers = response.headers
    csp = headers.get("content-security-policy", "")
    assert "frame-ancestors 'none'" in csp, what
    assert "default-src 'self'" in csp, what
    assert headers.get("x-content-type-options") == "nosniff", what
    assert headers.get("referrer-policy") == "no-referrer", what
    assert headers.get("x-frame-options") == "DENY", what
    if secure:
        assert headers.get("strict-transport-security") == HSTS, what
    else:
        assert "strict-transport-security" not in headers, what


@pytest.fixture
def app_runtime(settings: Settings, make_runtime: MakeRuntime) -> Callable[..., Runtime]:
    def make(**changes: object) -> Runtime:
        return make_runtime(derive(settings, ops_token=OPS_TOKEN, receipts=False, **changes))
    return make


@SQLITE_ONLY
@pytest.mark.parametrize("secure", [True, False], ids=["https", "http"])
def test_every_route_sends_the_security_headers(app_runtime: Callable[..., Runtime],
                                                secure: bool) -> None:
    runtime = app_runtime(cookie_secure=secure)
    comment_id = make_comment(runtime.engine)
    with session_scope(runtime.engine) as session:
        add_user(session, ADMIN, "admin", PASSWORD)
    routes = set(declared_routes(runtime.web_app().routes))
    assert routes == set(ROUTE_ROLES)  # the walk below covers every route there is
    requests = every_request(routes, comment_id)
    seen: set[int] = set()
    for signed_in in (False, True):
        with client(runtime, secure) as browser:
            if signed_in:
                log_in(browser, ADMIN, PASSWORD)
            for method, path in requests:
                # No CSRF token: a POST is refused before it changes anything.
                response = browser.request(method, path)
                seen.add(response.status_code)
                assert_security_headers(response, secure, f"{method} {path}")
                if not path.startswith(("/site", "/static")):
                    assert response.headers.get("cache-control") == "no-store", path
    # The walk met pages, redirects, refusals and misses alike.
    assert {200, 303, 403, 404, 405} <= seen


@SQLITE_ONLY
def test_no_api_schema_or_docs_are_served(app_runtime: Callable[..., Runtime]) -> None:
    with client(app_runtime(), secure=False) as browser:
        for path in ("/openapi.json", "/docs", "/redoc", "/docs/oauth2-redirect"):
            assert browser.get(path).status_code == 404, path


@SQLITE_ONLY
def test_readyz_and_metrics_show_details_only_to_the_operator(
        app_runtime: Callable[..., Runtime]) -> None:
    runtime = app_runtime(broker_url="redis://127.0.0.1:1/0")
    with client(runtime, secure=False) as outsider:
        ready = outsider.get("/readyz")
        assert (ready.status_code, ready.json()) == (503, {"status": "not ready"})
        assert not LEAKS.search(ready.text)
        metrics = outsider.get("/metrics")
        assert metrics.status_code == 403
        assert "ogp_" not in metrics.text
        wrong = outsider.get("/metrics", headers={"Authorization": "Bearer not-the-token"})
        assert wrong.status_code == 403
        assert outsider.get("/healthz").text == "ok"  # liveness stays public
    for operator in (client(runtime, False, Authorization=f"Bearer {OPS_TOKEN}"),
                     client(runtime, False, peer=LOOPBACK)):
        with operator:
            detailed = operator.get("/readyz")
            assert detailed.status_code == 503
            assert detailed.json()["broker"].startswith("error: ConnectionError")
            assert operator.get("/metrics").text.startswith("# HELP ogp_")


@SQLITE_ONLY
def test_a_server_error_shows_no_exception_text(make_runtime: MakeRuntime,
                                                tmp_path: Path, settings: Settings) -> None:
    # A database that cannot be opened: every page that reads it fails inside.
    broken = tmp_path / "a-folder-not-a-database"
    broken.mkdir()
    runtime = make_runtime(derive(settings, database_url=f"sqlite:///{broken}",
                                  ops_token=OPS_TOKEN))
    failed = 0
    for session_cookie in (None, "a-session-token-the-database-must-look-up"):
        with client(runtime, secure=False) as outsider:
            if session_cookie:  # every route then reads the database first
                outsider.cookies.set(COOKIE_NAME, session_cookie)
            for method, path in every_request(set(ROUTE_ROLES), 1):
                response = outsider.request(method, path)
                what = f"{method} {path}: {response.text[:300]}"
                assert not LEAKS.search(response.text), what
                assert_security_headers(response, False, what)
                if response.status_code == 500:
                    failed += 1
                    assert SERVER_ERROR.split(" / ")[1] in response.text
    assert failed >= len(ROUTE_ROLES) // 2
    with client(runtime, secure=False) as outsider:
        ready = outsider.get("/readyz")
        assert (ready.status_code, ready.json()) == (503, {"status": "not ready"})
    with client(runtime, False, Authorization=f"Bearer {OPS_TOKEN}") as operator:
        assert operator.get("/readyz").json()["database"].startswith("error: OperationalError")


@SQLITE_ONLY
def test_a_malformed_request_gets_no_framework_detail(app_runtime: Callable[..., Runtime],
                                                      ) -> None:
    runtime = app_runtime()
    with session_scope(runtime.engine) as session:
        add_user(session, ADMIN, "admin", PASSWORD)
    with client(runtime, secure=False) as browser:
        log_in(browser, ADMIN, PASSWORD)
        response = browser.get("/comments/not-a-number")
        assert response.status_code == 422
        assert "The request was not understood." in response.text
        assert not LEAKS.search(response.text)
        assert "comment_id" not in response.text


def test_public_routes_are_the_ones_expected() -> None:
    # The walk above checks anonymous answers on these too; a new public route is a
    # conscious choice.
    public = {route for route, roles in ROUTE_ROLES.items() if roles == PUBLIC}
    assert public == {("GET", "/"), ("GET", "/healthz"), ("GET", "/readyz"),
                      ("GET", "/metrics"), ("GET", "/login"), ("POST", "/login"),
                      ("GET", "/contact"), ("POST", "/contact"), ("GET", "/contact/thanks"),
                      ("GET", "/contact/confirm"), ("POST", "/contact/confirm")}


PRODUCTION = {"environment": "production", "cookie_secure": True,
              "decision_notices": False, "response_notices": False}


@SQLITE_ONLY
def test_in_production_the_cookies_are_host_only_and_strict(
        app_runtime: Callable[..., Runtime]) -> None:
    runtime = app_runtime(**PRODUCTION)
    with session_scope(runtime.engine) as session:
        add_user(session, ADMIN, "admin", PASSWORD)
    with client(runtime, secure=True) as browser:
        form = browser.get("/login")
        form_cookie = form.headers["set-cookie"]
        assert form_cookie.startswith("__Host-ogp_form=")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert token
        response = browser.post("/login", data={"username": ADMIN, "password": PASSWORD,
                                                "csrf_token": token[1]})
        assert response.status_code == 303, response.text
        session_cookie = response.headers["set-cookie"]
        assert session_cookie.startswith("__Host-ogp_session=")
        for cookie in (form_cookie, session_cookie):
            attributes = [part.strip().lower() for part in cookie.split(";")[1:]]
            assert {"secure", "httponly", "path=/", "samesite=strict"} <= set(attributes)
            assert not any(a.startswith("domain") for a in attributes)
        assert browser.get("/queue").status_code == 200
