"""Outgoing mail to citizens: templates by name and the one header builder (pure).

Each kind of message is a folder ``templates/email/<kind>/`` with ``subject.txt``
and ``body.txt``; the builders here only choose a template and a context. Every
header value is built from cleaned plain strings, never copied from an incoming
message, so no CR/LF in a citizen's text can add a header or a recipient, and
nothing the citizen wrote (not even the subject) is echoed back.
RFC 3834: every message is marked ``Auto-Submitted: auto-replied``; the caller
sends it with an empty envelope sender. No database, no network, no clock.
"""

from __future__ import annotations

import email.policy
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.utils import format_datetime, make_msgid
from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined

from intake.limits import header_block
from intake.receipts import clean_address, clean_header_text, clean_message_id
from moderation.models import NoticeKind
from publish.urls import comment_page

MAX_SUBJECT_LINE = 300
SENDER_NAME = "OGP Konsultimi"


@cache
def _environment() -> Environment:
    # Plain text, never HTML: escaping would put "&amp;" into a plain-text mail.
    return Environment(
        loader=PackageLoader("workers", "templates/email"),
        autoescape=False,  # noqa: S701
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str


def render(kind: str, context: dict[str, str]) -> Rendered:
    """The message ``kind`` (a template folder) with ``context``; the subject is one clean line."""
    env = _environment()
    subject = env.get_template(f"{kind}/subject.txt").render(context)
    body = env.get_template(f"{kind}/body.txt").render(context)
    return Rendered(clean_header_text(subject, MAX_SUBJECT_LINE), body)


@dataclass(frozen=True)
class AutoReply:
    """An automatic message to one citizen; ``subject`` and ``in_reply_to`` are cleaned here."""

    to: str
    mail_from: str
    subject: str
    body: str
    sent_at: datetime
    in_reply_to: str | None = None
    # Names the kind of message in the Message-ID's left part.
    idstring: str = "auto"


def build_auto_reply(reply: AutoReply) -> EmailMessage:
    to = clean_address(reply.to)
    if to is None:
        raise ValueError("an automatic reply needs one plain recipient address")
    message = EmailMessage()
    message["Subject"] = clean_header_text(reply.subject, MAX_SUBJECT_LINE)
    message["From"] = Address(SENDER_NAME, addr_spec=reply.mail_from)
    message["To"] = Address(addr_spec=to)
    message["Date"] = format_datetime(reply.sent_at)
    message["Message-ID"] = make_msgid(idstring=reply.idstring,
                                       domain=reply.mail_from.split("@", 1)[1])
    message["Auto-Submitted"] = "auto-replied"
    # Exchange and Outlook: no out-of-office or delivery report back to us.
    message["X-Auto-Response-Suppress"] = "All"
    in_reply_to = clean_message_id(reply.in_reply_to)
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
        message["References"] = in_reply_to
    message.set_content(reply.body, charset="utf-8")
    return message


def asks_for_no_auto_reply(raw: bytes) -> bool:
    """RFC 3834 2: never answer an automatic message, nor one that asked not to be answered.

    A message that cannot be read is not answered either.
    """
    try:
        headers = BytesHeaderParser(policy=email.policy.compat32).parsebytes(header_block(raw))
    except Exception:  # a header block we cannot read is no one to answer
        return True
    suppress = str(headers.get("X-Auto-Response-Suppress", "")).lower()
    if any(word in suppress for word in ("all", "autoreply", "oof")):
        return True
    auto_submitted = str(headers.get("Auto-Submitted", "no")).strip().lower()
    return not auto_submitted.startswith("no")


# ---------------------------------------------------------------- notices about a comment

TEMPLATES = {
    NoticeKind.REJECTED: "decision-rejected",
    NoticeKind.PUBLISHED: "decision-published",
    NoticeKind.RESPONSE: "response",
}


@dataclass(frozen=True)
class ResponseWords:
    """The secretariat's response as the site shows it (``moderation.public.ResponsePublic``)."""

    outcome_sq: str
    outcome_en: str
    text_sq: str
    text_en: str
    link: str | None = None  # to the commitment text that changed


@dataclass(frozen=True)
class NoticeContent:
    """What a decision or response notice says; values as stored, cleaned by the builder."""

    kind: NoticeKind
    to: str
    mail_from: str
    # "OGP-000123", from ``intake.receipts.reference_for``. Never the citizen's subject:
    # an automatic mail must not carry words a stranger chose (issue 9).
    reference: str
    sent_at: datetime
    in_reply_to: str | None = None  # the Message-ID of the citizen's message
    reason: str = ""  # for a rejection: ``moderation.transitions.rejection_text``
    link: str = ""  # for a publication or a response: the comment on the public site
    response: ResponseWords | None = None  # for a response


def _response_context(words: ResponseWords | None) -> dict[str, str]:
    if words is None:
        return {}
    return {
        "outcome_sq": words.outcome_sq,
        "outcome_en": words.outcome_en,
        # The secretariat's paragraphs are kept, each line indented as a quotation.
        "text_sq": _quoted(words.text_sq),
        "text_en": _quoted(words.text_en),
        "response_link": words.link or "",
    }


def _quoted(text: str) -> str:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").strip().split("\n")
    return "\n".join(f"    {line}".rstrip() for line in lines) if text.strip() else ""


def comment_link(site_url: str, reference: str) -> str:
    """The comment's own page on the public site (its permalink, by reference number)."""
    return f"{site_url.rstrip('/')}/{comment_page('sq', reference)}"


def build_notice(content: NoticeContent) -> EmailMessage:
    if content.kind is NoticeKind.REJECTED and not content.reason.strip():
        raise ValueError("a rejection notice must say why")
    if content.kind in {NoticeKind.PUBLISHED, NoticeKind.RESPONSE} and not content.link:
        raise ValueError(f"a {content.kind.value} notice must give the link")
    if content.kind is NoticeKind.RESPONSE and content.response is None:
        raise ValueError("a response notice must carry the response")
    rendered = render(TEMPLATES[content.kind], {
        "reference": content.reference,
        # The reason is quoted as one paragraph; a moderator's line breaks are not kept.
        "reason": " ".join(content.reason.split()),
        "link": content.link,
        **_response_context(content.response),
    })
    return build_auto_reply(AutoReply(
        to=content.to,
        mail_from=content.mail_from,
        subject=f"Auto: {content.reference} {rendered.subject}",
        body=rendered.body,
        sent_at=content.sent_at,
        in_reply_to=content.in_reply_to,
        idstring="notice",
    ))


# ---------------------------------------------------------------- address confirmation

@dataclass(frozen=True)
class ConfirmationContent:
    """The first mail to a contact-form address: a link, the reference, nothing the sender wrote."""

    to: str
    mail_from: str
    reference: str
    link: str  # ``moderation.confirmations.confirm_link``
    hours: int
    sent_at: datetime


def build_confirmation(content: ConfirmationContent) -> EmailMessage:
    rendered = render("confirm-address", {
        "reference": content.reference, "link": content.link, "hours": str(content.hours),
    })
    return build_auto_reply(AutoReply(
        to=content.to,
        mail_from=content.mail_from,
        subject=f"Auto: {content.reference} {rendered.subject}",
        body=rendered.body,
        sent_at=content.sent_at,
        idstring="confirm",
    ))
