"""Fault injection: kill or lock each part of the pipeline under load; nothing is lost,
nothing is done twice.

Each scenario appends a few hundred generated messages (each with a unique token and a
sender of its own) to a real Dovecot, runs the real long-running poller and Celery worker,
injects its fault, and then waits (bounded) until the oracle holds: every token in exactly
one inbound row, every row final, one comment per processed row, no duplicate receipt at
the SMTP sink. Every loop is bounded in count and time.

"""

from __future__ import annotations

import math
import os
import signal
import sqlite3
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlmodel import Session, select

from moderation.models import InboundMessage, InboundStatus
from tests.conftest import pg_admin_engine
from tests.faults.harness import BATCH_SIZE, Stack, messages, wait_for

POSTGRESQL = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
SETTLE_SECONDS = 90


def _report(stack: Stack, scenario: str, tokens: list[str]) -> None:
    view = stack.wait_settled(tokens, SETTLE_SECONDS)
    print(view.line(scenario))


# ---------------------------------------------------------------- 1. workers

@POSTGRESQL
def test_worker_child_and_whole_worker_killed(stack: Stack) -> None:
    mails = messages(200, "KWK")
    tokens = [m.token for m in mails]
    stack.append(mails)
    worker = stack.start_worker()
    stack.start_poller()

    # kill -9 a busy worker child, three times, as processing goes on.
    killed = 0
    deadline = time.monotonic() + 30
    while killed < 3 and time.monotonic() < deadline:
        if stack.row_count(InboundStatus.PROCESSED) >= 25 * (killed + 1):
            children = stack.children(worker)
            if children:
                os.kill(children[killed % len(children)], signal.SIGKILL)
                killed += 1
        time.sleep(0.05)
    assert killed == 3, stack.logs()

    # Then the whole worker (main process and children) with tasks in flight.
    wait_for(lambda: stack.row_count(InboundStatus.PROCESSED) >= 100, 30,
             "100 messages processed", stack)
    assert stack.row_count(InboundStatus.RECEIVED) > 0, "nothing left in flight to lose"
    stack.kill(worker)
    stack.start_worker()
    _report(stack, "1 (worker child x3 and whole worker kill -9)", tokens)


# ---------------------------------------------------------------- 2. redis

def _redis_killed_and_restarted(stack: Stack, scenario: str, prefix: str) -> None:
    mails = messages(200, prefix)
    tokens = [m.token for m in mails]
    stack.append(mails)
    stack.start_poller()
    # No worker yet: every task waits in Redis.
    wait_for(lambda: stack.row_count() == len(mails), 30, "all messages stored", stack)
    queue = stack.settings.celery_queue
    # One task per batch of messages (OGP_PROCESS_BATCH_SIZE).
    tasks = math.ceil(len(mails) / BATCH_SIZE)
    wait_for(lambda: stack.redis.queue_length(queue) >= tasks, 10, "every task queued", stack)
    worker = stack.start_worker(supervised=True)
    wait_for(lambda: stack.row_count(InboundStatus.PROCESSED) >= 60, 30,
             "60 messages processed", stack)

    stack.redis.kill()
    time.sleep(1.0)
    stack.redis.start()
    queued = stack.redis.queue_length(queue)
    if stack.redis.persistent:
        assert queued > 0, "the AOF should have kept the queue"
    else:
        assert queued < tasks - 60 // BATCH_SIZE, "a restart without persistence lost the queue"
    _report(stack, f"{scenario} (redis kill -9 with {queued} tasks queued after restart)", tokens)
    print(f"  worker restarted by the supervisor {stack.restarts} time(s)"
          f"{'' if worker.popen.poll() is None else '; the first worker exited'}")


@POSTGRESQL
def test_redis_killed_with_persistence(persistent_stack: Stack) -> None:
    _redis_killed_and_restarted(persistent_stack, "2a AOF", "RAO")


@POSTGRESQL
def test_redis_killed_without_persistence(stack: Stack) -> None:
    _redis_killed_and_restarted(stack, "2b no persistence", "RNP")


# ---------------------------------------------------------------- 3. dovecot

def _imap_bytes_written(pid: int) -> int:
    try:
        comm = Path(f"/proc/{pid}/comm").read_text().strip()
        if comm != "imap":
            return -1
        for line in Path(f"/proc/{pid}/io").read_text().splitlines():
            if line.startswith("wchar:"):
                return int(line.split()[1])
    except OSError:
        return -1
    return -1


@POSTGRESQL
def test_dovecot_killed_mid_fetch(stack: Stack) -> None:
    # Large messages in one batch, so the FETCH lasts long enough to be cut.
    mails = messages(150, "DVK", pad_bytes=100_000)
    tokens = [m.token for m in mails]
    stack.append(mails)
    stack.start_worker()
    poller = stack.start_poller(OGP_IMAP_BATCH_SIZE="150")

    mid_fetch: int | None = None
    deadline = time.monotonic() + 30
    while mid_fetch is None and time.monotonic() < deadline:
        for pid in stack.dovecot.imap_pids():
            if _imap_bytes_written(pid) > 2_000_000:
                mid_fetch = pid
                break
        else:
            time.sleep(0.002)
    assert mid_fetch is not None, stack.logs()
    stored_before = stack.row_count()
    stack.dovecot.kill()
    assert stored_before == 0, "the kill came after the batch's commit"
    time.sleep(1.0)
    stack.dovecot.start()
    _report(stack, "3 (dovecot kill -9 mid-FETCH, restarted)", tokens)
    assert stack.inbox_count() == 0
    assert "reconnected to" in poller.output()


