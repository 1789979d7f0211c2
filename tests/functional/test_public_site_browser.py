"""The published site in a real browser (headless Debian Chromium), issue 10 acceptance 2
and 4: a generated consultation of 170 approved comments is published with
``publish_site``, served by a plain static HTTP server, with the contact form served by
the real app.

- Accessibility: axe-core on the index, a commitment page, a comment page and the search
  page in Albanian and English, and on the (bilingual) contact form, at 1280 px and
  360 px: no serious or critical violation, and nothing wider than the screen at 360 px.
- Search: a word typed without diacritics finds the comment written with them; the
  English search page links to English pages; no Content-Security-Policy violation.
- A folder opened in a browser (file://): the stylesheet applies and links lead on.

One browser serves every check (starting Chromium costs seconds on 2 cores).
"""

from __future__ import annotations

import functools
import random
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
import uvicorn
from axe_selenium_python import Axe
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import Engine

from config.catalogue import default_catalogue
from config.settings import Settings
from intake.receipts import reference_for
from intake.sanitize import display_html
from moderation.db import make_engine, session_scope
from moderation.models import (
    Comment,
    CommentCommitment,
    CommentStatus,
    InboundMessage,
    Response,
    ResponseComment,
    ResponseOutcome,
)
from moderation.web.app import create_app
from publish import urls
from publish.site import publish_site
from tests.conftest import SECRET, free_port, wait_until
from tests.functional.chromium import start_chromium
from tests.functional.test_browser import _up

COMMENTS = 170
# Commitment 1 gets most of them: more than three archive pages of urls.PAGE_SIZE.
BUSY = "1"
# The comment written with diacritics that a search without them must find.
DIACRITICS_WORD = "përgjegjshmëri"
TYPED_WORD = "pergjegjshmeri"
WIDTHS = (1280, 360)
START = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)

TEXTS = (
    ("Qeverisja e hapur", "Çdo ministri duhet të publikojë planin e integritetit dhe "
     "vlerësimin e riskut, që qytetarët ta shohin vetë."),
    ("Regjistri", "Regjistri i pronarëve përfitues duhet të jetë i hapur për gazetarët\n"
     "dhe për çdo qytetar, pa pagesë dhe pa\nregjistrim paraprak."),
    ("Open data", "The open data portal should offer up-to-date CSV files and an API, "
     "with a changelog for every dataset."),
    ("Buxheti", "Buxheti i qytetarit duhet te publikohet me te dhena per cdo bashki "
     "(shkruar pa shkronja me pika, si shumë qytetarë)."),
    ("Shërbimet", "Në qendrën e integruar të shërbimit prita dy orë në radhë.\n\n"
     "- sportelet ishin të mbyllura\n- askush nuk jepte informacion"),
)


@dataclass(frozen=True)
class Consultation:
    reference_with_diacritics: str
    answered_reference: str


def generate(engine: Engine) -> Consultation:
    """Approved comments written as rows (the publisher marks them published): most on
    commitment 1, some on two commitments, some with responses, one with the word a
    search must find without its diacritics."""
    rnd = random.Random(10)
    others = [str(n) for n in range(2, 11)] + ["general"]
    with session_scope(engine) as session:
        inbound = []
        for n in range(COMMENTS):
            created = START + timedelta(minutes=n * 30)
            raw = f"Subject: Koment {n}\r\n\r\nTekst {n}\r\n".encode()
            inbound.append(InboundMessage(
                created_at=created, updated_at=created, source="import",
                sha256=f"{n:064x}", size=len(raw), raw=raw, status="processed"))
        session.add_all(inbound)
        session.flush()
        rows = []
        for n, message in enumerate(inbound):
            subject, text = TEXTS[n % len(TEXTS)]
            if n == 7:
                subject = "Përgjegjshmëria"
                text = (f"Kërkojmë më shumë {DIACRITICS_WORD} nga institucionet: çdo "
                        "ministri të raportojë publikisht çfarë bëri me komentet.")
            text = f"{text}\n\nKoment numër {n}."
            received = message.created_at
            rows.append(Comment(
                inbound_id=message.id or 0, created_at=received, updated_at=received,
                status=CommentStatus.APPROVED.value, subject=f"{subject} {n}",
                author_name=f"Qytetari {n}", author_email=f"q{n}@example.org",
                language="en" if n % len(TEXTS) == 2 else "sq", text=text,
                display_html=display_html(text), channel="import", received_at=received,
                decided_by="moderatorja", decided_at=received + timedelta(hours=1)))
        session.add_all(rows)
        session.flush()
        for n, row in enumerate(rows):
            labels = [BUSY] if n % 10 else [rnd.choice(others)]
            if n % 6 == 0:
                labels.append(rnd.choice([label for label in others if label not in labels]))
            for rank, label in enumerate(labels):
                session.add(CommentCommitment(comment_id=row.id or 0, commitment_id=label,
                                              score=1.0 - rank * 0.25))
        outcomes = list(ResponseOutcome)
        answered = rows[3::11]
        for k, row in enumerate(answered):
            response = Response(outcome=outcomes[k % len(outcomes)].value,
                                created_by="sekretaria", updated_by="sekretaria",
                                text_sq=f"Faleminderit. Përgjigjja {k}: e morëm parasysh.",
                                text_en=f"Thank you. Response {k}: we took it into account.")
            session.add(response)
            session.flush()
            session.add(ResponseComment(comment_id=row.id or 0, response_id=response.id or 0))
        return Consultation(
            reference_with_diacritics=reference_for(inbound[7].id or 0),
            answered_reference=reference_for(answered[1].inbound_id))


