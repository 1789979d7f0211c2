"""The public contact form: the plan's second channel, into the same pipeline as mail.

A submission becomes an RFC 5322 message (``X-OGP-Source: contact-form``) that is
stored with ``store_raw_batch`` like a message from the inbox, committed, and only
then handed to processing: the classifier, the moderators and the publisher see a
form comment exactly as they see an e-mail. The checks (honeypot, sizes, the address,
the per-address rate limit, the refusals under a flood) are pure functions here; the
routes are in ``moderation.web.routes.contact``.

This module never publishes, moderates or sends mail, and never logs or shows a
submitter's address; the rate limit keeps only a keyed hash of it.
"""

from __future__ import annotations

import email.policy
import email.utils
import hashlib
import hmac
import ipaddress
import math
import re
import secrets
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email.errors import HeaderParseError, MessageError
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from typing import Any

from config.catalogue import Catalogue, Commitment
from moderation.models import InboundSource

SOURCE_HEADER = "X-OGP-Source"
SOURCE_VALUE = "contact-form"
COMMITMENT_HEADER = "X-OGP-Commitment"
# The citizen ticked "publish my name with my comment". Read only on messages the form
# itself stored (``InboundSource.FORM``): in e-mail from outside, any header is untrusted.
CONSENT_HEADER = "X-OGP-Consent"
CONSENT_VALUE = "publish-name"
CONSENT_FIELD = "publish_name"
HONEYPOT_FIELD = "website"
NAME_MAX_CHARS = 200
SUBJECT_MAX_CHARS = 200
ADDRESS_MAX_CHARS = 254  # RFC 5321 path limit, less the angle brackets
RATE_WINDOW = timedelta(hours=1)
# csrf_token, name, email, subject, commitment, comment, website; a few to spare.
MAX_FORM_FIELDS = 16
_LOCAL_PART = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_DOMAIN_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


@dataclass(frozen=True)
class Notice:
    """One message for the citizen, Albanian first; the template marks the English part."""

    sq: str
    en: str


CSRF_REFUSED = Notice(
    "Kontrolli i sigurisë së formularit dështoi: faqja ka qëndruar e hapur shumë gjatë ose "
    "formulari nuk erdhi nga kjo faqe. Ringarkoni faqen e formularit, ose kontrolloni tekstin "
    "më poshtë dhe shtypni sërish «Dërgo».",
    "The form's security check failed: the page was open too long or the form did not come "
    "from this site. Reload the form page, or check your text below and press \"Send\" again.",
)
CSRF_REFUSED_CONFIRM = Notice(
    "Kontrolli i sigurisë dështoi (faqja ka qëndruar e hapur shumë gjatë). Shtypni sërish "
    "«Konfirmo».",
    "The security check failed (the page was open too long). Please press \"Confirm\" again.",
)
HONEYPOT_REFUSED = Notice(
    "Mesazhi nuk u pranua. Ju lutemi provoni përsëri.",
    "The message was not accepted. Please try again.",
)
TOO_LARGE = Notice(
    "Formulari që dërguat është shumë i madh. Shkurtoni komentin dhe provoni përsëri.",
    "The form you sent is too large. Please shorten your comment and try again.",
)
FIX_FIELDS = Notice(
    "Komenti nuk u dërgua. Ju lutemi korrigjoni fushat e shënuara më poshtë.",
    "Your comment was not sent. Please correct the fields marked below.",
)
NO_LINE_BREAKS = Notice(
    "nuk mund të përmbajë ndërprerje rreshti ose shenja kontrolli.",
    "cannot contain line breaks or control characters.",
)


@dataclass(frozen=True)
class ContactForm:
    """What the citizen typed, as strings; nothing here has been checked yet."""

    name: str = ""
    email: str = ""
    subject: str = ""
    commitment: str = ""
    comment: str = ""
    website: str = ""  # the honeypot: hidden from people, filled in by naive bots
    # "Publish my name with my comment": unchecked unless the citizen ticks it.
    consent: bool = False

    @classmethod
    def from_fields(cls, fields: Mapping[str, Any]) -> ContactForm:
        def text(name: str) -> str:
            value = fields.get(name)
            return value if isinstance(value, str) else ""

        return cls(name=text("name"), email=text("email"), subject=text("subject"),
                   commitment=text("commitment"), comment=text("comment"),
                   website=text(HONEYPOT_FIELD), consent=text(CONSENT_FIELD) == "yes")

    def for_display(self) -> ContactForm:
        """What is safe to put back into the form: one-line fields, never the honeypot."""
        return replace(self, name=_one_line(self.name), email=_one_line(self.email),
                       subject=_one_line(self.subject), website="")


@dataclass(frozen=True)
class Submission:
    """A checked form: a one-line name and subject, a plain address, a non-empty comment."""

    name: str
    address: str
    subject: str
    commitment: Commitment | None
    comment: str
    # The name may be published with the comment (the citizen's own choice).
    consent: bool = False


@dataclass(frozen=True)
class Refusal:
    status_code: int
    notice: Notice
    errors: Mapping[str, Notice] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)


