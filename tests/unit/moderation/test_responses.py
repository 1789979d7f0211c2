"""Reasoned responses: who may get one, what it must say, editing with history, the audit
log and the one notice per comment; on both databases."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from moderation.db import session_scope
from moderation.models import (
    Comment,
    DecisionNotice,
    ModerationEvent,
    NoticeStatus,
    Response,
    ResponseComment,
    ResponseRevision,
)
from moderation.queue import QueueQuery, fetch_queue
from moderation.responses import (
    ResponseRefusedError,
    StaleResponseError,
    check_draft,
    edit_response,
    plan_response_notices,
    respond,
    response_of,
)
from moderation.transitions import (
    InputError,
    NoticePolicy,
    StaleVersionError,
    TransitionError,
    approve,
    mark_published,
    reject,
)
from tests.unit.factories import SQLITE_ONLY, load_comment, make_comment

SARA = "sara"  # of the secretariat
SQ = "Propozimi juaj u përfshi në angazhimin 4."
EN = "Your proposal was included in commitment 4."
LINK = "https://ogp.al/plan-2020-2022#angazhimi-4"


def approved(engine: Engine, count: int = 1) -> list[int]:
    ids = [make_comment(engine, text=f"Koment numër {n} për portalin e të dhënave.")
           for n in range(count)]
    with session_scope(engine) as session:
        for comment_id in ids:
            approve(session, comment_id, "mira")
    return ids


def publish_now(session: Session, ids: list[int], notices: NoticePolicy | None = None) -> None:
    comments = [comment for i in ids if (comment := session.get(Comment, i)) is not None]
    assert mark_published(session, comments, "publisher", notices=notices) == len(ids)


def published(engine: Engine, count: int = 1) -> list[int]:
    ids = approved(engine, count)
    with session_scope(engine) as session:
        publish_now(session, ids)
    return ids


def events(engine: Engine, action: str) -> list[ModerationEvent]:
    with Session(engine) as session:
        return list(session.exec(select(ModerationEvent).where(ModerationEvent.action == action)
                                 .order_by(col(ModerationEvent.id))).all())


def counts(engine: Engine) -> tuple[int, int, int]:
    with Session(engine) as session:
        return (len(session.exec(select(Response)).all()),
                len(session.exec(select(ResponseComment)).all()),
                len(session.exec(select(ResponseRevision)).all()))


def test_one_response_answers_a_selection_and_is_audited_per_comment(engine: Engine) -> None:
    first, second = published(engine, 2)
    [third] = approved(engine)
    versions = {i: load_comment(engine, i).version for i in (first, second, third)}

    with session_scope(engine) as session:
        response = respond(session, [third, first, second, first], "adopted", SQ, EN, LINK,
                           SARA)
        response_id = response.id

    assert counts(engine) == (1, 3, 0)
    with Session(engine) as session:
        view = response_of(session, second)
        assert view is not None
        assert view.comment_ids == tuple(sorted((first, second, third)))
        assert (view.response.outcome, view.response.text_sq, view.response.text_en,
                view.response.link, view.response.created_by, view.response.version) == (
            "adopted", SQ, EN, LINK, SARA, 1)
        assert view.label == "U pranua / Adopted"
    logged = events(engine, "respond")
    assert [(e.comment_id, e.actor) for e in logged] == [
        (i, SARA) for i in sorted((first, second, third))]
    assert {e.detail for e in logged} == {
        f"response #{response_id}: adopted (one response for "
        f"#{', #'.join(map(str, sorted((first, second, third))))})"}
    # A response is not a change of the comment: a moderator's open form stays valid.
    assert {i: load_comment(engine, i).version for i in versions} == versions


@pytest.mark.parametrize(("state", "expected"), [
    ("pending", "#{id} is pending; a response answers a comment the public can read, so "
                "approve it first"),
    ("rejected", "#{id} is rejected; a response answers a comment the public can read "
                 "(approved or published), and this one is not on the site"),
    ("answered", "#{id} already has response #{response}; edit that one instead"),
    ("missing", "#{id}: there is no such comment"),
])
def test_a_comment_that_cannot_take_a_response_refuses_the_whole_selection(
        engine: Engine, state: str, expected: str) -> None:
    [good] = approved(engine)
    response_id = None
    if state == "missing":
        odd = 999_999
    else:
        odd = make_comment(engine, text="Një koment tjetër për buxhetin e bashkisë.")
        with session_scope(engine) as session:
            if state == "rejected":
                reject(session, odd, "mira", "Jashtë teme.")
            elif state == "answered":
                approve(session, odd, "mira")
                response_id = respond(session, [odd], "noted", SQ, "", None, SARA).id
    before = counts(engine)

    with pytest.raises(ResponseRefusedError) as refused, session_scope(engine) as session:
        respond(session, [good, odd], "not-adopted", SQ, EN, None, SARA)

    assert refused.value.problems == [expected.format(id=odd, response=response_id)]
    assert str(refused.value).startswith("no response was written: ")
    assert counts(engine) == before
    assert len(events(engine, "respond")) == (1 if state == "answered" else 0)
    with Session(engine) as session:
        assert response_of(session, good) is None


@SQLITE_ONLY
@pytest.mark.parametrize(("outcome", "sq", "en", "link", "problem"), [
    ("adopted", "  ", "\r\n", None,
     "a reasoned response needs an explanation in Albanian or in English (or both)"),
    ("accepted", SQ, "", None, "unknown outcome 'accepted' (use one of adopted, "
                                "partly-adopted, not-adopted, out-of-scope, noted)"),
    ("noted", SQ, "", "javascript:alert(1)", "the link must be an http:// or https:// address"),
    ("noted", SQ, "", "ftp://ogp.al/plan", "the link must be an http:// or https:// address"),
    ("noted", SQ, "", "https://", "the link must be an http:// or https:// address"),
    ("noted", SQ, "", "https://ogp.al/plan 2", "the link may not contain spaces or control "
                                               "characters"),
    ("noted", SQ, "", "https://ana:sekret@ogp.al/", "the link may not contain an e-mail "
                                                    "address or a user name"),
    ("noted", SQ, "", "https://ogp.al/?to=ana@example.org", "the link may not contain an "
                                                            "e-mail address or a user name"),
    ("noted", "x" * 10_001, "", None, "the Albanian text is longer than 10000 characters"),
])
def test_the_words_of_a_response_are_checked_before_anything_is_written(
        engine: Engine, outcome: str, sq: str, en: str, link: str | None, problem: str) -> None:
    [comment_id] = approved(engine)
    with pytest.raises(InputError) as refused, session_scope(engine) as session:
        respond(session, [comment_id], outcome, sq, en, link, SARA)
    assert str(refused.value) == problem
    assert counts(engine) == (0, 0, 0)


def test_check_draft_keeps_one_language_and_normalises_the_text() -> None:
    draft = check_draft(" Partly-Adopted ", "", " Line one.\r\nLine two.\n", " https://ogp.al/ ")
    assert (draft.outcome.value, draft.text_sq, draft.text_en, draft.link) == (
        "partly-adopted", "", "Line one.\nLine two.", "https://ogp.al/")
    assert check_draft("noted", SQ, "", "").link is None
    with pytest.raises(InputError) as both:
        check_draft("maybe", "", "", "mailto:x")
    assert str(both.value) == (  # every problem at once
        "unknown outcome 'maybe' (use one of adopted, partly-adopted, not-adopted, "
        "out-of-scope, noted); a reasoned response needs an explanation in Albanian or in "
        "English (or both); the link must be an http:// or https:// address")


def test_nothing_selected_is_refused(engine: Engine) -> None:
    with pytest.raises(InputError, match="choose at least one comment"), \
            session_scope(engine) as session:
        respond(session, [], "noted", SQ, "", None, SARA)


def test_an_edit_keeps_the_old_version_and_is_audited_for_every_comment(
        engine: Engine) -> None:
    ids = published(engine, 2)
    with session_scope(engine) as session:
        response_id = respond(session, ids, "noted", SQ, "", None, SARA).id
    assert response_id is not None

    with session_scope(engine) as session:
        edit_response(session, response_id, "partly-adopted", SQ, EN, LINK, "tomi",
                      expected_version=1)

    with Session(engine) as session:
        view = response_of(session, ids[0])
        assert view is not None
        assert (view.response.outcome, view.response.text_en, view.response.link,
                view.response.version, view.response.updated_by, view.response.created_by) == (
            "partly-adopted", EN, LINK, 2, "tomi", SARA)
        [old] = view.revisions
        assert (old.version, old.outcome, old.text_sq, old.text_en, old.link, old.edited_by) == (
            1, "noted", SQ, "", None, SARA)
    logged = events(engine, "respond-edit")
    assert [(e.comment_id, e.actor) for e in logged] == [(i, "tomi") for i in sorted(ids)]
    assert {e.detail for e in logged} == {
        f"response #{response_id} version 2: outcome noted -> partly-adopted, English text, "
        "link"}


def test_a_stale_or_empty_edit_changes_nothing(engine: Engine) -> None:
    [comment_id] = published(engine)
    with session_scope(engine) as session:
        response_id = respond(session, [comment_id], "noted", SQ, "", None, SARA).id
    assert response_id is not None
    with session_scope(engine) as session:
        edit_response(session, response_id, "adopted", SQ, "", None, "tomi", expected_version=1)

    with pytest.raises(StaleVersionError) as stale, session_scope(engine) as session:
        edit_response(session, response_id, "not-adopted", "Jo.", "", None, SARA,
                      expected_version=1)
    assert isinstance(stale.value, StaleResponseError)
    assert str(stale.value) == (f"response #{response_id} changed since you opened it (you "
                                "saw version 1, it is now version 2); nothing was overwritten")
    with pytest.raises(InputError, match="the response is unchanged"), \
            session_scope(engine) as session:
        edit_response(session, response_id, "adopted", f"  {SQ}\n", "", "", SARA,
                      expected_version=2)
    with pytest.raises(TransitionError, match="no response with id 424242"), \
            session_scope(engine) as session:
        edit_response(session, 424242, "adopted", SQ, "", None, SARA)

    with Session(engine) as session:
        response = session.get(Response, response_id)
        assert response is not None
        assert (response.outcome, response.version) == ("adopted", 2)
    assert counts(engine) == (1, 1, 1)
    assert len(events(engine, "respond-edit")) == 1


def test_one_response_notice_per_published_comment_and_none_for_an_edit(
        engine: Engine) -> None:
    on_site = published(engine, 2)
    [waiting] = approved(engine)
    with session_scope(engine) as session:
        response_id = respond(session, [*on_site, waiting], "adopted", SQ, EN, None, SARA).id
    assert response_id is not None

    with session_scope(engine) as session:
        # Only what the site shows: the approved one is not on it yet.
        assert plan_response_notices(session, {*on_site, waiting}) == 2
    with session_scope(engine) as session:
        edit_response(session, response_id, "partly-adopted", SQ, EN, None, SARA, 1)
    with session_scope(engine) as session:
        assert plan_response_notices(session, {*on_site, waiting}) == 0
        publish_now(session, [waiting])
    with session_scope(engine) as session:
        # Published now, but the site rendered before: only what it showed is told.
        assert plan_response_notices(session, set(on_site)) == 0
        assert plan_response_notices(session, {waiting}) == 1

    with Session(engine) as session:
        planned = session.exec(select(DecisionNotice).order_by(col(DecisionNotice.id))).all()
    assert [(n.comment_id, n.topic, n.kind, n.status) for n in planned] == [
        (on_site[0], "response", "response", NoticeStatus.PENDING),
        (on_site[1], "response", "response", NoticeStatus.PENDING),
        (waiting, "response", "response", NoticeStatus.PENDING)]


def test_a_decision_notice_and_a_response_notice_live_side_by_side(engine: Engine) -> None:
    """The table was unique on the comment; it is unique on comment and topic now."""
    [comment_id] = approved(engine)
    with session_scope(engine) as session:
        publish_now(session, [comment_id], NoticePolicy(enabled=True))
        respond(session, [comment_id], "noted", SQ, "", None, SARA)
    with session_scope(engine) as session:
        assert plan_response_notices(session, {comment_id}) == 1
    with Session(engine) as session:
        kinds = sorted((n.topic, n.kind) for n in session.exec(
            select(DecisionNotice).where(DecisionNotice.comment_id == comment_id)).all())
    assert kinds == [("decision", "published"), ("response", "response")]


def test_the_queue_lists_each_comment_with_its_response(engine: Engine) -> None:
    answered, silent = published(engine, 2)
    with session_scope(engine) as session:
        respond(session, [answered], "out-of-scope", "", "Not about the plan's commitments.",
                None, SARA)
    with Session(engine) as session:
        items = fetch_queue(session, QueueQuery(status="published"), with_counts=False).items
    by_id = {item["id"]: item["response"] for item in items}
    assert by_id == {
        answered: {"outcome": "out-of-scope", "text_sq": "",
                   "text_en": "Not about the plan's commitments."},
        silent: None}
