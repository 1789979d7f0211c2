"""A real SMTP server (aiosmtpd, in this process) that keeps what it receives."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from tests.conftest import free_port


@dataclass
class Delivered:
    envelope_from: str
    recipients: list[str]
    data: bytes

    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.data, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed

    def text(self) -> str:
        body = self.message().get_body(("plain",))
        assert body is not None
        content: str = body.get_content()
        # SMTP carries CRLF; the text as a mail program shows it has plain line ends.
        return content.replace("\r\n", "\n")


@dataclass
class SmtpSink:
    port: int
    delivered: list[Delivered] = field(default_factory=list)

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # noqa: N802
        self.delivered.append(Delivered(envelope.mail_from, list(envelope.rcpt_tos),
                                        bytes(envelope.original_content or envelope.content)))
        return "250 OK"


@contextmanager
def running_sink() -> Iterator[SmtpSink]:
    sink = SmtpSink(free_port())
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()
