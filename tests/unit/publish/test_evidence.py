"""The evidence archive: every file in the manifest with its SHA-256, the record adds up to
the database, and no file carries personal data (checked on both backends).

The consultation behind the database tests is built by ``consultation.py`` through the
real intake, decisions and publisher; the pure tests below it need no database.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import unicodedata
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, func, select

from config.catalogue import default_catalogue
from config.settings import Settings
from moderation.models import Comment, CommentStatus
from moderation.public import CommentPublic
from moderation.redaction import PLACEHOLDER
from publish.archive import load_evidence, write_evidence
from publish.evidence import (
    MANIFEST,
    CommentFacts,
    EvidenceInput,
    PublishedComment,
    build_archive,
    check_manifest,
    pack,
    timeline_rows,
    unpack,
)
from publish.urls import comment_page
from tests.unit.factories import SQLITE_ONLY
from tests.unit.publish.consultation import Consultation, build_consultation

ADDRESS = re.compile(r"[\w.%+\-]+@[\w\-]+(?:\.[\w\-]+)+")
NOW = datetime(2020, 10, 15, 12, 0, tzinfo=UTC)
SITE = "https://ogp.example.al/site/"


def fold(text: str) -> str:
    """Without case or accents, and with every run of spaces as one: how a name is looked for."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return " ".join(plain.split())


@pytest.fixture
def consultation(engine: Engine, settings: Settings) -> Consultation:
    return build_consultation(engine, settings.site_dir)


@pytest.fixture
def archive(engine: Engine, consultation: Consultation, tmp_path: Path) -> dict[str, bytes]:
    out = tmp_path / "evidence" / "record.zip"
    write_evidence(engine, default_catalogue(), out, time_zone="Europe/Tirane", site_url=SITE,
                   now=NOW)
    return {info.filename: zipfile.ZipFile(out).read(info)
            for info in zipfile.ZipFile(out).infolist()}


def rows(archive: dict[str, bytes], name: str) -> list[dict[str, object]]:
    value = json.loads(archive[name])
    assert isinstance(value, list)
    return value


def test_manifest_lists_every_file_with_its_sha256(archive: dict[str, bytes]) -> None:
    manifest = json.loads(archive[MANIFEST])
    listed = {entry["name"]: entry for entry in manifest["files"]}
    assert set(listed) == set(archive) - {MANIFEST}
    assert {"README.md", "comments.csv", "comments.json", "decisions.csv", "decisions.json",
            "responses.csv", "responses.json", "timeline.csv", "timeline.json",
            "statistics.json", "statistics.csv", "digest/digest.json",
            "digest/digest.html"} <= set(listed)
    for name, content in archive.items():
        if name != MANIFEST:
            assert listed[name]["sha256"] == hashlib.sha256(content).hexdigest(), name
            assert listed[name]["bytes"] == len(content), name
    assert manifest["generated_at"] == "2020-10-15T12:00:00+00:00"
    assert manifest["consultation"]["title_en"] == default_catalogue().title_en
    assert check_manifest(archive) == []
    # The check is able to fail: one changed byte, one file too many.
    assert check_manifest({**archive, "comments.csv": archive["comments.csv"] + b" "}) == [
        "comments.csv: SHA-256 or size differs from the manifest"]
    assert check_manifest({**archive, "extra.txt": b"x"}) == ["extra.txt: not in the manifest"]


def test_no_file_carries_personal_data(archive: dict[str, bytes],
                                       consultation: Consultation) -> None:
    secrets = dict.fromkeys(consultation.addresses, "a sender's or a written address")
    for name in consultation.names:
        secrets[name] = "a sender's display name"
        secrets[" ".join(reversed(name.split()))] = "a sender's display name, surname first"
    secrets.update(consultation.hidden)
    secrets.update(dict.fromkeys(consultation.message_ids, "a Message-ID"))
    secrets.update({"Message-ID": "a mail header", "Received:": "a mail header",
                    "Content-Type": "a mail header"})
    assert len(secrets) > 30
    for file_name, content in archive.items():
        text = content.decode("utf-8")
        assert ADDRESS.findall(text) == [], file_name
        folded = fold(text)
        found = {secret: why for secret, why in secrets.items() if fold(secret) in folded}
        assert found == {}, file_name

    # The scan can fail: the words that are published are there, with the placeholders.
    texts = {row["reference"]: str(row["text"]) for row in rows(archive, "comments.json")}
    signed = texts[consultation.ref("signed")]
    assert "TOKSIGNED" in signed
    # The published text comes redacted (safe by default); the archive's own rules add
    # nothing where nothing is left to hide.
    assert f"Shkruani edhe te {PLACEHOLDER}." in signed
    assert signed.endswith(f"Me respekt,\n{PLACEHOLDER}")
    assert texts[consultation.ref("form")].endswith(f"TOKFORM.\n\n{PLACEHOLDER}")
    assert texts[consultation.ref("oneword")].endswith(f"API.\n\n{PLACEHOLDER}")
    subjects = {row["reference"]: row["subject"] for row in rows(archive, "comments.json")}
    assert subjects[consultation.ref("signed")] == f"Buxheti i bashkisë, pyetje nga {PLACEHOLDER}"


