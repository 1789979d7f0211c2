"""Moderators see what was set aside and why, and can release or retry it."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlmodel import Session
from starlette.exceptions import StarletteDeprecationWarning

from config.settings import Settings
from intake.store import RawMessage, store_raw_batch
from moderation.db import session_scope
from moderation.models import InboundMessage, InboundSource
from moderation.users import add_user
from tests.conftest import derive
from tests.mailgen import build
from tests.unit.moderation.web.test_app import CSRF_FIELD, HTTPX_DEPRECATION
from workers.runtime import Runtime

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=HTTPX_DEPRECATION,
                            category=StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

pytestmark = pytest.mark.usefixtures("fast_hasher")

LIST_MAIL = (b"From: Lista <lista@example.org>\r\nTo: feedback@ogp.example.al\r\n"
             b"Subject: Buxheti i bashkise\r\nList-Id: <qytetaret.example.org>\r\n"
             b"Content-Type: text/plain; charset=utf-8\r\n\r\n"
             b"Buxheti i bashkise duhet te publikohet ne format te hapur.\r\n")


@dataclass
class Moderator:
    client: TestClient
    runtime: Runtime
    csrf: str

    def row(self, inbound_id: int) -> InboundMessage:
        with Session(self.runtime.engine) as session:
            row = session.get(InboundMessage, inbound_id)
            assert row is not None
            return row


@pytest.fixture
def moderator(settings: Settings, make_runtime: Any) -> Iterator[Moderator]:
    """A secretariat member: releasing and retrying set-aside mail is theirs."""
    runtime: Runtime = make_runtime(derive(settings, receipts=False, max_attempts=1))
    with session_scope(runtime.engine) as session:
        add_user(session, "mira", "secretariat", "kodi-i-fshehte-2020")
    with TestClient(runtime.web_app(), follow_redirects=False) as client:
        page = client.get("/login")
        match = CSRF_FIELD.search(page.text)
        assert match
        client.post("/login", data={"username": "mira", "password": "kodi-i-fshehte-2020",
                                    "csrf_token": match.group(1), "next": "/queue"})
        queue = CSRF_FIELD.search(client.get("/queue").text)
        assert queue
        yield Moderator(client, runtime, queue.group(1))


def _ingest(runtime: Runtime, raw: bytes) -> int:
    with session_scope(runtime.engine) as session:
        stored = store_raw_batch(session, [RawMessage(raw=raw, source=InboundSource.IMPORT)])
    runtime.enqueue([stored[0].inbound_id])
    return stored[0].inbound_id


def test_release_a_false_positive(moderator: Moderator) -> None:
    inbound_id = _ingest(moderator.runtime, LIST_MAIL)
    page = moderator.client.get("/quarantine")
    assert "mailing_list" in page.text
    assert "mailing-list mail: List-Id header" in page.text
    assert "Buxheti i bashkise" in page.text
    refused = moderator.client.post(f"/inbound/{inbound_id}/release")
    assert refused.status_code == 403
    assert moderator.row(inbound_id).status == "quarantined"

    released = moderator.client.post(f"/inbound/{inbound_id}/release",
                                     data={"csrf_token": moderator.csrf})
    assert released.status_code == 303
    row = moderator.row(inbound_id)
    assert (row.status, row.released_by) == ("processed", "mira")


def test_retry_a_failed_message(moderator: Moderator, monkeypatch: pytest.MonkeyPatch) -> None:
    poison = build(1, "plain-8bit", prefix="PSN")
    monkeypatch.setenv("OGP_FAILPOINTS", f"process:raise={poison.token}")
    inbound_id = _ingest(moderator.runtime, poison.raw)
    assert moderator.row(inbound_id).status == "failed"
    page = moderator.client.get("/quarantine")
    assert "failed after 1 attempts: InjectedFaultError" in page.text

    monkeypatch.delenv("OGP_FAILPOINTS")
    retried = moderator.client.post(f"/inbound/{inbound_id}/reprocess",
                                    data={"csrf_token": moderator.csrf})
    assert retried.status_code == 303
    assert moderator.row(inbound_id).status == "processed"
