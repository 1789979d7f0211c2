"""Open data: the published comments as CSV and JSON, and the Data Package describing them.

Pure: comments and the catalogue in, text out; no clock, no files. The same comments give
the same text (rows by publication date then id, keys in ``DATA_FIELDS`` order), so the
publisher rewrites a file only when the data changes. Only ``CommentPublic`` fields are
used: no address, no raw text, no moderator ever reaches the data.

``DATA_FIELDS`` is the one data dictionary: the data page renders it and the Table Schema
of ``datapackage.json`` is built from it.
"""

from __future__ import annotations

import csv
import io
import json
import posixpath
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from config.catalogue import Catalogue
from moderation.public import CommentPublic
from publish import urls

FieldType = Literal["string", "integer", "date", "datetime"]

LICENSE_NAME = "CC-BY-4.0"
LICENSE_TITLE = "Creative Commons Attribution 4.0 International"
LICENSE_URL = "https://creativecommons.org/licenses/by/4.0/"
PACKAGE_NAME = "ogp-albania-2020-2022-feedback"
# Several commitments in one cell: "1;4". Titles may contain ";", so they are joined by " | ".
ID_SEPARATOR = ";"
TITLE_SEPARATOR = " | "
# Spreadsheets run a cell that starts with one of these as a formula (OWASP "CSV
# injection"); the CSV prefixes such a cell with an apostrophe, the JSON keeps it as written.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
FORMULA_GUARD = "'"

_NEUTRALISED_SQ = (
    " Në CSV, një qelizë që nis me =, +, -, @ ose tabulim merr përpara një apostrof (') që"
    " tabelat elektronike të mos e ekzekutojnë si formulë; JSON-i e ruan tekstin siç është."
)
_NEUTRALISED_EN = (
    " In the CSV, a cell that starts with =, +, -, @ or a tab is prefixed with an apostrophe"
    " (') so spreadsheets do not run it as a formula; the JSON keeps the text as written."
)


@dataclass(frozen=True)
class DataField:
    """One column of the open data, described in both languages."""

    name: str
    type: FieldType
    description_sq: str
    description_en: str
    required: bool = False
    # Free text written by a citizen or the secretariat: neutralised in the CSV.
    free_text: bool = False

    def description(self, language: urls.Language) -> str:
        base = self.description_sq if language == "sq" else self.description_en
        if not self.free_text:
            return base
        return base + (_NEUTRALISED_SQ if language == "sq" else _NEUTRALISED_EN)


DATA_FIELDS: tuple[DataField, ...] = (
    DataField("reference", "string",
              "Numri i referencës së komentit (si në konfirmimin e marrjes), p.sh. OGP-000123.",
              "The comment's reference number (as on the receipt), e.g. OGP-000123.",
              required=True),
    DataField("comment_id", "integer",
              "Numri i brendshëm i komentit.",
              "The comment's internal number.",
              required=True),
    DataField("published_at", "datetime",
              "Data dhe ora e publikimit (UTC, ISO 8601).",
              "Date and time of publication (UTC, ISO 8601)."),
    DataField("received_at", "date",
              "Data kur u mor komenti (UTC).",
              "Date the comment was received (UTC)."),
    DataField("language", "string",
              "Gjuha në të cilën u shkrua komenti (kod ISO 639-1, p.sh. sq, en).",
              "Language the comment was written in (ISO 639-1 code, e.g. sq, en)."),
    DataField("subject", "string",
              "Subjekti i komentit, me të dhënat personale të hequra.",
              "The comment's subject, with personal data removed.",
              free_text=True),
    DataField("text", "string",
              "Teksti i publikuar i komentit, me të dhënat personale të hequra"
              " (adresat e e-mailit zëvendësohen me [e-mail]).",
              "The comment's published text, with personal data removed"
              " (e-mail addresses replaced by [e-mail]).",
              free_text=True),
    DataField("commitments", "string",
              "Angazhimet e planit me të cilat lidhet komenti, të ndara me \";\""
              " (p.sh. 1;4), ose \"general\" për komentet e përgjithshme.",
              "The plan's commitments the comment is about, separated by \";\" (e.g. 1;4),"
              " or \"general\" for general comments."),
    DataField("commitment_titles_sq", "string",
              "Titujt në shqip të angazhimeve, në të njëjtën radhë, të ndarë me \" | \".",
              "The commitments' titles in Albanian, in the same order, separated by \" | \"."),
    DataField("commitment_titles_en", "string",
              "Titujt në anglisht të angazhimeve, në të njëjtën radhë, të ndarë me \" | \".",
              "The commitments' titles in English, in the same order, separated by \" | \"."),
    DataField("author", "string",
              "Emri i autorit kur ai ka pranuar ta publikojë; bosh për komentet anonime.",
              "The author's name when they agreed to its publication; empty when anonymous.",
              free_text=True),
    DataField("response_outcome", "string",
              "Përgjigjja e sekretariatit: si u trajtua komenti (kod); bosh pa përgjigje.",
              "The secretariat's response: how the comment was taken up (a code);"
              " empty without a response."),
    DataField("response_text_sq", "string",
              "Teksti i përgjigjes në shqip.",
              "The response's text in Albanian.",
              free_text=True),
    DataField("response_text_en", "string",
              "Teksti i përgjigjes në anglisht.",
              "The response's text in English.",
              free_text=True),
    DataField("response_link", "string",
              "Lidhja që jep përgjigjja (p.sh. te dokumenti i ndryshuar), nëse ka.",
              "The link the response gives (e.g. to the amended document), if any."),
    DataField("campaign_id", "integer",
              "Fushata (letra pothuajse të njëjta) ku bën pjesë komenti: faqja e saj është"
              " campaigns/<campaign_id>.html; bosh kur komenti botohet më vete. Një anëtar"
              " i fushatës botohet me tekstin e fushatës dhe vetëm me fjalitë e veta të"
              " miratuara.",
              "The campaign (near-identical letters) the comment belongs to: its page is"
              " campaigns/<campaign_id>.html; empty when the comment is published on its"
              " own. A campaign's member is published with the campaign's text and only its"
              " own sentences that were approved."),
    DataField("page_url_sq", "string",
              "Faqja e komentit në shqip.",
              "The comment's page in Albanian."),
    DataField("page_url_en", "string",
              "Faqja e komentit në anglisht.",
              "The comment's page in English."),
)

