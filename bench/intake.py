"""Intake throughput: N generated messages in Dovecot -> poll -> Redis -> worker -> pending.

usage: python bench/intake.py [--messages N] [--database sqlite|postgresql] [--concurrency C]
                              [--batch-size B] [--profile]

Starts its own throw-away Dovecot (tests/services), a fresh database and a real
``ogp-feedback worker``; appends N messages (not timed), then times from the
start of ``ogp-feedback poll --once`` until every message is a pending comment.
Prints one Markdown table row for bench/README.md; ``--profile`` also prints where the
time went, stage by stage (the ``ogp_intake_stage_seconds`` histograms the poller and the
worker keep on Redis).
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# As a script, bench/ comes first on the path, where bench/queue.py would hide the standard
# library's queue module (which redis imports): the project's root instead.
sys.path[0] = str(ROOT)

from imapclient import IMAPClient  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from tqdm import tqdm  # noqa: E402

from intake.stages import STAGES  # noqa: E402
from tests.mailgen import varied_messages  # noqa: E402
from workers.stage_metrics import StageMetrics  # noqa: E402

CLI = str(Path(sys.executable).parent / "ogp-feedback")
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_dovecot(rundir: Path, port: int, tls_port: int) -> None:
    env = dict(os.environ, IMAP_PORT=str(port), IMAPS_PORT=str(tls_port),
               IMAP_PASSWORD="bench-password")
    subprocess.run(["bash", str(ROOT / "tests/services/dovecot-start.sh"), str(rundir)],
                   env=env, check=True, capture_output=True, timeout=60)


@dataclass
class Scratch:
    """A throw-away Dovecot, database (PostgreSQL or SQLite) and the environment that
    points the ``ogp-feedback`` commands at them, with a Celery queue of their own."""

    kind: str
    workdir: Path
    url: str
    env: dict[str, str]
    port: int
    tls_port: int
    user: str
    db_name: str

    @classmethod
    def make(cls, kind: str, prefix: str, extra_env: dict[str, str]) -> Scratch:
        workdir = Path(tempfile.mkdtemp(prefix=f"ogp-{prefix}-"))
        workdir.chmod(0o711)  # Dovecot's unprivileged mail uid walks through it
        port, tls_port = free_port(), free_port()
        db_name = f"ogp_{prefix}_{uuid.uuid4().hex[:8]}"
        if kind == "postgresql":
            with create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT").connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{db_name}"'))
            url = f"postgresql://postgres@127.0.0.1:5432/{db_name}"
        else:
            url = f"sqlite:///{workdir}/{prefix}.db"
        user = f"{prefix}@example.test"
        env = {k: v for k, v in os.environ.items() if not k.startswith("OGP_")}
        env.update({
            "OGP_DATABASE_URL": url, "OGP_BROKER_URL": "redis://127.0.0.1:6379/0",
            "OGP_CELERY_QUEUE": f"{prefix}-{uuid.uuid4().hex[:8]}",
            "OGP_IMAP_HOST": "127.0.0.1", "OGP_IMAP_PORT": str(port), "OGP_IMAP_USER": user,
            "OGP_IMAP_PASSWORD": "bench-password", "OGP_IMAP_SECURITY": "none",
            "OGP_SECRET_KEY": "bench-secret-key-0123456789",
            "OGP_SITE_DIR": str(workdir / "site"), **extra_env,
        })
        return cls(kind, workdir, url, env, port, tls_port, user, db_name)

    def start(self) -> None:
        """Dovecot up, the database migrated."""
        start_dovecot(self.workdir / "dovecot", self.port, self.tls_port)
        subprocess.run([CLI, "init"], env=self.env, check=True, capture_output=True)

    def close(self) -> None:
        subprocess.run(["bash", str(ROOT / "tests/services/dovecot-stop.sh"),
                        str(self.workdir / "dovecot")], check=False, capture_output=True)
        if self.kind == "postgresql":
            with create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT").connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)'))
        shutil.rmtree(self.workdir, ignore_errors=True)


def count_pending(database_url: str) -> int:
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(
                "SELECT count(*) FROM comment WHERE status = 'pending'")).scalar_one())
    finally:
        engine.dispose()


def print_profile(redis_url: str, key: str, wall_seconds: float) -> None:
    """Seconds per stage, summed over every process (so they add up to more than the wall
    clock when the poller and the worker's children work at once)."""
    values = StageMetrics(redis_url, key).read()
    print()
    print("| stage | samples | total s | mean ms | share of summed time |")
    print("|---|---|---|---|---|")
    totals = {stage: values.get(f"{stage}|sum", 0.0) for stage in STAGES}
    summed = sum(seconds for stage, seconds in totals.items() if stage != "queue_wait") or 1.0
    for stage in STAGES:
        count = int(values.get(f"{stage}|count", 0))
        mean = totals[stage] / count * 1000 if count else 0.0
        share = "-" if stage == "queue_wait" else f"{totals[stage] / summed:.0%}"
        print(f"| {stage} | {count} | {totals[stage]:.1f} | {mean:.2f} | {share} |")
    print(f"\nwall clock {wall_seconds:.1f} s; queue_wait is time spent waiting (from storing "
          "to a worker's claim), not work, so it has no share")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="postgresql")
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--batch-size", type=int, default=50, help="OGP_PROCESS_BATCH_SIZE")
    parser.add_argument("--profile", action="store_true",
                        help="print the time per stage (fetch, store, queue wait, claim, "
                             "parse, sanitize, classify, redact, group, commit)")
    args = parser.parse_args()

    scratch = Scratch.make(args.database, "bench", {
        "OGP_PROCESS_BATCH_SIZE": str(args.batch_size),
        # One catch-up round takes the whole mailbox: no backpressure pause mid-way.
        "OGP_BACKPRESSURE_MAX_UNPROCESSED": str(args.messages + 1),
    })
    workdir, env, port, database_url = scratch.workdir, scratch.env, scratch.port, scratch.url
    worker = None
    try:
        scratch.start()
        client = IMAPClient("127.0.0.1", port=port, ssl=False, timeout=30)
        client.login(scratch.user, "bench-password")
        for message in tqdm(varied_messages(args.messages, prefix="BEN"), desc="append",
                            unit="msg", file=sys.stderr):
            client.append("INBOX", message.raw)
        client.logout()

        log = (workdir / "worker.log").open("wb")
        worker = subprocess.Popen([CLI, "worker", "--concurrency", str(args.concurrency),
                                   "--loglevel", "WARNING"], env=env, stdout=log,
                                  stderr=subprocess.STDOUT, start_new_session=True)
        time.sleep(4)  # let the worker connect before the clock starts

        started = time.perf_counter()
        subprocess.run([CLI, "poll", "--once"], env=env, check=True, capture_output=True)
        polled = time.perf_counter() - started
        with tqdm(total=args.messages, desc="pending", unit="msg", file=sys.stderr) as bar:
            done = 0
            while done < args.messages:
                if time.perf_counter() - started > args.timeout:
                    raise SystemExit(f"timed out with {done}/{args.messages} pending")
                time.sleep(0.25)
                current = count_pending(database_url)
                bar.update(current - done)
                done = current
        total = time.perf_counter() - started
        rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print("| messages | database | worker concurrency | batch | poll (fetch+store+move) "
              "msg/s | end to end msg/s | seconds | max child RSS MB | machine |")
        print("|---|---|---|---|---|---|---|---|---|")
        print(f"| {args.messages} | {args.database} | {args.concurrency} | {args.batch_size} "
              f"| {args.messages / polled:.0f} | {args.messages / total:.0f} | {total:.1f} "
              f"| {rss_mb:.0f} | {os.cpu_count()} cores, Python {platform.python_version()} |")
        if args.profile:
            print_profile(env["OGP_BROKER_URL"], f"{env['OGP_CELERY_QUEUE']}:stage-seconds",
                          total)
        return 0
    finally:
        if worker is not None and worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(30)
        scratch.close()


if __name__ == "__main__":
    sys.exit(main())
