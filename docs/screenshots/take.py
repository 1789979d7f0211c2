"""Screenshots for the README: the staff digest, the public statistics page, and the
public site's index, a commitment page and a comment page in Albanian, wide and narrow.

usage: .venv/bin/python docs/screenshots/take.py

Builds the generated consultation of the digest's tests (600 comments over six weeks)
in a throw-away SQLite database, writes the digest with ``ogp-feedback digest`` and the
public site with ``publish_site``, and photographs both with headless Chromium. The
public site's pages come from a second database holding the generated consultation of
the public site's browser test (170 approved comments, responses, diacritics). The
PNGs are reduced to a small palette to stay small.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from PIL import Image  # noqa: E402

from config.catalogue import default_catalogue  # noqa: E402
from moderation.catalogue_sync import sync_catalogue  # noqa: E402
from moderation.db import make_engine, migrate, session_scope  # noqa: E402
from publish import urls  # noqa: E402
from publish.site import publish_site  # noqa: E402
from tests.functional.test_public_site_browser import BUSY  # noqa: E402
from tests.functional.test_public_site_browser import generate as generate_site  # noqa: E402
from tests.unit.publish.digest_consultation import generate  # noqa: E402

OUT = Path(__file__).resolve().parent
CLI = str(Path(sys.executable).parent / "ogp-feedback")
WIDTH = 1000


def shoot(page: Path, png: Path, height: int, width: int = WIDTH) -> None:
    subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu",
                    "--hide-scrollbars", f"--window-size={width},{height}",
                    f"--screenshot={png}", page.as_uri()],
                   check=True, capture_output=True, timeout=120)
    image = Image.open(png).convert("RGB")
    image.quantize(colors=64, method=Image.Quantize.MEDIANCUT).save(png, optimize=True)
    print(f"{png.relative_to(ROOT)}: {png.stat().st_size // 1024} KiB")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/ogp.db"
        migrate(url)
        engine = make_engine(url)
        with session_scope(engine) as session:
            sync_catalogue(session, default_catalogue())
        generate(engine)
        digest = Path(tmp) / "digest.html"
        subprocess.run([CLI, "digest", "--since", "2020-09-01", "--until", "2020-10-15",
                        "--out", str(digest)], check=True,
                       env={**os.environ, "OGP_DATABASE_URL": url})
        site = Path(tmp) / "site"
        publish_site(engine, default_catalogue(), site, actor="publisher")
        shoot(digest, OUT / "digest.png", 2300)
        shoot(site / "statistics.html", OUT / "statistics.png", 2000)
        public_site(Path(tmp))


def public_site(tmp: Path) -> None:
    """The public site in Albanian at 1280 px and at 360 px (a phone)."""
    url = f"sqlite:///{tmp}/site.db"
    migrate(url)
    engine = make_engine(url)
    with session_scope(engine) as session:
        sync_catalogue(session, default_catalogue())
    consultation = generate_site(engine)
    site = tmp / "public"
    publish_site(engine, default_catalogue(), site, actor="publisher")
    pages = {"index": urls.index_page("sq"), "commitment": urls.commitment_page("sq", BUSY),
             "comment": urls.comment_page("sq", consultation.answered_reference)}
    for name, path in pages.items():
        shoot(site / path, OUT / f"site-{name}-1280.png", 1100, width=1280)
        shoot(site / path, OUT / f"site-{name}-360.png", 1300, width=360)


if __name__ == "__main__":
    main()
