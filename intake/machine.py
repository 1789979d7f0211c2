"""Machine mail: auto-replies, bounces, mailing-list traffic and upstream spam verdicts.

Such mail is stored and quarantined with the reason, never acknowledged (an
answer to an auto-reply is how mail loops start) and never published. Each
check is a small named rule that reports why it fired; the first hit wins.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from email.header import decode_header, make_header
from email.message import Message
from email.utils import getaddresses
from enum import StrEnum


class MachineKind(StrEnum):
    BOUNCE = "bounce"
    AUTO_REPLY = "auto_reply"
    MAILING_LIST = "mailing_list"
    SPAM = "spam"


@dataclass(frozen=True)
class MachineVerdict:
    kind: MachineKind
    reason: str


_BOUNCE_SENDERS = re.compile(
    r"^(mailer-daemon|postmaster|mdaemon|mail\.delivery\.system|mail-delivery-system|"
    r"mailadm|e500_smtp_mail_service|symantec_antivirus_for_smtp_gateways|imss|"
    r"inetgw\d*|noreply-dmarc-support)$",
    re.IGNORECASE,
)
_BOUNCE_NAMES = re.compile(
    r"mail delivery|postmaster|system administrator|mailer-daemon", re.IGNORECASE
)
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|undelivered|non-?delivery|not (be )?delivered|could not be delivered|"
    r"delivery (status|failure|failed|report|notification|problem|has failed|warning)|"
    r"failure (notice|delivery)|delivery failure|returned (mail|to sender)|"
    r"mail (delivery )?(failed|failure|error)|failed mail|delayed mail|message delayed|"
    r"mail system error|permanent delivery failure|processing error|"
    r"mail not delivered|mail delivery warning|"
    r"has not yet been delivered|nameserver error|"
    r"dështoi dërgimi|deshtoi dergimi|mesazhi nuk u dorëzua|mesazhi nuk u dorezua|"
    r"unzustellbar|non recapitabile|non remis|no se puede entregar",
    re.IGNORECASE,
)
_AUTO_REPLY_SUBJECT = re.compile(
    r"^\s*(auto(matic)?[ -]?(reply|response|answer)|autoreply|auto:|out of (the )?office|"
    r"ooo\b|away from (the )?office|on vacation|vacation reply|\[auto generated\]|"
    r"awaits moderator approval|"
    r"përgjigje automatike|pergjigje automatike|jashtë zyrës|jashte zyres|"
    r"jam me pushime|mungesë nga zyra|mungese nga zyra|"
    r"abwesenheit|automatische antwort|réponse automatique|reponse automatique|"
    r"absence du bureau|respuesta automática|respuesta automatica|fuera de la oficina|"
    r"risposta automatica|fuori sede|automatisch antwoord|afwezig)",
    re.IGNORECASE,
)
_AUTO_REPLY_ANYWHERE = re.compile(r"awaits moderator approval|out of (the )?office", re.IGNORECASE)


def _get(headers: Message, name: str) -> str:
    value = headers.get(name)
    return "" if value is None else " ".join(str(value).split())


def _decoded(headers: Message, name: str) -> str:
    raw = headers.get(name)
    if raw is None:
        return ""
    try:
        return " ".join(str(make_header(decode_header(str(raw)))).split())
    except Exception:
        return " ".join(str(raw).split())


def _addresses(headers: Message, name: str) -> list[tuple[str, str]]:
    values = [str(v) for v in headers.get_all(name, [])]
    try:
        return getaddresses(values)
    except Exception:
        return []


Rule = Callable[[Message], MachineVerdict | None]


def spam_verdict(headers: Message) -> MachineVerdict | None:
    if _get(headers, "X-Spam-Flag").lower().startswith("yes"):
        return MachineVerdict(MachineKind.SPAM, "upstream spam filter: X-Spam-Flag: YES")
    status = _get(headers, "X-Spam-Status")
    if status.lower().startswith("yes"):
        return MachineVerdict(
            MachineKind.SPAM, f"upstream spam filter: X-Spam-Status: {status[:80]}"
        )
    return None


def delivery_report(headers: Message) -> MachineVerdict | None:
    content_type = _get(headers, "Content-Type").lower()
    if content_type.startswith("multipart/report"):
        kind = "read receipt" if "disposition-notification" in content_type else "delivery report"
        return MachineVerdict(MachineKind.BOUNCE, f"{kind} (multipart/report)")
    if headers.get("X-Failed-Recipients") is not None:
        return MachineVerdict(MachineKind.BOUNCE, "bounce: X-Failed-Recipients header")
    return None


def bounce_sender(headers: Message) -> MachineVerdict | None:
    senders = _addresses(headers, "From") + _addresses(headers, "Return-Path")
    if _get(headers, "Return-Path") == "<>" or _get(headers, "From").endswith("<>"):
        # RFC 3834 and RFC 5321: automatic mail goes out with a null sender.
        if _BOUNCE_SUBJECT.search(_decoded(headers, "Subject")):
            return MachineVerdict(MachineKind.BOUNCE, "bounce: null sender (<>)")
        return MachineVerdict(MachineKind.AUTO_REPLY, "automatic message: null sender (<>)")
    for name, address in senders:
        local = address.rsplit("@", 1)[0].strip('"<> ')
        if _BOUNCE_SENDERS.match(local):
            return MachineVerdict(MachineKind.BOUNCE, f"bounce: sent by {local}")
        if _BOUNCE_NAMES.search(name) and _BOUNCE_SUBJECT.search(_decoded(headers, "Subject")):
            return MachineVerdict(MachineKind.BOUNCE, f"bounce: sent by {name!r}")
    return None


def bounce_subject(headers: Message) -> MachineVerdict | None:
    subject = _decoded(headers, "Subject")
    if _BOUNCE_SUBJECT.search(subject):
        return MachineVerdict(MachineKind.BOUNCE, f"bounce: subject {subject[:80]!r}")
    return None


def auto_submitted(headers: Message) -> MachineVerdict | None:
    value = _get(headers, "Auto-Submitted")
    if value and value.lower() != "no":
        return MachineVerdict(
            MachineKind.AUTO_REPLY, f"automatic message: Auto-Submitted: {value[:40]}"
        )
    for name in ("X-Autoreply", "X-Autorespond", "X-Autoresponder", "X-Auto-Reply"):
        if headers.get(name) is not None:
            return MachineVerdict(MachineKind.AUTO_REPLY, f"automatic message: {name} header")
    precedence = _get(headers, "Precedence").lower()
    if precedence in {"auto_reply", "junk"}:
        return MachineVerdict(
            MachineKind.AUTO_REPLY, f"automatic message: Precedence: {precedence}"
        )
    return None


def auto_reply_subject(headers: Message) -> MachineVerdict | None:
    subject = _decoded(headers, "Subject")
    if _AUTO_REPLY_SUBJECT.search(subject) or _AUTO_REPLY_ANYWHERE.search(subject):
        return MachineVerdict(MachineKind.AUTO_REPLY, f"automatic reply: subject {subject[:80]!r}")
    return None


def mailing_list(headers: Message) -> MachineVerdict | None:
    for name in ("List-Id", "List-Unsubscribe", "List-Post", "X-Mailman-Version", "X-BeenThere"):
        if headers.get(name) is not None:
            return MachineVerdict(MachineKind.MAILING_LIST, f"mailing-list mail: {name} header")
    precedence = _get(headers, "Precedence").lower()
    if precedence in {"list", "bulk"}:
        return MachineVerdict(
            MachineKind.MAILING_LIST, f"bulk or list mail: Precedence: {precedence}"
        )
    return None


# Order matters: a bounce of list mail carries List-* headers too, and is a bounce.
RULES: tuple[Rule, ...] = (
    spam_verdict,
    delivery_report,
    bounce_sender,
    bounce_subject,
    auto_submitted,
    auto_reply_subject,
    mailing_list,
)


def detect_machine_mail(headers: Message) -> MachineVerdict | None:
    for rule in RULES:
        verdict = rule(headers)
        if verdict is not None:
            return verdict
    return None
