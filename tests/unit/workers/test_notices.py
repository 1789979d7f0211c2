"""Sending decision notices: when, to whom, and never twice; on both databases."""

from __future__ import annotations

import smtplib
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage

import pytest
from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from config.settings import Settings
from intake.receipts import reference_for
from moderation.db import session_scope
from moderation.models import (
    Comment,
    DecisionNotice,
    InboundMessage,
    NoticeStatus,
    RejectCode,
    utcnow,
)
from moderation.transitions import (
    NoticePolicy,
    TransitionError,
    approve,
    mark_published,
    reject,
    undo,
)
from publish.urls import comment_page
from tests.conftest import derive
from tests.unit.factories import SQLITE_ONLY, load_comment, make_comment
from workers.notices import (
    GIVE_UP_AFTER,
    Outcome,
    list_notices,
    send_due_notices,
    send_notice,
)
from workers.sweeper import sweep

WINDOW = timedelta(seconds=600)
POLICY = NoticePolicy(enabled=True, undo_window=WINDOW)
LATER = timedelta(seconds=601)


@dataclass
class Recorder:
    """A sender that keeps what it was given, or fails as told."""

    sent: list[tuple[EmailMessage, str, str]] = field(default_factory=list)
    fail_with: Exception | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def send(self, message: EmailMessage, envelope_from: str, recipient: str) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        with self.lock:
            self.sent.append((message, envelope_from, recipient))


@pytest.fixture
def notice_settings(settings: Settings) -> Settings:
    return derive(settings, decision_notices=True, mail_from="feedback@ogp.example.al",
                  public_site_url="https://ogp.example.al/site", sweep_after_seconds=300)


def rejected_comment(engine: Engine, sender: str = "Ana Hoxha <ana.hoxha@example.org>",
                     words: str = "Nuk flet për planin.",
                     code: RejectCode = RejectCode.NOT_ABOUT_PLAN, **headers: str) -> int:
    comment_id = make_comment(engine, sender=sender, **headers)
    with session_scope(engine) as session:
        reject(session, comment_id, "mira", words, code, notices=POLICY)
    return comment_id


def notice_of(engine: Engine, comment_id: int) -> DecisionNotice | None:
    with Session(engine) as session:
        return session.exec(
            select(DecisionNotice).where(DecisionNotice.comment_id == comment_id)).first()


def the_notice(engine: Engine, comment_id: int) -> DecisionNotice:
    notice = notice_of(engine, comment_id)
    assert notice is not None
    return notice


def test_a_rejection_is_told_only_after_the_undo_window(engine: Engine,
                                                         notice_settings: Settings) -> None:
    comment_id = rejected_comment(engine)
    sender = Recorder()
    assert send_due_notices(engine, notice_settings, sender) == 0
    assert sender.sent == []
    assert the_notice(engine, comment_id).status == NoticeStatus.PENDING

    assert send_due_notices(engine, notice_settings, sender, now=utcnow() + LATER) == 1
    [(message, envelope_from, recipient)] = sender.sent
    assert (envelope_from, recipient) == ("", "ana.hoxha@example.org")
    assert message["To"] == "ana.hoxha@example.org"
    assert message["Auto-Submitted"] == "auto-replied"
    comment = load_comment(engine, comment_id)
    assert message["Subject"].startswith(f"Auto: {reference_for(comment.inbound_id)} ")
    text = " ".join(message.get_content().split())
    assert "Nuk ka të bëjë me Planin e Veprimit / Not about the Action Plan. Nuk flet për " \
           "planin." in text
    notice = the_notice(engine, comment_id)
    assert notice.status == NoticeStatus.SENT
    assert notice.message_id == message["Message-ID"]
    assert notice.sent_at is not None

    # Idempotent: another round, even much later, sends nothing more.
    assert send_due_notices(engine, notice_settings, sender, now=utcnow() + 10 * LATER) == 0
    assert send_notice(engine, notice_settings, sender, notice.id or 0,
                       now=utcnow() + 10 * LATER) is Outcome.SKIPPED
    assert len(sender.sent) == 1


