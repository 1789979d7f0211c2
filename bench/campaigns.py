"""Campaign grouping of 100,000 comments: in memory, then on PostgreSQL (recompute, assign).

usage: python bench/campaigns.py [--comments N] [--campaigns K] [--share S] [--assign M]
                                 [--memory-only] [--profile] [--keep] [--postgres URL]

Generates N comments with ``tests/campaign_set.py``: K form letters (at most 20) sent by
S of the senders (campaign sizes fall by a fifth from one letter to the next: 6,070 copies
of the first down to 87 of the twentieth at the defaults), 2 % very short comments, the
rest unrelated comments on the same commitments. Then:

(a) groups them in memory with ``intake.campaigns.Grouper`` (the rule the database
    adapter applies), timed, with the pairwise precision and recall against the labels;
(b) unless ``--memory-only``: seeds them with COPY into a fresh PostgreSQL database
    migrated by ``ogp-feedback init``, times ``moderation.campaigns.recompute`` twice (from
    nothing, then again with nothing changed), then adds M more comments (same mix, another
    seed) one at a time and times ``assign`` on each in its own transaction, then M more in
    batches of ``OGP_PROCESS_BATCH_SIZE`` with ``group_new``, as the workers group them.
    ``--profile`` prints where recompute spends its time (cProfile) and where assign does
    (each kind of SQL statement, the pure core's calls).

Prints Markdown rows for ``bench/README.md``.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)  # this folder has a queue.py that would hide the standard library's

import argparse  # noqa: E402
import cProfile  # noqa: E402
import hashlib  # noqa: E402
import io  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import pstats  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from collections import Counter  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402
from typing import Any, TypeVar  # noqa: E402

import psycopg  # noqa: E402
from tqdm import tqdm  # noqa: E402

from config.settings import Settings  # noqa: E402
from intake.campaigns import DEFAULT_THRESHOLD, Grouper, fingerprint  # noqa: E402
from tests.campaign_set import LETTERS, Item, PairScores, generate, pair_scores  # noqa: E402

CLI = str(Path(sys.executable).parent / "ogp-feedback")
PG_HOST = "postgresql://postgres@127.0.0.1:5432"
MIN_SIZE: int = Settings.model_fields["campaign_min_size"].default
BATCH: int = Settings.model_fields["process_batch_size"].default  # OGP_PROCESS_BATCH_SIZE
T = TypeVar("T")


def campaign_sizes(copies: int, campaigns: int) -> list[int]:
    """``copies`` split over ``campaigns`` letters, each a fifth smaller than the last."""
    weights = [0.8 ** n for n in range(campaigns)]
    return [max(3, round(copies * w / sum(weights))) for w in weights]


def make_items(comments: int, campaigns: int, share: float, seed: int) -> list[Item]:
    sizes = campaign_sizes(round(comments * share), campaigns)
    short = comments // 50
    return generate(seed, sizes=sizes, unrelated=comments - sum(sizes) - short, short=short,
                    letters=LETTERS[:campaigns])


def clocked(step: Callable[[], T]) -> tuple[T, float, float]:
    """The result, wall seconds and CPU seconds (this process) of ``step``."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = step()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def profiled(step: Callable[[], T], enabled: bool, title: str) -> T:
    if not enabled:
        return step()
    profile = cProfile.Profile()
    result = profile.runcall(step)
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(30)
    print(f"\n## profile: {title}\n{out.getvalue()}", file=sys.stderr)
    return result


def quality(predicted: Sequence[int | None], items: Sequence[Item]) -> tuple[PairScores, int, int]:
    """Pair scores, groups shown, and groups shown that hold no copy of any letter."""
    members: dict[int, list[Item]] = {}
    for group, item in zip(predicted, items, strict=True):
        if group is not None:
            members.setdefault(group, []).append(item)
    unrelated = sum(1 for group in members.values() if all(i.campaign is None for i in group))
    return pair_scores(predicted, [item.campaign for item in items]), len(members), unrelated


def in_memory(items: Sequence[Item]) -> dict[str, Any]:
    texts = [item.text for item in items]

    def fingerprints() -> None:
        for text in tqdm(texts, desc="fingerprints", unit="text", file=sys.stderr):
            fingerprint(text).bands  # noqa: B018 (worked out when first read)

    def group() -> Grouper:
        grouper = Grouper(DEFAULT_THRESHOLD)
        for key, text in enumerate(tqdm(texts, desc="group", unit="text", file=sys.stderr)):
            grouper.add(key, text)
        return grouper

    _, fp_wall, fp_cpu = clocked(fingerprints)
    grouper, wall, cpu = clocked(group)
    shown = grouper.grouped(MIN_SIZE)
    predicted = [grouper.group_of.get(k) if grouper.group_of.get(k) in shown else None
                 for k in range(len(texts))]
    scores, groups, unrelated = quality(predicted, items)
    return {"wall": wall, "cpu": cpu, "fp_wall": fp_wall, "fp_cpu": fp_cpu, "scores": scores,
            "groups": groups, "unrelated_groups": unrelated, "band_rows": len(grouper.band_rows)}


