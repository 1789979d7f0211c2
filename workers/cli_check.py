"""``ogp-feedback check``: can this configuration run? One line a check, in plain words.

The settings were already validated when the command started (a bad value stops every
command with the variable's name); this adds what only a real connection shows: the
database answers and is migrated, the broker answers and will not evict tasks, the inbox
accepts the login and has its folder, the relay accepts the login, and the site folder
can be published into. It only reads and logs in: it never sends mail, moves a message
or changes a row. The exit status is 0 when nothing is wrong, 1 otherwise.
"""

from __future__ import annotations

import argparse
import imaplib
import os
import smtplib
import socket
import ssl
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from config.settings import Environment, MailSender, Settings, load_settings
from moderation.db import schema_is_current

if TYPE_CHECKING:
    from workers.runtime import Runtime

CONNECT_TIMEOUT_SECONDS = 10


class Outcome(StrEnum):
    OK = "ok"
    PROBLEM = "PROBLEM"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class Finding:
    check: str
    outcome: Outcome
    detail: str


def _ok(check: str, detail: str) -> Finding:
    return Finding(check, Outcome.OK, detail)


def _problem(check: str, detail: str) -> Finding:
    return Finding(check, Outcome.PROBLEM, detail)


def _skipped(check: str, detail: str) -> Finding:
    return Finding(check, Outcome.SKIPPED, detail)


def _first_line(error: BaseException) -> str:
    words = str(error).strip().splitlines()
    return words[0] if words else type(error).__name__


def _text(reply: bytes | str) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else reply


def describe(error: BaseException, where: str, timeout: float) -> str:
    """What went wrong reaching ``where`` (host:port), as an operator would say it."""
    if isinstance(error, socket.gaierror):
        return f"the host name in {where} is not known (DNS): check the host"
    if isinstance(error, ConnectionRefusedError):
        return f"nothing answers at {where}: is the service running, and is the port right?"
    if isinstance(error, TimeoutError | socket.timeout):
        return f"no answer from {where} within {timeout:g} s (a firewall, or the wrong port?)"
    if isinstance(error, ssl.SSLCertVerificationError):
        return (f"the TLS certificate of {where} could not be verified "
                f"({error.verify_message}); give its CA bundle in the *_CAFILE setting")
    if isinstance(error, ssl.SSLError):
        return (f"TLS with {where} failed ({_first_line(error)}): does the security setting "
                "(tls, starttls) match the port?")
    if isinstance(error, OSError):
        return f"cannot reach {where}: {error.strerror or _first_line(error)}"
    return _first_line(error)


EXAMPLE_MARK = "replace-me"  # every secret in .env.example carries it


def check_secrets(settings: Settings) -> Finding:
    password = make_url(settings.database_url).password
    left = [name for name, value in (("OGP_SECRET_KEY", settings.secret_key),
                                     ("the database password (POSTGRES_PASSWORD)", password),
                                     ("OGP_IMAP_PASSWORD", settings.imap_password),
                                     ("OGP_SMTP_PASSWORD", settings.smtp_password))
            if value and EXAMPLE_MARK in str(value)]
    if left:
        verb = "is" if len(left) == 1 else "are"
        return _problem("secrets", f"{', '.join(left)} {verb} still the example value from "
                                   ".env.example: set your own (openssl rand -base64 32)")
    return _ok("secrets", "none is an example value")


def check_site(settings: Settings) -> Finding:
    site = Path(settings.site_dir).absolute()
    # publish writes a new tree beside the site folder and swaps it in: it needs the
    # parent folder, never the site folder itself (which may be a volume's mount point).
    parent = site.parent
    if not parent.is_dir():
        return _problem("site", f"{parent} (the folder OGP_SITE_DIR={site} is published into) "
                                "does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        return _problem("site", f"{parent} is not writable by this user (uid {os.getuid()}); "
                                f"publish cannot write OGP_SITE_DIR={site}")
    return _ok("site", f"publish can write {site}")


