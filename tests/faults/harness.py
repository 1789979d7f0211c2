"""A whole deployment per test, on loopback, every process started here and stopped by pid.

``Stack`` owns: a redis-server of its own (with or without AOF), a Dovecot of its own
(own run dir and ports, so it may be killed and started again), an aiosmtpd sink that
counts receipts per recipient, and our own ``ogp-feedback worker`` / ``poll`` processes.
``oracle`` checks the exactly-once promise against the database and the sink.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import redis
from aiosmtpd.controller import Controller
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from config.settings import Settings
from moderation.db import make_engine
from moderation.models import Comment, InboundMessage, InboundStatus, Receipt, ReceiptStatus
from tests.conftest import CLI, SERVICES, Process, derive, free_port, settings_env
from tests.functional.helpers import imap_client
from tests.mailgen import KINDS, build

# Short timings, so a lost task is found again within seconds.
FAST_ENV = {
    "OGP_SWEEP_AFTER_SECONDS": "5",
    "OGP_RETRY_BACKOFF_SECONDS": "1",
    "OGP_POLL_INTERVAL_SECONDS": "2",
    "OGP_MAX_ATTEMPTS": "3",
    "OGP_IMAP_TIMEOUT_SECONDS": "10",
    "OGP_IMAP_RECONNECT_MAX_SECONDS": "1",
    "OGP_LOCK_TTL_SECONDS": "3",
    "OGP_LOG_FORMAT": "text",
}
# Every generated message's bytes carry its token here, whatever its body encoding.
TOKEN_HEADER = b"X-Test-Token: "
FINAL = {InboundStatus.PROCESSED, InboundStatus.QUARANTINED, InboundStatus.FAILED}


# ---------------------------------------------------------------- messages
MAX_RESTARTS = 5  # a supervised worker restarted more often than this is a failure


@dataclass(frozen=True)
class Mail:
    token: str
    sender: str
    raw: bytes


def messages(count: int, prefix: str, *, pad_bytes: int = 0,
             kinds: Sequence[str] = KINDS) -> list[Mail]:
    """``count`` messages, each with a unique token and a sender address of its own.

    ``pad_bytes`` adds a binary attachment that size, to make fetches slow.
    """
    made: list[Mail] = []
    for n in range(count):
        kind = "plain-8bit" if pad_bytes else kinds[n % len(kinds)]
        mail = build(n, kind, prefix)
        raw = mail.raw
        if pad_bytes:
            # An attachment: a long FETCH, but no more text to analyse.
            padded = email.message_from_bytes(raw, policy=email.policy.SMTP)
            assert isinstance(padded, EmailMessage)
            padded.add_attachment(os.urandom(pad_bytes), maintype="application",
                                  subtype="octet-stream", filename="shtojca.bin")
            del padded["MIME-Version"]
            padded["MIME-Version"] = "1.0"
            raw = padded.as_bytes()
        eol = b"\r\n" if b"\r\n" in raw else b"\n"
        made.append(Mail(mail.token, mail.sender, TOKEN_HEADER + mail.token.encode() + eol + raw))
    return made


# ---------------------------------------------------------------- redis

class RedisServer:
    """``redis-server`` on a port of its own; restarted on the same port and dir."""

    def __init__(self, workdir: Path, persistent: bool) -> None:
        self.port = free_port()
        self.dir = workdir / "redis"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.persistent = persistent
        self.popen: subprocess.Popen[bytes] | None = None
        self.log_path = workdir / "redis.log"
        self.starts = 0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        args = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                "--dir", str(self.dir), "--save", "", "--maxmemory-policy", "noeviction"]
        args += (["--appendonly", "yes", "--appendfsync", "always"] if self.persistent
                 else ["--appendonly", "no"])
        with self.log_path.open("ab") as log:
            self.popen = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT,
                                          start_new_session=True)
        self.starts += 1
        client = redis.Redis(port=self.port, socket_timeout=1)
        try:
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                try:
                    if client.ping():
                        return
                except redis.exceptions.RedisError:
                    pass
                if self.popen.poll() is not None:
                    break
                time.sleep(0.05)
        finally:
            client.close()
        raise AssertionError(f"redis-server did not start:\n{self.log_tail()}")

    def kill(self) -> None:
        """``kill -9`` by pid."""
        if self.popen is not None and self.popen.poll() is None:
            os.kill(self.popen.pid, signal.SIGKILL)
            self.popen.wait(10)

    def stop(self) -> None:
        if self.popen is not None and self.popen.poll() is None:
            os.kill(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def queue_length(self, queue: str) -> int:
        client = redis.Redis(port=self.port, socket_timeout=2)
        try:
            return int(client.llen(queue))
        finally:
            client.close()

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-2000:]


# ---------------------------------------------------------------- dovecot

def _children(pid: int) -> list[int]:
    """Direct children of ``pid``, read from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...; comm may contain spaces and parentheses.
        fields = stat[stat.rfind(")") + 2:].split()
        if len(fields) > 1 and int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


