"""Acceptance 3 (issue 8) in a real browser: the secretariat ticks three comments in the queue
and writes one reasoned response; after ``ogp-feedback publish`` the public pages show it
beside each comment, each citizen gets exactly one notice at a real SMTP server, and an edit
of the response is audited and sends nothing new.

Real processes throughout: ``ogp-feedback serve`` and the CLI as subprocesses, headless
Chromium, aiosmtpd in this process receiving what the CLI sends.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select

from config.settings import Settings
from intake.receipts import reference_for
from publish.urls import comment_page, in_language
from tests.conftest import CLI, free_port, run_cli, settings_env, wait_until
from tests.functional.smtp_sink import SmtpSink, running_sink
from tests.functional.test_browser import _up
from tests.functional.test_browser_workbench import Browsers, log_in
from tests.functional.test_browser_workbench import browsers as browsers  # the fixture
from tests.unit.factories import plain_mail

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

PASSWORD = "browser pass 123"  # what ``log_in`` of the workbench test types
SQ = "Propozimi u pranua pjesërisht: regjistri hapet për publikun në vitin 2021."
EN = "Partly adopted: the register opens to the public in 2021."
EDITED_EN = "Adopted: the register opened to the public in March 2021."
LINK = "https://ogp.al/plani-2020-2022#angazhimi-2"
CITIZENS = ("arta@example.org", "besnik@example.org", "drita@example.org",
            "erion@example.org", "flutura@example.org")


@dataclass
class Consultation:
    base: str
    env: dict[str, str]
    sink: SmtpSink
    # Citizen's address -> comment id.
    comments: dict[str, int]
    # Citizen's address -> the reference number on the receipt (the comment page's name).
    references: dict[str, str] = field(default_factory=dict)

    def cli(self, settings: Settings, *args: str) -> str:
        result = run_cli(settings, *args, **self.env)
        assert result.returncode == 0, result.stderr
        return result.stdout

    def queue(self, settings: Settings) -> dict[int, dict[str, object]]:
        items = json.loads(self.cli(settings, "queue", "--status", "all", "--json"))
        return {item["id"]: item for item in items}


@pytest.fixture
def consultation(settings: Settings, start_process: object,
                 tmp_path: Path) -> Iterator[Consultation]:
    """Five comments from five citizens (two published, two approved, one pending), a
    secretariat user, the real app serving the site the notices link to."""
    with running_sink() as sink:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        extra = {"OGP_RESPONSE_NOTICES": "true", "OGP_DECISION_NOTICES": "false",
                 "OGP_RECEIPTS": "false", "OGP_MAIL_SENDER": "smtp",
                 "OGP_SMTP_HOST": "127.0.0.1", "OGP_SMTP_PORT": str(sink.port),
                 "OGP_SMTP_SECURITY": "none", "OGP_MAIL_FROM": "feedback@ogp.example.al",
                 "OGP_PUBLIC_SITE_URL": f"{base}/site/"}
        folder = tmp_path / "mail"
        folder.mkdir()
        for number, address in enumerate(CITIZENS):
            name = address.split("@")[0].title()
            (folder / f"{number}.eml").write_bytes(plain_mail(
                f"Regjistri i pronarëve përfitues duhet të jetë i hapur ({name}).",
                subject=f"Pronarët përfitues ({name})", sender=f"{name} <{address}>"))
        found = Consultation(base, extra, sink, {})
        found.cli(settings, "import", "-q", str(folder))
        for name, role in (("sara", "secretariat"), ("mira", "moderator")):
            added = run_cli(settings, "users", "add", name, "--role", role, "--password-stdin",
                            stdin=PASSWORD + "\n")
            assert added.returncode == 0, added.stderr
        queue = found.queue(settings)
        by_subject = {str(item["subject"]): int(str(item["id"])) for item in queue.values()}
        found.comments = {
            address: by_subject[f"Pronarët përfitues ({address.split('@')[0].title()})"]
            for address in CITIZENS}
        found.references = {
            address: reference_for(int(str(queue[comment_id]["inbound_id"])))
            for address, comment_id in found.comments.items()}
        ids = [found.comments[address] for address in CITIZENS]
        found.cli(settings, "approve", str(ids[0]), str(ids[1]), "--as", "mira")
        found.cli(settings, "publish")
        found.cli(settings, "approve", str(ids[2]), str(ids[3]), "--as", "mira")
        assert sink.delivered == []  # no receipts, no decision notices: only responses count
        start_process([CLI, "serve", "--port", str(port)],  # type: ignore[operator]
                      settings_env(settings, **extra), name="serve")
        wait_until(lambda: _up(base), 30, "the web UI answers")
        yield found


def public_article(browser: WebDriver, link: str, reference: str) -> str:
    """The text of the comment's article on the public page the link names (its own page)."""
    browser.get("about:blank")
    browser.get(link)
    article = browser.find_element(By.CSS_SELECTOR, "article.comment")
    assert article.is_displayed()
    assert reference in article.text
    return str(article.text)


def in_english(link: str) -> str:
    """The same page in English (the language switcher's target)."""
    base, _, path = link.partition("/site/")
    return f"{base}/site/{in_language(path, 'en')}"