def check_database(settings: Settings) -> Finding:
    url = make_url(settings.database_url)
    safe = url.render_as_string(hide_password=True)
    if settings.is_sqlite and url.database and not Path(url.database).is_file():
        # Connecting would create an empty file; say what is missing instead.
        return _problem("database", f"{safe}: no such file; run 'ogp-feedback init'")
    connect_args = {} if settings.is_sqlite else {"connect_timeout": CONNECT_TIMEOUT_SECONDS}
    engine = create_engine(url, connect_args=connect_args)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        if not schema_is_current(engine):
            return _problem("database", f"{safe} answers but is not initialised or is out of "
                                        "date: run 'ogp-feedback init'")
    except SQLAlchemyError as error:
        cause = getattr(error, "orig", None)
        words = _first_line(cause if isinstance(cause, BaseException) else error)
        return _problem("database", f"cannot use {safe}: {words}")
    finally:
        engine.dispose()
    return _ok("database", f"{safe} answers; schema up to date")


def check_broker(settings: Settings) -> Finding:
    import redis

    if not settings.broker_url:
        if settings.environment is Environment.PRODUCTION:
            return _problem("broker", "OGP_BROKER_URL is not set: workers get no tasks; set it "
                                      "to redis://HOST:6379/0")
        return _skipped("broker", "OGP_BROKER_URL is not set: messages are processed "
                                  "in-process (fine for a demo)")
    parts = urlsplit(settings.broker_url)
    where = f"{parts.hostname}:{parts.port or 6379}" if parts.hostname else parts.path
    client = redis.Redis.from_url(settings.broker_url, socket_timeout=CONNECT_TIMEOUT_SECONDS,
                                  socket_connect_timeout=CONNECT_TIMEOUT_SECONDS)
    try:
        client.ping()
        try:
            policy = str(client.config_get("maxmemory-policy").get("maxmemory-policy", ""))
        except redis.ResponseError:
            return _ok("broker", f"Redis at {where} answers (its maxmemory-policy cannot be "
                                 "read here: make sure it is noeviction)")
    except redis.AuthenticationError:
        return _problem("broker", f"Redis at {where} refused the password in OGP_BROKER_URL")
    except redis.ConnectionError as error:
        cause = error.__context__ or error
        return _problem("broker", describe(cause, where, CONNECT_TIMEOUT_SECONDS)
                        if isinstance(cause, OSError) else f"cannot reach Redis at {where}: "
                        f"{_first_line(error)}")
    except redis.RedisError as error:
        return _problem("broker", f"Redis at {where}: {_first_line(error)}")
    finally:
        client.close()
    if policy and policy != "noeviction":
        return _problem("broker", f"Redis at {where} has maxmemory-policy {policy}: when it "
                                  "fills up it may silently drop queued tasks; set noeviction")
    return _ok("broker", f"Redis at {where} answers; maxmemory-policy {policy or 'noeviction'}")


def check_imap(settings: Settings) -> Finding:
    from intake.imap import connect

    if not settings.imap_configured:
        detail = "OGP_IMAP_HOST, OGP_IMAP_USER and OGP_IMAP_PASSWORD are not all set: " \
                 "poll cannot read the inbox"
        return (_problem if settings.environment is Environment.PRODUCTION else _skipped)(
            "imap", detail)
    where = f"{settings.imap_host}:{settings.effective_imap_port}"
    timeout = settings.imap_timeout_seconds
    stage = "connect"
    try:
        with connect(settings) as client:
            stage = "folder"
            folder = client.select_folder(settings.imap_mailbox, readonly=True)
            count = int(folder.get(b"EXISTS", 0))
    except imaplib.IMAP4.error as error:  # the server's own answer (imapclient's errors too)
        if stage == "folder":
            return _problem("imap", f"logged in to {where}, but the folder "
                                    f"OGP_IMAP_MAILBOX={settings.imap_mailbox!r} cannot be "
                                    f"opened: {_first_line(error)}")
        return _problem("imap", f"{where} refused the login of {settings.imap_user}: "
                                f"{_first_line(error)} (check OGP_IMAP_USER and "
                                "OGP_IMAP_PASSWORD; many providers need an app password)")
    except OSError as error:
        return _problem("imap", describe(error, where, timeout))
    return _ok("imap", f"logged in to {where} ({settings.imap_security.value}) as "
                       f"{settings.imap_user}; {settings.imap_mailbox} holds {count} message(s)")