class DovecotServer:
    """A throw-away Dovecot this test may kill -9 and start again on the same ports."""

    def __init__(self) -> None:
        # Not under pytest's 0700 tmp tree: the mail uid must reach its Maildir.
        self.rundir = Path(tempfile.mkdtemp(prefix="ogp-dovecot-faults-"))
        self.port, self.tls_port = free_port(), free_port()
        self.password = "test-password"
        self.env = dict(os.environ, IMAP_PORT=str(self.port), IMAPS_PORT=str(self.tls_port),
                        IMAP_PASSWORD=self.password)

    def start(self) -> None:
        deadline = time.monotonic() + 30
        while True:
            result = subprocess.run(["bash", str(SERVICES / "dovecot-start.sh"),
                                     str(self.rundir)], env=self.env, capture_output=True,
                                    text=True, timeout=60, check=False)
            if result.returncode == 0:
                return
            if time.monotonic() > deadline:  # e.g. the port still held by a dying process
                raise AssertionError(f"dovecot did not start: {result.stderr}")
            time.sleep(0.5)

    def master_pid(self) -> int | None:
        try:
            pid = int((self.rundir / "run" / "master.pid").read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if Path(f"/proc/{pid}").exists() else None

    def imap_pids(self) -> list[int]:
        """The master's children: imap, imap-login, auth, ... of this instance only."""
        master = self.master_pid()
        return _children(master) if master is not None else []

    def kill(self) -> list[int]:
        """``kill -9`` the master and every process it started, by pid."""
        master = self.master_pid()
        if master is None:
            return []
        victims = [master, *_children(master)]
        for pid in victims:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(_alive(pid) for pid in victims):
            time.sleep(0.05)
        return victims

    def stop(self) -> None:
        subprocess.run(["bash", str(SERVICES / "dovecot-stop.sh"), str(self.rundir)],
                       capture_output=True, timeout=30, check=False)

    def settings_for(self, base: Settings, user: str) -> Settings:
        return derive(base, imap_host="127.0.0.1", imap_port=self.port, imap_user=user,
                      imap_password=self.password, imap_security="none")


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return state[state.rfind(")") + 2:].split()[0] != "Z"


# ---------------------------------------------------------------- smtp sink

@dataclass
class SmtpSink:
    """Receives our receipts and counts them per recipient."""

    port: int
    recipients: Counter[str] = field(default_factory=Counter)
    # recipient -> (seconds since the sink started, Message-ID) of each delivery
    deliveries: dict[str, list[tuple[float, str]]] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)
    total: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # noqa: N802
        with self.lock:
            message = email.message_from_bytes(bytes(envelope.content), policy=email.policy.SMTP)
            seen = (round(time.monotonic() - self.started, 3), str(message["Message-ID"]))
            for rcpt in envelope.rcpt_tos:
                self.recipients[str(rcpt).lower()] += 1
                self.deliveries.setdefault(str(rcpt).lower(), []).append(seen)
            self.total += 1
        return "250 OK"

    def snapshot(self) -> Counter[str]:
        with self.lock:
            return Counter(self.recipients)


# ---------------------------------------------------------------- oracle

@dataclass(frozen=True)
class OracleView:
    pushed: int
    rows: int
    pending: int
    quarantined: int
    failed: int
    received: int
    receipts_sent: int
    receipts_unsent: int
    problems: tuple[str, ...]

    @property
    def settled(self) -> bool:
        return not self.problems

    def line(self, scenario: str) -> str:
        return (f"scenario {scenario}: pushed {self.pushed}, pending {self.pending}, "
                f"quarantined {self.quarantined}, failed {self.failed}, "
                f"receipts {self.receipts_sent}, duplicates 0")


