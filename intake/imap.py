"""The IMAP adapter: the only module that imports ``imapclient``.

One round (``poll_once``) does, per batch of UIDs:
fetch ``BODY.PEEK[]`` -> store raw rows and the checkpoint in one transaction ->
commit -> enqueue the new ids -> ``UID MOVE`` the batch to the processed folder.
A crash anywhere leaves the message either not stored (it is fetched again) or
stored and still in the inbox (the next round moves it without storing again).
"""

from __future__ import annotations

import logging
import random
import ssl
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError
from sqlalchemy import Engine
from sqlmodel import Session

from config.settings import ImapSecurity, Settings
from intake import failpoints
from intake.store import Enqueue, RawMessage, store_raw_batch
from moderation.db import session_scope
from moderation.models import ImapCheckpoint, InboundSource, utcnow

log = logging.getLogger(__name__)


class ImapConfigError(ValueError):
    pass


@dataclass(frozen=True)
class PollResult:
    stored: int
    duplicates: int
    moved: int
    uidvalidity: int


def _tls_context(settings: Settings) -> ssl.SSLContext:
    cafile = str(settings.imap_cafile) if settings.imap_cafile else None
    return ssl.create_default_context(cafile=cafile)


@contextmanager
def connect(settings: Settings) -> Iterator[IMAPClient]:
    if not settings.imap_configured:
        raise ImapConfigError("set OGP_IMAP_HOST, OGP_IMAP_USER and OGP_IMAP_PASSWORD to poll")
    host = settings.imap_host or ""
    port = settings.effective_imap_port
    timeout = settings.imap_timeout_seconds
    if settings.imap_security is ImapSecurity.TLS:
        client = IMAPClient(host, port=port, ssl=True, ssl_context=_tls_context(settings),
                            timeout=timeout)
    else:
        client = IMAPClient(host, port=port, ssl=False, timeout=timeout)
        if settings.imap_security is ImapSecurity.STARTTLS:
            client.starttls(_tls_context(settings))
    try:
        client.login(settings.imap_user or "", settings.imap_password or "")
        yield client
    finally:
        with suppress(IMAPClientError, OSError):
            client.logout()


