"""Outgoing mail: one sender chosen by ``OGP_MAIL_SENDER`` (the only module that sends mail)."""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from typing import Protocol

from config.settings import MailSender, Settings, SmtpSecurity

log = logging.getLogger(__name__)


class Sender(Protocol):
    def send(self, message: EmailMessage, envelope_from: str, recipient: str) -> None: ...


class ConsoleSender:
    """For development: logs the message (``ogp-feedback -v`` shows it) instead of sending it."""

    def send(self, message: EmailMessage, envelope_from: str, recipient: str) -> None:
        log.info("mail from <%s> to <%s> (console sender, not sent):\n%s",
                 envelope_from, recipient, message.as_string())


class SmtpSender:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def _context(self) -> ssl.SSLContext:
        cafile = str(self.settings.smtp_cafile) if self.settings.smtp_cafile else None
        return ssl.create_default_context(cafile=cafile)

    def _connect(self) -> smtplib.SMTP:
        host = self.settings.smtp_host or ""
        port = self.settings.effective_smtp_port
        timeout = self.settings.smtp_timeout_seconds
        if self.settings.smtp_security is SmtpSecurity.TLS:
            return smtplib.SMTP_SSL(host, port, timeout=timeout, context=self._context())
        client = smtplib.SMTP(host, port, timeout=timeout)
        if self.settings.smtp_security is SmtpSecurity.STARTTLS:
            client.starttls(context=self._context())
        return client

    def verify(self) -> None:
        """Connect, secure and log in as ``send`` would, then say NOOP; sends nothing."""
        with self._connect() as client:
            client.ehlo_or_helo_if_needed()
            if self.settings.smtp_user:
                client.login(self.settings.smtp_user, self.settings.smtp_password or "")
            code, reply = client.noop()
            if code != 250:
                raise smtplib.SMTPResponseException(code, reply)

    def send(self, message: EmailMessage, envelope_from: str, recipient: str) -> None:
        with self._connect() as client:
            if self.settings.smtp_user:
                client.login(self.settings.smtp_user, self.settings.smtp_password or "")
            # The envelope names exactly one recipient; headers never add any.
            client.send_message(message, from_addr=envelope_from, to_addrs=[recipient])


def make_sender(settings: Settings) -> Sender:
    if settings.mail_sender is MailSender.SMTP:
        return SmtpSender(settings)
    return ConsoleSender()
