"""A citizen hears once about the fate of a comment: by a real SMTP server, through the web
UI and the command line, on both databases.

aiosmtpd runs in this process and keeps every message our SMTP sender hands it.
"""

from __future__ import annotations

import email
import email.policy
import json
import warnings
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import Session, select
from starlette.exceptions import StarletteDeprecationWarning

from config.settings import Settings
from intake.receipts import reference_for
from intake.store import RawMessage, store_raw_batch
from moderation.db import session_scope
from moderation.models import (
    Comment,
    CommentStatus,
    DecisionNotice,
    InboundMessage,
    InboundSource,
    NoticeStatus,
    utcnow,
)
from moderation.users import add_user
from publish.urls import comment_page
from tests.conftest import derive, run_cli
from tests.functional.helpers import log_in
from tests.functional.smtp_sink import Delivered, SmtpSink, running_sink
from workers.cli import build_parser, cmd_publish
from workers.notices import send_due_notices
from workers.runtime import Runtime

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=r"Using `httpx` with `starlette\.testclient` "
                            r"is deprecated", category=StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

MODERATOR = "mira"
PASSWORD = "correct horse battery"
WORDS = "Komenti flet për zgjedhjet vendore, jo për planin e veprimit."
OUR_HEADERS = {"subject", "from", "to", "date", "message-id", "auto-submitted",
               "x-auto-response-suppress", "in-reply-to", "references", "content-type",
               "content-transfer-encoding", "mime-version", "x-peer", "x-mailfrom", "x-rcptto"}


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    with running_sink() as sink:
        yield sink


def notice_settings(settings: Settings, sink: SmtpSink, undo_seconds: int) -> Settings:
    return derive(settings, decision_notices=True, undo_seconds=undo_seconds, receipts=False,
                  mail_sender="smtp", smtp_host="127.0.0.1", smtp_port=sink.port,
                  smtp_security="none", mail_from="feedback@ogp.example.al",
                  imap_user="inbox@ogp.example.al",
                  public_site_url="https://ogp.example.al/site/")


def mail(sender: str, subject: str, message_id: str,
         body: str = "Buxhetet e bashkive duhet të botohen në format të hapur.") -> bytes:
    return (f"From: {sender}\r\nTo: feedback@ogp.example.al\r\nSubject: {subject}\r\n"
            f"Message-ID: {message_id}\r\nDate: Mon, 14 Sep 2020 10:00:00 +0200\r\n"
            f"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
            f"{body}\r\n").encode()


def ingest(runtime: Runtime, raw: bytes) -> Comment:
    """Store and process a message as the poller would; returns its pending comment."""
    with session_scope(runtime.engine) as session:
        inbound_id = store_raw_batch(session, [RawMessage(raw=raw,
                                                          source=InboundSource.IMPORT)])[0].inbound_id
    runtime.enqueue([inbound_id])
    with Session(runtime.engine) as session:
        comment = session.exec(select(Comment).where(Comment.inbound_id == inbound_id)).one()
    assert comment.status == CommentStatus.PENDING
    return comment


def current(runtime: Runtime, comment_id: int) -> Comment:
    with Session(runtime.engine) as session:
        comment = session.get(Comment, comment_id)
        assert comment is not None
        return comment


def notices(runtime: Runtime) -> list[DecisionNotice]:
    with Session(runtime.engine) as session:
        return list(session.exec(select(DecisionNotice)).all())


class Moderator:
    """A moderator at the web UI, as a browser without JavaScript drives it."""

    def __init__(self, runtime: Runtime, client: TestClient) -> None:
        self.runtime = runtime
        self.client = client
        self.csrf = log_in(client, MODERATOR, PASSWORD)

    def post(self, comment_id: int, action: str, **fields: str) -> None:
        version = str(current(self.runtime, comment_id).version)
        response = self.client.post(f"/comments/{comment_id}/{action}", data={
            "csrf_token": self.csrf, "version": version, **fields})
        assert response.status_code == 303, response.text

    def reject(self, comment_id: int, code: str = "off-topic", reason: str = WORDS) -> None:
        self.post(comment_id, "reject", reason_code=code, reason=reason)


@pytest.fixture
def moderate(settings: Settings, make_runtime: Any) -> Iterator[Any]:
    """``moderate(settings)``: a runtime and a logged-in moderator at its web UI."""
    clients: list[TestClient] = []

    def start(changed: Settings) -> tuple[Runtime, Moderator]:
        runtime: Runtime = make_runtime(changed)
        with session_scope(runtime.engine) as session:
            add_user(session, MODERATOR, "moderator", PASSWORD)
        client = TestClient(runtime.web_app(), follow_redirects=False)
        client.__enter__()
        clients.append(client)
        return runtime, Moderator(runtime, client)

    yield start
    for client in clients:
        client.__exit__(None, None, None)


