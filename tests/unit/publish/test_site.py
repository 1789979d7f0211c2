"""``publish_site`` writes the public site from the database, without any address."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from config.catalogue import default_catalogue
from config.settings import Settings
from moderation.db import session_scope
from moderation.models import CommentStatus, ModerationEvent
from moderation.redaction import PLACEHOLDER
from moderation.transitions import approve
from publish.site import publish_site
from tests.unit.factories import SQLITE_ONLY, load_comment, make_comment

ADDRESS = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+")
SENDER = "Ana.Hoxha@Example.org"
MENTIONED = "zyra.shtypit@kryeministria.al"


def site_files(site: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in site.iterdir() if p.is_file()}


def test_publish_writes_no_address_and_marks_published(settings: Settings,
                                                       engine: Engine) -> None:
    comment_id = make_comment(
        engine,
        text=f"Portali i të dhënave të hapura TOKPUB. Shkruani te {MENTIONED} ose "
             f"mailto:{MENTIONED}.",
        subject=f"Pyetje nga {SENDER}",
        sender=f"Ana Hoxha <{SENDER}>",
    )
    pending_id = make_comment(engine, text="Ende në pritje TOKWAIT.")
    with session_scope(engine) as session:
        approve(session, comment_id, "mira")
    assert load_comment(engine, comment_id).author_email == SENDER.lower()

    report = publish_site(engine, default_catalogue(), settings.site_dir, actor="publisher")

    files = site_files(settings.site_dir)
    assert {"index.html", "general.html", "commitment-4.html"} <= set(files)
    assert "TOKPUB" in files["commitment-4.html"]
    assert PLACEHOLDER in files["commitment-4.html"]
    for name, content in files.items():
        assert ADDRESS.findall(content) == [], name
        assert SENDER.lower() not in content.lower(), name
        assert "Ana Hoxha" not in content, name
        assert "TOKWAIT" not in content, name  # pending comments stay private
    assert (report.total, report.newly_published) == (1, 1)

    comment = load_comment(engine, comment_id)
    assert comment.status == CommentStatus.PUBLISHED
    assert comment.published_at is not None
    assert load_comment(engine, pending_id).status == CommentStatus.PENDING
    with Session(engine) as session:
        actions = session.exec(select(ModerationEvent.action)
                               .where(ModerationEvent.comment_id == comment_id)
                               .order_by(col(ModerationEvent.id))).all()
    assert actions == ["classify", "approve", "publish"]


@SQLITE_ONLY
def test_publishing_again_keeps_published_comments_and_replaces_the_site(
    settings: Settings, engine: Engine
) -> None:
    comment_id = make_comment(engine, text="Buxheti i qytetarit TOKAGAIN.")
    with session_scope(engine) as session:
        approve(session, comment_id, "mira")
    publish_site(engine, default_catalogue(), settings.site_dir, actor="publisher")
    (settings.site_dir / "stale.html").write_text("old", encoding="utf-8")

    report = publish_site(engine, default_catalogue(), settings.site_dir, actor="publisher")

    assert (report.total, report.newly_published) == (1, 0)
    files = site_files(settings.site_dir)
    assert "stale.html" not in files
    assert "TOKAGAIN" in files["commitment-9.html"]
    assert [p.name for p in settings.site_dir.parent.iterdir() if p.name.startswith(".")] == []
