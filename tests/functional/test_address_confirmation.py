"""A contact-form address gets nothing but one confirmation mail until its owner confirms it.

The contact form, a browser without JavaScript, in-process processing and a real SMTP
server (aiosmtpd, in this process): what a stranger whose address was typed into the
form would find in their mailbox.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select
from starlette.exceptions import StarletteDeprecationWarning

from config.settings import Settings
from intake.store import RawMessage, store_raw_batch
from moderation.confirmations import hash_token
from moderation.db import session_scope
from moderation.models import (
    AddressConfirmation,
    Comment,
    CommentStatus,
    DecisionNotice,
    InboundSource,
    NoticeKind,
    NoticeStatus,
    Receipt,
    RejectCode,
    utcnow,
)
from moderation.web.app import create_app
from tests.conftest import derive
from tests.functional.smtp_sink import Delivered, SmtpSink, running_sink
from workers.notices import UNCONFIRMED, send_due_notices
from workers.runtime import Runtime

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=r"Using `httpx` with `starlette\.testclient` "
                            r"is deprecated", category=StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
LINK = re.compile(r"https://ogp\.example\.al/contact/confirm\?token=([A-Za-z0-9_-]+)")
SUBJECT_TOKEN = "Buxhetet-kq93z"
OUR_HEADERS = {"subject", "from", "to", "date", "message-id", "auto-submitted",
               "x-auto-response-suppress", "content-type", "content-transfer-encoding",
               "mime-version", "x-peer", "x-mailfrom", "x-rcptto", "in-reply-to", "references"}


@dataclass
class Form:
    client: TestClient
    runtime: Runtime
    sink: SmtpSink

    @property
    def engine(self) -> Engine:
        return self.runtime.engine

    def csrf(self, path: str = "/contact") -> str:
        match = CSRF_FIELD.search(self.client.get(path).text)
        assert match, "no CSRF field"
        return match.group(1)

    def submit(self, email: str = "stranger@example.org", comment: str = "Buxhetet e hapura.",
               ) -> None:
        response = self.client.post("/contact", data={
            "name": "Ana Hoxha", "email": email, "subject": SUBJECT_TOKEN, "commitment": "4",
            "comment": comment, "website": "", "csrf_token": self.csrf()})
        assert response.status_code == 303, response.text

    def token(self, delivered: Delivered) -> str:
        match = LINK.search(delivered.text())
        assert match, delivered.text()
        return match.group(1)

    def confirm(self, token: str) -> httpx.Response:
        page = self.client.get(f"/contact/confirm?token={token}")
        match = CSRF_FIELD.search(page.text)
        csrf = match.group(1) if match else self.csrf()
        response: httpx.Response = self.client.post(
            "/contact/confirm", data={"token": token, "csrf_token": csrf})
        return response


@pytest.fixture
def form(settings: Settings, make_runtime: object) -> Iterator[Form]:
    with running_sink() as sink:
        smtp = derive(settings, receipts=True, decision_notices=True, mail_sender="smtp",
                      smtp_host="127.0.0.1", smtp_port=sink.port, smtp_security="none",
                      mail_from="feedback@ogp.example.al", imap_user="inbox@ogp.example.al",
                      ui_url="https://ogp.example.al/", undo_seconds=0,
                      public_site_url="https://ogp.example.al/site/",
                      # Sent at once, as a test does; the typing-time check has its own tests.
                      form_min_seconds=0)
        runtime: Runtime = make_runtime(smtp)  # type: ignore[operator]
        app = create_app(smtp, engine=runtime.engine, enqueue=runtime.enqueue,
                         send_receipts=runtime.send_receipts)
        with TestClient(app, follow_redirects=False) as client:
            yield Form(client, runtime, sink)


def receipts(engine: Engine) -> list[Receipt]:
    with Session(engine) as session:
        return list(session.exec(select(Receipt)))


def assert_safe_auto_reply(delivered: Delivered, to: str) -> None:
    assert delivered.recipients == [to]
    assert delivered.envelope_from == "<>"
    message = delivered.message()
    assert message["Auto-Submitted"] == "auto-replied"
    assert {name.lower() for name in message} <= OUR_HEADERS
    assert "kq93z" not in delivered.data.decode()  # never the subject the form was given


def test_a_submission_sends_one_confirmation_and_no_receipt(form: Form) -> None:
    form.submit()
    assert len(form.sink.delivered) == 1
    [delivered] = form.sink.delivered
    assert_safe_auto_reply(delivered, "stranger@example.org")
    message = delivered.message()
    with Session(form.engine) as session:
        comment = session.exec(select(Comment)).one()
        row = session.exec(select(AddressConfirmation)).one()
    reference = f"OGP-{comment.inbound_id:06d}"
    assert message["Subject"] == (f"Auto: {reference} Konfirmoni adresën / "
                                  "Please confirm your address")
    albanian, english = delivered.text().split("\n---\n")
    assert "Konfirmo" in albanian
    assert "Confirm" in english
    token = form.token(delivered)
    assert row.token_hash == hash_token(token)  # only the hash is kept
    assert token not in row.token_hash
    assert comment.status == CommentStatus.PENDING  # stored and processed as any comment
    assert receipts(form.engine) == []

    # The same address again within the day: no second confirmation, no receipt.
    form.submit(comment="Edhe një koment.")
    assert len(form.sink.delivered) == 1


def test_confirming_sends_the_receipt(form: Form) -> None:
    form.submit()
    token = form.token(form.sink.delivered[0])

    # Opening the link (a mail scanner does) changes nothing.
    page = form.client.get(f"/contact/confirm?token={token}")
    assert page.status_code == 200
    assert 'id="confirm"' in page.text
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert len(form.sink.delivered) == 1

    response = form.confirm(token)
    assert response.status_code == 200, response.text
    assert 'id="confirmed"' in response.text
    assert len(form.sink.delivered) == 2
    receipt = form.sink.delivered[1]
    assert_safe_auto_reply(receipt, "stranger@example.org")
    assert receipt.message()["Subject"].endswith("Konfirmim / Receipt")
    [row] = receipts(form.engine)
    assert row.status == "sent"

    # A second press (or a replayed link) sends nothing more.
    again = form.confirm(token)
    assert 'id="already"' in again.text
    assert len(form.sink.delivered) == 2


def test_confirming_needs_the_csrf_token(form: Form) -> None:
    form.submit()
    token = form.token(form.sink.delivered[0])
    form.client.get(f"/contact/confirm?token={token}")
    response = form.client.post("/contact/confirm", data={"token": token, "csrf_token": "x"})
    assert response.status_code == 403
    assert "Confirm" in response.text
    assert len(form.sink.delivered) == 1
    with Session(form.engine) as session:
        assert session.exec(select(AddressConfirmation)).one().confirmed_at is None


@pytest.mark.parametrize("token", ["", "short", "A" * 43, "../../etc/passwd"])
def test_an_unknown_token_is_refused_bilingually(form: Form, token: str) -> None:
    page = form.client.get("/contact/confirm", params={"token": token})
    assert page.status_code == 404
    assert 'id="confirm"' not in page.text
    for response in (page, form.confirm(token)):
        assert response.status_code == 404
        assert "nuk njihet" in response.text
        assert "is not known" in response.text
    assert form.sink.delivered == []


def test_an_expired_token_is_refused_bilingually(form: Form) -> None:
    form.submit()
    token = form.token(form.sink.delivered[0])
    with session_scope(form.engine) as session:
        row = session.exec(select(AddressConfirmation)).one()
        row.expires_at = utcnow() - timedelta(minutes=1)
        session.add(row)
    response = form.confirm(token)
    assert response.status_code == 410
    assert "ka skaduar" in response.text
    assert "has expired" in response.text
    assert len(form.sink.delivered) == 1
    assert receipts(form.engine) == []


def _reject_with_a_notice(engine: Engine) -> int:
    with session_scope(engine) as session:
        comment = session.exec(select(Comment)).one()
        comment.status = CommentStatus.REJECTED
        comment.reject_code = RejectCode.OFF_TOPIC
        comment.reject_reason = "Jashtë temës."
        session.add(comment)
        notice = DecisionNotice(comment_id=comment.id or 0, kind=NoticeKind.REJECTED)
        session.add(notice)
        session.flush()
        return notice.id or 0


def test_an_unconfirmed_address_never_gets_a_notice(form: Form) -> None:
    form.submit()
    notice_id = _reject_with_a_notice(form.engine)
    assert send_due_notices(form.engine, form.runtime.settings, form.runtime.sender) == 0
    assert len(form.sink.delivered) == 1  # the confirmation only
    with Session(form.engine) as session:
        notice = session.get(DecisionNotice, notice_id)
        assert notice is not None
        assert (notice.status, notice.error) == (NoticeStatus.CANCELLED, UNCONFIRMED)


def test_a_confirmed_address_gets_its_notice(form: Form) -> None:
    form.submit()
    form.confirm(form.token(form.sink.delivered[0]))
    _reject_with_a_notice(form.engine)
    assert send_due_notices(form.engine, form.runtime.settings, form.runtime.sender) == 1
    notice = form.sink.delivered[-1]
    assert_safe_auto_reply(notice, "stranger@example.org")
    assert "nuk u botua" in notice.text()


def test_mail_comments_keep_their_receipts(form: Form) -> None:
    raw = (f"From: Elira <elira@example.org>\r\nTo: feedback@ogp.example.al\r\n"
           f"Subject: {SUBJECT_TOKEN}\r\nMessage-ID: <e1@example.org>\r\n"
           "Date: Mon, 14 Sep 2020 10:00:00 +0200\r\nContent-Type: text/plain; charset=utf-8\r\n"
           "\r\nKomenti im.\r\n").encode()
    with session_scope(form.engine) as session:
        [stored] = store_raw_batch(session, [RawMessage(raw=raw, source=InboundSource.IMPORT)])
    form.runtime.enqueue([stored.inbound_id])
    [delivered] = form.sink.delivered
    assert delivered.message()["Subject"] == (f"Auto: OGP-{stored.inbound_id:06d} "
                                              "Konfirmim / Receipt")
    assert "kq93z" not in delivered.data.decode()
    with Session(form.engine) as session:
        assert session.exec(select(AddressConfirmation)).all() == []
