"""The search index: what Pagefind writes, and which segments a republish rebuilds."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import jinja2
import pytest

from intake.receipts import reference_for
from moderation.public import CommentPublic
from publish import urls
from publish.search import (
    SearchRecord,
    build_search_index,
    record_for,
    segment_of,
    staged_html,
)

TEMPLATES = Path(__file__).resolve().parents[3] / "publish" / "templates"


def record(number: int, content: str, title: str = "Koment") -> SearchRecord:
    reference = reference_for(number)
    return SearchRecord(reference=reference, title=title, content=content,
                        meta={"reference": reference, "date": "2026-11-28"})


RECORDS = [
    record(1, "Përgjegjshmëria e qeverisë ndaj qytetarëve duhet të matet.", "Qeverisja"),
    record(2, "The open data portal should publish procurement data as CSV."),
    record(3, "Buxheti i bashkisë nuk botohet kurrë në kohë."),
    record(1234, "Regjistri i pronarëve përfitues duhet të jetë i hapur."),
]


def test_a_record_links_to_the_albanian_comment_page() -> None:
    assert RECORDS[3].url == "sq/comments/001/OGP-001234.html"
    assert RECORDS[3].number == 1234


def test_segments_are_sealed_blocks_then_small_recent_ones() -> None:
    # While 10,000-19,999 is the newest block, its numbers go in segments of 1,000 ...
    assert segment_of(12_345, newest_block=1) == "seg-1-2"
    assert segment_of(9_999, newest_block=1) == "seg-0"
    # ... and once a newer block exists, the block is one sealed segment.
    assert segment_of(12_345, newest_block=2) == "seg-1"
    assert segment_of(999, newest_block=0) == "seg-0-0"


def test_a_comment_becomes_a_plain_text_record() -> None:
    comment = CommentPublic(
        id=7, reference="OGP-000007", subject="", text="Teksti <b>i</b> qytetarit",
        display_html="<p>Teksti</p>", language="sq", commitments=("1",),
        received_at=datetime(2026, 3, 1, tzinfo=UTC),
        published_at=datetime(2026, 3, 2, 9, tzinfo=UTC))
    assert record_for(comment) == SearchRecord(
        reference="OGP-000007", title="OGP-000007", content="Teksti <b>i</b> qytetarit",
        meta={"reference": "OGP-000007", "date": "2026-03-02"})


def test_staged_page_escapes_what_the_citizen_wrote() -> None:
    page = staged_html(record(5, '<script>alert("x")</script> & "quotes"', title="<b>T</b>"))
    assert "<script>" not in page
    assert "&lt;script&gt;" in page
    assert '<h1 data-pagefind-meta="title">&lt;b&gt;T&lt;/b&gt;</h1>' in page
    assert 'data-pagefind-meta="date:2026-11-28"' in page


def test_index_is_written_with_one_language_and_a_manifest(tmp_path: Path) -> None:
    out = tmp_path / urls.SEARCH_INDEX_DIR
    report = build_search_index(RECORDS, out, segment_size=1000, recent_size=100)

    assert report.records == 4
    assert [(s.name, s.records, s.rebuilt) for s in report.segments] == [
        ("seg-0", 3, True), ("seg-1-2", 1, True)]
    manifest = json.loads((out / "segments.json").read_text(encoding="utf-8"))
    assert manifest["language"] == "sq"
    assert [s["name"] for s in manifest["segments"]] == ["seg-0", "seg-1-2"]
    assert [s["bytes"] for s in manifest["segments"]] == [s.bytes for s in report.segments]
    for segment in ("seg-0", "seg-1-2"):
        bundle = out / segment
        for name in ("pagefind.js", "pagefind-worker.js", "pagefind-entry.json"):
            assert (bundle / name).is_file(), f"{segment}/{name}"
        entry = json.loads((bundle / "pagefind-entry.json").read_text(encoding="utf-8"))
        # One index for both page languages: the English search page falls back to it.
        assert set(entry["languages"]) == {"sq"}
        assert any(bundle.glob("wasm.*.pagefind"))
        assert any((bundle / "fragment").iterdir())
    counts = {segment: json.loads((out / segment / "pagefind-entry.json")
                                  .read_text(encoding="utf-8"))["languages"]["sq"]["page_count"]
              for segment in ("seg-0", "seg-1-2")}
    assert counts == {"seg-0": 3, "seg-1-2": 1}
    assert report.bytes > 0
    # No staging or half-built folder is left behind.
    assert sorted(p.name for p in out.iterdir()) == ["seg-0", "seg-1-2", "segments.json"]


def test_republish_rebuilds_only_the_segment_that_changed(tmp_path: Path) -> None:
    out = tmp_path / "pagefind"
    build_search_index(RECORDS, out, segment_size=1000, recent_size=100)
    kept = (out / "seg-0" / "pagefind-entry.json").stat().st_mtime_ns

    changed = [*RECORDS[:3], replace(RECORDS[3], content="Teksti u ndryshua.")]
    report = build_search_index(changed, out, segment_size=1000, recent_size=100)
    assert [(s.name, s.rebuilt) for s in report.segments] == [
        ("seg-0", False), ("seg-1-2", True)]
    assert (out / "seg-0" / "pagefind-entry.json").stat().st_mtime_ns == kept
    assert report.bytes == sum(s.bytes for s in report.segments) > 0

    report = build_search_index(changed, out, segment_size=1000, recent_size=100)
    assert report.rebuilt == 0

    # A comment in a new block seals the block before it (one rebuild, then kept).
    report = build_search_index([*changed, record(2001, "E reja.")], out,
                                segment_size=1000, recent_size=100)
    assert [(s.name, s.rebuilt) for s in report.segments] == [
        ("seg-0", False), ("seg-1", True), ("seg-2-0", True)]

    # Withdrawn comments: their segments go.
    report = build_search_index(changed[:3], out, segment_size=1000, recent_size=100)
    assert [s.name for s in report.segments] == ["seg-0-0"]
    assert sorted(p.name for p in out.iterdir()) == ["seg-0-0", "segments.json"]


def test_a_new_site_folder_reuses_the_previous_sites_segments(tmp_path: Path) -> None:
    old = tmp_path / "old" / "pagefind"
    build_search_index(RECORDS, old, segment_size=1000, recent_size=100)
    new = tmp_path / "new" / "pagefind"
    changed = [*RECORDS[:3], replace(RECORDS[3], content="Teksti u ndryshua.")]
    report = build_search_index(changed, new, segment_size=1000, recent_size=100,
                                previous_dir=old)
    assert [(s.name, s.rebuilt) for s in report.segments] == [
        ("seg-0", False), ("seg-1-2", True)]
    kept = new / "seg-0" / "pagefind-entry.json"
    assert kept.stat().st_ino == (old / "seg-0" / "pagefind-entry.json").stat().st_ino
    # The old site is untouched: its changed segment still holds the old text.
    assert (old / "seg-1-2").is_dir()
    assert build_search_index(changed, new, segment_size=1000, recent_size=100).rebuilt == 0


@pytest.mark.parametrize(("language", "label"), [("sq", "Kërko"), ("en", "Search")])
def test_search_body_has_the_form_the_script_reads(language: str, label: str) -> None:
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES),
                                     autoescape=True)
    body = environment.get_template("_search_body.html").render(language=language,
                                                                 root="../")
    assert '<form id="search-form" role="search" method="get">' in body
    assert '<input type="search" id="search-q" name="q"' in body
    assert '<ol id="results"></ol>' in body
    assert 'role="status" aria-live="polite"' in body
    assert f">{label}</button>" in body
    # The only script is the module from the site's assets: nothing inline.
    assert body.count("<script") == 1
    assert f'<script type="module" src="../{urls.SEARCH_SCRIPT}"></script>' in body
    assert (TEMPLATES / "search.js").is_file()
