"""A contact-form confirmation whose mail never left is sent again by the sweeper."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine

from moderation.confirmations import plan_confirmation
from moderation.db import session_scope
from moderation.models import AddressConfirmation, utcnow
from tests.unit.factories import load_comment, make_comment
from workers.sweeper import sweep


def _planned(engine: Engine, age: timedelta) -> int:
    comment_id = make_comment(engine)
    inbound_id = load_comment(engine, comment_id).inbound_id
    with session_scope(engine) as session:
        confirmation_id = plan_confirmation(session, inbound_id, "ana@example.org",
                                            utcnow() - age, hours=72)
    assert confirmation_id is not None
    return confirmation_id


def test_an_unsent_confirmation_is_handed_on_after_the_sweep_period(engine: Engine) -> None:
    stuck = _planned(engine, age=timedelta(minutes=10))
    handed: list[int] = []
    report = sweep(engine, 300, lambda ids: None, lambda ids: None,
                   send_confirmation=handed.append)
    assert handed == [stuck]
    assert report.confirmations == 1


def test_a_fresh_or_sent_confirmation_is_left_alone(engine: Engine) -> None:
    fresh = _planned(engine, age=timedelta(seconds=10))
    handed: list[int] = []
    sweep(engine, 300, lambda ids: None, lambda ids: None, send_confirmation=handed.append)
    assert handed == []  # the first send may still be on its way
    with session_scope(engine) as session:
        row = session.get(AddressConfirmation, fresh)
        assert row is not None
        row.created_at = utcnow() - timedelta(hours=1)
        row.token_hash = "0" * 64  # mailed: the marker was replaced by the token's hash
        session.add(row)
    sweep(engine, 300, lambda ids: None, lambda ids: None, send_confirmation=handed.append)
    assert handed == []
