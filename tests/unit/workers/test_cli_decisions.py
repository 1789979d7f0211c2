"""Deciding from the command line: reason codes, and the role table for ``--as USER``."""

from __future__ import annotations

import json

from sqlalchemy import Engine

from config.settings import Settings
from moderation.db import session_scope
from moderation.users import add_user
from tests.conftest import run_cli
from tests.unit.factories import load_comment, make_comment


def _users(engine: Engine) -> None:
    with session_scope(engine) as session:
        add_user(session, "mira", "moderator", "kodi-i-fshehte-2020")


def test_reject_with_a_reason_code_and_no_text(settings: Settings, engine: Engine) -> None:
    comment_id = make_comment(engine)
    _users(engine)
    result = run_cli(settings, "reject", str(comment_id), "--reason-code", "spam", "--as", "mira")
    assert result.returncode == 0, result.stderr
    comment = load_comment(engine, comment_id)
    assert (comment.status, comment.reject_code, comment.reject_reason) == ("rejected", "spam",
                                                                            None)
    listed = json.loads(run_cli(settings, "queue", "--status", "rejected", "--json").stdout)
    assert [(item["id"], item["version"]) for item in listed] == [(comment_id, 2)]


def test_reason_alone_keeps_working_as_other(settings: Settings, engine: Engine) -> None:
    comment_id = make_comment(engine)
    _users(engine)
    result = run_cli(settings, "reject", str(comment_id), "--reason", "Jashtë teme.",
                     "--as", "mira")
    assert result.returncode == 0, result.stderr
    assert load_comment(engine, comment_id).reject_code == "other"


def test_other_without_words_is_refused(settings: Settings, engine: Engine) -> None:
    comment_id = make_comment(engine)
    _users(engine)
    result = run_cli(settings, "reject", str(comment_id), "--as", "mira")
    assert result.returncode == 2
    assert "--reason must say why" in result.stderr
    assert load_comment(engine, comment_id).status == "pending"


def test_a_moderator_cannot_release_quarantined_mail(settings: Settings, engine: Engine) -> None:
    _users(engine)
    result = run_cli(settings, "release", "1", "--as", "mira")
    assert result.returncode == 2
    assert "mira is a moderator; 'release' needs the role admin or secretariat" in result.stderr
