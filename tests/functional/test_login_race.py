"""A client that follows the login redirect at once is logged in, against a real server.

The bug this guards against: the session was committed only after the response
had gone out, so a quick client got a CSRF 403 (the login form's session was not
there yet) or the login page again (the new session was not there yet) about one
time in ten. ``TestClient`` cannot show it: it waits for the whole request,
commit included. A real ``uvicorn`` and a new connection per request can.
"""

from __future__ import annotations

import re

import httpx

from config.settings import Settings
from tests.conftest import CLI, free_port, run_cli, settings_env, wait_until

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
ROUNDS = 50


def _up(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def test_login_then_redirect_at_once_never_fails(settings: Settings,
                                                 start_process: object) -> None:
    added = run_cli(settings, "users", "add", "mira", "--role", "moderator",
                    "--password-stdin", stdin="race pass 1234\n")
    assert added.returncode == 0, added.stderr
    port = free_port()
    start_process([CLI, "serve", "--port", str(port)], settings_env(settings),  # type: ignore[operator]
                  name="serve")
    base = f"http://127.0.0.1:{port}"
    wait_until(lambda: _up(base), 30, "the web UI answers")

    failures: list[str] = []
    # No keep-alive: each request on a new connection, as a browser's parallel
    # connections may do; on one connection the server would finish each request first.
    no_reuse = httpx.Limits(max_keepalive_connections=0)
    for round_ in range(ROUNDS):
        with httpx.Client(base_url=base, limits=no_reuse, timeout=10) as client:
            form = client.get("/login")
            csrf = CSRF_FIELD.search(form.text)
            assert csrf, form.text
            posted = client.post("/login", data={
                "username": "mira", "password": "race pass 1234",
                "csrf_token": csrf.group(1), "next": "/queue"})
            if posted.status_code != 303:
                failures.append(f"round {round_}: POST /login -> {posted.status_code}")
                continue
            landed = client.get(posted.headers["location"])
            if landed.status_code != 200 or 'action="/login"' in landed.text:
                failures.append(f"round {round_}: GET /queue -> {landed.status_code} "
                                f"{landed.headers.get('location', '')}")
    assert failures == []
