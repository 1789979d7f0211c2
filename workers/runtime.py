"""What a process needs to do work, built once from ``Settings``: engine, classifier, dispatch."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

from celery import Celery
from sqlalchemy import Engine

from config.catalogue import Catalogue, default_catalogue
from config.settings import Settings
from intake.classify import Classifier
from moderation.db import make_engine
from workers.pipeline import process_inbound

log = logging.getLogger(__name__)
PROCESS_TASK = "ogp.process_inbound"


@dataclass
class Runtime:
    settings: Settings
    catalogue: Catalogue = field(default_factory=default_catalogue)

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.settings.database_url)

    @cached_property
    def classifier(self) -> Classifier:
        return Classifier(self.catalogue)

    @cached_property
    def celery(self) -> Celery:
        from workers.celery_app import make_celery

        return make_celery(self.settings, self)

    def enqueue(self, inbound_ids: Sequence[int]) -> None:
        """Called after the commit that stored the rows: a broker, or right here."""
        if self.settings.broker_url:
            for inbound_id in inbound_ids:
                self.celery.send_task(PROCESS_TASK, args=[inbound_id])
            return
        for inbound_id in inbound_ids:
            process_inbound(self.engine, inbound_id, self.classifier)