FIELD_NAMES: tuple[str, ...] = tuple(field.name for field in DATA_FIELDS)
PRIMARY_KEY = "reference"

Row = dict[str, str | int | None]


def _utc(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; the pipeline stores UTC.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _epoch() -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC)


def in_order(comments: Sequence[CommentPublic]) -> list[CommentPublic]:
    """Oldest published first, then by id: the same comments always in the same order."""
    return sorted(comments, key=lambda c: (_utc(c.published_at or c.received_at or _epoch()),
                                           c.id))


def _page_url(path: str, site_url: str) -> str:
    return site_url.rstrip("/") + "/" + path if site_url else path


def row(comment: CommentPublic, catalogue: Catalogue, *, site_url: str = "",
        campaign_id: int | None = None) -> Row:
    """One comment as a record, keys in ``DATA_FIELDS`` order; ``None`` where it has no value."""
    labels = []
    for label_id in comment.commitments:
        try:
            labels.append(catalogue.label(label_id))
        except KeyError:
            continue  # a label retired from the catalogue: its id stays, it has no title
    response = comment.response
    record: Row = {
        "reference": comment.reference,
        "comment_id": comment.id,
        "published_at": (_utc(comment.published_at).strftime("%Y-%m-%dT%H:%M:%SZ")
                         if comment.published_at else None),
        "received_at": (_utc(comment.received_at).date().isoformat()
                        if comment.received_at else None),
        "language": comment.language or None,
        "subject": comment.subject,
        "text": comment.text,
        "commitments": ID_SEPARATOR.join(comment.commitments) or None,
        "commitment_titles_sq": TITLE_SEPARATOR.join(label.title_sq for label in labels) or None,
        "commitment_titles_en": TITLE_SEPARATOR.join(label.title_en for label in labels) or None,
        "author": comment.author or None,
        "response_outcome": response.outcome if response else None,
        "response_text_sq": (response.text_sq or None) if response else None,
        "response_text_en": (response.text_en or None) if response else None,
        "response_link": (response.link or None) if response else None,
        "campaign_id": campaign_id,
        "page_url_sq": _page_url(urls.comment_page("sq", comment.reference), site_url),
        "page_url_en": _page_url(urls.comment_page("en", comment.reference), site_url),
    }
    assert tuple(record) == FIELD_NAMES  # the dictionary and the data never drift apart
    return record


def rows(comments: Sequence[CommentPublic], catalogue: Catalogue, *,
         site_url: str = "", campaigns: Mapping[int, int] | None = None) -> list[Row]:
    """``campaigns``: the campaign of each comment that belongs to a shown one."""
    of = campaigns or {}
    return [row(comment, catalogue, site_url=site_url, campaign_id=of.get(comment.id))
            for comment in in_order(comments)]


def neutralise(value: str) -> str:
    """A CSV cell a spreadsheet will show, not run: "=cmd()" -> "'=cmd()"."""
    return FORMULA_GUARD + value if value.startswith(FORMULA_START) else value


