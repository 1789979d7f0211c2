"""The search page in a real browser (headless Debian Chromium), served over HTTP like a
published site, under the strict Content-Security-Policy the site ships (issue 10,
acceptance 4): a word typed without diacritics finds the comment written with them, the
other way round too, and the browser reports no CSP violation."""

from __future__ import annotations

import functools
import json
import shutil
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import jinja2
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from intake.receipts import reference_for
from publish import urls
from publish.search import SearchRecord, build_search_index
from tests.conftest import free_port
from tests.functional.chromium import start_chromium

TEMPLATES = Path(__file__).resolve().parents[2] / "publish" / "templates"
# The policy the search page needs. Pagefind compiles WebAssembly in a worker started from
# its bundle: with the policy sent as an HTTP header (as the README tells a web server to),
# the worker gets it too and needs 'wasm-unsafe-eval' (never 'unsafe-eval'); without it the
# search never answers. The worker falls back to script-src 'self'; the index is fetched
# (connect-src). The test server sends the header and the page carries the meta tag.
CSP = ("default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self'; "
       "style-src 'self'; img-src 'self'; base-uri 'none'; form-action 'self'")

COMMENTS = {
    1: ("Qeverisja e hapur", "Përgjegjshmëria e qeverisë ndaj qytetarëve duhet të matet."),
    2: ("Open data", "The open data portal should publish procurement data as CSV."),
    3: ("Buxheti", "Buxheti i bashkise nuk botohet kurre ne kohe, pa asnje llogaridhenie."),
    # Another segment, merged by search.js.
    12_345: ("Regjistri", "Regjistri i pronarëve përfitues duhet të jetë publik."),
}


def page(language: str) -> str:
    body = (jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True)
            .get_template("_search_body.html").render(language=language, root="../"))
    return (f'<!doctype html><html lang="{language}"><head><meta charset="utf-8">'
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>search</title></head><body><main>{body}</main></body></html>")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("site")
    records = []
    for number, (title, text) in COMMENTS.items():
        reference = reference_for(number)
        records.append(SearchRecord(reference=reference, title=title, content=text,
                                    meta={"reference": reference, "date": "2026-11-28"}))
    build_search_index(records, root / urls.SEARCH_INDEX_DIR)
    (root / urls.SEARCH_SCRIPT).parent.mkdir(parents=True)
    shutil.copy(TEMPLATES / "search.js", root / urls.SEARCH_SCRIPT)
    # The browser asks for one; a 404 would be a console error.
    (root / "favicon.ico").write_bytes(b"")
    for language in urls.LANGUAGES:
        (root / language).mkdir()
        (root / urls.search_page(language)).write_text(page(language), encoding="utf-8")
    return root


class QuietHandler(SimpleHTTPRequestHandler):
    extensions_map: ClassVar[dict[str, str]] = {
        **SimpleHTTPRequestHandler.extensions_map,
        ".js": "text/javascript", ".wasm": "application/wasm"}

    def end_headers(self) -> None:
        self.send_header("Content-Security-Policy", CSP)
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def base_url(site: Path) -> Iterator[str]:
    port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port),
                                 functools.partial(QuietHandler, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[WebDriver]:
    chrome = start_chromium(tmp_path / "profile", console=True)
    yield chrome
    chrome.quit()


def search(browser: WebDriver, words: str) -> list[dict[str, str]]:
    box = browser.find_element(By.CSS_SELECTOR, 'input[type="search"][name="q"]')
    box.clear()
    box.send_keys(words, Keys.ENTER)
    return results(browser)


def results(browser: WebDriver) -> list[dict[str, str]]:
    status = browser.find_element(By.ID, "search-status")
    listing = browser.find_element(By.ID, "results")
    # search.js marks the list busy from the submit until the results are in.
    WebDriverWait(browser, 60).until(
        lambda _: listing.get_attribute("aria-busy") == "false" and status.text)
    rows = browser.find_elements(By.CSS_SELECTOR, "#results > li")
    return [{"title": row.find_element(By.CSS_SELECTOR, "h2 a").text,
             "href": row.find_element(By.CSS_SELECTOR, "h2 a").get_attribute("href") or "",
             "excerpt": row.find_element(By.CSS_SELECTOR, "p:last-child").text,
             "marks": json.dumps([m.text for m in row.find_elements(By.TAG_NAME, "mark")]),
             "status": status.text}
            for row in rows] or [{"status": status.text}]


def console_problems(browser: WebDriver) -> list[str]:
    entries = browser.get_log("browser")  # type: ignore[no-untyped-call]
    return [str(entry["message"]) for entry in entries
            if entry["level"] in ("SEVERE", "WARNING")
            or "Content Security Policy" in str(entry["message"])]


def test_a_word_without_diacritics_finds_the_comment_written_with_them(
        base_url: str, browser: WebDriver) -> None:
    browser.get(f"{base_url}/{urls.search_page('sq')}")
    assert browser.find_element(By.ID, "search-note").is_displayed() is False

    found = search(browser, "pergjegjshmeri")
    assert [r.get("title") for r in found] == ["Qeverisja e hapur"], found
    assert found[0]["status"] == "1 rezultat"
    assert found[0]["href"] == f"{base_url}/{urls.comment_page('sq', 'OGP-000001')}"
    assert "Përgjegjshmëria" in found[0]["excerpt"]
    assert browser.current_url.endswith("search.html?q=pergjegjshmeri")

    found = search(browser, "qeverise")
    assert [r.get("title") for r in found] == ["Qeverisja e hapur"], found

    # And the other way round: written without diacritics, searched with them.
    found = search(browser, "llogaridhënie")
    assert [r.get("title") for r in found] == ["Buxheti"], found

    # A comment in the second segment, merged in.
    found = search(browser, "pronareve")
    assert [r.get("title") for r in found] == ["Regjistri"], found

    assert console_problems(browser) == []


def test_english_page_links_to_english_comment_pages_and_reads_q(
        base_url: str, browser: WebDriver) -> None:
    browser.get(f"{base_url}/{urls.search_page('en')}?q=procurement")
    found = results(browser)
    assert [r.get("title") for r in found] == ["Open data"], found
    assert found[0]["status"] == "1 result"
    assert found[0]["href"] == f"{base_url}/{urls.comment_page('en', 'OGP-000002')}"
    assert json.loads(found[0]["marks"]) == ["procurement"]
    assert browser.find_element(By.NAME, "q").get_attribute("value") == "procurement"

    found = search(browser, "zzzzqqq")
    assert found == [{"status": "0 results"}]
    assert console_problems(browser) == []


def test_opened_from_disk_the_page_says_search_needs_a_web_server(
        site: Path, browser: WebDriver) -> None:
    browser.get((site / urls.search_page("en")).as_uri())
    note = browser.find_element(By.ID, "search-note")
    assert note.is_displayed()
    assert "served by a web server (http or https)" in note.text
