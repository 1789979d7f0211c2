"""The public site's search index: built at publish time, searched in the browser.

Pagefind (its Python package drives its indexing binary) writes a static index that the
search page queries with Pagefind's own JavaScript and WebAssembly: no server, so the
site stays a folder of files. This module only writes ``<site>/pagefind/``; it never
touches a page and never sees a comment's sender (it gets ``CommentPublic`` or plain
records).

Decisions, measured here with Pagefind 1.5.2 on 2 cores (``bench/search.py``):

- **One index for both languages.** A comment's text is the same on its ``sq/`` and
  ``en/`` page, so each comment is indexed once, under its Albanian URL and under one
  Pagefind language (``INDEX_LANGUAGE``). Pagefind loads the index whose language matches
  ``<html lang>`` and falls back to its only one, so the English search page searches the
  same index and ``search.js`` maps each result from ``sq/`` to ``en/``. Indexing per
  language would double the time and size for the same words, and would run English
  stemming over Albanian text. Albanian has no Pagefind stemmer: words match as typed or
  by prefix, which suits a mixed Albanian and English corpus.
- **Diacritics fold natively.** Pagefind (1.5 here) searches diacritic-insensitively by
  default (``exactDiacritics: false``): "pergjegjshmeri" finds "përgjegjshmëri" and
  "llogaridhënie" finds "llogaridhenie". No folded copy of the text is indexed;
  ``tests/functional/test_search_browser.py`` holds Pagefind to it, both ways.
- **Staged HTML, not ``add_custom_record``.** The Python wrapper polls the indexer for one
  reply every 0.1 s, so records sent one by one cost 0.1 s each (100,000 comments: about
  three hours). Each record is written instead as a tiny HTML file into a temporary folder
  that one ``add_directory`` call indexes.
- **Segments.** Pagefind writes one fragment file per record and indexes about 1,000
  records a second here, so one index of 100,000 would cost minutes at every republish.
  Records are split by reference number (a comment's number never changes): sealed
  segments of 10,000 numbers (``pagefind/seg-3/`` holds OGP-030000 to OGP-039999) and,
  in the newest block, segments of 1,000 (``pagefind/seg-9-4/``). A republish rebuilds
  only the segments whose fingerprint changed and keeps the others from the previous
  build when ``out_dir`` already holds it: new approvals rebuild one small segment;
  editing or withdrawing an old comment rebuilds its sealed segment; every 10,000
  comments the newest block is sealed (its small segments merged into one) once.
  ``pagefind/segments.json`` lists the segments (one per 10,000 reference numbers plus
  at most 10 recent ones);
  ``search.js`` loads the first and merges the others (Pagefind's ``mergeIndex``).
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from importlib.metadata import version
from pathlib import Path
from typing import Any

from pagefind.service import _must_get_executable

from moderation.public import CommentPublic
from publish import urls

INDEX_LANGUAGE: urls.Language = urls.DEFAULT_LANGUAGE
# A sealed segment: 10,000 consecutive reference numbers, rebuilt only when one of its
# comments is edited or withdrawn. The newest block of 10,000 is cut into segments of
# 1,000, so the usual republish (new approvals) rebuilds at most 1,000 records.
SEGMENT_SIZE = 10_000
RECENT_SEGMENT_SIZE = 1_000
MANIFEST = "segments.json"
# Bump when the staged HTML changes shape, so every segment is rebuilt once.
FORMAT = 1


@dataclass(frozen=True)
class SearchRecord:
    """One comment as the search sees it: plain text only, never HTML."""

    reference: str
    title: str
    content: str
    # Shown with a result: {"reference": "OGP-000123", "date": "2026-11-28"}.
    meta: Mapping[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        """The comment's page in ``INDEX_LANGUAGE``, relative to the site root."""
        return urls.comment_page(INDEX_LANGUAGE, self.reference)

    @property
    def number(self) -> int:
        return int(self.reference.removeprefix("OGP-"))


@dataclass(frozen=True)
class SegmentReport:
    name: str
    records: int
    fingerprint: str
    rebuilt: bool
    bytes: int


@dataclass(frozen=True)
class SearchIndexReport:
    records: int
    segments: tuple[SegmentReport, ...]
    seconds: float

    @property
    def rebuilt(self) -> int:
        return sum(segment.rebuilt for segment in self.segments)

    @property
    def bytes(self) -> int:
        return sum(segment.bytes for segment in self.segments)