# PostgreSQL --------------------------------------------------------------------------------

INBOUND = ("id, created_at, updated_at, source, sha256, size, raw, message_id, status, "
           "attempts")
COMMENT = ("id, inbound_id, created_at, updated_at, status, subject, author_name, author_email, "
           "language, text, display_html, received_at, channel, has_attachments, released, "
           "version")


def seed(dsn: str, items: Sequence[Item], first_id: int) -> None:
    """``items`` as pending comments from ``first_id`` on, by COPY, received a minute apart."""
    start = datetime(2020, 9, 1, 8, 0, tzinfo=UTC)
    last = first_id + len(items) - 1
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        with cur.copy(f"COPY inbound_message ({INBOUND}) FROM STDIN") as copy:
            for n, item in enumerate(items, start=first_id):
                raw = f"Subject: Koment\r\n\r\n{item.text}\r\n".encode()
                when = start + timedelta(minutes=n)
                digest = hashlib.sha256(raw + str(n).encode()).hexdigest()
                copy.write_row((n, when, when, "imap", digest, len(raw), raw,
                                f"<campaign-{n}@example.org>", "processed", 1))
        with cur.copy(f"COPY comment ({COMMENT}) FROM STDIN") as copy:
            for n, item in enumerate(items, start=first_id):
                when = start + timedelta(minutes=n)
                copy.write_row((n, n, when, when, "pending", "Koment", "Qytetar",
                                f"qytetar{n}@example.org", "sq", item.text,
                                f"<p>{item.text}</p>", when, "imap", False, False, 1))
        for table in ("inbound_message", "comment"):
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {last})")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def stored_groups(dsn: str, first_id: int, count: int) -> list[int | None]:
    """Each comment's campaign when the campaign is shown (``MIN_SIZE``), else None."""
    with psycopg.connect(dsn) as conn:
        rows: dict[int, int] = dict(conn.execute(
            "SELECT c.id, c.campaign_id FROM comment c JOIN campaign k ON k.id = c.campaign_id "
            "WHERE k.size >= %s", (MIN_SIZE,)).fetchall())
    return [rows.get(n) for n in range(first_id, first_id + count)]


