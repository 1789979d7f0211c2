"""Two pollers storing the same batch (the lock lost): the unique keys and a second
deduplication make the loser's rows duplicates, on both database backends."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

import intake.imap
from config.settings import Settings
from intake.imap import ImapPoller
from intake.store import RawMessage, Stored, store_raw_batch
from moderation.db import session_scope
from moderation.models import ImapCheckpoint, InboundMessage, InboundSource
from tests.mailgen import varied_messages


def test_a_racing_commit_turns_the_batch_into_duplicates(
    settings: Settings, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    items = [RawMessage(raw=mail.raw, source=InboundSource.IMAP, mailbox="INBOX",
                        uidvalidity=77, uid=uid)
             for uid, mail in enumerate(varied_messages(3, prefix="RACE"), start=1)]
    real = store_raw_batch
    calls: list[int] = []

    def racing(session: Session, batch: Sequence[RawMessage]) -> list[Stored]:
        calls.append(len(batch))
        if len(calls) == 1:
            # The other poller commits the same messages right after our
            # deduplication query; our insert of them then hits the unique keys.
            with session_scope(engine) as other:
                real(other, batch)
            for item in batch:
                session.add(InboundMessage(source=item.source, sha256=item.sha256,
                                           size=len(item.raw), raw=item.raw,
                                           mailbox=item.mailbox, uidvalidity=item.uidvalidity,
                                           uid=item.uid))
            session.flush()
        return real(session, batch)

    monkeypatch.setattr(intake.imap, "store_raw_batch", racing)
    results = ImapPoller(settings, engine, lambda _ids: None)._store(77, items)

    assert calls == [3, 3]
    assert [result.created for result in results] == [False, False, False]
    with Session(engine) as session:
        rows = session.exec(select(InboundMessage)).all()
        assert sorted(row.uid or 0 for row in rows) == [1, 2, 3]
        assert {row.id for row in rows} == {result.inbound_id for result in results}
        checkpoint = session.get(ImapCheckpoint, "INBOX")
        assert checkpoint is not None
        assert (checkpoint.uidvalidity, checkpoint.last_uid) == (77, 3)
