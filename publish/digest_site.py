"""The public site's record of the consultation: weekly digests and the statistics page.

Called by ``publish_site`` inside its transaction, after the comments of this run are
marked published, so the pages count what the site shows. Weekly digests read only
published comments (``public_only``); the statistics page reads every comment but
shows counts only.

The pages are the site variant of the digest's HTML: under the site's strict
Content-Security-Policy, so their CSS is ``assets/digest.css`` and each chart an
``.svg`` file of its own, returned with the pages.

Incremental with a ``cache`` folder (the publisher's own): one aggregate statement
tallies every week's comments (``week_tallies``); a week whose tally and the render
key (templates, chart code, catalogue, time zone) are unchanged keeps its cached page
and charts, and is neither read nor built. The statistics' figures are cached under
the tally of every comment; their page is rendered each time (it says when it was
updated), as is ``digests/index.html`` from the weeks' cached lines. The cache only
ever saves work: delete it and the next call rebuilds everything, the same.
It never holds anything the site does not publish.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from config.catalogue import Catalogue
from publish.digest import Coverage, Figure, Statistics, merge_statistics
from publish.digest_load import Tally, load_weeks, week_tallies
from publish.digest_render import (
    DIGEST_STYLESHEET,
    DIGESTS_DIR,
    DIGESTS_INDEX,
    STATISTICS_PAGE,
    Links,
    SitePage,
    WeekEntry,
    digest_page,
    digest_stylesheet,
    render_statistics,
    render_week_index,
    week_entry,
    week_file,
)
from publish.urls import relative

DIGEST_CHARTS = f"{DIGESTS_DIR}/charts"
STATISTICS_CHARTS = "charts"
MANIFEST = "manifest.json"
FILES = "files"
# What the pages are made with, besides the data: a change to any of these rebuilds all.
SOURCES = ("charts.py", "digest.py", "digest_load.py", "digest_render.py", "digest_site.py",
           "i18n.py", "typical.py", "urls.py", "templates/digest.html",
           "templates/_digest_head.html", "templates/_digest_style.css",
           "templates/statistics.html",
           "templates/digests_index.html")
HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class RecordReport:
    """What one call did: weekly digests on the site and how many were read and built anew;
    how many weeks' statistics (all comments, every status) were read anew."""

    weeks: int
    weeks_rebuilt: int
    weeks_recounted: int


def render_key(catalogue: Catalogue, time_zone: str, campaign_min_size: int = 3) -> str:
    """Changes whenever the same data would render differently."""
    digest = hashlib.sha256(f"{time_zone}\n{catalogue!r}\n{campaign_min_size}\n".encode())
    for name in SOURCES:
        digest.update((HERE / name).read_bytes())
    return digest.hexdigest()


def _hash(key: str, tally: object) -> str:
    return hashlib.sha256(f"{key}\n{tally!r}".encode()).hexdigest()


def _figure_ids(figure: Figure) -> list[int]:
    return list(figure.comment_ids)


def _coverage_json(coverage: Coverage) -> dict[str, Any]:
    return {"published": _figure_ids(coverage.published),
            "responded": _figure_ids(coverage.responded),
            "by_outcome": {name: _figure_ids(f) for name, f in coverage.by_outcome.items()}}


def _coverage_of(data: Mapping[str, Any]) -> Coverage:
    return Coverage(published=Figure(tuple(data["published"])),
                    responded=Figure(tuple(data["responded"])),
                    by_outcome={name: Figure(tuple(ids))
                                for name, ids in data["by_outcome"].items()})


def statistics_json(stats: Statistics) -> dict[str, Any]:
    return {"received": stats.received, "by_status": dict(stats.by_status),
            "rejected_by_reason": dict(stats.rejected_by_reason), "decisions": stats.decisions,
            "median_hours_to_decision": stats.median_hours_to_decision,
            "response_coverage": {label: _coverage_json(c)
                                  for label, c in stats.response_coverage.items()},
            "coverage_overall": _coverage_json(stats.coverage_overall),
            "campaigns": dict(stats.campaigns),
            "campaigns_published": dict(stats.campaigns_published)}


def statistics_from(data: Mapping[str, Any]) -> Statistics:
    return Statistics(received=data["received"], by_status=data["by_status"],
                      rejected_by_reason=data["rejected_by_reason"],
                      decisions=data["decisions"],
                      median_hours_to_decision=data["median_hours_to_decision"],
                      response_coverage={label: _coverage_of(c)
                                         for label, c in data["response_coverage"].items()},
                      coverage_overall=_coverage_of(data["coverage_overall"]),
                      campaigns=data.get("campaigns", {}),
                      campaigns_published=data.get("campaigns_published", {}))


