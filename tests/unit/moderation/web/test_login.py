"""Staff login over HTTP: throttling, the second factor, the idle timeout, the audit
trail, and a client that follows the login redirect at once."""

from __future__ import annotations

import re
import uuid
import warnings
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from argon2 import PasswordHasher
from sqlalchemy import Engine
from sqlmodel import col, select
from starlette.exceptions import StarletteDeprecationWarning

import moderation.users
from config.settings import Settings
from moderation.audit import AccountAction
from moderation.db import session_scope
from moderation.models import ModerationEvent, User, WebSession, utcnow
from moderation.totp import code_at, matching_step
from moderation.users import add_user, enable_totp
from moderation.web.app import create_app
from tests.conftest import derive
from tests.unit.factories import SQLITE_ONLY

HTTPX_DEPRECATION = r"Using `httpx` with `starlette\.testclient` is deprecated"
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=HTTPX_DEPRECATION,
                            category=StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

USER = "mira"
PASSWORD = "kodi-i-fshehte-2020"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
RETRY = re.compile(r"Try again in (\d+) seconds? \(at (\d\d:\d\d:\d\d) UTC\)")
RETRY_SQ = re.compile(r"Provoni përsëri pas (\d+) sekond")
WRONG_LOGIN = "Wrong user name or password."


class CountingHasher:
    """The test hasher, counting ``verify`` calls: a throttled login must make none."""

    def __init__(self, inner: PasswordHasher) -> None:
        self.inner = inner
        self.verifies = 0

    def hash(self, password: str) -> str:
        return self.inner.hash(password)

    def verify(self, hashed: str, password: str) -> bool:
        self.verifies += 1
        return self.inner.verify(hashed, password)


@pytest.fixture
def hasher(fast_hasher: PasswordHasher, monkeypatch: pytest.MonkeyPatch) -> CountingHasher:
    counting = CountingHasher(fast_hasher)
    monkeypatch.setattr(moderation.users, "_HASHER", counting)
    return counting


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

    def post_login(self, password: str = PASSWORD, user: str = USER, code: str = "") -> Any:
        return self.client.post("/login", data={
            "username": user, "password": password, "totp": code, "csrf_token": self.csrf(),
            "next": "/queue"})


MakeBrowser = Callable[..., Browser]


@pytest.fixture
def make_browser(settings: Settings, engine: Engine, hasher: CountingHasher
                 ) -> Iterator[MakeBrowser]:
    """A browser on an app built with these setting changes (a fresh throttle each)."""
    with session_scope(engine) as session:
        add_user(session, USER, "moderator", PASSWORD)
        add_user(session, "ana", "admin", PASSWORD)
    with ExitStack() as stack:
        def make(**changes: object) -> Browser:
            app = create_app(derive(settings, **changes), engine=engine)
            client = stack.enter_context(TestClient(app, follow_redirects=False))
            return Browser(client, engine)

        yield make


@pytest.fixture
def browser(make_browser: MakeBrowser) -> Browser:
    return make_browser()


def account_events(engine: Engine, *actions: str) -> list[ModerationEvent]:
    with session_scope(engine) as session:
        return list(session.exec(select(ModerationEvent)
                                 .where(col(ModerationEvent.action).in_(actions))
                                 .order_by(col(ModerationEvent.id))).all())


# ---------------------------------------------------------------- throttling

@SQLITE_ONLY
def test_eleventh_wrong_password_is_refused_without_checking_the_hash(
        browser: Browser, hasher: CountingHasher) -> None:
    for attempt in range(10):
        response = browser.post_login(password=f"wrong-{attempt}")
        assert response.status_code == 401, attempt
        assert WRONG_LOGIN in response.text
    assert hasher.verifies == 10

    before = datetime.now(UTC)
    # Even the right password: the account is throttled, the hash is not looked at.
    refused = browser.post_login()
    assert refused.status_code == 429
    assert hasher.verifies == 10
    match = RETRY.search(refused.text)
    assert match, refused.text
    seconds = int(match.group(1))
    assert 1 <= seconds <= 60
    assert refused.headers["retry-after"] == match.group(1)
    hours, minutes, secs = (int(part) for part in match.group(2).split(":"))
    expected = before + timedelta(seconds=seconds)
    off = (hours * 3600 + minutes * 60 + secs
           - (expected.hour * 3600 + expected.minute * 60 + expected.second)) % 86400
    assert min(off, 86400 - off) <= 2, (match.group(2), expected)
    assert RETRY_SQ.search(refused.text), "the Albanian half of the message is missing"
    assert 'role="alert"' in refused.text
    assert browser.client.get("/queue").status_code == 303  # not logged in

    failed = account_events(browser.engine, AccountAction.LOGIN_FAILED)
    assert [(e.actor, e.reason, e.detail) for e in failed] == \
        [(USER, "wrong password", "address testclient")] * 10
    throttled = account_events(browser.engine, AccountAction.LOGIN_THROTTLED)
    assert [(e.actor, e.reason) for e in throttled] == \
        [(USER, "too many failed logins for this account")]
    assert account_events(browser.engine, AccountAction.LOGIN) == []


