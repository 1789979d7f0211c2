"""Stage timings of the intake as Prometheus histograms, shared by every process.

Workers and the poller run in their own processes; the web process serves ``/metrics``.
Each records its ``StageClock`` into one Redis hash (one pipelined round trip per batch),
and ``/metrics`` renders the hash as ``ogp_intake_stage_seconds`` histograms, so the next
bottleneck is visible where the other metrics are. Without Redis the histograms live in
the process's memory (the embedded setup: one process does everything). Recording never
raises: a metric lost is better than a message held back.
"""

from __future__ import annotations

import bisect
import logging
import threading
from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING

from config.settings import Settings, is_redis_url
from intake.stages import STAGES, StageClock

if TYPE_CHECKING:  # imported where used: most commands never talk to Redis
    import redis

log = logging.getLogger(__name__)

BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
           10.0, 30.0, 60.0)
METRIC = "ogp_intake_stage_seconds"
_INF = "+Inf"


def _bucket(seconds: float) -> str:
    index = bisect.bisect_left(BUCKETS, seconds)
    return _INF if index == len(BUCKETS) else repr(BUCKETS[index])


def _fields(clock: StageClock) -> dict[str, float]:
    """Hash increments: per stage, a count per bucket (not cumulative), a sum and a count."""
    fields: dict[str, float] = defaultdict(float)
    for stage, samples in clock.samples.items():
        for seconds in samples:
            fields[f"{stage}|{_bucket(seconds)}"] += 1
            fields[f"{stage}|sum"] += seconds
            fields[f"{stage}|count"] += 1
    return fields


class StageMetrics:
    def __init__(self, redis_url: str | None, key: str) -> None:
        self.key = key
        self._client: redis.Redis | None = None
        if redis_url:
            import redis

            self._client = redis.Redis.from_url(redis_url, socket_timeout=2,
                                                socket_connect_timeout=2)
        self._local: dict[str, float] = defaultdict(float)
        self._lock = threading.Lock()

    @classmethod
    def for_settings(cls, settings: Settings) -> StageMetrics:
        url = settings.broker_url
        return cls(url if url and is_redis_url(url) else None,
                   f"{settings.celery_queue}:stage-seconds")

    def record(self, clock: StageClock) -> None:
        fields = _fields(clock)
        if not fields:
            return
        if self._client is None:
            with self._lock:
                for name, value in fields.items():
                    self._local[name] += value
            return
        try:
            pipe = self._client.pipeline(transaction=False)
            for name, value in fields.items():
                if name.endswith("|sum"):
                    pipe.hincrbyfloat(self.key, name, value)
                else:
                    pipe.hincrby(self.key, name, int(value))
            pipe.execute()
        except Exception as error:  # a metric lost, never a message held back
            log.debug("stage metrics not recorded: %s", error)

    def read(self) -> dict[str, float]:
        if self._client is None:
            with self._lock:
                return dict(self._local)
        raw: dict[bytes, bytes] = self._client.hgetall(self.key)  # type: ignore[assignment]
        return {name.decode(): float(value) for name, value in raw.items()}

    def render(self) -> str:
        """The histograms in the Prometheus text format (empty stages shown as zero)."""
        try:
            values = self.read()
        except Exception as error:  # a broken broker must not take the other metrics down
            log.warning("stage metrics unavailable: %s", error)
            return ""
        return render_histograms(values, STAGES)


def render_histograms(values: dict[str, float], stages: Iterable[str]) -> str:
    lines = [f"# HELP {METRIC} Seconds a message spends in each intake stage (fetch and "
             "store: per message of a poll round; queue_wait: from storing to a worker's "
             "claim; claim and commit: a batch's time shared by its messages).",
             f"# TYPE {METRIC} histogram"]
    for stage in stages:
        cumulative = 0.0
        for bound in (*(repr(b) for b in BUCKETS), _INF):
            cumulative += values.get(f"{stage}|{bound}", 0.0)
            lines.append(f'{METRIC}_bucket{{stage="{stage}",le="{bound}"}} {int(cumulative)}')
        lines.append(f'{METRIC}_sum{{stage="{stage}"}} {values.get(f"{stage}|sum", 0.0)!r}')
        lines.append(f'{METRIC}_count{{stage="{stage}"}} '
                     f'{int(values.get(f"{stage}|count", 0.0))}')
    return "\n".join(lines) + "\n"