class Breakdown:
    """Where ``assign`` spends its time: each kind of SQL statement (cursor time, so the
    round trip), and the pure core's calls made through ``moderation.campaigns``."""

    def __init__(self, engine: Any) -> None:
        from sqlalchemy import event

        import moderation.campaigns as adapter

        self.seconds: dict[str, float] = {}
        self.calls: Counter[str] = Counter()
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)
        for name in ("fingerprint", "additions", "best_match"):
            setattr(adapter, name, self._timed(f"core: {name}", getattr(adapter, name)))

    def _timed(self, label: str, function: Callable[..., T]) -> Callable[..., T]:
        def timed(*args: Any, **kwargs: Any) -> T:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.add(label, time.perf_counter() - started)
        return timed

    def add(self, label: str, seconds: float) -> None:
        self.seconds[label] = self.seconds.get(label, 0.0) + seconds
        self.calls[label] += 1

    def _before(self, conn: Any, *_args: Any) -> None:
        conn.info["bench_started"] = time.perf_counter()

    def _after(self, conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        words = " ".join(statement.split()).split(" WHERE ")[0]
        self.add(f"SQL: {words[:70]}", time.perf_counter() - conn.info.pop("bench_started"))

    def rows(self, count: int) -> list[tuple[str, float, float]]:
        """(step, calls per comment, ms per comment), the costliest first."""
        return [(label, self.calls[label] / count, self.seconds[label] * 1000 / count)
                for label in sorted(self.seconds, key=self.seconds.__getitem__, reverse=True)]


def summary(values: Sequence[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), ordered[max(0, round(0.95 * len(ordered)) - 1)]


def on_postgresql(items: Sequence[Item], extra: Sequence[Item], batched: Sequence[Item],
                  host: str, profile: bool, keep: bool) -> dict[str, Any]:
    from sqlmodel import Session

    from moderation.campaigns import RecomputeReport, assign, group_new, recompute
    from moderation.db import make_engine
    from moderation.models import Comment

    name = f"ogp_bench_campaigns_{uuid.uuid4().hex[:8]}"
    dsn = f"{host}/{name}"
    with psycopg.connect(f"{host}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    env = {**os.environ, "OGP_DATABASE_URL": dsn}
    engine = make_engine(dsn.replace("postgresql://", "postgresql+psycopg://", 1))
    result: dict[str, Any] = {}
    try:
        subprocess.run([CLI, "init"], env=env, check=True, capture_output=True)
        _, seconds, _ = clocked(lambda: seed(dsn, items, 1))
        print(f"seeded {len(items)} comments in {seconds:.1f} s", file=sys.stderr)
        runs: list[tuple[str, float, float, RecomputeReport]] = []
        for run in ("from nothing", "again, nothing changed"):
            with tqdm(total=len(items), desc=f"recompute ({run})", unit="comment",
                      file=sys.stderr) as bar:
                def rebuild(bar: tqdm[Any] = bar) -> RecomputeReport:
                    return recompute(engine, DEFAULT_THRESHOLD, MIN_SIZE, progress=bar.update)

                report, wall, cpu = clocked(
                    lambda: profiled(rebuild, profile and not runs, "recompute"))
            runs.append((run, wall, cpu, report))
        result["recompute"] = runs
        result["quality"] = quality(stored_groups(dsn, 1, len(items)), items)

        first = len(items) + 1
        seed(dsn, extra, first)
        assign_ms: list[float] = []
        total_ms: list[float] = []
        joined = 0

        def assign_all() -> None:
            nonlocal joined
            for comment_id in tqdm(range(first, first + len(extra)), desc="assign",
                                   unit="comment", file=sys.stderr):
                started = time.perf_counter()
                with Session(engine) as session:
                    comment = session.get(Comment, comment_id)
                    assert comment is not None
                    mark = time.perf_counter()
                    # The intake passes the redactions it has just recorded: none here.
                    campaign = assign(session, comment, DEFAULT_THRESHOLD, redactions=[])
                    assign_ms.append((time.perf_counter() - mark) * 1000)
                    session.commit()
                total_ms.append((time.perf_counter() - started) * 1000)
                joined += campaign is not None

        breakdown = Breakdown(engine) if profile else None
        assign_all()
        result["assign"] = (summary(assign_ms), summary(total_ms), joined)
        result["breakdown"] = breakdown.rows(len(extra)) if breakdown else []
        truth_extra = [item.campaign for item in extra]
        result["assign_joined_true"] = sum(1 for t in truth_extra if t is not None)

        # As the workers group (workers.pipeline): a batch's comments in one transaction.
        first = len(items) + len(extra) + 1
        seed(dsn, batched, first)
        per_comment_ms: list[float] = []
        ids = list(range(first, first + len(batched)))
        for start in tqdm(range(0, len(ids), BATCH), desc="group_new", unit="batch",
                          file=sys.stderr):
            batch = ids[start:start + BATCH]
            started = time.perf_counter()
            with Session(engine) as session:
                group_new(session, batch, DEFAULT_THRESHOLD)
                session.commit()
            per_comment_ms.append((time.perf_counter() - started) * 1000 / len(batch))
        result["batched"] = summary(per_comment_ms)
    finally:
        engine.dispose()
        if keep:
            print(f"kept {dsn}", file=sys.stderr)
        else:
            with psycopg.connect(f"{host}/postgres", autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return result


def adapter_version() -> str:
    """The database adapter measured: its last commit, and whether the file had changes."""
    def git(*command: str) -> str:
        return subprocess.run(["git", *command], cwd=ROOT, capture_output=True, text=True,
                              check=False).stdout.strip()

    commit = git("log", "-1", "--format=%h", "--", "moderation/campaigns.py")
    changed = git("status", "--porcelain", "--", "moderation/campaigns.py")
    return f"{commit}{' plus uncommitted changes' if changed else ''}"


def test_set_seeds(seeds: int) -> int:
    """Pairwise scores of ``tests/unit/intake/test_campaigns.py``'s grouping for each seed."""
    from intake.campaigns import group_texts

    print("| seed | items | copies | precision | recall |")
    print("|---:|---:|---:|---:|---:|")
    recalls = []
    for seed in range(1, seeds + 1):
        items = generate(seed)
        predicted = group_texts([item.text for item in items], DEFAULT_THRESHOLD, MIN_SIZE)
        scores = pair_scores(predicted, [item.campaign for item in items])
        recalls.append(scores.recall)
        copies = sum(1 for item in items if item.campaign is not None)
        print(f"| {seed} | {len(items)} | {copies} | {scores.precision:.4f} | "
              f"{scores.recall:.4f} |")
    print(f"\nrecall: mean {statistics.mean(recalls):.4f}, lowest {min(recalls):.4f}, "
          f"{sum(r < 0.95 for r in recalls)} of {seeds} seeds under 0.95")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comments", type=int, default=100_000)
    parser.add_argument("--campaigns", type=int, default=20, choices=range(1, len(LETTERS) + 1),
                        metavar=f"1-{len(LETTERS)}")
    parser.add_argument("--share", type=float, default=0.3,
                        help="share of the comments that are copies of a letter")
    parser.add_argument("--assign", type=int, default=2000,
                        help="comments added one at a time after the recompute")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--memory-only", action="store_true", help="skip PostgreSQL")
    parser.add_argument("--test-set-seeds", type=int, metavar="N",
                        help="only score the unit test's set (generate(seed)) for seeds 1-N")
    parser.add_argument("--profile", action="store_true",
                        help="where recompute and assign spend their time")
    parser.add_argument("--postgres", default=PG_HOST, metavar="URL",
                        help="server to create the throw-away database on")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    if args.test_set_seeds:
        return test_set_seeds(args.test_set_seeds)

    items, seconds, _ = clocked(lambda: make_items(args.comments, args.campaigns, args.share,
                                                   args.seed))
    copies = Counter(item.campaign for item in items if item.campaign is not None)
    print(f"generated {len(items)} comments in {seconds:.1f} s: {sum(copies.values())} copies "
          f"of {len(copies)} letters ({max(copies.values())} to {min(copies.values())} each)",
          file=sys.stderr)
    day = f"{datetime.now(UTC):%Y-%m-%d}"
    machine = f"{os.cpu_count()} cores, Python {platform.python_version()}"
    load = f"load {os.getloadavg()[0]:.1f}"

    memory = in_memory(items)
    scores = memory["scores"]
    print("\n| date | comments | campaigns | grouping (Grouper) wall s | CPU s | of which "
          "fingerprints CPU s | precision | recall | groups shown | of unrelated comments "
          "only | band rows | machine |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    print(f"| {day} | {len(items)} | {len(copies)} | {memory['wall']:.1f} | {memory['cpu']:.1f} "
          f"| {memory['fp_cpu']:.1f} | {scores.precision:.4f} | {scores.recall:.4f} | "
          f"{memory['groups']} | {memory['unrelated_groups']} | {memory['band_rows']} | "
          f"{machine}, {load} |")
    if args.memory_only:
        return 0

    extra = make_items(args.assign, args.campaigns, args.share, args.seed + 1)
    batched = make_items(args.assign, args.campaigns, args.share, args.seed + 2)
    found = on_postgresql(items, extra, batched, args.postgres, args.profile, args.keep)
    print(f"\nmoderation/campaigns.py: {adapter_version()}")
    print("\n| date | comments | recompute | wall s | CPU s (this process) | groups | "
          "grouped | shown | machine |")
    print("|---|---:|---|---:|---:|---:|---:|---:|---|")
    for run, wall, cpu, report in found["recompute"]:
        print(f"| {day} | {report.comments} | {run} | {wall:.1f} | {cpu:.1f} | "
              f"{report.campaigns} | {report.grouped} | {report.shown} | {machine} |")
    scores, groups, unrelated = found["quality"]
    print(f"\nstored groups: precision {scores.precision:.4f}, recall {scores.recall:.4f}, "
          f"{groups} shown, {unrelated} of unrelated comments only")
    (median, p95), (total_median, total_p95), joined = found["assign"]
    print("\n| date | comments before | assigned one at a time | assign median ms | p95 ms | "
          "with load + commit median ms | p95 ms | joined a campaign | copies among them | "
          "machine |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    print(f"| {day} | {len(items)} | {len(extra)} | {median:.2f} | {p95:.2f} | "
          f"{total_median:.2f} | {total_p95:.2f} | {joined} | {found['assign_joined_true']} | "
          f"{machine}, load {os.getloadavg()[0]:.1f} |")
    batch_median, batch_p95 = found["batched"]
    print(f"\n{len(batched)} more comments grouped as the workers do (group_new, batches of "
          f"{BATCH}, each in its transaction, commit included): per comment, median of batches "
          f"{batch_median:.2f} ms, p95 {batch_p95:.2f} ms")
    if found["breakdown"]:
        print("\n| assign: step | calls per comment | ms per comment |")
        print("|---|---:|---:|")
        for step, calls, ms in found["breakdown"]:
            print(f"| {step} | {calls:.2f} | {ms:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
