"""The operations view as a load balancer and Prometheus see it: /healthz, /readyz, /metrics."""

from __future__ import annotations

import re
import threading
import uuid
import warnings
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
import redis
from fastapi import FastAPI
from sqlalchemy import Engine
from sqlmodel import Session, select
from starlette.exceptions import StarletteDeprecationWarning

import moderation.web.ops
from config.settings import Settings
from moderation.db import make_engine, session_scope
from moderation.models import ImapCheckpoint, InboundMessage, InboundStatus, Receipt, utcnow
from moderation.web.ops import make_ops_router
from tests.conftest import derive
from tests.unit.factories import SQLITE_ONLY, make_comment, plain_mail, store
from workers.runtime import Runtime

# Starlette warns at import time that its test client runs on ``httpx``; see test_app.py.
HTTPX_DEPRECATION = r"Using `httpx` with `starlette\.testclient` is deprecated"
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=HTTPX_DEPRECATION,
                            category=StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

CLOSED_BROKER = "redis://127.0.0.1:1/0"
ADDRESS = "elira@example.org"
OPS_TOKEN = "ops-token-for-prometheus-0123456789"
# A client that is not on loopback, as a scraper through the reverse proxy.
OUTSIDE = ("203.0.113.7", 40000)
LOOPBACK = ("127.0.0.1", 40000)

MakeRuntime = Callable[[Settings], Runtime]
Metrics = dict[tuple[str, frozenset[tuple[str, str]]], float]

# The text exposition format, strictly enough to catch a malformed line.
COMMENT = re.compile(r"^# (?P<kind>HELP|TYPE) (?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*) (?P<text>.*)$")
SAMPLE = re.compile(r"^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?P<labels>.*)\})? (?P<value>\S+)$")
LABEL = re.compile(r'(?P<key>[a-zA-Z_][a-zA-Z0-9_]*)="(?P<value>(?:[^"\\\n]|\\[\\"n])*)"(?:,|$)')
ESCAPE = re.compile(r'\\[\\"n]')
HISTOGRAM_SAMPLE = re.compile(r"_(bucket|sum|count)$")
UNESCAPE = {"\\\\": "\\", '\\"': '"', "\\n": "\n"}


def parse_metrics(body: str) -> Metrics:
    """Every line is a HELP, a TYPE, or a sample of a family typed before it."""
    typed: dict[str, str] = {}
    samples: Metrics = {}
    assert body.endswith("\n")
    for line in body.splitlines():
        if line.startswith("#"):
            match = COMMENT.match(line)
            assert match, f"bad comment line: {line!r}"
            if match["kind"] == "TYPE":
                assert match["text"] in ("gauge", "counter", "histogram"), line
                typed[match["name"]] = match["text"]
            continue
        match = SAMPLE.match(line)
        assert match, f"bad sample line: {line!r}"
        family = HISTOGRAM_SAMPLE.sub("", match["name"])
        assert match["name"] in typed or typed.get(family) == "histogram", \
            f"sample before its TYPE: {line!r}"
        labels = match["labels"] or ""
        found = list(LABEL.finditer(labels))
        assert "".join(m[0] for m in found) == labels, f"bad labels: {line!r}"
        pairs = [(m["key"], ESCAPE.sub(lambda e: UNESCAPE[e[0]], m["value"])) for m in found]
        key = (match["name"], frozenset(pairs))
        assert key not in samples, f"duplicate sample: {line!r}"
        samples[key] = float(match["value"])
    return samples


def sample(metrics: Metrics, name: str, **labels: str) -> float:
    return metrics[(name, frozenset(labels.items()))]


@pytest.fixture
def client_for(make_runtime: MakeRuntime) -> Iterator[Callable[[Settings], TestClient]]:
    """The whole web app as ``ogp-feedback serve`` composes it, asked from outside with the
    operations token, as Prometheus asks it."""
    clients: list[TestClient] = []

    def make(settings: Settings) -> TestClient:
        client = TestClient(make_runtime(derive(settings, ops_token=OPS_TOKEN)).web_app(),
                            follow_redirects=False, client=OUTSIDE,
                            headers={"Authorization": f"Bearer {OPS_TOKEN}"})
        clients.append(client.__enter__())
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


# ---------------------------------------------------------------- /healthz, /readyz

