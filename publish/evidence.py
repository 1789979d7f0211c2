"""The consultation's record for the OGP review: plain rows in, the archive's files out.

Pure: no database, no clock, no files (``publish.archive`` loads the rows and writes
the zip). What the Independent Reporting Mechanism asks for is evidence of what was
received and how it was answered, so the archive has the published comments, every
decision with its reason code, the responses, a day-by-day timeline and the figures.

It must never carry personal data: no sender address, no sender name, nothing the
public view hides (trimmed quotes and signatures, a moderator's cuts), no word of a
comment that is not published, no moderator's name, no free-text rejection reason
(it was written to the citizen, not to the public), no raw mail, no audit log.
Comment words come only from the public view (``moderation.public``), then pass
through ``redact_email_addresses`` and ``NameIndex`` once more.

Output is deterministic: rows sorted, JSON and CSV written one way, zip entries in
name order with a fixed timestamp, so two runs over the same data give the same
bytes except ``generated_at`` in ``manifest.json``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import statistics
import zipfile
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from config.catalogue import Catalogue
from intake.htmltext import html_to_text
from intake.receipts import reference_for
from moderation.models import CommentStatus, RejectCode, ResponseOutcome
from moderation.privacy import NameIndex, redact_email_addresses
from moderation.public import CommentPublic
from moderation.reasons import REJECT_REASONS, RejectReason
from publish.urls import comment_page

FORMAT = "ogp-feedback evidence archive, version 1"
MANIFEST = "manifest.json"
README = "README.md"
# Zip's epoch: every entry gets it, so the archive's bytes do not depend on the clock.
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_BLANK_LINES = re.compile(r"\n\s*\n\s*")
# A moderator's decision, as the digest counts it (a withdrawal is not one).
DECIDED: dict[str, str] = {
    CommentStatus.APPROVED: "approved",
    CommentStatus.PUBLISHED: "approved",
    CommentStatus.REJECTED: "rejected",
}


# ---------------------------------------------------------------- the rows it is given

@dataclass(frozen=True)
class CommentFacts:
    """What any comment, published or not, adds to the counts: no word of it."""

    comment_id: int
    inbound_id: int
    status: str
    language: str
    channel: str
    received_at: datetime  # when the message reached us, not the date it claims
    decided_at: datetime | None
    published_at: datetime | None
    reject_code: str | None


@dataclass(frozen=True)
class PublishedComment:
    """A published comment as the public site shows it, plus what the record adds.

    ``sender_name`` is private: it is only used to hide the name where the citizen
    wrote it into the text (a signature), and is never written out.
    """

    public: CommentPublic
    inbound_id: int
    channel: str
    edited: bool
    sender_name: str


@dataclass(frozen=True)
class ResponseRow:
    id: int
    outcome: str
    text_sq: str
    text_en: str
    link: str | None
    created_at: datetime
    updated_at: datetime
    version: int
    comment_ids: tuple[int, ...]


@dataclass(frozen=True)
class EvidenceInput:
    catalogue: Catalogue
    time_zone: str
    site_url: str
    facts: Sequence[CommentFacts]
    published: Sequence[PublishedComment]
    responses: Sequence[ResponseRow] = ()
    # Every sender's display name in the database (any status), hidden wherever written.
    sender_names: Iterable[str] = ()
    # Files made elsewhere (the public digests), by archive path.
    extra_files: Mapping[str, bytes] = field(default_factory=dict)


# ---------------------------------------------------------------- the files and their columns

@dataclass(frozen=True)
class Column:
    name: str
    description: str


COMMENT_COLUMNS = (
    Column("reference", "the number on the citizen's receipt (OGP-000123)"),
    Column("public_number", "the number shown on the public site (#123)"),
    Column("url", "the comment on the public site"),
    Column("received_at", "when it reached the consultation, UTC"),
    Column("published_at", "when it was first published, UTC"),
    Column("language", "sq, en, mixed or und (undetermined)"),
    Column("channel", "imap (the inbox), import (a mailbox import) or form (the contact form)"),
    Column("commitments", "the commitments it is about, most relevant first "
                          "(ids as in the list below; `general` for the plan as a whole)"),
    Column("subject", "the subject as published"),
    Column("text", "the text as published, as plain text"),
    Column("edited", "true when a moderator edited the text before publication"),
    Column("response_id", "the response that answers it (see responses), if any"),
    Column("response_outcome", "that response's outcome"),
)
DECISION_COLUMNS = (
    Column("reference", "the comment's receipt number"),
    Column("decision", "approved or rejected"),
    Column("status", "where the comment is now: approved (to be published), published "
                     "or rejected"),
    Column("reason_code", "why it was rejected, one of the codes below"),
    Column("reason_sq", "that reason as the citizen read it, in Albanian"),
    Column("reason_en", "that reason as the citizen read it, in English"),
    Column("received_at", "when the comment reached the consultation, UTC"),
    Column("decided_at", "when the decision was taken, UTC"),
    Column("published_at", "when it was published, UTC"),
)
RESPONSE_COLUMNS = (
    Column("response_id", "the response's number"),
    Column("outcome", "adopted, partly-adopted, not-adopted, out-of-scope or noted"),
    Column("text_sq", "the explanation in Albanian"),
    Column("text_en", "the explanation in English"),
    Column("link", "the commitment text that changed, if given"),
    Column("comments", "the published comments it answers (receipt numbers)"),
    Column("created_at", "when it was first written, UTC"),
    Column("updated_at", "when it was last changed, UTC"),
    Column("version", "1, plus one for every later edit"),
)
TIMELINE_COLUMNS = (
    Column("day", "a calendar day in the consultation's time zone"),
    Column("received", "comments sent that day"),
    Column("decided", "comments approved or rejected that day (their current decision)"),
    Column("published", "comments first published that day"),
)
STATISTICS_COLUMNS = (
    Column("figure", "the name of the figure, as in statistics.json (nested names joined by .)"),
    Column("value", "its value"),
)
TABLES: dict[str, tuple[Column, ...]] = {
    "comments": COMMENT_COLUMNS,
    "decisions": DECISION_COLUMNS,
    "responses": RESPONSE_COLUMNS,
    "timeline": TIMELINE_COLUMNS,
}
Row = dict[str, Any]


# ---------------------------------------------------------------- building the record

def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _when(value: datetime | None) -> str | None:
    return None if value is None else _utc(value).isoformat(timespec="seconds")


def _day(value: datetime, zone: ZoneInfo) -> date:
    return _utc(value).astimezone(zone).date()


def comment_url(catalogue: Catalogue, site_url: str, comment: CommentPublic) -> str:
    """The page the publisher shows the comment on first, as in ``publish.render``."""
    return f"{site_url.rstrip('/')}/{comment_page('sq', comment.reference)}"


def plain_text(html: str) -> str:
    """Published HTML as the reader sees it: paragraphs apart by one blank line."""
    return _BLANK_LINES.sub("\n\n", html_to_text(html)).strip()


def public_text(text: str, names: Sequence[NameIndex]) -> str:
    """Text that may be archived: no address, no sender's name (see ``NameIndex``)."""
    text = redact_email_addresses(text)
    for index in names:
        text = index.redact(text)
    return text


