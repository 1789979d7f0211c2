"""The public contact form's routes: the adapter around the pure checks in ``intake.webform``.

A submission is stored and committed like mail from the inbox, and only then handed
to processing (a task when a broker is configured, never run inside the request then).
Nothing here logs or shows a submitter's address.

Only an accepted submission writes anything: serving the form or the confirmation page
starts no session (their CSRF tokens are signed values kept by the browser,
``moderation.web.form_tokens``), and every refusal (a forged or stale form, the
honeypot, a form sent faster than a person types, a flood from one client address or
from everyone, too much waiting for processing) stores nothing.
"""

from __future__ import annotations

import logging
import re
import time
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from intake.receipts import decide_receipt, own_addresses, reference_for
from intake.store import RawMessage, store_raw_batch, waiting_for_processing
from intake.webform import (
    CSRF_REFUSED,
    CSRF_REFUSED_CONFIRM,
    FIX_FIELDS,
    HONEYPOT_REFUSED,
    MAX_FORM_FIELDS,
    NAME_MAX_CHARS,
    RATE_WINDOW,
    SUBJECT_MAX_CHARS,
    TOO_FAST,
    TOO_LARGE,
    ContactForm,
    Refusal,
    Submission,
    aware,
    body_limit,
    build_message,
    busy_refusal,
    check_form,
    client_key,
    flood_refusal,
    new_message_id,
    rate_limited_refusal,
    retry_after,
    submitter_hash,
)
from moderation.confirmations import ConfirmState, confirm, look_up, plan_receipt
from moderation.models import InboundMessage, InboundSource, utcnow
from moderation.web import form_tokens
from moderation.web.context import Ctx, DbSession, WebContext
from moderation.web.routes.auth import client_address

log = logging.getLogger(__name__)
router = APIRouter()
_REFERENCE = re.compile(r"OGP-\d{6,12}")


def _limits(ctx: WebContext) -> dict[str, Any]:
    max_chars = ctx.settings.form_max_chars
    return {"max_chars_sq": f"{max_chars:,}".replace(",", " "),
            "max_chars_en": f"{max_chars:,}", "max_chars": max_chars,
            "name_max": NAME_MAX_CHARS, "subject_max": SUBJECT_MAX_CHARS}


def _recent_submissions(session: Session, digest: str, now: datetime) -> list[datetime]:
    statement = select(InboundMessage.created_at).where(
        InboundMessage.source == InboundSource.FORM,
        InboundMessage.submitter_hash == digest,
        col(InboundMessage.created_at) > now - RATE_WINDOW,
    )
    return [aware(at) for at in session.exec(statement).all()]


def _form_page(ctx: WebContext, request: Request, form: ContactForm,
               refusal: Refusal | None = None) -> Response:
    issued = form_tokens.issue(request, ctx.settings, time.time())
    response = ctx.render(
        "contact.html",
        status_code=refusal.status_code if refusal else 200,
        user=None, csrf="",
        form_csrf=issued.token,
        form=form.for_display(),
        notice=refusal.notice if refusal else None,
        errors=dict(refusal.errors) if refusal else {},
        **_limits(ctx),
    )
    if refusal:
        response.headers.update(refusal.headers)
    form_tokens.remember(response, ctx.settings, issued)
    return response


def _submit(ctx: WebContext, request: Request, session: Session, csrf_token: str | None,
            form: ContactForm) -> Response:
    settings = ctx.settings
    now = utcnow()
    seconds_open = form_tokens.verify(request, settings, csrf_token, time.time())
    if seconds_open is None:
        log.info("contact form refused: CSRF check failed")
        return _form_page(ctx, request, form, Refusal(403, CSRF_REFUSED))
    if form.website.strip():
        log.info("contact form refused: honeypot field filled; nothing stored")
        return _form_page(ctx, request, form, Refusal(400, HONEYPOT_REFUSED))
    if seconds_open < settings.form_min_seconds:
        log.info("contact form refused: sent %.1f s after it was served", seconds_open)
        return _form_page(ctx, request, form, Refusal(400, TOO_FAST))
    checked = check_form(form, ctx.catalogue, settings.form_max_chars)
    if not isinstance(checked, Submission):
        log.info("contact form refused: %s", ", ".join(sorted(checked)))
        return _form_page(ctx, request, form, Refusal(422, FIX_FIELDS, checked))
    flood = ctx.form_throttle.take(client_key(client_address(request)))
    if flood is not None:
        log.info("contact form refused: the limit for %s is reached", flood.scope)
        limit = (settings.form_client_limit_per_hour if flood.scope == "client"
                 else settings.form_global_limit_per_minute)
        return _form_page(ctx, request, form,
                          flood_refusal(flood.scope, limit, flood.retry_at - now))
    digest = submitter_hash(settings.secret_key, checked.address)
    wait = retry_after(_recent_submissions(session, digest, now),
                       settings.form_rate_limit_per_hour, now)
    if wait is not None:
        log.info("contact form refused: rate limit for submitter %s", digest[:12])
        return _form_page(ctx, request, form,
                          rate_limited_refusal(settings.form_rate_limit_per_hour, wait))
    waiting = waiting_for_processing(session)
    if waiting >= settings.backpressure_max_unprocessed:
        log.warning("contact form refused: %d messages wait for processing (limit "
                    "OGP_BACKPRESSURE_MAX_UNPROCESSED=%d)", waiting,
                    settings.backpressure_max_unprocessed)
        return _form_page(ctx, request, form, busy_refusal())
    raw = build_message(checked, settings.mail_from, now, new_message_id(settings.mail_from))
    [stored] = store_raw_batch(session, [RawMessage(raw=raw, source=InboundSource.FORM)])
    row = session.get(InboundMessage, stored.inbound_id)
    if row is not None and stored.created:
        row.submitter_hash = digest
        session.add(row)
    inbound_id = stored.inbound_id
    session.commit()
    # Committed: only now may processing look for the row (a broker task could
    # otherwise run before the insert is visible).
    try:
        if ctx.enqueue is not None:
            ctx.enqueue([inbound_id])
    except Exception:
        # The message is stored and stays "received"; the citizen must not be
        # asked to send it again (that would count against the rate limit).
        log.exception("contact form: inbound %s stored but not handed to processing",
                      inbound_id)
    log.info("contact form: stored inbound %s", inbound_id)
    return RedirectResponse(f"/contact/thanks?ref={reference_for(inbound_id)}", status_code=303)


