"""What a process needs to do work, built once from ``Settings``: engine, classifier, dispatch."""

from __future__ import annotations

import logging
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from config.catalogue import Catalogue, default_catalogue
from config.settings import Settings
from intake.classifier.store import ClassifierCache
from intake.classify import Classifier
from intake.stages import StageClock
from moderation.db import make_engine
from workers.logs import bind_inbound_id
from workers.mail import Sender, make_sender
from workers.pipeline import (
    BatchResult,
    ProcessingError,
    ProcessingOptions,
    process_batch,
    process_inbound,
)
from workers.receipts import send_receipt
from workers.stage_metrics import StageMetrics

if TYPE_CHECKING:  # imported where used: a quick `ogp-feedback queue` needs neither
    from celery import Celery
    from fastapi import FastAPI

log = logging.getLogger(__name__)
PROCESS_TASK = "ogp.process_inbound"
PROCESS_BATCH_TASK = "ogp.process_batch"
RECEIPT_TASK = "ogp.send_receipt"
RECEIPTS_TASK = "ogp.send_receipts"
NOTICES_TASK = "ogp.send_notices"
CONFIRMATION_TASK = "ogp.send_confirmation"


@dataclass
class Runtime:
    settings: Settings
    catalogue: Catalogue = field(default_factory=default_catalogue)

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.settings.database_url)

    @cached_property
    def classifiers(self) -> ClassifierCache:
        return ClassifierCache(self.engine, self.catalogue,
                               self.settings.classifier_low_confidence)

    @property
    def classifier(self) -> Classifier:
        """The active version; a newly trained one is picked up within a minute."""
        return self.classifiers.get()

    @cached_property
    def options(self) -> ProcessingOptions:
        return ProcessingOptions.from_settings(self.settings)

    @cached_property
    def sender(self) -> Sender:
        return make_sender(self.settings)

    @cached_property
    def stage_metrics(self) -> StageMetrics:
        return StageMetrics.for_settings(self.settings)

    def process(self, inbound_id: int) -> str:
        """Process one stored message, then hand its receipt (if any) on."""
        clock = StageClock()
        with bind_inbound_id(inbound_id):
            result = process_inbound(self.engine, inbound_id, self.classifier, self.options,
                                     clock)
            if result.receipt_id is not None:
                self.send_receipts([result.receipt_id])
            if result.confirmation_id is not None:
                self.send_confirmation(result.confirmation_id)
        self.stage_metrics.record(clock)
        return str(result.outcome)

    def process_batch(self, inbound_ids: Sequence[int]) -> str:
        """Process a batch in one claim and one commit; receipts go on as one task."""
        clock = StageClock()
        result = process_batch(self.engine, inbound_ids, self.classifier, self.options, clock)
        self._hand_on(result)
        self.stage_metrics.record(clock)
        outcomes = Counter(str(processed.outcome) for processed in result.outcomes.values())
        outcomes.update({"retry": len(result.retry), "split": len(result.split)})
        return " ".join(f"{name}={n}" for name, n in sorted(outcomes.items()) if n)

    def _hand_on(self, result: BatchResult) -> None:
        receipts = [p.receipt_id for p in result.outcomes.values() if p.receipt_id is not None]
        if receipts:
            self.send_receipts(receipts)
        for processed in result.outcomes.values():
            if processed.confirmation_id is not None:
                self.send_confirmation(processed.confirmation_id)
        if not self.settings.broker_url:
            # No queue to retry on: split batches run here one by one; retries are the
            # sweeper's (the rows say what failed).
            self._process_alone(result.split)
            return
        for inbound_id in result.split:
            self.celery.send_task(PROCESS_TASK, args=[inbound_id])
        for inbound_id in result.retry:
            delay = self.settings.retry_backoff_seconds * (0.5 + random.random())  # noqa: S311
            self.celery.send_task(PROCESS_TASK, args=[inbound_id], countdown=delay)

    def _process_alone(self, inbound_ids: Sequence[int]) -> None:
        for inbound_id in inbound_ids:
            try:
                self.process(inbound_id)
            except ProcessingError as error:
                # Recorded on the row; without a broker the sweeper retries it.
                log.warning("%s", error)

    def send_receipts(self, receipt_ids: Sequence[int]) -> None:
        if self.settings.broker_url:
            self.celery.send_task(RECEIPTS_TASK, args=[list(receipt_ids)])
            return
        for receipt_id in receipt_ids:
            try:
                send_receipt(self.engine, self.settings, self.sender, receipt_id)
            except OSError as error:
                # Without a broker there is no retry queue; the row says failed.
                log.warning("receipt %s failed: %s", receipt_id, error)

    def send_confirmation(self, confirmation_id: int) -> None:
        if self.settings.broker_url:
            self.celery.send_task(CONFIRMATION_TASK, args=[confirmation_id])
            return
        from workers.confirmations import send_confirmation

        try:
            send_confirmation(self.engine, self.settings, self.sender, confirmation_id)
        except OSError as error:
            # Without a broker there is no retry queue; the row stays unsent.
            log.warning("confirmation %s failed: %s", confirmation_id, error)

    def send_notices(self) -> None:
        """Send the decision notices that are due; called after the commit of a decision.

        Never raises: the decision is already committed, and a notice that is not
        sent now waits in the database for the sweeper.
        """
        try:
            if self.settings.broker_url:
                self.celery.send_task(NOTICES_TASK)
                return
            from workers.notices import send_due_notices

            send_due_notices(self.engine, self.settings, self.sender, catalogue=self.catalogue)
        except Exception:  # the broker or the database is away; the sweeper tries again
            log.exception("decision notices not sent now; the sweeper will")

    def request_publish(self) -> None:
        """After an approval's commit: republish once its undo window has passed."""
        from workers.publishing import request_publish

        request_publish(self)

    @cached_property
    def celery(self) -> Celery:
        from workers.celery_app import make_celery

        return make_celery(self.settings, self)

    def web_app(self) -> FastAPI:
        """The moderation UI, the contact form, the published site and the operations view."""
        from config.settings import is_redis_url
        from moderation.web.app import create_app
        from moderation.web.ops import make_ops_router
        from workers.ops import redis_probes

        app = create_app(self.settings, engine=self.engine, catalogue=self.catalogue,
                         enqueue=self.enqueue, send_notices=self.send_notices,
                         send_receipts=self.send_receipts, request_publish=self.request_publish)
        broker_url = self.settings.broker_url
        probes = (redis_probes(broker_url, self.settings.celery_queue)
                  if broker_url and is_redis_url(broker_url) else None)
        app.include_router(make_ops_router(
            self.settings, self.engine,
            broker_ping=probes.ping if probes else None,
            queue_depth=probes.queue_depth if probes else None,
            more_metrics=self.stage_metrics.render))
        return app

    def close(self) -> None:
        """Release database connections (the engine is built on first use)."""
        if "engine" in self.__dict__:
            self.engine.dispose()

    def enqueue(self, inbound_ids: Sequence[int]) -> None:
        """Called after the commit that stored the rows: a broker, or right here; in
        batches of ``OGP_PROCESS_BATCH_SIZE``."""
        size = self.settings.process_batch_size
        batches = [list(inbound_ids[start:start + size])
                   for start in range(0, len(inbound_ids), size)]
        for batch in batches:
            if self.settings.broker_url:
                self.celery.send_task(PROCESS_BATCH_TASK, args=[batch])
            else:
                self.process_batch(batch)
