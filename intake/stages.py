"""Where a message's time goes: named stages timed as they run.

Pure bookkeeping (no clock but ``perf_counter``, no I/O): the pipeline times its stages
into a ``StageClock`` and the worker hands the samples to the metrics
(``workers.stage_metrics``), the benchmark prints them (``bench/intake.py --profile``).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager

# In the order a message meets them: fetched from IMAP and stored by the poller; waiting
# in the queue until a worker claims it; parsed, sanitised, classified; committed.
STAGES = ("fetch", "store", "queue_wait", "claim", "parse", "sanitize", "classify", "commit")


class StageClock:
    """Seconds per stage, one sample per timed run."""

    def __init__(self) -> None:
        self.samples: dict[str, list[float]] = defaultdict(list)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.samples[name].append(time.perf_counter() - started)

    def add(self, name: str, seconds: float, count: int = 1) -> None:
        """``count`` samples of ``seconds`` each (a batch's time shared by its messages)."""
        self.samples[name].extend([seconds] * count)

    def merge(self, other: StageClock) -> None:
        for name, values in other.samples.items():
            self.samples[name].extend(values)

    def totals(self) -> dict[str, float]:
        return {name: sum(values) for name, values in self.samples.items()}
