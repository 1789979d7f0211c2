"""One active IMAP poller per mailbox: an expiring lock in Redis.

``SET key token NX PX ttl`` takes the lock; only the holder's token can extend
it (compare-and-``PEXPIRE``) or release it (compare-and-``DEL``), so a poller
that stalled past the TTL can never extend or delete a lock a newer poller
took. The lock is a lease: if the holder dies, it expires by itself.

The lock is an optimisation against wasted work, not the guarantee of
exactly-once intake: the database's unique keys (sha256, and mailbox +
UIDVALIDITY + UID) still stop a duplicate when two pollers overlap.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from typing import Any, cast

import redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from config.settings import Settings, is_redis_url

log = logging.getLogger(__name__)

KEY_PREFIX = "ogp-feedback:imap-poller"

# KEYS[1] = lock key, ARGV[1] = token, ARGV[2] = ttl in ms
_EXTEND = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""
# KEYS[1] = lock key, ARGV[1] = token
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('del', KEYS[1])
end
return 0
"""

class LockConfigError(ValueError):
    pass


class LockUnavailableError(Exception):
    """Redis could not be asked: nobody knows who holds the lock."""


def mailbox_lock_key(host: str, user: str, mailbox: str) -> str:
    return f"{KEY_PREFIX}:{host}:{user}:{mailbox}"


def lock_url(settings: Settings) -> str | None:
    """``OGP_LOCK_URL``, else the broker when it is Redis; ``None`` means no lock."""
    if settings.lock_url and not is_redis_url(settings.lock_url):
        raise LockConfigError("OGP_LOCK_URL must be a redis://, rediss:// or unix:// URL")
    return settings.redis_url


class RedisLock:
    """A lease on ``key`` held by a random token; every call is one round trip."""

    def __init__(self, client: redis.Redis, key: str, ttl_seconds: float) -> None:
        if ttl_seconds <= 0:
            raise ValueError("the lock TTL must be positive")
        self.client = client
        self.key = key
        self.ttl_seconds = ttl_seconds
        self.token = secrets.token_hex(16)
        self._extend = client.register_script(_EXTEND)
        self._release = client.register_script(_RELEASE)

    @property
    def _ttl_ms(self) -> int:
        return max(1, int(self.ttl_seconds * 1000))

    def acquire(self) -> bool:
        """Take the lock if nobody holds it (or the holder let it expire)."""
        try:
            return bool(self.client.set(self.key, self.token, nx=True, px=self._ttl_ms))
        except redis.RedisError as error:
            raise LockUnavailableError(f"cannot reach Redis for the poller lock {self.key}: "
                                  f"{error}") from error

    def renew(self) -> bool:
        """Extend the lease; ``False`` when it is no longer ours (expired or taken)."""
        return bool(self._extend(keys=[self.key], args=[self.token, self._ttl_ms]))

    def release(self) -> bool:
        """Give the lock up; does nothing (``False``) when another token holds it."""
        return bool(self._release(keys=[self.key], args=[self.token]))

    def holder(self) -> str | None:
        value = cast(Any, self.client.get(self.key))
        if value is None:
            return None
        return value.decode() if isinstance(value, bytes) else str(value)


class LockKeeper:
    """Renews a held lock from a daemon thread every third of its TTL.

    ``lost`` is set when the lease is gone: renewal answered that the token no
    longer holds the key, or Redis could not be reached for a whole TTL. The
    poller checks ``lost`` between batches and while idling and stops working.
    """

    def __init__(self, lock: RedisLock) -> None:
        self.lock = lock
        self.lost = threading.Event()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self.lost.clear()
        self._stopped.clear()
        self._thread = threading.Thread(target=self._run, name="imap-lock-keeper", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        interval = self.lock.ttl_seconds / 3
        last_renewed = time.monotonic()
        while not self._stopped.wait(interval):
            try:
                if self.lock.renew():
                    last_renewed = time.monotonic()
                    continue
                log.warning("the poller lock %s was lost (expired or taken over)", self.lock.key)
                self.lost.set()
                return
            except redis.RedisError as error:
                if time.monotonic() - last_renewed >= self.lock.ttl_seconds:
                    log.warning("the poller lock %s could not be renewed for a whole TTL (%s); "
                                "assuming it is lost", self.lock.key, error)
                    self.lost.set()
                    return
                log.warning("could not renew the poller lock %s: %s", self.lock.key, error)

    def stop(self, release: bool = True) -> None:
        """Stop renewing and, unless told otherwise, release the lock."""
        self._stopped.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        if release and not self.lost.is_set():
            try:
                self.lock.release()
            except redis.RedisError as error:
                log.warning("could not release the poller lock %s: %s (it expires by itself)",
                            self.lock.key, error)


def mailbox_lock(settings: Settings) -> RedisLock | None:
    """The lock for the configured mailbox, or ``None`` when no Redis is configured."""
    url = lock_url(settings)
    if url is None:
        return None
    # Few, short retries: a renewal must finish well inside a third of the TTL.
    client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5,
                                  retry=Retry(ExponentialBackoff(cap=1.0, base=0.1), 1))
    key = mailbox_lock_key(settings.imap_host or "", settings.imap_user or "",
                           settings.imap_mailbox)
    return RedisLock(client, key, settings.lock_ttl_seconds)
