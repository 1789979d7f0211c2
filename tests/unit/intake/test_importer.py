"""``ogp-feedback import``: folders of .eml, mbox files and Maildirs."""

from __future__ import annotations

import mailbox
from collections.abc import Sequence
from pathlib import Path

import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from intake.importer import MailboxPathError, count_messages, import_paths, iter_raw_messages
from intake.parse import peek_message_id
from moderation.models import Comment, InboundMessage, InboundSource
from tests.mailgen import GeneratedMail, varied_messages
from tests.unit.factories import CLASSIFIER, SQLITE_ONLY
from workers.pipeline import Outcome, process_inbound

MESSAGES = varied_messages(8, prefix="IMP")


def eml_folder(root: Path, mails: Sequence[GeneratedMail]) -> Path:
    folder = root / "eml"
    folder.mkdir()
    for n, mail in enumerate(mails):
        (folder / f"{n:03d}.eml").write_bytes(mail.raw)
    (folder / ".DS_Store").write_bytes(b"not mail")
    return folder


def mbox_file(root: Path, mails: Sequence[GeneratedMail]) -> Path:
    path = root / "feedback.mbox"
    box = mailbox.mbox(str(path), create=True)
    try:
        for mail in mails:
            box.add(mail.raw)
        box.flush()
    finally:
        box.close()
    return path


def maildir(root: Path, mails: Sequence[GeneratedMail]) -> Path:
    path = root / "Maildir"
    box = mailbox.Maildir(str(path), create=True)
    for mail in mails:
        box.add(mail.raw)
    return path


BUILDERS = {"eml": eml_folder, "mbox": mbox_file, "maildir": maildir}


class Recorder:
    """An enqueue callback that checks, from its own session, that the rows are committed."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.calls: list[tuple[list[int], list[int]]] = []

    def __call__(self, ids: Sequence[int]) -> None:
        with Session(self.engine) as session:
            visible = session.exec(
                select(InboundMessage.id).where(col(InboundMessage.id).in_(list(ids)))
            ).all()
        self.calls.append((list(ids), sorted(i for i in visible if i is not None)))

    @property
    def ids(self) -> list[int]:
        return [i for ids, _ in self.calls for i in ids]


def stored_count(engine: Engine) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(InboundMessage)).one()


def test_iter_reads_every_kind_of_mailbox(tmp_path: Path) -> None:
    for kind, builder in BUILDERS.items():
        root = tmp_path / kind
        root.mkdir()
        raws = list(iter_raw_messages(builder(root, MESSAGES)))
        assert len(raws) == len(MESSAGES), kind
        assert sorted(peek_message_id(raw) or "" for raw in raws) == sorted(
            peek_message_id(mail.raw) or "" for mail in MESSAGES), kind
        if kind != "mbox":  # mbox separates messages with a newline of its own
            assert set(raws) == {mail.raw for mail in MESSAGES}, kind


@pytest.mark.parametrize("kind", list(BUILDERS))
def test_import_stores_every_message_and_enqueues_after_commit(
    engine: Engine, tmp_path: Path, kind: str
) -> None:
    path = BUILDERS[kind](tmp_path, MESSAGES)
    recorder = Recorder(engine)
    seen: list[None] = []

    summary = import_paths(engine, [path], recorder, on_message=lambda: seen.append(None),
                           batch_size=3)

    assert summary.stored == len(MESSAGES)
    assert summary.duplicates == 0
    assert len(seen) == len(MESSAGES)
    assert stored_count(engine) == len(MESSAGES)
    # Batches of 3: the callback ran per batch, and each time the rows were already visible.
    assert [len(ids) for ids, _ in recorder.calls] == [3, 3, 2]
    for ids, visible in recorder.calls:
        assert sorted(ids) == visible
    assert sorted(recorder.ids) == sorted(summary.inbound_ids)
    with Session(engine) as session:
        sources = set(session.exec(select(InboundMessage.source)).all())
    assert sources == {InboundSource.IMPORT}
    # Every message arrived whole: each becomes a comment that carries its token.
    for inbound_id in recorder.ids:
        assert process_inbound(engine, inbound_id, CLASSIFIER).outcome is Outcome.PENDING
    with Session(engine) as session:
        texts = session.exec(select(Comment.text)).all()
    for mail in MESSAGES:
        assert sum(mail.token in text for text in texts) == 1, mail.kind


def test_importing_the_same_paths_twice_stores_nothing_new(engine: Engine, tmp_path: Path) -> None:
    paths = [eml_folder(tmp_path, MESSAGES[:3]), mbox_file(tmp_path, MESSAGES[3:6]),
             maildir(tmp_path, MESSAGES[6:])]
    first = Recorder(engine)
    assert import_paths(engine, paths, first).stored == len(MESSAGES)

    again = Recorder(engine)
    summary = import_paths(engine, paths, again)

    assert summary.stored == 0
    assert summary.duplicates == len(MESSAGES)
    assert summary.inbound_ids == []
    assert again.calls == []
    assert stored_count(engine) == len(MESSAGES)


@SQLITE_ONLY
def test_the_same_message_twice_in_one_batch_is_stored_once(
    engine: Engine, tmp_path: Path
) -> None:
    path = eml_folder(tmp_path, [MESSAGES[0], MESSAGES[0], MESSAGES[1]])
    recorder = Recorder(engine)
    summary = import_paths(engine, [path], recorder)
    assert (summary.stored, summary.duplicates) == (2, 1)
    assert stored_count(engine) == 2
    assert len(set(recorder.ids)) == 2


def test_missing_path_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.mbox"
    with pytest.raises(MailboxPathError, match=r"nowhere\.mbox: no such file or directory"):
        list(iter_raw_messages(missing))


def test_count_messages(tmp_path: Path) -> None:
    assert count_messages([eml_folder(tmp_path, MESSAGES[:3]), maildir(tmp_path, MESSAGES)]) == 11
    assert count_messages([mbox_file(tmp_path, MESSAGES)]) is None
