"""The secretariat's digest of a 100,000-comment consultation (PostgreSQL).

usage: python bench/digest.py [--comments N] [--runs N] [--keep]

Seeds N comments with COPY into a fresh database migrated by ``ogp-feedback init``: ten
weeks of receipts, every status (40 % published, 15 % rejected with every reason code),
decisions hours to days after receipt, 1-2 commitments each (15 % general), half of the
published comments answered (responses of every outcome, some answering several
comments), Albanian, English and mixed text. Then times the whole command
``ogp-feedback digest --format json --out FILE`` (a new process each run: start-up,
queries, representative comments, JSON), and once each in-process step, and the HTML
digest. Prints Markdown rows for ``bench/README.md``.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)  # this folder has a queue.py that would hide the standard library's

import argparse  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402
from zoneinfo import ZoneInfo  # noqa: E402

import psycopg  # noqa: E402

from tests.mailgen import TOPICS  # noqa: E402

CLI = str(Path(sys.executable).parent / "ogp-feedback")
PG_HOST = "postgresql://postgres@127.0.0.1:5432"
START = datetime(2020, 9, 1, 7, 0, tzinfo=UTC)
WEEKS = 10
STATUSES = [("published", 40), ("pending", 25), ("approved", 15), ("rejected", 15),
            ("withdrawn", 5)]
REASONS = ["spam", "abusive", "off-topic", "duplicate", "personal-data", "not-about-plan",
           "other"]
OUTCOMES = ["adopted", "partly-adopted", "not-adopted", "out-of-scope", "noted"]
SEQUENCES = [
    "SELECT setval(pg_get_serial_sequence('inbound_message', 'id'), "
    "(SELECT max(id) FROM inbound_message))",
    "SELECT setval(pg_get_serial_sequence('comment', 'id'), (SELECT max(id) FROM comment))",
    "SELECT setval(pg_get_serial_sequence('response', 'id'), (SELECT max(id) FROM response))",
]
EXTRA = ["Faleminderit.", "Ju lutem ta merrni parasysh.", "Thank you.", "Shpresoj në ndryshime.",
         "Kjo është e rëndësishme për qytetarët e Shkodrës.", "Please consider this."]


def pick(rng: random.Random, weighted: list[tuple[str, int]]) -> str:
    return rng.choices([v for v, _ in weighted], [w for _, w in weighted])[0]


def seed(dsn: str, count: int) -> None:
    rng = random.Random(2020)
    span = WEEKS * 7 * 24 * 3600
    inbound_cols = "id, created_at, updated_at, source, sha256, size, raw, status, attempts"
    comment_cols = ("id, inbound_id, created_at, updated_at, status, subject, author_name, "
                    "author_email, language, text, display_html, received_at, channel, "
                    "reject_code, decided_by, decided_at, published_at, version")
    rows = []
    for n in range(1, count + 1):
        received = START + timedelta(seconds=rng.randrange(span))
        status = pick(rng, STATUSES)
        language = pick(rng, [("sq", 55), ("en", 30), ("mixed", 10), ("und", 5)])
        topics = rng.sample(TOPICS, 2)
        body = {"sq": topics[0][1], "en": topics[1][1],
                "mixed": f"{topics[0][1]} {topics[1][1]}", "und": "OK"}[language]
        text = f"{body} {rng.choice(EXTRA)}"
        decided = (received + timedelta(minutes=rng.randint(10, 7 * 24 * 60))
                   if status in {"published", "approved", "rejected"} else None)
        labels = rng.sample([str(k) for k in range(1, 11)], rng.choice([1, 1, 2])) \
            if rng.random() > 0.15 else ["general"]
        rows.append((n, received, status, language, text, decided, labels,
                     pick(rng, [("imap", 70), ("form", 20), ("import", 10)]),
                     rng.choice(REASONS) if status == "rejected" else None))
    published = [row[0] for row in rows if row[2] == "published"]
    answered = [i for i in published if rng.random() < 0.5]
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        with cur.copy(f"COPY inbound_message ({inbound_cols}) FROM STDIN") as copy:
            for n, received, *_rest, channel, _code in rows:
                raw = f"From: Qytetar {n} <q{n}@example.org>\r\n\r\nKoment {n}\r\n".encode()
                copy.write_row((n, received, received, channel,
                                hashlib.sha256(raw).hexdigest(), len(raw), raw, "processed", 1))
        with cur.copy(f"COPY comment ({comment_cols}) FROM STDIN") as copy:
            for n, received, status, language, text, decided, _labels, channel, code in rows:
                copy.write_row((
                    n, n, received, received, status, f"Koment {n}", f"Qytetar {n}",
                    f"q{n}@example.org", language, text, f"<p>{text}</p>",
                    received - timedelta(days=1), channel, code,
                    "moderatore" if decided else None, decided,
                    decided + timedelta(hours=2) if status == "published" and decided else None,
                    1))
        with cur.copy("COPY comment_commitment (comment_id, commitment_id, score) "
                      "FROM STDIN") as copy:
            for n, *_rest in rows:
                for rank, label in enumerate(rows[n - 1][6]):
                    copy.write_row((n, label, 1.0 / (rank + 1)))
        responses = []
        position = 0
        while position < len(answered):
            size = rng.choice([1, 1, 1, 2, 3])
            responses.append(answered[position:position + size])
            position += size
        now = datetime.now(UTC)
        with cur.copy("COPY response (id, outcome, text_sq, text_en, created_by, created_at, "
                      "updated_by, updated_at, version) FROM STDIN") as copy:
            for k, _group in enumerate(responses, start=1):
                copy.write_row((k, OUTCOMES[k % 5], f"Përgjigje {k}", f"Response {k}",
                                "sekretaria", now, "sekretaria", now, 1))
        with cur.copy("COPY response_comment (comment_id, response_id) FROM STDIN") as copy:
            for k, group in enumerate(responses, start=1):
                for comment_id in group:
                    copy.write_row((comment_id, k))
        for statement in SEQUENCES:
            cur.execute(statement)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def in_process(url: str) -> dict[str, float]:
    """Seconds per step of one digest, in this process (imports already paid)."""
    from config.catalogue import default_catalogue
    from moderation.db import make_engine
    from moderation.models import utcnow
    from publish.digest import Period, build_digest, quote_candidates
    from publish.digest_load import candidate_ids, load_rows, load_texts, snapshot
    from publish.digest_render import Links, render_html, render_json

    catalogue = default_catalogue()
    engine = make_engine(url)
    period = Period(None, None, ZoneInfo("Europe/Tirane"))
    steps: dict[str, float] = {}
    started = time.perf_counter()
    with snapshot(engine) as session:
        rows = load_rows(session, period)
        steps["read rows"] = time.perf_counter() - started
        mark = time.perf_counter()
        texts = load_texts(session, candidate_ids(quote_candidates(rows, False)))
        steps["read quotable texts"] = time.perf_counter() - mark
    mark = time.perf_counter()
    digest = build_digest(rows, texts, catalogue, period, utcnow())
    steps["figures + typical comments"] = time.perf_counter() - mark
    mark = time.perf_counter()
    render_json(digest, catalogue)
    steps["JSON"] = time.perf_counter() - mark
    mark = time.perf_counter()
    render_html(digest, catalogue, Links(public=False))
    steps["HTML (not in the total)"] = time.perf_counter() - mark
    engine.dispose()
    return steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comments", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()

    name = f"ogp_bench_digest_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(f"{PG_HOST}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = f"{PG_HOST}/{name}"
    env = {**os.environ, "OGP_DATABASE_URL": url}
    try:
        subprocess.run([CLI, "init"], env=env, check=True, capture_output=True)
        started = time.perf_counter()
        seed(url, args.comments)
        print(f"seeded {args.comments} comments in {time.perf_counter() - started:.1f} s",
              file=sys.stderr)
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "digest.json"
            times = []
            for _ in range(args.runs):
                started = time.perf_counter()
                subprocess.run([CLI, "digest", "--format", "json", "--out", str(out)], env=env,
                               check=True, capture_output=True)
                times.append(time.perf_counter() - started)
            data = json.loads(out.read_text(encoding="utf-8"))
            size = out.stat().st_size / 1e6
        assert data["received"] == args.comments, data["received"]
        steps = in_process(url.replace("postgresql://", "postgresql+psycopg://", 1))
        machine = f"{os.cpu_count()} cores, Python {platform.python_version()}"
        print("| date | comments | command (median of runs) | runs | JSON MB | machine |")
        print(f"| {datetime.now(UTC):%Y-%m-%d} | {args.comments} | "
              f"{statistics.median(times):.2f} s | "
              f"{', '.join(f'{t:.2f}' for t in times)} | {size:.1f} | {machine} |")
        print()
        print("| step (in-process) | seconds |")
        print("|---|---:|")
        for step, seconds in steps.items():
            print(f"| {step} | {seconds:.2f} |")
    finally:
        if not args.keep:
            with psycopg.connect(f"{PG_HOST}/postgres", autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        else:
            print(f"kept {url}", file=sys.stderr)


if __name__ == "__main__":
    main()