def _chunks(items: Sequence[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def _checkpoint(session: Session, mailbox: str, uidvalidity: int) -> ImapCheckpoint:
    checkpoint = session.get(ImapCheckpoint, mailbox, with_for_update=True)
    if checkpoint is None:
        checkpoint = ImapCheckpoint(mailbox=mailbox, uidvalidity=uidvalidity, last_uid=0)
    elif checkpoint.uidvalidity != uidvalidity:
        # The mailbox was recreated: old UIDs mean nothing now. Start over and
        # let the SHA-256 of each message catch what we already have.
        log.warning("UIDVALIDITY of %s changed %s -> %s; resyncing",
                    mailbox, checkpoint.uidvalidity, uidvalidity)
        checkpoint.uidvalidity = uidvalidity
        checkpoint.last_uid = 0
    return checkpoint


class ImapPoller:
    def __init__(self, settings: Settings, engine: Engine, enqueue: Enqueue) -> None:
        self.settings = settings
        self.engine = engine
        self.enqueue = enqueue
        self.mailbox = settings.imap_mailbox
        self.processed = settings.imap_processed

    def _ensure_processed_folder(self, client: IMAPClient) -> None:
        if not client.folder_exists(self.processed):
            client.create_folder(self.processed)
            client.subscribe_folder(self.processed)

    def _move(self, client: IMAPClient, uids: Sequence[int]) -> None:
        if not uids:
            return
        if client.has_capability("MOVE"):
            client.move(list(uids), self.processed)
            return
        # Never a bare EXPUNGE: it would remove other clients' \Deleted mail.
        client.copy(list(uids), self.processed)
        client.add_flags(list(uids), [b"\\Deleted"], silent=True)
        client.uid_expunge(list(uids))

    def _store(self, uidvalidity: int, fetched: dict[int, bytes]) -> tuple[list[int], int]:
        items = [
            RawMessage(raw=raw, source=InboundSource.IMAP, mailbox=self.mailbox,
                       uidvalidity=uidvalidity, uid=uid)
            for uid, raw in sorted(fetched.items())
        ]
        with session_scope(self.engine) as session:
            checkpoint = _checkpoint(session, self.mailbox, uidvalidity)
            results = store_raw_batch(session, items) if items else []
            if fetched:
                checkpoint.last_uid = max(checkpoint.last_uid, max(fetched))
            checkpoint.updated_at = utcnow()
            session.add(checkpoint)
        created = [r.inbound_id for r in results if r.created]
        return created, len(results) - len(created)

    def poll_once(self) -> PollResult:
        with connect(self.settings) as client:
            return self.poll_with(client)

    def poll_with(self, client: IMAPClient) -> PollResult:
        self._ensure_processed_folder(client)
        status = client.select_folder(self.mailbox)
        uidvalidity = int(status[b"UIDVALIDITY"])
        with session_scope(self.engine) as session:
            last_uid = _checkpoint(session, self.mailbox, uidvalidity).last_uid
        # Filter in code: "UID n:*" answers with the highest UID even below n.
        uids = sorted(int(u) for u in client.search(["ALL"]))
        leftover = [u for u in uids if u <= last_uid]
        fresh = [u for u in uids if u > last_uid]
        moved = 0
        if leftover:
            # Stored by an earlier round that stopped before its move.
            log.info("moving %d already stored messages left in %s", len(leftover), self.mailbox)
            self._move(client, leftover)
            moved += len(leftover)
        stored = duplicates = 0
        for batch in _chunks(fresh, self.settings.imap_batch_size):
            response = client.fetch(batch, ["BODY.PEEK[]", "RFC822.SIZE"])
            fetched = {
                int(uid): bytes(data[b"BODY[]"])
                for uid, data in response.items()
                if b"BODY[]" in data
            }
            created, dupes = self._store(uidvalidity, fetched)
            failpoints.hit("poll:after_commit")
            if created:
                self.enqueue(created)
            failpoints.hit("poll:before_move")
            self._move(client, sorted(fetched))
            stored += len(created)
            duplicates += dupes
            moved += len(fetched)
        return PollResult(stored=stored, duplicates=duplicates, moved=moved,
                          uidvalidity=uidvalidity)

    def run_forever(self, stop: threading.Event) -> None:
        """Poll, then wait in IDLE (renewed well inside 29 minutes) until mail or the interval."""
        backoff = 1.0
        while not stop.is_set():
            try:
                with connect(self.settings) as client:
                    backoff = 1.0
                    while not stop.is_set():
                        result = self.poll_with(client)
                        if result.stored or result.moved:
                            log.info("poll stored=%d duplicates=%d moved=%d",
                                     result.stored, result.duplicates, result.moved)
                        self._idle(client, stop)
            except (IMAPClientError, OSError) as error:
                delay = min(300.0, backoff) * (0.5 + random.random())  # noqa: S311
                log.warning("IMAP error (%s); reconnecting in %.1fs", error, delay)
                stop.wait(delay)
                backoff *= 2

    def _idle(self, client: IMAPClient, stop: threading.Event) -> None:
        if not client.has_capability("IDLE"):
            stop.wait(self.settings.poll_interval_seconds)
            return
        client.idle()
        try:
            waited = 0.0
            step = 5.0
            while not stop.is_set() and waited < min(self.settings.poll_interval_seconds, 540):
                started = time.monotonic()
                responses = client.idle_check(timeout=step)
                if responses:
                    break
                if time.monotonic() - started < step / 2:
                    # imapclient returns [] at once, not after the timeout, when
                    # the server has gone away.
                    raise ConnectionError("IMAP connection lost while idling")
                waited += step
        finally:
            client.idle_done()
