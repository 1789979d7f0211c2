"""``ogp-feedback users ...`` as an operator runs it, and what a logged-in moderator
notices when an account is changed under them."""

from __future__ import annotations

import json
import re
import subprocess
import warnings
from collections.abc import Iterator
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import Engine
from sqlmodel import col, select
from starlette.exceptions import StarletteDeprecationWarning

from config.settings import Settings
from moderation.db import session_scope
from moderation.models import ModerationEvent, User, WebSession, utcnow
from moderation.totp import code_at
from moderation.web.app import create_app
from tests.conftest import run_cli
from tests.unit.factories import SQLITE_ONLY

HTTPX_DEPRECATION = r"Using `httpx` with `starlette\.testclient` is deprecated"
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=HTTPX_DEPRECATION,
                            category=StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

PASSWORD = "kodi-i-fshehte-2020"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def cli(settings: Settings, *args: str, stdin: str | None = None
        ) -> subprocess.CompletedProcess[str]:
    return run_cli(settings, "users", *args, stdin=stdin)


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


def add(settings: Settings, name: str = "mira", role: str = "moderator",
        password: str = PASSWORD) -> None:
    ok(cli(settings, "add", name, "--role", role, "--password-stdin", stdin=password + "\n"))


def account_log(engine: Engine) -> list[tuple[str, str, str | None]]:
    with session_scope(engine) as session:
        events = session.exec(select(ModerationEvent).where(
            col(ModerationEvent.action).startswith("user-")).order_by(col(ModerationEvent.id)))
        return [(e.actor, e.action, e.detail) for e in events]


def log_in(client: TestClient, name: str = "mira", password: str = PASSWORD,
           code: str = "") -> int:
    form = client.get("/login")
    csrf = CSRF_FIELD.search(form.text)
    assert csrf, form.text
    response = client.post("/login", data={
        "username": name, "password": password, "totp": code, "csrf_token": csrf.group(1),
        "next": "/queue"})
    return int(response.status_code)


@pytest.fixture
def client(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(settings, engine=engine), follow_redirects=False) as client:
        yield client


# ---------------------------------------------------------------- the commands

@SQLITE_ONLY
def test_add_then_list(settings: Settings, engine: Engine) -> None:
    add(settings)
    add(settings, "ana", "admin")
    listed = json.loads(ok(cli(settings, "list", "--json")))
    assert [{k: v for k, v in row.items() if k != "created_at"} for row in listed] == [
        {"name": "ana", "role": "admin", "active": True, "totp": False},
        {"name": "mira", "role": "moderator", "active": True, "totp": False}]
    assert all(row["created_at"].startswith(str(utcnow().year)) for row in listed)
    text = ok(cli(settings, "list"))
    assert re.search(r"^mira\s+moderator\s+active\s+-\s+\d{4}-", text, re.M), text
    assert text.rstrip().endswith("2 user(s)")
    assert account_log(engine) == [("cli", "user-add", "mira (moderator)"),
                                   ("cli", "user-add", "ana (admin)")]


@SQLITE_ONLY
def test_roles_come_from_the_role_table(settings: Settings) -> None:
    refused = cli(settings, "add", "mira", "--role", "superuser", "--password-stdin",
                  stdin=PASSWORD + "\n")
    assert refused.returncode == 2
    assert "choose from 'moderator', 'secretariat', 'admin'" in refused.stderr
    add(settings)
    assert cli(settings, "set-role", "mira", "--role", "boss").returncode == 2


@SQLITE_ONLY
def test_unknown_user_and_short_password_are_refused(settings: Settings) -> None:
    for args in (("disable", "nobody"), ("enable", "nobody"), ("totp", "nobody"),
                 ("set-role", "nobody", "--role", "admin")):
        result = cli(settings, *args)
        assert result.returncode == 2, args
        assert result.stderr == "ogp-feedback: no user 'nobody'\n", args
    add(settings)
    short = cli(settings, "reset-password", "mira", "--password-stdin", stdin="short\n")
    assert short.returncode == 2
    assert "a password needs at least 10 characters" in short.stderr


@SQLITE_ONLY
def test_reset_password(settings: Settings, engine: Engine, client: TestClient) -> None:
    add(settings)
    ok(cli(settings, "reset-password", "mira", "--password-stdin",
           stdin="a-new-password-2021\n"))
    assert log_in(client, password=PASSWORD) == 401
    assert log_in(client, password="a-new-password-2021") == 303
    assert account_log(engine)[-1] == ("cli", "user-password", "mira")


@SQLITE_ONLY
def test_totp_enable_prints_secret_and_uri_then_disable(
        settings: Settings, engine: Engine, client: TestClient) -> None:
    add(settings)
    out = ok(cli(settings, "totp", "mira"))
    secret = re.search(r"^secret: ([A-Z2-7]{32})$", out, re.M)
    uri = re.search(r"^uri: (otpauth://\S+)$", out, re.M)
    assert secret, out
    assert uri, out
    parsed = urlparse(uri.group(1))
    assert (parsed.scheme, parsed.netloc, parsed.path) == ("otpauth", "totp",
                                                           "/ogp-feedback:mira")
    assert parse_qs(parsed.query)["secret"] == [secret.group(1)]
    assert json.loads(ok(cli(settings, "list", "--json")))[0]["totp"] is True

    assert log_in(client) == 401
    assert log_in(client, code=code_at(secret.group(1), utcnow())) == 303

    ok(cli(settings, "totp", "mira", "--disable"))
    with session_scope(engine) as session:
        user = session.exec(select(User).where(User.name == "mira")).one()
    assert (user.totp_secret, user.totp_last_step) == (None, None)
    client.cookies.clear()
    assert log_in(client) == 303
    assert account_log(engine)[-2:] == [("cli", "user-totp", "mira: enabled"),
                                        ("cli", "user-totp", "mira: disabled")]


# ---------------------------------------------------------------- live sessions

def _live_sessions(engine: Engine) -> int:
    with session_scope(engine) as session:
        return len(session.exec(select(WebSession).where(
            col(WebSession.user_id).is_not(None))).all())


def test_disable_ends_a_live_session_and_enable_lets_back_in(
        settings: Settings, engine: Engine, client: TestClient) -> None:
    add(settings)
    assert log_in(client) == 303
    assert client.get("/queue").status_code == 200

    ok(cli(settings, "disable", "mira"))
    assert _live_sessions(engine) == 0
    response = client.get("/queue")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/queue"
    assert log_in(client) == 401

    ok(cli(settings, "enable", "mira"))
    assert log_in(client) == 303
    assert client.get("/queue").status_code == 200
    assert [a for _, a, _ in account_log(engine)] == ["user-add", "user-disable", "user-enable"]


@SQLITE_ONLY
def test_set_role_ends_the_session_and_the_new_role_holds(
        settings: Settings, engine: Engine, client: TestClient) -> None:
    add(settings)
    assert log_in(client) == 303
    assert client.get("/users").status_code == 403  # a moderator

    ok(cli(settings, "set-role", "mira", "--role", "admin"))
    assert client.get("/queue").status_code == 303  # logged out
    assert log_in(client) == 303
    page = client.get("/users")
    assert page.status_code == 200
    assert "mira" in page.text
    assert account_log(engine)[-1] == ("cli", "user-role", "mira: moderator -> admin")