def check_smtp(settings: Settings) -> Finding:
    from workers.mail import SmtpSender

    if settings.mail_sender is not MailSender.SMTP:
        detail = "OGP_MAIL_SENDER=console: mail is logged, never sent"
        return (_problem if settings.environment is Environment.PRODUCTION else _skipped)(
            "smtp", detail)
    where = f"{settings.smtp_host}:{settings.effective_smtp_port}"
    try:
        SmtpSender(settings).verify()
    except smtplib.SMTPAuthenticationError as error:
        return _problem("smtp", f"{where} refused the login of {settings.smtp_user}: "
                                f"{error.smtp_code} {_text(error.smtp_error)} "
                                "(check OGP_SMTP_USER and OGP_SMTP_PASSWORD)")
    except smtplib.SMTPNotSupportedError as error:
        return _problem("smtp", f"{where}: {_first_line(error)} (does OGP_SMTP_SECURITY match "
                                "what the relay offers?)")
    except smtplib.SMTPResponseException as error:
        return _problem("smtp", f"{where} answered {error.smtp_code} "
                                f"{_text(error.smtp_error)}")
    except smtplib.SMTPException as error:
        return _problem("smtp", f"{where}: {_first_line(error)}")
    except OSError as error:
        return _problem("smtp", describe(error, where, settings.smtp_timeout_seconds))
    login = f" as {settings.smtp_user}" if settings.smtp_user else " (no login)"
    return _ok("smtp", f"relay {where} ({settings.smtp_security.value}) accepted us{login}; "
                       "nothing was sent")


CHECKS: dict[str, Callable[[Settings], Finding]] = {
    "secrets": check_secrets,
    "site": check_site,
    "database": check_database,
    "broker": check_broker,
    "imap": check_imap,
    "smtp": check_smtp,
}


def run_checks(settings: Settings, names: list[str] | None = None) -> list[Finding]:
    return [CHECKS[name](settings) for name in (names or list(CHECKS))]


def report(settings: Settings, only: list[str] | None) -> int:
    print(f"{'ok':<8} {'settings':<9} valid ({settings.environment.value})")
    findings = run_checks(settings, only)
    for finding in findings:
        print(f"{finding.outcome.value:<8} {finding.check:<9} {finding.detail}", flush=True)
    problems = [f.check for f in findings if f.outcome is Outcome.PROBLEM]
    if problems:
        print(f"{len(problems)} problem(s): {', '.join(problems)}")
        return 1
    print("everything checked is ready")
    return 0


def cmd_check(runtime: Runtime, args: argparse.Namespace) -> int:
    return report(runtime.settings, args.only)


def add_check_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("--only", action="append", choices=list(CHECKS), metavar="CHECK",
                        help=f"run only this check (repeatable): {', '.join(CHECKS)}")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m workers.cli_check``: the same checks without loading the whole command
    line (the classifier, the web app); the stack's healthchecks run it every 30 s."""
    parser = add_check_arguments(argparse.ArgumentParser(prog="python -m workers.cli_check"))
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except ValueError as error:  # pydantic's ValidationError; `ogp-feedback check` says more
        print(f"settings: {error.__class__.__name__}: run 'ogp-feedback check' for details",
              file=sys.stderr)
        return 2
    return report(settings, args.only)


if __name__ == "__main__":
    sys.exit(main())
