"""A moderators' working day in real browsers (headless Debian Chromium): keyboard,
search without diacritics, bulk approval, two moderators on one comment, undo."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from config.settings import Settings
from tests.conftest import CLI, free_port, run_cli, settings_env, wait_until
from tests.functional.chromium import start_chromium
from tests.functional.test_browser import _up
from tests.unit.factories import plain_mail

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

PASSWORD = "browser pass 123"
Browsers = Callable[[], WebDriver]


@pytest.fixture
def browsers(tmp_path: Path) -> Iterator[Browsers]:
    """Start as many separate browsers (separate profiles, separate cookies) as a test needs."""
    started: list[WebDriver] = []

    def start() -> WebDriver:
        chrome = start_chromium(tmp_path / f"profile-{len(started)}")
        started.append(chrome)
        return chrome

    yield start
    for chrome in started:
        chrome.quit()


@pytest.fixture
def server(settings: Settings, start_process: object, tmp_path: Path) -> str:
    """The real app (``ogp-feedback serve``) with six pending comments and two moderators."""
    texts = [
        ("Përshëndetje nga Shkodra", "Përshëndetje, regjistri i pronarëve përfitues duhet "
                                     "të jetë i hapur për të gjithë."),
        ("Buxheti i bashkisë", "Buxheti i bashkisë nuk botohet kurrë në kohë."),
        ("Qendrat e shërbimit", "Prita dy orë në sportel në qendrën e integruar."),
        ("Open data", "The open data portal should publish procurement data as CSV."),
        ("e-Albania", "Shërbimet në e-Albania nuk punojnë natën."),
        ("Drejtësia", "Vendimet e gjykatave duhet të botohen në internet."),
    ]
    folder = tmp_path / "mail"
    folder.mkdir()
    for number, (subject, text) in enumerate(texts):
        (folder / f"{number:02d}.eml").write_bytes(plain_mail(text, subject=subject))
    assert run_cli(settings, "import", "-q", str(folder)).returncode == 0
    for name in ("ana", "ben"):
        added = run_cli(settings, "users", "add", name, "--role", "moderator",
                        "--password-stdin", stdin=PASSWORD + "\n")
        assert added.returncode == 0, added.stderr
    port = free_port()
    env = settings_env(settings, OGP_UNDO_SECONDS="600", OGP_CLAIM_SECONDS="300")
    start_process([CLI, "serve", "--port", str(port)], env, name="serve")  # type: ignore[operator]
    base = f"http://127.0.0.1:{port}"
    wait_until(lambda: _up(base), 30, "the web UI answers")
    return base


def log_in(browser: WebDriver, base: str, name: str) -> None:
    browser.get(f"{base}/queue")
    browser.find_element(By.ID, "username").send_keys(name)
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form[action='/login'] button").click()
    wait_until(lambda: "/queue" in browser.current_url and "/login" not in browser.current_url,
               10, "logged in, at the queue")


def queue(settings: Settings, status: str) -> list[dict[str, object]]:
    result = run_cli(settings, "queue", "--status", status, "--json")
    assert result.returncode == 0, result.stderr
    items: list[dict[str, object]] = json.loads(result.stdout)
    return items


def press(browser: WebDriver, key: str) -> None:
    browser.find_element(By.TAG_NAME, "body").send_keys(key)


def test_keyboard_search_bulk_claims_and_undo(settings: Settings, server: str,
                                              browsers: Browsers) -> None:
    ana = browsers()
    log_in(ana, server, "ana")

    # Keyboard: j moves to the first row, Enter opens it, a approves three in a row.
    press(ana, "j")
    press(ana, "\ue007")  # Enter
    wait_until(lambda: "/comments/" in ana.current_url, 10, "a comment opened")
    for done in range(1, 4):
        before = ana.current_url
        press(ana, "a")
        wait_until(lambda was=before: ana.current_url != was, 10,
                   "the next comment after approving")
        wait_until(lambda count=done: len(queue(settings, "approved")) == count, 10,
                   f"{done} approved")
    # The page after a decision offers to undo it; '?' shows the shortcuts.
    assert ana.find_element(By.ID, "decided").is_displayed()
    press(ana, "?")
    assert ana.find_element(By.ID, "keyboard-help").is_displayed()

    # Undo the last decision from the banner.
    ana.find_element(By.ID, "undo-last").click()
    wait_until(lambda: len(queue(settings, "approved")) == 2, 10, "the undo took effect")

    # Search without diacritics finds the comment written with them.
    ana.get(f"{server}/queue?status=all")
    search = ana.find_element(By.NAME, "q")
    search.send_keys("pershendetje")
    search.submit()
    wait_until(lambda: "q=pershendetje" in ana.current_url, 10, "the search ran")
    rows = ana.find_elements(By.CSS_SELECTOR, "tr[data-href]")
    assert [row.text for row in rows if "Përshëndetje nga Shkodra" in row.text]
    assert len(rows) == 1

    # Bulk-approve a selection of two from the pending queue.
    ana.get(f"{server}/queue?status=pending")
    boxes = ana.find_elements(By.CSS_SELECTOR, "input[type=checkbox][name=ids]")
    assert len(boxes) == 4
    chosen = [box.get_attribute("value") for box in boxes[:2]]
    for box in boxes[:2]:
        box.click()
    ana.find_element(By.CSS_SELECTOR, "button[name=action][value=approve]").click()
    wait_until(lambda: len(queue(settings, "approved")) == 4, 10, "bulk approval")
    approved_ids = {str(item["id"]) for item in queue(settings, "approved")}
    assert set(chosen) <= approved_ids

    # Two moderators open the same comment: the second sees who holds it, and its
    # approve, made from the version it saw, is refused once the first decided.
    left = queue(settings, "pending")[0]
    ana.get(f"{server}/comments/{left['id']}")
    ben = browsers()
    log_in(ben, server, "ben")
    ben.get(f"{server}/comments/{left['id']}")
    assert "ana" in ben.find_element(By.ID, "claim").text
    ana.find_element(By.CSS_SELECTOR, "#approve-form button").click()
    wait_until(lambda: "decided=" in ana.current_url, 10, "ana's approval")
    ben.find_element(By.CSS_SELECTOR, "#approve-form button").click()
    wait_until(lambda: ben.find_elements(By.ID, "changes"), 10, "the conflict page")
    assert "changed since you opened it" in ben.find_element(By.ID, "error").text
    assert "ana" in ben.find_element(By.ID, "changes").text
    assert left["id"] in {item["id"] for item in queue(settings, "approved")}

    # Every action above is in the audit log with its actor.
    audit = run_cli(settings, "audit", "--csv")
    actions = [line.split(",")[2:4] for line in audit.stdout.splitlines()[1:]]
    assert actions.count(["ana", "approve"]) == 6
    assert ["ana", "undo"] in actions
    assert ["ana", "login"] in actions
    assert ["ben", "login"] in actions
