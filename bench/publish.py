"""Publishing the public site of a 100,000-comment consultation (PostgreSQL).

usage: python bench/publish.py [--comments N] [--keep]

Seeds N published comments with COPY into a fresh, migrated PostgreSQL database (the
generator of ``bench/queue.py``: Albanian with and without ë/ç, English, mixed, over
every commitment), then times with the real CLI, ``ogp-feedback publish --json``:

1. from scratch (no site yet): every page in both languages, feeds, open data, search;
2. again with nothing changed;
3. after one more comment is approved: only the pages that show it.

Prints the JSON of each run and Markdown rows for ``bench/README.md``. Aim (issue 10):
under 30 s from scratch and under 1 s after one change, on 2 cores.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from typing import Any  # noqa: E402

import psycopg  # noqa: E402

from bench.queue import PG_HOST  # noqa: E402
from bench.queue import seed as seed_comments  # noqa: E402

CLI = str(Path(sys.executable).parent / "ogp-feedback")


def seed(dsn: str, count: int) -> None:
    """``count`` published comments and one pending, by COPY."""
    seed_comments(dsn, count + 1,
                  status_of=lambda n: "pending" if n == count + 1 else "published")


def publish(env: dict[str, str], site: Path) -> dict[str, Any]:
    started = time.perf_counter()
    done = subprocess.run([CLI, "publish", "--json", "--out", str(site)], env=env,
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    report: dict[str, Any] = json.loads(done.stdout)
    report["wall_seconds"] = round(time.perf_counter() - started, 2)
    print(json.dumps(report), file=sys.stderr)
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comments", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()

    db_name = f"ogp_bench_publish_{uuid.uuid4().hex[:8]}"
    database_url = f"{PG_HOST}/{db_name}"
    with psycopg.connect(f"{PG_HOST}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{db_name}"')
    env = {k: v for k, v in os.environ.items() if not k.startswith("OGP_")}
    env.update({"OGP_DATABASE_URL": database_url,
                "OGP_SECRET_KEY": "bench-secret-key-0123456789abcdef"})
    try:
        subprocess.run([CLI, "init"], env=env, check=True, capture_output=True)
        started = time.perf_counter()
        seed(database_url, args.comments)
        print(f"seeded {args.comments} comments in {time.perf_counter() - started:.1f} s",
              file=sys.stderr)
        subprocess.run([CLI, "users", "add", "bench", "--role", "moderator",
                        "--password-stdin"], env=env, input="bench-password-2020\n",
                       text=True, check=True, capture_output=True)
        with tempfile.TemporaryDirectory(prefix="ogp-bench-site-") as folder:
            site = Path(folder) / "site"
            scratch = publish(env, site)
            quiet = publish(env, site)
            subprocess.run([CLI, "approve", str(args.comments + 1), "--as", "bench"], env=env,
                           check=True, capture_output=True)
            one = publish(env, site)
            size = sum(f.stat().st_size for f in Path(folder).rglob("*") if f.is_file())
        cores = os.cpu_count()
        print(f"\n{platform.python_implementation()} {platform.python_version()}, "
              f"{cores} cores, PostgreSQL, {args.comments:,} comments, "
              f"{scratch['pages']:,} files, {size / 2**20:.0f} MiB on disk\n")
        print("| run | pages written | pages unchanged | seconds (publish) | seconds (command) |")
        print("|---|---:|---:|---:|---:|")
        for name, report in (("from scratch", scratch), ("nothing changed", quiet),
                             ("one comment approved", one)):
            print(f"| {name} | {report['pages_written']:,} | {report['pages_unchanged']:,} | "
                  f"{report['seconds']:.2f} | {report['wall_seconds']:.2f} |")
    finally:
        if not args.keep:
            with psycopg.connect(f"{PG_HOST}/postgres", autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
