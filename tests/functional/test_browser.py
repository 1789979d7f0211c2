"""A moderator clears a comment in a real browser (headless Debian Chromium)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By

from config.settings import Settings
from tests.conftest import CLI, free_port, run_cli, settings_env, wait_until
from tests.functional.chromium import start_chromium
from tests.mailgen import build


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[webdriver.Chrome]:
    chrome = start_chromium(tmp_path / "chromium-profile")
    yield chrome
    chrome.quit()


def test_moderator_approves_in_browser(settings: Settings, browser: webdriver.Chrome,
                                       start_process: object, tmp_path: Path) -> None:
    hostile = build(7, "hostile-html", prefix="BRW")
    eml = tmp_path / "in.eml"
    eml.write_bytes(hostile.raw)
    assert run_cli(settings, "import", "-q", str(eml)).returncode == 0
    assert run_cli(settings, "users", "add", "ana", "--role", "moderator", "--password-stdin",
                   stdin="browser pass 123\n").returncode == 0
    port = free_port()
    start_process([CLI, "serve", "--port", str(port)], settings_env(settings), name="serve")  # type: ignore[operator]
    base = f"http://127.0.0.1:{port}"
    wait_until(lambda: _up(base), 30, "the web UI answers")

    browser.get(f"{base}/queue")
    assert browser.current_url.startswith(f"{base}/login")
    browser.find_element(By.ID, "username").send_keys("ana")
    browser.find_element(By.ID, "password").send_keys("browser pass 123")
    browser.find_element(By.CSS_SELECTOR, "form[action='/login'] button").click()
    wait_until(lambda: browser.current_url.endswith("/queue"), 10, "redirect to the queue")

    wait_until(lambda: browser.find_elements(By.PARTIAL_LINK_TEXT, "Tax revenue data"), 10,
               "the queue lists the comment")
    browser.find_element(By.PARTIAL_LINK_TEXT, "Tax revenue data").click()
    preview = browser.find_element(By.CLASS_NAME, "published-preview")
    assert hostile.token in preview.text
    # The hostile HTML's script never ran and left no element behind.
    # (The one script is the keyboard helper, from this origin.)
    assert browser.execute_script(
        "return document.querySelectorAll('script:not([src=\"/static/keys.js\"]), img')"
        ".length") == 0
    assert browser.execute_script("return document.body.innerText").count("owned") == 0
    browser.save_screenshot(str(tmp_path / "comment.png"))

    browser.find_element(By.CSS_SELECTOR, "form[action$='/approve'] button").click()
    # The last pending comment decided: back to the queue, with an offer to undo it.
    wait_until(lambda: "/queue?decided=" in browser.current_url, 10, "back to the queue")
    approved = json.loads(run_cli(settings, "queue", "--status", "approved", "--json").stdout)
    assert [item["subject"] for item in approved] == ["Tax revenue data"]


def _up(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
