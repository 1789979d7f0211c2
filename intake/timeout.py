"""A wall-clock limit around parsing, so one hostile message cannot hold a worker.

Uses ``SIGALRM``, which only the main thread can receive: Celery's prefork
children and the CLI run tasks there. Elsewhere (a web request thread) the
block runs unguarded, which is acceptable because those inputs are our own
size-capped form messages.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


class TimeLimitExceeded(BaseException):
    """A ``BaseException``, so the parser's "bad mail is an outcome" handlers
    (``except Exception``) cannot swallow it on the way out."""


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(_signum: int, _frame: FrameType | None) -> None:
        raise TimeLimitExceeded(f"took longer than {seconds:g} seconds")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