def csv_header() -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(FIELD_NAMES)
    return buffer.getvalue()


def csv_rows(comments: Sequence[CommentPublic], catalogue: Catalogue, *,
             site_url: str = "", campaigns: Mapping[int, int] | None = None) -> str:
    """The CSV lines of ``comments`` without the header: a publisher may build the file
    from parts it kept (``csv_header() + part + part ...``)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for record in rows(comments, catalogue, site_url=site_url, campaigns=campaigns):
        writer.writerow([
            "" if value is None else neutralise(value) if isinstance(value, str) else value
            for value in record.values()
        ])
    return buffer.getvalue()


def comments_csv(comments: Sequence[CommentPublic], catalogue: Catalogue, *,
                 site_url: str = "", campaigns: Mapping[int, int] | None = None) -> str:
    """RFC 4180 CSV (CRLF line ends, fields quoted when needed), a header row of
    ``FIELD_NAMES``, one row per comment; empty cell for a missing value."""
    return csv_header() + csv_rows(comments, catalogue, site_url=site_url, campaigns=campaigns)


def json_rows(comments: Sequence[CommentPublic], catalogue: Catalogue, *,
              site_url: str = "", campaigns: Mapping[int, int] | None = None) -> list[str]:
    """One JSON object per comment, one line each (parts of ``json_array``)."""
    return [json.dumps(record, ensure_ascii=False)
            for record in rows(comments, catalogue, site_url=site_url, campaigns=campaigns)]


def json_array(lines: Sequence[str]) -> str:
    """A JSON array with one record per line: valid JSON, and easy to read line by line."""
    return "[\n" + ",\n".join(lines) + "\n]\n" if lines else "[]\n"


def comments_json(comments: Sequence[CommentPublic], catalogue: Catalogue, *,
                  site_url: str = "", campaigns: Mapping[int, int] | None = None) -> str:
    """A JSON array of records (keys in ``FIELD_NAMES`` order, ``null`` for a missing
    value), one per comment, text as written."""
    return json_array(json_rows(comments, catalogue, site_url=site_url, campaigns=campaigns))


def table_schema() -> dict[str, object]:
    """The Table Schema (Frictionless) of the CSV and JSON, built from ``DATA_FIELDS``."""
    fields: list[dict[str, object]] = []
    for field in DATA_FIELDS:
        spec: dict[str, object] = {
            "name": field.name,
            "type": field.type,
            "description": field.description("en"),
        }
        if field.type == "datetime":
            spec["format"] = "%Y-%m-%dT%H:%M:%SZ"
        if field.required:
            spec["constraints"] = {"required": True}
        fields.append(spec)
    return {"fields": fields, "primaryKey": [PRIMARY_KEY], "missingValues": [""]}


def _in_data_folder(path: str) -> str:
    return posixpath.relpath(path, posixpath.dirname(urls.DATA_PACKAGE))


def datapackage(catalogue: Catalogue, *, site_url: str = "") -> str:
    """``datapackage.json`` (Frictionless Data Package) for the files beside it in data/."""
    schema = table_schema()
    licence = {"name": LICENSE_NAME, "title": LICENSE_TITLE, "path": LICENSE_URL}
    description = (
        "Citizens' comments on the consultation draft of " + catalogue.title_en
        + ", as published after moderation (personal data removed), with the secretariat's"
        " responses where they exist. / Komentet e qytetarëve për " + catalogue.title_sq
        + ", siç u publikuan pas moderimit (pa të dhëna personale), me përgjigjet e"
        " sekretariatit kur ka."
    )
    package: dict[str, object] = {
        "profile": "tabular-data-package",
        "name": PACKAGE_NAME,
        "title": "Public consultation: " + catalogue.title_en,
        "description": description,
        "licenses": [licence],
        "resources": [
            {
                "name": "comments-csv",
                "path": _in_data_folder(urls.DATA_CSV),
                "profile": "tabular-data-resource",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "description": "The published comments, one row each." + _NEUTRALISED_EN,
                "licenses": [licence],
                "schema": schema,
            },
            {
                "name": "comments-json",
                "path": _in_data_folder(urls.DATA_JSON),
                "profile": "tabular-data-resource",
                "format": "json",
                "mediatype": "application/json",
                "encoding": "utf-8",
                "description": "The same comments as a JSON array of records, text as written.",
                "licenses": [licence],
                "schema": schema,
            },
        ],
    }
    if site_url:
        package["homepage"] = site_url.rstrip("/") + "/" + urls.data_page("en")
    return json.dumps(package, ensure_ascii=False, indent=2) + "\n"