# ---------------------------------------------------------------- 4. poller

@POSTGRESQL
def test_poller_killed_after_commit_and_before_move(stack: Stack) -> None:
    mails = messages(200, "PKL")
    tokens = [m.token for m in mails]
    stack.append(mails)
    stack.start_worker()
    small = {"OGP_IMAP_BATCH_SIZE": "50"}

    # Between the commit and the enqueue: the batch is stored, never enqueued.
    first = stack.start_poller(OGP_FAILPOINTS="poll:after_commit", **small)
    first.popen.wait(30)
    assert first.popen.returncode == -signal.SIGKILL, first.output()[-3000:]
    assert stack.row_count() == 50

    # Between the enqueue and the move: stored and enqueued, still in the inbox.
    second = stack.start_poller(OGP_FAILPOINTS="poll:before_move", **small)
    second.popen.wait(30)
    assert second.popen.returncode == -signal.SIGKILL, second.output()[-3000:]
    assert stack.row_count() == 100
    assert stack.inbox_count() == 150

    stack.start_poller(**small)
    _report(stack, "4 (poller kill -9 after commit, then before move)", tokens)
    assert stack.inbox_count() == 0


# ---------------------------------------------------------------- 5. databases

@SQLITE
def test_sqlite_locked_by_another_writer(stack: Stack) -> None:
    mails = messages(60, "SQL")
    tokens = [m.token for m in mails]
    stack.start_worker()
    stack.start_poller()
    stack.append(mails[:30])
    wait_for(lambda: stack.row_count() > 0, 30, "the first messages stored", stack)

    path = make_url(stack.settings.database_url).database
    assert path
    blocker = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        blocker.execute("BEGIN EXCLUSIVE")
        stack.append(mails[30:])  # mail keeps arriving while the database is locked
        time.sleep(30)
        blocker.execute("ROLLBACK")
    finally:
        blocker.close()
    _report(stack, "5b (SQLite BEGIN EXCLUSIVE held 30 s)", tokens)


@POSTGRESQL
def test_postgres_connections_terminated_mid_transaction(stack: Stack) -> None:
    """Every connection to the database is cut, six times, while workers write.

    The hard case is a cut after a receipt went out and before it was marked sent:
    the receipt's claim (``sending``) makes sure the retry does not send it again.
    """
    mails = messages(200, "PGT")
    tokens = [m.token for m in mails]
    stack.append(mails)
    stack.start_worker()
    stack.start_poller()
    database = make_url(stack.settings.database_url).database
    admin = pg_admin_engine()
    rounds = terminated = 0
    deadline = time.monotonic() + 60
    try:
        while rounds < 6 and time.monotonic() < deadline:
            if stack.row_count(InboundStatus.PROCESSED) >= 25 * (rounds + 1):
                with admin.connect() as conn:
                    terminated += int(conn.execute(text(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        "WHERE datname = :db AND pid <> pg_backend_pid()"), {"db": database},
                    ).scalar_one())
                rounds += 1
            time.sleep(0.05)
    finally:
        admin.dispose()
    assert rounds == 6, stack.logs()
    assert terminated > 0
    _report(stack, f"5a (pg_terminate_backend x{rounds}, {terminated} connections cut)", tokens)


# ---------------------------------------------------------------- 6. poison

@POSTGRESQL
def test_poison_message_fails_while_others_flow(stack: Stack) -> None:
    mails = messages(150, "PSN")
    tokens = [m.token for m in mails]
    poison = [tokens[17], tokens[123]]
    stack.append(mails)
    stack.start_worker(OGP_FAILPOINTS=",".join(f"process:raise={t}" for t in poison))
    stack.start_poller()
    view = stack.wait_settled(tokens, SETTLE_SECONDS)
    assert view.failed == len(poison), view
    with Session(stack.engine) as session:
        failed = session.exec(select(InboundMessage).where(
            InboundMessage.status == InboundStatus.FAILED)).all()
    for row in failed:
        assert any(t.encode() in bytes(row.raw) for t in poison)
        assert row.attempts == stack.settings.max_attempts
        assert "injected fault" in (row.last_error or "")
        assert (row.reason or "").startswith("failed after 3 attempts")
    print(view.line("6 (poison message x2)"))


@POSTGRESQL
def test_poison_message_that_kills_its_worker_inside_a_batch(stack: Stack) -> None:
    """Messages go to workers in batches: one that kills the worker child every time must
    not take its batch down with it. The batch's next try is split, the others pass alone,
    and the poison fails after its attempts, with the reason a moderator can read."""
    mails = messages(120, "PKB")
    tokens = [m.token for m in mails]
    poison = tokens[37]
    stack.append(mails)
    stack.start_worker(OGP_FAILPOINTS=f"process:kill={poison}")
    stack.start_poller()
    view = stack.wait_settled(tokens, SETTLE_SECONDS)
    assert view.failed == 1, view
    assert view.pending + view.quarantined == len(tokens) - 1, view
    with Session(stack.engine) as session:
        [failed] = session.exec(select(InboundMessage).where(
            InboundMessage.status == InboundStatus.FAILED)).all()
    assert poison.encode() in bytes(failed.raw)
    assert failed.reason == (f"gave up after {stack.settings.max_attempts} attempts: "
                             "the worker stopped each time")
    print(view.line("6b (poison message that kills its worker, inside a batch)"))
