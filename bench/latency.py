"""Intake latency: from the APPEND of one message to its pending comment, while ``poll`` idles.

usage: python bench/latency.py [--messages N] [--database sqlite|postgresql] [--seed S]

Starts its own throw-away Dovecot, a fresh database, a real ``ogp-feedback worker`` on Redis
and the long-running ``ogp-feedback poll`` (IMAP IDLE); then appends N generated messages
one at a time at random intervals (0.1-1 s) and watches the database every 20 ms for each
message's comment. Prints one Markdown table row for bench/README.md: median, 95th
percentile and worst time from the APPEND returning to the comment being visible.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# As a script, bench/ comes first on the path, where bench/queue.py would hide the standard
# library's queue module (which redis imports): the project's root instead.
sys.path[0] = str(ROOT)

from imapclient import IMAPClient  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from tqdm import tqdm  # noqa: E402

from bench.intake import CLI, Scratch  # noqa: E402
from tests.mailgen import varied_messages  # noqa: E402

TOKEN = re.compile(r"LAT\d{5}X")


class Watcher(threading.Thread):
    """Notes when each token's comment first becomes visible to another connection."""

    def __init__(self, database_url: str) -> None:
        super().__init__(daemon=True)
        self.engine = create_engine(database_url.replace("postgresql://",
                                                         "postgresql+psycopg://"))
        self.seen: dict[str, float] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        last_id = 0
        while not self.stop.is_set():
            with self.engine.connect() as conn:
                rows = conn.execute(text("SELECT id, text FROM comment WHERE id > :last "
                                         "ORDER BY id"), {"last": last_id}).all()
            now = time.time()
            for comment_id, body in rows:
                last_id = max(last_id, comment_id)
                for token in TOKEN.findall(body or ""):
                    self.seen.setdefault(token, now)
            self.stop.wait(0.02)
        self.engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="postgresql")
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    pause = random.Random(args.seed)

    scratch = Scratch.make(args.database, "latency", {})
    workdir, env, port = scratch.workdir, scratch.env, scratch.port
    database_url = scratch.url
    processes: list[subprocess.Popen[bytes]] = []
    watcher = Watcher(database_url)
    try:
        scratch.start()
        for name, command in (("worker", [CLI, "worker", "--concurrency",
                                          str(args.concurrency), "--loglevel", "WARNING"]),
                              ("poller", [CLI, "poll"])):
            log = (workdir / f"{name}.log").open("wb")
            processes.append(subprocess.Popen(command, env=env, stdout=log,
                                              stderr=subprocess.STDOUT, start_new_session=True))
        time.sleep(6)  # the worker connects, the poller's first round ends and it idles
        watcher.start()
        client = IMAPClient("127.0.0.1", port=port, ssl=False, timeout=30)
        client.login(scratch.user, "bench-password")
        appended: dict[str, float] = {}
        for message in tqdm(varied_messages(args.messages, prefix="LAT"), desc="append",
                            unit="msg", file=sys.stderr):
            client.append("INBOX", message.raw)
            appended[message.token] = time.time()
            time.sleep(pause.uniform(0.1, 1.0))
        client.logout()
        deadline = time.monotonic() + 60
        while len(watcher.seen) < len(appended) and time.monotonic() < deadline:
            time.sleep(0.1)
        missing = set(appended) - set(watcher.seen)
        if missing:
            raise SystemExit(f"{len(missing)} messages never became comments, e.g. "
                             f"{sorted(missing)[:3]}; logs in {workdir}")
        waits = sorted(watcher.seen[token] - appended[token] for token in appended)
        p95 = waits[max(0, round(0.95 * len(waits)) - 1)]
        print("| messages | database | median s | 95th percentile s | worst s | machine |")
        print("|---|---|---|---|---|---|")
        print(f"| {len(waits)} | {args.database} | {statistics.median(waits):.2f} "
              f"| {p95:.2f} | {waits[-1]:.2f} "
              f"| {os.cpu_count()} cores, Python {platform.python_version()} |")
        return 0
    finally:
        watcher.stop.set()
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(30)
        scratch.close()


if __name__ == "__main__":
    sys.exit(main())