def assert_rfc3834_notice(delivered: Delivered, to: str) -> None:
    assert delivered.envelope_from == "<>"  # the empty reverse path: bounces go nowhere
    assert delivered.recipients == [to]
    message = delivered.message()
    assert message["Auto-Submitted"] == "auto-replied"
    assert message["X-Auto-Response-Suppress"] == "All"
    assert message["From"] == "OGP Konsultimi <feedback@ogp.example.al>"
    assert message["To"] == to
    raw_headers = email.message_from_bytes(delivered.data, policy=email.policy.compat32)
    assert {name.lower() for name in raw_headers} <= OUR_HEADERS


def test_a_rejection_reaches_the_citizen_once(settings: Settings, smtp_sink: SmtpSink,
                                              moderate: Any) -> None:
    runtime, moderator = moderate(notice_settings(settings, smtp_sink, undo_seconds=0))
    comment = ingest(runtime, mail("Elira Hoxha <elira@example.org>", "Zgjedhjet vendore qx47",
                                   "<z1@example.org>"))
    assert comment.id is not None

    moderator.reject(comment.id)

    assert len(smtp_sink.delivered) == 1
    delivered = smtp_sink.delivered[0]
    assert_rfc3834_notice(delivered, "elira@example.org")
    message = delivered.message()
    reference = f"OGP-{comment.inbound_id:06d}"
    # Never the citizen's subject (issue 9): the reference number is enough.
    assert message["Subject"] == (f"Auto: {reference} Komenti nuk u botua / Your comment was not "
                                  "published")
    assert "qx47" not in delivered.data.decode()
    assert message["In-Reply-To"] == "<z1@example.org>"
    albanian, english = delivered.text().split("\n---\n")
    for half in (albanian, english):
        flat = " ".join(half.split())
        assert reference in flat
        assert ("Jashtë temës së konsultimit / Off the topic of the consultation. " + WORDS) in flat
    assert "nuk u botua" in albanian
    assert "nuk u botua" not in english
    assert "it was not published" in " ".join(english.split())
    [notice] = notices(runtime)
    assert (notice.kind, notice.status) == ("rejected", NoticeStatus.SENT)
    assert notice.message_id == message["Message-ID"]

    # A second decision (approve after all, then publish) tells the citizen nothing more.
    moderator.post(comment.id, "approve")
    args = build_parser().parse_args(["publish"])
    assert cmd_publish(runtime, args) == 0
    assert current(runtime, comment.id).status == CommentStatus.PUBLISHED
    runtime.send_notices()
    assert len(smtp_sink.delivered) == 1
    [notice] = notices(runtime)
    assert (notice.kind, notice.status) == ("rejected", NoticeStatus.SENT)


def test_a_publication_reaches_the_citizen_with_the_link(settings: Settings,
                                                         smtp_sink: SmtpSink,
                                                         moderate: Any) -> None:
    runtime, moderator = moderate(notice_settings(settings, smtp_sink, undo_seconds=600))
    comment = ingest(runtime, mail("Arben Leka <arben@example.org>", "Të dhëna të hapura",
                                   "<p1@example.org>"))
    assert comment.id is not None
    moderator.post(comment.id, "approve")
    assert smtp_sink.delivered == []  # an approval is not yet news for the citizen

    assert cmd_publish(runtime, build_parser().parse_args(["publish"])) == 0

    assert len(smtp_sink.delivered) == 1
    delivered = smtp_sink.delivered[0]
    assert_rfc3834_notice(delivered, "arben@example.org")
    links = [word for word in delivered.text().split()
             if word.startswith("https://ogp.example.al/site/")]
    assert len(links) == 2  # once in each language
    assert links[0] == links[1]
    # The comment's own page: its permalink, by the reference number on the receipt.
    reference = reference_for(comment.inbound_id)
    assert links[0] == f"https://ogp.example.al/site/{comment_page('sq', reference)}"
    # The page it points to exists and shows the comment.
    page = links[0].removeprefix("https://ogp.example.al/site/")
    html = (runtime.settings.site_dir / page).read_text(encoding="utf-8")
    assert reference in html
    assert "Të dhëna të hapura" in html

    # Publishing again sends nothing more.
    assert cmd_publish(runtime, build_parser().parse_args(["publish"])) == 0
    runtime.send_notices()
    assert len(smtp_sink.delivered) == 1


