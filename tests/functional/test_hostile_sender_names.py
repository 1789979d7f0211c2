"""Mail whose sender names carry encoded line breaks, quotes, angle brackets, commas and
markup: imported like any mailbox, every comment keeps who wrote it, and the moderator
sees the name (without its control characters) and the address."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from markupsafe import escape
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from config.settings import Settings
from intake.importer import import_paths
from moderation.db import session_scope
from moderation.models import Comment, InboundMessage
from moderation.users import add_user
from moderation.web.app import create_app
from tests.hostile_senders import HOSTILE_NAMES, expected_name, has_control_characters, hostile_mail
from tests.unit.factories import CLASSIFIER
from tests.unit.moderation.web.staff import TestClient, log_in
from workers.pipeline import Outcome, process_inbound

MESSAGES = 50


def senders() -> list[tuple[str, str, str]]:
    """(display name, address, encoding) for each message: every hostile name, both ways."""
    return [(f"{HOSTILE_NAMES[n % len(HOSTILE_NAMES)]} {n}", f"qytetar.{n}@example.al",
             "qb"[(n // len(HOSTILE_NAMES)) % 2]) for n in range(MESSAGES)]


def test_fifty_hostile_sender_names_keep_their_addresses(
        settings: Settings, engine: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "mailbox"
    folder.mkdir()
    for n, (name, address, how) in enumerate(senders()):
        (folder / f"{n:02d}.eml").write_bytes(hostile_mail(name, address, how, number=n))

    def process(ids: Sequence[int]) -> None:
        for inbound_id in ids:
            assert process_inbound(engine, inbound_id, CLASSIFIER).outcome is Outcome.PENDING

    summary = import_paths(engine, [folder], process)
    assert summary.stored == MESSAGES

    with Session(engine) as session:
        rows = session.exec(
            select(Comment, InboundMessage.message_id)
            .join(InboundMessage, col(Comment.inbound_id) == col(InboundMessage.id))).all()
    by_number = {int(message_id.split("-")[1]): comment for comment, message_id in rows
                 if message_id is not None}
    assert sorted(by_number) == list(range(MESSAGES))
    for n, (name, address, _how) in enumerate(senders()):
        comment = by_number[n]
        assert comment.author_email == address
        assert comment.author_name == expected_name(name)
        assert not has_control_characters(comment.author_name)

    with session_scope(engine) as session:
        add_user(session, "mira", "moderator", "kodi-i-fshehte-2020")
    with TestClient(create_app(settings, engine=engine), follow_redirects=False) as client:
        log_in(client, "mira", "kodi-i-fshehte-2020")
        for n in (0, 1, 3, 5, 16, 27):  # line breaks, Bcc, quotes, markup; q and b
            comment = by_number[n]
            page = client.get(f"/comments/{comment.id}")
            assert page.status_code == 200
            assert f"{escape(comment.author_name)} &lt;{comment.author_email}&gt;" in page.text
