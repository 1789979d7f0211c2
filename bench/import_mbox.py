"""Import throughput and memory: a generated mbox of N messages through ``ogp-feedback import``.

usage: python bench/import_mbox.py [--messages N] [--database sqlite|postgresql] [--in-process]

By default messages are stored and queued on Redis (no worker runs), which
measures the import itself; ``--in-process`` also processes every message in
the importing process, as the embedded demo mode does. Prints the peak
resident memory of the import process and messages per second as a Markdown row.
"""

from __future__ import annotations

import argparse
import mailbox
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402
from tqdm import tqdm  # noqa: E402

from tests.mailgen import KINDS, build  # noqa: E402

CLI = str(Path(sys.executable).parent / "ogp-feedback")
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def write_mbox(path: Path, count: int) -> None:
    box = mailbox.mbox(str(path), create=True)
    box.lock()
    try:
        for n in tqdm(range(count), desc="generate", unit="msg", file=sys.stderr):
            box.add(build(n, KINDS[n % len(KINDS)], prefix="MBX").raw)
        box.flush()
    finally:
        box.unlock()
        box.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="postgresql")
    parser.add_argument("--in-process", action="store_true")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="ogp-bench-import-"))
    db_name = f"ogp_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    if args.database == "postgresql":
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{db_name}"'))
        database_url = f"postgresql://postgres@127.0.0.1:5432/{db_name}"
    else:
        database_url = f"sqlite:///{workdir}/bench.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith("OGP_")}
    env.update({"OGP_DATABASE_URL": database_url, "OGP_SECRET_KEY": "bench-secret-key-0123456789",
                "OGP_RECEIPTS": "false"})
    if not args.in_process:
        env.update({"OGP_BROKER_URL": "redis://127.0.0.1:6379/0",
                    "OGP_CELERY_QUEUE": f"bench-{uuid.uuid4().hex[:8]}"})
    try:
        mbox = workdir / "big.mbox"
        write_mbox(mbox, args.messages)
        size_mb = mbox.stat().st_size / 1e6
        subprocess.run([CLI, "init"], env=env, check=True, capture_output=True)
        started = time.perf_counter()
        result = subprocess.run([CLI, "import", "-q", str(mbox)], env=env, check=True,
                                capture_output=True, text=True)
        elapsed = time.perf_counter() - started
        rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(result.stdout.strip(), file=sys.stderr)
        mode = "store + process in-process" if args.in_process else "store + queue on Redis"
        print("| messages | mbox MB | database | mode | msg/s | peak RSS MB | machine |")
        print("|---|---|---|---|---|---|---|")
        print(f"| {args.messages} | {size_mb:.0f} | {args.database} | {mode} "
              f"| {args.messages / elapsed:.0f} | {rss_mb:.0f} "
              f"| {os.cpu_count()} cores, Python {platform.python_version()} |")
        return 0
    finally:
        if args.database == "postgresql":
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
        admin.dispose()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
