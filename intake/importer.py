"""``ogp-feedback import``: mbox files, Maildirs and folders of .eml, through the same intake.

Messages are read one at a time and stored in small batches, so memory stays
bounded whatever the size of the mailbox; each batch is committed before its ids
are handed to processing. Importing the same mailbox twice adds nothing.
"""

from __future__ import annotations

import mailbox
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine

from intake.store import Enqueue, RawMessage, store_raw_batch
from moderation.db import session_scope
from moderation.models import InboundSource

BATCH_SIZE = 200


class MailboxPathError(ValueError):
    """A path that is not a mailbox we can read; the message names it."""


def _is_maildir(path: Path) -> bool:
    return all((path / sub).is_dir() for sub in ("cur", "new", "tmp"))


def _looks_like_mbox(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(5) == b"From "


def iter_raw_messages(path: Path) -> Iterator[bytes]:
    if path.is_dir():
        if _is_maildir(path):
            maildir = mailbox.Maildir(str(path), factory=None, create=False)
            for key in sorted(maildir.iterkeys()):
                yield maildir.get_bytes(key)
            return
        for child in sorted(p for p in path.iterdir() if p.is_file()):
            if child.name.startswith("."):
                continue
            yield from iter_raw_messages(child)
        return
    if not path.exists():
        raise MailboxPathError(f"{path}: no such file or directory")
    if _looks_like_mbox(path):
        box = mailbox.mbox(str(path), factory=None, create=False)
        try:
            for key in box.iterkeys():
                yield box.get_bytes(key)
        finally:
            box.close()
        return
    yield path.read_bytes()


def count_messages(paths: Sequence[Path]) -> int | None:
    """A total for the progress bar when it is cheap to know, else ``None``."""
    total = 0
    for path in paths:
        if path.is_dir() and not _is_maildir(path):
            total += sum(1 for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
        elif path.is_dir():
            total += sum(1 for sub in ("cur", "new") for _ in (path / sub).iterdir())
        else:
            return None
    return total


@dataclass
class ImportSummary:
    stored: int = 0
    duplicates: int = 0
    inbound_ids: list[int] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.stored + self.duplicates


def import_paths(
    engine: Engine,
    paths: Sequence[Path],
    enqueue: Enqueue,
    on_message: Callable[[], object] | None = None,
    batch_size: int = BATCH_SIZE,
) -> ImportSummary:
    summary = ImportSummary()
    batch: list[RawMessage] = []

    def flush() -> None:
        if not batch:
            return
        with session_scope(engine) as session:
            results = store_raw_batch(session, batch)
        created = [r.inbound_id for r in results if r.created]
        summary.stored += len(created)
        summary.duplicates += len(results) - len(created)
        summary.inbound_ids.extend(created)
        batch.clear()
        if created:
            enqueue(created)  # after the commit above, never before

    for path in paths:
        for raw in iter_raw_messages(path):
            batch.append(RawMessage(raw=raw, source=InboundSource.IMPORT))
            if on_message is not None:
                on_message()
            if len(batch) >= batch_size:
                flush()
    flush()
    return summary
