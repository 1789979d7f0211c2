"""Shared steps of the functional tests: a mailbox, a moderator, a browser-less login."""

from __future__ import annotations

import re
from collections.abc import Sequence

import httpx
from imapclient import IMAPClient

from config.settings import Settings

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def imap_client(settings: Settings) -> IMAPClient:
    client = IMAPClient(settings.imap_host or "", port=settings.effective_imap_port, ssl=False,
                        timeout=15)
    client.login(settings.imap_user or "", settings.imap_password or "")
    return client


def append_all(settings: Settings, raws: Sequence[bytes], folder: str = "INBOX") -> None:
    client = imap_client(settings)
    try:
        for raw in raws:
            client.append(folder, raw)
    finally:
        client.logout()


def folder_counts(settings: Settings, *folders: str) -> dict[str, int]:
    client = imap_client(settings)
    try:
        counts = {}
        for folder in folders:
            if not client.folder_exists(folder):
                counts[folder] = 0
                continue
            status = client.folder_status(folder, [b"MESSAGES"])
            counts[folder] = int(status[b"MESSAGES"])
        return counts
    finally:
        client.logout()


def csrf_from(html: str) -> str:
    match = CSRF_FIELD.search(html)
    assert match, "page has no CSRF field"
    return match.group(1)


def log_in(client: httpx.Client, username: str, password: str) -> str:
    """Log in like a browser would; returns the session's CSRF token."""
    page = client.get("/login")
    assert page.status_code == 200
    response = client.post("/login", data={"username": username, "password": password,
                                           "csrf_token": csrf_from(page.text), "next": "/queue"})
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/queue"
    queue = client.get("/queue")
    assert queue.status_code == 200
    return csrf_from(queue.text)