def oracle(engine: Engine, sink: SmtpSink, tokens: Sequence[str]) -> OracleView:
    """What the database and the sink say now; ``problems`` is empty when all is well."""
    problems: list[str] = []
    with Session(engine) as session:
        rows = list(session.exec(select(InboundMessage).order_by(col(InboundMessage.id))))
        comments = list(session.exec(select(Comment.id, Comment.inbound_id)))
        receipts = list(session.exec(select(Receipt)))
    by_token: dict[str, list[InboundMessage]] = {token: [] for token in tokens}
    for row in rows:
        raw = bytes(row.raw)
        start = raw.find(TOKEN_HEADER)
        if start < 0:
            problems.append(f"inbound {row.id} has no token")
            continue
        end = raw.find(b"\n", start)
        token = raw[start + len(TOKEN_HEADER):end].strip().decode()
        if token not in by_token:
            problems.append(f"inbound {row.id} carries an unknown token {token}")
            continue
        by_token[token].append(row)
    comments_per_inbound = Counter(inbound_id for _, inbound_id in comments)
    counts: Counter[str] = Counter()
    for token, found in by_token.items():
        if len(found) != 1:
            problems.append(f"{token}: {len(found)} inbound rows")
            continue
        row = found[0]
        counts[row.status] += 1
        n_comments = comments_per_inbound.get(row.id or 0, 0)
        if row.status == InboundStatus.PROCESSED:
            if n_comments != 1:
                problems.append(f"{token}: processed with {n_comments} comments")
        elif row.status == InboundStatus.QUARANTINED:
            if not row.reason or n_comments:
                problems.append(f"{token}: quarantined, reason {row.reason!r}, "
                                f"{n_comments} comments")
        elif row.status == InboundStatus.FAILED:
            if not (row.last_error or row.reason) or n_comments:
                problems.append(f"{token}: failed without an error or with a comment")
        else:
            problems.append(f"{token}: still {row.status} (attempts {row.attempts}, "
                            f"last error {row.last_error!r})")
    for inbound_id, n in comments_per_inbound.items():
        if n > 1:
            problems.append(f"inbound {inbound_id}: {n} comments")
    delivered = sink.snapshot()
    for address, n in delivered.items():
        if n > 1:
            problems.append(f"duplicate receipt: {address} received {n}: "
                            f"{sink.deliveries.get(address)}")
    sent = [r for r in receipts if r.status == ReceiptStatus.SENT]
    unsent = [r for r in receipts if r.status != ReceiptStatus.SENT]
    for receipt in sent:
        if delivered.get(receipt.address.lower(), 0) != 1:
            problems.append(f"receipt {receipt.id} is sent but {receipt.address} got "
                            f"{delivered.get(receipt.address.lower(), 0)} at the sink")
    if unsent:
        problems.append(f"{len(unsent)} receipts not sent yet "
                        f"(e.g. {unsent[0].status}: {unsent[0].error})")
    if counts[InboundStatus.PROCESSED] != len(receipts):
        problems.append(f"{counts[InboundStatus.PROCESSED]} comments but {len(receipts)} "
                        "receipt rows (every sender is distinct)")
    return OracleView(
        pushed=len(tokens), rows=len(rows), pending=counts[InboundStatus.PROCESSED],
        quarantined=counts[InboundStatus.QUARANTINED], failed=counts[InboundStatus.FAILED],
        received=counts[InboundStatus.RECEIVED], receipts_sent=len(sent),
        receipts_unsent=len(unsent), problems=tuple(problems),
    )


# ---------------------------------------------------------------- the stack

BATCH_SIZE = 5