class QuietHandler(SimpleHTTPRequestHandler):
    extensions_map: ClassVar[dict[str, str]] = {
        **SimpleHTTPRequestHandler.extensions_map,
        ".js": "text/javascript", ".wasm": "application/wasm", ".atom": "application/atom+xml"}

    def log_message(self, format: str, *args: Any) -> None:
        pass


@dataclass(frozen=True)
class Served:
    site: Path  # the published folder (a symlink into the site store)
    site_url: str  # the static server, at the site's root
    app_url: str  # the moderation app: the contact form
    consultation: Consultation


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("public-site")
    database = folder / "ogp.db"
    shutil.copyfile(sqlite_template, database)
    settings = Settings(database_url=f"sqlite:///{database}", site_dir=folder / "site",
                        secret_key=SECRET)
    engine = make_engine(settings.database_url)
    consultation = generate(engine)
    app_port, site_port = free_port(), free_port()
    app_url, site_url = f"http://127.0.0.1:{app_port}", f"http://127.0.0.1:{site_port}"
    report = publish_site(engine, default_catalogue(), settings.site_dir, actor="publisher",
                          contact_url=f"{app_url}/contact", site_url=f"{site_url}/")
    assert report.total == COMMENTS

    static = ThreadingHTTPServer(("127.0.0.1", site_port),
                                 functools.partial(QuietHandler,
                                                   directory=str(settings.site_dir)))
    threading.Thread(target=static.serve_forever, daemon=True).start()
    app = uvicorn.Server(uvicorn.Config(create_app(settings, engine=engine), host="127.0.0.1",
                                        port=app_port, log_level="warning", lifespan="off"))
    app_thread = threading.Thread(target=app.run, daemon=True)
    app_thread.start()
    wait_until(lambda: _up(app_url), 30, "the contact form's app answers")
    yield Served(settings.site_dir, site_url, app_url, consultation)
    app.should_exit = True
    app_thread.join(10)
    static.shutdown()
    static.server_close()
    engine.dispose()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    chrome = start_chromium(tmp_path_factory.mktemp("chromium-profile"), width=1280,
                            console=True)
    chrome.set_script_timeout(60)
    yield chrome
    chrome.quit()


def console(browser: WebDriver) -> list[str]:
    """Warnings and errors the browser logged since the last call (reading drains it)."""
    entries = browser.get_log("browser")  # type: ignore[no-untyped-call]
    return [str(entry["message"]) for entry in entries
            if entry["level"] in ("SEVERE", "WARNING")]


def public_pages(consultation: Consultation) -> list[str]:
    pages = []
    for language in urls.LANGUAGES:
        pages += [urls.index_page(language), urls.commitment_page(language, BUSY),
                  urls.comment_page(language, consultation.answered_reference),
                  urls.search_page(language)]
    return pages


def describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"  {violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"][:5]:
            lines.append(f"      {' '.join(map(str, node['target']))}: {node['html'][:160]}")
    return "\n".join(lines)