def comment_rows(data: EvidenceInput, everyone: NameIndex,
                 answered_by: Mapping[int, ResponseRow]) -> list[Row]:
    received = {fact.comment_id: fact.received_at for fact in data.facts}
    rows = []
    for item in data.published:
        comment = item.public
        # A one-word name is also an ordinary word: hidden only in its sender's own text.
        names = (NameIndex([item.sender_name], min_words=1), everyone)
        response = answered_by.get(comment.id)
        rows.append({
            "reference": reference_for(item.inbound_id),
            "public_number": comment.id,
            "url": comment_url(data.catalogue, data.site_url, comment),
            "received_at": _when(received.get(comment.id, comment.received_at)),
            "published_at": _when(comment.published_at),
            "language": comment.language,
            "channel": item.channel,
            "commitments": list(comment.commitments),
            "subject": public_text(comment.subject, names),
            "text": public_text(plain_text(comment.display_html), names),
            "edited": item.edited,
            "response_id": response.id if response else None,
            "response_outcome": response.outcome if response else None,
        })
    return sorted(rows, key=lambda row: row["reference"])


def reason_of(code: str | None) -> RejectReason:
    """A missing or unknown code reads as ``other``, as in the citizen's notice."""
    try:
        return REJECT_REASONS[RejectCode(code or RejectCode.OTHER)]
    except ValueError:
        return REJECT_REASONS[RejectCode.OTHER]


