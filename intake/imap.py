"""The IMAP adapter: the only module that imports ``imapclient``.

One round (``poll_with``) does, per batch of UIDs:
fetch ``RFC822.SIZE`` -> fetch ``BODY.PEEK[]`` (only the ``BODY.PEEK[HEADER]``
of a message over ``OGP_MAX_MESSAGE_BYTES``, stored truncated and quarantined)
-> store raw rows and the checkpoint in one transaction -> commit -> enqueue
the new ids -> ``UID MOVE`` the batch to the processed folder.
A crash anywhere leaves the message either not stored (it is fetched again) or
stored and still in the inbox (the next round moves it without storing again).

``run_forever`` is the long-running loop: connect, catch up, IDLE (renewed
well inside 10 minutes), catch up again after every wake-up; a dead connection
(``idle_check`` answering nothing at once, ``BYE``, an abort or a socket error)
is dropped and reconnected with exponential back-off and jitter.
"""

from __future__ import annotations

import logging
import random
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientAbortError, IMAPClientError
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import Session

from config.settings import ImapSecurity, Settings
from intake import failpoints
from intake.lock import LockKeeper, LockUnavailableError, RedisLock
from intake.stages import StageClock
from intake.store import Enqueue, RawMessage, Stored, store_raw_batch, waiting_for_processing
from moderation.db import session_scope
from moderation.models import (
    ImapCheckpoint,
    InboundSource,
    utcnow,
)

log = logging.getLogger(__name__)

# IDLE is re-issued (with a catch-up search in between) at least this often:
# imapclient's docs advise every 10 minutes, RFC 2177 allows 29 at most.
IDLE_RENEW_SECONDS = 9 * 60.0
# ``idle_check`` is called in slices this long, so a stop request or a lost
# lock is noticed within about a second.
IDLE_STEP_SECONDS = 1.0
# Whole messages fetched in one command, at most this many bytes together
# (one message over it is fetched on its own).
FETCH_BYTES_PER_COMMAND = 64 * 1024 * 1024
RECONNECT_INITIAL_SECONDS = 1.0


class ImapConfigError(ValueError):
    pass


class IdleConnectionLostError(ConnectionError):
    """The server went away while we were idling (EOF, ``BYE``)."""


class LockLostError(Exception):
    """Another poller may now own the mailbox: stop touching it."""


@dataclass(frozen=True)
class PollResult:
    stored: int
    duplicates: int
    moved: int
    uidvalidity: int
    # Left on the server this round because too much is waiting for processing.
    deferred: int = 0


def unprocessed_count(engine: Engine) -> int:
    with session_scope(engine) as session:
        return waiting_for_processing(session)


class Backoff:
    """Exponential back-off with "equal jitter": a delay in [d/2, d], d = 1 s, 2 s, 4 s ... cap."""

    def __init__(self, cap: float, initial: float = RECONNECT_INITIAL_SECONDS,
                 rng: Callable[[], float] = random.random) -> None:
        self.cap = cap
        self.initial = min(initial, cap)
        self.failures = 0
        self._rng = rng

    def next_delay(self) -> float:
        ceiling: float = min(self.cap, self.initial * 2.0 ** min(self.failures, 32))
        self.failures += 1
        return ceiling / 2 + self._rng() * ceiling / 2

    def reset(self) -> None:
        self.failures = 0


def _tls_context(settings: Settings) -> ssl.SSLContext:
    cafile = str(settings.imap_cafile) if settings.imap_cafile else None
    return ssl.create_default_context(cafile=cafile)


def _keepalive(sock: socket.socket) -> None:
    """TCP keepalive, so a cut network is noticed even with nothing to read."""
    with suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        for name, value in (("TCP_KEEPIDLE", 60), ("TCP_KEEPINTVL", 15), ("TCP_KEEPCNT", 4)):
            option = getattr(socket, name, None)
            if option is not None:
                sock.setsockopt(socket.IPPROTO_TCP, option, value)


@contextmanager
def connect(settings: Settings) -> Iterator[IMAPClient]:
    """A logged-in client; every socket operation is bounded by ``OGP_IMAP_TIMEOUT_SECONDS``."""
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
    try:
        _keepalive(client.socket())
        if settings.imap_security is ImapSecurity.STARTTLS:
            client.starttls(_tls_context(settings))
        client.login(settings.imap_user or "", settings.imap_password or "")
        yield client
    finally:
        # imaplib closes the socket even when LOGOUT fails on a dead connection.
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


