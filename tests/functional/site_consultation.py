"""A generated consultation for the public site's tests: thousands of approved comments,
written as rows in one transaction.

2,000 comments through the real pipeline would take minutes; the site only reads
comments, so the rows are written the way intake leaves them (an inbound message, a
comment, its commitments) and then decided by the real code: responses are written by
``moderation.responses.respond``, the comments left pending are approved by the test
with ``moderation.transitions.approve`` or the CLI. The rows have what a site can trip
over: Albanian diacritics, hard-wrapped mail text, a name published with consent,
comments about two or three commitments, comments with none (``general``), responses
answering one comment or several.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, insert
from sqlmodel import col

from intake.receipts import reference_for
from intake.sanitize import display_html
from moderation.db import session_scope
from moderation.models import (
    Comment,
    CommentCommitment,
    CommentStatus,
    InboundMessage,
    ResponseOutcome,
)
from moderation.responses import respond

START = datetime(2020, 9, 1, 7, 0, tzinfo=UTC)
MODERATOR = "zana.moderatore"
SECRETARIAT = "klodiana.sekretaria"
COMMITMENTS = [str(n) for n in range(1, 11)]

OPENINGS = (
    "Përshëndetje, kam një vërejtje për angazhimin e planit të veprimit.",
    "I dashur sekretariat, ju shkruaj si qytetar i Shkodrës.",
    "Dear secretariat, I am writing about the action plan.",
    "Mirëdita! Çështja që dua të ngre është e rëndësishme për të gjithë.",
)
BODIES = (
    "Regjistri i pronarëve përfitues duhet të jetë i hapur për gazetarët dhe për çdo "
    "qytetar që kërkon të dijë kush zotëron kompanitë që fitojnë tenderë publikë.",
    "Shërbimet në e-Albania kërkojnë vulë elektronike që shumica e qytetarëve nuk e kanë; "
    "të moshuarit në fshat mbeten pa shërbim.",
    "Buxheti i qytetarit duhet të publikohet me të dhëna për çdo bashki, në formë të "
    "lexueshme nga makina, çdo tremujor.",
    "Vendimet e gjykatave duhet të publikohen online dhe të anonimizohen brenda një muaji.",
    "The open data portal should offer up-to-date CSV files and an API that journalists "
    "can rely on.",
    "Ndihma juridike falas duhet të arrijë zonat rurale: në Dibër, Kukës dhe Tropojë "
    "qytetarët udhëtojnë orë të tëra për një avokat.",
)
CLOSINGS = ("Faleminderit.", "Me respekt,\nQytetari", "Ju lutem merreni parasysh.",
            "Thank you.", "Shpresoj të ketë ndryshime.")
NAMES = ("Arbër Çela", "Ëngjëllushe Dervishi", "Besnik Gjoçaj", "Dritë Xhafa")


@dataclass
class Generated:
    comment_ids: list[int] = field(default_factory=list)  # approved, oldest first
    pending_ids: list[int] = field(default_factory=list)
    references: dict[int, str] = field(default_factory=dict)  # comment id -> OGP-xxxxxx
    answered: set[int] = field(default_factory=set)
    named: set[int] = field(default_factory=set)  # published with the author's name
    labels: dict[int, list[str]] = field(default_factory=dict)  # [] is general

    def reference_set(self, ids: list[int] | None = None) -> set[str]:
        return {self.references[i] for i in (self.comment_ids if ids is None else ids)}


def _wrapped(text: str, width: int = 72) -> str:
    """Hard-wrapped the way a mail client sends it."""
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    lines.append(line)
    return "\n".join(lines)


def _text(rnd: random.Random, n: int, formatted: dict[str, str]) -> tuple[str, str]:
    """A comment's text and its stored HTML, made by the real formatter (which is slow:
    it runs once per distinct paragraph block, and paragraphs format independently)."""
    body = " ".join(rnd.sample(BODIES, rnd.choice([1, 2, 3])))
    if n % 3 == 0:
        body = _wrapped(body)
    parts = [rnd.choice(OPENINGS), body]
    if n % 5 == 0:
        parts.append("- e para: transparenca\n- e dyta: llogaridhënia")
    parts.append(rnd.choice(CLOSINGS))
    html = ""
    for part in parts:
        if part not in formatted:
            formatted[part] = display_html(part)
        html += formatted[part]
    # A line of its own in each comment, formatted once and numbered.
    note = "Shënim 00000: çëäöü ÇË"
    if note not in formatted:
        formatted[note] = display_html(note)
    parts.append(note.replace("00000", f"{n:05d}"))
    html += formatted[note].replace("00000", f"{n:05d}")
    return "\n\n".join(parts), html


def generate(engine: Engine, comments: int = 2000, pending: int = 2,
             seed: int = 10) -> Generated:
    """``comments`` approved comments (decided a day after they came, so settled) and
    ``pending`` pending ones, newest last; about one in eight has a response."""
    rnd = random.Random(seed)
    book = Generated()
    total = comments + pending
    with session_scope(engine) as session:
        # Core inserts of the models' tables: the ORM would build 2,000 objects a row.
        messages = []
        for n in range(total):
            arrived = START + timedelta(minutes=37 * n)
            raw = (f"From: Qytetar {n} <qytetar.{n}@example.org>\r\nSubject: Koment {n}\r\n"
                   f"Message-ID: <site-{seed}-{n}@example.org>\r\n\r\nKoment {n}\r\n").encode()
            messages.append({
                "created_at": arrived, "updated_at": arrived, "source": "imap",
                "sha256": f"{seed:08x}{n:056x}", "size": len(raw), "raw": raw,
                "message_id": f"<site-{seed}-{n}@example.org>", "status": "processed",
                "attempts": 0, "truncated": False})
        inbound_ids = list(session.scalars(
            insert(InboundMessage).returning(col(InboundMessage.id), sort_by_parameter_order=True),
            messages))

        rows = []
        formatted: dict[str, str] = {}
        for n, (inbound_id, message) in enumerate(zip(inbound_ids, messages, strict=True)):
            arrived = message["created_at"]
            is_pending = n >= comments
            text, html = _text(rnd, n, formatted)
            named = not is_pending and n % 11 == 4
            rows.append({
                "inbound_id": inbound_id, "created_at": arrived, "updated_at": arrived,
                "status": CommentStatus.PENDING if is_pending else CommentStatus.APPROVED,
                "subject": f"Koment për planin nr. {n} — çështje e ngutshme",
                "author_name": f"Qytetar {n}", "author_email": f"qytetar.{n}@example.org",
                "language": "en" if n % 7 == 2 else "sq", "text": text, "display_html": html,
                "quoted_text": "", "channel": "imap", "received_at": arrived,
                "has_attachments": False, "released": False, "erased": False, "version": 1,
                "decided_by": None if is_pending else MODERATOR,
                "decided_at": None if is_pending else arrived + timedelta(days=1),
                "author_public": rnd.choice(NAMES) if named else None,
                "consent_source": "form" if named else None,
                "consent_by": MODERATOR if named else None,
                "consent_at": arrived if named else None})
        comment_ids = list(session.scalars(
            insert(Comment).returning(col(Comment.id), sort_by_parameter_order=True), rows))

        links = []
        for n, (comment_id, row) in enumerate(zip(comment_ids, rows, strict=True)):
            book.references[comment_id] = reference_for(row["inbound_id"])
            if n >= comments:
                chosen: list[str] = rnd.sample(COMMITMENTS, 2)  # waiting: two commitments
            elif n % 10 == 0:
                chosen = []  # no commitment row: general
            elif n % 10 == 1:
                chosen = ["general"]
            else:
                chosen = rnd.sample(COMMITMENTS, rnd.choice([1, 1, 1, 2, 3]))
            book.labels[comment_id] = chosen
            links.extend({"comment_id": comment_id, "commitment_id": label,
                          "score": 0.9 - rank * 0.2} for rank, label in enumerate(chosen))
            if n >= comments:
                book.pending_ids.append(comment_id)
            else:
                book.comment_ids.append(comment_id)
                if row["author_public"]:
                    book.named.add(comment_id)
        session.execute(insert(CommentCommitment), links)

        outcomes = [outcome.value for outcome in ResponseOutcome]
        candidates = [cid for cid in book.comment_ids if cid % 8 == 3]
        k = 0
        while candidates:
            size = rnd.choice([1, 1, 2, 3])
            group, candidates = candidates[:size], candidates[size:]
            respond(session, group, outcomes[k % len(outcomes)],
                    f"Përgjigje {k}: faleminderit, e shqyrtuam këtë çështje.",
                    f"Response {k}: thank you, we considered this.", None, SECRETARIAT)
            book.answered.update(group)
            k += 1
    return book
