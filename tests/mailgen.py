"""Build realistic test messages in every encoding the intake must read.

Each message carries a unique token in its text so a test can follow it from
the inbox to the public site.
"""

from __future__ import annotations

import base64
import quopri
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.header import Header
from email.message import EmailMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, make_msgid

TOPICS = [
    ("Planet e integritetit në ministri", "Çdo ministri duhet të publikojë planin e integritetit dhe vlerësimin e riskut të korrupsionit."),
    ("Regjistri i pronarëve përfitues", "Regjistri i pronarëve përfitues duhet të jetë i hapur për gazetarët dhe publikun."),
    ("e-Albania dhe vula elektronike", "Shërbimet në e-Albania kërkojnë vulë elektronike që shumë qytetarë nuk e kanë."),
    ("Portali i të dhënave të hapura", "Portali i të dhënave të hapura duhet të ofrojë skedarë CSV të përditësuar."),
    ("Qendrat e integruara të shërbimit", "Në qendrën e integruar të ADISA në Durrës prita dy orë në radhë."),
    ("Budget transparency", "The citizens' budget should be published with data every municipality can reuse."),
    ("Court decisions online", "Court decisions should be published online and anonymised, so people can follow the justice system."),
    ("Tax revenue data", "Public revenue from taxes and customs should be reported every month in open formats."),
    ("Free legal aid", "Free legal aid must reach people in rural areas; the law should be aligned with EU practice."),
    ("Afati i konsultimit", "Afati i konsultimit është shumë i shkurtër; dokumenti duhet të jetë edhe në shqip."),
]

# A second sentence of the sender's own, changing with each round of topics, so that
# messages on one topic are different comments, not copies of one letter (which the
# intake would rightly group as a campaign). Latin-1 only: two kinds are sent in it.
NOTES = (
    "Shpresoj që këto vërejtje të lexohen me kujdes dhe të diskutohen hapur në takimin e ardhshëm.",
    "Kam shkruar edhe më parë për këtë çështje, por askush nuk m'u përgjigj brenda afatit ligjor.",
    "In our village nobody knew about this consultation until a neighbour showed me the page last week.",
    "Si mësuese në një shkollë të mesme, shoh çdo ditë se sa pak informacion u arrin të rinjve.",
    "I run a small bakery and every form I file still has to be printed, stamped and carried by hand.",
    "Ju lutem që dokumenti përfundimtar të ketë edhe një përmbledhje të shkurtër për njerëzit e zakonshëm.",
    "My grandmother waited three weeks for an answer that a simple online notice could have given her.",
    "Gazetarët lokalë në Korçë e kanë ngritur këtë problem disa herë pa marrë asnjë përgjigje zyrtare.",
    "As a student of public administration I would gladly help test any new service before it starts.",
    "Në zyrat e bashkisë sonë punonjësit janë të sjellshëm, por sistemi kompjuterik bie shpesh gjatë ditës.",
    "Please publish the timetable for each step, so that civil society groups can plan their own work.",
    "Shumë fermerë në fshatrat përreth nuk kanë internet të mirë dhe duhet të udhëtojnë deri në qytet.",
)
_TEXT = "{topic} Komenti {token}. {sentence}"


@dataclass(frozen=True)
class GeneratedMail:
    raw: bytes
    token: str
    sender: str
    kind: str


def _headers(msg: EmailMessage | MIMEMultipart | MIMEText, n: int, subject: str,
             sender: str, when: datetime) -> None:
    msg["From"] = f"Qytetar {n} <{sender}>"
    msg["To"] = "OGP Konsultimi <feedback@ogp.example.al>"
    msg["Subject"] = Header(subject, "utf-8").encode() if not subject.isascii() else subject
    msg["Date"] = format_datetime(when)
    msg["Message-ID"] = make_msgid(f"gen{n}", domain="example.org")
    msg["MIME-Version"] = "1.0"


def build(n: int, kind: str, prefix: str = "TOK") -> GeneratedMail:
    topic, sentence = TOPICS[n % len(TOPICS)]
    note = NOTES[(n // len(TOPICS)) % len(NOTES)]
    sentence = f"{sentence} {note}"
    token = f"{prefix}{n:05d}X"
    sender = f"citizen{n}.{prefix.lower()}@example.org"
    when = datetime(2020, 9, 1, 9, 0, tzinfo=UTC) + timedelta(hours=n)
    text = _TEXT.format(topic=topic, token=token, sentence=sentence)
    html = f"<p>{topic}</p><p>Komenti <b>{token}</b>. {sentence}</p>"
    if kind == "plain-8bit":
        msg = MIMEText(text, "plain", "utf-8")
        del msg["Content-Transfer-Encoding"]
        msg["Content-Transfer-Encoding"] = "8bit"
        msg.set_payload(text.encode("utf-8"))
        raw_msg: EmailMessage | MIMEMultipart | MIMEText = msg
    elif kind == "plain-qp":
        msg = MIMEText("", "plain", "utf-8")
        del msg["Content-Transfer-Encoding"]
        msg["Content-Transfer-Encoding"] = "quoted-printable"
        msg.set_payload(quopri.encodestring(text.encode("utf-8")).decode("ascii"))
        raw_msg = msg
    elif kind == "plain-base64":
        msg = MIMEText("", "plain", "utf-8")
        del msg["Content-Transfer-Encoding"]
        msg["Content-Transfer-Encoding"] = "base64"
        msg.set_payload(base64.encodebytes(text.encode("utf-8")).decode("ascii"))
        raw_msg = msg
    elif kind in {"latin1", "cp1252"}:
        charset = "iso-8859-1" if kind == "latin1" else "windows-1252"
        msg = MIMEText("", "plain")
        msg.set_param("charset", charset)
        del msg["Content-Transfer-Encoding"]
        msg["Content-Transfer-Encoding"] = "8bit"
        msg.set_payload(text.encode(charset))
        raw_msg = msg
    elif kind == "html-only":
        raw_msg = MIMEText(html, "html", "utf-8")
    elif kind == "alternative":
        alt = MIMEMultipart("alternative")
        alt.attach(MIMEText(text, "plain", "utf-8"))
        alt.attach(MIMEText(html, "html", "utf-8"))
        raw_msg = alt
    elif kind == "hostile-html":
        hostile = (f"<html><head><script>alert('x')</script></head><body>"
                   f"<p onclick=\"alert(1)\">{topic}</p>"
                   f"<img src=x onerror=\"alert(document.cookie)\">"
                   f"<p>Komenti {token}. {sentence}</p>"
                   f"<a href=\"javascript:alert(2)\">kliko</a>"
                   f"<script>document.write('owned')</script></body></html>")
        raw_msg = MIMEText(hostile, "html", "utf-8")
    else:
        raise ValueError(kind)
    _headers(raw_msg, n, topic, sender, when)
    raw = raw_msg.as_bytes()
    if isinstance(raw_msg, MIMEText) and kind in {"plain-8bit", "latin1", "cp1252"}:
        raw = raw.replace(b"\n", b"\r\n")
    return GeneratedMail(raw=raw, token=token, sender=sender, kind=kind)


KINDS = ("plain-8bit", "plain-qp", "plain-base64", "latin1", "cp1252", "html-only",
         "alternative", "hostile-html")


def varied_messages(count: int, prefix: str = "TOK") -> list[GeneratedMail]:
    return [build(n, KINDS[n % len(KINDS)], prefix) for n in range(count)]