def test_one_response_for_three_comments_published_notified_once_and_edited(
        settings: Settings, consultation: Consultation, browsers: Browsers) -> None:
    c = consultation
    arta, besnik, drita, erion, flutura = (c.comments[a] for a in CITIZENS)
    answered = {"arta@example.org": arta, "besnik@example.org": besnik,
                "drita@example.org": drita}  # two published, one approved
    sara = browsers()
    log_in(sara, c.base, "sara")

    # The queue, all statuses: tick three, write one response, send it without JavaScript.
    sara.get(f"{c.base}/queue?status=all")
    for comment_id in answered.values():
        sara.find_element(By.ID, f"select-{comment_id}").click()
    Select(sara.find_element(By.ID, "respond-outcome")).select_by_value("partly-adopted")
    sara.find_element(By.ID, "respond-text-sq").send_keys(SQ)
    sara.find_element(By.ID, "respond-text-en").send_keys(EN)
    sara.find_element(By.ID, "respond-link").send_keys(LINK)
    sara.find_element(By.ID, "respond-selected").click()
    wait_until(lambda: "done=respond" in sara.current_url, 10, "back at the queue")
    assert sara.find_element(By.ID, "done").text == "U dha përgjigje për / Responded to: 3"

    queue = c.queue(settings)
    answer = {"outcome": "partly-adopted", "text_sq": SQ, "text_en": EN}
    assert {i: queue[i]["response"] for i in (arta, besnik, drita, erion, flutura)} == {
        arta: answer, besnik: answer, drita: answer, erion: None, flutura: None}
    assert c.sink.delivered == []  # not on the site yet: nobody is told

    published = c.cli(settings, "publish")
    assert "published 4 comments (2 new)" in published

    # Each citizen answered gets exactly one notice; the others none.
    recipients = sorted(r for d in c.sink.delivered for r in d.recipients)
    assert recipients == sorted(answered)
    links: dict[str, str] = {}
    for delivered in c.sink.delivered:
        [address] = delivered.recipients
        assert delivered.envelope_from == "<>"
        message = delivered.message()
        assert message["Auto-Submitted"] == "auto-replied"
        assert "A response to your comment" in message["Subject"]
        text = delivered.text()
        albanian, english = text.split("\n---\n")
        assert "Vendimi: U pranua pjesërisht" in albanian
        assert SQ in albanian
        assert "Outcome: Partly adopted" in english
        assert EN in english
        found = re.findall(rf"{re.escape(c.base)}/site/\S+", text)
        assert len(found) == 2
        assert found[0] == found[1]  # the same link in each language
        # The comment's own page: its permalink, by the reference number on the receipt.
        assert found[0] == f"{c.base}/site/{comment_page('sq', c.references[address])}"
        links[address] = found[0]
        assert LINK in albanian
        assert LINK in english

    # The link in each notice leads to the comment's page, showing the response with it:
    # in Albanian, and in English on the same page in English.
    reader = browsers()
    for address in answered:
        article = public_article(reader, links[address], c.references[address])
        section = reader.find_element(By.CSS_SELECTOR, "section.response")
        assert section.is_displayed()
        assert section.get_attribute("data-outcome") == "partly-adopted"
        assert "Përgjigja e arsyetuar" in article
        assert "U pranua pjesërisht" in article
        assert SQ in article
        link = section.find_element(By.CSS_SELECTOR, "a")
        assert link.get_attribute("href") == LINK
        article = public_article(reader, in_english(links[address]), c.references[address])
        assert "Reasoned response" in article
        assert "Partly adopted" in article
        assert EN in article
    # A published comment without a response shows none.
    page = settings.site_dir / comment_page("sq", c.references["erion@example.org"])
    assert 'class="comment"' in page.read_text(encoding="utf-8")
    assert 'class="response"' not in page.read_text(encoding="utf-8")

    # Edit the response on a comment's page: one edit for all three, with history.
    sara.get(f"{c.base}/comments/{arta}")
    sara.find_element(By.CSS_SELECTOR, "#respond summary").click()
    Select(sara.find_element(By.ID, "response-outcome-field")).select_by_value("adopted")
    english = sara.find_element(By.ID, "response-text-en-field")
    english.clear()
    english.send_keys(EDITED_EN)
    sara.find_element(By.CSS_SELECTOR, "#response-form button[type=submit]").click()
    wait_until(lambda: sara.find_elements(By.CSS_SELECTOR, '[data-outcome="adopted"]'), 10,
               "the edited response")
    assert sara.find_element(By.ID, "response-text-en").text == EDITED_EN
    sara.find_element(By.CSS_SELECTOR, "#response-history summary").click()
    history = sara.find_element(By.ID, "response-history").text
    assert "version 1 · sara" in history
    assert EN in history

    # The edit is audited once per comment it answers.
    audit = csv.DictReader(io.StringIO(c.cli(settings, "audit", "--action", "respond-edit",
                                             "--csv")))
    rows = sorted(((r["actor"], r["comment_id"], r["detail"]) for r in audit),
                  key=lambda row: int(row[1]))
    response_id = rows[0][2].split()[1] if rows else "?"
    assert rows == [("sara", str(i), f"response {response_id} version 2: outcome "
                     "partly-adopted -> adopted, English text")
                    for i in sorted(answered.values())]

    # Published again and every due notice sent: the citizens hear nothing new.
    c.cli(settings, "publish")
    c.cli(settings, "notices", "--send")
    assert len(c.sink.delivered) == 3
    notices = json.loads(c.cli(settings, "notices", "--json"))
    assert sorted((n["comment_id"], n["kind"], n["status"]) for n in notices) == sorted(
        (i, "response", "sent") for i in answered.values())
    # ...while the site shows the edit.
    drita_page, drita_ref = links["drita@example.org"], c.references["drita@example.org"]
    public_article(reader, drita_page, drita_ref)
    outcome = reader.find_element(By.CSS_SELECTOR, "section.response .outcome")
    assert outcome.text == "U pranua"
    assert EDITED_EN in public_article(reader, in_english(drita_page), drita_ref)
    outcome = reader.find_element(By.CSS_SELECTOR, "section.response .outcome")
    assert outcome.text == "Adopted"