def test_an_undo_within_the_window_cancels_the_notice(settings: Settings, smtp_sink: SmtpSink,
                                                      moderate: Any) -> None:
    runtime, moderator = moderate(notice_settings(settings, smtp_sink, undo_seconds=600))
    undone = ingest(runtime, mail("Elira <elira@example.org>", "Koment", "<u1@example.org>"))
    kept = ingest(runtime, mail("Besa <besa@example.org>", "Koment tjetër", "<u2@example.org>"))
    assert undone.id is not None
    assert kept.id is not None
    moderator.reject(undone.id)
    moderator.reject(kept.id, code="spam", reason="")
    assert smtp_sink.delivered == []  # within the undo window nothing leaves

    moderator.post(undone.id, "undo")
    assert current(runtime, undone.id).status == CommentStatus.PENDING

    # Once the window has passed, only the rejection that stood is told.
    later = utcnow() + timedelta(seconds=601)
    assert send_due_notices(runtime.engine, runtime.settings, runtime.sender, now=later) == 1
    assert [d.recipients for d in smtp_sink.delivered] == [["besa@example.org"]]
    assert_rfc3834_notice(smtp_sink.delivered[0], "besa@example.org")
    assert "Mesazh i padëshiruar (spam) / Spam" in smtp_sink.delivered[0].text()
    assert [n.comment_id for n in notices(runtime)] == [kept.id]


def test_a_no_reply_sender_gets_nothing(settings: Settings, smtp_sink: SmtpSink,
                                        moderate: Any) -> None:
    runtime, moderator = moderate(notice_settings(settings, smtp_sink, undo_seconds=0))
    robot = ingest(runtime, mail("Njoftime <no-reply@example.org>", "Njoftim",
                                 "<n1@example.org>"))
    person = ingest(runtime, mail("Dritan <dritan@example.org>", "Koment", "<n2@example.org>"))
    assert robot.id is not None
    assert person.id is not None

    moderator.reject(robot.id)
    moderator.reject(person.id)

    assert [d.recipients for d in smtp_sink.delivered] == [["dritan@example.org"]]
    by_comment = {n.comment_id: n for n in notices(runtime)}
    assert by_comment[robot.id].status == NoticeStatus.CANCELLED
    assert by_comment[robot.id].error == "the sender is a no-reply or system address"
    assert by_comment[person.id].status == NoticeStatus.SENT


def test_the_command_line_rejects_tells_and_lists(settings: Settings, smtp_sink: SmtpSink,
                                                  make_runtime: Any) -> None:
    runtime: Runtime = make_runtime(derive(settings, receipts=False))
    comment = ingest(runtime, mail("Elira <elira@example.org>", "Koment", "<c1@example.org>"))
    env = {"OGP_DECISION_NOTICES": "true", "OGP_UNDO_SECONDS": "0",
           "OGP_MAIL_SENDER": "smtp", "OGP_SMTP_HOST": "127.0.0.1",
           "OGP_SMTP_PORT": str(smtp_sink.port), "OGP_SMTP_SECURITY": "none",
           "OGP_MAIL_FROM": "feedback@ogp.example.al",
           "OGP_PUBLIC_SITE_URL": "https://ogp.example.al/site/"}
    added = run_cli(settings, "users", "add", MODERATOR, "--role", "moderator",
                    "--password-stdin", stdin=PASSWORD + "\n")
    assert added.returncode == 0, added.stderr

    rejected = run_cli(settings, "reject", str(comment.id), "--reason-code", "duplicate",
                       "--as", MODERATOR, timeout=120, **env)
    assert rejected.returncode == 0, rejected.stderr

    assert len(smtp_sink.delivered) == 1
    assert_rfc3834_notice(smtp_sink.delivered[0], "elira@example.org")
    assert ("Përsëritje e një komenti të dërguar më parë / A duplicate of a comment already "
            "received") in " ".join(smtp_sink.delivered[0].text().split())

    listed = run_cli(settings, "notices", "--send", "--json", timeout=120, **env)
    assert listed.returncode == 0, listed.stderr
    assert listed.stderr.strip() == "0 sent now"
    [row] = json.loads(listed.stdout)
    with Session(runtime.engine) as session:
        inbound = session.get(InboundMessage, comment.inbound_id)
        assert inbound is not None
    assert row["comment_id"] == comment.id
    assert row["reference"] == f"OGP-{inbound.id:06d}"
    assert (row["kind"], row["status"]) == ("rejected", "sent")
    assert len(smtp_sink.delivered) == 1