@SQLITE_ONLY
def test_healthz_answers_ok_as_plain_text(settings: Settings,
                                          client_for: Callable[[Settings], TestClient]) -> None:
    response = client_for(settings).get("/healthz")

    assert response.status_code == 200
    assert response.text == "ok"
    assert response.headers["content-type"].startswith("text/plain")


def test_readyz_is_ok_with_database_and_redis(
        settings: Settings, redis_url: str,
        client_for: Callable[[Settings], TestClient]) -> None:
    response = client_for(derive(settings, broker_url=redis_url)).get("/readyz")

    assert response.status_code == 200, response.text
    assert response.json() == {"database": "ok", "broker": "ok"}


@SQLITE_ONLY
def test_readyz_without_a_broker_needs_only_the_database(
        settings: Settings, client_for: Callable[[Settings], TestClient]) -> None:
    response = client_for(settings).get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"database": "ok", "broker": "not configured"}


@SQLITE_ONLY
def test_readyz_names_the_broker_error(settings: Settings,
                                       client_for: Callable[[Settings], TestClient]) -> None:
    response = client_for(derive(settings, broker_url=CLOSED_BROKER)).get("/readyz")

    assert response.status_code == 503
    body = response.json()
    assert body["database"] == "ok"
    assert body["broker"].startswith("error: ConnectionError: ")
    assert "127.0.0.1:1" in body["broker"]
    assert "refused" in body["broker"].lower()


def test_readyz_names_the_database_error() -> None:
    engine = make_engine("postgresql+psycopg://ogp:hunter2@127.0.0.1:1/ogp")
    app = FastAPI()
    app.include_router(make_ops_router(Settings(secret_key="x" * 16), engine, None, None))
    try:
        with TestClient(app, client=LOOPBACK) as client:
            response = client.get("/readyz")
    finally:
        engine.dispose()

    assert response.status_code == 503
    body = response.json()
    assert body["database"].startswith("error: OperationalError: ")
    assert "hunter2" not in response.text
    assert body["broker"] == "not configured"


