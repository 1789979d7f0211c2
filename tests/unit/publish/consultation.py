"""A small consultation built through the real intake, for the evidence archive's tests.

Every message goes in as bytes (by mail and by the contact form), is processed by the
real pipeline, decided by the real transitions and published by the real publisher.
``Consultation.secrets`` is everything that must never leave in the archive: sender
addresses and names (also where they are written in a text or a subject), what the
public view hides (trimmed quotes and signatures, a moderator's cuts), unpublished
words, a moderator's words to a rejected citizen, staff names and mail headers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session, select

from config.catalogue import default_catalogue
from intake.receipts import reference_for
from intake.sanitize import display_html
from intake.store import RawMessage, store_raw_batch
from intake.webform import Submission, build_message
from moderation.db import session_scope
from moderation.models import (
    Comment,
    InboundSource,
    RejectCode,
    Response,
    ResponseComment,
)
from moderation.transitions import approve, edit, reject
from publish.site import publish_site
from tests.unit.factories import CLASSIFIER, plain_mail
from workers.pipeline import Outcome, process_inbound

MODERATOR = "zana.moderatore"
SECRETARIAT = "klodiana.sekretaria"


@dataclass
class Consultation:
    published: dict[str, int] = field(default_factory=dict)  # name -> comment id
    others: dict[str, int] = field(default_factory=dict)  # rejected, pending, approved
    references: dict[int, str] = field(default_factory=dict)  # comment id -> OGP-xxxxxx
    addresses: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    # Words that must not be in the archive, each with why.
    hidden: dict[str, str] = field(default_factory=dict)
    message_ids: list[str] = field(default_factory=list)
    response_ids: dict[str, int] = field(default_factory=dict)

    def ref(self, name: str) -> str:
        return self.references[self.published.get(name) or self.others[name]]


def _take_in(engine: Engine, raw: bytes, source: InboundSource, book: Consultation) -> int:
    with session_scope(engine) as session:
        [stored] = store_raw_batch(session, [RawMessage(raw, source)])
    assert process_inbound(engine, stored.inbound_id, CLASSIFIER).outcome is Outcome.PENDING
    with Session(engine) as session:
        comment = session.exec(select(Comment).where(
            Comment.inbound_id == stored.inbound_id)).one()
    assert comment.id is not None
    book.references[comment.id] = reference_for(stored.inbound_id)
    book.message_ids.append(str(message_from_bytes(raw)["Message-ID"]).strip("<>"))
    return comment.id


def mail(engine: Engine, book: Consultation, name: str, address: str, subject: str,
         text: str) -> int:
    book.names.append(name)
    book.addresses.append(address)
    return _take_in(engine, plain_mail(text, subject=subject, sender=f"{name} <{address}>"),
                    InboundSource.IMAP, book)


def form(engine: Engine, book: Consultation, name: str, address: str, subject: str,
         text: str) -> int:
    book.names.append(name)
    book.addresses.append(address)
    raw = build_message(Submission(name=name, address=address, subject=subject,
                                   commitment=None, comment=text),
                        "feedback@ogp.example.al", datetime(2020, 9, 2, 10, 0, tzinfo=UTC),
                        "<form-0001@ogp.example.al>")
    return _take_in(engine, raw, InboundSource.FORM, book)


def build_consultation(engine: Engine, site_dir: Path) -> Consultation:
    book = Consultation()
    # Signed with the sender's full name; another citizen's address in the text and the
    # sender's own in the subject; a quoted reply that trimming sets aside.
    book.published["signed"] = mail(
        engine, book, "Besnik Dedaj", "besnik.dedaj@example.al",
        "Buxheti i bashkisë, pyetje nga besnik.dedaj@example.al",
        "Propozoj që buxheti i bashkisë TOKSIGNED të publikohet çdo muaj në format të hapur. "
        "Shkruani edhe te arta.kola@example.org.\n\nMe respekt,\nBesnik Dedaj\n\n"
        "On Tue, 1 Sep 2020 at 09:00, Sekretaria OGP <sekretaria@ogp.example.al> wrote:\n"
        "> Ju faleminderit për komentin TOKQUOTED.\n> Sekretaria\n")
    book.addresses += ["arta.kola@example.org", "sekretaria@ogp.example.al"]
    book.hidden["TOKQUOTED"] = "a quoted reply trimming set aside"
    # A moderator cuts a phone number before publication.
    book.published["edited"] = mail(
        engine, book, "Drita Hoxha", "drita.hoxha@example.org", "Regjistri i pronarëve",
        "Regjistri i pronarëve përfitues TOKEDITED duhet të jetë i hapur. "
        "Më telefononi në 069 777 8888 TOKCUT.")
    book.hidden["TOKCUT"] = "words a moderator cut before publication"
    book.hidden["069 777 8888"] = "a phone number a moderator cut"
    # The contact form; the name written in capitals and without ë/ç, after a "--" signature.
    book.published["form"] = form(
        engine, book, "Elona Çela", "Elona.Cela@Example.NET", "Vendimet e gjykatave",
        "Gjykatat duhet të publikojnë vendimet online TOKFORM.\n\nELONA CELA\n"
        "--\nElona Çela\nTel. 069 444 0000 TOKTRAILER\n")
    book.hidden["TOKTRAILER"] = "a signature after -- that trimming set aside"
    # A one-word display name, signed with it.
    book.published["oneword"] = mail(
        engine, book, "Arbenito", "arbenito@example.com", "Të dhëna të hapura",
        "Portali i të dhënave të hapura TOKONEWORD duhet të ketë API.\n\nArbenito\n")
    # Never published: a rejection (with the moderator's own words), a pending comment.
    book.others["rejected"] = mail(
        engine, book, "Gentian Mema", "gentian.mema@example.net", "Ankesë TOKREJSUBJECT",
        "Fqinji im TOKREJECTED ka ndërtuar pa leje.")
    book.hidden.update({"TOKREJECTED": "a rejected comment's text",
                        "TOKREJSUBJECT": "a rejected comment's subject",
                        "TOKREASON": "a moderator's words to a rejected citizen"})
    book.others["pending"] = mail(
        engine, book, "Mirela Shehu", "mirela.shehu@example.com", "Pyetje TOKPENDSUBJECT",
        "A do të ketë takime në Shkodër TOKPENDING?")
    book.hidden.update({"TOKPENDING": "a pending comment's text",
                        "TOKPENDSUBJECT": "a pending comment's subject"})

    with session_scope(engine) as session:
        edit(session, book.published["edited"], MODERATOR,
             "Regjistri i pronarëve përfitues TOKEDITED duhet të jetë i hapur.", display_html)
    with session_scope(engine) as session:
        for comment_id in book.published.values():
            approve(session, comment_id, MODERATOR)
        reject(session, book.others["rejected"], MODERATOR,
               "Përmban të dhëna për fqinjin TOKREASON.", RejectCode.PERSONAL_DATA)
    publish_site(engine, default_catalogue(), site_dir, actor="publisher")

    # Approved after the site was published: decided, not yet public.
    book.others["approved"] = mail(
        engine, book, "Ilir Kola", "ilir.kola@example.al", "Qendrat TOKAPPSUBJECT",
        "Qendrat e ndihmës juridike TOKAPPROVED në rrethe.")
    book.hidden.update({"TOKAPPROVED": "an approved but unpublished comment's text",
                        "TOKAPPSUBJECT": "an approved but unpublished comment's subject"})
    with session_scope(engine) as session:
        approve(session, book.others["approved"], MODERATOR)

    # Responses: one answers two published comments and names a citizen in its text; one
    # answers only the rejected comment and so cannot be part of the public record.
    with session_scope(engine) as session:
        answer = Response(
            outcome="adopted", created_by=SECRETARIAT, updated_by=SECRETARIAT,
            text_sq="Z. Besnik Dedaj, faleminderit: buxheti do të publikohet TOKRESPONSE.",
            text_en="Thank you: the budget will be published monthly.",
            link="https://ogp.example.al/plani/angazhimi-9")
        hidden = Response(outcome="noted", created_by=SECRETARIAT, updated_by=SECRETARIAT,
                          text_sq="Përgjigje për komentin e refuzuar TOKRESPHIDDEN.")
        session.add(answer)
        session.add(hidden)
        session.flush()
        assert answer.id is not None
        assert hidden.id is not None
        for comment_id in (book.published["signed"], book.published["edited"]):
            session.add(ResponseComment(comment_id=comment_id, response_id=answer.id))
        session.add(ResponseComment(comment_id=book.others["rejected"], response_id=hidden.id))
        book.response_ids = {"answer": answer.id, "hidden": hidden.id}
    book.hidden["TOKRESPHIDDEN"] = "a response to a rejected comment"
    book.hidden[MODERATOR] = "a moderator's name"
    book.hidden[SECRETARIAT] = "a staff name"
    book.hidden["feedback@ogp.example.al"] = "the inbox's address (raw headers)"
    return book
