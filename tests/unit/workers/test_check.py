"""``ogp-feedback check`` against real services: what an operator reads, and the exit status.

Each service is real (PostgreSQL or SQLite, Redis, the test Dovecot, an aiosmtpd relay that
asks for a login); each problem is made the way it happens in production (a wrong password,
a port nobody listens on, a Redis that evicts, a database never initialised).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from config.settings import Settings
from tests.conftest import (
    Dovecot,
    derive,
    free_port,
    run_cli,
    settings_env,
    unavailable,
    wait_until,
)
from tests.functional.relay import running_relay
from tests.unit.factories import SQLITE_ONLY

pytestmark = pytest.mark.services

RELAY_USER, RELAY_PASSWORD = "relay-user", "relay-password-1"


def relay() -> Any:
    return running_relay(RELAY_USER, RELAY_PASSWORD)


def _env(settings: Settings, relay_port: int, password: str = RELAY_PASSWORD) -> dict[str, str]:
    return {"OGP_MAIL_SENDER": "smtp", "OGP_SMTP_HOST": "127.0.0.1",
            "OGP_SMTP_PORT": str(relay_port), "OGP_SMTP_SECURITY": "none",
            "OGP_SMTP_USER": RELAY_USER, "OGP_SMTP_PASSWORD": password}


def _lines(output: str) -> dict[str, str]:
    """``{check: "outcome detail"}`` from the aligned report."""
    found = {}
    for line in output.splitlines():
        parts = line.split(None, 2)
        if len(parts) == 3 and parts[0] in {"ok", "PROBLEM", "skipped"}:
            found[parts[1]] = f"{parts[0]} {parts[2]}"
    return found


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # as in production
def test_a_ready_deployment_passes_every_check_and_sends_nothing(
        settings: Settings, dovecot: Dovecot, imap_user: str, redis_url: str) -> None:
    configured = derive(dovecot.settings_for(settings, imap_user, security="tls"),
                        broker_url=redis_url)
    with relay() as sink:
        result = run_cli(configured, "check", **_env(configured, sink.port))
    assert result.returncode == 0, result.stdout + result.stderr
    lines = _lines(result.stdout)
    assert lines["secrets"] == "ok none is an example value"
    assert lines["site"].startswith("ok publish can write")
    assert lines["database"].endswith("answers; schema up to date")
    assert lines["broker"] == "ok Redis at 127.0.0.1:6379 answers; maxmemory-policy noeviction"
    assert lines["imap"].startswith(f"ok logged in to 127.0.0.1:{dovecot.tls_port} (tls) as "
                                    f"{imap_user}; INBOX holds 0 message(s)")
    assert lines["smtp"] == (f"ok relay 127.0.0.1:{sink.port} (none) accepted us as "
                             f"{RELAY_USER}; nothing was sent")
    assert result.stdout.rstrip().endswith("everything checked is ready")
    assert sink.received == []


@SQLITE_ONLY
def test_every_problem_is_named_in_plain_words_and_the_status_is_1(
        settings: Settings, dovecot: Dovecot, imap_user: str, tmp_path: Path) -> None:
    closed = free_port()  # nothing listens there
    configured = derive(dovecot.settings_for(settings, imap_user), imap_password="wrong",
                        broker_url=f"redis://127.0.0.1:{closed}/0",
                        database_url=f"sqlite:///{tmp_path / 'never-initialised.db'}",
                        site_dir=tmp_path / "no-such-folder" / "site")
    with relay() as sink:
        result = run_cli(configured, "check", **_env(configured, sink.port, password="nope"))
    assert result.returncode == 1, result.stdout + result.stderr
    lines = _lines(result.stdout)
    assert lines["site"] == (f"PROBLEM {tmp_path / 'no-such-folder'} (the folder OGP_SITE_DIR="
                             f"{tmp_path / 'no-such-folder' / 'site'} is published into) "
                             "does not exist")
    assert lines["database"] == (f"PROBLEM sqlite:///{tmp_path / 'never-initialised.db'}: "
                                 "no such file; run 'ogp-feedback init'")
    assert lines["broker"] == (f"PROBLEM nothing answers at 127.0.0.1:{closed}: is the service "
                               "running, and is the port right?")
    assert lines["imap"].startswith(f"PROBLEM 127.0.0.1:{dovecot.port} refused the login of "
                                    f"{imap_user}: ")
    assert lines["imap"].endswith("(check OGP_IMAP_USER and OGP_IMAP_PASSWORD; many providers "
                                  "need an app password)")
    assert lines["smtp"].startswith(f"PROBLEM 127.0.0.1:{sink.port} refused the login of "
                                    f"{RELAY_USER}: 535 ")
    assert result.stdout.rstrip().endswith("5 problem(s): site, database, broker, imap, smtp")
    assert "wrong" not in result.stdout  # no password is echoed
    assert "nope" not in result.stdout


@SQLITE_ONLY
def test_a_database_that_answers_but_was_never_migrated(settings: Settings,
                                                        tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    empty.touch()
    result = run_cli(derive(settings, database_url=f"sqlite:///{empty}"), "check",
                     "--only", "database")
    assert result.returncode == 1
    assert _lines(result.stdout)["database"] == (
        f"PROBLEM sqlite:///{empty} answers but is not initialised or is out of date: "
        "run 'ogp-feedback init'")


@SQLITE_ONLY
def test_a_redis_that_may_evict_tasks_is_a_problem(settings: Settings, tmp_path: Path,
                                                   start_process: Any) -> None:
    import redis

    if shutil.which("redis-server") is None:
        unavailable("redis-server is not installed")
    port = free_port()
    server = shutil.which("redis-server") or "redis-server"
    start_process([server, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                   "--dir", str(tmp_path), "--maxmemory", "64mb",
                   "--maxmemory-policy", "allkeys-lru"], env={}, name="redis-lru")
    client = redis.Redis(port=port)
    wait_until(lambda: _answers(client), 20, "the second Redis answers")
    result = run_cli(derive(settings, broker_url=f"redis://127.0.0.1:{port}/0"), "check",
                     "--only", "broker")
    assert result.returncode == 1
    assert _lines(result.stdout)["broker"] == (
        f"PROBLEM Redis at 127.0.0.1:{port} has maxmemory-policy allkeys-lru: when it fills up "
        "it may silently drop queued tasks; set noeviction")


def _answers(client: Any) -> bool:
    import redis

    try:
        return bool(client.ping())
    except redis.ConnectionError:
        return False


@SQLITE_ONLY
def test_a_bad_setting_stops_check_with_the_variable_in_plain_words(settings: Settings) -> None:
    result = run_cli(settings, "check", OGP_ENVIRONMENT="production", OGP_SECRET_KEY="")
    assert result.returncode == 2
    assert result.stderr == "ogp-feedback: settings: OGP_SECRET_KEY must be set in production\n"


@SQLITE_ONLY
def test_a_secret_left_at_its_example_value_is_a_problem(settings: Settings) -> None:
    example = next(line.split("=", 1)[1] for line in
                   (Path(__file__).parents[3] / ".env.example").read_text().splitlines()
                   if line.startswith("OGP_SECRET_KEY="))
    result = run_cli(settings, "check", "--only", "secrets", OGP_SECRET_KEY=example,
                     OGP_SMTP_PASSWORD="example-app-password-replace-me")
    assert result.returncode == 1
    assert _lines(result.stdout)["secrets"] == (
        "PROBLEM OGP_SECRET_KEY, OGP_SMTP_PASSWORD are still the example value from "
        ".env.example: set your own (openssl rand -base64 32)")


@SQLITE_ONLY
def test_the_light_healthcheck_entry_point_fails_when_the_broker_is_away(
        settings: Settings) -> None:
    """``python -m workers.cli_check``, what the stack's healthchecks run."""
    closed = free_port()
    env = settings_env(derive(settings, broker_url=f"redis://127.0.0.1:{closed}/0"))
    probe = [sys.executable, "-m", "workers.cli_check", "--only", "database", "--only", "broker"]
    result = subprocess.run(probe, env=env, capture_output=True, text=True, timeout=120,
                            check=False)
    assert result.returncode == 1, result.stdout + result.stderr
    assert _lines(result.stdout) == {
        "settings": "ok valid (development)",
        "database": f"ok {settings.database_url} answers; schema up to date",
        "broker": f"PROBLEM nothing answers at 127.0.0.1:{closed}: is the service running, "
                  "and is the port right?"}
