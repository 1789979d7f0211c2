"""Intake throughput: N generated messages in Dovecot -> poll -> Redis -> worker -> pending.

usage: python bench/intake.py [--messages N] [--database sqlite|postgresql] [--concurrency C]

Starts its own throw-away Dovecot (tests/services), a fresh database and a real
``ogp-feedback worker``; appends N messages (not timed), then times from the
start of ``ogp-feedback poll --once`` until every message is a pending comment.
Prints one Markdown table row for bench/README.md.
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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from imapclient import IMAPClient  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from tqdm import tqdm  # noqa: E402

from tests.mailgen import varied_messages  # noqa: E402

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


def count_pending(database_url: str) -> int:
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(
                "SELECT count(*) FROM comment WHERE status = 'pending'")).scalar_one())
    finally:
        engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="postgresql")
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="ogp-bench-"))
    workdir.chmod(0o711)  # Dovecot's unprivileged mail uid walks through it
    rundir = workdir / "dovecot"
    port, tls_port = free_port(), free_port()
    db_name = f"ogp_bench_{uuid.uuid4().hex[:8]}"
    if args.database == "postgresql":
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{db_name}"'))
        database_url = f"postgresql://postgres@127.0.0.1:5432/{db_name}"
    else:
        database_url = f"sqlite:///{workdir}/bench.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith("OGP_")}
    env.update({
        "OGP_DATABASE_URL": database_url, "OGP_BROKER_URL": "redis://127.0.0.1:6379/0",
        "OGP_CELERY_QUEUE": f"bench-{uuid.uuid4().hex[:8]}", "OGP_IMAP_HOST": "127.0.0.1",
        "OGP_IMAP_PORT": str(port), "OGP_IMAP_USER": "bench@example.test",
        "OGP_IMAP_PASSWORD": "bench-password", "OGP_IMAP_SECURITY": "none",
        "OGP_SECRET_KEY": "bench-secret-key-0123456789", "OGP_SITE_DIR": str(workdir / "site"),
    })
    worker = None
    try:
        start_dovecot(rundir, port, tls_port)
        subprocess.run([CLI, "init"], env=env, check=True, capture_output=True)
        client = IMAPClient("127.0.0.1", port=port, ssl=False, timeout=30)
        client.login("bench@example.test", "bench-password")
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
        print("| messages | database | worker concurrency | poll (fetch+store+move) msg/s "
              "| end to end msg/s | max child RSS MB | machine |")
        print("|---|---|---|---|---|---|---|")
        print(f"| {args.messages} | {args.database} | {args.concurrency} "
              f"| {args.messages / polled:.0f} | {args.messages / total:.0f} | {rss_mb:.0f} "
              f"| {os.cpu_count()} cores, Python {platform.python_version()} |")
        return 0
    finally:
        if worker is not None and worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(30)
        subprocess.run(["bash", str(ROOT / "tests/services/dovecot-stop.sh"), str(rundir)],
                       check=False, capture_output=True)
        if args.database == "postgresql":
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
