"""``ogp-feedback demo``: the whole job on embedded defaults, in one command.

Initialise the database, import the bundled sample mailbox through the normal
intake code, approve a few comments, publish, print a moderator login, serve.

It resets an account, approves comments and publishes: it must never run against a
real consultation. It refuses under ``OGP_ENVIRONMENT=production`` and on a database
holding any message it did not import itself, before it changes anything.
"""

from __future__ import annotations

import hashlib
import secrets
from pathlib import Path

from sqlalchemy import Engine, inspect
from sqlmodel import Session, col, func, select

from config.settings import Environment, Settings
from intake.importer import import_paths, iter_raw_messages
from moderation.catalogue_sync import sync_catalogue
from moderation.db import migrate, session_scope
from moderation.models import Comment, CommentStatus, InboundMessage
from moderation.transitions import approve
from moderation.users import add_user
from publish.site import publish_with_settings
from workers.cli import CliError
from workers.runtime import Runtime

SAMPLE_MAILBOX = Path(__file__).resolve().parent.parent / "config" / "sample_mailbox"
DEMO_USER = "moderator"
APPROVE_COUNT = 12


START_AFRESH = ("Point OGP_DATABASE_URL at a database of its own (make demo uses "
                "var/demo/ogp-feedback.db; make clean removes it).")


def sample_hashes() -> frozenset[str]:
    """The SHA-256 of each sample message, as ``import`` stores it."""
    return frozenset(hashlib.sha256(raw).hexdigest() for raw in iter_raw_messages(SAMPLE_MAILBOX))


def foreign_messages(engine: Engine, ours: frozenset[str]) -> int:
    """Stored messages (and so comments) that are not the demo's own sample mail."""
    if not inspect(engine).has_table(InboundMessage.__tablename__):
        return 0  # a new database: nothing in it to protect
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(InboundMessage)
                            .where(col(InboundMessage.sha256).not_in(sorted(ours)))).one()


def refusal(settings: Settings, engine: Engine) -> str | None:
    """Why the demo must not run here, or ``None``; reads, never writes."""
    if settings.environment is Environment.PRODUCTION:
        return ("demo refused: OGP_ENVIRONMENT is production, and the demo resets the "
                f"'{DEMO_USER}' account, approves comments and publishes them. Nothing was "
                "changed. " + START_AFRESH)
    foreign = foreign_messages(engine, sample_hashes())
    if foreign:
        return (f"demo refused: this database already holds {foreign} message(s) and their "
                "comments that the demo did not import, and the demo would approve and "
                "publish them. Nothing was changed. " + START_AFRESH)
    return None


def run_demo(runtime: Runtime, serve: bool, host: str, port: int) -> int:
    settings = runtime.settings
    refused = refusal(settings, runtime.engine)
    if refused is not None:
        raise CliError(refused)
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
