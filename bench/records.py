"""The public record pages (weekly digests, statistics) of 100,000 comments (PostgreSQL).

usage: python bench/records.py [--comments N] [--keep]

Seeds N comments with ``bench/digest.py``'s COPY seeder (ten weeks, every status, 40 %
published, half of those answered) into a fresh database, then times
``record_files`` in-process, CPU (``time.process_time``) and wall:

- without a cache (every week read and built, as every publish did before),
- cold with a cache (an empty ``records-cache`` folder),
- warm, nothing changed (a republish with no approval),
- warm after one approval (a pending comment published: one week, and the statistics).

Prints Markdown rows for ``bench/README.md``.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)  # this folder has a queue.py that would hide the standard library's

import argparse  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from collections.abc import Callable  # noqa: E402
from datetime import UTC, datetime  # noqa: E402

import psycopg  # noqa: E402

from bench.digest import CLI, PG_HOST, seed  # noqa: E402

ZONE = "Europe/Tirane"


def timed(step: Callable[[], tuple[int, int, int]]) -> tuple[float, float, tuple[int, int, int]]:
    cpu, wall = time.process_time(), time.perf_counter()
    result = step()
    return time.process_time() - cpu, time.perf_counter() - wall, result


def run(url: str) -> list[tuple[str, float, float, tuple[int, int, int], int]]:
    from config.catalogue import default_catalogue
    from moderation.db import make_engine
    from publish.digest_load import snapshot
    from publish.digest_site import record_files_reported

    catalogue = default_catalogue()
    engine = make_engine(url)
    results = []
    written: list[int] = [0]  # files returned by the last call
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "records-cache"

        def once(with_cache: bool) -> Callable[[], tuple[int, int, int]]:
            def step() -> tuple[int, int, int]:
                with snapshot(engine) as session:
                    files, report = record_files_reported(
                        session, catalogue, datetime.now(UTC), ZONE,
                        cache=cache if with_cache else None)
                written[0] = len(files)
                return report.weeks, report.weeks_rebuilt, report.weeks_recounted
            return step

        for name, with_cache in [("no cache (every week built)", False),
                                 ("cold, empty cache", True), ("warm, nothing changed", True)]:
            cpu, wall, report = timed(once(with_cache))
            results.append((name, cpu, wall, report, written[0]))
        with psycopg.connect(url.replace("+psycopg", "")) as conn:
            conn.execute("UPDATE comment SET status = 'published', version = version + 1, "
                         "updated_at = now(), decided_at = now(), published_at = now() "
                         "WHERE id = (SELECT min(id) FROM comment WHERE status = 'pending')")
        cpu, wall, report = timed(once(True))
        results.append(("warm, one comment approved", cpu, wall, report, written[0]))
    engine.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comments", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse", metavar="DATABASE",
                        help="a database this script seeded and kept (--keep)")
    args = parser.parse_args()

    name = args.reuse or f"ogp_bench_records_{uuid.uuid4().hex[:8]}"
    url = f"{PG_HOST}/{name}"
    if not args.reuse:
        with psycopg.connect(f"{PG_HOST}/postgres", autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
    env = {**os.environ, "OGP_DATABASE_URL": url}
    try:
        if not args.reuse:
            subprocess.run([CLI, "init"], env=env, check=True, capture_output=True)
            started = time.perf_counter()
            seed(url, args.comments)
            print(f"seeded {args.comments} comments in {time.perf_counter() - started:.1f} s",
                  file=sys.stderr)
        results = run(url.replace("postgresql://", "postgresql+psycopg://", 1))
        machine = f"{os.cpu_count()} cores, Python {platform.python_version()}"
        print(f"{datetime.now(UTC):%Y-%m-%d}, {args.comments} comments, {machine}")
        print()
        print("| record_files | CPU s | wall s | digests rebuilt | weeks recounted | files |")
        print("|---|---:|---:|---:|---:|---:|")
        for step, cpu, wall, (weeks, rebuilt, recounted), files in results:
            print(f"| {step} | {cpu:.2f} | {wall:.2f} | {rebuilt} of {weeks} | {recounted} | "
                  f"{files} |")
    finally:
        if not args.keep and not args.reuse:
            with psycopg.connect(f"{PG_HOST}/postgres", autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        else:
            print(f"kept {url}", file=sys.stderr)


if __name__ == "__main__":
    main()
