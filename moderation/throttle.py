"""Throttles: staff logins (failed attempts per account and per client address) and the
contact form (accepted submissions per client address and from everyone, ``FormThrottle``).

Moving windows (``limits``), so a burst cannot straddle a window edge. The counters
live in Redis when ``OGP_LOCK_URL`` or a Redis broker is set, so every web process sees
the same numbers; else in this process.

Of logins, only failures are counted. ``check`` is asked *before* the password is verified:
a refused attempt must cost no argon2 work, or the throttle would not protect
the server's CPU. Because a failure is counted only once it is known, attempts
sent in parallel can all pass ``check`` before the first is counted; the web
server's thread pool bounds how many. (``limits`` cannot hand back a slot, so
reserving one up front would make successful logins count.)
This module never reads a password and never writes the database.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from limits import RateLimitItem, RateLimitItemPerHour, RateLimitItemPerMinute
from limits.errors import StorageError
from limits.storage import MemoryStorage, RedisStorage, Storage
from limits.strategies import MovingWindowRateLimiter

from config.settings import Settings

log = logging.getLogger(__name__)

NAMESPACE = "ogp-feedback-login"
# A login must not hang on a stuck Redis; on an error we count in the process instead.
REDIS_TIMEOUT_SECONDS = 2.0

T = TypeVar("T")


def storage_url(settings: Settings) -> str | None:
    """The Redis the counters live in (as for the poller lock); ``None``: in the process."""
    return settings.redis_url


def _key(value: str) -> str:
    # Hashed: an address is personal data, and a name may hold any character
    # (``limits`` joins identifiers with '/').
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:32]


@dataclass(frozen=True)
class Refusal:
    """Too many failures: when the next attempt will be heard, and which limit hit."""

    scope: str  # "account" or "address"
    retry_at: datetime

    def seconds(self, now: datetime | None = None) -> int:
        now = now or datetime.now(UTC)
        return max(1, math.ceil((self.retry_at - now).total_seconds()))


class _Counters:
    """Moving-window counters in Redis (``storage_uri``) or in this process; when Redis
    fails, counting goes on in the process rather than failing open or refusing all."""

    what = "throttle"

    def __init__(self, storage_uri: str | None, deployment: str) -> None:
        self.deployment = deployment
        self.shared = storage_uri is not None
        storage: Storage = MemoryStorage()
        if storage_uri is not None:
            storage = RedisStorage(
                storage_uri, wrap_exceptions=True, socket_timeout=REDIS_TIMEOUT_SECONDS,
                socket_connect_timeout=REDIS_TIMEOUT_SECONDS)
        self._limiter = MovingWindowRateLimiter(storage)
        self._fallback = MovingWindowRateLimiter(MemoryStorage()) if self.shared else None

    def _call(self, use: Callable[[MovingWindowRateLimiter], T]) -> T:
        try:
            return use(self._limiter)
        except StorageError as error:
            if self._fallback is None:
                raise
            log.warning("%s: Redis unavailable (%s); counting in this process", self.what,
                        error)
            return use(self._fallback)

    def _refusal(self, scope: str, item: RateLimitItem, key: str) -> Refusal:
        """When the moving window frees a slot for ``key``."""
        reset = self._call(lambda limiter: limiter.get_window_stats(
            item, self.deployment, scope, key).reset_time)
        return Refusal(scope, datetime.fromtimestamp(max(reset, time.time()), UTC))


class LoginThrottle(_Counters):
    what = "login throttle"

    def __init__(self, per_account: int, per_address: int, storage_uri: str | None = None,
                 deployment: str = "") -> None:
        super().__init__(storage_uri, deployment)
        self.account_limit: RateLimitItem = RateLimitItemPerMinute(per_account,
                                                                   namespace=NAMESPACE)
        self.address_limit: RateLimitItem = RateLimitItemPerMinute(per_address,
                                                                   namespace=NAMESPACE)

    @classmethod
    def from_settings(cls, settings: Settings) -> LoginThrottle:
        # The queue name already tells deployments sharing one Redis apart.
        return cls(settings.login_attempts_per_account, settings.login_attempts_per_address,
                   storage_url(settings), deployment=settings.celery_queue)

    def _limits(self, account: str, address: str) -> list[tuple[str, RateLimitItem, str]]:
        return [("account", self.account_limit, _key(account.strip())),
                ("address", self.address_limit, _key(address))]

    def _allowed(self, scope: str, item: RateLimitItem, key: str) -> bool:
        return self._call(lambda limiter: limiter.test(item, self.deployment, scope, key))

    def _hit(self, scope: str, item: RateLimitItem, key: str) -> None:
        self._call(lambda limiter: limiter.hit(item, self.deployment, scope, key))

    def check(self, account: str, address: str) -> Refusal | None:
        """``None`` when one more attempt may be tried; else the refusal to show."""
        for scope, item, key in self._limits(account, address):
            if not self._allowed(scope, item, key):
                # The moving window frees a slot when its oldest failure is a minute old.
                return self._refusal(scope, item, key)
        return None

    def failed(self, account: str, address: str) -> None:
        for scope, item, key in self._limits(account, address):
            self._hit(scope, item, key)


FORM_NAMESPACE = "ogp-feedback-form"


class FormThrottle(_Counters):
    """Contact-form submissions accepted per client address an hour, and from everyone a
    minute; in Redis when configured (every web process counts together), else in this
    process, as for logins.

    ``take`` counts and checks in one step (``hit``), so a burst sent in parallel cannot
    slip past the limit; a refused submission counts against nothing.
    """

    what = "form throttle"

    def __init__(self, per_client_hour: int, everyone_minute: int,
                 storage_uri: str | None = None, deployment: str = "") -> None:
        super().__init__(storage_uri, deployment)
        self.client_limit: RateLimitItem = RateLimitItemPerHour(per_client_hour,
                                                                namespace=FORM_NAMESPACE)
        self.everyone_limit: RateLimitItem = RateLimitItemPerMinute(everyone_minute,
                                                                    namespace=FORM_NAMESPACE)

    @classmethod
    def from_settings(cls, settings: Settings) -> FormThrottle:
        return cls(settings.form_client_limit_per_hour, settings.form_global_limit_per_minute,
                   storage_url(settings), deployment=settings.celery_queue)

    def _hit(self, scope: str, item: RateLimitItem, key: str) -> bool:
        return self._call(lambda limiter: limiter.hit(item, self.deployment, scope, key))

    def take(self, client: str) -> Refusal | None:
        """``None``: one more submission is counted and may be stored; else why not."""
        everyone = ("everyone", self.everyone_limit, "all")
        if not self._call(lambda limiter: limiter.test(self.everyone_limit, self.deployment,
                                                       "everyone", "all")):
            return self._refusal(*everyone)
        for scope, item, key in (("client", self.client_limit, _key(client)), everyone):
            if not self._hit(scope, item, key):
                return self._refusal(scope, item, key)
        return None
