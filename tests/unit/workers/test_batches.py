"""Many stored messages processed with one claim and one commit, keeping every guarantee
of processing one at a time: a poison message fails alone, one bad row does not hold
back the rest, a batch an earlier try left half-done is split, and nothing is done twice."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from config.settings import Settings
from intake.stages import STAGES, StageClock
from moderation.db import session_scope
from moderation.models import Comment, InboundMessage, InboundStatus
from tests.mailgen import varied_messages
from tests.unit.factories import CLASSIFIER, SQLITE_ONLY, plain_mail, store
from workers.pipeline import Outcome, ProcessingOptions, process_batch
from workers.runtime import Runtime
from workers.stage_metrics import StageMetrics, render_histograms


def stored(engine: Engine, count: int, prefix: str) -> tuple[list[int], list[str]]:
    mails = varied_messages(count, prefix)
    return store(engine, *(mail.raw for mail in mails)), [mail.token for mail in mails]


def statuses(engine: Engine, ids: list[int]) -> list[str]:
    with Session(engine) as session:
        rows = session.exec(select(InboundMessage).where(col(InboundMessage.id).in_(ids))
                            .order_by(col(InboundMessage.id))).all()
    return [row.status for row in rows]


def comments(engine: Engine) -> int:
    with Session(engine) as session:
        return len(session.exec(select(Comment.id)).all())


def test_a_batch_becomes_pending_comments_with_stage_timings(engine: Engine) -> None:
    ids, _tokens = stored(engine, 12, "BAT")
    clock = StageClock()
    result = process_batch(engine, ids, CLASSIFIER, ProcessingOptions(), clock)
    assert {inbound_id: p.outcome for inbound_id, p in result.outcomes.items()} == dict.fromkeys(
        ids, Outcome.PENDING)
    assert (result.retry, result.split) == ([], [])
    assert statuses(engine, ids) == [InboundStatus.PROCESSED] * 12
    assert comments(engine) == 12
    # One claim, one commit; the rest per message.
    assert {name: len(values) for name, values in clock.samples.items()} == {
        "claim": 1, "queue_wait": 12, "parse": 12, "sanitize": 12, "classify": 12,
        "redact": 12, "group": 12, "commit": 12}
    # The commit's samples leave out the personal-data and campaign work done inside it.
    totals = clock.totals()
    assert totals["commit"] > 0
    assert totals["redact"] > 0
    # Delivered twice (a redelivered task): nothing is done again.
    again = process_batch(engine, ids, CLASSIFIER)
    assert {p.outcome for p in again.outcomes.values()} == {Outcome.ALREADY_DONE}
    assert comments(engine) == 12


def test_a_poison_message_fails_alone(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    ids, tokens = stored(engine, 8, "PSB")
    monkeypatch.setenv("OGP_FAILPOINTS", f"process:raise={tokens[3]}")
    options = ProcessingOptions(max_attempts=2)
    first = process_batch(engine, ids, CLASSIFIER, options)
    assert first.retry == [ids[3]]
    assert statuses(engine, ids) == [InboundStatus.PROCESSED] * 3 + [InboundStatus.RECEIVED] + [
        InboundStatus.PROCESSED] * 4
    # Retried alone (as the worker does), it fails for good on its last attempt.
    last = process_batch(engine, [ids[3]], CLASSIFIER, options)
    assert last.outcomes == {ids[3]: last.outcomes[ids[3]]}
    assert last.outcomes[ids[3]].outcome is Outcome.FAILED
    with Session(engine) as session:
        poison = session.get(InboundMessage, ids[3])
        assert poison is not None
        assert poison.status == InboundStatus.FAILED
        assert "injected fault process:raise" in (poison.reason or "")
    assert comments(engine) == 7


def test_one_row_that_spoils_the_shared_commit_does_not_hold_back_the_others(
        engine: Engine) -> None:
    ids, _tokens = stored(engine, 6, "ROW")
    # Another delivery already made a comment for the fourth message but has not yet
    # marked it processed: the shared commit hits the unique inbound id.
    with session_scope(engine) as session:
        session.add(Comment(inbound_id=ids[3], text="made by a racing delivery"))
    result = process_batch(engine, ids, CLASSIFIER)
    assert result.outcomes[ids[3]].outcome is Outcome.ALREADY_DONE
    assert [result.outcomes[i].outcome for i in ids if i != ids[3]] == [Outcome.PENDING] * 5
    assert comments(engine) == 6


def test_a_batch_whose_earlier_try_died_is_split(engine: Engine) -> None:
    ids, _tokens = stored(engine, 5, "SPL")
    with session_scope(engine) as session:  # a worker claimed it, then was killed
        for message in session.exec(select(InboundMessage).where(
                col(InboundMessage.id).in_(ids))).all():
            message.attempts = 1
            session.add(message)
    result = process_batch(engine, ids, CLASSIFIER)
    assert result.split == ids
    assert result.outcomes == {}
    assert statuses(engine, ids) == [InboundStatus.RECEIVED] * 5
    # Each alone, as the worker hands them on.
    for inbound_id in ids:
        alone = process_batch(engine, [inbound_id], CLASSIFIER)
        assert alone.outcomes[inbound_id].outcome is Outcome.PENDING


@SQLITE_ONLY
def test_without_a_broker_enqueue_processes_in_batches(settings: Settings,
                                                       engine: Engine) -> None:
    ids, _tokens = stored(engine, 7, "ENQ")
    runtime = Runtime(settings.model_copy(update={"process_batch_size": 3}))
    runtime.enqueue(ids)
    assert statuses(engine, ids) == [InboundStatus.PROCESSED] * 7
    text = runtime.stage_metrics.render()
    assert 'ogp_intake_stage_seconds_count{stage="parse"} 7' in text
    assert 'ogp_intake_stage_seconds_count{stage="claim"} 3' in text
    runtime.close()


def test_stage_histograms_are_shared_through_redis(redis_url: str) -> None:
    key = f"test-{id(object())}:stage-seconds"
    writer, reader = StageMetrics(redis_url, key), StageMetrics(redis_url, key)
    clock = StageClock()
    clock.add("parse", 0.003, 4)
    clock.add("parse", 2.0)
    clock.add("commit", 100.0)
    writer.record(clock)
    writer.record(clock)
    text = reader.render()
    assert 'ogp_intake_stage_seconds_bucket{stage="parse",le="0.0025"} 0' in text
    assert 'ogp_intake_stage_seconds_bucket{stage="parse",le="0.005"} 8' in text
    assert 'ogp_intake_stage_seconds_bucket{stage="parse",le="2.5"} 10' in text
    assert 'ogp_intake_stage_seconds_bucket{stage="parse",le="+Inf"} 10' in text
    assert 'ogp_intake_stage_seconds_count{stage="parse"} 10' in text
    assert 'ogp_intake_stage_seconds_bucket{stage="commit",le="60.0"} 0' in text
    assert 'ogp_intake_stage_seconds_bucket{stage="commit",le="+Inf"} 2' in text
    # Every stage is there, also those nothing has been timed in yet.
    assert text == render_histograms(reader.read(), STAGES)
    assert 'ogp_intake_stage_seconds_count{stage="fetch"} 0' in text
    assert reader._client is not None
    reader._client.delete(key)


def test_an_outer_stage_leaves_out_the_stages_timed_inside_it() -> None:
    clock = StageClock()
    with clock.outer("commit", count=4):
        clock.add("redact", 10.0)  # as if ten seconds were timed inside
    assert clock.samples["commit"] == [0.0] * 4
    with clock.outer("commit", count=2), clock.stage("group"):
        pass
    assert len(clock.samples["commit"]) == 6
    assert all(seconds < 1.0 for seconds in clock.samples["commit"])


def test_grouping_left_undone_by_a_failure_is_done_when_the_batch_comes_again(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    from moderation import campaigns
    from tests.unit.moderation.test_campaigns import LETTER
    from workers import pipeline

    ids = store(engine, *(plain_mail(LETTER, sender=f"Q {n} <q{n}@example.org>")
                          for n in range(3)))

    def broken(*_args: object, **_kwargs: object) -> dict[int, int | None]:
        raise RuntimeError("the database went away between the two transactions")

    monkeypatch.setattr(pipeline, "group_new", broken)
    first = process_batch(engine, ids, CLASSIFIER)
    # The comments stand, ungrouped: grouping never fails a message.
    assert {p.outcome for p in first.outcomes.values()} == {Outcome.PENDING}
    with Session(engine) as session:
        assert {c.campaign_id for c in session.exec(select(Comment)).all()} == {None}
    monkeypatch.setattr(pipeline, "group_new", campaigns.group_new)
    again = process_batch(engine, ids, CLASSIFIER)  # the task redelivered
    assert {p.outcome for p in again.outcomes.values()} == {Outcome.ALREADY_DONE}
    with Session(engine) as session:
        grouped = {c.campaign_id for c in session.exec(select(Comment)).all()}
    assert len(grouped) == 1
    assert None not in grouped
