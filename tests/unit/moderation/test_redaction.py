"""Redaction, safe by default: detected at processing, applied to what is published, lifted
or added by a moderator with a reason that the audit log keeps."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from config.settings import Settings
from intake.pii import detect_personal_data
from intake.sanitize import display_html
from moderation.db import session_scope
from moderation.models import Comment, ModerationEvent, Redaction
from moderation.public import public_view
from moderation.redaction import (
    PLACEHOLDER,
    apply,
    lift,
    published_version,
    redetect_edited,
)
from moderation.redaction import add as add_redaction
from moderation.transitions import InputError, StaleVersionError, edit
from tests.conftest import run_cli
from tests.unit.factories import SQLITE_ONLY, load_comment, make_comment

PHONE = "+355 69 123 4567"
TEXT = (f"Ligji nr. 119/2014 duhet zbatuar. Më telefononi në {PHONE}.\n\n"
        "Me respekt,\nBesnik Dedaj")
SENDER = "Besnik Dedaj <besnik.dedaj@example.org>"


def _redactions(engine: Engine, comment_id: int) -> list[Redaction]:
    with Session(engine) as session:
        return list(session.exec(select(Redaction).where(Redaction.comment_id == comment_id)
                                 .order_by(col(Redaction.field), col(Redaction.start))).all())


def _published(engine: Engine, comment_id: int) -> tuple[str, str]:
    with Session(engine) as session:
        comment = session.get(Comment, comment_id)
        assert comment is not None
        [public] = public_view(session, [comment], display_html)
        return public.subject, public.display_html


def _events(engine: Engine, comment_id: int, action: str) -> list[ModerationEvent]:
    with Session(engine) as session:
        return list(session.exec(select(ModerationEvent).where(
            ModerationEvent.comment_id == comment_id, ModerationEvent.action == action)).all())


def test_apply_replaces_each_range_once_and_merges_overlaps() -> None:
    assert apply("tel 0691234567 ose 0681234567", [(4, 14), (19, 29)], "[x]") == "tel [x] ose [x]"
    assert apply("Besnik Dedaj", [(0, 6), (3, 12), (7, 12)], "[x]") == "[x]"
    assert apply("abc", [(1, 99)], "[x]") == "a[x]"
    assert apply("abc", [], "[x]") == "abc"


def test_without_active_spans_the_stored_html_is_published_unchanged() -> None:
    comment = Comment(inbound_id=1, text="Teksti <b>", display_html="<p>stored</p>")
    assert published_version(comment, [], display_html).html == "<p>stored</p>"
    lifted = Redaction(comment_id=1, field="text", kind="name", start=0, end=3, state="lifted")
    assert published_version(comment, [lifted], display_html).html == "<p>stored</p>"
    active = Redaction(comment_id=1, field="text", kind="name", start=0, end=6)
    assert published_version(comment, [active], display_html).html == (
        f"<p>{PLACEHOLDER} &lt;b&gt;</p>\n")


def test_processing_records_spans_and_the_public_view_hides_them(engine: Engine) -> None:
    comment_id = make_comment(engine, text=TEXT, subject="Pyetje nga Besnik Dedaj",
                              sender=SENDER)
    found = [(r.field, r.kind, r.state, r.created_by) for r in _redactions(engine, comment_id)]
    assert found == [("subject", "name", "active", "system"),
                     ("text", "phone", "active", "system"),
                     ("text", "name", "active", "system")]
    subject, html = _published(engine, comment_id)
    assert subject == f"Pyetje nga {PLACEHOLDER}"
    assert PHONE not in html
    assert "Dedaj" not in html
    assert "119/2014" in html
    assert html == display_html(
        f"Ligji nr. 119/2014 duhet zbatuar. Më telefononi në {PLACEHOLDER}.\n\n"
        f"Me respekt,\n{PLACEHOLDER}")
    # The citizen's original stays as it was.
    assert load_comment(engine, comment_id).text == TEXT


def test_a_lift_publishes_the_span_and_is_audited_with_who_and_why(engine: Engine) -> None:
    comment_id = make_comment(engine, text=TEXT, sender=SENDER)
    phone = next(r for r in _redactions(engine, comment_id) if r.kind == "phone")
    with session_scope(engine) as session, pytest.raises(InputError, match="needs a reason"):
        lift(session, comment_id, phone.id or 0, "mira", "  ", expected_version=1)
    with session_scope(engine) as session:
        lift(session, comment_id, phone.id or 0, "mira",
             "The number of a public office, not a person's.", expected_version=1)
    with session_scope(engine) as session, pytest.raises(StaleVersionError):
        lift(session, comment_id, phone.id or 0, "mira", "again", expected_version=1)
    [row] = [r for r in _redactions(engine, comment_id) if r.kind == "phone"]
    assert (row.state, row.lifted_by, row.lifted_reason) == (
        "lifted", "mira", "The number of a public office, not a person's.")
    assert PHONE in _published(engine, comment_id)[1]
    assert "Dedaj" not in _published(engine, comment_id)[1]
    [event] = _events(engine, comment_id, "redaction-lift")
    assert (event.actor, event.reason, event.version) == (
        "mira", "The number of a public office, not a person's.", 2)
    assert event.detail is not None
    assert event.detail.startswith("phone in text at ")
    assert load_comment(engine, comment_id).version == 2


def test_a_manual_redaction_hides_every_occurrence_and_is_audited(engine: Engine) -> None:
    comment_id = make_comment(
        engine, text="Fqinji im Arben Leka e tha. Arben Leka punon në bashki.")
    with session_scope(engine) as session, pytest.raises(InputError, match="does not contain"):
        add_redaction(session, comment_id, "text", "Ilir", "mira", "a neighbour's name",
                      expected_version=1)
    with session_scope(engine) as session:
        rows = add_redaction(session, comment_id, "text", "Arben Leka", "mira",
                             "a neighbour's name", expected_version=1)
        assert [(r.kind, r.created_by) for r in rows] == [("manual", "mira")] * 2
    html = _published(engine, comment_id)[1]
    assert "Arben" not in html
    assert html.count(PLACEHOLDER) == 2
    [event] = _events(engine, comment_id, "redaction-add")
    assert (event.actor, event.reason) == ("mira", "a neighbour's name")
    # Undoing a lift is adding the span again.
    with session_scope(engine) as session:
        lift(session, comment_id, rows[0].id or 0, "mira", "public figure", expected_version=2)
    assert "Arben Leka e tha" in _published(engine, comment_id)[1]
    with session_scope(engine) as session:
        add_redaction(session, comment_id, "text", "Arben Leka e tha", "mira", "changed my mind",
                      expected_version=3)
    assert "Arben" not in _published(engine, comment_id)[1]


def test_an_edit_is_detected_anew_and_old_edited_spans_go(engine: Engine) -> None:
    comment_id = make_comment(engine, text="Plani është i mirë.", sender=SENDER)
    assert _redactions(engine, comment_id) == []
    with session_scope(engine) as session:
        comment = edit(session, comment_id, "mira", "Plani është i mirë. Tel 069 123 4567.",
                       display_html, expected_version=1)
        redetect_edited(session, comment, detect_personal_data)
    assert [(r.field, r.kind) for r in _redactions(engine, comment_id)] == [("edited", "phone")]
    assert "069 123 4567" not in _published(engine, comment_id)[1]
    with session_scope(engine) as session:
        comment = edit(session, comment_id, "mira", "Besnik Dedaj: plani është i mirë.",
                       display_html, expected_version=2)
        redetect_edited(session, comment, detect_personal_data)
    assert [(r.field, r.kind, r.start, r.end) for r in _redactions(engine, comment_id)] == [
        ("edited", "name", 0, 12)]
    assert _published(engine, comment_id)[1] == f"<p>{PLACEHOLDER}: plani është i mirë.</p>\n"


@SQLITE_ONLY
def test_queue_json_lists_redactions_and_the_published_name(settings: Settings,
                                                          engine: Engine) -> None:
    comment_id = make_comment(engine, text=TEXT, sender=SENDER)
    with session_scope(engine) as session:
        comment = session.get(Comment, comment_id)
        assert comment is not None
        comment.author_public = "Besnik D."
        session.add(comment)
    result = run_cli(settings, "queue", "--json")
    assert result.returncode == 0, result.stderr
    [item] = json.loads(result.stdout)
    assert item["author_public"] == "Besnik D."
    assert [(r["kind"], r["state"]) for r in item["redactions"]] == [
        ("phone", "active"), ("name", "active")]
    phone = item["redactions"][0]
    assert TEXT[phone["start"]:phone["end"]] == PHONE
    with Session(engine) as session:
        comment = session.get(Comment, comment_id)
        assert comment is not None
        [public] = public_view(session, [comment], display_html)
    assert public.author == "Besnik D."
