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
# in the queue until a worker claims it; parsed, sanitised, classified; its personal data
# found (redact) and its campaign looked up (group) while its results are written (commit:
# the rest of that transaction).
STAGES = ("fetch", "store", "queue_wait", "claim", "parse", "sanitize", "classify", "redact",
          "group", "commit")


class StageClock:
    """Seconds per stage, one sample per timed run."""

    def __init__(self) -> None:
        self.samples: dict[str, list[float]] = defaultdict(list)
        self._timed = 0.0  # every sample's seconds, for ``outer``

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.add(name, time.perf_counter() - started)

    @contextmanager
    def outer(self, name: str, count: int = 1) -> Iterator[None]:
        """Time ``name`` less the stages timed inside it, as ``count`` equal samples (a
        batch's commit shared by its messages), so no second is counted twice."""
        started, timed_before = time.perf_counter(), self._timed
        try:
            yield
        finally:
            own = time.perf_counter() - started - (self._timed - timed_before)
            if count:
                self.add(name, max(0.0, own) / count, count)

    def add(self, name: str, seconds: float, count: int = 1) -> None:
        """``count`` samples of ``seconds`` each (a batch's time shared by its messages)."""
        self.samples[name].extend([seconds] * count)
        self._timed += seconds * count

    def totals(self) -> dict[str, float]:
        return {name: sum(values) for name, values in self.samples.items()}
