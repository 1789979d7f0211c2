"""Log lines as a log collector (JSON) and a person (text) read them: tagged, never an address."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from config.settings import LogFormat, Settings
from tests.conftest import SECRET, run_cli
from tests.unit.factories import SQLITE_ONLY, plain_mail
from workers.logs import bind_inbound_id, configure_logging, current_inbound_id

ADDRESS = "elira@example.org"
log = logging.getLogger("ogp.test.logs")

Configure = Callable[..., io.StringIO]


@pytest.fixture
def configure() -> Iterator[Configure]:
    """``configure_logging`` onto a string buffer; the root logger is put back afterwards."""
    root = logging.getLogger()
    level = root.level
    installed: list[logging.Handler] = []

    def run(log_format: str = "json", verbose: bool = False,
            default_level: int = logging.INFO) -> io.StringIO:
        stream = io.StringIO()
        settings = Settings(secret_key=SECRET, log_format=LogFormat(log_format))
        installed.append(configure_logging(settings, verbose, default_level=default_level,
                                           stream=stream))
        return stream

    yield run
    for handler in installed:
        root.removeHandler(handler)
    root.setLevel(level)


def json_lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_line_has_the_documented_fields(configure: Configure) -> None:
    stream = configure()
    before = datetime.now(UTC) - timedelta(seconds=1)

    log.warning("poll stored=%d", 3)

    [line] = json_lines(stream)
    assert set(line) == {"ts", "level", "logger", "message", "inbound_id"}
    assert (line["level"], line["logger"], line["message"]) == (
        "WARNING", "ogp.test.logs", "poll stored=3")
    assert line["inbound_id"] is None
    assert isinstance(line["ts"], str)
    assert line["ts"].endswith("Z")
    ts = datetime.fromisoformat(line["ts"])
    assert ts.utcoffset() == timedelta(0)
    assert before <= ts <= datetime.now(UTC)


def test_inbound_id_inside_bind_and_null_outside(configure: Configure) -> None:
    stream = configure()

    log.info("before")
    with bind_inbound_id(42):
        log.info("inside")
        log.info("explicit", extra={"inbound_id": 7})
        with bind_inbound_id(43):
            log.info("nested")
        log.info("inside again")
    log.info("after")

    assert [(line["message"], line["inbound_id"]) for line in json_lines(stream)] == [
        ("before", None), ("inside", 42), ("explicit", 7), ("nested", 43),
        ("inside again", 42), ("after", None)]
    assert current_inbound_id.get() is None


def test_bind_is_undone_when_the_block_raises(configure: Configure) -> None:
    stream = configure()

    with pytest.raises(RuntimeError), bind_inbound_id(5):
        raise RuntimeError("boom")
    log.info("after the failure")

    assert json_lines(stream)[-1]["inbound_id"] is None


def test_addresses_are_redacted_in_message_and_arguments(configure: Configure) -> None:
    stream = configure()

    log.info("from %s", ADDRESS)
    log.info(f"from {ADDRESS} and <ana.hoxha@shqipëri.al>")

    messages = [line["message"] for line in json_lines(stream)]
    assert messages == ["from [e-mail]", "from [e-mail] and <[e-mail]>"]
    assert "@" not in stream.getvalue()


def test_addresses_are_redacted_in_tracebacks(configure: Configure) -> None:
    stream = configure()

    with bind_inbound_id(9):
        try:
            raise ValueError(f"no receipt for {ADDRESS}")
        except ValueError:
            log.exception("receipt for %s failed", ADDRESS)

    [line] = json_lines(stream)
    assert line["message"] == "receipt for [e-mail] failed"
    assert line["inbound_id"] == 9
    assert isinstance(line["exc_info"], str)
    assert line["exc_info"].startswith("Traceback (most recent call last):")
    assert "ValueError: no receipt for [e-mail]" in line["exc_info"]
    assert "@" not in stream.getvalue()


def test_text_format_tags_the_inbound_id_and_redacts(configure: Configure) -> None:
    stream = configure("text")

    log.info("outside")
    with bind_inbound_id(12):
        try:
            raise ValueError(ADDRESS)
        except ValueError:
            log.exception("from %s", ADDRESS)

    text = stream.getvalue()
    first, second = text.splitlines()[:2]
    assert first.endswith(" INFO ogp.test.logs: outside")
    assert second.endswith(" ERROR ogp.test.logs [inbound 12]: from [e-mail]")
    assert "ValueError: [e-mail]" in text
    assert "@" not in text


@pytest.mark.parametrize(("verbose", "default_level", "expected"), [
    (False, logging.WARNING, logging.WARNING),
    (False, logging.INFO, logging.INFO),
    (True, logging.WARNING, logging.DEBUG),
])
def test_level(configure: Configure, verbose: bool, default_level: int, expected: int) -> None:
    configure(verbose=verbose, default_level=default_level)

    assert logging.getLogger().level == expected


def test_configuring_twice_keeps_one_handler(configure: Configure) -> None:
    first = configure()
    second = configure()

    log.warning("once")

    assert first.getvalue() == ""
    assert [line["message"] for line in json_lines(second)] == ["once"]


@SQLITE_ONLY
def test_cli_logs_json_without_addresses(settings: Settings, tmp_path: Path) -> None:
    """``-v import`` processes in-process and logs the console receipt: JSON, redacted."""
    mail = tmp_path / "one.eml"
    mail.write_bytes(plain_mail("Shërbimet në e-Albania nuk punojnë.",
                                sender=f"Elira <{ADDRESS}>"))

    result = run_cli(settings, "-v", "import", "-q", str(mail))

    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stderr.splitlines()]
    messages = [str(line["message"]) for line in lines]
    assert any(m.startswith("mail from <> to <[e-mail]>") for m in messages)
    assert ADDRESS not in result.stderr
