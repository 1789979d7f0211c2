"""Headless Debian Chromium for the browser tests: one way to start it."""

from __future__ import annotations

import shutil
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver

from tests.conftest import unavailable

# Without the background-networking flags Chromium keeps calling home, and this machine's
# closed network refuses it many times a second.
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--no-first-run", "--disable-background-networking", "--disable-sync",
         "--disable-component-update", "--disable-quic")


def start_chromium(profile: Path, width: int = 1200, height: int = 900,
                   console: bool = False, javascript: bool = True) -> WebDriver:
    """A new browser with its own profile folder (its own cookies); ``console`` keeps the
    browser's log for ``get_log("browser")``; ``javascript=False`` blocks every page's
    scripts, as a citizen who turned them off."""
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not chromium or not driver:
        unavailable("chromium and chromedriver are not installed (make test installs them)")
    assert chromium is not None  # unavailable() skipped or failed the test otherwise
    assert driver is not None
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (*FLAGS, f"--window-size={width},{height}", f"--user-data-dir={profile}"):
        options.add_argument(flag)
    if console:
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    if not javascript:
        options.add_experimental_option(
            "prefs", {"profile.managed_default_content_settings.javascript": 2})
    chrome = webdriver.Chrome(service=Service(executable_path=driver), options=options)
    chrome.set_page_load_timeout(30)
    return chrome