def decision_rows(facts: Iterable[CommentFacts]) -> list[Row]:
    rows = []
    for fact in facts:
        decision = DECIDED.get(fact.status)
        if decision is None or fact.decided_at is None:
            continue
        reason = reason_of(fact.reject_code) if decision == "rejected" else None
        rows.append({
            "reference": reference_for(fact.inbound_id),
            "decision": decision,
            "status": fact.status,
            "reason_code": reason.code.value if reason else None,
            "reason_sq": reason.sq if reason else None,
            "reason_en": reason.en if reason else None,
            "received_at": _when(fact.received_at),
            "decided_at": _when(fact.decided_at),
            "published_at": _when(fact.published_at),
        })
    return sorted(rows, key=lambda row: row["reference"])


def response_rows(data: EvidenceInput, everyone: NameIndex,
                  published: Mapping[int, PublishedComment]) -> list[Row]:
    """Responses to published comments; one answering none of them is left out."""
    rows = []
    for response in data.responses:
        answered = sorted((published[i] for i in response.comment_ids if i in published),
                          key=lambda item: item.inbound_id)
        if not answered:
            continue
        names = (NameIndex([c.sender_name for c in answered], min_words=1), everyone)
        rows.append({
            "response_id": response.id,
            "outcome": response.outcome,
            "text_sq": public_text(response.text_sq, names),
            "text_en": public_text(response.text_en, names),
            "link": public_text(response.link, names) if response.link else None,
            "comments": sorted(reference_for(c.inbound_id) for c in answered),
            "created_at": _when(response.created_at),
            "updated_at": _when(response.updated_at),
            "version": response.version,
        })
    return sorted(rows, key=lambda row: row["response_id"])


def timeline_rows(facts: Sequence[CommentFacts], zone: ZoneInfo) -> list[Row]:
    """Every day from the first to the last event, days without any included."""
    counts: dict[str, Counter[date]] = {"received": Counter(), "decided": Counter(),
                                        "published": Counter()}
    for fact in facts:
        counts["received"][_day(fact.received_at, zone)] += 1
        if fact.decided_at is not None and fact.status in DECIDED:
            counts["decided"][_day(fact.decided_at, zone)] += 1
        if fact.published_at is not None:
            counts["published"][_day(fact.published_at, zone)] += 1
    days = set().union(*counts.values())
    if not days:
        return []
    first, last = min(days), max(days)
    return [
        {"day": day.isoformat(), **{name: counts[name][day] for name in counts}}
        for day in (first + timedelta(days=n) for n in range((last - first).days + 1))
    ]


def figures(facts: Sequence[CommentFacts], responses: Sequence[Row],
            published_refs: Iterable[str], time_zone: str) -> Row:
    """The consultation's figures; every one can be recounted from the other files."""
    by_status = Counter(fact.status for fact in facts)
    rejected = Counter(reason_of(fact.reject_code).code.value for fact in facts
                       if fact.status == CommentStatus.REJECTED)
    waits = [
        (_utc(fact.decided_at) - _utc(fact.received_at)).total_seconds()
        for fact in facts if fact.decided_at is not None and fact.status in DECIDED
    ]
    published = sorted(published_refs)
    outcome_of = {ref: response["outcome"] for response in responses
                  for ref in response["comments"]}
    by_outcome = Counter(outcome_of[ref] for ref in published if ref in outcome_of)
    answered = sum(by_outcome.values())
    return {
        "time_zone": time_zone,
        "received": len(facts),
        "pending": by_status[CommentStatus.PENDING],
        "approved": by_status[CommentStatus.APPROVED],
        "published": by_status[CommentStatus.PUBLISHED],
        "rejected": by_status[CommentStatus.REJECTED],
        "withdrawn": by_status[CommentStatus.WITHDRAWN],
        "rejected_by_reason": {code.value: rejected[code.value] for code in RejectCode},
        "decided": len(waits),
        "median_hours_from_receipt_to_decision": (
            round(statistics.median(waits) / 3600, 2) if waits else None),
        "by_language": dict(sorted(Counter(fact.language for fact in facts).items())),
        "by_channel": dict(sorted(Counter(fact.channel for fact in facts).items())),
        "response_coverage": {
            "published": len(published),
            "answered": answered,
            "share": round(answered / len(published), 4) if published else None,
            "by_outcome": {outcome.value: by_outcome[outcome.value]
                           for outcome in ResponseOutcome},
        },
    }