@SQLITE_ONLY
def test_readyz_does_not_wait_for_a_hung_broker(
        settings: Settings, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(moderation.web.ops, "CHECK_TIMEOUT_SECONDS", 0.2)
    release = threading.Event()
    calls: list[int] = []

    def hung_ping() -> bool:
        calls.append(1)
        release.wait(10)
        return True

    app = FastAPI()
    app.include_router(make_ops_router(settings, engine, hung_ping, None))
    try:
        with TestClient(app, client=LOOPBACK) as client:
            first = client.get("/readyz")
            second = client.get("/readyz")
    finally:
        release.set()

    assert (first.status_code, first.json()["broker"]) == (503, "error: no answer within 0.2 s")
    assert second.status_code == 503
    assert second.json()["broker"] == "error: the previous check has not answered yet"
    assert len(calls) == 1


# ---------------------------------------------------------------- /metrics

def test_metrics_count_rows_by_status(settings: Settings, engine: Engine,
                                      client_for: Callable[[Settings], TestClient]) -> None:
    received = store(engine, *(plain_mail(f"Koment {n}", sender=ADDRESS) for n in range(3)))
    make_comment(engine)  # one more inbound, processed into a pending comment
    with session_scope(engine) as session:
        quarantined = session.get(InboundMessage, received[2])
        assert quarantined is not None
        quarantined.status = InboundStatus.QUARANTINED
        session.add(quarantined)
        session.add(Receipt(inbound_id=received[0], address=ADDRESS, day="2020-09-01",
                            reference="OGP-000001", status="sent"))
        session.add(ImapCheckpoint(mailbox="INBOX", uidvalidity=1, last_uid=9,
                                   updated_at=utcnow() - timedelta(minutes=5)))
        session.add(ImapCheckpoint(mailbox='Ankesa "2020"\\arkiv', uidvalidity=1))

    response = client_for(settings).get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert "@" not in response.text
    metrics = parse_metrics(response.text)
    assert {status: sample(metrics, "ogp_inbound_messages", status=status)
            for status in ("received", "processed", "quarantined", "failed")} == {
        "received": 2, "processed": 1, "quarantined": 1, "failed": 0}
    assert sample(metrics, "ogp_inbound_messages_total", source="import") == 4
    assert sample(metrics, "ogp_inbound_messages_total", source="imap") == 0
    assert sample(metrics, "ogp_inbound_messages_total", source="form") == 0
    assert sample(metrics, "ogp_comments", status="pending") == 1
    assert sample(metrics, "ogp_comments", status="published") == 0
    assert sample(metrics, "ogp_receipts", status="sent") == 1
    assert sample(metrics, "ogp_receipts", status="failed") == 0
    with Session(engine) as session:
        checkpoint = session.exec(select(ImapCheckpoint)
                                  .where(ImapCheckpoint.mailbox == "INBOX")).one()
    assert sample(metrics, "ogp_poller_last_success_timestamp_seconds", mailbox="INBOX") == (
        pytest.approx(checkpoint.updated_at.timestamp(), abs=0.001))
    assert ("ogp_poller_last_success_timestamp_seconds",
            frozenset({("mailbox", 'Ankesa "2020"\\arkiv')})) in metrics
    assert not any(name == "ogp_queue_depth" for name, _ in metrics)  # no broker


@SQLITE_ONLY
def test_metrics_show_where_intake_time_goes(settings: Settings, engine: Engine,
                                            make_runtime: MakeRuntime) -> None:
    runtime = make_runtime(derive(settings, ops_token=OPS_TOKEN))
    runtime.enqueue(store(engine, *(plain_mail(f"Koment {n}", sender=ADDRESS)
                                    for n in range(3))))
    with TestClient(runtime.web_app(), client=OUTSIDE,
                    headers={"Authorization": f"Bearer {OPS_TOKEN}"}) as client:
        metrics = parse_metrics(client.get("/metrics").text)
    stage = "ogp_intake_stage_seconds"
    # Without a broker the process that did the work serves the histograms itself.
    assert sample(metrics, f"{stage}_count", stage="parse") == 3
    assert sample(metrics, f"{stage}_count", stage="claim") == 1  # one batch
    assert sample(metrics, f"{stage}_count", stage="fetch") == 0  # no poller here
    buckets = [value for (name, labels), value in metrics.items()
               if name == f"{stage}_bucket" and ("stage", "classify") in labels]
    assert buckets == sorted(buckets)
    assert buckets[-1] == 3
    assert sample(metrics, f"{stage}_sum", stage="parse") > 0


def test_oldest_unprocessed_age(settings: Settings, engine: Engine,
                                client_for: Callable[[Settings], TestClient]) -> None:
    client = client_for(settings)
    age = "ogp_oldest_unprocessed_age_seconds"
    assert sample(parse_metrics(client.get("/metrics").text), age) == 0

    old, _newer = store(engine, plain_mail("i vjetër"), plain_mail("i ri"))
    with session_scope(engine) as session:
        row = session.get(InboundMessage, old)
        assert row is not None
        row.created_at = utcnow() - timedelta(hours=2)
        session.add(row)

    seconds = sample(parse_metrics(client.get("/metrics").text), age)
    assert 2 * 3600 <= seconds < 2 * 3600 + 60

    with session_scope(engine) as session:
        row = session.get(InboundMessage, old)
        assert row is not None
        row.status = InboundStatus.PROCESSED
        session.add(row)
    assert sample(parse_metrics(client.get("/metrics").text), age) < 60


@SQLITE_ONLY
def test_queue_depth_counts_waiting_tasks_on_redis(
        settings: Settings, redis_url: str,
        client_for: Callable[[Settings], TestClient]) -> None:
    queue = f"ogp-test-{uuid.uuid4().hex[:8]}"
    broker = redis.Redis.from_url(redis_url)
    priority_key = f"{queue}\x06\x163"  # where kombu keeps priority-3 messages
    try:
        broker.rpush(queue, "a", "b", "c")
        broker.rpush(priority_key, "d")
        response = client_for(derive(settings, broker_url=redis_url,
                                     celery_queue=queue)).get("/metrics")
    finally:
        broker.delete(queue, priority_key)
        broker.close()

    assert sample(parse_metrics(response.text), "ogp_queue_depth") == 4


@SQLITE_ONLY
def test_unreachable_broker_gives_nan_queue_depth_and_the_rest(
        settings: Settings, client_for: Callable[[Settings], TestClient]) -> None:
    response = client_for(derive(settings, broker_url=CLOSED_BROKER)).get("/metrics")

    assert response.status_code == 200
    metrics = parse_metrics(response.text)
    assert sample(metrics, "ogp_queue_depth") != sample(metrics, "ogp_queue_depth")  # NaN
    assert sample(metrics, "ogp_inbound_messages", status="received") == 0