def test_the_notice_answers_the_citizens_message(engine: Engine,
                                                  notice_settings: Settings) -> None:
    comment_id = rejected_comment(engine)
    sender = Recorder()
    send_due_notices(engine, notice_settings, sender, now=utcnow() + LATER)
    [(message, _, _)] = sender.sent
    with Session(engine) as session:
        comment = session.get(Comment, comment_id)
        assert comment is not None
        inbound = session.get(InboundMessage, comment.inbound_id)
        assert inbound is not None
        assert inbound.message_id
    assert message["In-Reply-To"] == inbound.message_id
    assert message["References"] == inbound.message_id


def test_an_undo_within_the_window_leaves_nothing_to_send(engine: Engine,
                                                          notice_settings: Settings) -> None:
    undone = rejected_comment(engine)
    kept = rejected_comment(engine, sender="Besa <besa@example.org>")
    with session_scope(engine) as session:
        undo(session, undone, "mira", WINDOW)
    assert notice_of(engine, undone) is None
    assert the_notice(engine, kept).status == NoticeStatus.PENDING
    sender = Recorder()
    assert send_due_notices(engine, notice_settings, sender, now=utcnow() + LATER) == 1
    assert [recipient for _, _, recipient in sender.sent] == ["besa@example.org"]


def test_once_a_notice_is_out_the_decision_cannot_be_undone(engine: Engine,
                                                           notice_settings: Settings) -> None:
    comment_id = rejected_comment(engine)
    sender = Recorder()
    send_due_notices(engine, notice_settings, sender, now=utcnow() + LATER)
    with session_scope(engine) as session, pytest.raises(TransitionError,
                                                         match="already been told"):
        # A generous window, so only the notice stands in the way.
        undo(session, comment_id, "mira", timedelta(days=1))


def test_a_second_decision_sends_no_second_notice(engine: Engine,
                                                  notice_settings: Settings) -> None:
    comment_id = rejected_comment(engine)
    sender = Recorder()
    assert send_due_notices(engine, notice_settings, sender, now=utcnow() + LATER) == 1
    with session_scope(engine) as session:
        approve(session, comment_id, "mira")
    with session_scope(engine) as session:
        comment = session.get(Comment, comment_id)
        assert comment is not None
        assert mark_published(session, [comment], "publisher", notices=POLICY) == 1
    assert send_due_notices(engine, notice_settings, sender, now=utcnow() + 2 * LATER) == 0
    assert len(sender.sent) == 1
    with Session(engine) as session:
        assert len(session.exec(select(DecisionNotice)).all()) == 1


def test_a_publication_notice_links_to_the_comment_on_its_page(engine: Engine,
                                                               notice_settings: Settings) -> None:
    comment_id = make_comment(engine, "Buxheti i bashkive duhet të publikohet në format "
                                      "të hapur çdo muaj.")
    with session_scope(engine) as session:
        approve(session, comment_id, "mira")
    with session_scope(engine) as session:
        comment = session.get(Comment, comment_id)
        assert comment is not None
        mark_published(session, [comment], "publisher", notices=POLICY)
        reference = reference_for(comment.inbound_id)
    sender = Recorder()
    # Due at once: no undo window for a publication.
    assert send_due_notices(engine, notice_settings, sender) == 1
    [(message, _, _)] = sender.sent
    # The comment's own page: its permalink, by the reference number on the receipt.
    link = f"https://ogp.example.al/site/{comment_page('sq', reference)}"
    assert link == f"https://ogp.example.al/site/sq/comments/000/{reference}.html"
    assert link in message.get_content().split()
    assert "Komenti u botua / Your comment was published" in message["Subject"]


