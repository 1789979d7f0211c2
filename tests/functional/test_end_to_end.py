"""A citizen's e-mail becomes a published comment, on real services.

Dovecot (IMAP over TLS) -> ``ogp-feedback poll --once`` -> Redis -> a real Celery
worker process -> pending comments -> a moderator over HTTP -> ``publish``.
"""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

import httpx
import pytest

from config.settings import Settings
from tests.conftest import CLI, Dovecot, derive, free_port, run_cli, settings_env, wait_until
from tests.functional.helpers import append_all, folder_counts, log_in
from tests.mailgen import KINDS, varied_messages
from tests.published import published_text

TOKEN = re.compile(r"E2E\d{5}X")


def _queue(settings: Settings, status: str) -> list[dict[str, object]]:
    result = run_cli(settings, "queue", "--status", status, "--json")
    assert result.returncode == 0, result.stderr
    items: list[dict[str, object]] = json.loads(result.stdout)
    return items


def test_mail_to_published_site(settings: Settings, dovecot: Dovecot, imap_user: str,
                                redis_url: str, start_process: object, tmp_path: Path) -> None:
    messages = varied_messages(25, prefix="E2E")
    assert {m.kind for m in messages} == set(KINDS)
    settings = derive(dovecot.settings_for(settings, imap_user, security="tls"),
                      broker_url=redis_url, celery_queue=f"test-{uuid.uuid4().hex[:8]}")
    append_all(dovecot.settings_for(settings, imap_user), [m.raw for m in messages])

    worker = start_process([CLI, "worker", "--concurrency", "2"], settings_env(settings),  # type: ignore[operator]
                           name="worker")
    worker.wait_for_output("ready", timeout=60)
    polled = run_cli(settings, "poll", "--once")
    assert polled.returncode == 0, polled.stderr
    assert "stored 25" in polled.stdout

    wait_until(lambda: len(_queue(settings, "pending")) == 25, 90,
               "25 pending comments from the worker")
    pending = _queue(settings, "pending")
    assert all(item["commitments"] for item in pending)
    assert {item["message_id"] for item in pending} == {
        m.raw.split(b"Message-ID: ")[1].split(b"\n")[0].strip().decode() for m in messages}
    assert folder_counts(dovecot.settings_for(settings, imap_user), "INBOX", "Processed") == {
        "INBOX": 0, "Processed": 25}

    assert run_cli(settings, "users", "add", "mira", "--role", "moderator", "--password-stdin",
                   stdin="correct horse battery\n").returncode == 0
    port = free_port()
    server = start_process([CLI, "serve", "--port", str(port)], settings_env(settings),  # type: ignore[operator]
                           name="serve")
    base = f"http://127.0.0.1:{port}"
    wait_until(lambda: _up(base), 30, "the web UI answers")

    rejected_tokens = {m.token for n, m in enumerate(messages) if n % 5 == 1}
    with httpx.Client(base_url=base, follow_redirects=False, timeout=30) as client:
        csrf = log_in(client, "mira", "correct horse battery")
        first = pending[0]["id"]
        # CSRF enforced: no token, and a wrong token, are refused and change nothing.
        assert client.post(f"/comments/{first}/approve").status_code == 403
        assert client.post(f"/comments/{first}/approve",
                           data={"csrf_token": "forged"}).status_code == 403
        assert len(_queue(settings, "pending")) == 25

        for item in pending:
            page = client.get(f"/comments/{item['id']}")
            assert page.status_code == 200
            token = TOKEN.search(page.text)
            assert token, page.text
            # Every form names the version it was made from.
            version = re.search(r'name="version" value="(\d+)"', page.text)
            assert version, page.text
            if token.group(0) in rejected_tokens:
                response = client.post(f"/comments/{item['id']}/reject",
                                       data={"csrf_token": csrf, "reason": "Off topic test",
                                             "version": version.group(1)})
            else:
                response = client.post(f"/comments/{item['id']}/approve",
                                       data={"csrf_token": csrf, "version": version.group(1)})
            assert response.status_code == 303, response.text
    server.stop()

    assert len(_queue(settings, "approved")) == 20
    assert len(_queue(settings, "rejected")) == 5
    site = tmp_path / "public"
    published = run_cli(settings, "publish", "--out", str(site))
    assert published.returncode == 0, published.stderr
    assert len(_queue(settings, "published")) == 20

    html = published_text(site)
    assert set(TOKEN.findall(html)) == {m.token for m in messages} - rejected_tokens
    # The one script of the site is the search page's own module, from the site's assets.
    lowered = html.lower().replace('<script type="module" src="../assets/search.js"></script>', "")
    for forbidden in ("<script", "onerror", "onclick", "javascript:", "alert("):
        assert forbidden not in lowered, forbidden
    assert "@example.org" not in html
    for message in messages:
        assert message.sender not in html
    # Every approved text is shown in full, with its diacritics intact.
    assert "Çdo ministri duhet të publikojë planin e integritetit" in html


def _up(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.mark.parametrize("security", ["none", "starttls"])
def test_poll_over_plain_and_starttls(settings: Settings, dovecot: Dovecot, imap_user: str,
                                      security: str) -> None:
    messages = varied_messages(3, prefix=f"S{security[:2].upper()}")
    append_all(dovecot.settings_for(settings, imap_user), [m.raw for m in messages])
    polled = run_cli(dovecot.settings_for(settings, imap_user, security=security), "poll", "--once")
    assert polled.returncode == 0, polled.stderr
    assert "stored 3" in polled.stdout
    assert len(_queue(settings, "pending")) == 3
