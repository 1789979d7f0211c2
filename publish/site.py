"""``ogp-feedback publish``: the only module that writes the public site.

The new site is rendered into a sibling folder and swapped in, so a reader
never sees half a site; comments are marked published only after the swap.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from config.catalogue import Catalogue
from intake.sanitize import display_html
from moderation.db import session_scope
from moderation.models import CommentStatus, utcnow
from moderation.public import public_view, publishable_comments
from moderation.responses import plan_response_notices, responses_by_comment
from moderation.transitions import NoticePolicy, mark_published
from publish.digest_site import record_files
from publish.render import render_site


@dataclass(frozen=True)
class PublishReport:
    total: int
    newly_published: int
    pages: int
    # Response notices planned by this run (the caller sends them).
    response_notices: int = 0


def write_site(out: Path, files: dict[str, str]) -> None:
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-new-", dir=out.parent))
    for name, content in files.items():
        path = staging / name  # "digests/2020-W37.html": a folder of its own
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    # mkdtemp makes 0700; the site is public and a web server user must read it.
    os.chmod(staging, 0o755)  # noqa: S103
    if out.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}-old-", dir=out.parent))
        old.rmdir()
        out.rename(old)
        staging.rename(out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        staging.rename(out)


def publish_site(
    engine: Engine, catalogue: Catalogue, out: Path, actor: str, contact_url: str = "/contact",
    notices: NoticePolicy | None = None, time_zone: str = "Europe/Tirane",
) -> PublishReport:
    """``notices``: plan a 'published' notice for each newly published comment, and
    (``notices.responses``) a response notice for each comment whose response the site
    now shows; the caller sends them after this returns, when the commit has made them
    visible."""
    with session_scope(engine) as session:
        comments = publishable_comments(session)
        now = utcnow()
        responses = responses_by_comment(session)
        public = public_view(session, comments, display_html, responses)
        site = render_site(catalogue, public, generated_at=now, contact_url=contact_url)
        newly = mark_published(
            session, [c for c in comments if c.status == CommentStatus.APPROVED], actor,
            notices=notices,
        )
        session.flush()
        # Weekly digests (weeks in ``time_zone``) and statistics count what this run
        # publishes, and are swapped in with the pages.
        write_site(out, {**site.files, **record_files(session, catalogue, now, time_zone)})
        answered = (plan_response_notices(session, {c.id for c in public if c.response}, now)
                    if notices is not None and notices.responses else 0)
    return PublishReport(total=len(public), newly_published=newly, pages=len(site.files) - 1,
                         response_notices=answered)
