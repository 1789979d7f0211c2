"""A citizen sends the contact form from a browser with JavaScript turned off, through
``ogp-feedback serve`` with the form's defences on (signed form token, typing time)."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
from selenium.webdriver.common.by import By
from sqlmodel import Session, select

from config.settings import Settings
from moderation.db import make_engine
from moderation.models import InboundMessage, InboundSource
from tests.conftest import CLI, free_port, settings_env, wait_until
from tests.functional.chromium import start_chromium
from tests.unit.factories import SQLITE_ONLY

MIN_SECONDS = 1.0


def _up(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@SQLITE_ONLY
def test_the_form_works_with_javascript_off(settings: Settings, start_process: object,
                                            tmp_path: Path) -> None:
    port = free_port()
    env = settings_env(settings, OGP_FORM_MIN_SECONDS=str(MIN_SECONDS))
    start_process([CLI, "serve", "--port", str(port)], env, name="serve")  # type: ignore[operator]
    base = f"http://127.0.0.1:{port}"
    wait_until(lambda: _up(base), 30, "the web UI answers")
    browser = start_chromium(tmp_path / "chromium-profile", javascript=False)
    try:
        # Scripts are really off: a <noscript> block is shown.
        browser.get("data:text/html,<noscript><p id='off'>off</p></noscript>")
        assert browser.find_elements(By.ID, "off")

        browser.get(f"{base}/contact?commitment=9")
        served = time.monotonic()
        browser.find_element(By.ID, "name").send_keys("Ana Hoxha")
        browser.find_element(By.ID, "email").send_keys("ana.hoxha@example.org")
        browser.find_element(By.ID, "comment").send_keys(
            "Buxhetet e bashkive duhet të publikohen çdo muaj në format të hapur.")
        # A person takes longer than the typing-time check; the browser may not.
        time.sleep(max(0.0, MIN_SECONDS + 0.2 - (time.monotonic() - served)))
        browser.find_element(By.CSS_SELECTOR, "form[action='/contact'] button").click()
        wait_until(lambda: "/contact/thanks?ref=OGP-" in browser.current_url, 15,
                   "the thank-you page")
        reference = browser.find_element(By.ID, "reference").text
    finally:
        browser.quit()
    engine = make_engine(settings.database_url)
    try:
        with Session(engine) as session:
            [message] = session.exec(select(InboundMessage)).all()
    finally:
        engine.dispose()
    assert message.source == InboundSource.FORM
    assert reference == f"OGP-{message.id:06d}"