class Stack:
    """Redis + Dovecot + SMTP sink + our processes, for one test."""

    def __init__(self, base: Settings, workdir: Path, *, persistent_redis: bool = False) -> None:
        self.workdir = workdir
        self.redis = RedisServer(workdir, persistent_redis)
        self.dovecot = DovecotServer()
        self.sink = SmtpSink(free_port())
        self._controller = Controller(self.sink, hostname="127.0.0.1", port=self.sink.port)
        self.processes: list[Process] = []
        self.supervised: list[tuple[Process, dict[str, str]]] = []
        self.restarts = 0
        self.user = f"faults{os.getpid()}@example.test"
        self.base = base
        self.settings = base
        self._engine: Engine | None = None

    def start(self) -> None:
        self._controller.start()
        self.redis.start()
        self.dovecot.start()
        self.settings = derive(
            self.dovecot.settings_for(self.base, self.user),
            broker_url=self.redis.url, receipts=True, mail_sender="smtp",
            smtp_host="127.0.0.1", smtp_port=self.sink.port, smtp_security="none",
            mail_from="feedback@ogp.example.al", max_attempts=3, retry_backoff_seconds=1,
            # Small batches: dozens of tasks in flight, so each fault lands mid-batch.
            process_batch_size=BATCH_SIZE,
            sweep_after_seconds=5, poll_interval_seconds=2,
        )

    def close(self) -> None:
        # The oracle has spoken: no need for graceful shutdowns, kill -9 by pid.
        for process in reversed(self.processes):
            self.kill(process)
            process.stop()  # closes its log
        if self._engine is not None:
            self._engine.dispose()
        self.redis.kill()
        self.dovecot.kill()
        self.dovecot.stop()  # leftovers of this instance, by pid
        shutil.rmtree(self.dovecot.rundir, ignore_errors=True)
        self._controller.stop()

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = make_engine(self.settings.database_url)
        return self._engine

    # ------------------------------------------------------------ processes

    def env(self, **extra: str) -> dict[str, str]:
        return settings_env(self.settings, **{
            **FAST_ENV,
            "OGP_RECEIPTS": "true",
            "OGP_MAIL_SENDER": "smtp",
            "OGP_SMTP_HOST": "127.0.0.1",
            "OGP_SMTP_PORT": str(self.sink.port),
            "OGP_SMTP_SECURITY": "none",
            "OGP_MAIL_FROM": "feedback@ogp.example.al",
            "OGP_PROCESS_BATCH_SIZE": str(BATCH_SIZE),
            **extra,
        })

    def _start(self, args: list[str], name: str, **extra: str) -> Process:
        process = Process(args, self.env(**extra),
                          self.workdir / f"{name}-{len(self.processes)}.log")
        self.processes.append(process)
        return process

    def start_worker(self, supervised: bool = False, **extra: str) -> Process:
        """``supervised``: restart it whenever it exits, as the deployment's process
        manager does (``restart: unless-stopped`` in docker-compose.yml). Celery's
        worker may shut itself down when it loses Redis at the wrong moment."""
        worker = self._start([CLI, "worker", "--concurrency", "2"], "worker", **extra)
        worker.wait_for_output("ready.", 60)
        if supervised:
            self.supervised.append((worker, extra))
        return worker

    def supervise(self) -> None:
        for index, (worker, extra) in enumerate(self.supervised):
            if worker.popen.poll() is not None and self.restarts < MAX_RESTARTS:
                self.restarts += 1
                replacement = self._start([CLI, "worker", "--concurrency", "2"], "worker",
                                          **extra)
                replacement.wait_for_output("ready.", 60)
                self.supervised[index] = (replacement, extra)

    def start_poller(self, **extra: str) -> Process:
        return self._start([CLI, "poll"], "poller", **extra)

    @staticmethod
    def kill(process: Process) -> None:
        """``kill -9`` of the process and everything in its process group, by pid."""
        if process.popen.poll() is None:
            os.killpg(process.popen.pid, signal.SIGKILL)
        process.popen.wait(10)

    @staticmethod
    def children(process: Process) -> list[int]:
        return _children(process.popen.pid)

    # ------------------------------------------------------------ mail

    def append(self, mails: Iterable[Mail]) -> None:
        client = imap_client(self.settings)
        try:
            for mail in mails:
                client.append("INBOX", mail.raw)
        finally:
            client.logout()

    def inbox_count(self) -> int:
        client = imap_client(self.settings)
        try:
            return int(client.folder_status("INBOX", [b"MESSAGES"])[b"MESSAGES"])
        finally:
            client.logout()

    def row_count(self, status: str | None = None) -> int:
        with Session(self.engine) as session:
            query = select(InboundMessage.id)
            if status is not None:
                query = query.where(InboundMessage.status == status)
            return len(session.exec(query).all())

    # ------------------------------------------------------------ checks

    def oracle(self, tokens: Sequence[str]) -> OracleView:
        return oracle(self.engine, self.sink, tokens)

    def logs(self) -> str:
        parts = [f"--- {p.log_path.name} (exit {p.popen.poll()})\n{p.output()[-3000:]}"
                 for p in self.processes]
        parts.append(f"--- redis\n{self.redis.log_tail()}")
        return "\n".join(parts)

    def wait_settled(self, tokens: Sequence[str], timeout: float) -> OracleView:
        """Poll the oracle until all is final and consistent, for at most ``timeout`` s."""
        deadline = time.monotonic() + timeout
        view = self.oracle(tokens)
        while time.monotonic() < deadline:
            self.supervise()
            view = self.oracle(tokens)
            if view.settled:
                # Quiet for a moment: a late duplicate would show up now.
                time.sleep(1.0)
                view = self.oracle(tokens)
                if view.settled:
                    return view
            time.sleep(0.5)
        pytest.fail(f"not settled after {timeout}s: {view}\nfirst problems: "
                    f"{list(view.problems[:15])}\n{self.logs()}")


def wait_for(predicate: Callable[[], bool], timeout: float, what: str, stack: Stack,
             interval: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout}s waiting for {what}\n{stack.logs()}")
