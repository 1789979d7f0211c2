"""Hostile structure is quarantined with the limit it broke, and nobody waits long."""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlmodel import Session

from config.settings import Settings
from intake.store import RawMessage, store_raw_batch
from moderation.db import session_scope
from moderation.models import InboundMessage, InboundSource
from moderation.transitions import release_inbound
from tests.conftest import CORPORA, derive, unavailable
from workers.runtime import Runtime

HEAD = b"From: Qytetar <q@example.org>\r\nTo: feedback@ogp.example.al\r\nMIME-Version: 1.0\r\n"


def deep_multipart(depth: int) -> bytes:
    body = [HEAD + b'Subject: deep\r\nContent-Type: multipart/mixed; boundary="b0"\r\n\r\n']
    for level in range(1, depth):
        body.append(
            b'--b%d\r\nContent-Type: multipart/mixed; boundary="b%d"\r\n\r\n' % (level - 1, level)
        )
    body.append(b"--b%d\r\nContent-Type: text/plain\r\n\r\nthellesi\r\n" % (depth - 1))
    body.extend(b"--b%d--\r\n" % level for level in reversed(range(depth)))
    return b"".join(body)


def wide_multipart(parts: int) -> bytes:
    head = HEAD + b'Subject: wide\r\nContent-Type: multipart/mixed; boundary="XX"\r\n\r\n'
    return (
        head
        + b"".join(
            b"--XX\r\nContent-Type: text/plain\r\n\r\npjesa %d\r\n" % i for i in range(parts)
        )
        + b"--XX--\r\n"
    )


def encoded_word_subject(words: int) -> bytes:
    subject = b" ".join(b"=?UTF-8?Q?=C3=AB?=" for _ in range(words))
    return HEAD + b"Subject: " + subject + b"\r\nContent-Type: text/plain\r\n\r\ntekst\r\n"


def huge_message(size: int) -> bytes:
    line = b"x" * 998 + b"\r\n"
    return HEAD + b"Subject: big\r\nContent-Type: text/plain\r\n\r\n" + line * (size // 1000 + 1)


def _process(runtime: Runtime, raw: bytes) -> tuple[InboundMessage, float]:
    with session_scope(runtime.engine) as session:
        inbound_id = store_raw_batch(session, [RawMessage(raw=raw, source=InboundSource.IMPORT)])[
            0
        ].inbound_id
    started = time.monotonic()
    runtime.enqueue([inbound_id])
    elapsed = time.monotonic() - started
    with Session(runtime.engine) as session:
        row = session.get(InboundMessage, inbound_id)
        assert row is not None
        return row, elapsed


@pytest.mark.parametrize(
    ("name", "build", "expected"),
    [
        (
            "1,000-deep multipart",
            lambda: deep_multipart(1000),
            "MIME nesting 1000 levels deep is over the limit OGP_MAX_MIME_DEPTH=20",
        ),
        (
            "100,000-part message",
            lambda: wide_multipart(100_000),
            "100000 MIME parts is over the limit OGP_MAX_MIME_PARTS=200",
        ),
        (
            "20,000 encoded-word subject",
            lambda: encoded_word_subject(20_000),
            "20000 encoded words in the headers is over the limit OGP_MAX_ENCODED_WORDS=500",
        ),
        (
            "30 MB message",
            lambda: huge_message(30 * 1024 * 1024),
            "bytes is over the limit OGP_MAX_MESSAGE_BYTES=26214400",
        ),
    ],
)
def test_hostile_structure_is_quarantined(
    settings: Settings, make_runtime: Any, name: str, build: Any, expected: str
) -> None:
    runtime: Runtime = make_runtime(derive(settings, parse_time_limit_seconds=5))
    row, elapsed = _process(runtime, build())
    assert row.status == "quarantined", name
    assert expected in (row.reason or ""), row.reason
    assert elapsed < 5, f"{name} held the worker for {elapsed:.1f}s"


def test_flanker_enclosed_endless_is_quarantined(settings: Settings, make_runtime: Any) -> None:
    path = CORPORA / "mailgun-flanker/tests/fixtures/messages/enclosed-endless.eml"
    if not path.exists():
        unavailable(f"corpus file missing: {path}")
    runtime: Runtime = make_runtime(derive(settings, parse_time_limit_seconds=5))
    row, elapsed = _process(runtime, path.read_bytes())
    assert row.status == "quarantined"
    assert "over the limit OGP_MAX_MIME_PARTS" in (row.reason or "")
    assert elapsed < 5


def test_parse_time_limit_stops_a_slow_parse(settings: Settings, make_runtime: Any) -> None:
    """Released past the structural limits, a 100,000-part message still cannot hold a
    worker longer than OGP_PARSE_TIME_LIMIT_SECONDS."""
    runtime: Runtime = make_runtime(derive(settings, parse_time_limit_seconds=1))
    row, _ = _process(runtime, wide_multipart(100_000))
    assert row.status == "quarantined"
    with session_scope(runtime.engine) as session:
        release_inbound(session, row.id or 0, "moderator")
    started = time.monotonic()
    runtime.enqueue([row.id or 0])
    elapsed = time.monotonic() - started
    with Session(runtime.engine) as session:
        again = session.get(InboundMessage, row.id)
        assert again is not None
        assert again.status == "quarantined"
        assert again.reason is not None
        assert "parsing took longer than OGP_PARSE_TIME_LIMIT_SECONDS=1" in again.reason
    assert elapsed < 4, f"the worker was held for {elapsed:.1f}s"
