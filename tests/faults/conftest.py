"""Fixtures of the fault-injection suite: one ``Stack`` (Redis, Dovecot, SMTP sink, our
processes) per test, built on the ``settings`` of the backend the scenario asks for."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from config.settings import Settings
from tests.conftest import unavailable
from tests.faults.harness import Stack


def _require_services() -> None:
    for binary in ("dovecot", "redis-server"):
        if shutil.which(binary) is None:
            unavailable(f"{binary} is not installed (make test installs it)")
    if os.geteuid() != 0:
        unavailable("the test Dovecot needs root")


def _build(settings: Settings, persistent: bool) -> Iterator[Stack]:
    _require_services()
    workdir = Path(tempfile.mkdtemp(prefix="ogp-faults-"))
    stack = Stack(settings, workdir, persistent_redis=persistent)
    try:
        stack.start()
        yield stack
    finally:
        stack.close()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def stack(settings: Settings) -> Iterator[Stack]:
    """Redis without persistence: a restart comes back empty."""
    yield from _build(settings, persistent=False)


@pytest.fixture
def persistent_stack(settings: Settings) -> Iterator[Stack]:
    """Redis with ``appendonly yes`` and ``appendfsync always``."""
    yield from _build(settings, persistent=True)
