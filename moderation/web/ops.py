"""The operations view: readiness (database, broker) and Prometheus metrics.

Both answer without a login, so they show counts, statuses, mailbox folder
names and error classes only: never a message, a subject or an address. Even
that is only for the operator: a client on loopback or one that sends
``OGP_OPS_TOKEN`` as a bearer token. Anyone else learns from ``/readyz`` only
ready or not (its status code), and gets no metrics.
Liveness is ``/healthz`` in ``moderation.web.app``. The broker is reached only
through the two callables the composition passes in (``workers.ops``), so this
module knows nothing about Redis. It only reads.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import math
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from sqlalchemy import Engine, text
from sqlmodel import Session, col, func, select

from config.settings import Settings
from moderation.models import (
    Comment,
    CommentStatus,
    ImapCheckpoint,
    InboundMessage,
    InboundSource,
    InboundStatus,
    Receipt,
    ReceiptStatus,
)
from moderation.privacy import redact_email_addresses

log = logging.getLogger(__name__)

# Prometheus text exposition format 0.0.4; Starlette appends "; charset=utf-8".
METRICS_CONTENT_TYPE = "text/plain; version=0.0.4"
# A readiness probe must answer quickly even when a dependency hangs.
CHECK_TIMEOUT_SECONDS = 3.0
DB_STATEMENT_TIMEOUT_MS = 2000
NOT_CONFIGURED = "not configured"
ERROR_DETAIL_CHARS = 200

BrokerPing = Callable[[], bool]
QueueDepth = Callable[[], int | None]


def make_ops_router(settings: Settings, engine: Engine, broker_ping: BrokerPing | None,
                    queue_depth: QueueDepth | None,
                    more_metrics: Callable[[], str] | None = None) -> APIRouter:
    """GET ``/readyz`` and ``/metrics``; mounted by the composition in workers.
    ``more_metrics``: text in the exposition format appended to ``/metrics`` (the intake's
    stage histograms, kept by the workers)."""
    router = APIRouter()
    database_check = _Check("database", lambda: _ping_database(engine))
    broker_check = None if broker_ping is None else _Check("broker", _expect_true(broker_ping))

    @router.get("/readyz")
    def readyz(request: Request) -> Response:
        checks = {"database": database_check, "broker": broker_check}
        statuses = _run_all(checks, CHECK_TIMEOUT_SECONDS)
        ready = all(status in ("ok", NOT_CONFIGURED) for status in statuses.values())
        if not ready:
            log.warning("not ready: %s", ", ".join(f"{k}={v}" for k, v in statuses.items()))
        status_code = 200 if ready else 503
        if not operator(request, settings.ops_token):
            # A load balancer needs only the status; error texts are for the operator.
            return JSONResponse({"status": "ready" if ready else "not ready"},
                                status_code=status_code)
        return JSONResponse(statuses, status_code=status_code)

    @router.get("/metrics")
    def metrics(request: Request) -> Response:
        if not operator(request, settings.ops_token):
            return PlainTextResponse(OPERATORS_ONLY, status_code=403)
        with Session(engine) as session:
            families = _database_metrics(session, datetime.now(UTC))
        if queue_depth is not None:
            families.append(_queue_depth_family(queue_depth))
        text = render_metrics(families) + (more_metrics() if more_metrics is not None else "")
        return Response(text, media_type=METRICS_CONTENT_TYPE)

    return router


OPERATORS_ONLY = ("Metrics are served to loopback, or with the operations token "
                  "(OGP_OPS_TOKEN) as a bearer token.\n")


def operator(request: Request, ops_token: str) -> bool:
    """A client on loopback, or one that presents the operations token.

    Behind a reverse proxy on this host, uvicorn has already replaced the peer with the
    client's address from X-Forwarded-For, so proxied requests are not loopback.
    """
    if ops_token:
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(
                credentials.strip().encode(), ops_token.encode()):
            return True
    try:
        return ipaddress.ip_address(request.client.host if request.client else "").is_loopback
    except ValueError:  # "testclient", a Unix socket's empty peer
        return False


# ---------------------------------------------------------------- readiness

def _ping_database(engine: Engine) -> None:
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            # SET LOCAL lasts until the rollback when the connection goes back to the pool.
            connection.execute(text(f"SET LOCAL statement_timeout = {DB_STATEMENT_TIMEOUT_MS}"))
        connection.execute(text("SELECT 1")).scalar_one()


def _expect_true(probe: BrokerPing) -> Callable[[], None]:
    def check() -> None:
        if not probe():
            raise ConnectionError("no answer to PING")
    return check


def describe_error(error: BaseException) -> str:
    """``error: ClassName: first line``, short and without addresses (the page is public)."""
    lines = str(error).strip().splitlines()
    detail = f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__
    return "error: " + redact_email_addresses(detail[:ERROR_DETAIL_CHARS])


class _Check:
    """One probe on a daemon thread, so a hung connection cannot hold the request.

    At most one run is in flight: while an earlier one hangs, the check
    reports an error at once instead of starting thread after thread.
    """

    def __init__(self, name: str, probe: Callable[[], None]) -> None:
        self.name = name
        self.probe = probe
        self._lock = threading.Lock()
        self._running = False

    def start(self) -> _Run:
        run = _Run()
        with self._lock:
            if self._running:
                run.status = "error: the previous check has not answered yet"
                run.done.set()
                return run
            self._running = True
        threading.Thread(target=self._run, args=(run,), name=f"ogp-readyz-{self.name}",
                         daemon=True).start()
        return run

    def _run(self, run: _Run) -> None:
        try:
            self.probe()
            run.status = "ok"
        except Exception as error:  # any failure means "not ready"; its name is the answer
            run.status = describe_error(error)
        finally:
            with self._lock:
                self._running = False
            run.done.set()


@dataclass
class _Run:
    status: str = ""
    done: threading.Event = field(default_factory=threading.Event)


def _run_all(checks: Mapping[str, _Check | None], timeout: float) -> dict[str, str]:
    """Run the configured checks side by side; each gets the same deadline."""
    runs = {name: check.start() for name, check in checks.items() if check is not None}
    deadline = time.monotonic() + timeout
    statuses: dict[str, str] = {}
    for name in checks:
        run = runs.get(name)
        if run is None:
            statuses[name] = NOT_CONFIGURED
        elif run.done.wait(max(0.0, deadline - time.monotonic())):
            statuses[name] = run.status
        else:
            statuses[name] = f"error: no answer within {timeout:g} s"
    return statuses


# ---------------------------------------------------------------- metrics

Labels = Mapping[str, str]


@dataclass
class MetricFamily:
    name: str
    kind: str  # "gauge" or "counter"
    help: str
    samples: list[tuple[Labels, float]] = field(default_factory=list)


def _by_status(known: Iterable[str], counted: Sequence[tuple[str, int]]) -> list[tuple[str, int]]:
    """Every known status (zero when absent) then any other the database holds."""
    counts = dict.fromkeys((str(status) for status in known), 0)
    for status, count in counted:
        counts[status] = counts.get(status, 0) + count
    return list(counts.items())


def _database_metrics(session: Session, now: datetime) -> list[MetricFamily]:
    inbound = session.exec(select(InboundMessage.status, func.count())
                           .group_by(InboundMessage.status)).all()
    sources = session.exec(select(InboundMessage.source, func.count())
                           .group_by(InboundMessage.source)).all()
    comments = session.exec(select(Comment.status, func.count()).group_by(Comment.status)).all()
    receipts = session.exec(select(Receipt.status, func.count()).group_by(Receipt.status)).all()
    # ORDER BY ... LIMIT 1 rather than MIN(): the column's type turns it into an aware datetime.
    oldest = session.exec(select(InboundMessage.created_at)
                          .where(InboundMessage.status == InboundStatus.RECEIVED)
                          .order_by(col(InboundMessage.created_at)).limit(1)).first()
    checkpoints = session.exec(select(ImapCheckpoint.mailbox, ImapCheckpoint.updated_at)
                               .order_by(col(ImapCheckpoint.mailbox))).all()
    age = max(0.0, (now - _aware(oldest)).total_seconds()) if oldest is not None else 0.0
    return [
        MetricFamily("ogp_inbound_messages", "gauge",
                     "Inbound messages stored, by status (received = waiting for processing).",
                     [({"status": s}, n) for s, n in _by_status(InboundStatus, inbound)]),
        MetricFamily("ogp_inbound_messages_total", "counter",
                     "Inbound messages ever stored, by the channel they came in on.",
                     [({"source": s}, n) for s, n in _by_status(InboundSource, sources)]),
        MetricFamily("ogp_comments", "gauge", "Comments, by moderation status.",
                     [({"status": s}, n) for s, n in _by_status(CommentStatus, comments)]),
        MetricFamily("ogp_receipts", "gauge", "Receipts to citizens, by status.",
                     [({"status": s}, n) for s, n in _by_status(ReceiptStatus, receipts)]),
        MetricFamily("ogp_oldest_unprocessed_age_seconds", "gauge",
                     "Age of the oldest inbound message still in status received (0 when none).",
                     [({}, age)]),
        MetricFamily("ogp_poller_last_success_timestamp_seconds", "gauge",
                     "Unix time of the IMAP poller's last successful round, by mailbox.",
                     [({"mailbox": mailbox}, _aware(at).timestamp())
                      for mailbox, at in checkpoints]),
    ]


def _queue_depth_family(queue_depth: QueueDepth) -> MetricFamily:
    try:
        depth = queue_depth()
    except Exception as error:  # a broken broker must not take the other metrics down
        log.warning("queue depth unavailable: %s", describe_error(error))
        depth = None
    return MetricFamily("ogp_queue_depth", "gauge",
                        "Tasks waiting in the Celery queue on the broker (NaN: broker "
                        "unreachable); tasks a worker has taken are not counted.",
                        [({}, math.nan if depth is None else depth)])


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def escape_label_value(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _escape_help(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n")


def format_value(value: float) -> str:
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(value)


def render_metrics(families: Iterable[MetricFamily]) -> str:
    """The text exposition format: HELP, TYPE, then one line per sample."""
    lines: list[str] = []
    for family in families:
        lines.append(f"# HELP {family.name} {_escape_help(family.help)}")
        lines.append(f"# TYPE {family.name} {family.kind}")
        for labels, value in family.samples:
            rendered = ",".join(f'{key}="{escape_label_value(str(val))}"'
                                for key, val in labels.items())
            braces = f"{{{rendered}}}" if rendered else ""
            lines.append(f"{family.name}{braces} {format_value(value)}")
    return "\n".join(lines) + "\n"