# ---------------------------------------------------------------- encodings

def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "; ".join(str(item) for item in value)
    text = str(value)
    # A cell starting with = + - @ runs as a formula in a spreadsheet (CSV injection);
    # the JSON files keep the exact text.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def to_csv(columns: Sequence[Column], rows: Iterable[Row]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([column.name for column in columns])
    for row in rows:
        writer.writerow([_cell(row[column.name]) for column in columns])
    return out.getvalue().encode("utf-8")


def to_json(value: Any) -> bytes:
    return (json.dumps(value, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _flatten(value: Any, prefix: str = "") -> Iterable[Row]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _flatten(item, f"{prefix}.{key}" if prefix else key)
    else:
        yield {"figure": prefix, "value": value}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ---------------------------------------------------------------- the archive

def build_files(data: EvidenceInput) -> dict[str, bytes]:
    """Every file of the archive except the manifest, by name."""
    zone = ZoneInfo(data.time_zone)
    everyone = NameIndex(data.sender_names)
    published = {item.public.id: item for item in data.published}
    responses = response_rows(data, everyone, published)
    listed = {row["response_id"] for row in responses}
    answered_by = {comment_id: response for response in data.responses
                   if response.id in listed
                   for comment_id in response.comment_ids if comment_id in published}
    tables = {
        "comments": comment_rows(data, everyone, answered_by),
        "decisions": decision_rows(data.facts),
        "responses": responses,
        "timeline": timeline_rows(data.facts, zone),
    }
    stats = figures(data.facts, responses, (row["reference"] for row in tables["comments"]),
                    data.time_zone)
    files: dict[str, bytes] = {}
    for name, rows in tables.items():
        files[f"{name}.csv"] = to_csv(TABLES[name], rows)
        files[f"{name}.json"] = to_json(rows)
    files["statistics.json"] = to_json(stats)
    files["statistics.csv"] = to_csv(STATISTICS_COLUMNS, _flatten(stats))
    for name, content in data.extra_files.items():
        if name in files or name in (README, MANIFEST) or name.startswith("/") or ".." in name:
            raise ValueError(f"{name!r} cannot be added to the archive")
        files[name] = content
    files[README] = readme(data.catalogue, data.time_zone, sorted(data.extra_files)).encode()
    return files


def manifest(catalogue: Catalogue, files: Mapping[str, bytes], generated_at: datetime) -> bytes:
    return to_json({
        "format": FORMAT,
        "consultation": {"title_sq": catalogue.title_sq, "title_en": catalogue.title_en},
        "generated_at": _when(generated_at),
        "files": [{"name": name, "bytes": len(content), "sha256": sha256(content)}
                  for name, content in sorted(files.items()) if name != MANIFEST],
    })


def build_archive(data: EvidenceInput, generated_at: datetime) -> dict[str, bytes]:
    files = build_files(data)
    files[MANIFEST] = manifest(data.catalogue, files, generated_at)
    return files


def check_manifest(files: Mapping[str, bytes]) -> list[str]:
    """What does not match the manifest; empty when every file is listed and intact."""
    listed = json.loads(files[MANIFEST])["files"]
    problems = []
    names = {entry["name"] for entry in listed}
    for entry in listed:
        content = files.get(entry["name"])
        if content is None:
            problems.append(f"{entry['name']}: listed but missing")
        elif sha256(content) != entry["sha256"] or len(content) != entry["bytes"]:
            problems.append(f"{entry['name']}: SHA-256 or size differs from the manifest")
    problems += [f"{name}: not in the manifest" for name in sorted(files)
                 if name not in names and name != MANIFEST]
    return problems


def pack(files: Mapping[str, bytes]) -> bytes:
    """A zip of ``files`` whose bytes depend on nothing but the files."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, wherever it is made
            info.external_attr = 0o100644 << 16
            archive.writestr(info, files[name], compresslevel=9)
    return out.getvalue()


def unpack(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


# ---------------------------------------------------------------- README

def _table(columns: Sequence[Column]) -> str:
    return "\n".join(["| column | meaning |", "|---|---|",
                      *(f"| `{c.name}` | {c.description} |" for c in columns)])


def readme(catalogue: Catalogue, time_zone: str, extra: Sequence[str] = ()) -> str:
    reasons = "\n".join(f"| `{r.code.value}` | {r.sq} | {r.en} |" for r in REJECT_REASONS.values())
    labels = "\n".join(f"| `{label.id}` | {label.title_sq} | {label.title_en} |"
                       for label in catalogue.labels)
    outcomes = ", ".join(f"`{outcome.value}`" for outcome in ResponseOutcome)
    digests = "".join(f"- `{name}`: made by `ogp-feedback digest`, public comments only.\n"
                      for name in extra)
    return f"""# The consultation's record / Dosja e konsultimit

{catalogue.title_en}

{catalogue.title_sq}

This archive is the evidence of what the consultation received and how it answered, for the
OGP review (the Independent Reporting Mechanism). `ogp-feedback evidence` made it from the
consultation's database. Every table is here twice, as CSV (UTF-8, comma-separated, one header
row, CRLF line ends) and as JSON (a list of objects with the same names); dates and times are
ISO 8601 in UTC, days are calendar days in {time_zone}.

## Files

- `comments.csv`, `comments.json`: every published comment, as the public site shows it.
- `decisions.csv`, `decisions.json`: every comment approved or rejected, with the reason code.
- `responses.csv`, `responses.json`: the secretariat's reasoned responses to published comments.
- `timeline.csv`, `timeline.json`: comments received, decided and published, day by day.
- `statistics.json`, `statistics.csv`: the consultation's figures (below).
{digests}- `manifest.json`: every other file with its size in bytes and its SHA-256.

### comments

{_table(COMMENT_COLUMNS)}

In CSV, lists are joined by `; `, and a cell that starts with `=`, `+`, `-` or `@` is
prefixed with `'` so that a spreadsheet does not run it; the JSON keeps the exact text.

### decisions

{_table(DECISION_COLUMNS)}

Pending and withdrawn comments are only counted. A decision that was undone is not listed:
this is each comment's decision as it stands. A rejection without a known code reads as
`other`, as in the notice the citizen received.

### responses

{_table(RESPONSE_COLUMNS)}

Outcomes: {outcomes}.

### timeline

{_table(TIMELINE_COLUMNS)}

### statistics

`received` counts every comment (messages set aside as bounces, auto-replies or spam never
became comments and are not counted); `pending`, `approved` (not yet published), `published`,
`rejected` and `withdrawn` add up to it. `rejected_by_reason` counts rejections by code;
`decided` counts the comments approved, published or rejected, and
`median_hours_from_receipt_to_decision` is the median time from `received_at` to
`decided_at` over them; `by_language` and `by_channel` split `received`;
`response_coverage` gives the published comments, how many have a response, their share and
the count by outcome.
`statistics.csv` lists the same figures one a row.

### Reason codes

| code | sq | en |
|---|---|---|
{reasons}

### Commitments

| id | sq | en |
|---|---|---|
{labels}

## Checking the archive

`manifest.json` lists every other file with its SHA-256. After unpacking:

```
python3 -c "import hashlib, json; m = json.load(open('manifest.json'));
print(all(hashlib.sha256(open(f['name'], 'rb').read()).hexdigest() == f['sha256']
          for f in m['files']))"
```

or compare `sha256sum comments.csv` (and so on) with the manifest by eye. The archive is
deterministic: made again from the same data, every file is byte for byte the same, except
`generated_at` in `manifest.json`.

## Privacy

The archive holds no personal data, by these rules:

- No sender's e-mail address and no address written anywhere in a text: each is
  replaced by `[e-mail]`.
- No sender's name: citizens have not agreed to be named. Where a sender's name is written
  in full in a published text (a signature: "Me respekt, Emri Mbiemri"), in either
  order and whatever the case or accents, it is replaced by `[name]`; a one-word name only
  in its sender's own text.
- Comment texts come from the public view only: what trimming set aside (quoted replies,
  forwarded headers, signatures after `--`) and what a moderator cut before publication are
  not here.
- Unpublished comments appear only as counts and, when rejected or approved for later
  publication, as a receipt number with the decision and its reason code: never their words.
  Withdrawn comments are only counted.
- The moderator's own words to a rejected citizen are left out (they were written to the
  citizen, and may quote personal data); the reason code and its standard wording are kept.
- No raw mail, no mail headers, no attachments, no moderator or staff names, no audit log
  of logins or client addresses.
"""