def segment_of(number: int, newest_block: int, size: int = SEGMENT_SIZE,
               recent: int = RECENT_SEGMENT_SIZE) -> str:
    """The segment of reference number ``number``: "seg-3" for 30,000-39,999 once a newer
    block exists; "seg-4-2" for 42,000-42,999 while 40,000-49,999 is the newest block. A
    number's segment depends only on the number and on the newest block, so a comment
    moves once, when its block is sealed."""
    block = number // size
    if block < newest_block:
        return f"seg-{block}"
    return f"seg-{block}-{(number % size) // recent}"


def segment_order(name: str) -> tuple[int, ...]:
    # Sealed segments first (the first one loaded is the most stable), then the recent.
    return tuple(int(part) for part in name.removeprefix("seg-").split("-"))



def record_for(comment: CommentPublic) -> SearchRecord:
    when = comment.published_at or comment.received_at
    meta = {"reference": comment.reference}
    if when is not None:
        meta["date"] = when.date().isoformat()
    return SearchRecord(reference=comment.reference, title=comment.subject or comment.reference,
                        content=comment.text, meta=meta)


def fingerprint(records: Sequence[SearchRecord]) -> str:
    """Changes when anything indexed in the segment changes, or Pagefind does."""
    digest = hashlib.sha256(f"{FORMAT}\0{version('pagefind')}\0".encode())
    for record in sorted(records, key=lambda r: r.reference):
        for part in (record.reference, record.title, record.content,
                     json.dumps(dict(record.meta), sort_keys=True)):
            digest.update(part.encode())
            digest.update(b"\0")
    return digest.hexdigest()[:16]


def staged_html(record: SearchRecord) -> str:
    """The page Pagefind indexes for a record: the text, then the title and the reference
    (searchable too: a citizen may look up the number on their receipt), so an excerpt
    shows the citizen's words rather than the title."""
    meta = "".join(f' data-pagefind-meta="{html.escape(key)}:{html.escape(value)}"'
                   for key, value in sorted(record.meta.items()) if key != "title")
    return (f'<!doctype html><html lang="{INDEX_LANGUAGE}"><head><meta charset="utf-8">'
            f"<title>{html.escape(record.reference)}</title></head><body>"
            f"<main data-pagefind-body{meta}>"
            f"<p>{html.escape(record.content)}</p>"
            f'<h1 data-pagefind-meta="title">{html.escape(record.title)}</h1>'
            f"<p>{html.escape(record.reference)}</p></main></body></html>")


@dataclass(frozen=True)
class _Segment:
    name: str
    records: Sequence[SearchRecord]
    fingerprint: str
    rebuild: bool
    bytes: int = 0


def build_search_index(records: Iterable[SearchRecord], out_dir: Path, *,
                       segment_size: int = SEGMENT_SIZE,
                       recent_size: int = RECENT_SEGMENT_SIZE,
                       previous_dir: Path | None = None,
                       workers: int | None = None) -> SearchIndexReport:
    """Write the index of ``records`` to ``out_dir`` (``<site>/pagefind``).

    A segment whose fingerprint matches ``out_dir/segments.json`` from an earlier build
    is kept as it is; else one matching ``previous_dir/segments.json`` (the index of the
    site being replaced, for a publish into a new folder) is hard-linked from there (copied
    across file systems); the others are rebuilt, and segments with no records left are
    removed. ``workers`` indexers run at once (default: one per core)."""
    started = time.perf_counter()
    listed = list(records)
    newest = max((r.number // segment_size for r in listed), default=0)
    by_segment: dict[str, list[SearchRecord]] = defaultdict(list)
    for record in listed:
        by_segment[segment_of(record.number, newest, segment_size, recent_size)].append(record)
    out_dir.mkdir(parents=True, exist_ok=True)
    previous = _read_manifest(out_dir)
    older = _read_manifest(previous_dir) if previous_dir is not None else {}
    plan: list[_Segment] = []
    for name in sorted(by_segment, key=segment_order):
        chunk = by_segment[name]
        digest = fingerprint(chunk)
        here, there = previous.get(name), older.get(name)
        if here and here[0] == digest and (out_dir / name / "pagefind.js").is_file():
            plan.append(_Segment(name, chunk, digest, rebuild=False, bytes=here[1]))
        elif (there and there[0] == digest and previous_dir is not None
              and (previous_dir / name / "pagefind.js").is_file()):
            _link_tree(previous_dir / name, out_dir / name)
            plan.append(_Segment(name, chunk, digest, rebuild=False, bytes=there[1]))
        else:
            plan.append(_Segment(name, chunk, digest, rebuild=True))
    for name in set(previous) - set(by_segment):
        shutil.rmtree(out_dir / name, ignore_errors=True)
    # The manifest goes first, without the segments being rebuilt, so a build that dies
    # half way never leaves a manifest vouching for a segment it did not finish.
    _write_manifest(out_dir, [s for s in plan if not s.rebuild])
    sizes = _index_segments([(s.name, s.records) for s in plan if s.rebuild], out_dir,
                            workers or os.cpu_count() or 1)
    plan = [replace(s, bytes=sizes[s.name]) if s.rebuild else s for s in plan]
    _write_manifest(out_dir, plan)
    return SearchIndexReport(
        records=len(listed),
        segments=tuple(SegmentReport(s.name, len(s.records), s.fingerprint, s.rebuild,
                                     s.bytes) for s in plan),
        seconds=time.perf_counter() - started)


def _link_tree(source: Path, target: Path) -> None:
    def link(src: str, dst: str) -> None:
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)

    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target, copy_function=link)


