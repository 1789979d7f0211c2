"""The IDLE wait and the reconnect back-off, with a scripted stand-in for IMAPClient.

What a dead server looks like to imapclient was measured against Dovecot
(shared/reference/dovecot/idle_disconnect_check.py): ``idle_check`` returns
``[]`` at once instead of after its timeout, or hands back a ``BYE``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from sqlalchemy import create_engine

import intake.imap
from config.settings import Settings
from intake.imap import (
    FETCH_BYTES_PER_COMMAND,
    Backoff,
    IdleConnectionLostError,
    ImapPoller,
    LockLostError,
)
from tests.conftest import SECRET

Script = Callable[[float], list[object]]


class FakeSocket:
    def __init__(self) -> None:
        self.timeouts: list[float | None] = []

    def settimeout(self, value: float | None) -> None:
        self.timeouts.append(value)


class FakeClient:
    """Answers ``idle_check`` from ``script``; records the IDLE protocol calls."""

    def __init__(self, script: Script, idle: bool = True) -> None:
        self.script = script
        self.capable = idle
        self.calls: list[str] = []
        self.sock = FakeSocket()

    def has_capability(self, name: str) -> bool:
        return self.capable and name == "IDLE"

    def idle(self) -> None:
        self.calls.append("idle")

    def idle_check(self, timeout: float) -> list[object]:
        self.calls.append("check")
        return self.script(timeout)

    def idle_done(self) -> tuple[bytes, list[object]]:
        self.calls.append("done")
        return b"Idle completed", []

    def socket(self) -> FakeSocket:
        return self.sock


def quiet(timeout: float) -> list[object]:
    time.sleep(timeout)
    return []


def poller(**changes: object) -> ImapPoller:
    settings = Settings.model_validate({"secret_key": SECRET, "imap_timeout_seconds": 7.0,
                                        **changes})
    return ImapPoller(settings, create_engine("sqlite://"), lambda _ids: None)


@pytest.fixture(autouse=True)
def short_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(intake.imap, "IDLE_STEP_SECONDS", 0.1)


def test_instant_empty_answers_mean_the_server_is_gone() -> None:
    client = FakeClient(lambda _timeout: [])
    with pytest.raises(IdleConnectionLostError, match="closed the connection"):
        poller()._idle(client, threading.Event(), None)
    assert client.calls == ["idle", "check", "check"]
    assert "done" not in client.calls  # would only raise on a dead socket


def test_one_instant_empty_answer_is_not_yet_a_disconnect() -> None:
    answers: list[list[object]] = [[], [(b"OK", b"Still here")]]
    replies = iter(answers)
    client = FakeClient(lambda _timeout: next(replies))
    poller()._idle(client, threading.Event(), None)
    assert client.calls == ["idle", "check", "check", "done"]


def test_bye_means_the_server_is_gone() -> None:
    client = FakeClient(lambda _timeout: [(b"BYE", b"Server shutting down.")])
    with pytest.raises(IdleConnectionLostError, match="BYE"):
        poller()._idle(client, threading.Event(), None)


def test_news_ends_idle_for_a_catch_up() -> None:
    answers: list[list[object]] = [[], [(3, b"EXISTS")]]
    replies = iter(answers)

    def script(timeout: float) -> list[object]:
        answer = next(replies)
        if not answer:
            time.sleep(timeout)
        return answer

    client = FakeClient(script)
    poller()._idle(client, threading.Event(), None)
    assert client.calls == ["idle", "check", "check", "done"]
    # idle_check leaves the socket without a timeout; it is put back each time.
    assert client.sock.timeouts == [7.0, 7.0]


def test_idle_is_renewed_after_the_poll_interval() -> None:
    client = FakeClient(quiet)
    started = time.monotonic()
    poller(poll_interval_seconds=0.35)._idle(client, threading.Event(), None)
    assert 0.3 <= time.monotonic() - started < 1.5
    assert client.calls[0] == "idle"
    assert client.calls[-1] == "done"
    assert intake.imap.IDLE_RENEW_SECONDS <= 600  # never longer than 10 minutes


def test_stop_ends_idle_within_a_step() -> None:
    stop = threading.Event()
    client = FakeClient(quiet)
    threading.Timer(0.25, stop.set).start()
    started = time.monotonic()
    poller()._idle(client, stop, None)
    assert time.monotonic() - started < 1.0
    assert client.calls[-1] == "done"


def test_a_lost_lock_stops_idling() -> None:
    lost = threading.Event()
    client = FakeClient(quiet)
    threading.Timer(0.25, lost.set).start()
    with pytest.raises(LockLostError):
        poller()._idle(client, threading.Event(), lost)
    assert client.calls[-1] == "done"


def test_without_idle_it_waits_the_interval() -> None:
    client = FakeClient(quiet, idle=False)
    started = time.monotonic()
    poller(poll_interval_seconds=0.3)._idle(client, threading.Event(), None)
    assert 0.25 <= time.monotonic() - started < 1.0
    assert client.calls == []


def test_backoff_doubles_with_jitter_up_to_the_cap() -> None:
    low = Backoff(cap=300, rng=lambda: 0.0)
    high = Backoff(cap=300, rng=lambda: 0.999999)
    lows = [low.next_delay() for _ in range(12)]
    highs = [high.next_delay() for _ in range(12)]
    assert lows[:4] == [0.5, 1.0, 2.0, 4.0]
    assert [round(h) for h in highs[:4]] == [1, 2, 4, 8]
    assert max(highs) <= 300
    assert lows[-1] == 150
    assert high.failures == 12
    high.reset()
    assert high.next_delay() <= 1.0
    many = Backoff(cap=5)
    assert all(0 < many.next_delay() <= 5 for _ in range(2000))


def test_oversize_messages_do_not_count_towards_a_fetch() -> None:
    p = poller(max_message_bytes=1000)
    half = FETCH_BYTES_PER_COMMAND // 2
    groups = list(p._groups({1: 10, 2: 5000, 3: 20}))
    assert groups == [[1, 2, 3]]
    p = poller(max_message_bytes=FETCH_BYTES_PER_COMMAND)
    groups = list(p._groups({1: half, 2: half, 3: half, 4: FETCH_BYTES_PER_COMMAND, 5: 1}))
    assert groups == [[1, 2], [3], [4], [5]]
