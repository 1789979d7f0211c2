"""Factories that build real messages and real rows for the unit tests.

Comments are made the way production makes them: raw bytes stored with
``store_raw_batch``, then turned into a pending comment by ``process_inbound``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from config.catalogue import default_catalogue
from intake.classify import Classifier
from intake.store import RawMessage, store_raw_batch
from moderation.db import session_scope
from moderation.models import Comment, InboundSource
from workers.pipeline import Outcome, process_inbound

CLASSIFIER = Classifier(default_catalogue())

SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
"""For tests whose subject does not depend on the backend (HTTP headers, input checks).

A fresh PostgreSQL database costs about a second; the tests of what the database
does (transitions, sessions, imports, publishing) still run on both backends.
"""


def plain_mail(text: str, subject: str = "Koment për planin",
               sender: str = "Ana Hoxha <ana.hoxha@example.org>") -> bytes:
    """A UTF-8 text/plain message with a unique Message-ID."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "feedback@ogp.example.al"
    msg["Subject"] = subject
    msg["Date"] = format_datetime(datetime(2020, 9, 1, 9, 0, tzinfo=UTC))
    msg["Message-ID"] = make_msgid("unit", domain="example.org")
    msg.set_content(text)
    return msg.as_bytes()


def store(engine: Engine, *raws: bytes) -> list[int]:
    with session_scope(engine) as session:
        results = store_raw_batch(session, [RawMessage(raw, InboundSource.IMPORT) for raw in raws])
    return [result.inbound_id for result in results]


def comment_for(engine: Engine, inbound_id: int) -> Comment | None:
    with Session(engine) as session:
        return session.exec(select(Comment).where(Comment.inbound_id == inbound_id)).first()


def make_comment(engine: Engine, text: str = "Shërbimet në e-Albania nuk punojnë.",
                 **headers: str) -> int:
    """A pending comment, through the real intake; returns its id."""
    [inbound_id] = store(engine, plain_mail(text, **headers))
    assert process_inbound(engine, inbound_id, CLASSIFIER).outcome is Outcome.PENDING
    comment = comment_for(engine, inbound_id)
    assert comment is not None
    assert comment.id is not None
    return comment.id


def load_comment(engine: Engine, comment_id: int) -> Comment:
    with Session(engine) as session:
        comment = session.get(Comment, comment_id)
        assert comment is not None
        return comment
