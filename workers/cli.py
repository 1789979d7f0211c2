"""``ogp-feedback``: the one console script; each subcommand is a thin adapter."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlmodel import Session, select

from config.settings import Settings, load_settings
from moderation.catalogue_sync import sync_catalogue
from moderation.db import migrate, schema_is_current, session_scope
from moderation.models import RejectCode, ResponseOutcome, User
from moderation.queries import INBOUND_STATUS_CHOICES, inbound_outcomes, list_inbound
from moderation.queue import STATUS_CHOICES
from moderation.transitions import (
    NoticePolicy,
    TransitionError,
    approve,
    reject,
    release_inbound,
    reprocess_inbound,
)
from moderation.users import UserError
from workers.cli_campaigns import CampaignError, add_campaigns_parser, decide_campaign
from workers.cli_campaigns import cmd_campaigns as campaigns_command
from workers.cli_check import add_check_arguments, cmd_check
from workers.cli_classifier import add_classifier_parsers
from workers.cli_users import USERS_COMMANDS, add_users_parser
from workers.runtime import Runtime

log = logging.getLogger("ogp_feedback")


class CliError(Exception):
    """Printed as ``ogp-feedback: <message>`` with exit status 2."""


def _runtime(settings: Settings) -> Runtime:
    return Runtime(settings)


def cmd_init(runtime: Runtime, _args: argparse.Namespace) -> int:
    migrate(runtime.settings.database_url)
    with session_scope(runtime.engine) as session:
        sync_catalogue(session, runtime.catalogue)
    print(f"database ready: {_safe_url(runtime.settings.database_url)}; "
          f"catalogue: {len(runtime.catalogue.commitments)} commitments + general")
    return 0


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def cmd_poll(runtime: Runtime, args: argparse.Namespace) -> int:
    from intake.imap import ImapConfigError, ImapPoller, LockLostError
    from intake.lock import LockConfigError, LockUnavailableError, mailbox_lock
    from workers.sweeper import run_periodically

    settings = runtime.settings
    poller = ImapPoller(settings, runtime.engine, runtime.enqueue)
    poller.on_stages = runtime.stage_metrics.record
    # SIGTERM/SIGINT ask the poller to stop between batches (and within about
    # a second while idling); the lock is then released for the next poller.
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    try:
        lock = mailbox_lock(settings)
        if args.once:
            result = poller.poll_once(stop) if lock is None else poller.poll_once_locked(lock, stop)
            if result is None:
                print(f"another poller holds the lock for {settings.imap_mailbox}; nothing done")
                return 0
            print(f"polled {settings.imap_mailbox}: stored {result.stored}, "
                  f"duplicates {result.duplicates}, moved {result.moved}"
                  + (f"; {result.deferred} left on the server (backpressure)"
                     if result.deferred else ""))
            return 0
        print(f"polling {settings.imap_mailbox} on {settings.imap_host} (Ctrl-C to stop)",
              flush=True)
        # One sweeper per deployment: it lives beside the one active poller.
        run_periodically(runtime.engine, settings.sweep_after_seconds, runtime.enqueue,
                         runtime.send_receipts, stop, send_notices=runtime.send_notices,
                         retention_days=settings.raw_retention_days,
                         send_confirmation=runtime.send_confirmation)
        poller.run_forever(stop, lock)
        return 0
    except (ImapConfigError, LockConfigError, LockUnavailableError) as error:
        raise CliError(str(error)) from error
    except LockLostError as error:
        raise CliError(f"lost the poller lock for {settings.imap_mailbox} during the poll; "
                       "stopped (what was stored is safe; run again)") from error


def cmd_import(runtime: Runtime, args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from intake.importer import MailboxPathError, count_messages, import_paths

    paths = [Path(p) for p in args.paths]
    for path in paths:
        if not path.exists():
            raise CliError(f"{path}: no such file or directory")
    with tqdm(total=count_messages(paths), unit="msg", desc="import", disable=args.quiet,
              file=sys.stderr) as bar:
        try:
            summary = import_paths(runtime.engine, paths, runtime.enqueue, on_message=bar.update)
        except MailboxPathError as error:
            raise CliError(str(error)) from error
    with session_scope(runtime.engine) as session:
        outcomes = inbound_outcomes(session, summary.inbound_ids)
    described = ", ".join(f"{count} {status}" for status, count in sorted(outcomes.items()))
    print(f"imported {summary.total} messages: {summary.stored} stored, "
          f"{summary.duplicates} already present"
          + (f"; outcomes: {described}" if described else ""))
    return 0


def cmd_worker(runtime: Runtime, args: argparse.Namespace) -> int:
    if not runtime.settings.broker_url:
        raise CliError("OGP_BROKER_URL is not set; without a broker, messages are processed "
                       "in-process by poll and import, and no worker is needed")
    argv = ["worker", f"--loglevel={args.loglevel}", f"--concurrency={args.concurrency}",
            "--without-gossip", "--without-mingle"]
    runtime.celery.worker_main(argv=argv)
    return 0


QUEUE_OPTIONS = ("status", "commitment", "component", "language", "channel", "q", "sort",
                 "after", "before", "limit", "low_confidence")


def cmd_queue(runtime: Runtime, args: argparse.Namespace) -> int:
    from moderation.queue import QueueError, fetch_queue, parse_queue_query

    try:
        query = parse_queue_query({name: getattr(args, name) for name in QUEUE_OPTIONS},
                                  runtime.catalogue)
    except QueueError as error:
        raise CliError(str(error)) from error
    with session_scope(runtime.engine) as session:
        page = fetch_queue(session, query, with_counts=False,
                           campaign_min_size=runtime.settings.campaign_min_size)
    items = page.items
    if args.json:
        json.dump(items, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        if page.next:  # stdout stays one JSON list; the way on goes to stderr
            print(f"next: --after {page.next}", file=sys.stderr)
        return 0
    if not items:
        print(f"no {args.status} comments" if args.status != "all" else "no comments")
        return 0
    for item in items:
        labels = ",".join(item["commitments"])
        print(f"{item['id']:>6}  {item['status']:<9}  {item['language']:<5}  "
              f"[{labels}]  {item['subject'][:70]}")
    print(f"{len(items)} comment(s)")
    if page.next:
        print(f"next page: the same options and --after {page.next}")
    return 0


def cmd_inbound(runtime: Runtime, args: argparse.Namespace) -> int:
    with session_scope(runtime.engine) as session:
        items = list_inbound(session, args.status)
    if args.json:
        json.dump(items, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return 0
    for item in items:
        print(f"{item['id']:>6}  {item['status']:<11}  {item['source']:<6}  {item['size']:>9}  "
              f"{item['reason'] or ''}")
    print(f"{len(items)} inbound message(s)")
    return 0


def _resubmit(runtime: Runtime, args: argparse.Namespace,
              transition: Callable[[Session, int, str], object], done: str) -> int:
    """Apply a status change to each id in its own transaction, then enqueue it."""
    # An operator at the console may retry without an account; a named user must exist.
    actor = "cli" if args.actor is None else _require_user(runtime, args.actor, args.command)
    failures = 0
    for inbound_id in args.ids:
        try:
            with session_scope(runtime.engine) as session:
                transition(session, inbound_id, actor)
        except TransitionError as error:
            failures += 1
            print(f"{inbound_id}: {error}", file=sys.stderr)
            continue
        runtime.enqueue([inbound_id])  # after the commit above
        print(f"{inbound_id}: {done}")
    return 1 if failures else 0


def cmd_reprocess(runtime: Runtime, args: argparse.Namespace) -> int:
    return _resubmit(runtime, args, reprocess_inbound, "sent for processing again")


def cmd_sweep(runtime: Runtime, args: argparse.Namespace) -> int:
    from workers.sweeper import sweep

    older = args.older_than if args.older_than is not None else runtime.settings.sweep_after_seconds
    report = sweep(runtime.engine, older, runtime.enqueue, runtime.send_receipts,
                   runtime.send_notices, runtime.send_confirmation)
    print(f"swept: {report.inbound} messages and {report.receipts} receipts handed on again"
          + (f"; {report.notices} decision notices due" if report.notices else "")
          + (f"; {report.confirmations} address confirmations sent again"
             if report.confirmations else ""))
    return 0


def cmd_release(runtime: Runtime, args: argparse.Namespace) -> int:
    return _resubmit(runtime, args, release_inbound, "released into processing")


def _require_user(runtime: Runtime, name: str, command: str | None = None) -> str:
    """The named user must exist, be active and hold a role the command allows."""
    from moderation.access import COMMAND_ROLES, allows

    with session_scope(runtime.engine) as session:
        user = session.exec(select(User).where(User.name == name)).first()
        if user is None or not user.active:
            raise CliError(f"no active user {name!r}; add one with 'ogp-feedback users add'")
        required = COMMAND_ROLES.get(command or "")
        if required is not None and not allows(required, user.role):
            raise CliError(f"{name} is a {user.role}; '{command}' needs the role "
                           f"{' or '.join(sorted(r.value for r in required))}")
    return name


def _decide(runtime: Runtime, ids: Sequence[int], actor: str,
            decide: Callable[[Session, int], object], done: str) -> int:
    failures = 0
    for comment_id in ids:
        try:
            with session_scope(runtime.engine) as session:
                decide(session, comment_id)
            print(f"{comment_id}: {done}")
        except TransitionError as error:
            failures += 1
            print(f"{comment_id}: {error}", file=sys.stderr)
    return 1 if failures else 0


def _campaign_or_ids(args: argparse.Namespace) -> int | None:
    """``--campaign ID`` or comment ids, not both, not neither."""
    if args.campaign is not None and args.ids:
        raise CliError("give comment ids or --campaign ID, not both")
    if args.campaign is None and not args.ids:
        raise CliError("give the comment ids, or --campaign ID for every undecided comment "
                       "of a campaign")
    return args.campaign  # type: ignore[no-any-return]


def _decide_campaign(runtime: Runtime, campaign_id: int, actor: str, approve: bool,
                     **rejection: Any) -> int:
    try:
        return decide_campaign(runtime, campaign_id, actor, approve, **rejection)
    except CampaignError as error:
        raise CliError(str(error)) from error


def cmd_campaigns(runtime: Runtime, args: argparse.Namespace) -> int:
    actor = "cli" if args.actor is None else _require_user(runtime, args.actor, "campaigns")
    return campaigns_command(runtime, args, actor)


def cmd_approve(runtime: Runtime, args: argparse.Namespace) -> int:
    from workers.publishing import request_publish

    actor = _require_user(runtime, args.actor, "approve")
    if _campaign_or_ids(args) is not None:
        status = _decide_campaign(runtime, args.campaign, actor, approve=True)
    else:
        status = _decide(runtime, args.ids, actor,
                         lambda session, comment_id: approve(session, comment_id, actor),
                         "approved")
    if runtime.settings.broker_url:
        request_publish(runtime)
        print(f"the site is republished by a task once the undo window "
              f"({runtime.settings.undo_seconds} s) has passed")
    else:
        print("no broker (OGP_BROKER_URL): `ogp-feedback publish` or the publisher "
              "puts approved comments on the site")
    return status


def cmd_reject(runtime: Runtime, args: argparse.Namespace) -> int:
    from moderation.models import RejectCode
    from moderation.reasons import parse_reject_code

    try:
        code = parse_reject_code(args.reason_code) if args.reason_code else RejectCode.OTHER
    except ValueError as error:
        raise CliError(str(error)) from error
    reason = args.reason or ""
    if code is RejectCode.OTHER and not reason.strip():
        raise CliError("--reason must say why (or give --reason-code); the citizen may read it")
    actor = _require_user(runtime, args.actor, "reject")
    policy = _notice_policy(runtime)
    if _campaign_or_ids(args) is not None:
        status = _decide_campaign(runtime, args.campaign, actor, approve=False, code=code,
                                  reason=reason, notices=policy)
    else:
        status = _decide(runtime, args.ids, actor,
                         lambda session, comment_id: reject(session, comment_id, actor, reason,
                                                            code, notices=policy), "rejected")
    if policy.enabled:
        runtime.send_notices()  # due now only when OGP_UNDO_SECONDS=0; else the sweeper's
    return status


def cmd_respond(runtime: Runtime, args: argparse.Namespace) -> int:
    """One reasoned response for every comment named, or none (each refusal is listed)."""
    from moderation.responses import ResponseRefusedError, respond

    actor = _require_user(runtime, args.actor, "respond")
    try:
        with session_scope(runtime.engine) as session:
            response = respond(session, args.ids, args.outcome, args.text_sq or "",
                               args.text_en or "", args.link, actor)
    except ResponseRefusedError as error:
        for problem in error.problems:
            print(problem, file=sys.stderr)
        print("no response was written", file=sys.stderr)
        return 1
    except TransitionError as error:
        raise CliError(str(error)) from error
    ids = ", ".join(f"#{comment_id}" for comment_id in sorted(set(args.ids)))
    print(f"response #{response.id} ({response.outcome}) to {ids}; the public site shows it "
          "after the next publish")
    return 0


def cmd_withdraw(runtime: Runtime, args: argparse.Namespace) -> int:
    from moderation.transitions import withdraw

    if not args.reason.strip():
        raise CliError("--reason must say why the comment is withdrawn (it is audited)")
    actor = _require_user(runtime, args.actor, "withdraw")
    status = _decide(runtime, args.ids, actor,
                     lambda session, comment_id: withdraw(session, comment_id, actor,
                                                          args.reason),
                     "withdrawn; the next publish removes it from the site")
    return status


def cmd_erase(runtime: Runtime, args: argparse.Namespace) -> int:
    """Erase one sender's data, then republish so the site follows at once."""
    from intake.pii import detect_personal_data
    from intake.pii import redact as redact_spans
    from intake.sanitize import display_html
    from moderation.personal_data import ErasureError, compact, default_anonymise, erase_sender
    from publish.site import publish_with_settings

    def anonymise(text: str, names: Sequence[str]) -> str:
        text = redact_spans(text, detect_personal_data(text, names))
        return default_anonymise(text, names)

    actor = _require_user(runtime, args.actor, "erase")
    try:
        with session_scope(runtime.engine) as session:
            report = erase_sender(session, args.email, actor, runtime.settings.secret_key,
                                  keep_anonymised=args.keep_anonymised, anonymise=anonymise,
                                  format_text=display_html)
    except ErasureError as error:
        raise CliError(str(error)) from error
    if not report.found:
        print("nothing is stored from that address; nothing was changed")
        return 0
    compact(runtime.engine)
    site = publish_with_settings(runtime.engine, runtime.catalogue, runtime.settings, actor=actor)
    kept = f"{report.anonymised} kept anonymised, " if args.keep_anonymised else ""
    print(f"erased sender hmac-sha256:{report.address_hash[:16]}...: "
          f"{len(report.inbound)} message(s), {len(report.comments)} comment(s) ({kept}"
          f"{report.withdrawn} withdrawn), {report.attachments} attachment(s), "
          f"{report.receipts} receipt(s); site republished ({site.total} comments)")
    return 0


