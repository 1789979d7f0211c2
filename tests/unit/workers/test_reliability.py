"""Dead letters, the sweeper and reprocessing, on both databases."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import Session, select

from config.settings import Settings
from intake.store import RawMessage, store_raw_batch
from moderation.db import session_scope
from moderation.models import Comment, InboundMessage, InboundSource, utcnow
from moderation.transitions import TransitionError, reprocess_inbound
from tests.conftest import derive
from tests.mailgen import build
from workers.pipeline import Outcome, ProcessingError, process_inbound
from workers.runtime import Runtime
from workers.sweeper import sweep


def _store(runtime: Runtime, raw: bytes) -> int:
    with session_scope(runtime.engine) as session:
        return store_raw_batch(session, [RawMessage(raw=raw, source=InboundSource.IMPORT)])[
            0
        ].inbound_id


def _row(runtime: Runtime, inbound_id: int) -> InboundMessage:
    with Session(runtime.engine) as session:
        row = session.get(InboundMessage, inbound_id)
        assert row is not None
        return row


def test_poison_message_fails_after_max_attempts(
    settings: Settings, make_runtime: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime: Runtime = make_runtime(derive(settings, max_attempts=3, receipts=False))
    poison = build(1, "plain-8bit", prefix="PSN")
    healthy = build(2, "plain-8bit", prefix="OKK")
    monkeypatch.setenv("OGP_FAILPOINTS", f"process:raise={poison.token}")
    poison_id, healthy_id = _store(runtime, poison.raw), _store(runtime, healthy.raw)

    for attempt in (1, 2):
        with pytest.raises(ProcessingError) as caught:
            process_inbound(runtime.engine, poison_id, runtime.classifier, runtime.options)
        assert caught.value.will_retry
        row = _row(runtime, poison_id)
        assert (row.status, row.attempts) == ("received", attempt)
        assert "injected fault" in (row.last_error or "")
    with pytest.raises(ProcessingError) as caught:
        process_inbound(runtime.engine, poison_id, runtime.classifier, runtime.options)
    assert not caught.value.will_retry
    row = _row(runtime, poison_id)
    assert row.status == "failed"
    assert (row.reason or "").startswith("failed after 3 attempts: InjectedFaultError")

    # The others flow.
    assert (
        process_inbound(runtime.engine, healthy_id, runtime.classifier, runtime.options).outcome
        is Outcome.PENDING
    )

    # Reprocessing after the bug is fixed gives it a fresh set of attempts.
    monkeypatch.delenv("OGP_FAILPOINTS")
    with session_scope(runtime.engine) as session:
        reprocess_inbound(session, poison_id, "operator")
    assert (
        process_inbound(runtime.engine, poison_id, runtime.classifier, runtime.options).outcome
        is Outcome.PENDING
    )
    with (
        session_scope(runtime.engine) as session,
        pytest.raises(TransitionError, match="not failed"),
    ):
        reprocess_inbound(session, poison_id, "operator")


def test_killed_attempts_count_too(settings: Settings, make_runtime: Any) -> None:
    """A worker killed mid-task records no error, but its claimed attempt counts."""
    runtime: Runtime = make_runtime(derive(settings, max_attempts=2, receipts=False))
    inbound_id = _store(runtime, build(3, "plain-8bit", prefix="KLD").raw)
    with session_scope(runtime.engine) as session:
        row = session.get(InboundMessage, inbound_id)
        assert row is not None
        row.attempts = 2  # two claims whose workers died
        session.add(row)
    result = process_inbound(runtime.engine, inbound_id, runtime.classifier, runtime.options)
    assert result.outcome is Outcome.FAILED
    assert "gave up after 2 attempts" in (_row(runtime, inbound_id).reason or "")


def test_sweeper_hands_stuck_rows_on_and_only_those(settings: Settings, make_runtime: Any) -> None:
    runtime: Runtime = make_runtime(derive(settings, receipts=False))
    old = _store(runtime, build(4, "plain-8bit", prefix="OLD").raw)
    fresh = _store(runtime, build(5, "plain-8bit", prefix="NEW").raw)
    with session_scope(runtime.engine) as session:
        row = session.get(InboundMessage, old)
        assert row is not None
        row.updated_at = utcnow() - timedelta(minutes=10)
        session.add(row)
    handed: list[int] = []
    report = sweep(runtime.engine, 300, handed.extend, lambda ids: None)
    assert (report.inbound, handed) == (1, [old])
    # Touched: a second sweep right away leaves it alone.
    assert sweep(runtime.engine, 300, handed.extend, lambda ids: None).inbound == 0
    # And the real enqueue turns it into a comment.
    sweep(runtime.engine, 0, runtime.enqueue, runtime.send_receipts)
    with Session(runtime.engine) as session:
        assert len(session.exec(select(Comment)).all()) == 2
    assert _row(runtime, fresh).status == "processed"


def test_reprocess_command_needs_no_account(settings: Settings, make_runtime: Any) -> None:
    from tests.conftest import run_cli

    runtime: Runtime = make_runtime(derive(settings, receipts=False, max_attempts=1))
    inbound_id = _store(runtime, build(6, "plain-8bit", prefix="CLI").raw)
    with session_scope(runtime.engine) as session:
        row = session.get(InboundMessage, inbound_id)
        assert row is not None
        row.status, row.last_error = "failed", "RuntimeError: boom"
        session.add(row)
    result = run_cli(runtime.settings, "reprocess", str(inbound_id))
    assert result.returncode == 0, result.stderr
    assert f"{inbound_id}: sent for processing again" in result.stdout
    assert _row(runtime, inbound_id).status == "processed"
    refused = run_cli(runtime.settings, "reprocess", str(inbound_id), "--as", "nobody")
    assert refused.returncode == 2
    assert "no active user 'nobody'" in refused.stderr


def test_sweep_command_processes_what_the_broker_lost(settings: Settings,
                                                      make_runtime: Any) -> None:
    from tests.conftest import run_cli

    runtime: Runtime = make_runtime(derive(settings, receipts=False))
    inbound_id = _store(runtime, build(7, "plain-8bit", prefix="SWP").raw)  # never enqueued
    result = run_cli(runtime.settings, "sweep", "--older-than", "0")
    assert result.returncode == 0, result.stderr
    assert "swept: 1 messages and 0 receipts handed on again" in result.stdout
    assert _row(runtime, inbound_id).status == "processed"
