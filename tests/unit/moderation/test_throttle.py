"""The failed-login counters: per account, per address, in the process or in Redis."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import redis

from config.settings import Settings
from moderation.throttle import FormThrottle, LoginThrottle, storage_url
from tests.conftest import SECRET, free_port

ADDRESS = "203.0.113.9"


def fail(throttle: LoginThrottle, times: int, account: str = "mira",
         address: str = ADDRESS) -> None:
    for _ in range(times):
        throttle.failed(account, address)


def test_refuses_after_the_account_limit_until_a_minute_has_passed() -> None:
    throttle = LoginThrottle(per_account=3, per_address=100)
    fail(throttle, 2)
    assert throttle.check("mira", ADDRESS) is None
    fail(throttle, 1)
    start = datetime.now(UTC)
    refusal = throttle.check("mira", ADDRESS)
    assert refusal is not None
    assert refusal.scope == "account"
    assert start + timedelta(seconds=58) <= refusal.retry_at <= start + timedelta(seconds=61)
    assert 58 <= refusal.seconds() <= 60
    # Another account from the same address is not held back by mira's limit.
    assert throttle.check("ana", ADDRESS) is None
    # Surrounding spaces are the same account, as for the login itself.
    assert throttle.check(" mira ", "198.51.100.7") is not None


def test_the_address_limit_spans_accounts() -> None:
    throttle = LoginThrottle(per_account=100, per_address=3)
    for name in ("a", "b", "c"):
        throttle.failed(name, ADDRESS)
    refusal = throttle.check("d", ADDRESS)
    assert refusal is not None
    assert refusal.scope == "address"
    assert throttle.check("d", "198.51.100.7") is None


def test_deployments_have_their_own_counts() -> None:
    throttle = LoginThrottle(per_account=1, per_address=100, deployment="one")
    fail(throttle, 1)
    assert throttle.check("mira", ADDRESS) is not None
    other = LoginThrottle(per_account=1, per_address=100, deployment="two")
    assert other.check("mira", ADDRESS) is None


@pytest.mark.parametrize(("changes", "expected"), [
    ({}, None),
    ({"broker_url": "redis://broker:6379/0"}, "redis://broker:6379/0"),
    ({"broker_url": "amqp://broker//"}, None),
    ({"broker_url": "redis://broker:6379/0", "lock_url": "redis://lock:6379/1"},
     "redis://lock:6379/1"),
])
def test_counts_go_where_the_poller_lock_goes(changes: dict[str, str],
                                               expected: str | None) -> None:
    settings = Settings(secret_key=SECRET, **changes)  # type: ignore[arg-type]
    assert storage_url(settings) == expected
    assert LoginThrottle.from_settings(settings).shared is (expected is not None)


def test_two_processes_share_the_counts_in_redis(redis_url: str) -> None:
    deployment = f"test-{uuid.uuid4().hex[:8]}"
    first = LoginThrottle(3, 100, redis_url, deployment=deployment)
    second = LoginThrottle(3, 100, redis_url, deployment=deployment)
    fail(first, 2)
    fail(second, 1)
    refusal = first.check("mira", ADDRESS)
    assert refusal is not None
    assert second.check("mira", ADDRESS) is not None
    # The address and the name are hashed in the key: no personal data in Redis.
    keys = [key.decode() for key in redis.Redis.from_url(redis_url).scan_iter(
        f"*{deployment}*")]
    assert len(keys) == 2
    assert not any(ADDRESS in key or "mira" in key for key in keys)


def test_without_redis_it_counts_in_the_process(caplog: pytest.LogCaptureFixture) -> None:
    down = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    throttle = LoginThrottle(2, 100, down, deployment="down")
    with caplog.at_level(logging.WARNING, logger="moderation.throttle"):
        fail(throttle, 2)
        refusal = throttle.check("mira", ADDRESS)
    assert refusal is not None
    assert "Redis unavailable" in caplog.text


# ---------------------------------------------------------------- the contact form

def test_form_submissions_from_one_client_are_cut_at_the_limit_in_every_process(
        redis_url: str) -> None:
    deployment = f"test-{uuid.uuid4().hex[:8]}"
    first = FormThrottle(3, 100, redis_url, deployment=deployment)
    second = FormThrottle(3, 100, redis_url, deployment=deployment)
    assert [first.take("198.51.100.7"), second.take("198.51.100.7"),
            first.take("198.51.100.7")] == [None, None, None]
    refusal = second.take("198.51.100.7")
    assert refusal is not None
    assert refusal.scope == "client"
    # About an hour until the oldest of the three leaves the window.
    assert timedelta(minutes=59) < refusal.retry_at - datetime.now(UTC) <= timedelta(hours=1)
    assert first.take("198.51.100.8") is None  # another client has its own count
    keys = [key.decode() for key in redis.Redis.from_url(redis_url).scan_iter(
        f"*{deployment}*")]
    assert keys
    assert not any("198.51.100" in key for key in keys)


def test_the_limit_for_everyone_counts_every_client() -> None:
    throttle = FormThrottle(100, 2)
    assert throttle.take("198.51.100.1") is None
    assert throttle.take("198.51.100.2") is None
    refusal = throttle.take("198.51.100.3")
    assert refusal is not None
    assert refusal.scope == "everyone"
    assert refusal.retry_at - datetime.now(UTC) <= timedelta(minutes=1)
