"""Approvals republish the site through a task: once per burst, after the undo window."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from config.settings import Settings
from moderation.db import session_scope
from moderation.models import Comment, CommentStatus
from moderation.users import add_user
from tests.conftest import CLI, derive, settings_env, wait_until
from tests.published import published_files
from tests.unit.factories import make_comment
from tests.unit.moderation.web.staff import TestClient, log_in
from workers.runtime import Runtime

PASSWORD = "kodi-i-fshehte-2020"
VERSION = re.compile(r'name="version" value="(\d+)"')


def statuses(engine: Engine, ids: list[int]) -> list[str]:
    with Session(engine) as session:
        return list(session.exec(select(Comment.status).where(col(Comment.id).in_(ids))
                                 .order_by(col(Comment.id))).all())


def test_a_burst_of_approvals_in_the_ui_costs_one_publish(
        settings: Settings, engine: Engine, redis_url: str, start_process: object) -> None:
    settings = derive(settings, broker_url=redis_url, celery_queue=f"test-{uuid.uuid4().hex[:8]}",
                      undo_seconds=0, publish_debounce_seconds=3)
    env = settings_env(settings, OGP_UNDO_SECONDS="0", OGP_PUBLISH_DEBOUNCE_SECONDS="3")
    worker = start_process([CLI, "worker", "--concurrency", "1"], env,  # type: ignore[operator]
                           name="worker")
    worker.wait_for_output("ready", timeout=90)
    ids = [make_comment(engine, text=f"Buxheti i bashkisë TOKBURST{n}.") for n in range(3)]
    with session_scope(engine) as session:
        add_user(session, "mira", "moderator", PASSWORD)
    runtime = Runtime(settings)
    try:
        with TestClient(runtime.web_app(), follow_redirects=False) as client:
            csrf = log_in(client, "mira", PASSWORD)
            for comment_id in ids:
                page = client.get(f"/comments/{comment_id}")
                version = VERSION.search(page.text)
                assert version, page.text
                answer = client.post(f"/comments/{comment_id}/approve",
                                     data={"csrf_token": csrf, "version": version.group(1)},
                                     follow_redirects=False)
                assert answer.status_code == 303, answer.text
    finally:
        runtime.close()

    wait_until(lambda: statuses(engine, ids) == [CommentStatus.PUBLISHED] * 3, 90,
               "the three approved comments published by the worker's task")
    site = published_files(Path(settings.site_dir))
    assert all(any(f"TOKBURST{n}" in text for name, text in site.items()
                   if name.startswith("sq/comments/")) for n in range(3))
    # One task for the burst: one publish run, which published all three.
    runs = re.findall(r"published \d+ comments \((\d+) new\)", worker.output())  # type: ignore[attr-defined]
    assert runs == ["3"], worker.output()  # type: ignore[attr-defined]


def test_an_approval_is_not_published_while_it_can_be_undone(
        settings: Settings, engine: Engine) -> None:
    from workers.publishing import publish_due

    settings = derive(settings, undo_seconds=600)
    comment_id = make_comment(engine, text="Ende mund të kthehet TOKWAIT.")
    with session_scope(engine) as session:
        from moderation.transitions import approve

        approve(session, comment_id, "mira")
    runtime = Runtime(settings)
    try:
        report = publish_due(runtime)
    finally:
        runtime.close()
    assert report.newly_published == 0
    assert statuses(engine, [comment_id]) == [CommentStatus.APPROVED]
