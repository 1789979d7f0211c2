"""``publish_site`` writes the public site from the database, without any address."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from config.catalogue import default_catalogue
from config.settings import Settings
from intake.receipts import reference_for
from moderation.db import session_scope
from moderation.models import CommentStatus, ModerationEvent, utcnow
from moderation.redaction import PLACEHOLDER
from moderation.transitions import approve, withdraw
from publish.site import next_settlement, publish_site
from publish.urls import comment_page
from tests.published import published_files
from tests.unit.factories import load_comment, make_comment

ADDRESS = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+")
SENDER = "Ana.Hoxha@Example.org"
MENTIONED = "zyra.shtypit@kryeministria.al"


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

    files = published_files(settings.site_dir)
    reference = reference_for(load_comment(engine, comment_id).inbound_id)
    page = comment_page("sq", reference)
    assert {"index.html", "sq/commitments/general.html", "sq/commitments/4.html", page,
            comment_page("en", reference), "data/comments.csv"} <= set(files)
    assert "TOKPUB" in files[page]
    assert "TOKPUB" in files["sq/commitments/4.html"]
    assert PLACEHOLDER in files[page]
    for name, content in files.items():
        if name.startswith("pagefind/") and name.endswith((".js", ".css", ".wasm")):
            continue  # Pagefind's own code (its authors' addresses), not our data
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


def test_publishing_again_without_a_change_writes_nothing(settings: Settings,
                                                         engine: Engine) -> None:
    comment_id = make_comment(engine, text="Buxheti i qytetarit TOKAGAIN.")
    with session_scope(engine) as session:
        approve(session, comment_id, "mira")
    first = publish_site(engine, default_catalogue(), settings.site_dir, actor="publisher")

    again = publish_site(engine, default_catalogue(), settings.site_dir, actor="publisher")

    assert (first.total, first.newly_published, first.pages_unchanged) == (1, 1, 0)
    assert (again.total, again.newly_published) == (1, 0)
    # The statistics page says when it was made: the only page a quiet publish rewrites.
    assert again.pages_written <= 1
    assert again.pages_unchanged == again.pages - again.pages_written
    assert "TOKAGAIN" in published_files(settings.site_dir)["sq/commitments/9.html"]


def test_an_approval_inside_its_undo_window_waits(settings: Settings, engine: Engine) -> None:
    comment_id = make_comment(engine, text="Ende mund të kthehet TOKUNDO.")
    with session_scope(engine) as session:
        approve(session, comment_id, "mira")

    report = publish_site(engine, default_catalogue(), settings.site_dir, actor="publisher",
                          settled_before=utcnow() - timedelta(minutes=10))

    assert (report.total, report.newly_published) == (0, 0)
    assert load_comment(engine, comment_id).status == CommentStatus.APPROVED
    assert next_settlement(engine, 600) is not None
    assert all("TOKUNDO" not in text for text in published_files(settings.site_dir).values())


def test_a_withdrawn_comment_leaves_the_site(settings: Settings, engine: Engine) -> None:
    kept, gone = (make_comment(engine, text=f"Komenti {word}.") for word in ("TOKKEEP", "TOKGONE"))
    with session_scope(engine) as session:
        approve(session, kept, "mira")
        approve(session, gone, "mira")
    publish_site(engine, default_catalogue(), settings.site_dir, actor="publisher")
    gone_page = comment_page("sq", reference_for(load_comment(engine, gone).inbound_id))
    assert gone_page in published_files(settings.site_dir)

    with session_scope(engine) as session:
        withdraw(session, gone, "mira", "the citizen asked")
    publish_site(engine, default_catalogue(), settings.site_dir, actor="publisher")

    files = published_files(settings.site_dir)
    assert gone_page not in files
    assert all("TOKGONE" not in text for text in files.values())
    assert any("TOKKEEP" in text for text in files.values())
