"""``ogp-feedback poll --once`` while another poller holds the mailbox lock (real Redis)."""

from __future__ import annotations

import argparse
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from config.settings import Settings
from intake.lock import mailbox_lock
from tests.conftest import SECRET, free_port
from workers.cli import CliError, cmd_poll
from workers.runtime import Runtime


@pytest.fixture(autouse=True)
def keep_signal_handlers() -> Iterator[None]:
    """cmd_poll installs SIGTERM/SIGINT handlers; give pytest its own back."""
    saved = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGINT)}
    yield
    for signum, handler in saved.items():
        signal.signal(signum, handler)


def poll_settings(tmp_path: Path, **changes: object) -> Settings:
    # Nothing listens on the IMAP port: with the lock taken, it is never dialled.
    return Settings.model_validate({
        "secret_key": SECRET, "database_url": f"sqlite:///{tmp_path / 'unused.db'}",
        "imap_host": "127.0.0.1", "imap_port": free_port(), "imap_user": "held@example.test",
        "imap_password": "pw", "imap_security": "none", "imap_mailbox": "Feedback", **changes,
    })


def test_once_does_nothing_while_the_lock_is_held(
    tmp_path: Path, redis_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = poll_settings(tmp_path, lock_url=redis_url)
    other = mailbox_lock(settings)
    assert other is not None
    assert other.acquire()
    runtime = Runtime(settings)
    try:
        assert cmd_poll(runtime, argparse.Namespace(once=True)) == 0
    finally:
        other.release()
        other.client.close()
        runtime.engine.dispose()
    assert capsys.readouterr().out == (
        "another poller holds the lock for Feedback; nothing done\n")


def test_a_lock_url_that_is_not_redis_is_refused(tmp_path: Path) -> None:
    runtime = Runtime(poll_settings(tmp_path, lock_url="amqp://guest@localhost//"))
    try:
        with pytest.raises(CliError, match="OGP_LOCK_URL must be a redis"):
            cmd_poll(runtime, argparse.Namespace(once=True))
    finally:
        runtime.engine.dispose()
