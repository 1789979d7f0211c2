"""The citizen's receipt: who gets one, and the message itself (pure, RFC 3834).

Every header value is built from cleaned plain strings, never copied from the
incoming message, so no CR/LF in a subject or a display name can add a header.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]")
_ADDRESS = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~\-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9\-.]{0,251}[A-Za-z0-9])?$"
)
_MESSAGE_ID = re.compile(r"^<[\x21-\x3b\x3d\x3f-\x7e]{1,250}@[\x21-\x3b\x3d\x3f-\x7e]{1,250}>$")
_NO_REPLY_LOCAL = re.compile(
    r"^(no-?reply|do-?not-?reply|mailer-daemon|postmaster|bounce[s]?|notifications?)([+\-.].*)?$",
    re.IGNORECASE,
)
MAX_SUBJECT = 150


def clean_header_text(value: str, limit: int = MAX_SUBJECT) -> str:
    """One line of text, no control or bidi characters, at most ``limit`` characters."""
    return " ".join(_CONTROL.sub(" ", value).split())[:limit]


def clean_address(value: str) -> str | None:
    """A plain ``local@domain`` address, or ``None`` when it is anything else."""
    value = value.strip()
    if not _ADDRESS.match(value) or ".." in value:
        return None
    return value.lower()


def clean_message_id(value: str | None) -> str | None:
    if not value:
        return None
    value = value.strip()
    return value if _MESSAGE_ID.match(value) else None


def own_addresses(mail_from: str, imap_user: str | None) -> frozenset[str]:
    """The addresses that are us: never answered (RFC 3834: no loops)."""
    own = {mail_from.lower()}
    if imap_user and "@" in imap_user:
        own.add(imap_user.lower())
    return frozenset(own)


def reference_for(inbound_id: int) -> str:
    return f"OGP-{inbound_id:06d}"


@dataclass(frozen=True)
class ReceiptDecision:
    address: str | None
    reason: str  # why a receipt is or is not sent, for the audit log


def decide_receipt(
    sender: str, own_addresses: frozenset[str], suppress_auto_reply: bool
) -> ReceiptDecision:
    """RFC 3834: answer only a person, never ourselves or a robot."""
    address = clean_address(sender)
    if address is None:
        return ReceiptDecision(None, "no usable sender address")
    if address in own_addresses:
        return ReceiptDecision(None, "the sender is our own address")
    if _NO_REPLY_LOCAL.match(address.split("@", 1)[0]):
        return ReceiptDecision(None, "the sender is a no-reply or system address")
    if suppress_auto_reply:
        return ReceiptDecision(None, "the sender asked for no automatic replies")
    return ReceiptDecision(address, "receipt due")


@dataclass(frozen=True)
class ReceiptContent:
    to: str
    mail_from: str
    reference: str
    in_reply_to: str | None
    sent_at: datetime


BODY = """\
Përshëndetje,

Faleminderit për komentin tuaj mbi Planin e Veprimit të Partneritetit për
Qeverisje të Hapur 2020-2022. E morëm dhe i dhamë numrin e referencës
{reference}. Pas moderimit, komenti do të botohet në faqen e konsultimit pa
adresën tuaj elektronike, dhe qeveria do t'i japë një përgjigje të arsyetuar.
Kjo është një përgjigje automatike; nuk keni nevojë ta ktheni.

---

Hello,

Thank you for your comment on the Open Government Partnership Action Plan
2020-2022. We received it and gave it the reference number {reference}.
After moderation it will be published on the consultation site without your
e-mail address, and the government will give it a reasoned response.
This is an automatic reply; there is no need to answer it.

Sekretariati i konsultimit / The consultation secretariat
"""


def build_receipt(content: ReceiptContent) -> EmailMessage:
    message = EmailMessage()
    # Never the citizen's subject: the form would otherwise let anyone put words of
    # their choosing into a mail to a stranger. The reference number is enough.
    message["Subject"] = f"Auto: {content.reference} Konfirmim / Receipt"
    message["From"] = Address("OGP Konsultimi", addr_spec=content.mail_from)
    message["To"] = Address(addr_spec=content.to)
    message["Date"] = format_datetime(content.sent_at)
    message["Message-ID"] = make_msgid(idstring="receipt", domain=content.mail_from.split("@")[1])
    message["Auto-Submitted"] = "auto-replied"
    message["X-Auto-Response-Suppress"] = "All"
    if content.in_reply_to:
        message["In-Reply-To"] = content.in_reply_to
        message["References"] = content.in_reply_to
    message.set_content(BODY.format(reference=content.reference), charset="utf-8")
    return message