@pytest.mark.parametrize(("sender_address", "extra", "reason"), [
    ("Robot <no-reply@example.org>", {}, "the sender is a no-reply or system address"),
    ("OGP <feedback@ogp.example.al>", {}, "the sender is our own address"),
    ("Ana <ana@example.org>", {"X-Auto-Response-Suppress": "All"},
     "the sender asked for no automatic replies"),
])
def test_robots_ourselves_and_who_asked_not_get_nothing(
    engine: Engine, notice_settings: Settings, sender_address: str, extra: dict[str, str],
    reason: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    if extra:
        # The factory's message gets the extra header the way a mail program adds it.
        from tests.unit import factories

        original = factories.plain_mail

        def with_header(text: str, subject: str = "Koment për planin",
                        sender: str = "Ana Hoxha <ana.hoxha@example.org>") -> bytes:
            head, _, body = original(text, subject, sender).partition(b"\n\n")
            added = "".join(f"\n{name}: {value}" for name, value in extra.items())
            return head + added.encode() + b"\n\n" + body

        monkeypatch.setattr(factories, "plain_mail", with_header)
    comment_id = rejected_comment(engine, sender=sender_address)
    sender = Recorder()
    assert send_due_notices(engine, notice_settings, sender, now=utcnow() + LATER) == 0
    assert sender.sent == []
    notice = the_notice(engine, comment_id)
    assert (notice.status, notice.error) == (NoticeStatus.CANCELLED, reason)


def test_a_decision_changed_since_the_notice_was_planned_is_not_told(
        engine: Engine, notice_settings: Settings) -> None:
    comment_id = rejected_comment(engine)
    # After the undo window a moderator approves it after all (not an undo).
    with session_scope(engine) as session:
        approve(session, comment_id, "mira")
    sender = Recorder()
    assert send_due_notices(engine, notice_settings, sender, now=utcnow() + LATER) == 0
    assert sender.sent == []
    notice = the_notice(engine, comment_id)
    assert notice.status == NoticeStatus.CANCELLED
    assert notice.error == ("the comment is now approved; a 'rejected' notice would no longer "
                            "be true")


def test_a_failed_send_is_recorded_and_tried_again_after_a_rest(
        engine: Engine, notice_settings: Settings) -> None:
    comment_id = make_comment(engine)
    with session_scope(engine) as session:  # due at once, so the real clock is the test's
        reject(session, comment_id, "mira", "", RejectCode.SPAM,
               notices=NoticePolicy(enabled=True, undo_window=timedelta(0)))
    sender = Recorder(fail_with=ConnectionRefusedError(111, "Connection refused"))
    assert send_due_notices(engine, notice_settings, sender) == 0
    notice = the_notice(engine, comment_id)
    assert notice.status == NoticeStatus.FAILED
    assert notice.error == "ConnectionRefusedError: [Errno 111] Connection refused"

    sender.fail_with = None
    # Not straight away: a failed notice rests one sweep period.
    assert send_due_notices(engine, notice_settings, sender) == 0
    assert sender.sent == []
    rested = utcnow() + timedelta(seconds=notice_settings.sweep_after_seconds + 1)
    assert send_due_notices(engine, notice_settings, sender, now=rested) == 1
    assert len(sender.sent) == 1
    notice = the_notice(engine, comment_id)
    assert (notice.status, notice.error) == (NoticeStatus.SENT, None)


def test_an_address_the_relay_refuses_for_good_is_not_tried_again(
        engine: Engine, notice_settings: Settings) -> None:
    comment_id = rejected_comment(engine)
    refused = smtplib.SMTPRecipientsRefused(
        {"ana.hoxha@example.org": (550, b"5.1.1 no such user")})
    sender = Recorder(fail_with=refused)
    assert send_due_notices(engine, notice_settings, sender, now=utcnow() + LATER) == 0
    notice = the_notice(engine, comment_id)
    assert notice.status == NoticeStatus.CANCELLED
    assert (notice.error or "").startswith("the relay refused the address: "
                                           "SMTPRecipientsRefused")


def test_a_notice_failing_for_days_is_given_up(engine: Engine,
                                               notice_settings: Settings) -> None:
    comment_id = rejected_comment(engine)
    sender = Recorder(fail_with=TimeoutError("timed out"))
    send_due_notices(engine, notice_settings, sender, now=utcnow() + LATER)
    assert the_notice(engine, comment_id).status == NoticeStatus.FAILED
    sender.fail_with = None
    much_later = utcnow() + GIVE_UP_AFTER + 2 * LATER
    assert send_due_notices(engine, notice_settings, sender, now=much_later) == 0
    assert sender.sent == []
    notice = the_notice(engine, comment_id)
    assert notice.status == NoticeStatus.CANCELLED
    assert notice.error == "not sent within 7 days; last error: TimeoutError: timed out"


def test_a_notice_another_sender_has_claimed_is_left_alone(engine: Engine,
                                                          notice_settings: Settings) -> None:
    comment_id = rejected_comment(engine)
    notice_id = the_notice(engine, comment_id).id or 0
    with session_scope(engine) as session:
        session.exec(update(DecisionNotice)
                     .where(col(DecisionNotice.id) == notice_id)
                     .values(status=NoticeStatus.SENDING))
    sender = Recorder()
    assert send_notice(engine, notice_settings, sender, notice_id,
                       now=utcnow() + LATER) is Outcome.SKIPPED
    assert send_due_notices(engine, notice_settings, sender, now=utcnow() + LATER) == 0
    assert sender.sent == []
    # A notice left in 'sending' (the sender died mid-way) is never sent again.
    assert the_notice(engine, comment_id).status == NoticeStatus.SENDING


def test_senders_running_at_once_send_each_notice_once(engine: Engine,
                                                        notice_settings: Settings) -> None:
    comment_ids = [rejected_comment(engine, sender=f"Qytetar {n} <q{n}@example.org>")
                   for n in range(3)]
    sender = Recorder()
    now = utcnow() + LATER
    start = threading.Barrier(4)
    counts: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            start.wait(timeout=30)
            counts.append(send_due_notices(engine, notice_settings, sender, now=now))
        except BaseException as error:  # reported below, not lost in the thread
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sum(counts) == 3
    assert sorted(recipient for _, _, recipient in sender.sent) == [
        "q0@example.org", "q1@example.org", "q2@example.org"]
    assert {the_notice(engine, c).status for c in comment_ids} == {NoticeStatus.SENT}


def test_the_sweeper_hands_due_notices_on(engine: Engine, notice_settings: Settings) -> None:
    comment_id = make_comment(engine)
    with session_scope(engine) as session:
        reject(session, comment_id, "mira", "", RejectCode.SPAM,
               notices=NoticePolicy(enabled=True, undo_window=timedelta(0)))
    triggered: list[datetime] = []
    report = sweep(engine, 300, lambda ids: None, lambda ids: None,
                   send_notices=lambda: triggered.append(utcnow()))
    assert report.notices == 1
    assert len(triggered) == 1
    # Not due yet: nothing to trigger.
    other = rejected_comment(engine)
    sender = Recorder()
    send_due_notices(engine, notice_settings, sender)
    assert [r for _, _, r in sender.sent] == ["ana.hoxha@example.org"]
    assert sweep(engine, 300, lambda ids: None, lambda ids: None,
                 send_notices=lambda: triggered.append(utcnow())).notices == 0
    assert len(triggered) == 1
    assert the_notice(engine, other).status == NoticeStatus.PENDING


@SQLITE_ONLY
def test_notices_are_listed_without_addresses(engine: Engine, notice_settings: Settings) -> None:
    comment_id = rejected_comment(engine)
    with Session(engine) as session:
        [row] = list_notices(session)
    comment = load_comment(engine, comment_id)
    assert (row.comment_id, row.kind, row.status) == (comment_id, "rejected", "pending")
    assert row.reference == reference_for(comment.inbound_id)
    assert "@" not in str(row.as_json())
