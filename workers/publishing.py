"""Republishing the site after approvals: debounced, and never inside an undo window.

An approval asks for a publish (``request_publish``); the publish runs as a task once
the approval's undo window (``OGP_UNDO_SECONDS``) has passed, plus a short debounce,
so a burst of approvals costs one publish and no comment is published while its
moderator can still take the decision back. With a Redis broker, one flag per queue
keeps at most one such task waiting; without a broker a timer in the process does the
same. ``ogp-feedback publisher`` also publishes on a schedule.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from typing import TYPE_CHECKING

from moderation.models import utcnow
from moderation.transitions import NoticePolicy

if TYPE_CHECKING:
    from publish.site import PublishReport
    from workers.runtime import Runtime

log = logging.getLogger(__name__)
PUBLISH_TASK = "ogp.publish_site"
PUBLISHER = "publisher"


def _flag(runtime: Runtime) -> str:
    return f"{runtime.settings.celery_queue}:publish-requested"


def publish_due(runtime: Runtime) -> PublishReport:
    """Publish every approval whose undo window has passed; ask again for the rest."""
    from publish.site import next_settlement, publish_with_settings

    settings = runtime.settings
    policy = NoticePolicy.from_settings(settings)
    report = publish_with_settings(
        runtime.engine, runtime.catalogue, settings, actor=PUBLISHER, notices=policy,
        settled_before=utcnow() - timedelta(seconds=settings.undo_seconds))
    if (policy.enabled and report.newly_published) or report.response_notices:
        runtime.send_notices()
    log.info("published %s comments (%s new): %s pages written, %s unchanged, %.2f s",
             report.total, report.newly_published, report.pages_written,
             report.pages_unchanged, report.seconds)
    waiting = next_settlement(runtime.engine, settings.undo_seconds)
    if waiting is not None:
        request_publish(runtime, delay=max(0.0, (waiting - utcnow()).total_seconds()))
    return report


def publish_task(runtime: Runtime) -> str:
    """The task: clear the request first, so an approval during the publish asks again."""
    clear_request(runtime)
    report = publish_due(runtime)
    return f"{report.total} comments, {report.pages_written} pages written"


def clear_request(runtime: Runtime) -> None:
    from config.settings import is_redis_url

    broker = runtime.settings.broker_url
    if broker and is_redis_url(broker):
        import redis

        with redis.Redis.from_url(broker) as client:
            client.delete(_flag(runtime))


def request_publish(runtime: Runtime, delay: float | None = None) -> None:
    """After the commit of an approval. Never raises: the publisher's schedule catches up."""
    from config.settings import is_redis_url

    settings = runtime.settings
    if delay is None:
        delay = float(settings.undo_seconds + settings.publish_debounce_seconds)
    try:
        broker = settings.broker_url
        if not broker:
            _local.request(runtime, delay)
            return
        if is_redis_url(broker):
            import redis

            with redis.Redis.from_url(broker) as client:
                # Expires well after the task is due: a lost task does not block publishing.
                if not client.set(_flag(runtime), "1", nx=True, ex=int(delay) + 3600):
                    return  # a publish is already on its way; it will include this approval
        runtime.celery.send_task(PUBLISH_TASK, countdown=delay)
    except Exception:
        log.exception("could not ask for a publish; the publisher's schedule will publish")


class _LocalRequests:
    """Without a broker: one timer per process at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None

    def request(self, runtime: Runtime, delay: float) -> None:
        with self._lock:
            if self._timer is not None and self._timer.is_alive():
                return
            self._timer = threading.Timer(delay, self._run, args=(runtime,))
            self._timer.daemon = True
            self._timer.start()

    def _run(self, runtime: Runtime) -> None:
        with self._lock:
            self._timer = None
        try:
            publish_due(runtime)
        except Exception:
            log.exception("publishing after an approval failed; the next approval or "
                          "`ogp-feedback publish` will try again")


_local = _LocalRequests()


def run_publisher(runtime: Runtime, stop: threading.Event, interval: float | None = None) -> None:
    """``ogp-feedback publisher``: publish now, then on a schedule, until ``stop`` is set."""
    every = runtime.settings.publish_interval_seconds if interval is None else interval
    while not stop.is_set():
        try:
            publish_due(runtime)
        except Exception:
            log.exception("scheduled publish failed; trying again at the next interval")
        if every <= 0:
            stop.wait()
            break
        stop.wait(every)
