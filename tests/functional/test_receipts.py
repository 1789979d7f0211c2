"""Citizens get one safe receipt; robots and header tricks get nothing.

A real SMTP server (aiosmtpd, in this process) receives what we send.
"""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlmodel import Session, select

from config.settings import Settings
from intake.store import RawMessage, store_raw_batch
from moderation.db import session_scope
from moderation.models import InboundSource, Receipt
from tests.conftest import derive, free_port
from workers.runtime import Runtime


@dataclass
class Delivered:
    envelope_from: str
    recipients: list[str]
    data: bytes


@dataclass
class SmtpSink:
    port: int
    delivered: list[Delivered] = field(default_factory=list)

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # noqa: N802
        self.delivered.append(
            Delivered(
                envelope.mail_from,
                list(envelope.rcpt_tos),
                bytes(envelope.original_content or envelope.content),
            )
        )
        return "250 OK"


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    sink = SmtpSink(free_port())
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port)
    controller.start()
    yield sink
    controller.stop()


def mail(
    sender: str,
    subject: str,
    body: str = "Komenti im për buxhetin e bashkisë.",
    extra: str = "",
    message_id: str = "<m1@example.org>",
) -> bytes:
    return (
        f"From: {sender}\r\nTo: feedback@ogp.example.al\r\nSubject: {subject}\r\n"
        f"Message-ID: {message_id}\r\nDate: Mon, 14 Sep 2020 10:00:00 +0200\r\n"
        f"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n{extra}\r\n"
        f"{body}\r\n"
    ).encode()


@pytest.fixture
def runtime(settings: Settings, smtp_sink: SmtpSink, make_runtime: Any) -> Runtime:
    smtp = derive(
        settings,
        receipts=True,
        mail_sender="smtp",
        smtp_host="127.0.0.1",
        smtp_port=smtp_sink.port,
        smtp_security="none",
        mail_from="feedback@ogp.example.al",
        imap_user="inbox@ogp.example.al",
    )
    made: Runtime = make_runtime(smtp)
    return made


def ingest(runtime: Runtime, raw: bytes) -> int:
    with session_scope(runtime.engine) as session:
        inbound_id = store_raw_batch(session, [RawMessage(raw=raw, source=InboundSource.IMPORT)])[
            0
        ].inbound_id
    runtime.enqueue([inbound_id])
    return inbound_id


def test_a_citizen_gets_one_rfc3834_receipt(runtime: Runtime, smtp_sink: SmtpSink) -> None:
    inbound_id = ingest(runtime, mail("Elira Hoxha <elira@example.org>", "Buxheti i bashkisë"))
    assert len(smtp_sink.delivered) == 1
    delivered = smtp_sink.delivered[0]
    assert delivered.recipients == ["elira@example.org"]
    assert delivered.envelope_from == "<>"
    receipt = email.message_from_bytes(delivered.data, policy=email.policy.default)
    assert receipt["Auto-Submitted"] == "auto-replied"
    assert receipt["In-Reply-To"] == "<m1@example.org>"
    assert receipt["References"] == "<m1@example.org>"
    assert receipt["To"] == "elira@example.org"
    reference = f"OGP-{inbound_id:06d}"
    # Never the citizen's subject (issue 9): the reference number is enough.
    assert receipt["Subject"] == f"Auto: {reference} Konfirmim / Receipt"
    assert "bashkis" not in delivered.data.decode()
    body = receipt.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert reference in text
    assert "Faleminderit" in text
    assert "Thank you" in text
    with Session(runtime.engine) as session:
        row = session.exec(select(Receipt)).one()
        assert row.status == "sent"
        assert row.message_id == receipt["Message-ID"]

    # The same citizen writes again the same day: no second receipt.
    ingest(
        runtime,
        mail("Elira Hoxha <elira@example.org>", "Edhe një koment", message_id="<m2@example.org>"),
    )
    assert len(smtp_sink.delivered) == 1


@pytest.mark.parametrize(
    ("sender", "extra"),
    [
        ("OGP <feedback@ogp.example.al>", ""),  # our own address
        ("Inbox <INBOX@ogp.example.al>", ""),  # the mailbox we read
        ("Robot <no-reply@example.org>", ""),
        ("Arben <arben@example.org>", "Auto-Submitted: auto-replied\r\n"),
        ("Arben <arben@example.org>", "Precedence: bulk\r\n"),
        ("Arben <arben@example.org>", "X-Auto-Response-Suppress: All\r\n"),
        ("Arben <arben@example.org>", "List-Id: <list.example.org>\r\n"),
    ],
)
def test_no_receipt_for_machines_or_ourselves(
    runtime: Runtime, smtp_sink: SmtpSink, sender: str, extra: str
) -> None:
    ingest(runtime, mail(sender, "Koment", extra=extra))
    assert smtp_sink.delivered == []


INJECTIONS = [
    "Komenti im =?UTF-8?Q?=0ABcc:_victim@example.com?=",
    "Komenti im =?UTF-8?Q?=0D=0ABcc:_victim@example.com?=",
    "Komenti im =?UTF-8?B?DQpCY2M6IHZpY3RpbUBleGFtcGxlLmNvbQ==?=",
    "Komenti im =?UTF-8?Q?=0A=0AInjected_body?=",
    "Komenti =?UTF-8?Q?=E2=80=AE=0AX-Evil:_1?=",
]


@pytest.mark.parametrize("subject", INJECTIONS)
def test_subject_cannot_add_a_header(runtime: Runtime, smtp_sink: SmtpSink, subject: str) -> None:
    ingest(runtime, mail("Besnik <besnik@example.org>", subject))
    assert len(smtp_sink.delivered) == 1
    _assert_only_our_headers(smtp_sink.delivered[0])


@pytest.mark.parametrize(
    "display_name",
    [
        "=?UTF-8?Q?Besnik=0ABcc:_victim@example.com?=",
        "=?UTF-8?B?QmVzbmlrDQpCY2M6IHZpY3RpbUBleGFtcGxlLmNvbQ==?=",
        '"Besnik\\r\\nBcc: victim@example.com"',
    ],
)
def test_display_name_cannot_add_a_header(
    runtime: Runtime, smtp_sink: SmtpSink, display_name: str
) -> None:
    ingest(runtime, mail(f"{display_name} <besnik@example.org>", "Koment"))
    for delivered in smtp_sink.delivered:
        assert delivered.recipients == ["besnik@example.org"]
        _assert_only_our_headers(delivered)


def _assert_only_our_headers(delivered: Delivered) -> None:
    assert delivered.recipients == ["besnik@example.org"]
    parsed = email.message_from_bytes(delivered.data, policy=email.policy.compat32)
    names = {name.lower() for name in parsed}
    assert names <= {
        "subject",
        "from",
        "to",
        "date",
        "message-id",
        "auto-submitted",
        "x-auto-response-suppress",
        "in-reply-to",
        "references",
        "content-type",
        "content-transfer-encoding",
        "mime-version",
        "x-peer",
        "x-mailfrom",
        "x-rcptto",
    }, names
    assert "bcc" not in names
    assert "x-evil" not in names
    decoded = email.message_from_bytes(delivered.data, policy=email.policy.default)
    # Whatever the citizen wrote stays inside the one Subject line, as text.
    assert "\n" not in str(decoded["Subject"])
    assert "\r" not in str(decoded["Subject"])
