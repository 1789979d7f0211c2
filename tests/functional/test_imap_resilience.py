"""The long-running poller against a real Dovecot: a server restart, two pollers on one
mailbox, a UIDVALIDITY change and an oversize message, each ingested exactly once.

Every process is started by the test and stopped by pid; the restart test uses
a Dovecot of its own (own run dir and ports), so the session's server is never
stopped under other tests.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from config.settings import Settings
from intake.imap import ImapPoller, PollResult
from moderation.db import make_engine
from moderation.models import Comment, ImapCheckpoint, InboundMessage, InboundStatus
from tests.conftest import (
    CLI,
    SERVICES,
    Dovecot,
    Process,
    derive,
    free_port,
    settings_env,
    unavailable,
    wait_until,
)
from tests.functional.helpers import append_all, folder_counts, imap_client
from tests.mailgen import GeneratedMail, varied_messages
from workers.runtime import Runtime

StartProcess = Callable[..., Process]

# Short enough that a test sees every step within seconds.
FAST = {
    "OGP_POLL_INTERVAL_SECONDS": "5",
    "OGP_IMAP_TIMEOUT_SECONDS": "10",
    "OGP_IMAP_RECONNECT_MAX_SECONDS": "1",
}


# ---------------------------------------------------------------- helpers

class OwnDovecot:
    """A throw-away Dovecot this module may stop and start again on the same ports."""

    def __init__(self) -> None:
        self.rundir = Path(tempfile.mkdtemp(prefix="ogp-dovecot-restart-"))
        self.port, self.tls_port = free_port(), free_port()
        self.password = "test-password"
        self.env = dict(os.environ, IMAP_PORT=str(self.port), IMAPS_PORT=str(self.tls_port),
                        IMAP_PASSWORD=self.password)
        self.running = False

    def start(self) -> None:
        result = subprocess.run(["bash", str(SERVICES / "dovecot-start.sh"), str(self.rundir)],
                                env=self.env, capture_output=True, text=True, timeout=60,
                                check=False)
        if result.returncode != 0:
            pytest.fail(f"dovecot did not start: {result.stderr}")
        self.running = True

    def stop(self) -> None:
        subprocess.run(["bash", str(SERVICES / "dovecot-stop.sh"), str(self.rundir)],
                       capture_output=True, timeout=30, check=False)
        self.running = False

    @property
    def handle(self) -> Dovecot:
        return Dovecot(self.rundir, self.port, self.tls_port, self.rundir / "tls" / "cert.pem",
                       self.password)


@pytest.fixture(scope="module")
def own_dovecot() -> Iterator[OwnDovecot]:
    if shutil.which("dovecot") is None:
        unavailable("dovecot is not installed (make test installs dovecot-imapd)")
    if os.geteuid() != 0:
        unavailable("the test Dovecot needs root")
    server = OwnDovecot()
    server.start()
    yield server
    server.stop()
    shutil.rmtree(server.rundir, ignore_errors=True)


def inbound_rows(settings: Settings) -> list[InboundMessage]:
    engine = make_engine(settings.database_url)
    try:
        with Session(engine) as session:
            return list(session.exec(select(InboundMessage).order_by(col(InboundMessage.id))))
    finally:
        engine.dispose()


def comment_texts(settings: Settings) -> list[str]:
    engine = make_engine(settings.database_url)
    try:
        with Session(engine) as session:
            return [comment.text for comment in session.exec(select(Comment))]
    finally:
        engine.dispose()


def checkpoint(settings: Settings, mailbox: str) -> ImapCheckpoint | None:
    engine = make_engine(settings.database_url)
    try:
        with Session(engine) as session:
            return session.get(ImapCheckpoint, mailbox)
    finally:
        engine.dispose()


def assert_each_once(settings: Settings, mails: Sequence[GeneratedMail]) -> None:
    """One inbound row and one comment per message, nothing else."""
    assert len(inbound_rows(settings)) == len(mails)
    texts = comment_texts(settings)
    assert len(texts) == len(mails)
    for mail in mails:
        assert sum(mail.token in text for text in texts) == 1, mail.token


def count_is(settings: Settings, expected: int) -> Callable[[], bool]:
    return lambda: len(inbound_rows(settings)) == expected


def start_poller(start_process: StartProcess, imap: Settings, name: str,
                 **env: str) -> Process:
    return start_process([CLI, "poll"], settings_env(imap, **{**FAST, **env}), name=name)


def stopped_gracefully(process: Process) -> float:
    """SIGTERM by pid; returns how long the poller took to exit (status 0)."""
    started = time.monotonic()
    process.stop()
    assert process.popen.returncode == 0, process.output()[-3000:]
    return time.monotonic() - started


def stored(output: str) -> int:
    match = re.search(r"stored (\d+), duplicates (\d+), moved (\d+)", output)
    return int(match.group(1)) if match else 0


@contextmanager
def in_process_poller(imap: Settings) -> Iterator[ImapPoller]:
    """The poller in this process (no start-up cost), processing in-process as the CLI does."""
    runtime = Runtime(imap)
    try:
        yield ImapPoller(imap, runtime.engine, runtime.enqueue)
    finally:
        runtime.engine.dispose()


def poller_uidvalidity(imap: Settings) -> int:
    client = imap_client(imap)
    try:
        return int(client.folder_status(imap.imap_mailbox, [b"UIDVALIDITY"])[b"UIDVALIDITY"])
    finally:
        client.logout()


def poll_once_twice_at_once(imap: Settings, **env: str) -> list[str]:
    processes = [subprocess.Popen([CLI, "poll", "--once"], env=settings_env(imap, **env),
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                 for _ in range(2)]
    outputs = []
    for process in processes:
        output, _ = process.communicate(timeout=60)
        assert process.returncode == 0, output
        outputs.append(output)
    return outputs


# ---------------------------------------------------------------- tests

def test_server_restart_while_idling(
    settings: Settings, own_dovecot: OwnDovecot, imap_user: str, start_process: StartProcess
) -> None:
    imap = own_dovecot.handle.settings_for(settings, imap_user)
    mails = varied_messages(6, prefix="RST")
    append_all(imap, [m.raw for m in mails[:3]])
    poller = start_poller(start_process, imap, "poller")
    wait_until(count_is(settings, 3), 30, "the first three messages are stored")
    wait_until(lambda: folder_counts(imap, "INBOX")["INBOX"] == 0, 10, "and moved")
    time.sleep(0.5)  # in IDLE now

    own_dovecot.stop()
    try:
        poller.wait_for_output("is down (IdleConnectionLostError", 10)
        # At least one reconnect attempt fails while the server is away.
        poller.wait_for_output("Connection refused", 10)
    finally:
        own_dovecot.start()
    # Mail that arrived during the outage, there when the poller comes back.
    append_all(imap, [m.raw for m in mails[3:]])

    wait_until(count_is(settings, 6), 30, "the messages appended during the outage are stored")
    wait_until(lambda: folder_counts(imap, "INBOX", "Processed") == {"INBOX": 0, "Processed": 6},
               10, "and moved")
    poller.wait_for_output("reconnected to", 5)
    assert poller.popen.poll() is None, "the poller survived"
    assert_each_once(settings, mails)
    assert stopped_gracefully(poller) < 5


def test_two_pollers_on_one_mailbox(
    settings: Settings, dovecot: Dovecot, imap_user: str, redis_url: str,
    start_process: StartProcess
) -> None:
    imap = dovecot.settings_for(settings, imap_user)
    locked = {"OGP_LOCK_URL": redis_url, "OGP_LOCK_TTL_SECONDS": "3"}
    mails = varied_messages(14, prefix="TWO")
    append_all(imap, [m.raw for m in mails[:6]])

    # Two long-running pollers: one holds the lock, the other waits.
    first = start_poller(start_process, imap, "first", **locked)
    second = start_poller(start_process, imap, "second", **locked)
    wait_until(count_is(settings, 6), 30, "six messages stored")
    wait_until(lambda: "another poller holds the lock" in first.output() + second.output(), 10,
               "one poller waits for the lock")
    holder, waiter = (first, second) if "holds the lock" in second.output() else (second, first)
    assert "holds the lock" not in holder.output()

    # The holder stops (releasing the lock); the other one takes over.
    assert stopped_gracefully(holder) < 5
    append_all(imap, [m.raw for m in mails[6:8]])
    waiter.wait_for_output("took over the poller lock for INBOX", 15)
    wait_until(count_is(settings, 8), 30, "the new holder stores the next messages")
    assert stopped_gracefully(waiter) < 5

    # Two one-off polls started together, with the lock...
    append_all(imap, [m.raw for m in mails[8:11]])
    outputs = poll_once_twice_at_once(imap, **locked)
    assert sum(stored(output) for output in outputs) == 3, outputs
    # ... and without it: only the database's unique keys stop a duplicate.
    append_all(imap, [m.raw for m in mails[11:]])
    outputs = poll_once_twice_at_once(imap)
    assert sum(stored(output) for output in outputs) == 3, outputs

    assert_each_once(settings, mails)
    assert folder_counts(imap, "INBOX", "Processed") == {"INBOX": 0, "Processed": 14}


def test_uidvalidity_change_resyncs_by_hash(
    settings: Settings, dovecot: Dovecot, imap_user: str, caplog: pytest.LogCaptureFixture
) -> None:
    imap = derive(dovecot.settings_for(settings, imap_user), imap_mailbox="Feedback")
    old = varied_messages(4, prefix="UVO")
    new = varied_messages(2, prefix="UVN")
    client = imap_client(imap)
    try:
        client.create_folder("Feedback")
    finally:
        client.logout()
    append_all(imap, [m.raw for m in old], folder="Feedback")
    with in_process_poller(imap) as poller:
        assert poller.poll_once() == PollResult(4, 0, 4, poller_uidvalidity(imap))
        before = checkpoint(settings, "Feedback")
        assert before is not None
        assert before.last_uid == 4

        # The folder is rebuilt: new UIDVALIDITY, UIDs from 1 again. The new
        # mail takes UIDs 1-2, below the old checkpoint: only the reset finds it.
        client = imap_client(imap)
        try:
            client.delete_folder("Feedback")
            time.sleep(1.1)
            client.create_folder("Feedback")
        finally:
            client.logout()
        append_all(imap, [m.raw for m in new + old], folder="Feedback")

        with caplog.at_level(logging.WARNING, logger="intake.imap"):
            result = poller.poll_once()
    assert (result.stored, result.duplicates, result.moved) == (2, 4, 6)
    assert "UIDVALIDITY of Feedback changed" in caplog.text
    after = checkpoint(settings, "Feedback")
    assert after is not None
    assert after.uidvalidity == result.uidvalidity != before.uidvalidity
    assert after.last_uid == 6
    assert_each_once(settings, old + new)
    assert folder_counts(imap, "Feedback", "Processed") == {"Feedback": 0, "Processed": 10}


def test_oversize_message_is_not_downloaded(
    settings: Settings, dovecot: Dovecot, imap_user: str
) -> None:
    imap = derive(dovecot.settings_for(settings, imap_user), max_message_bytes=50_000)
    big = EmailMessage()
    big["From"] = "Qytetar <big@example.org>"
    big["To"] = "feedback@ogp.example.al"
    big["Subject"] = "Nje mesazh shume i madh BIGTOKEN"
    big["Message-ID"] = "<oversize-1@example.org>"
    big.set_content(("Rreshti i gjate i tekstit per testin. " * 2 + "\n") * 800)
    big_raw = big.as_bytes().replace(b"\n", b"\r\n")
    assert 60_000 <= len(big_raw) <= 70_000
    small = varied_messages(1, prefix="SML")
    append_all(imap, [big_raw, small[0].raw])

    with in_process_poller(imap) as poller:
        result = poller.poll_once()
    assert (result.stored, result.duplicates, result.moved) == (2, 0, 2)

    rows = {row.truncated: row for row in inbound_rows(settings)}
    assert set(rows) == {True, False}
    oversize = rows[True]
    assert oversize.status == InboundStatus.QUARANTINED
    assert oversize.reason == (f"message size {len(big_raw)} bytes is over the limit "
                               "OGP_MAX_MESSAGE_BYTES=50000")
    # Only the header block was fetched and stored.
    assert oversize.raw.endswith(b"\r\n\r\n")
    assert b"Subject: Nje mesazh shume i madh BIGTOKEN" in oversize.raw
    assert b"Rreshti" not in oversize.raw
    assert oversize.size == len(oversize.raw) < 1000
    assert rows[False].status == InboundStatus.PROCESSED
    texts = comment_texts(settings)
    assert len(texts) == 1
    assert small[0].token in texts[0]

    # The whole message stays on the server, in Processed like any other.
    client = imap_client(imap)
    try:
        client.select_folder("Processed", readonly=True)
        sizes = client.fetch(client.search(["ALL"]), ["RFC822.SIZE"])
        assert len(sizes) == 2
        assert max(int(data[b"RFC822.SIZE"]) for data in sizes.values()) == len(big_raw)
    finally:
        client.logout()
    assert folder_counts(imap, "INBOX")["INBOX"] == 0
