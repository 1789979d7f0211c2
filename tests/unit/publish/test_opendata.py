"""Open data: one row per published comment, the same bytes for the same comments, a CSV no
spreadsheet runs as formulas, and a Data Package that ``frictionless`` validates."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import frictionless
import pytest

from config.catalogue import default_catalogue
from intake.receipts import reference_for
from intake.sanitize import display_html
from moderation.public import CommentPublic, ResponsePublic
from publish import urls
from publish.opendata import (
    DATA_FIELDS,
    FIELD_NAMES,
    LICENSE_URL,
    comments_csv,
    comments_json,
    datapackage,
    neutralise,
    table_schema,
)

CATALOGUE = default_catalogue()
START = datetime(2020, 9, 2, 8, 0, tzinfo=UTC)
TRICKY_TEXT = (
    'Ai tha: "Buxheti, i vitit 2021, s\'është publikuar."\n'
    "Rreshti i dytë; me presje, thonjëza \"dyfishe\" dhe shkronja ë, ç, Ë, Ç.\r\n"
    "=cmd|' /C calc'!A0"
)


def comment(comment_id: int, *, published: datetime | None = START, subject: str = "Koment",
            text: str = "Propozim për portalin.", commitments: tuple[str, ...] = ("4",),
            author: str | None = None, response: ResponsePublic | None = None,
            received: datetime | None = START - timedelta(days=1)) -> CommentPublic:
    return CommentPublic(
        id=comment_id, reference=reference_for(comment_id + 100), subject=subject,
        text=text, display_html=display_html(text), language="sq", commitments=commitments,
        received_at=received, published_at=published, author=author, response=response,
    )


RESPONSE = ResponsePublic(
    outcome="accepted", outcome_sq="Pranuar", outcome_en="Accepted",
    text_sq="Faleminderit, propozimi u përfshi në planin përfundimtar.",
    text_en="Thank you, the proposal is in the final plan.", link="https://qeverisja.al/plan",
)


def sample() -> list[CommentPublic]:
    return [
        comment(3, published=START + timedelta(hours=2), subject="=HYPERLINK(\"x\")",
                text=TRICKY_TEXT, commitments=("1", "4"), author="Arbër Çela"),
        comment(1, commitments=("general",), response=RESPONSE),
        comment(2, published=START, subject="+355 numri", text="-1 për këtë", commitments=()),
    ]


def read_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_one_csv_row_per_comment_in_publication_order() -> None:
    records = read_csv(comments_csv(sample(), CATALOGUE))
    assert [r["reference"] for r in records] == ["OGP-000101", "OGP-000102", "OGP-000103"]
    assert list(records[0]) == list(FIELD_NAMES)


def test_csv_values() -> None:
    first, second, third = read_csv(comments_csv(sample(), CATALOGUE))
    assert first["commitments"] == "general"
    assert first["commitment_titles_en"] == CATALOGUE.general.title_en
    assert first["published_at"] == "2020-09-02T08:00:00Z"
    assert first["received_at"] == "2020-09-01"
    assert (first["response_outcome"], first["response_text_en"], first["response_link"]) == (
        "accepted", RESPONSE.text_en, RESPONSE.link)
    assert first["page_url_sq"] == urls.comment_page("sq", "OGP-000101")
    assert first["page_url_en"] == urls.comment_page("en", "OGP-000101")
    assert first["author"] == ""
    assert second["author"] == ""
    assert third["commitments"] == "1;4"
    assert third["commitment_titles_sq"] == " | ".join(
        CATALOGUE.label(i).title_sq for i in ("1", "4"))
    assert third["author"] == "Arbër Çela"


def test_csv_neutralises_formulas_and_keeps_tricky_text() -> None:
    _, second, third = read_csv(comments_csv(sample(), CATALOGUE))
    assert third["subject"] == "'=HYPERLINK(\"x\")"
    assert third["text"] == TRICKY_TEXT  # starts with a letter: unchanged
    assert "\n=cmd|" in third["text"]  # mid-cell: not a formula, kept as written
    assert second["subject"] == "'+355 numri"
    assert second["text"] == "'-1 për këtë"


@pytest.mark.parametrize(("value", "shown"), [
    ("=cmd()", "'=cmd()"), ("+1", "'+1"), ("-2", "'-2"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=1", "'\t=1"), ("Tiranë = qendra", "Tiranë = qendra"), ("", "")])
def test_neutralise(value: str, shown: str) -> None:
    assert neutralise(value) == shown


def test_json_keeps_text_as_written_in_the_same_order() -> None:
    records = json.loads(comments_json(sample(), CATALOGUE))
    assert [r["reference"] for r in records] == ["OGP-000101", "OGP-000102", "OGP-000103"]
    assert [list(r) for r in records] == [list(FIELD_NAMES)] * 3
    assert records[2]["subject"] == "=HYPERLINK(\"x\")"
    assert records[2]["text"] == TRICKY_TEXT
    assert records[0]["comment_id"] == 1
    assert records[1]["author"] is None
    assert records[1]["response_outcome"] is None


def test_same_comments_give_identical_text() -> None:
    comments = sample()
    shuffled = [comments[1], comments[2], comments[0]]
    assert comments_csv(comments, CATALOGUE) == comments_csv(shuffled, CATALOGUE)
    assert comments_json(comments, CATALOGUE) == comments_json(shuffled, CATALOGUE)
    assert datapackage(CATALOGUE) == datapackage(CATALOGUE)


def test_site_url_makes_page_urls_absolute() -> None:
    records = json.loads(comments_json(sample(), CATALOGUE, site_url="https://ogp.example.al/"))
    assert records[0]["page_url_en"] == (
        "https://ogp.example.al/" + urls.comment_page("en", "OGP-000101"))


def test_no_comments_is_a_header_and_an_empty_array() -> None:
    assert comments_csv([], CATALOGUE) == ",".join(FIELD_NAMES) + "\r\n"
    assert json.loads(comments_json([], CATALOGUE)) == []


def test_the_schema_is_the_data_dictionary() -> None:
    schema = table_schema()
    assert [f["name"] for f in schema["fields"]] == list(FIELD_NAMES)  # type: ignore[attr-defined]
    assert schema["primaryKey"] == ["reference"]
    for field in DATA_FIELDS:
        assert field.description_sq
        assert field.description_en
    text = next(f for f in DATA_FIELDS if f.name == "text")
    assert "apostrof" in text.description("sq")
    assert "apostrophe" in text.description("en")


def test_datapackage_describes_the_files_and_the_licence() -> None:
    package = json.loads(datapackage(CATALOGUE))
    assert package["licenses"][0]["name"] == "CC-BY-4.0"
    assert package["licenses"][0]["path"] == LICENSE_URL
    assert CATALOGUE.title_en in package["title"]
    assert [r["path"] for r in package["resources"]] == ["comments.csv", "comments.json"]


def write_site_data(folder: Path, comments: list[CommentPublic]) -> Path:
    """The three files where the publisher puts them (``publish.urls``)."""
    for path, content in ((urls.DATA_CSV, comments_csv(comments, CATALOGUE)),
                          (urls.DATA_JSON, comments_json(comments, CATALOGUE)),
                          (urls.DATA_PACKAGE, datapackage(CATALOGUE))):
        target = folder / path
        target.parent.mkdir(parents=True, exist_ok=True)
        # newline="": the CSV's own CRLF line ends are written as they are.
        target.write_text(content, encoding="utf-8", newline="")
    return folder / urls.DATA_PACKAGE


def test_frictionless_validates_the_package(tmp_path: Path) -> None:
    comments = [*sample(), *(comment(i, published=START + timedelta(minutes=i),
                                     text=f"Komenti {i}, me \"thonjëza\"\nnë dy rreshta")
                             for i in range(10, 40))]
    report = frictionless.validate(str(write_site_data(tmp_path, comments)))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])
    assert [task.stats["rows"] for task in report.tasks] == [len(comments), len(comments)]


def test_frictionless_finds_a_duplicate_reference(tmp_path: Path) -> None:
    """The check can fail: two rows with one reference break the primary key."""
    duplicate = comment(1).model_copy(update={"id": 99})
    report = frictionless.validate(str(write_site_data(tmp_path, [*sample(), duplicate])))
    assert not report.valid
    assert "primary-key" in {error[0] for error in report.flatten(["type"])}