def test_accessible_and_no_horizontal_scroll(served: Served, browser: WebDriver) -> None:
    """Acceptance 2. Every violation axe finds is printed; serious and critical fail."""
    pages = [f"{served.site_url}/{path}" for path in public_pages(served.consultation)]
    # The contact form is one bilingual page; a long commitment title is in its select.
    pages.append(f"{served.app_url}/contact?commitment={BUSY}")
    problems: list[str] = []
    report: list[str] = []
    for width in WIDTHS:
        browser.set_window_size(width, 900)
        assert browser.execute_script("return window.innerWidth") == width
        for url in pages:
            browser.get(url)
            axe = Axe(browser)
            axe.inject()
            violations = axe.run()["violations"]
            if violations:
                report.append(f"{url} at {width} px:\n{describe(violations)}")
            if [v for v in violations if v["impact"] in ("serious", "critical")]:
                problems.append(f"{url} at {width} px: serious or critical violations")
            headings = len(browser.find_elements(By.TAG_NAME, "h1"))
            if headings != 1:
                problems.append(f"{url}: {headings} h1 headings")
            if width == 360:
                scroll, inner = browser.execute_script(
                    "return [document.documentElement.scrollWidth, window.innerWidth]")
                if scroll > inner:
                    problems.append(f"{url}: {scroll} px wide at a {inner} px viewport")
    assert not problems, "\n".join(problems) + "\n\naxe-core found:\n" + "\n".join(report)


def search(browser: WebDriver, words: str) -> list[str]:
    """Type into the search page as a reader would; the result links' addresses."""
    box = browser.find_element(By.CSS_SELECTOR, 'input[type="search"][name="q"]')
    box.clear()
    box.send_keys(words, Keys.ENTER)
    listing = browser.find_element(By.ID, "results")
    status = browser.find_element(By.ID, "search-status")
    # search.js marks the list busy from the submit until the results are in.
    WebDriverWait(browser, 60).until(
        lambda _: listing.get_attribute("aria-busy") == "false" and status.text)
    return [link.get_attribute("href") or ""
            for link in browser.find_elements(By.CSS_SELECTOR, "#results > li a")]


def test_search_without_diacritics_finds_them(served: Served, browser: WebDriver) -> None:
    """Acceptance 4, on the published site served over HTTP."""
    browser.set_window_size(1280, 900)
    console(browser)
    reference = served.consultation.reference_with_diacritics
    browser.get(f"{served.site_url}/{urls.search_page('sq')}")
    found = search(browser, TYPED_WORD)
    expected = f"{served.site_url}/{urls.comment_page('sq', reference)}"
    assert expected in found, found
    browser.get(expected)
    assert DIACRITICS_WORD in browser.find_element(By.CSS_SELECTOR, ".text").text

    browser.get(f"{served.site_url}/{urls.search_page('en')}")
    found = search(browser, TYPED_WORD)
    assert f"{served.site_url}/{urls.comment_page('en', reference)}" in found, found
    # A word many comments share: every result leads to an English page.
    found = search(browser, "qytetar")
    assert len(found) > 1
    assert all(href.startswith(f"{served.site_url}/en/") for href in found), found
    problems = console(browser)
    assert not [line for line in problems if "Content Security Policy" in line
                or "Content-Security-Policy" in line], problems
    assert not problems, problems


def test_works_from_a_folder(served: Served, browser: WebDriver) -> None:
    """A folder opened in a browser (file://): the stylesheet applies, links lead on."""
    browser.set_window_size(1280, 900)
    folder = served.site.resolve()
    browser.get((folder / urls.index_page("sq")).as_uri())
    assert browser.execute_script(
        "return getComputedStyle(document.body).maxWidth") == "768px"  # 48rem
    link = browser.find_element(
        By.CSS_SELECTOR, f'main a[href$="commitments/{BUSY}.html"]')
    link.click()
    target = (folder / urls.commitment_page("sq", BUSY)).as_uri()
    wait_until(lambda: browser.current_url == target, 10, "the commitment page opened")
    assert browser.find_element(By.TAG_NAME, "h1").text.startswith(f"{BUSY}.")
    # More than three pages of comments: the archive lists them all.
    assert len(browser.find_elements(By.CSS_SELECTOR, "ol.archive li")) >= 4
    # The archive's oldest page, then the language switcher keeps the reader there.
    browser.find_element(By.CSS_SELECTOR, 'a[href$="page-1.html"]').click()
    wait_until(lambda: browser.current_url.endswith("/sq/commitments/1/page-1.html"), 10,
               "the first archive page opened")
    browser.find_element(By.CSS_SELECTOR, 'a[hreflang="en"]').click()
    wait_until(lambda: browser.current_url.endswith("/en/commitments/1/page-1.html"), 10,
               "the English archive page opened")
    assert browser.execute_script("return document.documentElement.lang") == "en"
    assert browser.execute_script(
        "return getComputedStyle(document.body).maxWidth") == "768px"