def cmd_purge(runtime: Runtime, args: argparse.Namespace) -> int:
    from datetime import timedelta

    from moderation.personal_data import purge_raw

    days = args.older_than_days if args.older_than_days is not None else (
        runtime.settings.raw_retention_days)
    if days < 0:
        raise CliError("--older-than-days must be 0 or more")
    with session_scope(runtime.engine) as session:
        report = purge_raw(session, timedelta(days=days))
    print(f"purged the raw mail of {report.messages} processed message(s) received before "
          f"{report.cutoff:%Y-%m-%d %H:%M} UTC (comments kept)")
    return 0


def _notice_policy(runtime: Runtime) -> NoticePolicy:
    return NoticePolicy.from_settings(runtime.settings)


def cmd_audit(runtime: Runtime, args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from moderation.audit import CSV_COLUMNS, AuditFilter, audit_events, to_csv

    def day(value: str | None) -> datetime | None:
        if not value:
            return None
        try:
            return datetime.fromisoformat(value).replace(tzinfo=UTC)
        except ValueError as error:
            raise CliError(f"{value!r} is not a date (YYYY-MM-DD)") from error

    where = AuditFilter(actor=args.actor, action=args.action, comment_id=args.comment,
                        since=day(args.since), until=day(args.until))
    with session_scope(runtime.engine) as session:
        events = audit_events(session, where, limit=args.limit)
    if args.csv:
        sys.stdout.write(to_csv(reversed(events)))
        return 0
    for event in reversed(events):
        values = {name: getattr(event, name) for name in CSV_COLUMNS}
        target = f"#{values['comment_id']}" if values["comment_id"] else ""
        print(f"{event.at:%Y-%m-%d %H:%M:%S}  {event.actor:<12}  {event.action:<16}  "
              f"{target:<8}  {event.reason or event.detail or ''}")
    print(f"{len(events)} event(s)")
    return 0


def cmd_publish(runtime: Runtime, args: argparse.Namespace) -> int:
    from publish.site import StoreError, publish_with_settings

    out = Path(args.out) if args.out else runtime.settings.site_dir
    policy = _notice_policy(runtime)
    try:
        report = publish_with_settings(runtime.engine, runtime.catalogue, runtime.settings,
                                       actor=args.actor, out=out, notices=policy)
    except StoreError as error:
        raise CliError(str(error)) from error
    if args.json:
        print(json.dumps({"comments": report.total, "newly_published": report.newly_published,
                          "pages": report.pages, "pages_written": report.pages_written,
                          "pages_unchanged": report.pages_unchanged,
                          "seconds": report.seconds, "out": str(out),
                          "response_notices": report.response_notices}))
    else:
        print(f"published {report.total} comments ({report.newly_published} new) to {out}/: "
              f"{report.pages_written} pages written, {report.pages_unchanged} unchanged, "
              f"in {report.seconds:.1f} s")
    if (policy.enabled and report.newly_published) or report.response_notices:
        runtime.send_notices()  # after the commit: each citizen gets the link
    return 0


def cmd_publisher(runtime: Runtime, args: argparse.Namespace) -> int:
    from workers.publishing import run_publisher

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    every = runtime.settings.publish_interval_seconds
    print(f"publishing to {runtime.settings.site_dir} now"
          + (f" and every {every} s" if every else "") + " (Ctrl-C to stop)", flush=True)
    run_publisher(runtime, stop)
    return 0


def cmd_evidence(runtime: Runtime, args: argparse.Namespace) -> int:
    from publish.archive import write_evidence

    out = Path(args.out)
    if out.is_dir():
        raise CliError(f"{out} is a folder; name the zip file to write")
    report = write_evidence(runtime.engine, runtime.catalogue, out,
                            time_zone=runtime.settings.time_zone,
                            site_url=runtime.settings.public_site_url,
                            campaign_min_size=runtime.settings.campaign_min_size)
    print(f"wrote {out}: {report.files} files (manifest verified), {report.comments} published "
          f"comments, {report.decisions} decisions, {report.responses} responses; "
          f"SHA-256 {report.sha256}")
    return 0


def cmd_digest(runtime: Runtime, args: argparse.Namespace) -> int:
    from datetime import date
    from zoneinfo import ZoneInfo

    from moderation.models import utcnow
    from publish.digest import Period
    from publish.digest_load import load_digest, snapshot
    from publish.digest_render import FORMATS, Links, period_text, render, render_html
    from workers.digest_mail import DigestMailError, send_digest

    def day(value: str | None) -> date | None:
        try:
            return date.fromisoformat(value) if value else None
        except ValueError as error:
            raise CliError(f"{value!r} is not a date (YYYY-MM-DD)") from error

    settings = runtime.settings
    period = Period(day(args.since), day(args.until), ZoneInfo(settings.time_zone))
    if period.since and period.until and period.since > period.until:
        raise CliError(f"--since {period.since} is after --until {period.until}")
    if args.send and not settings.digest_recipient_list:
        raise CliError("--send needs OGP_DIGEST_RECIPIENTS (comma-separated addresses of the "
                       "secretariat); nothing was sent")
    suffix = Path(args.out).suffix.lstrip(".").lower() if args.out else ""
    fmt = args.format or {"htm": "html", "markdown": "md"}.get(suffix, suffix)
    fmt = fmt if fmt in FORMATS else "html"

    def step(text: str) -> None:
        # Long runs (a whole consultation) say what they are doing, on a terminal only.
        if sys.stderr.isatty():
            print(f"digest: {text}", file=sys.stderr, flush=True)

    step(f"reading comments received from {period.since or 'the start'} to "
         f"{period.until or 'now'} ...")
    with snapshot(runtime.engine) as session:
        digest = load_digest(session, runtime.catalogue, period, utcnow(),
                             campaign_min_size=runtime.settings.campaign_min_size)
    step(f"{digest.received.count} comments; writing {fmt} ...")
    output = render(digest, runtime.catalogue, fmt, Links(public=False))
    if args.out:
        out = Path(args.out)
        partial = out.with_name(f".{out.name}.partial")
        partial.write_text(output, encoding="utf-8")
        partial.replace(out)  # never a half-written digest under the real name
        print(f"wrote {out} ({fmt}): {digest.received.count} comments received "
              f"{period_text(digest)}", file=sys.stderr)
    elif not args.send:
        sys.stdout.write(output)
    if args.send:
        html = output if fmt == "html" else render_html(digest, runtime.catalogue,
                                                         Links(public=False))
        figures = {name: digest.status(name).count
                   for name in ("published", "approved", "pending", "rejected")}
        try:
            sent = send_digest(runtime.sender, settings.digest_recipient_list, settings.mail_from,
                               period_text(digest), {"received": digest.received.count,
                                                     **figures}, html, utcnow())
        except DigestMailError as error:
            raise CliError(str(error)) from error
        how = ("" if settings.mail_sender == "smtp" else
               " (console sender: logged, not delivered; -v shows it, OGP_MAIL_SENDER=smtp sends)")
        print(f"digest sent to {len(sent)} recipient(s): {', '.join(sent)}{how}",
              file=sys.stderr)
    return 0


def cmd_notices(runtime: Runtime, args: argparse.Namespace) -> int:
    from workers.notices import list_notices, send_due_notices

    sent = 0
    if args.send:
        sent = send_due_notices(runtime.engine, runtime.settings, runtime.sender,
                                catalogue=runtime.catalogue)
    with session_scope(runtime.engine) as session:
        rows = list_notices(session)
    if args.json:
        json.dump([row.as_json() for row in rows], sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        if args.send:
            print(f"{sent} sent now", file=sys.stderr)
        return 0
    for row in rows:
        when = row.sent_at or row.due_at
        print(f"{row.id:>6}  {row.reference}  #{row.comment_id:<6}  {row.kind:<9}  "
              f"{row.status:<9}  {when:%Y-%m-%d %H:%M}  {row.error or ''}")
    print(f"{len(rows)} notice(s)" + (f"; {sent} sent now" if args.send else ""))
    return 0


def cmd_serve(runtime: Runtime, args: argparse.Namespace) -> int:
    import uvicorn

    app = runtime.web_app()
    print(f"moderation UI: http://{args.host}:{args.port}/  public site: "
          f"http://{args.host}:{args.port}/site/")
    # log_config=None: uvicorn's lines go through our (JSON) logging setup.
    uvicorn.run(app, host=args.host, port=args.port, log_config=None)
    return 0


def cmd_users(runtime: Runtime, args: argparse.Namespace) -> int:
    try:
        return USERS_COMMANDS[args.users_command](runtime, args)
    except UserError as error:
        raise CliError(str(error)) from error


def cmd_demo(runtime: Runtime, args: argparse.Namespace) -> int:
    from workers.demo import run_demo

    return run_demo(runtime, serve=not args.no_serve, host=args.host, port=args.port)


Command = Callable[[Runtime, argparse.Namespace], int]


def command(sub: Any, name: str, handler: Command, help: str) -> argparse.ArgumentParser:
    """A subcommand and the function that runs it, declared together."""
    parser: argparse.ArgumentParser = sub.add_parser(name, help=help)
    parser.set_defaults(handler=handler)
    return parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ogp-feedback",
        description="Collect, moderate and publish citizens' feedback on the OGP action plan.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log at debug level")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    command(sub, "init", cmd_init, help="create or migrate the database and load the catalogue")

    poll = command(sub, "poll", cmd_poll, help="fetch mail from the IMAP inbox")
    poll.add_argument("--once", action="store_true", help="one round, then exit")

    imp = command(sub, "import", cmd_import,
                  help="import an mbox file, a Maildir or a folder of .eml")
    imp.add_argument("paths", nargs="+", metavar="PATH")
    imp.add_argument("-q", "--quiet", action="store_true", help="no progress bar")

    worker = command(sub, "worker", cmd_worker, help="run a Celery worker (needs OGP_BROKER_URL)")
    worker.add_argument("--concurrency", type=int, default=2)
    worker.add_argument("--loglevel", default="INFO")

    queue = command(sub, "queue", cmd_queue, help="list comments (a page at a time, newest first)")
    queue.add_argument("--status", choices=STATUS_CHOICES, default="pending")
    queue.add_argument("--commitment", metavar="1-10|general")
    queue.add_argument("--component", metavar="ID", help="a component id of the catalogue")
    queue.add_argument("--language", metavar="sq|en|mixed|und")
    queue.add_argument("--channel", metavar="imap|import|form")
    queue.add_argument("--q", metavar="WORDS", help="search subject and text (accents and "
                       "case ignored; every word must be there)")
    queue.add_argument("--low-confidence", dest="low_confidence", choices=["1", "0"],
                       help="1: only comments the classifier was unsure of; 0: only the others")
    queue.add_argument("--sort", choices=["newest", "oldest"], default="newest")
    queue.add_argument("--limit", metavar="N", help="comments per page, 1-200 (default 50)")
    queue.add_argument("--after", metavar="CURSOR", help="the page after this cursor "
                       "(printed at the end of the previous page)")
    queue.add_argument("--before", metavar="CURSOR", help="the page before this cursor")
    queue.add_argument("--json", action="store_true", help="print a JSON list")

    approve_p = command(sub, "approve", cmd_approve, help="approve comments")
    approve_p.add_argument("ids", nargs="*", type=int, metavar="ID")
    approve_p.add_argument("--campaign", type=int, metavar="ID",
                           help="every undecided comment of this campaign (what members "
                                "added waits for a moderator's look)")
    approve_p.add_argument("--as", dest="actor", required=True, metavar="USER")

    reject_p = command(sub, "reject", cmd_reject, help="reject comments with a reason")
    reject_p.add_argument("ids", nargs="*", type=int, metavar="ID")
    reject_p.add_argument("--campaign", type=int, metavar="ID",
                          help="every undecided comment of this campaign")
    reject_p.add_argument("--reason-code", metavar="CODE",
                          choices=[code.value for code in RejectCode],
                          help="why, from the list the citizen reads in both languages "
                               "(default: other, which needs --reason)")
    reject_p.add_argument("--reason", metavar="TEXT", help="the moderator's own words")
    reject_p.add_argument("--as", dest="actor", required=True, metavar="USER")

    respond_p = command(sub, "respond", cmd_respond,
                        help="give comments one reasoned response (secretariat)")
    respond_p.add_argument("ids", nargs="+", type=int, metavar="ID")
    respond_p.add_argument("--outcome", required=True,
                           choices=[outcome.value for outcome in ResponseOutcome],
                           help="what the government did with the contribution")
    respond_p.add_argument("--text-sq", metavar="TEXT", help="the explanation in Albanian")
    respond_p.add_argument("--text-en", metavar="TEXT",
                           help="the explanation in English (one of the two may be left out)")
    respond_p.add_argument("--link", metavar="URL",
                           help="the commitment text that changed (http:// or https://)")
    respond_p.add_argument("--as", dest="actor", required=True, metavar="USER")

    withdraw_p = command(sub, "withdraw", cmd_withdraw,
                         help="withdraw comments: off the site at the next publish (secretariat)")
    withdraw_p.add_argument("ids", nargs="+", type=int, metavar="ID")
    withdraw_p.add_argument("--reason", required=True, metavar="TEXT",
                            help="why (kept in the audit log, without the sender's name)")
    withdraw_p.add_argument("--as", dest="actor", required=True, metavar="USER")

    erase_p = command(sub, "erase", cmd_erase,
                      help="erase a sender's mail, address and name; withdraw and republish")
    erase_p.add_argument("--email", required=True, metavar="ADDRESS")
    erase_p.add_argument("--keep-anonymised", action="store_true",
                         help="keep the comments published, with personal data redacted")
    erase_p.add_argument("--as", dest="actor", required=True, metavar="USER")

    purge_p = command(sub, "purge", cmd_purge,
                      help="delete raw mail of processed messages past the retention period")
    purge_p.add_argument("--older-than-days", type=int, metavar="N",
                         help="default: OGP_RAW_RETENTION_DAYS")

    inbound = command(sub, "inbound", cmd_inbound,
                      help="list inbound messages and why any were set aside")
    inbound.add_argument("--status", choices=INBOUND_STATUS_CHOICES, default="all")
    inbound.add_argument("--json", action="store_true", help="print a JSON list")

    release = command(sub, "release", cmd_release, help="send quarantined messages into processing")
    release.add_argument("ids", nargs="+", type=int, metavar="ID")
    release.add_argument("--as", dest="actor", required=True, metavar="USER")

    reprocess = command(sub, "reprocess", cmd_reprocess,
                        help="retry failed messages (dead letters)")
    reprocess.add_argument("ids", nargs="+", type=int, metavar="ID")
    reprocess.add_argument("--as", dest="actor", metavar="USER",
                           help="recorded in the audit log (default: 'cli', an operator)")

    sweep_p = command(sub, "sweep", cmd_sweep,
                      help="hand stuck messages and receipts on again, once")
    sweep_p.add_argument("--older-than", type=float, metavar="SECONDS",
                         help="default: OGP_SWEEP_AFTER_SECONDS")

    audit = command(sub, "audit", cmd_audit, help="print the audit log (append-only)")
    audit.add_argument("--csv", action="store_true", help="CSV with every column, oldest first")
    audit.add_argument("--actor", metavar="USER")
    audit.add_argument("--action", metavar="ACTION", help="e.g. approve, reject, login-failed")
    audit.add_argument("--comment", type=int, metavar="ID")
    audit.add_argument("--since", metavar="YYYY-MM-DD")
    audit.add_argument("--until", metavar="YYYY-MM-DD", help="up to the start of this day")
    audit.add_argument("--limit", type=int, metavar="N", help="the newest N events only")

    notices = command(sub, "notices", cmd_notices,
                      help="list decision and response notices to citizens; send due ones")
    notices.add_argument("--send", action="store_true",
                         help="first send every notice that is due (safe beside the sweeper)")
    notices.add_argument("--json", action="store_true", help="print a JSON list")

    publish = command(sub, "publish", cmd_publish,
                      help="render approved comments into the static site")
    publish.add_argument("--out", metavar="DIR", help="default: OGP_SITE_DIR")
    publish.add_argument("--as", dest="actor", default="publisher", metavar="USER")
    command(sub, "publisher", cmd_publisher,
            help="publish now, then every OGP_PUBLISH_INTERVAL_SECONDS (a long-running "
                 "service; approvals also publish through the worker's task)")
    publish.add_argument("--json", action="store_true",
                         help="print one JSON object: comments, pages_written, "
                              "pages_unchanged, seconds")

    digest = command(sub, "digest", cmd_digest,
                     help="the secretariat's digest of comments for a date range")
    digest.add_argument("--since", metavar="YYYY-MM-DD",
                        help="first day of receipt, in OGP_TIME_ZONE (default: the start)")
    digest.add_argument("--until", metavar="YYYY-MM-DD",
                        help="last day of receipt, inclusive (default: today)")
    digest.add_argument("--format", choices=["html", "md", "csv", "json"],
                        help="default: from the --out file's suffix, else html")
    digest.add_argument("--out", metavar="FILE", help="write here instead of to stdout")
    digest.add_argument("--send", action="store_true",
                        help="mail the HTML digest to OGP_DIGEST_RECIPIENTS")

    evidence = command(sub, "evidence", cmd_evidence,
                       help="write the consultation's record for the OGP review (a zip)")
    evidence.add_argument("--out", required=True, metavar="FILE.zip",
                          help="the zip to write (replaced as a whole, never half-written)")

    serve = command(sub, "serve", cmd_serve, help="serve the moderation UI and the published site")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)

    add_users_parser(sub).set_defaults(handler=cmd_users)
    add_campaigns_parser(sub).set_defaults(handler=cmd_campaigns)
    add_classifier_parsers(sub, CliError)

    add_check_arguments(command(sub, "check", cmd_check, help="check the configuration and "
                                "reach the database, broker, inbox and mail relay"))

    demo = command(sub, "demo", cmd_demo, help="load the sample mailbox, publish, and serve")
    demo.add_argument("--no-serve", action="store_true", help="stop after publishing")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8000)
    return parser




NEEDS_NO_SCHEMA = frozenset({"init", "demo", "worker", "check", "classify"})


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except ValidationError as error:
        for problem in error.errors():
            field = "OGP_" + "_".join(str(p) for p in problem["loc"]).upper()
            message = problem["msg"].removeprefix("Value error, ")
            print(f"ogp-feedback: {field if problem['loc'] else 'settings'}: {message}",
                  file=sys.stderr)
        return 2
    from workers.logs import configure_logging

    # The long-running commands report each round and task; the others only problems.
    configure_logging(settings, args.verbose, default_level=logging.INFO
                      if args.command in {"worker", "poll"} else logging.WARNING)
    runtime = _runtime(settings)
    try:
        if args.command not in NEEDS_NO_SCHEMA and not schema_is_current(runtime.engine):
            raise CliError("the database is not initialised or is out of date; "
                           "run 'ogp-feedback init' first")
        handler: Command = args.handler
        return handler(runtime, args)
    except CliError as error:
        print(f"ogp-feedback: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
