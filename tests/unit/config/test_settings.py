"""Settings come from ``OGP_*`` variables and refuse unsafe or unusable values."""

from __future__ import annotations

import os

import pytest
from pydantic import ValidationError

from config.settings import Environment, ImapSecurity, Settings, load_settings

GOOD_SECRET = "a-long-random-secret-0123456789"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only what a test sets: no OGP_* leaking in from the shell running pytest."""
    for name in list(os.environ):
        if name.startswith("OGP_"):
            monkeypatch.delenv(name)


def test_reads_ogp_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OGP_DATABASE_URL", "sqlite:////var/lib/ogp/feedback.db")
    monkeypatch.setenv("OGP_SECRET_KEY", GOOD_SECRET)
    monkeypatch.setenv("OGP_IMAP_HOST", "imap.example.al")
    monkeypatch.setenv("OGP_IMAP_USER", "feedback@ogp.example.al")
    monkeypatch.setenv("OGP_IMAP_PASSWORD", "pw")
    monkeypatch.setenv("OGP_IMAP_SECURITY", "starttls")
    monkeypatch.setenv("OGP_IMAP_BATCH_SIZE", "50")
    monkeypatch.setenv("OGP_SITE_DIR", "/srv/ogp/site")
    monkeypatch.setenv("OGP_BROKER_URL", "redis://127.0.0.1:6379/3")

    settings = load_settings()

    assert settings.database_url == "sqlite:////var/lib/ogp/feedback.db"
    assert settings.secret_key == GOOD_SECRET
    assert settings.imap_host == "imap.example.al"
    assert settings.imap_security is ImapSecurity.STARTTLS
    assert settings.imap_batch_size == 50
    assert str(settings.site_dir) == "/srv/ogp/site"
    assert settings.broker_url == "redis://127.0.0.1:6379/3"
    assert settings.imap_configured
    assert settings.effective_imap_port == 143


def test_variables_without_the_prefix_are_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://elsewhere/db")
    monkeypatch.setenv("SECRET_KEY", "changeme")
    settings = Settings()
    assert settings.database_url == "sqlite:///ogp-feedback.db"


def test_empty_broker_url_means_no_broker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OGP_BROKER_URL", "")
    assert Settings(secret_key=GOOD_SECRET).broker_url is None


@pytest.mark.parametrize(
    "url",
    ["postgres://ogp:pw@db:5432/ogp", "postgresql://ogp:pw@db:5432/ogp",
     "postgresql+psycopg2://ogp:pw@db:5432/ogp"],
)
def test_postgres_urls_are_normalised_to_psycopg3(url: str) -> None:
    settings = Settings(database_url=url, secret_key=GOOD_SECRET)
    assert settings.database_url == "postgresql+psycopg://ogp:pw@db:5432/ogp"
    assert not settings.is_sqlite


def test_postgres_url_from_environment_is_normalised(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OGP_DATABASE_URL", "postgres://ogp@db/ogp")
    assert load_settings(secret_key=GOOD_SECRET).database_url == "postgresql+psycopg://ogp@db/ogp"


@pytest.mark.parametrize("url", ["mysql://ogp@db/ogp", "ogp.db", "postgresql+asyncpg://db/ogp"])
def test_unknown_database_scheme_is_refused(url: str) -> None:
    with pytest.raises(ValidationError, match="OGP_DATABASE_URL must be an sqlite"):
        Settings(database_url=url, secret_key=GOOD_SECRET)


@pytest.mark.parametrize("secret", ["changeme", "CHANGEME", " change-me ", "secret"])
def test_placeholder_secret_is_refused(secret: str) -> None:
    with pytest.raises(ValidationError, match="placeholder"):
        Settings(secret_key=secret)


def test_placeholder_secret_from_environment_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OGP_SECRET_KEY", "changeme")
    with pytest.raises(ValueError, match="OGP_SECRET_KEY is a placeholder"):
        load_settings()


def test_short_secret_is_refused() -> None:
    with pytest.raises(ValidationError, match="at least 16 characters"):
        Settings(secret_key="tooshort-123")


def test_production_without_secret_is_refused() -> None:
    with pytest.raises(ValidationError, match="OGP_SECRET_KEY must be set in production"):
        Settings(environment="production", cookie_secure=True)


def test_production_needs_secure_cookies() -> None:
    with pytest.raises(ValidationError, match="OGP_COOKIE_SECURE"):
        Settings(environment="production", secret_key=GOOD_SECRET)


def test_production_with_secret_and_secure_cookies_is_accepted() -> None:
    settings = Settings(environment="production", secret_key=GOOD_SECRET, cookie_secure=True,
                        receipts=False, decision_notices=False, response_notices=False)
    assert settings.environment is Environment.PRODUCTION
    assert settings.secret_key == GOOD_SECRET


def test_development_without_secret_gets_a_random_one() -> None:
    first, second = Settings(), Settings()
    assert len(first.secret_key) >= 32
    assert first.secret_key != second.secret_key


@pytest.mark.parametrize(
    ("value", "expected", "port"),
    [("tls", ImapSecurity.TLS, 993), ("starttls", ImapSecurity.STARTTLS, 143),
     ("none", ImapSecurity.NONE, 143)],
)
def test_imap_security_accepts_the_three_modes(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: ImapSecurity, port: int
) -> None:
    monkeypatch.setenv("OGP_IMAP_SECURITY", value)
    settings = load_settings(secret_key=GOOD_SECRET)
    assert settings.imap_security is expected
    assert settings.effective_imap_port == port


@pytest.mark.parametrize("value", ["ssl", "TLS", "plain", "", "starttls "])
def test_imap_security_refuses_anything_else(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("OGP_IMAP_SECURITY", value)
    with pytest.raises(ValidationError, match="imap_security"):
        load_settings(secret_key=GOOD_SECRET)


def test_imap_port_out_of_range_is_refused() -> None:
    with pytest.raises(ValidationError, match="imap_port"):
        Settings(secret_key=GOOD_SECRET, imap_port=70000)


def test_production_decision_notices_need_an_smtp_sender() -> None:
    with pytest.raises(ValidationError, match="decision notices in production need "
                                              "OGP_MAIL_SENDER=smtp"):
        Settings(environment="production", secret_key=GOOD_SECRET, cookie_secure=True,
                 receipts=False, response_notices=False)
    assert Settings(decision_notices=None).decision_notices_enabled is False


def test_time_zone_and_digest_recipients_are_checked() -> None:
    with pytest.raises(ValidationError, match="OGP_TIME_ZONE 'Mars/Olympus' is not a time zone"):
        Settings(time_zone="Mars/Olympus")
    with pytest.raises(ValidationError, match="OGP_DIGEST_RECIPIENTS"):
        Settings(digest_recipients="sekretariati@example.al, Bad <x@y>")
    settings = Settings(digest_recipients=" a@example.al, b@example.al ,")
    assert settings.digest_recipient_list == ["a@example.al", "b@example.al"]


@pytest.mark.parametrize("token", ["short-token", "changeme", "secret"])
def test_a_weak_ops_token_is_refused(token: str) -> None:
    with pytest.raises(ValidationError, match="OGP_OPS_TOKEN must be at least 16"):
        Settings(secret_key=GOOD_SECRET, ops_token=token)
    assert Settings(secret_key=GOOD_SECRET, ops_token="x" * 16).ops_token == "x" * 16


@pytest.mark.parametrize(("name", "value"), [("form_min_seconds", -1),
                                              ("form_client_limit_per_hour", 0),
                                              ("form_global_limit_per_minute", 0)])
def test_contact_form_limits_must_be_sensible(name: str, value: int) -> None:
    with pytest.raises(ValidationError, match=name):
        load_settings(secret_key=GOOD_SECRET, **{name: value})
