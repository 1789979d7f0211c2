"""The poller lock against a real Redis: acquire, exclusion, renewal, release by token, expiry."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from config.settings import Settings
from intake.lock import (
    LockConfigError,
    LockKeeper,
    LockUnavailableError,
    RedisLock,
    lock_url,
    mailbox_lock,
    mailbox_lock_key,
)
from tests.conftest import SECRET, free_port


@pytest.fixture
def client(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url, socket_timeout=5)
    yield client
    client.close()


@pytest.fixture
def key(client: redis.Redis) -> Iterator[str]:
    key = mailbox_lock_key("imap.test", f"u{uuid.uuid4().hex[:8]}@example.test", "INBOX")
    yield key
    client.delete(key)


def test_first_acquires_second_does_not(client: redis.Redis, key: str) -> None:
    first, second = RedisLock(client, key, 10), RedisLock(client, key, 10)
    assert first.acquire()
    assert not second.acquire()
    assert not first.acquire()  # not re-entrant: the key is taken
    assert first.holder() == first.token
    assert 9000 <= int(client.pttl(key)) <= 10000


def test_renew_extends_only_the_holders_lease(client: redis.Redis, key: str) -> None:
    first, second = RedisLock(client, key, 10), RedisLock(client, key, 10)
    assert first.acquire()
    client.pexpire(key, 500)
    assert first.renew()
    assert int(client.pttl(key)) > 9000
    assert not second.renew()
    assert first.holder() == first.token


def test_release_by_a_wrong_token_does_nothing(client: redis.Redis, key: str) -> None:
    first, second = RedisLock(client, key, 10), RedisLock(client, key, 10)
    assert first.acquire()
    assert not second.release()
    assert first.holder() == first.token
    assert first.release()
    assert first.holder() is None
    assert second.acquire()
    assert not first.release()  # a stale holder cannot delete its successor's lock
    assert second.holder() == second.token


def test_lease_expires_and_cannot_be_renewed_after(client: redis.Redis, key: str) -> None:
    first, second = RedisLock(client, key, 1), RedisLock(client, key, 1)
    assert first.acquire()
    client.pexpire(key, 50)
    time.sleep(0.15)
    assert first.holder() is None
    assert not first.renew()
    assert second.acquire()
    assert not first.renew()
    assert second.holder() == second.token


def test_keeper_renews_then_reports_a_lost_lease(client: redis.Redis, key: str) -> None:
    lock = RedisLock(client, key, 1.2)  # renewed every 0.4 s
    assert lock.acquire()
    keeper = LockKeeper(lock)
    keeper.start()
    try:
        time.sleep(1.6)  # longer than the TTL: only renewal keeps it
        assert lock.holder() == lock.token
        assert not keeper.lost.is_set()
        client.set(key, "someone-else")  # taken over, as after an expiry
        assert keeper.lost.wait(2)
    finally:
        keeper.stop()
    assert client.get(key) == b"someone-else"  # a lost lock is not released


def test_keeper_stop_releases(client: redis.Redis, key: str) -> None:
    lock = RedisLock(client, key, 5)
    assert lock.acquire()
    keeper = LockKeeper(lock)
    keeper.start()
    keeper.stop()
    assert lock.holder() is None


def test_lock_url_and_key_come_from_settings(redis_url: str) -> None:
    base = {"secret_key": SECRET, "imap_host": "mail.example", "imap_user": "a@example",
            "imap_password": "pw", "imap_mailbox": "Feedback"}
    assert lock_url(Settings(**base)) is None  # type: ignore[arg-type]
    assert lock_url(Settings(**base, broker_url="amqp://h//")) is None  # type: ignore[arg-type]
    assert lock_url(Settings(**base, broker_url=redis_url)) == redis_url  # type: ignore[arg-type]
    settings = Settings(**base, broker_url="amqp://h//", lock_url=redis_url)  # type: ignore[arg-type]
    assert lock_url(settings) == redis_url
    lock = mailbox_lock(settings)
    assert lock is not None
    assert lock.key == "ogp-feedback:imap-poller:mail.example:a@example:Feedback"
    assert lock.ttl_seconds == 60
    lock.client.close()
    with pytest.raises(LockConfigError, match="OGP_LOCK_URL"):
        lock_url(Settings(**base, lock_url="http://x"))  # type: ignore[arg-type]


def test_unreachable_redis_is_reported() -> None:
    client = redis.Redis(host="127.0.0.1", port=free_port(), socket_connect_timeout=1,
                         retry=Retry(NoBackoff(), 0))
    try:
        with pytest.raises(LockUnavailableError, match="cannot reach Redis"):
            RedisLock(client, "k", 5).acquire()
    finally:
        client.close()
