"""A generated consultation for the digest's tests: hundreds of comments, written as rows.

Rows go straight into the tables (no intake, no transitions): a digest only reads, and
600 comments through the real pipeline would take a minute. The data has the traps a
digest can fall into:

- the ``Date`` header (``Comment.received_at``) is two days before the message reached
  us (``InboundMessage.created_at``), so counting by the wrong column shows;
- comments sit on both sides of local midnight at a week's end: the same UTC day, two
  different weeks in Europe/Tirane;
- rejections with every reason code and some with none (legacy rows, counted as other);
- responses of every outcome, one to an approved comment not yet published (which
  response coverage must not count) and some answering several comments;
- comments with no commitment row (``general``) and with two commitments;
- a campaign of identical letters (a representative quote must not repeat it);
- secrets no public digest may carry: names, addresses, raw mail, text a moderator cut,
  trimmed quotes, and each unpublished comment's own token.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html import escape
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from moderation.db import session_scope
from moderation.models import (
    Comment,
    CommentCommitment,
    CommentStatus,
    InboundMessage,
    RejectCode,
    Response,
    ResponseComment,
    ResponseOutcome,
)

ZONE = ZoneInfo("Europe/Tirane")
START = datetime(2020, 9, 1, 8, 0, tzinfo=ZONE)  # a Tuesday
DAYS = 42
STATUS_WEIGHTS = {CommentStatus.PENDING: 20, CommentStatus.APPROVED: 10,
                  CommentStatus.REJECTED: 25, CommentStatus.PUBLISHED: 40,
                  CommentStatus.WITHDRAWN: 5}
LANGUAGES = ("sq", "en", "mixed", "und")
CHANNELS = ("imap", "import", "form")

SENTENCES = {
    "1": ("Çdo ministri duhet të publikojë planin e integritetit dhe vlerësimin e riskut.",
          "Integrity plans should be published by every ministry with a risk assessment."),
    "2": ("Regjistri i pronarëve përfitues duhet të jetë i hapur për gazetarët.",
          "The beneficial ownership register must be open to journalists and the public."),
    "3": ("Shërbimet në e-Albania kërkojnë vulë elektronike që qytetarët nuk e kanë.",
          "e-Albania services ask for an electronic seal most citizens do not have."),
    "4": ("Portali i të dhënave të hapura duhet të ofrojë skedarë CSV të përditësuar.",
          "The open data portal should offer up-to-date CSV files and an API."),
    "5": ("Në qendrën e integruar të shërbimit prita dy orë në radhë.",
          "At the integrated service centre I waited two hours in the queue."),
    "6": ("Monitorimi i shërbimeve në qendrat e integruara duhet të jetë publik.",
          "Monitoring of public services in the integrated centres should be public."),
    "7": ("Ndihma juridike falas duhet të arrijë zonat rurale sipas praktikës së BE.",
          "Free legal aid must reach rural areas, aligned with EU practice."),
    "8": ("Vendimet e gjykatave duhet të publikohen online dhe të anonimizohen.",
          "Court decisions should be published online and anonymised."),
    "9": ("Buxheti i qytetarit duhet të publikohet me të dhëna për çdo bashki.",
          "The citizens' budget should be published with data for every municipality."),
    "10": ("Të ardhurat nga taksat dhe doganat duhet të raportohen çdo muaj.",
           "Revenue from taxes and customs should be reported every month."),
    "general": ("Afati i konsultimit është shumë i shkurtër për një plan kaq të rëndësishëm.",
                "The consultation period is too short for such an important plan."),
}
EXTRAS = ("Faleminderit për mundësinë.", "Ju lutem merreni parasysh.", "Thank you.",
          "Kjo është shumë e rëndësishme për qytetarët.", "Please consider this.",
          "Shpresoj të ketë ndryshime.", "I hope the plan changes.")
CAMPAIGN_TEXT = ("Kërkojmë që regjistri i pronarëve përfitues të jetë publik TANI, pa kushte "
                 "dhe pa pagesë, për çdo qytetar.")


@dataclass
class Generated:
    comment_ids: list[int] = field(default_factory=list)
    # Words no public digest may carry, each with why.
    secrets: dict[str, str] = field(default_factory=dict)
    # Private tokens of comments that are not published (their text must stay private).
    unpublished_tokens: dict[str, int] = field(default_factory=dict)
    campaign_ids: list[int] = field(default_factory=list)
    # Comments a few minutes either side of local midnight, Sunday 13 -> Monday 14 September.
    sunday_late: int = 0
    monday_early: int = 0


def _status(rnd: random.Random) -> CommentStatus:
    return rnd.choices(list(STATUS_WEIGHTS), weights=list(STATUS_WEIGHTS.values()))[0]


def generate(engine: Engine, comments: int = 600, seed: int = 8) -> Generated:
    rnd = random.Random(seed)
    book = Generated()
    labels = [str(n) for n in range(1, 11)]
    reasons = [code.value for code in RejectCode]
    outcomes = [outcome.value for outcome in ResponseOutcome]
    plans: list[dict[str, object]] = []
    for n in range(comments):
        # Every reason first, then at random (a few with no code: rows from before codes).
        status = _status(rnd) if n >= len(reasons) + 2 else CommentStatus.REJECTED
        if n < len(reasons):
            reject_code: str | None = reasons[n]
        elif n < len(reasons) + 2:
            reject_code = None
        else:
            reject_code = rnd.choice([*reasons, None]) if status == CommentStatus.REJECTED \
                else None
        received = START + timedelta(minutes=rnd.randrange(DAYS * 24 * 60))
        chosen = rnd.sample(labels, rnd.choice([1, 1, 1, 2]))
        if n % 9 == 0:
            chosen = []  # no commitment row: general
        elif n % 9 == 1:
            chosen = ["general"]
        plans.append({"status": status, "reject_code": reject_code, "received": received,
                      "labels": chosen})
    # Either side of local midnight at the end of week 37 (both 13 September in UTC).
    plans[-1].update(received=datetime(2020, 9, 13, 23, 50, tzinfo=ZONE),
                     status=CommentStatus.PUBLISHED, labels=["4"])
    plans[-2].update(received=datetime(2020, 9, 14, 0, 10, tzinfo=ZONE),
                     status=CommentStatus.PUBLISHED, labels=["4"])
    # A campaign: identical letters about commitment 2, all published.
    campaign = range(comments // 6, comments // 6 + min(15, comments // 8))
    for plan in (plans[n] for n in campaign):
        plan.update(status=CommentStatus.PUBLISHED, labels=["2"], campaign=True)

    with session_scope(engine) as session:
        inbound = []
        for n, plan in enumerate(plans):
            name, address = f"Qytetari Emri{n:04d}", f"qytetari.{n:04d}@example.org"
            received = plan["received"]
            assert isinstance(received, datetime)
            raw = (f"From: {name} <{address}>\r\nSubject: Koment RAWTOKEN{n:04d}\r\n\r\n"
                   f"Tekst RAWTOKEN{n:04d}\r\n").encode()
            inbound.append(InboundMessage(
                created_at=received.astimezone(UTC), updated_at=received.astimezone(UTC),
                source=CHANNELS[n % 3], sha256=f"{n:064x}", size=len(raw), raw=raw,
                message_id=f"<m{n}@example.org>", status="processed"))
            book.secrets[name] = "a sender's name"
            book.secrets[address] = "a sender's address"
            book.secrets[f"RAWTOKEN{n:04d}"] = "raw mail"
        session.add_all(inbound)
        session.flush()

        rows = []
        for n, (plan, message) in enumerate(zip(plans, inbound, strict=True)):
            status = plan["status"]
            received = message.created_at
            chosen = plan["labels"]
            assert isinstance(chosen, list)
            language = LANGUAGES[n % 4]
            topic = chosen[0] if chosen else "general"
            sq, en = SENTENCES[topic]
            body = {"sq": sq, "en": en, "mixed": f"{sq} {en}", "und": "OGP 2020 ..."}[language]
            token = f"TOKC{n:04d}"
            text = f"{body} {rnd.choice(EXTRAS)} {token}"
            if plan.get("campaign"):
                text = CAMPAIGN_TEXT
            decided = (received + timedelta(hours=rnd.randint(1, 240))
                       if status in {CommentStatus.APPROVED, CommentStatus.PUBLISHED,
                                     CommentStatus.REJECTED} else None)
            edited_text = edited_html = None
            if status == CommentStatus.PUBLISHED and n % 7 == 3 and not plan.get("campaign"):
                # A moderator cut words before publication: the cut words stay private.
                edited_text = f"{body} {token}"
                edited_html = f"<p>{escape(edited_text)}</p>"
                text = f"{text} CUTTOKEN{n:04d}"
                book.secrets[f"CUTTOKEN{n:04d}"] = "words a moderator cut"
            rows.append(Comment(
                inbound_id=message.id or 0, created_at=received, updated_at=received,
                status=status.value if isinstance(status, CommentStatus) else str(status),
                subject=f"Koment {n:04d} nga qytetari.{n:04d}@example.org",
                author_name=f"Qytetari Emri{n:04d}", author_email=f"qytetari.{n:04d}@example.org",
                language=language, text=text, display_html=f"<p>{escape(text)}</p>",
                quoted_text=f"> QUOTETOKEN{n:04d}", channel=CHANNELS[n % 3],
                received_at=received - timedelta(days=2),
                reject_code=plan["reject_code"] if status == CommentStatus.REJECTED else None,
                reject_reason="Arsye REASONTOKEN" if status == CommentStatus.REJECTED else None,
                decided_by="moderatorja.zana" if decided else None, decided_at=decided,
                published_at=(decided + timedelta(hours=1)
                              if decided and status == CommentStatus.PUBLISHED else None),
                edited_text=edited_text, edited_html=edited_html))
            book.secrets[f"QUOTETOKEN{n:04d}"] = "a trimmed quote"
            if status != CommentStatus.PUBLISHED:
                book.unpublished_tokens[token] = n
        book.secrets["REASONTOKEN"] = "a moderator's words to a rejected citizen"
        book.secrets["moderatorja.zana"] = "a moderator's name"
        session.add_all(rows)
        session.flush()
        book.comment_ids = [row.id or 0 for row in rows]
        book.campaign_ids = [rows[n].id or 0 for n in campaign]
        book.sunday_late, book.monday_early = rows[-1].id or 0, rows[-2].id or 0
        book.unpublished_tokens = {token: rows[n].id or 0
                                   for token, n in book.unpublished_tokens.items()}

        for row, plan in zip(rows, plans, strict=True):
            for rank, label in enumerate(plan["labels"]):  # type: ignore[arg-type]
                session.add(CommentCommitment(comment_id=row.id or 0, commitment_id=label,
                                              score=1.0 - rank * 0.25))

        # Responses: every outcome; some answer two or three comments at once; one answers
        # an approved comment (not yet public), which coverage must not count.
        answerable = [row for row in rows if row.status == CommentStatus.PUBLISHED]
        answerable = [row for row in answerable if rnd.random() < 0.6]
        approved = next(row for row in rows if row.status == CommentStatus.APPROVED)
        groups: list[list[Comment]] = [[approved]]
        while answerable:
            size = rnd.choice([1, 1, 2, 3])
            groups.append(answerable[:size])
            answerable = answerable[size:]
        for k, group in enumerate(groups):
            response = Response(outcome=outcomes[k % len(outcomes)], created_by="sekretaria",
                                updated_by="sekretaria", text_sq=f"Përgjigje {k}",
                                text_en=f"Response {k}")
            session.add(response)
            session.flush()
            for row in group:
                session.add(ResponseComment(comment_id=row.id or 0, response_id=response.id or 0))
    return book
