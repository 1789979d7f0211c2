"""The one typed settings object, read from ``OGP_*`` environment variables.

Every process (CLI, web, worker, poller) builds one ``Settings`` and passes it
into factories; nothing deep in the code reads the environment itself.
"""

from __future__ import annotations

import secrets
from enum import StrEnum
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


def is_redis_url(url: str | None) -> bool:
    return bool(url) and str(url).startswith(REDIS_SCHEMES)


PLACEHOLDER_SECRETS = frozenset({"changeme", "change-me", "changethis", "secret", "please-change"})


class ImapSecurity(StrEnum):
    TLS = "tls"
    STARTTLS = "starttls"
    NONE = "none"


class SmtpSecurity(StrEnum):
    TLS = "tls"
    STARTTLS = "starttls"
    NONE = "none"


class MailSender(StrEnum):
    SMTP = "smtp"
    CONSOLE = "console"


class LogFormat(StrEnum):
    JSON = "json"
    TEXT = "text"


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OGP_", extra="ignore")

    environment: Environment = Environment.DEVELOPMENT
    database_url: str = "sqlite:///ogp-feedback.db"
    broker_url: str | None = None
    celery_queue: str = Field(default="ogp-feedback", pattern=r"^[A-Za-z0-9_.\-]+$")

    imap_host: str | None = None
    imap_port: int | None = Field(default=None, ge=1, le=65535)
    imap_user: str | None = None
    imap_password: str | None = None
    imap_security: ImapSecurity = ImapSecurity.TLS
    imap_cafile: Path | None = None
    imap_mailbox: str = "INBOX"
    imap_processed: str = "Processed"
    imap_batch_size: int = Field(default=200, ge=1, le=5000)
    imap_timeout_seconds: float = Field(default=30.0, gt=0)
    poll_interval_seconds: float = Field(default=60.0, gt=0)
    # Reconnects back off exponentially (with jitter) from 1 s up to this.
    imap_reconnect_max_seconds: float = Field(default=300.0, ge=1)
    # One active poller per mailbox: a Redis lock, on OGP_LOCK_URL or else on
    # the broker when that is Redis (no lock without Redis, as in the demo).
    lock_url: str | None = None
    lock_ttl_seconds: float = Field(default=60.0, ge=1)

    # Limits checked before a message is parsed; a message over one is stored
    # and quarantined with a reason that names the limit.
    max_message_bytes: int = Field(default=25 * 1024 * 1024, gt=0)
    max_header_bytes: int = Field(default=64 * 1024, gt=0)
    max_mime_depth: int = Field(default=20, gt=0)
    max_mime_parts: int = Field(default=200, gt=0)
    max_encoded_words: int = Field(default=500, gt=0)
    max_text_chars: int = Field(default=200_000, gt=0)
    parse_time_limit_seconds: float = Field(default=20.0, gt=0)

    smtp_host: str | None = None
    smtp_port: int | None = Field(default=None, ge=1, le=65535)
    smtp_security: SmtpSecurity = SmtpSecurity.STARTTLS
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_cafile: Path | None = None
    smtp_timeout_seconds: float = Field(default=30.0, gt=0)
    mail_from: str = "feedback@localhost"
    mail_sender: MailSender = MailSender.CONSOLE
    receipts: bool = True

    form_rate_limit_per_hour: int = Field(default=5, ge=1)
    form_max_chars: int = Field(default=20_000, gt=0)
    # The contact form under a flood: accepted submissions per client address (IP) an
    # hour, and from everyone together a minute. A typed address is free to change, a
    # client address much less so.
    form_client_limit_per_hour: int = Field(default=20, ge=1)
    form_global_limit_per_minute: int = Field(default=60, ge=1)
    # A submission sent sooner than this after its form was served is refused: nobody
    # writes a comment that fast, a script does. 0 turns the check off.
    form_min_seconds: float = Field(default=3.0, ge=0, le=600)

    # Reliability: the database is the truth, the broker only triggers work.
    max_attempts: int = Field(default=5, ge=1, le=100)
    # Messages per processing task: one claim and one commit for the whole batch.
    process_batch_size: int = Field(default=50, ge=1, le=500)
    retry_backoff_seconds: float = Field(default=5.0, gt=0, le=600)
    sweep_after_seconds: float = Field(default=300.0, gt=0)
    backpressure_max_unprocessed: int = Field(default=2000, ge=1)

    site_dir: Path = Path("site")
    # Where the published site links citizens to the contact form; change it
    # when the site is served from another host than the web UI.
    contact_url: str = "/contact"
    secret_key: str = ""
    session_max_age_seconds: int = Field(default=8 * 3600, gt=0)
    # A staff session unused this long ends (the user logs in again).
    session_idle_seconds: int = Field(default=30 * 60, gt=0)
    cookie_secure: bool = False

    # Moderation: how long opening a comment holds it for the moderator, and how
    # long a decision can be taken back (a rejection notice waits that long).
    claim_seconds: int = Field(default=300, gt=0, le=3600)
    undo_seconds: int = Field(default=600, ge=0, le=86400)
    # One notice per comment to the citizen: rejected (with the reason) or published
    # (with the link). Default: on in production, off in development.
    decision_notices: bool | None = None
    # One notice per comment when the secretariat answers it (bilingual, RFC 3834).
    # Default: on in production, off in development.
    response_notices: bool | None = None
    # Digests and dates on the command line are in the consultation's time zone.
    time_zone: str = "Europe/Tirane"
    # Raw bytes (and so attachments) of processed messages are deleted after this many
    # days; the comment and its metadata stay.
    raw_retention_days: int = Field(default=180, ge=1)
    # How long a contact-form address confirmation link stays valid.
    confirmation_hours: int = Field(default=72, ge=1)
    # Comma-separated addresses that `ogp-feedback digest --send` mails the digest to.
    digest_recipients: str = ""
    # Where the public site is served, for the links in notices.
    public_site_url: str = "http://127.0.0.1:8000/site/"
    # After an approval the site is republished by a task once the undo window has
    # passed; approvals within this many seconds of each other share one publish.
    publish_debounce_seconds: int = Field(default=10, ge=0, le=3600)
    # `ogp-feedback publisher` also republishes on this schedule (catching edits,
    # redactions, responses and withdrawals); 0: only after approvals.
    publish_interval_seconds: int = Field(default=900, ge=0)
    # Where the moderation UI (and so the contact form) is served, for the address
    # confirmation link a contact-form submitter is mailed.
    ui_url: str = "http://127.0.0.1:8000"

    # Staff login throttling: failed attempts allowed per minute, per account and
    # per client address; counted in Redis when OGP_LOCK_URL or a Redis broker is
    # set (shared by every web process), else in the process.
    login_attempts_per_account: int = Field(default=10, ge=1)
    login_attempts_per_address: int = Field(default=30, ge=1)
    # Shows /readyz's details and /metrics to a client that is not on loopback (Prometheus
    # sends it as a bearer token); unset: loopback only.
    ops_token: str = ""

    log_format: LogFormat = Field(
        default=LogFormat.JSON,
        description="OGP_LOG_FORMAT: 'json' (default) writes one JSON object per line on "
        "stderr (ts, level, logger, message, inbound_id, exc_info) for a log collector; "
        "'text' writes plain lines for a person at a terminal. Both redact e-mail addresses.",
    )
    # Classifier: a comment classified with less confidence than this is flagged
    # low-confidence (the queue filters on it) rather than trusted.
    classifier_low_confidence: float = Field(default=0.5, ge=0.0, le=1.0)
    # Campaigns: a comment joins a campaign when at least this share of the shorter text's
    # word triples is in the campaign's text; a group is shown as a campaign from this size.
    campaign_threshold: float = Field(default=0.6, gt=0.0, le=1.0)
    campaign_min_size: int = Field(default=3, ge=2)

    @field_validator("database_url")
    @classmethod
    def _normalise_database_url(cls, value: str) -> str:
        # Operators paste URLs from PostgreSQL docs; we drive psycopg 3.
        for prefix in ("postgres://", "postgresql://", "postgresql+psycopg2://"):
            if value.startswith(prefix):
                return "postgresql+psycopg://" + value[len(prefix) :]
        if not value.startswith(("sqlite:", "postgresql+psycopg:")):
            raise ValueError("OGP_DATABASE_URL must be an sqlite:/// or postgresql:// URL")
        return value

    @field_validator("broker_url")
    @classmethod
    def _empty_broker_is_none(cls, value: str | None) -> str | None:
        return value or None

    @model_validator(mode="after")
    def _refuse_placeholders(self) -> Settings:
        if self.secret_key.strip().lower() in PLACEHOLDER_SECRETS:
            raise ValueError("OGP_SECRET_KEY is a placeholder; set a long random value")
        if not self.secret_key:
            if self.environment is Environment.PRODUCTION:
                raise ValueError("OGP_SECRET_KEY must be set in production")
            # Development only: sessions live in the database, so a per-process
            # key costs nothing but re-signing CSRF tokens after a restart.
            self.secret_key = secrets.token_urlsafe(32)
        elif len(self.secret_key) < 16:
            raise ValueError("OGP_SECRET_KEY must be at least 16 characters")
        if self.ops_token and (self.ops_token.strip().lower() in PLACEHOLDER_SECRETS
                               or len(self.ops_token) < 16):
            raise ValueError("OGP_OPS_TOKEN must be at least 16 random characters, or unset")
        if self.environment is Environment.PRODUCTION and not self.cookie_secure:
            raise ValueError("OGP_COOKIE_SECURE must be true in production (HTTPS only)")
        if "@" not in self.mail_from or any(ch in self.mail_from for ch in "\r\n<>,; "):
            raise ValueError("OGP_MAIL_FROM must be one plain address such as feedback@example.al")
        if self.mail_sender is MailSender.SMTP and not self.smtp_host:
            raise ValueError("OGP_MAIL_SENDER=smtp needs OGP_SMTP_HOST")
        try:
            ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"OGP_TIME_ZONE {self.time_zone!r} is not a time zone name "
                             "such as Europe/Tirane") from None
        for address in self.digest_recipient_list:
            if "@" not in address or any(ch in address for ch in "\r\n<>;\" "):
                raise ValueError(f"OGP_DIGEST_RECIPIENTS: {address!r} is not a plain address")
        if (self.environment is Environment.PRODUCTION and self.response_notices_enabled
                and self.mail_sender is not MailSender.SMTP):
            raise ValueError("response notices in production need OGP_MAIL_SENDER=smtp "
                             "(or OGP_RESPONSE_NOTICES=false)")
        if not self.public_site_url.startswith(("http://", "https://")):
            raise ValueError("OGP_PUBLIC_SITE_URL must be an http:// or https:// address")
        if not self.public_site_url.endswith("/"):
            self.public_site_url += "/"
        if not self.ui_url.startswith(("http://", "https://")):
            raise ValueError("OGP_UI_URL must be an http:// or https:// address")
        self.ui_url = self.ui_url.rstrip("/")
        if (self.environment is Environment.PRODUCTION and self.decision_notices_enabled
                and self.mail_sender is not MailSender.SMTP):
            raise ValueError("decision notices in production need OGP_MAIL_SENDER=smtp "
                             "(or OGP_DECISION_NOTICES=false)")
        if (self.environment is Environment.PRODUCTION and self.receipts
                and self.mail_sender is not MailSender.SMTP):
            raise ValueError("receipts in production need OGP_MAIL_SENDER=smtp "
                             "(or OGP_RECEIPTS=false)")
        return self

    @property
    def response_notices_enabled(self) -> bool:
        if self.response_notices is not None:
            return self.response_notices
        return self.environment is Environment.PRODUCTION

    @property
    def digest_recipient_list(self) -> list[str]:
        return [part.strip() for part in self.digest_recipients.split(",") if part.strip()]

    @property
    def decision_notices_enabled(self) -> bool:
        if self.decision_notices is not None:
            return self.decision_notices
        return self.environment is Environment.PRODUCTION

    @property
    def redis_url(self) -> str | None:
        """Redis for the poller lock and the login counters: ``OGP_LOCK_URL``, else the
        broker when it is Redis; ``None`` without Redis (the demo)."""
        if is_redis_url(self.lock_url):
            return self.lock_url
        if is_redis_url(self.broker_url):
            return self.broker_url
        return None

    @property
    def imap_configured(self) -> bool:
        return bool(self.imap_host and self.imap_user and self.imap_password is not None)

    @property
    def effective_imap_port(self) -> int:
        if self.imap_port:
            return self.imap_port
        return 993 if self.imap_security is ImapSecurity.TLS else 143

    @property
    def effective_smtp_port(self) -> int:
        if self.smtp_port:
            return self.smtp_port
        return {SmtpSecurity.TLS: 465, SmtpSecurity.STARTTLS: 587, SmtpSecurity.NONE: 25}[
            self.smtp_security
        ]

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def load_settings(**overrides: object) -> Settings:
    """Read the environment; raise a ``ValueError`` naming the bad variable."""
    return Settings(**overrides)  # type: ignore[arg-type]