def _has_line_break_or_control(value: str) -> bool:
    # Cc covers CR, LF, NUL and tab; Zl/Zp are U+2028/U+2029, which some mail
    # software also treats as line ends. Any of them in a header is an injection.
    return any(unicodedata.category(ch) in ("Cc", "Zl", "Zp") for ch in value)


def _one_line(value: str) -> str:
    return "".join(" " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch
                   for ch in value)


def normalise_address(value: str) -> str | None:
    """A bare ``local@domain`` (IDNA domain, lower case), or ``None`` if it is not one."""
    value = value.strip()
    if not value or len(value) > ADDRESS_MAX_CHARS or _has_line_break_or_control(value):
        return None
    # parseaddr must give back the whole input as the address: "Ana <a@b.al>" or
    # "a@b.al, c@d.al" are not one plain address.
    if email.utils.parseaddr(value) != ("", value) or value.count("@") != 1:
        return None
    local, domain = value.split("@")
    if not _LOCAL_PART.fullmatch(local) or len(local) > 64:
        return None
    try:
        domain = domain.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return None
    labels = domain.split(".")
    if len(labels) < 2 or not all(_DOMAIN_LABEL.fullmatch(label) for label in labels):
        return None
    address = f"{local}@{domain}"
    try:
        Address(addr_spec=address)
    except (HeaderParseError, MessageError, ValueError, IndexError):
        return None
    return address


def normalise_comment(value: str) -> str:
    """Browsers send CRLF; the length limit counts what the citizen sees."""
    return value.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "").strip()


def subject_line(typed: str, commitment: Commitment | None) -> str:
    # The chosen commitment's title goes into the subject, where the classifier
    # reads it as well as the moderators; the header keeps the exact id.
    topic = commitment.title_sq if commitment else ""
    return ": ".join(part for part in (topic, typed) if part)


def check_form(form: ContactForm, catalogue: Catalogue,
               max_chars: int) -> Submission | dict[str, Notice]:
    """The checked submission, or the problems by field name."""
    errors: dict[str, Notice] = {}
    name = " ".join(form.name.split())
    if _has_line_break_or_control(form.name):
        errors["name"] = Notice(f"Emri {NO_LINE_BREAKS.sq}", f"The name {NO_LINE_BREAKS.en}")
    elif len(name) > NAME_MAX_CHARS:
        errors["name"] = Notice(f"Emri mund të ketë deri në {NAME_MAX_CHARS} shenja.",
                                f"The name can have at most {NAME_MAX_CHARS} characters.")

    address = normalise_address(form.email)
    if not form.email.strip():
        errors["email"] = Notice("Shkruani adresën tuaj të e-mailit.",
                                 "Please enter your e-mail address.")
    elif address is None:
        errors["email"] = Notice(
            "Kjo nuk duket si një adresë e-maili e vlefshme (p.sh. emri@shembull.al).",
            "This does not look like a valid e-mail address (e.g. name@example.al).")

    subject = " ".join(form.subject.split())
    if _has_line_break_or_control(form.subject):
        errors["subject"] = Notice(f"Tema {NO_LINE_BREAKS.sq}", f"The subject {NO_LINE_BREAKS.en}")
    elif len(subject) > SUBJECT_MAX_CHARS:
        errors["subject"] = Notice(f"Tema mund të ketë deri në {SUBJECT_MAX_CHARS} shenja.",
                                   f"The subject can have at most {SUBJECT_MAX_CHARS} characters.")

    commitment = None
    if form.commitment:
        try:
            commitment = catalogue.label(form.commitment)
        except KeyError:
            errors["commitment"] = Notice("Zgjidhni një angazhim nga lista.",
                                          "Please choose a commitment from the list.")

    comment = normalise_comment(form.comment)
    if not comment:
        errors["comment"] = Notice("Shkruani komentin tuaj.", "Please write your comment.")
    elif len(comment) > max_chars:
        errors["comment"] = Notice(
            f"Komenti ka {len(comment)} shenja; kufiri është {max_chars}. Ju lutemi shkurtojeni.",
            f"The comment has {len(comment)} characters; the limit is {max_chars}. "
            "Please shorten it.")

    if form.consent and not name and "name" not in errors:
        errors["name"] = Notice("Shkruani emrin që doni të publikohet me komentin.",
                                "Please write the name you want published with your comment.")

    if errors or address is None:
        return errors
    return Submission(name=name, address=address, subject=subject_line(subject, commitment),
                      commitment=commitment, comment=comment, consent=form.consent)


def submitter_hash(secret_key: str, address: str) -> str:
    """Keyed, so the rate-limit column cannot be turned back into addresses by guessing."""
    return hmac.new(secret_key.encode(), address.lower().encode(), hashlib.sha256).hexdigest()


def retry_after(recent: Sequence[datetime], limit: int, now: datetime,
                window: timedelta = RATE_WINDOW) -> timedelta | None:
    """``None`` while under ``limit`` submissions in ``window``; else the wait until one expires."""
    inside = sorted(at for at in recent if at > now - window)
    if len(inside) < limit:
        return None
    # The submission that must leave the window before another one fits.
    return inside[len(inside) - limit] + window - now


