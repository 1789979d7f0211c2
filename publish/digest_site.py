"""The public site's record of the consultation: weekly digests and the statistics page.

Called by ``publish_site`` inside its transaction, after the comments of this run are
marked published, so the pages count what the site shows. Weekly digests read only
published comments (``public_only``); the statistics page reads every comment but
shows counts only.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session

from config.catalogue import Catalogue
from publish.digest import Period, statistics_of
from publish.digest_load import load_digest, load_weekly_digests
from publish.digest_render import (
    Links,
    render_digests_index,
    render_html,
    render_statistics,
    week_file,
)

DIGESTS_DIR = "digests"
STATISTICS_PAGE = "statistics.html"


def record_files(session: Session, catalogue: Catalogue, generated_at: datetime,
                 time_zone: str) -> dict[str, str]:
    """``statistics.html``, ``digests/index.html`` and ``digests/<ISO week>.html``."""
    zone = ZoneInfo(time_zone)
    everything = Period(None, None, zone)
    weekly = load_weekly_digests(session, catalogue, everything, generated_at)
    files = {f"{DIGESTS_DIR}/index.html": render_digests_index(weekly, catalogue, generated_at,
                                                               zone)}
    links = Links(public=True, prefix="../")
    back = ("index.html", "Të gjitha përmbledhjet / All weekly digests")
    for digest in weekly:
        files[f"{DIGESTS_DIR}/{week_file(digest)}"] = render_html(digest, catalogue, links,
                                                                  back=back)
    # Every comment, counted; no id, text or date of any comment leaves this function.
    overall = load_digest(session, catalogue, everything, generated_at, public_only=False,
                          with_quotes=False)
    files[STATISTICS_PAGE] = render_statistics(statistics_of(overall), catalogue, generated_at,
                                               zone)
    return files