def test_only_published_comments_are_in_comments(engine: Engine, archive: dict[str, bytes],
                                                 consultation: Consultation) -> None:
    with Session(engine) as session:
        published = session.exec(select(Comment.id).where(
            Comment.status == CommentStatus.PUBLISHED)).all()
    expected = sorted(consultation.references[i] for i in published)
    assert len(expected) == 4
    listed = rows(archive, "comments.json")
    assert [row["reference"] for row in listed] == expected
    by_ref = {row["reference"]: row for row in listed}
    edited = by_ref[consultation.ref("edited")]
    assert edited["edited"] is True
    assert edited["text"] == "Regjistri i pronarëve përfitues TOKEDITED duhet të jetë i hapur."
    assert by_ref[consultation.ref("form")]["channel"] == "form"
    assert by_ref[consultation.ref("signed")]["response_outcome"] == "adopted"
    assert by_ref[consultation.ref("form")]["response_id"] is None
    # The comment's own page on the public site: its permalink, by reference number.
    signed = consultation.ref("signed")
    assert by_ref[signed]["url"] == f"{SITE}{comment_page('sq', signed)}"
    assert by_ref[signed]["url"] == f"{SITE}sq/comments/000/{signed}.html"

    csv_refs = [line.split(",", 1)[0] for line in
                archive["comments.csv"].decode().splitlines()[1:] if line.startswith("OGP-")]
    assert csv_refs == expected


def test_decisions_carry_codes_and_their_wording_not_the_moderators_words(
    archive: dict[str, bytes], consultation: Consultation
) -> None:
    decisions = {row["reference"]: row for row in rows(archive, "decisions.json")}
    assert set(decisions) == {consultation.ref(name) for name in
                              ("signed", "edited", "form", "oneword", "rejected", "approved")}
    rejected = decisions[consultation.ref("rejected")]
    assert (rejected["decision"], rejected["status"], rejected["reason_code"]) == (
        "rejected", "rejected", "personal-data")
    assert rejected["reason_sq"] == "Përmban të dhëna personale që nuk mund të botohen"
    assert rejected["reason_en"] == "Contains personal data that cannot be published"
    approved = decisions[consultation.ref("approved")]
    assert (approved["decision"], approved["status"], approved["reason_code"],
            approved["published_at"]) == ("approved", "approved", None, None)
    assert decisions[consultation.ref("signed")]["status"] == "published"
    assert consultation.ref("pending") not in decisions


def test_responses_answer_published_comments_only(archive: dict[str, bytes],
                                                  consultation: Consultation) -> None:
    responses = rows(archive, "responses.json")
    assert [row["response_id"] for row in responses] == [consultation.response_ids["answer"]]
    [answer] = responses
    assert answer["comments"] == sorted([consultation.ref("signed"), consultation.ref("edited")])
    assert answer["text_sq"] == "Z. [name], faleminderit: buxheti do të publikohet TOKRESPONSE."
    assert answer["link"] == "https://ogp.example.al/plani/angazhimi-9"


def test_figures_add_up_to_the_database(engine: Engine, archive: dict[str, bytes],
                                        consultation: Consultation) -> None:
    with Session(engine) as session:
        by_status = dict(session.exec(
            select(Comment.status, func.count()).group_by(Comment.status)).all())
    figures = json.loads(archive["statistics.json"])
    assert figures["received"] == sum(by_status.values()) == 7
    assert {name: figures[name] for name in ("pending", "approved", "published", "rejected")} == {
        "pending": 1, "approved": 1, "published": 4, "rejected": 1}
    assert figures["rejected_by_reason"]["personal-data"] == 1
    assert sum(figures["rejected_by_reason"].values()) == figures["rejected"]
    assert figures["decided"] == 6
    assert figures["median_hours_from_receipt_to_decision"] >= 0
    assert figures["by_channel"] == {"form": 1, "imap": 6}
    assert figures["response_coverage"] == {
        "published": 4, "answered": 2, "share": 0.5,
        "by_outcome": {"adopted": 2, "partly-adopted": 0, "not-adopted": 0,
                       "out-of-scope": 0, "noted": 0}}
    timeline = rows(archive, "timeline.json")
    assert sum(int(str(day["received"])) for day in timeline) == 7
    assert sum(int(str(day["decided"])) for day in timeline) == 6
    assert sum(int(str(day["published"])) for day in timeline) == 4
    flat = dict(line.split(",", 1) for line in archive["statistics.csv"].decode().splitlines())
    assert flat["response_coverage.by_outcome.adopted"] == "2"