@SQLITE_ONLY
def test_successful_logins_do_not_count(make_browser: MakeBrowser) -> None:
    browser = make_browser(login_attempts_per_account=2)
    for _ in range(3):
        assert browser.post_login().status_code == 303
        browser.client.cookies.clear()
    # Had the three logins counted, this would already be refused.
    assert browser.post_login(password="wrong-1").status_code == 401
    assert browser.post_login(password="wrong-2").status_code == 401
    assert browser.post_login().status_code == 429


@SQLITE_ONLY
def test_the_account_limit_holds_one_account_only(make_browser: MakeBrowser) -> None:
    browser = make_browser(login_attempts_per_account=3)
    for attempt in range(3):
        assert browser.post_login(password=f"wrong-{attempt}").status_code == 401
    assert browser.post_login().status_code == 429
    assert browser.post_login(user="ana").status_code == 303


@SQLITE_ONLY
def test_per_address_limit_spans_accounts(make_browser: MakeBrowser,
                                          hasher: CountingHasher) -> None:
    browser = make_browser(login_attempts_per_address=3)
    for name in ("nobody-1", "nobody-2", "ana"):
        response = browser.post_login(user=name, password="wrong-password")
        assert response.status_code == 401, name
    assert hasher.verifies == 3  # unknown names are verified against a dummy hash too
    refused = browser.post_login()  # mira has no failures of her own
    assert refused.status_code == 429
    assert RETRY.search(refused.text)
    assert hasher.verifies == 3
    failed = account_events(browser.engine, AccountAction.LOGIN_FAILED)
    assert [(e.actor, e.reason) for e in failed] == [
        ("nobody-1", "unknown user"), ("nobody-2", "unknown user"), ("ana", "wrong password")]
    throttled = account_events(browser.engine, AccountAction.LOGIN_THROTTLED)
    assert [(e.actor, e.reason) for e in throttled] == \
        [(USER, "too many failed logins for this address")]


@SQLITE_ONLY
def test_web_processes_on_one_redis_share_the_counts(make_browser: MakeBrowser,
                                                      redis_url: str) -> None:
    # Two apps stand for two web processes; their own queue name keeps this test's
    # counters apart from any other run's.
    shared = {"lock_url": redis_url, "celery_queue": f"test-{uuid.uuid4().hex[:8]}",
              "login_attempts_per_account": 4}
    first, second = make_browser(**shared), make_browser(**shared)
    assert first.client.app.state.ctx.login_throttle.shared  # type: ignore[attr-defined]
    for browser in (first, second, first, second):
        assert browser.post_login(password="wrong-password").status_code == 401
    assert second.post_login().status_code == 429
    assert first.post_login().status_code == 429


@SQLITE_ONLY
def test_the_limiter_is_built_once_per_app(settings: Settings, engine: Engine) -> None:
    app = create_app(settings, engine=engine)
    throttle = app.state.ctx.login_throttle
    assert app.state.ctx.login_throttle is throttle
    assert create_app(settings, engine=engine).state.ctx.login_throttle is not throttle
    assert not throttle.shared  # no Redis configured: counted in the process


# ---------------------------------------------------------------- second factor

def second_factor(engine: Engine) -> str:
    with session_scope(engine) as session:
        return enable_totp(session, USER, "cli")


def not_the_code(secret: str) -> str:
    now = utcnow()
    return next(c for c in ("000000", "111111", "222222")
                if matching_step(secret, c, now) is None)


@SQLITE_ONLY
def test_login_form_offers_the_code_field_with_a_hint(browser: Browser) -> None:
    page = browser.client.get("/login").text
    assert 'name="totp"' in page
    assert 'autocomplete="one-time-code"' in page
    assert "if you set up a second factor" in page.lower()


