"""Moderation queue latency over HTTP on a 100,000-comment consultation (PostgreSQL).

usage: python bench/queue.py [--comments N] [--requests N] [--explain] [--keep]

Seeds N comments with COPY into a fresh, migrated PostgreSQL database (Albanian with
and without ë/ç, English, mixed; spread over commitments, languages, channels and
statuses), starts the real ``ogp-feedback serve``, logs in over HTTP like a browser,
then times requests of: the first page, a commitment filter, a search for a common
word, a search for a rare word, and page 100 reached by following ``rel="next"``.
Prints median and p95 per scenario as Markdown rows. ``--explain`` also prints the
plan of every SQL statement behind each scenario (EXPLAIN ANALYZE, in-process).
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as ``python bench/queue.py``, this folder comes first on sys.path and this
# file would hide the standard library's ``queue`` (which psycopg and httpx import).
ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)

import argparse  # noqa: E402
import hashlib  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import unicodedata  # noqa: E402
import uuid  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402
from html import unescape  # noqa: E402
from typing import Any  # noqa: E402

import httpx  # noqa: E402
import psycopg  # noqa: E402

from tests.mailgen import TOPICS  # noqa: E402

CLI = str(Path(sys.executable).parent / "ogp-feedback")
PG_HOST = "postgresql://postgres@127.0.0.1:5432"
USER, PASSWORD = "bench", "bench-password-0123"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
NEXT = re.compile(r'<a rel="next" href="([^"]+)"')
ROW = re.compile(r"<tr data-href=")
COMMON_WORD, RARE_WORD = "pershendetje", "gjirokaster"
RARE_EVERY = 4000  # about 25 comments in 100,000 mention Gjirokastër

GREETINGS_SQ = ["Përshëndetje,", "Përshëndetje!", "Pershendetje,", "I nderuar sekretariat,",
                "Të nderuar,", "Mirëdita,", "Miredita,"]
GREETINGS_EN = ["Hello,", "Dear secretariat,", "Good morning,", "Hi,"]
SENTENCES_SQ = [sentence for _, sentence in TOPICS[:5]] + [TOPICS[9][1]] + [
    "Bashkia duhet të publikojë buxhetin vjetor në një format të lexueshëm.",
    "Zyrat e gjendjes civile në Shkodër nuk përgjigjen në kohë.",
    "Ligji për të drejtën e informimit nuk zbatohet nga të gjitha institucionet.",
    "Gjykatat duhet të publikojnë vendimet brenda një muaji.",
    "Ndihma juridike falas duhet të arrijë edhe fshatrat e largëta.",
    "Të dhënat e prokurimeve publike duhet të jenë të shkarkueshme.",
    "Qytetarët kërkojnë më shumë takime publike për planin e veprimit.",
    "Deklaratat e pasurisë së zyrtarëve duhet të jenë në internet.",
]
SENTENCES_EN = [sentence for _, sentence in TOPICS[5:9]] + [
    "The open data portal should publish machine-readable procurement records.",
    "Please extend the consultation deadline by two weeks.",
    "Municipal councils should stream their meetings online.",
    "The asset declarations of officials should be searchable.",
    "Whistleblower protection needs a clear and independent channel.",
]
SUBJECTS = [subject for subject, _ in TOPICS] + [
    "Koment për planin", "Sugjerim", "Ankesë", "Pyetje për angazhimin", "Feedback",
    "Komente për drejtësinë", "Transparenca fiskale", "Question about the plan",
]
STATUSES = [("pending", 40), ("approved", 25), ("published", 20), ("rejected", 12),
            ("withdrawn", 3)]
CHANNELS = [("imap", 70), ("form", 20), ("import", 10)]
LABELS = [str(n) for n in range(1, 11)] + ["general"]


DECIDED = frozenset({"approved", "rejected", "published"})


def pick(rng: random.Random, weighted: list[tuple[str, int]]) -> str:
    return rng.choices([value for value, _ in weighted], [w for _, w in weighted])[0]


def plain(text: str) -> str:
    """Albanian as typed on a keyboard without ë and ç."""
    return "".join(ch for ch in unicodedata.normalize("NFD", text)
                   if unicodedata.category(ch) != "Mn")


def comments(count: int, seed: int = 2020) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)
    start = datetime(2020, 9, 1, 8, 0, tzinfo=UTC)
    moment = start
    for n in range(1, count + 1):
        # Whole seconds and bursts: imports and busy hours give equal created_at values.
        if rng.random() > 0.2:
            moment += timedelta(seconds=rng.randint(1, 90))
        language = pick(rng, [("sq", 55), ("en", 30), ("mixed", 10), ("und", 5)])
        if language == "und":
            body = rng.choice(["Faleminderit.", "Ok", "Thanks!", "Dakord."])
        else:
            greeting = (rng.choice(GREETINGS_SQ) if language != "en"
                        else rng.choice(GREETINGS_EN)) if rng.random() < 0.5 else ""
            pool = {"sq": SENTENCES_SQ, "en": SENTENCES_EN,
                    "mixed": SENTENCES_SQ + SENTENCES_EN}[language]
            body = " ".join([greeting, *rng.sample(pool, rng.randint(2, 4))]).strip()
            if n % RARE_EVERY == 0:
                body += " Në Gjirokastër nuk ka asnjë zyrë informimi."
            if language != "en" and rng.random() < 0.35:
                body = plain(body)
        labels = rng.sample(LABELS[:10], rng.choice([1, 1, 2])) if rng.random() > 0.15 \
            else ["general"]
        channel = pick(rng, CHANNELS)
        yield {
            "id": n, "created_at": moment, "status": pick(rng, STATUSES),
            "subject": rng.choice(SUBJECTS), "text": body, "language": language,
            "channel": channel, "has_attachments": rng.random() < 0.05,
            "released": rng.random() < 0.01, "labels": labels,
        }


def seed(dsn: str, count: int, status_of: Callable[[int], str] | None = None) -> None:
    """``count`` comments by COPY; ``status_of(n)`` overrides the generated status (a
    published comment is published when it was received)."""
    inbound_cols = ("id, created_at, updated_at, source, sha256, size, raw, message_id, "
                    "status, attempts")
    comment_cols = ("id, inbound_id, created_at, updated_at, status, subject, author_name, "
                    "author_email, language, text, display_html, received_at, channel, "
                    "has_attachments, released, version, published_at, decided_at")
    rows = list(comments(count))
    if status_of is not None:
        for row in rows:
            row["status"] = status_of(row["id"])
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        with cur.copy(f"COPY inbound_message ({inbound_cols}) FROM STDIN") as copy:
            for row in rows:
                raw = f"Subject: {row['subject']}\r\n\r\n{row['text']}\r\n".encode()
                digest = hashlib.sha256(raw + str(row["id"]).encode()).hexdigest()
                copy.write_row((row["id"], row["created_at"], row["created_at"],
                                row["channel"], digest, len(raw), raw,
                                f"<bench-{row['id']}@example.org>", "processed", 1))
        # The search_vector column is generated by PostgreSQL as the rows arrive.
        with cur.copy(f"COPY comment ({comment_cols}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row((
                    row["id"], row["id"], row["created_at"], row["created_at"], row["status"],
                    row["subject"], "Qytetar", f"qytetar{row['id']}@example.org",
                    row["language"], row["text"], f"<p>{row['text']}</p>", row["created_at"],
                    row["channel"], row["has_attachments"], row["released"], 1,
                    row["created_at"] if row["status"] == "published" else None,
                    row["created_at"] if row["status"] in DECIDED else None))
        with cur.copy("COPY comment_commitment (comment_id, commitment_id, score) "
                      "FROM STDIN") as copy:
            for row in rows:
                for rank, label in enumerate(row["labels"]):
                    copy.write_row((row["id"], label, 1.0 / (rank + 1)))
        for table in ("inbound_message", "comment"):
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {count})")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def log_in(client: httpx.Client) -> None:
    form = client.get("/login")
    match = CSRF.search(form.text)
    assert match, "no CSRF field on /login"
    response = client.post("/login", data={"username": USER, "password": PASSWORD,
                                           "csrf_token": match.group(1), "next": "/queue"})
    assert response.status_code == 303, response.text[:500]


def page_100(client: httpx.Client) -> str:
    url = "/queue"
    for _ in range(99):
        match = NEXT.search(client.get(url).text)
        assert match, f"no next link after {url}"
        url = unescape(match.group(1))
    return url


def timed(client: httpx.Client, url: str, requests: int,
          before: Callable[[], object] | None = None) -> tuple[list[float], int]:
    """Milliseconds per request of ``url``; ``before`` runs (untimed) before each one."""
    for _ in range(5):  # warm-up: connections, caches, plans
        client.get(url)
    times = []
    rows = 0
    for _ in range(requests):
        if before is not None:
            before()
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code, response.text[:300])
        rows = len(ROW.findall(response.text))
    return times, rows


def summary(times: list[float]) -> tuple[float, float]:
    ordered = sorted(times)
    return statistics.median(ordered), ordered[max(0, round(0.95 * len(ordered)) - 1)]


def explain(database_url: str, urls: dict[str, str]) -> None:
    """EXPLAIN ANALYZE every statement the queue runs for each scenario."""
    from urllib.parse import parse_qs, urlsplit

    from sqlalchemy import event
    from sqlmodel import Session

    from config.catalogue import default_catalogue
    from moderation.db import make_engine
    from moderation.queue import fetch_queue, parse_queue_query

    engine = make_engine(database_url)
    seen: list[tuple[str, Any]] = []
    event.listen(engine, "before_cursor_execute",
                 lambda _c, _cur, statement, params, _ctx, _many: seen.append((statement,
                                                                               params)))
    for name, url in urls.items():
        values = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        seen.clear()
        with Session(engine) as session:
            fetch_queue(session, parse_queue_query(values, default_catalogue()))
        statements = list(seen)
        print(f"\n## {name}: {url}", file=sys.stderr)
        with engine.connect() as conn:
            for statement, params in statements:
                if statement.startswith("SET"):
                    continue
                plan = conn.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS) {statement}", params)
                print("\n".join(row[0] for row in plan), file=sys.stderr)
                print("--", file=sys.stderr)
    engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comments", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()

    db_name = f"ogp_bench_queue_{uuid.uuid4().hex[:8]}"
    database_url = f"{PG_HOST}/{db_name}"
    with psycopg.connect(f"{PG_HOST}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{db_name}"')
    env = {k: v for k, v in os.environ.items() if not k.startswith("OGP_")}
    env.update({"OGP_DATABASE_URL": database_url,
                "OGP_SECRET_KEY": "bench-secret-key-0123456789abcdef",
                "OGP_RECEIPTS": "false"})
    server = None
    server_log = tempfile.TemporaryFile()  # noqa: SIM115 (closed in the finally below)
    try:
        subprocess.run([CLI, "init"], env=env, check=True, capture_output=True)
        started = time.perf_counter()
        seed(database_url, args.comments)
        print(f"seeded {args.comments} comments in {time.perf_counter() - started:.1f} s",
              file=sys.stderr)
        subprocess.run([CLI, "users", "add", USER, "--role", "moderator", "--password-stdin"],
                       env=env, input=PASSWORD + "\n", text=True, check=True,
                       capture_output=True)
        port = free_port()
        server = subprocess.Popen([CLI, "serve", "--port", str(port)], env=env,
                                  stdout=server_log, stderr=subprocess.STDOUT,
                                  start_new_session=True)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                server_log.seek(0)
                raise SystemExit("the server did not start:\n"
                                 + server_log.read().decode(errors="replace")[-3000:])
            time.sleep(0.2)
        with httpx.Client(base_url=base, follow_redirects=False, timeout=30) as client:
            log_in(client)
            scenarios = {
                "first page": "/queue",
                "commitment filter": "/queue?commitment=4",
                f"search, common word ({COMMON_WORD})": f"/queue?q={COMMON_WORD}",
                f"search, rare word ({RARE_WORD})": f"/queue?q={RARE_WORD}",
                "page 100 by cursors": page_100(client),
            }
            results = []
            load_before = os.getloadavg()[0]
            # A committed write anywhere ends the snapshot the tab counts are remembered
            # for (moderation.queue._CountMemo): the second run counts on every request,
            # as when mail keeps arriving or other moderators keep deciding.
            with psycopg.connect(database_url, autocommit=True) as writer:
                def commit_a_write() -> object:
                    return writer.execute("SELECT pg_current_xact_id()").fetchone()

                for name, url in scenarios.items():
                    times, rows = timed(client, url, args.requests)
                    cold, _ = timed(client, url, args.requests, before=commit_a_write)
                    results.append((name, rows, *summary(times), *summary(cold)))
        if args.explain:
            explain(database_url, scenarios)
        machine = f"{os.cpu_count()} cores, Python {platform.python_version()}"
        day = datetime.now(UTC).date().isoformat()
        # The client, the server and PostgreSQL share the machine: say how busy it was.
        load = f"{load_before:.1f} -> {os.getloadavg()[0]:.1f}"
        print(f"\n{args.comments} comments, {args.requests} timed requests per scenario, "
              f"one client, over HTTP; load average (1 min) {load}\n")
        print("| date | scenario | rows shown | median ms | p95 ms | median ms, a write "
              "before each | p95 ms, a write before each | machine |")
        print("|---|---|---|---|---|---|---|---|")
        for name, rows, median, p95, cold_median, cold_p95 in results:
            print(f"| {day} | {name} | {rows} | {median:.1f} | {p95:.1f} | {cold_median:.1f} "
                  f"| {cold_p95:.1f} | {machine} |")
        return 0
    finally:
        if server is not None and server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(20)
        server_log.close()
        if not args.keep:
            with psycopg.connect(f"{PG_HOST}/postgres", autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        else:
            print(f"database kept: {database_url}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
