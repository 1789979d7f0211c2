"""The public site's record of the consultation: weekly digests and the statistics page.

Called by ``publish_site`` inside its transaction, after the comments of this run are
marked published, so the pages count what the site shows. Weekly digests read only
published comments (``public_only``); the statistics page reads every comment but
shows counts only.

The pages are the site variant of the digest's HTML: under the site's strict
Content-Security-Policy, so their CSS is ``assets/digest.css`` and each chart an
``.svg`` file of its own, returned with the pages.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session

from config.catalogue import Catalogue
from publish.digest import Period, statistics_of
from publish.digest_load import load_digest, load_weekly_digests
from publish.digest_render import (
    DIGEST_STYLESHEET,
    DIGESTS_DIR,
    DIGESTS_INDEX,
    STATISTICS_PAGE,
    Links,
    SitePage,
    digest_page,
    digest_stylesheet,
    render_digests_index,
    render_statistics,
    week_file,
)
from publish.urls import relative

DIGEST_CHARTS = f"{DIGESTS_DIR}/charts"
STATISTICS_CHARTS = "charts"


def record_files(session: Session, catalogue: Catalogue, generated_at: datetime,
                 time_zone: str) -> dict[str, str]:
    """Path from the site's root -> text: ``statistics.html``, ``digests/index.html``,
    ``digests/<ISO week>.html``, their charts (``charts/statistics-<name>.svg``,
    ``digests/charts/<ISO week>-<name>.svg``) and ``assets/digest.css``."""
    zone = ZoneInfo(time_zone)
    everything = Period(None, None, zone)
    weekly = load_weekly_digests(session, catalogue, everything, generated_at)
    files = {DIGEST_STYLESHEET: digest_stylesheet(),
             DIGESTS_INDEX: render_digests_index(weekly, catalogue, generated_at, zone)}
    back = ("index.html", "Të gjitha përmbledhjet / All weekly digests")
    for digest in weekly:
        name = week_file(digest)
        path = f"{DIGESTS_DIR}/{name}"
        site = SitePage(path, DIGEST_CHARTS, chart_prefix=f"{name.removesuffix('.html')}-")
        page = digest_page(digest, catalogue, Links(public=True, prefix=relative(path, "")),
                           site=site, back=back)
        files[path] = page.html
        files.update(page.files)
    # Every comment, counted; no id, text or date of any comment leaves this function.
    overall = load_digest(session, catalogue, everything, generated_at, public_only=False,
                          with_quotes=False)
    statistics = render_statistics(statistics_of(overall), catalogue, generated_at, zone,
                                   site=SitePage(STATISTICS_PAGE, STATISTICS_CHARTS))
    files[STATISTICS_PAGE] = statistics.html
    files.update(statistics.files)
    return files