def test_second_factor_is_required_and_accepted_once(browser: Browser) -> None:
    secret = second_factor(browser.engine)
    assert browser.post_login().status_code == 401  # password alone is not enough
    assert browser.post_login(code=not_the_code(secret)).status_code == 401
    assert browser.post_login(password="wrong-password", code=code_at(secret, utcnow())
                              ).status_code == 401
    code = code_at(secret, utcnow())
    assert browser.post_login(code=code).status_code == 303
    assert browser.client.get("/queue").status_code == 200

    browser.client.cookies.clear()
    replay = browser.post_login(code=code)
    assert replay.status_code == 401
    assert WRONG_LOGIN in replay.text  # which part failed is not told
    failed = account_events(browser.engine, AccountAction.LOGIN_FAILED)
    assert [e.reason for e in failed] == [
        "missing code", "wrong code", "wrong password", "code already used"]
    with session_scope(browser.engine) as session:
        user = session.exec(select(User).where(User.name == USER)).one()
    assert user.totp_last_step == matching_step(secret, code, utcnow())


@SQLITE_ONLY
def test_wrong_codes_count_as_failed_attempts(make_browser: MakeBrowser,
                                              hasher: CountingHasher) -> None:
    browser = make_browser(login_attempts_per_account=2)
    secret = second_factor(browser.engine)
    wrong = not_the_code(secret)
    assert browser.post_login(code=wrong).status_code == 401
    assert browser.post_login(code=wrong).status_code == 401
    verified = hasher.verifies
    assert browser.post_login(code=code_at(secret, utcnow())).status_code == 429
    assert hasher.verifies == verified


# ---------------------------------------------------------------- audit

@SQLITE_ONLY
def test_login_and_logout_are_audited_with_the_address(browser: Browser) -> None:
    assert browser.post_login().status_code == 303
    csrf = browser.csrf("/queue")
    assert browser.client.post("/logout", data={"csrf_token": csrf}).status_code == 303
    events = account_events(browser.engine, AccountAction.LOGIN, AccountAction.LOGOUT)
    assert [(e.actor, e.action, e.detail) for e in events] == [
        (USER, "login", "address testclient"), (USER, "logout", "address testclient")]


# ---------------------------------------------------------------- idle timeout

def _age_sessions(engine: Engine, seconds: int) -> None:
    with session_scope(engine) as session:
        for record in session.exec(select(WebSession).where(col(WebSession.user_id).is_not(None))):
            record.last_seen_at = utcnow() - timedelta(seconds=seconds)
            session.add(record)


def test_idle_session_ends(make_browser: MakeBrowser) -> None:
    browser = make_browser(session_idle_seconds=600)
    assert browser.post_login().status_code == 303
    assert browser.client.get("/queue").status_code == 200

    _age_sessions(browser.engine, 300)  # used five minutes ago: still fine, and touched
    assert browser.client.get("/queue").status_code == 200
    with session_scope(browser.engine) as session:
        record = session.exec(select(WebSession).where(col(WebSession.user_id).is_not(None))
                              ).one()
    assert utcnow() - record.last_seen_at < timedelta(seconds=60)

    _age_sessions(browser.engine, 601)
    response = browser.client.get("/queue")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/queue"
    # Coming back to the login page ends the idle session for good.
    assert browser.client.get("/login").status_code == 200
    with session_scope(browser.engine) as session:
        assert session.exec(select(WebSession).where(col(WebSession.user_id).is_not(None))
                            ).all() == []


# ---------------------------------------------------------------- the login race

def test_following_the_login_redirect_at_once_is_logged_in(make_browser: MakeBrowser) -> None:
    # TestClient waits for the whole request, commit included, so it cannot show the
    # race itself (tests/functional/test_login_race.py does, on a real server); this
    # checks the flow a quick client takes, fifty times over.
    browser = make_browser()
    for round_ in range(50):
        browser.client.cookies.clear()
        page = browser.client.get("/login")
        csrf = CSRF_FIELD.search(page.text)
        assert csrf, round_
        response = browser.client.post("/login", data={
            "username": USER, "password": PASSWORD, "csrf_token": csrf.group(1),
            "next": "/queue"})
        assert response.status_code == 303, (round_, response.status_code)
        landed = browser.client.get(response.headers["location"])
        assert landed.status_code == 200, (round_, landed.status_code)
        assert 'action="/login"' not in landed.text, round_
