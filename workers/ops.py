"""Broker probes for the operations view: is Redis up, how many tasks wait.

The web layer gets these as plain callables, so it never imports ``redis``
nor learns the broker URL. They only read; they never touch a task.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import redis

PROBE_TIMEOUT_SECONDS = 2.0
# kombu's Redis transport keeps a queue's prioritised messages in sibling lists
# named queue + "\x06\x16" + priority (3, 6, 9); priority 0 is the bare name.
_PRIORITY_SEPARATOR = "\x06\x16"
_PRIORITY_STEPS = (3, 6, 9)


@dataclass(frozen=True)
class RedisProbes:
    ping: Callable[[], bool]
    queue_depth: Callable[[], int | None]


def redis_probes(broker_url: str, queue: str) -> RedisProbes:
    """One small client (2 s timeouts) shared by both probes; connects on first use."""
    client = redis.Redis.from_url(broker_url, socket_timeout=PROBE_TIMEOUT_SECONDS,
                                  socket_connect_timeout=PROBE_TIMEOUT_SECONDS)
    keys = [queue, *(f"{queue}{_PRIORITY_SEPARATOR}{step}" for step in _PRIORITY_STEPS)]

    def ping() -> bool:
        return bool(client.ping())

    def queue_depth() -> int | None:
        pipe = client.pipeline(transaction=False)
        for key in keys:
            pipe.llen(key)
        return sum(int(length) for length in pipe.execute())

    return RedisProbes(ping=ping, queue_depth=queue_depth)
