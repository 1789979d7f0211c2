"""``ogp-feedback respond`` and the ``response`` key of ``queue --json``."""

from __future__ import annotations

import json

from sqlalchemy import Engine
from sqlmodel import Session, select

from config.settings import Settings
from moderation.db import session_scope
from moderation.models import Response
from moderation.transitions import approve
from moderation.users import add_user
from tests.conftest import run_cli
from tests.unit.factories import make_comment

SQ = "Propozimi u mor në dijeni."
EN = "Your proposal has been noted."


def _setup(engine: Engine) -> list[int]:
    with session_scope(engine) as session:
        add_user(session, "sara", "secretariat", "kodi-i-fshehte-2020")
        add_user(session, "mira", "moderator", "kodi-i-fshehte-2020")
    ids = [make_comment(engine, text=f"Koment {n} për buxhetin e bashkisë.") for n in range(3)]
    with session_scope(engine) as session:
        for comment_id in ids:
            approve(session, comment_id, "mira")
    return ids


def _responses(engine: Engine) -> int:
    with Session(engine) as session:
        return len(session.exec(select(Response)).all())


def test_the_secretariat_responds_and_the_queue_shows_it(settings: Settings,
                                                         engine: Engine) -> None:
    first, second, third = _setup(engine)
    result = run_cli(settings, "respond", str(first), str(second), "--outcome", "noted",
                     "--text-sq", SQ, "--text-en", EN, "--link", "https://ogp.al/plan",
                     "--as", "sara")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (f"response #1 (noted) to #{first}, #{second}; the public "
                                     "site shows it after the next publish")

    listed = run_cli(settings, "queue", "--status", "approved", "--json")
    assert listed.returncode == 0, listed.stderr
    by_id = {item["id"]: item["response"] for item in json.loads(listed.stdout)}
    answer = {"outcome": "noted", "text_sq": SQ, "text_en": EN}
    assert by_id == {first: answer, second: answer, third: None}

    audit = run_cli(settings, "audit", "--action", "respond", "--csv")
    rows = [line.split(",") for line in audit.stdout.splitlines()[1:]]
    assert sorted((row[2], row[3], row[4]) for row in rows) == [
        ("sara", "respond", str(first)), ("sara", "respond", str(second))]


def test_a_moderator_may_not_respond(settings: Settings, engine: Engine) -> None:
    first, _, _ = _setup(engine)
    result = run_cli(settings, "respond", str(first), "--outcome", "noted", "--text-sq", SQ,
                     "--as", "mira")
    assert result.returncode == 2
    assert "mira is a moderator; 'respond' needs the role admin or secretariat" in result.stderr
    assert _responses(engine) == 0


def test_one_refused_comment_writes_nothing_and_each_refusal_is_listed(
        settings: Settings, engine: Engine) -> None:
    first, _, _ = _setup(engine)
    pending = make_comment(engine)
    result = run_cli(settings, "respond", str(first), str(pending), "424242", "--outcome",
                     "adopted", "--text-en", EN, "--as", "sara")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"#{pending} is pending; a response answers a comment the public can read, so "
        "approve it first",
        "#424242: there is no such comment",
        "no response was written"]
    assert _responses(engine) == 0


def test_words_that_cannot_be_published_are_refused(settings: Settings, engine: Engine) -> None:
    first, _, _ = _setup(engine)
    empty = run_cli(settings, "respond", str(first), "--outcome", "noted", "--as", "sara")
    assert empty.returncode == 2
    assert ("ogp-feedback: a reasoned response needs an explanation in Albanian or in English "
            "(or both)") in empty.stderr
    unknown = run_cli(settings, "respond", str(first), "--outcome", "accepted", "--text-sq", SQ,
                      "--as", "sara")
    assert unknown.returncode == 2
    assert "invalid choice: 'accepted'" in unknown.stderr
    assert _responses(engine) == 0
