"""The moderation UI over HTTP, as a browser without JavaScript drives it."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import select
from starlette.exceptions import StarletteDeprecationWarning

from config.catalogue import default_catalogue
from config.settings import Settings
from moderation.db import session_scope
from moderation.models import CommentStatus, WebSession, utcnow
from moderation.users import add_user
from moderation.web.app import create_app
from moderation.web.sessions import COOKIE_NAME
from tests.conftest import derive
from tests.unit.factories import SQLITE_ONLY, load_comment, make_comment

# Starlette 1.x warns once, when ``starlette.testclient`` is imported, that it runs on
# ``httpx`` rather than ``httpx2``; a mark cannot reach an import-time warning, so the
# import itself ignores exactly that warning.
HTTPX_DEPRECATION = r"Using `httpx` with `starlette\.testclient` is deprecated"
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=HTTPX_DEPRECATION,
                            category=StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

pytestmark = pytest.mark.usefixtures("fast_hasher")

USER = "mira"
PASSWORD = "kodi-i-fshehte-2020"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
WRONG_LOGIN = "Wrong user name or password."
HOSTILE_TEXT = ("Portali i të dhënave të hapura <script>alert('xss')</script> "
                "<img src=x onerror=alert(1)> https://opendata.gov.al ana@example.org")


@dataclass
class Browser:
    client: TestClient
    engine: Engine

    def csrf(self, path: str = "/login") -> str:
        page = self.client.get(path)
        assert page.status_code == 200, page.text
        match = CSRF_FIELD.search(page.text)
        assert match, f"{path} has no CSRF field"
        return match.group(1)

    def log_in(self, password: str = PASSWORD, next_path: str = "/queue") -> str:
        """Log in like a browser; returns the CSRF token of the logged-in session."""
        response = self.client.post("/login", data={
            "username": USER, "password": password, "csrf_token": self.csrf(),
            "next": next_path})
        assert response.status_code == 303, response.text
        return self.csrf("/queue")


@pytest.fixture
def browser(settings: Settings, engine: Engine) -> Iterator[Browser]:
    with session_scope(engine) as session:
        add_user(session, USER, "moderator", PASSWORD)
    app = create_app(settings, engine=engine)
    with TestClient(app, follow_redirects=False) as client:
        yield Browser(client, engine)


@SQLITE_ONLY
def test_queue_redirects_to_login_when_logged_out(browser: Browser) -> None:
    response = browser.client.get("/queue")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/queue"


@SQLITE_ONLY
def test_comment_page_redirects_to_login_when_logged_out(browser: Browser) -> None:
    comment_id = make_comment(browser.engine)
    response = browser.client.get(f"/comments/{comment_id}")
    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next=/comments/{comment_id}"


@SQLITE_ONLY
def test_login_with_wrong_password_shows_a_clear_error(browser: Browser) -> None:
    response = browser.client.post("/login", data={
        "username": USER, "password": "not-the-password", "csrf_token": browser.csrf()})
    assert response.status_code == 401
    assert WRONG_LOGIN in response.text
    assert 'role="alert"' in response.text
    assert browser.client.get("/queue").status_code == 303  # still logged out


@SQLITE_ONLY
def test_login_without_csrf_token_is_forbidden(browser: Browser) -> None:
    browser.csrf()  # a session exists, but the form does not echo its token
    response = browser.client.post("/login", data={"username": USER, "password": PASSWORD})
    assert response.status_code == 403
    assert "CSRF check failed" in response.text
    assert browser.client.get("/queue").status_code == 303


@SQLITE_ONLY
def test_login_with_a_forged_csrf_token_is_forbidden(browser: Browser) -> None:
    browser.csrf()
    response = browser.client.post("/login", data={
        "username": USER, "password": PASSWORD, "csrf_token": "forged-token"})
    assert response.status_code == 403


@SQLITE_ONLY
def test_login_without_any_session_is_forbidden(browser: Browser) -> None:
    response = browser.client.post("/login", data={
        "username": USER, "password": PASSWORD, "csrf_token": "x"})
    assert response.status_code == 403


def test_login_rotates_the_session_cookie(browser: Browser) -> None:
    # The login form itself starts no session; a session id known before the login (one
    # planted in the browser, here an earlier login's) must not survive it.
    browser.log_in()
    before = browser.client.cookies[COOKIE_NAME]
    browser.log_in()
    after = browser.client.cookies[COOKIE_NAME]
    assert after != before
    assert browser.client.get("/queue").status_code == 200
    # The pre-login token is worthless now (no session fixation).
    browser.client.cookies.set(COOKIE_NAME, before)
    assert browser.client.get("/queue").status_code == 303


@SQLITE_ONLY
def test_login_redirects_to_a_local_next_page(browser: Browser) -> None:
    response = browser.client.post("/login", data={
        "username": USER, "password": PASSWORD, "csrf_token": browser.csrf(),
        "next": "/queue?status=approved"})
    assert response.status_code == 303
    assert response.headers["location"] == "/queue?status=approved"


@SQLITE_ONLY
def test_login_never_redirects_off_site(browser: Browser) -> None:
    for target in ("//evil.example", "https://evil.example/", "/\\evil.example", "evil.example"):
        response = browser.client.post("/login", data={
            "username": USER, "password": PASSWORD, "csrf_token": browser.csrf(),
            "next": target})
        assert response.status_code == 303, target
        assert response.headers["location"] == "/queue", target


@SQLITE_ONLY
def test_login_next_with_control_characters_stays_local(browser: Browser) -> None:
    # Browsers drop raw tabs and newlines from URLs: "/\t/evil" would become "//evil".
    for target in ("/\t/evil.example", "/\n/evil.example", "/\r\n/evil.example"):
        response = browser.client.post("/login", data={
            "username": USER, "password": PASSWORD, "csrf_token": browser.csrf(),
            "next": target})
        location = response.headers["location"]
        assert not any(ch in location for ch in "\t\r\n"), repr(location)
        assert location.startswith("/"), repr(location)
        assert not location.startswith(("//", "/\\")), repr(location)


@SQLITE_ONLY
def test_expired_session_is_logged_out(browser: Browser) -> None:
    browser.log_in()
    with session_scope(browser.engine) as session:
        for record in session.exec(select(WebSession)).all():
            record.expires_at = utcnow() - timedelta(seconds=1)
            session.add(record)
    response = browser.client.get("/queue")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/queue"


@SQLITE_ONLY
def test_login_form_does_not_carry_an_off_site_next(browser: Browser) -> None:
    page = browser.client.get("/login", params={"next": "//evil.example"})
    assert 'name="next" value="/queue"' in page.text
    assert "evil.example" not in page.text


@SQLITE_ONLY
def test_security_headers(browser: Browser) -> None:
    for path in ("/login", "/queue", "/healthz"):
        response = browser.client.get(path)
        csp = response.headers["content-security-policy"]
        # Scripts only from this origin (the keyboard helper), never inline.
        assert "script-src 'self'" in csp, path
        assert "unsafe-inline" not in csp.split("script-src", 1)[1].split(";", 1)[0], path
        assert "frame-ancestors 'none'" in csp, path
        assert response.headers["x-frame-options"] == "DENY", path
        assert response.headers["x-content-type-options"] == "nosniff", path
        assert response.headers["cache-control"] == "no-store", path


@SQLITE_ONLY
def test_error_pages_carry_security_headers(browser: Browser) -> None:
    response = browser.client.post("/login", data={})
    assert response.status_code == 403
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"


@SQLITE_ONLY
def test_session_cookie_is_http_only_and_same_site(browser: Browser) -> None:
    response = browser.client.post("/login", data={
        "username": USER, "password": PASSWORD, "csrf_token": browser.csrf()})
    assert response.status_code == 303
    cookie = response.headers["set-cookie"].lower()
    assert cookie.startswith(f"{COOKIE_NAME}=")
    assert "httponly" in cookie
    assert "samesite=strict" in cookie


@SQLITE_ONLY
def test_queue_lists_pending_comments(browser: Browser) -> None:
    comment_id = make_comment(browser.engine, subject="Shërbimet online")
    browser.log_in()
    page = browser.client.get("/queue")
    assert page.status_code == 200
    assert f'href="/comments/{comment_id}"' in page.text
    assert "Shërbimet online" in page.text
    assert "pending (1)" in page.text


def test_approve_without_csrf_is_forbidden_and_changes_nothing(browser: Browser) -> None:
    comment_id = make_comment(browser.engine)
    browser.log_in()
    response = browser.client.post(f"/comments/{comment_id}/approve", data={})
    assert response.status_code == 403
    assert "CSRF check failed" in response.text
    assert load_comment(browser.engine, comment_id).status == CommentStatus.PENDING


def test_approve_with_csrf_approves(browser: Browser) -> None:
    first = make_comment(browser.engine)
    second = make_comment(browser.engine, text="Buxheti i qytetarit duhet botuar.")
    csrf = browser.log_in()
    response = browser.client.post(f"/comments/{first}/approve",
                                   data={"csrf_token": csrf, "version": 1})
    assert response.status_code == 303
    # On to the next pending one, with an offer to undo this decision.
    assert response.headers["location"] == f"/comments/{second}?decided={first}"
    comment = load_comment(browser.engine, first)
    assert comment.status == CommentStatus.APPROVED
    assert comment.decided_by == USER


@SQLITE_ONLY
def test_approving_the_last_pending_goes_back_to_the_queue(browser: Browser) -> None:
    comment_id = make_comment(browser.engine)
    csrf = browser.log_in()
    response = browser.client.post(f"/comments/{comment_id}/approve",
                                   data={"csrf_token": csrf, "version": 1})
    assert response.headers["location"] == f"/queue?decided={comment_id}"


@SQLITE_ONLY
def test_approving_twice_is_a_readable_conflict(browser: Browser) -> None:
    comment_id = make_comment(browser.engine)
    csrf = browser.log_in()
    browser.client.post(f"/comments/{comment_id}/approve", data={"csrf_token": csrf, "version": 1})
    response = browser.client.post(f"/comments/{comment_id}/approve",
                                   data={"csrf_token": csrf, "version": 2})
    assert response.status_code == 409
    assert f"comment {comment_id} is approved; cannot approve it" in response.text


@SQLITE_ONLY
def test_a_stale_version_is_refused_with_what_changed(browser: Browser) -> None:
    comment_id = make_comment(browser.engine)
    csrf = browser.log_in()
    browser.client.post(f"/comments/{comment_id}/approve", data={"csrf_token": csrf, "version": 1})
    # A form made from version 1 (before the approval) tries to reject.
    response = browser.client.post(f"/comments/{comment_id}/reject", data={
        "csrf_token": csrf, "version": 1, "reason_code": "spam"})
    assert response.status_code == 409
    assert "changed since you opened it" in response.text
    assert f"<strong>{USER}</strong> · approve (pending → approved)" in response.text
    assert load_comment(browser.engine, comment_id).status == CommentStatus.APPROVED


@SQLITE_ONLY
def test_a_form_without_version_is_refused(browser: Browser) -> None:
    comment_id = make_comment(browser.engine)
    csrf = browser.log_in()
    response = browser.client.post(f"/comments/{comment_id}/approve", data={"csrf_token": csrf})
    assert response.status_code == 400
    assert load_comment(browser.engine, comment_id).status == CommentStatus.PENDING


def test_reject_with_empty_reason_shows_the_error_and_leaves_it_pending(
    browser: Browser
) -> None:
    comment_id = make_comment(browser.engine)
    csrf = browser.log_in()
    response = browser.client.post(f"/comments/{comment_id}/reject",
                                    data={"csrf_token": csrf, "reason": "   ", "version": 1,
                                          "reason_code": "other"})
    assert response.status_code == 400
    assert "a rejection needs a reason the citizen can read" in response.text
    assert load_comment(browser.engine, comment_id).status == CommentStatus.PENDING


@SQLITE_ONLY
def test_reject_with_reason_rejects(browser: Browser) -> None:
    comment_id = make_comment(browser.engine)
    csrf = browser.log_in()
    response = browser.client.post(f"/comments/{comment_id}/reject",
                                   data={"csrf_token": csrf, "reason": "Jashtë teme.",
                                         "reason_code": "off-topic", "version": 1})
    assert response.status_code == 303
    comment = load_comment(browser.engine, comment_id)
    assert comment.status == CommentStatus.REJECTED
    assert comment.reject_code == "off-topic"
    assert comment.reject_reason == "Jashtë teme."


@SQLITE_ONLY
def test_reject_without_csrf_is_forbidden(browser: Browser) -> None:
    comment_id = make_comment(browser.engine)
    browser.log_in()
    response = browser.client.post(f"/comments/{comment_id}/reject",
                                   data={"reason": "Jashtë teme."})
    assert response.status_code == 403
    assert load_comment(browser.engine, comment_id).status == CommentStatus.PENDING


def test_comment_page_shows_sanitized_html_never_raw_script(browser: Browser) -> None:
    comment_id = make_comment(browser.engine, text=HOSTILE_TEXT,
                              subject="<script>alert('subject')</script>")
    browser.log_in()
    page = browser.client.get(f"/comments/{comment_id}")
    assert page.status_code == 200
    comment = load_comment(browser.engine, comment_id)
    assert comment.display_html in page.text  # exactly what will be published
    # The only script is the keyboard helper from this origin.
    assert page.text.lower().count("<script") == 1
    assert '<script src="/static/keys.js" defer></script>' in page.text
    assert "<img" not in page.text.lower()
    assert "&lt;script&gt;alert('xss')&lt;/script&gt;" in page.text  # shown, not run
    assert ('<a href="https://opendata.gov.al" rel="nofollow ugc noopener">'
            in page.text)
    assert "[e-mail]" in page.text


@SQLITE_ONLY
def test_comment_page_shows_commitments_and_private_sender(browser: Browser) -> None:
    comment_id = make_comment(browser.engine, text="Portali i të dhënave të hapura.",
                              sender="Ana Hoxha <ana.hoxha@example.org>")
    browser.log_in()
    page = browser.client.get(f"/comments/{comment_id}")
    assert f"<span>4. {default_catalogue().label('4').title_en}</span>" in page.text
    assert "ana.hoxha@example.org" in page.text
    assert "never published" in page.text


@SQLITE_ONLY
def test_unknown_comment_is_404(browser: Browser) -> None:
    browser.log_in()
    response = browser.client.get("/comments/999999")
    assert response.status_code == 404
    assert "No comment #999999." in response.text


@SQLITE_ONLY
def test_logout_ends_the_session(browser: Browser) -> None:
    csrf = browser.log_in()
    response = browser.client.post("/logout", data={"csrf_token": csrf})
    assert response.status_code == 303
    assert browser.client.get("/queue").status_code == 303


@SQLITE_ONLY
def test_next_and_previous_follow_the_queue_newest_first(browser: Browser) -> None:
    oldest, middle, newest = (make_comment(browser.engine, text=f"Komenti {n}.") for n in "abc")
    csrf = browser.log_in()
    page = browser.client.get(f"/comments/{middle}").text
    assert f'id="next-comment" rel="next" href="/comments/{oldest}"' in page
    assert f'id="prev-comment" rel="prev" href="/comments/{newest}"' in page
    response = browser.client.post(f"/comments/{newest}/approve",
                                   data={"csrf_token": csrf, "version": 1})
    assert response.headers["location"] == f"/comments/{middle}?decided={newest}"
    response = browser.client.post(f"/comments/{oldest}/approve",
                                   data={"csrf_token": csrf, "version": 1})
    # Nothing older is left: back to the top of the queue.
    assert response.headers["location"] == f"/comments/{middle}?decided={oldest}"


@SQLITE_ONLY
def test_every_form_on_a_comment_carries_csrf_and_version(browser: Browser) -> None:
    comment_id = make_comment(browser.engine)
    browser.log_in()
    page = browser.client.get(f"/comments/{comment_id}").text
    forms = re.findall(r'<form[^>]*method="post"[^>]*action="(/comments/[^"]+)"[^>]*>(.*?)</form>',
                       page, re.S)
    assert {action.rsplit("/", 1)[1] for action, _ in forms} == {
        "approve", "reject", "edit", "reclassify", "unclaim", "redactions", "consent"}
    for action, body in forms:
        assert 'name="csrf_token"' in body, action
        assert 'name="version" value="1"' in body, action


@SQLITE_ONLY
def test_a_stale_take_over_is_refused(browser: Browser) -> None:
    comment_id = make_comment(browser.engine)
    csrf = browser.log_in()
    browser.client.post(f"/comments/{comment_id}/approve", data={"csrf_token": csrf, "version": 1})
    response = browser.client.post(f"/comments/{comment_id}/claim",
                                   data={"csrf_token": csrf, "version": 1})
    assert response.status_code == 409
    assert "changed since you opened it" in response.text
    response = browser.client.post(f"/comments/{comment_id}/unclaim", data={"csrf_token": csrf})
    assert response.status_code == 400


@SQLITE_ONLY
@pytest.mark.parametrize("notices", [True, False])
def test_the_reject_form_promises_only_what_is_sent(settings: Settings, engine: Engine,
                                                    notices: bool) -> None:
    comment_id = make_comment(engine)
    with session_scope(engine) as session:
        add_user(session, USER, "moderator", PASSWORD)
    app = create_app(derive(settings, decision_notices=notices, undo_seconds=300), engine=engine)
    with TestClient(app, follow_redirects=False) as client:
        page = Browser(client, engine)
        page.log_in()
        text = client.get(f"/comments/{comment_id}").text
    promise = "The citizen will be e-mailed this reason and explanation after 5 minutes"
    assert (promise in text) is notices
    assert ("Notices to citizens are switched off" in text) is not notices
