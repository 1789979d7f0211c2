"""The audit log is append-only in the database itself, and readable as CSV."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from config.settings import Settings
from moderation.audit import AccountAction, AuditFilter, audit_events, record, to_csv
from moderation.db import session_scope
from moderation.transitions import approve
from moderation.users import add_user
from tests.conftest import run_cli
from tests.unit.factories import make_comment


def test_update_and_delete_of_an_event_are_refused_by_the_database(engine: Engine) -> None:
    comment_id = make_comment(engine)
    with session_scope(engine) as session:
        approve(session, comment_id, "mira")
    for statement in ("UPDATE moderation_event SET actor = 'someone-else'",
                      "DELETE FROM moderation_event"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
            connection.execute(text(statement))
    with engine.connect() as connection:
        actors = connection.execute(text("SELECT DISTINCT actor FROM moderation_event")).all()
    assert sorted(a for (a,) in actors) == ["mira", "system"]


def test_csv_neutralises_spreadsheet_formulas(engine: Engine) -> None:
    with session_scope(engine) as session:
        record(session, "=cmd|' /C calc'!A0", AccountAction.LOGIN_FAILED, reason="unknown user")
    with session_scope(engine) as session:
        rows = list(csv.DictReader(io.StringIO(to_csv(audit_events(session, AuditFilter())))))
    assert rows[0]["actor"] == "'=cmd|' /C calc'!A0"
    assert rows[0]["action"] == "login-failed"


def test_the_audit_command_prints_csv(settings: Settings, engine: Engine) -> None:
    comment_id = make_comment(engine)
    with session_scope(engine) as session:
        add_user(session, "mira", "moderator", "kodi-i-fshehte-2020")
    assert run_cli(settings, "approve", str(comment_id), "--as", "mira").returncode == 0
    result = run_cli(settings, "audit", "--csv", "--actor", "mira")
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(r["actor"], r["action"], r["comment_id"], r["to_status"]) for r in rows] == [
        ("mira", "approve", str(comment_id), "approved")]
