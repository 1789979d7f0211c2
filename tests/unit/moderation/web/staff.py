"""Logging a test client in as a member of staff, as a browser without JavaScript does."""

from __future__ import annotations

import re
import warnings

from starlette.exceptions import StarletteDeprecationWarning

# Starlette warns once, when ``starlette.testclient`` is imported, that it runs on
# ``httpx`` rather than ``httpx2``; a mark cannot reach an import-time warning.
HTTPX_DEPRECATION = r"Using `httpx` with `starlette\.testclient` is deprecated"
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=HTTPX_DEPRECATION,
                            category=StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def log_in(client: TestClient, name: str, password: str, landing: str = "/queue") -> str:
    """Log in through the form; returns the CSRF token of the signed-in session."""
    login = CSRF_FIELD.search(client.get("/login").text)
    assert login, "the login page has no CSRF field"
    response = client.post("/login", data={"username": name, "password": password,
                                           "csrf_token": login.group(1), "next": landing})
    assert response.status_code == 303, response.text
    page = client.get(landing)
    assert page.status_code == 200, page.text
    token = CSRF_FIELD.search(page.text)
    assert token, f"{landing} has no CSRF field"
    return token.group(1)

__all__ = ["CSRF_FIELD", "HTTPX_DEPRECATION", "TestClient", "log_in"]
