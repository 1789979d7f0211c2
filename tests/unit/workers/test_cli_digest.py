"""``ogp-feedback digest``: formats, dates, the file it writes, and the digest by mail."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine

from config.catalogue import default_catalogue
from config.settings import Settings
from publish.digest import Period
from publish.digest_load import load_digest, snapshot
from publish.digest_render import to_json
from tests.conftest import run_cli
from tests.functional.smtp_sink import running_sink
from tests.unit.factories import SQLITE_ONLY
from tests.unit.publish.digest_consultation import ZONE, Generated, generate
from workers.digest_mail import DigestMail, DigestMailError, build_digest_message

CATALOGUE = default_catalogue()


@pytest.fixture
def consultation(engine: Engine) -> Generated:
    return generate(engine, comments=120)


def test_the_json_digest_is_the_one_the_library_computes(
        settings: Settings, engine: Engine, consultation: Generated) -> None:
    result = run_cli(settings, "digest", "--since", "2020-09-14", "--until", "2020-09-27",
                     "--format", "json")
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    with snapshot(engine) as session:
        digest = load_digest(session, CATALOGUE,
                             Period(date(2020, 9, 14), date(2020, 9, 27), ZONE),
                             datetime.now(UTC))
    expected = json.loads(json.dumps(to_json(digest, CATALOGUE)))
    printed.pop("generated_at")
    expected.pop("generated_at")
    assert printed == expected
    assert printed["since"] == "2020-09-14"
    assert printed["time_zone"] == "Europe/Tirane"
    assert list(printed["by_week"]) == ["2020-W38", "2020-W39"]


@SQLITE_ONLY
@pytest.mark.parametrize(("name", "first"), [("week.md", "# Digest"), ("week.csv", "section,"),
                                             ("week.html", "<!doctype html>"),
                                             ("week.json", "{")])
def test_the_format_follows_the_file_name(settings: Settings, consultation: Generated,
                                          tmp_path: Path, name: str, first: str) -> None:
    out = tmp_path / "out" / name
    out.parent.mkdir()
    result = run_cli(settings, "digest", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert out.read_text(encoding="utf-8").startswith(first)
    assert f"wrote {out}" in result.stderr
    assert "120 comments" in result.stderr
    assert [p.name for p in out.parent.iterdir()] == [name]  # no partial file left behind


@SQLITE_ONLY
@pytest.mark.parametrize(("args", "message"), [
    (["--since", "2020-13-01"], "'2020-13-01' is not a date (YYYY-MM-DD)"),
    (["--since", "2020-10-02", "--until", "2020-10-01"], "--since 2020-10-02 is after --until"),
    (["--send"], "--send needs OGP_DIGEST_RECIPIENTS"),
])
def test_mistakes_are_named(settings: Settings, engine: Engine, args: list[str],
                            message: str) -> None:
    result = run_cli(settings, "digest", *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert result.stdout == ""


@SQLITE_ONLY
def test_send_mails_the_html_digest_to_each_recipient(
        settings: Settings, consultation: Generated) -> None:
    with running_sink() as sink:
        result = run_cli(
            settings, "digest", "--since", "2020-09-01", "--send",
            OGP_DIGEST_RECIPIENTS="sekretaria@ogp.example.al, drejtori@ogp.example.al",
            OGP_MAIL_SENDER="smtp", OGP_SMTP_HOST="127.0.0.1", OGP_SMTP_PORT=str(sink.port),
            OGP_SMTP_SECURITY="none", OGP_MAIL_FROM="feedback@ogp.example.al")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""  # sent, not printed
    assert "digest sent to 2 recipient(s)" in result.stderr
    assert [d.recipients for d in sink.delivered] == [["sekretaria@ogp.example.al"],
                                                      ["drejtori@ogp.example.al"]]
    for delivered in sink.delivered:
        assert delivered.envelope_from == "feedback@ogp.example.al"
        message = delivered.message()
        assert message["Auto-Submitted"] == "auto-generated"
        assert message["To"] == delivered.recipients[0]
        assert message["Subject"].startswith("Përmbledhja e komenteve / Digest of comments: "
                                             "2020-09-01 – …")
        html = message.get_body(("html",))
        assert html is not None
        assert "<svg" in html.get_content()
        assert "Received:                  120" in delivered.text()


def test_a_digest_message_has_one_clean_recipient() -> None:
    mail = DigestMail(to="sekretaria@ogp.example.al", mail_from="feedback@ogp.example.al",
                      period="2020-09-01 – 2020-09-30\r\nBcc: x@example.org",
                      figures={"received": 1, "published": 1, "approved": 0, "pending": 0,
                               "rejected": 0},
                      html="<!doctype html><title>d</title>", sent_at=datetime.now(UTC))
    message = build_digest_message(mail)
    assert message["Bcc"] is None
    assert "\n" not in message["Subject"]
    with pytest.raises(DigestMailError):
        build_digest_message(DigestMail(**{**mail.__dict__, "to": "a@x.org, b@y.org"}))