def new_message_id(mail_from: str) -> str:
    return f"<{secrets.token_hex(16)}@{mail_from.rsplit('@', 1)[1]}>"


def build_message(submission: Submission, mail_to: str, sent_at: datetime,
                  message_id: str) -> bytes:
    """The RFC 5322 bytes the pipeline stores, as if the citizen had written to ``mail_to``."""
    message = EmailMessage(policy=email.policy.SMTP)
    message["From"] = Address(display_name=submission.name, addr_spec=submission.address)
    message["To"] = mail_to
    if submission.subject:
        message["Subject"] = submission.subject
    message["Date"] = email.utils.format_datetime(sent_at.astimezone(UTC))
    message["Message-ID"] = message_id
    message[SOURCE_HEADER] = SOURCE_VALUE
    if submission.commitment is not None:
        message[COMMITMENT_HEADER] = submission.commitment.id
    if submission.consent and submission.name:
        message[CONSENT_HEADER] = CONSENT_VALUE
    message.set_content(submission.comment, charset="utf-8")
    return message.as_bytes()


def form_consent(source: str, raw: bytes) -> bool:
    """Whether a stored message is a form submission whose sender ticked the consent box.

    Mail from outside can carry any header it likes: only the form's own messages count.
    """
    if source != InboundSource.FORM:
        return False
    try:
        headers = BytesHeaderParser(policy=email.policy.compat32).parsebytes(raw)
    except (HeaderParseError, MessageError, ValueError):
        return False
    values = headers.get_all(CONSENT_HEADER) or []
    return len(values) == 1 and str(values[0]).strip() == CONSENT_VALUE


def aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _minutes(wait: timedelta) -> tuple[str, str]:
    minutes = max(1, math.ceil(wait.total_seconds() / 60))
    if minutes == 1:
        return "1 minute", "1 minute"
    return f"{minutes} minutash", f"{minutes} minutes"


def _retry_after(wait: timedelta) -> dict[str, str]:
    return {"Retry-After": str(max(1, math.ceil(wait.total_seconds())))}


def rate_limited_refusal(limit: int, wait: timedelta) -> Refusal:
    in_sq, in_en = _minutes(wait)
    return Refusal(
        429,
        Notice(f"Nga kjo adresë janë dërguar më shumë se {limit} komente brenda një ore. "
               f"Ju lutemi provoni përsëri pas {in_sq}.",
               f"More than {limit} comments were sent from this address within one hour. "
               f"Please try again in {in_en}."),
        headers=_retry_after(wait),
    )


TOO_FAST = Notice(
    "Formulari u dërgua vetëm pak sekonda pasi u hap, më shpejt se sa shkruan një njeri, "
    "dhe nuk u ruajt. Kontrolloni tekstin më poshtë dhe shtypni sërish «Dërgo».",
    "The form was sent only seconds after it was opened, faster than a person types, and "
    "was not saved. Please check your text below and press \"Send\" again.",
)
BUSY = Notice(
    "Po marrim më shumë komente se sa mund të përpunojmë tani, ndaj komenti juaj nuk u ruajt. "
    "Ju lutemi provoni përsëri pas disa minutash (teksti juaj është më poshtë), ose na "
    "shkruani me e-mail.",
    "We are receiving more comments than we can process right now, so your comment was not "
    "saved. Please try again in a few minutes (your text is below), or write to us by e-mail.",
)
# When the form is too busy, how long to ask a client to wait (seconds).
BUSY_RETRY_SECONDS = 300


def flood_refusal(scope: str, limit: int, wait: timedelta) -> Refusal:
    """HTTP 429 for a limit of ``FormThrottle``: one client address an hour, or everyone."""
    in_sq, in_en = _minutes(wait)
    if scope == "client":
        notice = Notice(
            f"Nga kjo lidhje interneti janë dërguar {limit} komente brenda një ore, sa është "
            f"kufiri, ndaj ky nuk u ruajt. Ju lutemi provoni përsëri pas {in_sq}.",
            f"{limit} comments were sent from this internet connection within one hour, "
            f"which is the limit, so this one was not saved. Please try again in {in_en}.")
    else:
        notice = Notice(
            "Po marrim shumë komente njëkohësisht, ndaj ky nuk u ruajt. Ju lutemi provoni "
            f"përsëri pas {in_sq}.",
            "We are receiving very many comments at once, so this one was not saved. "
            f"Please try again in {in_en}.")
    return Refusal(429, notice, headers=_retry_after(wait))


def busy_refusal() -> Refusal:
    """HTTP 503 while too many messages wait for processing (the poller waits too)."""
    return Refusal(503, BUSY, headers={"Retry-After": str(BUSY_RETRY_SECONDS)})


def client_key(host: str) -> str:
    """What one client is for the per-client limit: its IPv4 address, or its IPv6 /64 (one
    household or server gets a whole /64 and can pick any address in it)."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def body_limit(max_chars: int) -> int:
    # A character is at most 4 UTF-8 bytes, each at most 3 when percent-encoded.
    return max_chars * 12 + 4096