def _read_manifest(cache: Path | None, key: str) -> dict[str, Any]:
    empty: dict[str, Any] = {"key": key, "weeks": {}, "statistics": None}
    if cache is None:
        return empty
    try:
        manifest: dict[str, Any] = json.loads((cache / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return empty
    return manifest if manifest.get("key") == key else empty


def _write(path: Path, text: str) -> None:
    """Whole or not at all: a crash mid-write leaves the previous file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
        out.write(text)
    os.replace(temporary, path)


def record_files(session: Session, catalogue: Catalogue, generated_at: datetime,
                 time_zone: str, *, cache: Path | None = None,
                 campaign_min_size: int = 3) -> dict[str, str]:
    """Path from the site's root -> text: ``statistics.html``, ``digests/index.html``,
    ``digests/<ISO week>.html``, their charts (``charts/statistics-<name>.svg``,
    ``digests/charts/<ISO week>-<name>.svg``) and ``assets/digest.css``.

    ``cache``: a folder this function owns; weeks whose comments did not change since
    the last call are taken from it instead of being read and built.
    ``campaign_min_size``: a group counts as a campaign from this many members."""
    return record_files_reported(session, catalogue, generated_at, time_zone, cache=cache,
                                 campaign_min_size=campaign_min_size)[0]


def record_files_reported(session: Session, catalogue: Catalogue, generated_at: datetime,
                          time_zone: str, *, cache: Path | None = None,
                          campaign_min_size: int = 3,
                          ) -> tuple[dict[str, str], RecordReport]:
    """``record_files`` and what it did."""
    zone = ZoneInfo(time_zone)
    key = render_key(catalogue, time_zone, campaign_min_size)
    manifest = _read_manifest(cache, key)
    tallies = week_tallies(session, zone, campaign_min_size)
    published: dict[date, Tally] = {week: tally for (week, status), tally in tallies.items()
                                    if status == "published"}
    wanted = {week.isoformat(): _hash(key, tally) for week, tally in published.items()}
    cached: dict[str, Any] = manifest["weeks"]
    stale = {date.fromisoformat(week) for week, tally in wanted.items()
             if cached.get(week, {}).get("tally") != tally}

    files = {DIGEST_STYLESHEET: digest_stylesheet()}
    weeks: dict[str, dict[str, Any]] = {}
    back = ("index.html", "Të gjitha përmbledhjet / All weekly digests")
    # Every comment, counted, a week at a time: a week's figures are read again only when
    # its tally (any status) changed. No text or date of any comment leaves this function
    # (response coverage keeps the ids of published comments only).
    by_week: dict[date, list[tuple[str, Tally]]] = {}
    for (week, status), tally in sorted(tallies.items()):
        by_week.setdefault(week, []).append((status, tally))
    counted = {monday.isoformat(): _hash(key, rows) for monday, rows in by_week.items()}
    old_parts: dict[str, Any] = manifest.get("statistics") or {}
    recount = {date.fromisoformat(label) for label, tally in counted.items()
               if old_parts.get(label, {}).get("tally") != tally}
    digests, week_statistics = load_weeks(session, catalogue, zone, generated_at,
                                          recount, stale, campaign_min_size)
    for digest in digests:
        name = week_file(digest)
        path = f"{DIGESTS_DIR}/{name}"
        site = SitePage(path, DIGEST_CHARTS, chart_prefix=f"{name.removesuffix('.html')}-")
        page = digest_page(digest, catalogue, Links(public=True, prefix=relative(path, "")),
                           site=site, back=back)
        built = {path: page.html, **page.files}
        files.update(built)
        monday = digest.weeks[0].start.isoformat()
        weeks[monday] = {"tally": wanted[monday], "entry": asdict(week_entry(digest)),
                         "files": sorted(built)}
        if cache is not None:
            for name_, text in built.items():
                _write(cache / FILES / name_, text)
    built_weeks = len(weeks)
    for monday in sorted(set(wanted) - set(weeks)):
        weeks[monday] = cached[monday]
        for path in cached[monday]["files"]:
            files[path] = (cache / FILES / path).read_text(encoding="utf-8") if cache else ""
    entries = [WeekEntry(**weeks[monday]["entry"]) for monday in sorted(weeks)]
    files[DIGESTS_INDEX] = render_week_index(entries, catalogue, generated_at, zone)

    parts: dict[str, Any] = {
        monday.isoformat(): {"tally": counted[monday.isoformat()],
                             "data": statistics_json(stats), "hours": hours}
        for monday, (stats, hours) in week_statistics.items()}
    recounted = len(parts)
    for label in set(counted) - set(parts):
        parts[label] = old_parts[label]
    stats = merge_statistics(
        [(statistics_from(parts[label]["data"]), parts[label]["hours"])
         for label in sorted(parts)], catalogue)
    statistics = render_statistics(stats, catalogue, generated_at, zone,
                                   site=SitePage(STATISTICS_PAGE, STATISTICS_CHARTS))
    files[STATISTICS_PAGE] = statistics.html
    files.update(statistics.files)

    gone = set(cached) - set(weeks)  # weeks no longer on the site
    if cache is not None and (built_weeks or recounted or gone or set(old_parts) - set(parts)):
        for monday in gone:
            for path in cached[monday]["files"]:
                (cache / FILES / path).unlink(missing_ok=True)
        _write(cache / MANIFEST, json.dumps(
            {"key": key, "weeks": weeks, "statistics": parts}))
    return files, RecordReport(weeks=len(weeks), weeks_rebuilt=built_weeks,
                               weeks_recounted=recounted)
