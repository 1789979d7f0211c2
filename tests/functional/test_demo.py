"""The demo's non-serving part, exactly as ``make demo`` runs it."""

from __future__ import annotations

import json
import re
from pathlib import Path

from config.catalogue import default_catalogue
from config.settings import Settings
from tests.conftest import SECRET, run_cli
from tests.published import published_files
from workers.demo import SAMPLE_MAILBOX


def test_demo_loads_sample_mailbox_and_publishes(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path}/demo.db", site_dir=tmp_path / "site",
                        secret_key=SECRET)
    sample_count = len(list(SAMPLE_MAILBOX.glob("*.eml")))
    assert sample_count >= 40

    result = run_cli(settings, "demo", "--no-serve", timeout=300)
    assert result.returncode == 0, result.stderr
    assert f"sample mailbox: {sample_count} new messages" in result.stdout
    assert "http://127.0.0.1:8000/" in result.stdout
    login = re.search(r"login\s+: moderator / (\S+)", result.stdout)
    assert login, result.stdout

    def count(status: str) -> int:
        out = run_cli(settings, "queue", "--status", status, "--json")
        return len(json.loads(out.stdout))

    assert count("published") == 12
    assert count("pending") == sample_count - 12
    site = published_files(tmp_path / "site")
    budget = default_catalogue().label("9")
    assert budget.title_sq in site["index.html"]
    assert budget.title_en in site["en/index.html"]
    fronts = [name for name in site if re.fullmatch(r"(sq|en)/commitments/\d+\.html", name)]
    assert len(fronts) == 20
    comment_pages = [name for name in site if "/comments/" in name]
    assert len(comment_pages) == 2 * 12
    assert "@example" not in "".join(site.values())

    # Running it again adds nothing and publishes nothing twice.
    again = run_cli(settings, "demo", "--no-serve", timeout=300)
    assert again.returncode == 0, again.stderr
    assert f"0 new messages, {sample_count} already imported" in again.stdout
    assert count("published") == 12
