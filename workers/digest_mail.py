"""The digest by mail to the secretariat (``ogp-feedback digest --send``).

A digest is a periodic report to staff, not an answer to a citizen: RFC 3834 calls
it ``Auto-Submitted: auto-generated``, and its envelope sender is our own address
(a bounce from a staff mailbox should come back). Headers are built from cleaned
strings, as for citizens' notices; one message per recipient, each naming only its
own recipient. The text part is the template ``templates/email/digest``; the HTML
part is the digest itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from intake.receipts import clean_address, clean_header_text
from workers.mail import Sender
from workers.outgoing import MAX_SUBJECT_LINE, SENDER_NAME, render


class DigestMailError(ValueError):
    """No one to send the digest to, or an address that is not one."""


@dataclass(frozen=True)
class DigestMail:
    to: str
    mail_from: str
    period: str
    figures: dict[str, int]  # received, published, approved, pending, rejected
    html: str
    sent_at: datetime


def build_digest_message(mail: DigestMail) -> EmailMessage:
    to = clean_address(mail.to)
    if to is None:
        raise DigestMailError(f"{mail.to!r} is not one plain address")
    rendered = render("digest", {"period": clean_header_text(mail.period, 80),
                                 **{name: str(value) for name, value in mail.figures.items()}})
    message = EmailMessage()
    message["Subject"] = clean_header_text(rendered.subject, MAX_SUBJECT_LINE)
    message["From"] = Address(SENDER_NAME, addr_spec=mail.mail_from)
    message["To"] = Address(addr_spec=to)
    message["Date"] = format_datetime(mail.sent_at)
    message["Message-ID"] = make_msgid(idstring="digest", domain=mail.mail_from.split("@", 1)[1])
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(rendered.body, charset="utf-8")
    message.add_alternative(mail.html, subtype="html", charset="utf-8")
    return message


def send_digest(sender: Sender, recipients: list[str], mail_from: str, period: str,
                figures: dict[str, int], html: str, sent_at: datetime) -> list[str]:
    """Mail the digest to each recipient; returns the addresses it went to."""
    if not recipients:
        raise DigestMailError("no one to send the digest to: set OGP_DIGEST_RECIPIENTS "
                              "(comma-separated addresses)")
    sent = []
    for recipient in recipients:
        message = build_digest_message(DigestMail(recipient, mail_from, period, figures, html,
                                                  sent_at))
        sender.send(message, envelope_from=mail_from, recipient=recipient)
        sent.append(recipient)
    return sent
