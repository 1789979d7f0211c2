"""The Celery app: a thin task around ``workers.pipeline``; the broker only triggers work."""

from __future__ import annotations

import smtplib
from typing import TYPE_CHECKING

from celery import Celery
from sqlalchemy.exc import OperationalError

from config.settings import Settings

if TYPE_CHECKING:
    from workers.runtime import Runtime

TASK_TIME_LIMIT = 120
VISIBILITY_TIMEOUT = 3600  # well above the longest task, so nothing is redelivered early


def make_celery(settings: Settings, runtime: Runtime | None = None) -> Celery:
    from workers.receipts import send_receipt
    from workers.runtime import PROCESS_TASK, RECEIPT_TASK, Runtime

    if not settings.broker_url:
        raise ValueError("OGP_BROKER_URL is not set; the worker needs a broker (redis://...)")
    app = Celery("ogp_feedback", broker=settings.broker_url, set_as_current=False)
    app.conf.update(
        task_default_queue=settings.celery_queue,
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_time_limit=TASK_TIME_LIMIT,
        task_soft_time_limit=TASK_TIME_LIMIT - 20,
        broker_transport_options={"visibility_timeout": VISIBILITY_TIMEOUT},
        broker_connection_retry_on_startup=True,
    )
    owner = runtime or Runtime(settings)

    @app.task(
        name=PROCESS_TASK,
        acks_late=True,
        autoretry_for=(OperationalError,),
        retry_backoff=True,
        retry_backoff_max=300,
        retry_jitter=True,
        max_retries=5,
    )
    def process_inbound_task(inbound_id: int) -> str:
        # The engine is created lazily in each worker child, after the fork.
        return owner.process(inbound_id)

    @app.task(
        name=RECEIPT_TASK,
        acks_late=True,
        autoretry_for=(OSError, OperationalError, smtplib.SMTPException),
        retry_backoff=30,
        retry_backoff_max=1800,
        retry_jitter=True,
        max_retries=8,
    )
    def send_receipt_task(receipt_id: int) -> str:
        return send_receipt(owner.engine, owner.settings, owner.sender, receipt_id)

    return app
