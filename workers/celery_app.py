"""The Celery app: a thin task around ``workers.pipeline``; the broker only triggers work."""

from __future__ import annotations

import random
import smtplib
from typing import TYPE_CHECKING, Any

from celery import Celery, Task
from sqlalchemy.exc import DBAPIError, OperationalError

from config.settings import Settings

if TYPE_CHECKING:
    from workers.runtime import Runtime

TASK_TIME_LIMIT = 120
VISIBILITY_TIMEOUT = 3600  # well above the longest task, so nothing is redelivered early
# Retries are delayed in the worker's memory (ETA); keep every delay far below
# the visibility timeout so Redis never hands the same task out twice.
MAX_COUNTDOWN = 300


def make_celery(settings: Settings, runtime: Runtime | None = None) -> Celery:
    from workers.confirmations import send_confirmation
    from workers.notices import send_due_notices
    from workers.pipeline import ProcessingError
    from workers.publishing import PUBLISH_TASK, publish_task
    from workers.receipts import send_receipt, send_receipts
    from workers.runtime import (
        CONFIRMATION_TASK,
        NOTICES_TASK,
        PROCESS_BATCH_TASK,
        PROCESS_TASK,
        RECEIPT_TASK,
        RECEIPTS_TASK,
        Runtime,
    )

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
        broker_connection_max_retries=None,
        worker_hijack_root_logger=False,
        worker_cancel_long_running_tasks_on_connection_loss=False,
    )
    owner = runtime or Runtime(settings)

    # Infrastructure errors (database gone, Redis gone) before the attempt is counted:
    # retry with backoff; the sweeper catches anything left over. A batch whose earlier try
    # died after its claim is split, not retried as one.
    processing_retries: dict[str, Any] = {
        "acks_late": True,
        "autoretry_for": (OperationalError, DBAPIError, OSError),
        "retry_backoff": int(settings.retry_backoff_seconds),
        "retry_backoff_max": MAX_COUNTDOWN, "retry_jitter": True,
        "max_retries": settings.max_attempts + 3,
    }

    @app.task(name=PROCESS_TASK, bind=True, **processing_retries)
    def process_inbound_task(self: Task, inbound_id: int) -> str:  # type: ignore[type-arg]
        # The engine is created lazily in each worker child, after the fork.
        try:
            return owner.process(inbound_id)
        except ProcessingError as error:
            if not error.will_retry:
                return "failed"
            # The row counts attempts; Celery's own count only spaces them out.
            countdown = min(MAX_COUNTDOWN,
                            settings.retry_backoff_seconds * 2 ** self.request.retries)
            raise self.retry(countdown=countdown * (0.5 + random.random()),  # noqa: S311
                             max_retries=settings.max_attempts + 3) from error

    @app.task(name=PROCESS_BATCH_TASK, **processing_retries)
    def process_batch_task(inbound_ids: list[int]) -> str:
        return owner.process_batch(inbound_ids)

    # One message to one citizen: a relay or database outage is retried, backing off up to
    # 30 minutes between tries (8 tries, about an hour and a half in all).
    mail_retries: dict[str, Any] = {
        "acks_late": True,
        "autoretry_for": (OSError, OperationalError, smtplib.SMTPException),
        "retry_backoff": 30, "retry_backoff_max": 1800, "retry_jitter": True, "max_retries": 8,
    }

    @app.task(name=RECEIPT_TASK, **mail_retries)
    def send_receipt_task(receipt_id: int) -> str:
        return send_receipt(owner.engine, owner.settings, owner.sender, receipt_id)

    # A batch's receipts in one task; those already sent are skipped when it is retried.
    @app.task(name=RECEIPTS_TASK, **mail_retries)
    def send_receipts_task(receipt_ids: list[int]) -> str:
        return send_receipts(owner.engine, owner.settings, owner.sender, receipt_ids)

    @app.task(name=CONFIRMATION_TASK, **mail_retries)
    def send_confirmation_task(confirmation_id: int) -> str:
        return str(send_confirmation(owner.engine, owner.settings, owner.sender,
                                     confirmation_id))

    # Publishing renders only what changed, but a first publish of a large site takes
    # a while: its own time limit; the store's lock keeps two publishes apart.
    @app.task(name=PUBLISH_TASK, acks_late=True, time_limit=1800, soft_time_limit=1700,
              autoretry_for=(OperationalError,), retry_backoff=30,
              retry_backoff_max=MAX_COUNTDOWN, max_retries=5)
    def publish_site_task() -> str:
        return publish_task(owner)

    @app.task(
        name=NOTICES_TASK,
        acks_late=True,
        # Each notice records its own SMTP failure and is retried by the sweeper;
        # only the database being away is worth a retry of the whole round.
        autoretry_for=(OperationalError,),
        retry_backoff=30,
        retry_backoff_max=MAX_COUNTDOWN,
        retry_jitter=True,
        max_retries=5,
    )
    def send_notices_task() -> int:
        return send_due_notices(owner.engine, owner.settings, owner.sender,
                                catalogue=owner.catalogue)

    return app