@SQLITE_ONLY
def test_two_runs_give_the_same_bytes_except_generated_at(
    engine: Engine, consultation: Consultation
) -> None:
    with Session(engine) as session:
        data = load_evidence(session, default_catalogue(), "Europe/Tirane", SITE)
    first = build_archive(data, NOW)
    with Session(engine) as session:
        again = build_archive(load_evidence(session, default_catalogue(), "Europe/Tirane",
                                            SITE), NOW + timedelta(days=1))
    assert {n: c for n, c in first.items() if n != MANIFEST} == {
        n: c for n, c in again.items() if n != MANIFEST}
    assert first[MANIFEST] != again[MANIFEST]
    assert json.loads(first[MANIFEST])["files"] == json.loads(again[MANIFEST])["files"]
    assert pack(first) == pack(build_archive(data, NOW))
    assert unpack(pack(first)) == first
    entries = zipfile.ZipFile(io.BytesIO(pack(first))).infolist()
    assert [e.filename for e in entries] == sorted(first)
    assert {e.date_time for e in entries} == {(1980, 1, 1, 0, 0, 0)}


@SQLITE_ONLY
def test_the_zip_is_replaced_whole(engine: Engine, consultation: Consultation,
                                   tmp_path: Path) -> None:
    out = tmp_path / "evidence" / "record.zip"
    out.parent.mkdir()
    out.write_bytes(b"an older archive")
    report = write_evidence(engine, default_catalogue(), out, time_zone="Europe/Tirane",
                            site_url=SITE, now=NOW)
    assert report.sha256 == hashlib.sha256(out.read_bytes()).hexdigest()
    assert (report.comments, report.decisions, report.responses) == (4, 6, 1)
    assert [p.name for p in out.parent.iterdir()] == ["record.zip"]  # no temp file left


# ---------------------------------------------------------------- pure


def fact(comment_id: int, received: datetime, status: str = "pending",
         decided: datetime | None = None, published: datetime | None = None,
         code: str | None = None) -> CommentFacts:
    return CommentFacts(comment_id=comment_id, inbound_id=comment_id, status=status,
                        language="sq", channel="imap", received_at=received, decided_at=decided,
                        published_at=published, reject_code=code)


def test_timeline_counts_local_days_and_keeps_empty_ones() -> None:
    # 23:30 UTC on 1 September is already 2 September in Tirana (UTC+2 in summer).
    facts = [
        fact(1, datetime(2020, 9, 1, 23, 30, tzinfo=UTC), "rejected",
             decided=datetime(2020, 9, 4, 8, 0, tzinfo=UTC)),
        fact(2, datetime(2020, 9, 1, 10, 0, tzinfo=UTC)),
    ]
    assert timeline_rows(facts, ZoneInfo("Europe/Tirane")) == [
        {"day": "2020-09-01", "received": 1, "decided": 0, "published": 0},
        {"day": "2020-09-02", "received": 1, "decided": 0, "published": 0},
        {"day": "2020-09-03", "received": 0, "decided": 0, "published": 0},
        {"day": "2020-09-04", "received": 0, "decided": 1, "published": 0},
    ]


def test_an_unknown_reason_code_reads_as_other_and_the_median_is_in_hours() -> None:
    start = datetime(2020, 9, 1, 8, 0, tzinfo=UTC)
    facts = [fact(1, start, "rejected", decided=start + timedelta(hours=2), code="gone-code"),
             fact(2, start, "rejected", decided=start + timedelta(hours=4), code=None),
             fact(3, start, "approved", decided=start + timedelta(hours=30))]
    files = build_archive(EvidenceInput(default_catalogue(), "Europe/Tirane", SITE, facts, ()),
                          NOW)
    figures = json.loads(files["statistics.json"])
    assert figures["rejected_by_reason"]["other"] == 2
    assert figures["median_hours_from_receipt_to_decision"] == 4.0
    assert [row["reason_code"] for row in json.loads(files["decisions.json"])] == [
        "other", "other", None]


def test_csv_cells_cannot_run_as_formulas_but_json_keeps_the_text() -> None:
    public = CommentPublic(id=1, reference="OGP-000001", subject="=HYPERLINK(\"http://x\")",
                           text="-1", display_html="<p>-1</p>",
                           language="sq", commitments=(), received_at=None,
                           published_at=NOW)
    data = EvidenceInput(default_catalogue(), "Europe/Tirane", SITE,
                         [fact(1, NOW, "published", decided=NOW, published=NOW)],
                         [PublishedComment(public, inbound_id=1, channel="imap", edited=False,
                                           sender_name="")])
    files = build_archive(data, NOW)
    assert "'=HYPERLINK" in files["comments.csv"].decode()
    assert ",'-1," in files["comments.csv"].decode()
    [row] = json.loads(files["comments.json"])
    assert (row["subject"], row["text"]) == ("=HYPERLINK(\"http://x\")", "-1")



def test_the_public_digest_counts_only_published_comments(archive: dict[str, bytes]) -> None:
    digest = json.loads(archive["digest/digest.json"])
    published = {row["reference"] for row in rows(archive, "comments.json")}
    assert digest["published"] == len(published)
    assert digest["rejected"] == 0
    # One standalone file, as the archive's reader opens it: inline CSS and charts, and
    # each quoted comment linked to its page on the public site.
    html = archive["digest/digest.html"].decode("utf-8")
    assert "<svg " in html
    assert "<style>" in html
    assert "<img" not in html
    assert "<link" not in html
    assert f'href="{SITE}sq/comments/' in html
