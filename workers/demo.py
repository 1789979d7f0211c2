"""``ogp-feedback demo``: the whole job on embedded defaults, in one command.

Initialise the database, import the bundled sample mailbox through the normal
intake code, approve a few comments, publish, print a moderator login, serve.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from sqlmodel import col, func, select

from intake.importer import import_paths
from moderation.catalogue_sync import sync_catalogue
from moderation.db import migrate, session_scope
from moderation.models import Comment, CommentStatus
from moderation.transitions import approve
from moderation.users import add_user
from publish.site import publish_with_settings
from workers.runtime import Runtime

SAMPLE_MAILBOX = Path(__file__).resolve().parent.parent / "config" / "sample_mailbox"
DEMO_USER = "moderator"
APPROVE_COUNT = 12


def run_demo(runtime: Runtime, serve: bool, host: str, port: int) -> int:
    settings = runtime.settings
    migrate(settings.database_url)
    with session_scope(runtime.engine) as session:
        sync_catalogue(session, runtime.catalogue)
    summary = import_paths(runtime.engine, [SAMPLE_MAILBOX], runtime.enqueue)
    print(f"sample mailbox: {summary.stored} new messages, {summary.duplicates} already imported")

    password = secrets.token_urlsafe(12)
    with session_scope(runtime.engine) as session:
        add_user(session, DEMO_USER, "admin", password)

    with session_scope(runtime.engine) as session:
        decided = session.exec(
            select(func.count()).select_from(Comment).where(
                col(Comment.status).in_([CommentStatus.APPROVED, CommentStatus.PUBLISHED])
            )
        ).one()
        wanted = max(0, APPROVE_COUNT - decided)
        pending = session.exec(
            select(Comment.id).where(Comment.status == CommentStatus.PENDING)
            .order_by(col(Comment.id)).limit(wanted)
        ).all()
        for comment_id in pending:
            if comment_id is not None:
                approve(session, comment_id, DEMO_USER)
    report = publish_with_settings(runtime.engine, runtime.catalogue, settings, actor=DEMO_USER)
    with session_scope(runtime.engine) as session:
        waiting = session.exec(
            select(func.count()).select_from(Comment).where(Comment.status == CommentStatus.PENDING)
        ).one()
    print(f"published {report.total} comments to {settings.site_dir}/; {waiting} wait in the queue")
    print()
    print(f"  moderation UI : http://{host}:{port}/")
    print(f"  public site   : http://{host}:{port}/site/")
    print(f"  contact form  : http://{host}:{port}/contact")
    print(f"  login         : {DEMO_USER} / {password}  (role admin: every page can be tried)")
    print()
    if not serve:
        return 0
    import uvicorn

    uvicorn.run(runtime.web_app(), host=host, port=port, log_config=None)
    return 0
