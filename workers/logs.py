"""Process-wide logging: one line per record on stderr, JSON or plain text.

Every line says which inbound message it is about (``inbound_id``, null when
none): processing code wraps its work in ``bind_inbound_id(id)``, or passes
``extra={"inbound_id": id}``. Every line has its e-mail addresses replaced by
``[e-mail]``, in the message and in any traceback, so a log collector never
holds a citizen's address. This module must never write anywhere but the
stream it is given, nor log anything itself.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import IO, Any

from config.settings import LogFormat, Settings
from moderation.privacy import redact_email_addresses

# ``-v``'s help says "log at debug level"; DEBUG also shows every INFO line.
VERBOSE_LEVEL = logging.DEBUG

current_inbound_id: ContextVar[int | None] = ContextVar("current_inbound_id", default=None)
"""The inbound message the current thread or task is working on, if any."""

_OUR_HANDLER = "_ogp_feedback_handler"


@contextmanager
def bind_inbound_id(inbound_id: int | None) -> Iterator[None]:
    """Tag every log line written inside the block with ``inbound_id``."""
    token = current_inbound_id.set(inbound_id)
    try:
        yield
    finally:
        current_inbound_id.reset(token)


def inbound_id_of(record: logging.LogRecord) -> int | str | None:
    """An explicit ``extra={"inbound_id": ...}`` wins over the bound one."""
    value: Any = record.__dict__.get("inbound_id", current_inbound_id.get())
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    return redact_email_addresses(str(value))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, message, inbound_id[, exc_info]."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact_email_addresses(record.getMessage()),
            "inbound_id": inbound_id_of(record),
        }
        if record.exc_info:
            entry["exc_info"] = redact_email_addresses(self.formatException(record.exc_info))
        elif record.exc_text:
            entry["exc_info"] = redact_email_addresses(record.exc_text)
        if record.stack_info:
            entry["stack_info"] = redact_email_addresses(self.formatStack(record.stack_info))
        # ASCII escapes keep each line valid whatever the stream's encoding is.
        return json.dumps(entry, default=str)


class TextFormatter(logging.Formatter):
    """``2020-09-01 09:00:00,000 INFO workers.pipeline [inbound 7]: ...`` for a terminal."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(inbound_tag)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        # A copy: other handlers must not see our attribute or our cached traceback.
        copy = logging.makeLogRecord(record.__dict__)
        inbound_id = inbound_id_of(record)
        copy.inbound_tag = "" if inbound_id is None else f" [inbound {inbound_id}]"
        return redact_email_addresses(super().format(copy))


def make_formatter(log_format: LogFormat) -> logging.Formatter:
    return JsonFormatter() if log_format is LogFormat.JSON else TextFormatter()


def configure_logging(settings: Settings, verbose: bool, *,
                      default_level: int = logging.WARNING,
                      stream: IO[str] | None = None) -> logging.Handler:
    """Send the root logger to ``stream`` (stderr) in ``OGP_LOG_FORMAT``.

    Level: ``VERBOSE_LEVEL`` with ``-v``, else ``default_level`` (the CLI passes
    INFO for the long-running ``worker`` and ``poll``). Safe to call again: it
    replaces the handler it installed before and leaves any other alone.
    """
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(make_formatter(settings.log_format))
    setattr(handler, _OUR_HANDLER, True)
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _OUR_HANDLER, False)]:
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(VERBOSE_LEVEL if verbose else default_level)
    _leave_celery_logging_to_us()
    return handler


def _leave_celery_logging_to_us() -> None:
    from celery import signals

    # Celery configures logging itself (plain-text handlers on the root and task
    # loggers) only when nobody answers ``setup_logging``; we answer, keeping our
    # handler and taking only the worker's ``--loglevel``.
    signals.setup_logging.connect(_celery_setup_logging, weak=False,
                                  dispatch_uid="ogp-feedback-logging")


def _celery_setup_logging(loglevel: int | str | None = None, **_kwargs: object) -> None:
    if loglevel:
        logging.getLogger().setLevel(loglevel)