def _is_bye(response: object) -> bool:
    return (isinstance(response, tuple) and len(response) > 0
            and isinstance(response[0], bytes) and response[0].upper() == b"BYE")


def _describe(error: BaseException) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


class ImapPoller:
    def __init__(self, settings: Settings, engine: Engine, enqueue: Enqueue) -> None:
        self.settings = settings
        self.engine = engine
        self.enqueue = enqueue
        # Where the fetch and store timings of each group go (the stage metrics).
        self.on_stages: Callable[[StageClock], None] | None = None
        self.mailbox = settings.imap_mailbox
        self.processed = settings.imap_processed

    # ------------------------------------------------------------ one round

    def _ensure_processed_folder(self, client: IMAPClient) -> None:
        if not client.folder_exists(self.processed):
            client.create_folder(self.processed)
            client.subscribe_folder(self.processed)

    def _move(self, client: IMAPClient, uids: Sequence[int]) -> None:
        if not uids:
            return
        try:
            self._move_now(client, uids)
        except IMAPClientAbortError:
            raise
        except IMAPClientError as error:
            # Someone else (a second poller, a person) moved or expunged some of
            # them meanwhile; Dovecot then refuses the whole command with
            # NO [EXPUNGEISSUED]. Move what is still here.
            wanted = set(uids)
            criteria = ["UID", ",".join(str(uid) for uid in sorted(wanted))]
            remaining = sorted(int(u) for u in client.search(criteria) if int(u) in wanted)
            log.warning("moving %d messages from %s failed (%s); %d are still there, moving "
                        "those", len(wanted), self.mailbox, error, len(remaining))
            if remaining:
                self._move_now(client, remaining)

    def _move_now(self, client: IMAPClient, uids: Sequence[int]) -> None:
        if client.has_capability("MOVE"):
            client.move(list(uids), self.processed)
            return
        # Never a bare EXPUNGE: it would remove other clients' \Deleted mail.
        client.copy(list(uids), self.processed)
        client.add_flags(list(uids), [b"\\Deleted"], silent=True)
        client.uid_expunge(list(uids))

    def _store_once(self, uidvalidity: int, items: Sequence[RawMessage]) -> list[Stored]:
        with session_scope(self.engine) as session:
            checkpoint = _checkpoint(session, self.mailbox, uidvalidity)
            results = store_raw_batch(session, items) if items else []
            uids = [item.uid for item in items if item.uid is not None]
            if uids:
                checkpoint.last_uid = max(checkpoint.last_uid, max(uids))
            checkpoint.updated_at = utcnow()
            session.add(checkpoint)
        return results

    def _store(self, uidvalidity: int, items: Sequence[RawMessage]) -> list[Stored]:
        """Rows and checkpoint in one transaction; a racing poller's rows become duplicates."""
        try:
            return self._store_once(uidvalidity, items)
        except IntegrityError as error:
            # Another poller (the lock lost or expired) committed some of these
            # messages, or the first checkpoint row, since we looked. The
            # transaction is rolled back; deduplicating again finds its rows.
            log.warning("another poller stored messages of %s at the same time (%s); "
                        "deduplicating the batch again", self.mailbox,
                        type(error.orig).__name__ if error.orig else "IntegrityError")
            return self._store_once(uidvalidity, items)

    def _sizes(self, client: IMAPClient, uids: Sequence[int]) -> dict[int, int]:
        """``RFC822.SIZE`` of each UID still there (a message expunged meanwhile is skipped)."""
        response = client.fetch(list(uids), ["RFC822.SIZE"])
        return {int(uid): int(data[b"RFC822.SIZE"]) for uid, data in response.items()
                if b"RFC822.SIZE" in data}

    def _groups(self, sizes: dict[int, int]) -> Iterator[list[int]]:
        """Split a batch so one FETCH downloads at most about FETCH_BYTES_PER_COMMAND."""
        limit = self.settings.max_message_bytes
        group: list[int] = []
        total = 0
        for uid in sorted(sizes):
            size = sizes[uid] if sizes[uid] <= limit else 0  # only its header comes
            if group and total + size > FETCH_BYTES_PER_COMMAND:
                yield group
                group, total = [], 0
            group.append(uid)
            total += size
        if group:
            yield group

    def _download(self, client: IMAPClient, uids: Sequence[int], sizes: dict[int, int],
                  uidvalidity: int) -> list[RawMessage]:
        limit = self.settings.max_message_bytes
        whole = [uid for uid in uids if sizes[uid] <= limit]
        oversize = [uid for uid in uids if sizes[uid] > limit]
        items: list[RawMessage] = []
        if whole:
            response = client.fetch(whole, ["BODY.PEEK[]"])
            items.extend(
                RawMessage(raw=bytes(data[b"BODY[]"]), source=InboundSource.IMAP,
                           mailbox=self.mailbox, uidvalidity=uidvalidity, uid=int(uid))
                for uid, data in response.items() if data.get(b"BODY[]") is not None
            )
        if oversize:
            # Never download the whole of it: its header block is enough to
            # show a moderator what it was; the full message stays on the server.
            response = client.fetch(oversize, ["BODY.PEEK[HEADER]"])
            for uid, data in response.items():
                if b"BODY[HEADER]" not in data:
                    continue
                reason = (f"message size {sizes[int(uid)]} bytes is over the limit "
                          f"OGP_MAX_MESSAGE_BYTES={limit}")
                log.warning("UID %s in %s: %s; storing its header only", uid, self.mailbox,
                            reason)
                items.append(RawMessage(raw=bytes(data[b"BODY[HEADER]"] or b""),
                                        source=InboundSource.IMAP, mailbox=self.mailbox,
                                        uidvalidity=uidvalidity, uid=int(uid), truncated=True,
                                        quarantine_reason=reason))
        return sorted(items, key=lambda item: item.uid or 0)

    def poll_once(self, stop: threading.Event | None = None,
                  lock_lost: threading.Event | None = None) -> PollResult:
        with connect(self.settings) as client:
            return self.poll_with(client, stop, lock_lost)

    def poll_once_locked(self, lock: RedisLock,
                         stop: threading.Event | None = None) -> PollResult | None:
        """``poll_once`` holding the mailbox lock; ``None`` when another poller holds it.

        Raises ``LockLostError`` (between batches) if the lease is lost meanwhile.
        """
        if not lock.acquire():
            return None
        keeper = LockKeeper(lock)
        keeper.start()
        try:
            return self.poll_once(stop, keeper.lost)
        finally:
            keeper.stop()

    def poll_with(self, client: IMAPClient, stop: threading.Event | None = None,
                  lock_lost: threading.Event | None = None) -> PollResult:
        """One catch-up round; returns early (between batches) when ``stop`` is set."""
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
        limit = self.settings.backpressure_max_unprocessed
        for position, batch in enumerate(_chunks(fresh, self.settings.imap_batch_size)):
            waiting = unprocessed_count(self.engine)
            if waiting >= limit:
                # Backpressure: the mail is safe on the server; fetch it when the
                # workers have caught up instead of piling rows up behind them.
                deferred = len(fresh) - position * self.settings.imap_batch_size
                log.warning("backpressure: %d messages wait for processing (limit "
                            "OGP_BACKPRESSURE_MAX_UNPROCESSED=%d); %d left on the server",
                            waiting, limit, deferred)
                return PollResult(stored, duplicates, moved, uidvalidity, deferred)
            sizes = self._sizes(client, batch)
            for group in self._groups(sizes):
                if stop is not None and stop.is_set():
                    return PollResult(stored, duplicates, moved, uidvalidity)
                if lock_lost is not None and lock_lost.is_set():
                    raise LockLostError(self.mailbox)
                clock = StageClock()
                started = time.perf_counter()
                items = self._download(client, group, sizes, uidvalidity)
                fetched = time.perf_counter()
                results = self._store(uidvalidity, items)
                # Per message of the group: where a poll round's time goes.
                clock.add("fetch", (fetched - started) / len(items), len(items))
                clock.add("store", (time.perf_counter() - fetched) / len(items), len(items))
                if self.on_stages is not None:
                    self.on_stages(clock)
                failpoints.hit("poll:after_commit")
                to_process = [result.inbound_id for item, result in zip(items, results, strict=True)
                              if result.created and item.quarantine_reason is None]
                if to_process:
                    self.enqueue(to_process)
                failpoints.hit("poll:before_move")
                self._move(client, [item.uid for item in items if item.uid is not None])
                created = sum(1 for result in results if result.created)
                stored += created
                duplicates += len(results) - created
                moved += len(items)
        return PollResult(stored=stored, duplicates=duplicates, moved=moved,
                          uidvalidity=uidvalidity)

    # ------------------------------------------------------------ long run

    def run_forever(self, stop: threading.Event, lock: RedisLock | None = None) -> None:
        """Catch up, wait in IDLE, catch up again ... until ``stop``; reconnect on any failure.

        With a ``lock``, only while holding it: a second poller waits here until
        the first one stops or its lease expires.
        """
        backoff = Backoff(cap=self.settings.imap_reconnect_max_seconds)
        keeper: LockKeeper | None = None
        try:
            while not stop.is_set():
                if lock is not None and (keeper is None or keeper.lost.is_set()):
                    if keeper is not None:
                        keeper.stop(release=False)
                    keeper = self._wait_for_lock(lock, stop)
                    if keeper is None:
                        return
                try:
                    self._serve(stop, keeper.lost if keeper else None, backoff)
                except LockLostError:
                    log.warning("lost the poller lock for %s; stopped polling until it is free",
                                self.mailbox)
                except (IMAPClientError, OSError, SQLAlchemyError, LockUnavailableError) as error:
                    self._pause(stop, backoff, _describe(error))
                except Exception as error:
                    log.exception("unexpected error while polling %s", self.mailbox)
                    self._pause(stop, backoff, _describe(error))
        finally:
            if keeper is not None:
                keeper.stop()

    def _pause(self, stop: threading.Event, backoff: Backoff, reason: str) -> None:
        delay = backoff.next_delay()
        log.warning("IMAP connection to %s:%s is down (%s); reconnecting in %.1fs (attempt %d)",
                    self.settings.imap_host, self.settings.effective_imap_port, reason, delay,
                    backoff.failures)
        stop.wait(delay)

    def _serve(self, stop: threading.Event, lock_lost: threading.Event | None,
               backoff: Backoff) -> None:
        with connect(self.settings) as client:
            if backoff.failures:
                log.warning("reconnected to %s:%s after %d failed attempt(s)",
                            self.settings.imap_host, self.settings.effective_imap_port,
                            backoff.failures)
            while not stop.is_set():
                result = self.poll_with(client, stop, lock_lost)
                backoff.reset()
                if result.stored or result.moved or result.duplicates:
                    log.info("poll stored=%d duplicates=%d moved=%d",
                             result.stored, result.duplicates, result.moved)
                if stop.is_set():
                    break
                self._idle(client, stop, lock_lost)

    def _wait_for_lock(self, lock: RedisLock, stop: threading.Event) -> LockKeeper | None:
        waiting = False
        retry = max(0.5, lock.ttl_seconds / 4)
        while not stop.is_set():
            try:
                if lock.acquire():
                    if waiting:
                        log.warning("took over the poller lock for %s", self.mailbox)
                    keeper = LockKeeper(lock)
                    keeper.start()
                    return keeper
                if not waiting:
                    log.warning("another poller holds the lock for %s; waiting", self.mailbox)
                    waiting = True
            except LockUnavailableError as error:
                log.warning("%s; retrying", error)
            stop.wait(retry * (0.75 + random.random() / 2))  # noqa: S311
        return None

    def _idle(self, client: IMAPClient, stop: threading.Event,
              lock_lost: threading.Event | None) -> None:
        """Wait for news (or the renewal time), then leave IDLE for the next catch-up."""
        period = min(self.settings.poll_interval_seconds, IDLE_RENEW_SECONDS)
        deadline = time.monotonic() + period
        if not client.has_capability("IDLE"):
            while not stop.is_set() and time.monotonic() < deadline:
                if lock_lost is not None and lock_lost.is_set():
                    raise LockLostError(self.mailbox)
                stop.wait(min(IDLE_STEP_SECONDS, max(0.0, deadline - time.monotonic())))
            return
        client.idle()
        instant_empty = 0
        while not stop.is_set():
            if lock_lost is not None and lock_lost.is_set():
                with suppress(IMAPClientError, OSError):
                    client.idle_done()
                raise LockLostError(self.mailbox)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break  # renew IDLE, with a catch-up search in between
            step = min(IDLE_STEP_SECONDS, remaining)
            started = time.monotonic()
            try:
                responses = client.idle_check(timeout=step)
            finally:
                # idle_check leaves the socket blocking with no timeout at all.
                with suppress(OSError):
                    client.socket().settimeout(self.settings.imap_timeout_seconds)
            if any(_is_bye(response) for response in responses):
                raise IdleConnectionLostError(f"the server said BYE while idling: {responses!r}")
            if responses:
                break  # news: leave IDLE and catch up
            if time.monotonic() - started < step / 2:
                # imapclient answers [] at once, not after the timeout, when the
                # server has closed the connection; twice in a row to be sure.
                instant_empty += 1
                if instant_empty >= 2:
                    raise IdleConnectionLostError("the server closed the connection while idling "
                                         "(idle_check returned nothing at once)")
            else:
                instant_empty = 0
        client.idle_done()