def _read_manifest(out_dir: Path) -> dict[str, tuple[str, int]]:
    try:
        data: Any = json.loads((out_dir / MANIFEST).read_text(encoding="utf-8"))
        return {str(s["name"]): (str(s["fingerprint"]), int(s["bytes"]))
                for s in data["segments"]}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def manifest_json(segments: Iterable[tuple[str, int, str, int]]) -> str:
    """``segments.json``: (name, records, fingerprint, bytes) of each segment, in the order
    ``search.js`` loads them."""
    data = {"format": FORMAT, "language": INDEX_LANGUAGE,
            "segments": [{"name": name, "records": records, "fingerprint": fingerprint,
                          "bytes": size}
                         for name, records, fingerprint, size in sorted(
                             segments, key=lambda s: segment_order(s[0]))]}
    return json.dumps(data, indent=1) + "\n"


def _write_manifest(out_dir: Path, segments: Sequence[_Segment]) -> None:
    partial = out_dir / f".{MANIFEST}.new"
    partial.write_text(manifest_json((s.name, len(s.records), s.fingerprint, s.bytes)
                                     for s in segments), encoding="utf-8")
    partial.replace(out_dir / MANIFEST)


def _index_segments(segments: Sequence[tuple[str, Sequence[SearchRecord]]], out_dir: Path,
                    workers: int) -> dict[str, int]:
    """Build the segments, a few at a time; returns each one's size in bytes."""
    # One Pagefind process per segment; its indexer uses about one core.
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        futures = {name: pool.submit(_stage_and_index, name, chunk, out_dir)
                   for name, chunk in segments}
        return {name: future.result() for name, future in futures.items()}


def index_segment(name: str, records: Sequence[SearchRecord], out_dir: Path) -> int:
    """Index one segment into ``out_dir/name``; its size in bytes."""
    return _stage_and_index(name, records, out_dir)


def _stage_and_index(name: str, records: Sequence[SearchRecord], out_dir: Path) -> int:
    target = out_dir / name
    with tempfile.TemporaryDirectory(prefix=f"search-{name}-") as staging:
        root = Path(staging)
        for folder in {Path(record.url).parent for record in records}:
            (root / folder).mkdir(parents=True, exist_ok=True)
        for record in records:
            (root / record.url).write_text(staged_html(record), encoding="utf-8")
        building = out_dir / f".{name}.new"
        shutil.rmtree(building, ignore_errors=True)
        _pagefind(root, building)
    shutil.rmtree(target, ignore_errors=True)
    building.replace(target)
    return sum(path.stat().st_size for path in target.rglob("*") if path.is_file())


def _pagefind(site: Path, output: Path) -> None:
    """Pagefind's own command line, waited for to the end: the Python service stops the
    indexer as soon as it answers, which can leave files cut short. ``--force-language``
    keeps one index even if a staged page were to say otherwise."""
    done = subprocess.run(
        [str(_must_get_executable()), "--site", str(site), "--output-path", str(output),
         "--force-language", INDEX_LANGUAGE, "--quiet"],
        capture_output=True, text=True, check=False, timeout=3600)
    if done.returncode != 0:
        raise RuntimeError(f"pagefind failed ({done.returncode}): "
                           f"{(done.stderr or done.stdout).strip()[-2000:]}")
