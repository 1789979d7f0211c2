"""Issue 13, acceptance 3, in a real browser (headless Debian Chromium): a form letter sent
by 500 citizens, five of them with a sentence of their own, is approved in ONE action from
the campaign's page; one member's own sentence is approved on its own; after a publish the
commitment page shows the campaign once, with "500" and that sentence (and none of the
sentences nobody approved), and the digest counts one campaign of 500.

The 500 letters go in through the real intake (``store_raw_batch`` then ``process_inbound``,
which groups each one as it is stored); the moderation app runs in this process (uvicorn),
so the test can see it ask for a republish; the publish and the digest are the commands an
operator runs.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import uvicorn
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from config.settings import Settings
from intake.store import RawMessage, store_raw_batch
from moderation.db import session_scope
from moderation.models import AdditionsStatus, Campaign, Comment, InboundSource
from moderation.transitions import commitments_of
from moderation.users import add_user
from moderation.web.app import create_app
from tests.conftest import free_port, run_cli, wait_until
from tests.functional.chromium import start_chromium
from tests.functional.test_browser import _up
from tests.unit.factories import CLASSIFIER, plain_mail
from tests.unit.moderation.test_campaigns import LETTER
from workers.pipeline import Outcome, process_inbound

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

MEMBERS = 500
# Members 7, 107, 207, ... add a sentence of their own: five in all.
OWN_EVERY, OWN_AT = 100, 7
USER, PASSWORD = "drita", "fushata-500-letra"
# The letter's first words (every excerpt shows them) and words from its middle.
LETTER_OPENING = "Të nderuar, kërkojmë"
LETTER_WORDS = "Informacioni për pronarët e vërtetë"


def own_sentence(n: int) -> str:
    return f"Në qytetin tim, lagjja {n}, askush nuk di kush i fiton tenderat e ndriçimit."


@dataclass
class Letters:
    campaign_id: int
    members: list[int]
    with_own: list[int]


@dataclass
class App:
    url: str
    # One entry each time the UI asked for the site to be republished.
    publishes: list[str] = field(default_factory=list)


def send_letters(engine: Engine) -> Letters:
    """500 copies of the letter from 500 senders, stored as one batch and processed one by
    one, as the worker does."""
    raws = []
    for n in range(MEMBERS):
        text = LETTER if n % OWN_EVERY != OWN_AT else f"{LETTER}\n\n{own_sentence(n)}"
        raws.append(RawMessage(plain_mail(text, subject="Regjistri i pronarëve përfitues",
                                          sender=f"Qytetar {n} <q{n}@example.org>"),
                               InboundSource.IMPORT))
    with session_scope(engine) as session:
        stored = [result.inbound_id for result in store_raw_batch(session, raws)]
    for inbound_id in stored:
        assert process_inbound(engine, inbound_id, CLASSIFIER).outcome is Outcome.PENDING
    with Session(engine) as session:
        members = session.exec(select(Comment).where(col(Comment.inbound_id).in_(stored))
                               .order_by(col(Comment.id))).all()
        [campaign] = session.exec(select(Campaign)).all()
    assert campaign.id is not None
    assert {member.campaign_id for member in members} == {campaign.id}
    return Letters(campaign.id, [m.id or 0 for m in members],
                   [m.id or 0 for m in members if m.additions])


@pytest.fixture
def app(settings: Settings, engine: Engine) -> Iterator[App]:
    with session_scope(engine) as session:
        add_user(session, USER, "moderator", PASSWORD)
    port = free_port()
    served = App(f"http://127.0.0.1:{port}")
    web = create_app(settings, engine=engine,
                     request_publish=lambda: served.publishes.append("publish"))
    server = uvicorn.Server(uvicorn.Config(web, host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: _up(served.url), 30, "the moderation app answers")
    yield served
    server.should_exit = True
    thread.join(10)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[WebDriver]:
    chrome = start_chromium(tmp_path / "chromium-profile")
    # One POST approves 500 comments: more than the default 30 s on a slow machine.
    chrome.set_page_load_timeout(120)
    yield chrome
    chrome.quit()


def log_in(browser: WebDriver, base: str) -> None:
    browser.get(f"{base}/queue")
    browser.find_element(By.ID, "username").send_keys(USER)
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form[action='/login'] button").click()
    wait_until(lambda: "/queue" in browser.current_url and "/login" not in browser.current_url,
               10, "logged in, at the queue")


def statuses(engine: Engine, ids: list[int]) -> dict[str, int]:
    counts: dict[str, int] = {}
    with Session(engine) as session:
        for status in session.exec(select(Comment.status)
                                   .where(col(Comment.id).in_(ids))).all():
            counts[status] = counts.get(status, 0) + 1
    return counts


def test_a_500_member_campaign_is_approved_once_and_published_once(
    settings: Settings, engine: Engine, app: App, browser: WebDriver,
) -> None:
    letters = send_letters(engine)
    assert len(letters.with_own) == MEMBERS // OWN_EVERY
    campaign_id = letters.campaign_id
    log_in(browser, app.url)

    # The queue marks each letter as a member of the campaign, with its size.
    badges = browser.find_elements(By.CSS_SELECTOR, "a.campaign-badge")
    assert badges
    assert {badge.text for badge in badges} == {f"Fushatë / Campaign #{campaign_id} (500)"}

    # The campaigns page, from the navigation: one campaign of 500, five additions waiting.
    browser.find_element(By.LINK_TEXT, "Fushatat / Campaigns").click()
    wait_until(lambda: browser.current_url.endswith("/campaigns"), 10, "the campaigns page")
    row = browser.find_element(By.ID, f"campaign-{campaign_id}")
    assert row.find_element(By.CSS_SELECTOR, ".campaign-size").text == "500"
    assert row.find_element(By.CSS_SELECTOR, ".additions-pending").text == "5"
    row.find_element(By.CSS_SELECTOR, "a").click()
    wait_until(lambda: browser.current_url.endswith(f"/campaigns/{campaign_id}"), 10,
               "the campaign's page")
    assert len(browser.find_elements(By.CSS_SELECTOR, "#members tbody tr")) == MEMBERS
    assert len(browser.find_elements(By.CSS_SELECTOR, "blockquote.additions")) == 5

    # ONE action approves all 500.
    approve = browser.find_element(By.CSS_SELECTOR, "#approve-campaign-form button")
    assert "(500)" in approve.text
    approve.click()
    wait_until(lambda: browser.find_elements(By.ID, "decided-count"), 120,
               "the result of approving the campaign")
    result = browser.find_element(By.ID, "decided-count").text
    assert "Approved: 500" in result, result
    assert not browser.find_elements(By.ID, "skipped")
    assert "5" in browser.find_element(By.ID, "additions-waiting").text
    assert statuses(engine, letters.members) == {"approved": MEMBERS}
    assert app.publishes == ["publish"]

    # One member's own sentence, approved on its own; the other four keep waiting.
    chosen = letters.with_own[0]
    browser.find_element(By.ID, "back-to-campaign").click()
    wait_until(lambda: browser.find_elements(By.ID, f"member-{chosen}"), 10,
               "back on the campaign's page")
    browser.find_element(
        By.CSS_SELECTOR, f"#member-{chosen} button[name=decision][value=approve]").click()
    wait_until(lambda: "done=additions-approve" in browser.current_url, 10,
               "the additions approved")
    assert "The additions of" in browser.find_element(By.ID, "done").text
    with Session(engine) as session:
        decided = {c.id: c.additions_status for c in session.exec(
            select(Comment).where(col(Comment.id).in_(letters.with_own))).all()}
    assert decided[chosen] == AdditionsStatus.APPROVED
    assert [decided[i] for i in letters.with_own] == [
        AdditionsStatus.APPROVED, *[AdditionsStatus.PENDING] * 4]
    assert app.publishes == ["publish", "publish"]

    # The operator publishes; the site is read through the app's /site, as staff read it.
    published = run_cli(settings, "publish", "--json")
    assert published.returncode == 0, published.stderr
    assert json.loads(published.stdout)["comments"] == MEMBERS
    with Session(engine) as session:
        campaign = session.get(Campaign, campaign_id)
        assert campaign is not None
        labels = commitments_of(session, campaign.representative_comment_id)
    assert labels
    approved_own, waiting_own = own_sentence(OWN_AT), own_sentence(OWN_EVERY + OWN_AT)
    for label in labels:
        for language in ("sq", "en"):
            browser.get(f"{app.url}/site/{language}/commitments/{label}.html")
            # The campaign once, with its true count and the one addition approved.
            [block] = browser.find_elements(By.CSS_SELECTOR, "article.campaign")
            assert block.find_element(By.CSS_SELECTOR, ".campaign-count").text == "500"
            additions = [item.text for item in
                         block.find_elements(By.CSS_SELECTOR, "ul.additions .own")]
            assert additions == [approved_own]
            page = browser.page_source
            assert page.count(LETTER_OPENING) == 1, f"{language}/{label}"
            assert waiting_own not in page
    # The campaign's own page: the whole text, the count, the addition.
    browser.get(f"{app.url}/site/en/campaigns/{campaign_id}.html")
    [block] = browser.find_elements(By.CSS_SELECTOR, "article.campaign")
    assert block.find_element(By.CSS_SELECTOR, ".campaign-count").text == "500"
    assert LETTER_WORDS in block.text
    assert approved_own in block.text
    assert waiting_own not in browser.page_source

    # The digest counts one campaign of 500 comments, and no comment sent alone.
    digest = run_cli(settings, "digest", "--format", "json")
    assert digest.returncode == 0, digest.stderr
    figures = json.loads(digest.stdout)
    assert figures["received"] == MEMBERS
    assert (figures["campaigns"]["count"], figures["campaigns"]["comments"]) == (1, MEMBERS)
    assert figures["campaigns"]["by_campaign"][str(campaign_id)]["count"] == MEMBERS
    assert figures["unique"]["count"] == 0
    assert figures["campaigns_summary"]["en"] == "1 campaign of 500 comments; 0 unique comments"