REFERENCE = re.compile(r"OGP-[0-9]{6,9}")


@router.get("/contact")
def contact_form(ctx: Ctx, request: Request, commitment: str = "",
                 report: str = "") -> Response:
    """``?commitment=4`` preselects a commitment; ``?report=OGP-000123`` (the public site's
    "report a problem" link on a comment's page) fills in the subject."""
    known = {label.id for label in ctx.catalogue.labels}
    subject = ""
    if REFERENCE.fullmatch(report):
        subject = f"Problem me komentin {report} / Problem with comment {report}"
    form = ContactForm(commitment=commitment if commitment in known else "", subject=subject)
    return _form_page(ctx, request, form)


@router.post("/contact")
async def contact_submit(ctx: Ctx, request: Request, session: DbSession) -> Response:
    try:
        # Bounded before anything is parsed: a public form must not read an
        # arbitrarily large body into memory.
        fields = await request.form(max_files=0, max_fields=MAX_FORM_FIELDS,
                                    max_part_size=body_limit(ctx.settings.form_max_chars))
    except StarletteHTTPException:
        return await run_in_threadpool(_form_page, ctx, request, ContactForm(),
                                       Refusal(413, TOO_LARGE))
    csrf_token = fields.get("csrf_token")
    form = ContactForm.from_fields(fields)
    # The session is the request's (one at a time, never two threads at once).
    return await run_in_threadpool(
        _submit, ctx, request, session, csrf_token if isinstance(csrf_token, str) else None,
        form)


@router.get("/contact/thanks")
def contact_thanks(ctx: Ctx, ref: str = "") -> Response:
    return ctx.render("contact_thanks.html", user=None, csrf="",
                      ref=ref if _REFERENCE.fullmatch(ref) else None, **_limits(ctx))


# An unknown link is "not found", an expired one "gone"; the page says which, in both languages.
_CONFIRM_STATUS: dict[str, int] = {ConfirmState.UNKNOWN: 404, ConfirmState.EXPIRED: 410}


def _confirm_page(ctx: WebContext, request: Request, state: str, token: str = "",
                  refusal: Refusal | None = None) -> Response:
    issued = form_tokens.issue(request, ctx.settings, time.time())
    status = refusal.status_code if refusal else _CONFIRM_STATUS.get(state, 200)
    response = ctx.render("contact_confirm.html", status_code=status, user=None, csrf="",
                          form_csrf=issued.token, state=state, token=token,
                          notice=refusal.notice if refusal else None,
                          hours=ctx.settings.confirmation_hours)
    # The token is in the address: no other site may learn it from a Referer.
    response.headers["Referrer-Policy"] = "no-referrer"
    form_tokens.remember(response, ctx.settings, issued)
    return response


@router.get("/contact/confirm")
def contact_confirm_form(ctx: Ctx, request: Request, session: DbSession,
                         token: str = "") -> Response:
    # Changes nothing: mail scanners open links; only a person presses the button.
    state = look_up(session, token, utcnow())
    return _confirm_page(ctx, request, state, token)


@router.post("/contact/confirm")
def contact_confirm(ctx: Ctx, request: Request, session: DbSession,
                    token: Annotated[str, Form()] = "",
                    csrf_token: Annotated[str, Form()] = "") -> Response:
    now = utcnow()
    if form_tokens.verify(request, ctx.settings, csrf_token, time.time()) is None:
        log.info("address confirmation refused: CSRF check failed")
        return _confirm_page(ctx, request, look_up(session, token, now), token,
                             Refusal(403, CSRF_REFUSED_CONFIRM))
    confirmed = confirm(session, token, now)
    receipt_id = None
    if confirmed.state is ConfirmState.VALID and confirmed.inbound_id is not None:
        receipt_id = _plan_receipt_after_confirm(ctx, session, confirmed.inbound_id,
                                                 confirmed.comment_id, confirmed.address, now)
        log.info("address confirmed for inbound %s", confirmed.inbound_id)
    session.commit()
    if receipt_id is not None and ctx.send_receipts is not None:
        try:
            ctx.send_receipts([receipt_id])
        except Exception:  # the row waits as pending; the sweeper sends it
            log.exception("receipt %s not sent now; the sweeper will", receipt_id)
    state = "confirmed" if confirmed.state is ConfirmState.VALID else confirmed.state
    return _confirm_page(ctx, request, state)


def _plan_receipt_after_confirm(ctx: WebContext, session: Session, inbound_id: int,
                                comment_id: int | None, address: str | None,
                                now: datetime) -> int | None:
    settings = ctx.settings
    if not settings.receipts or address is None:
        return None
    decision = decide_receipt(address, own_addresses(settings.mail_from, settings.imap_user),
                              suppress_auto_reply=False)
    if decision.address is None:
        return None
    return plan_receipt(session, inbound_id, comment_id, decision.address,
                        reference_for(inbound_id), now)
