"""Logging in and out.

The login's work (throttle, password, second factor, audit) is in
``moderation.login``; this module turns its outcome into a page or a redirect.
"""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from moderation.login import LoginAttempt, log_in, log_out
from moderation.models import User
from moderation.throttle import Refusal
from moderation.web import form_tokens
from moderation.web.context import (
    Ctx,
    DbSession,
    MaybeSession,
    Staff,
    WebContext,
    require_csrf,
    require_form_token,
)
from moderation.web.sessions import end_session, start_session

router = APIRouter()
# One message for every failure: which part was wrong is for the audit log only.
WRONG_LOGIN = ("Emri ose fjalëkalimi është i gabuar (ose kodi, nëse keni faktor të dytë). / "
               "Wrong user name or password. If you set up a second factor, check the code too.")


def safe_next(target: str) -> str:
    # Only local paths: an open redirect after login is a phishing aid.
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/queue"
    return target


def client_address(request: Request) -> str:
    # Behind a proxy on this host, uvicorn has already taken the address from
    # X-Forwarded-For (it trusts 127.0.0.1 by default).
    return request.client.host if request.client else "unknown"


def throttled_message(refusal: Refusal, seconds: int) -> str:
    at = refusal.retry_at.strftime("%H:%M:%S")
    unit = "sekonde" if seconds == 1 else "sekondash"
    return (f"Shumë përpjekje të dështuara. Provoni përsëri pas {seconds} {unit} "
            f"(në {at} UTC). / Too many failed attempts. Try again in {seconds} "
            f"second{'' if seconds == 1 else 's'} (at {at} UTC).")


def login_page(request: Request, ctx: WebContext, next: str, status_code: int = 200,
               error: str | None = None, user: User | None = None) -> Response:
    # No session exists before the login succeeds: the form's CSRF token lives in the
    # browser (form_tokens), so serving this page writes nothing.
    issued = form_tokens.issue(request, ctx.settings, time.time())
    response = ctx.render("login.html", status_code=status_code, csrf=issued.token,
                          next=safe_next(next), user=user, error=error)
    form_tokens.remember(response, ctx.settings, issued)
    return response


@router.get("/login")
def login_form(request: Request, ctx: Ctx, active: MaybeSession,
               next: str = "/queue") -> Response:
    return login_page(request, ctx, next, user=active.user if active else None)


@router.post("/login")
def login(
    request: Request,
    ctx: Ctx,
    session: DbSession,
    active: MaybeSession,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    totp: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/queue",
) -> Response:
    require_form_token(request, ctx, csrf_token)
    attempt = LoginAttempt(username, password, totp, client_address(request))
    outcome = log_in(session, ctx.login_throttle, attempt)
    if outcome.refusal is not None:
        seconds = outcome.refusal.seconds()
        response = login_page(request, ctx, next, 429,
                              throttled_message(outcome.refusal, seconds))
        response.headers["Retry-After"] = str(seconds)
        return response
    if outcome.user is None:
        return login_page(request, ctx, next, 401, WRONG_LOGIN)
    if active is not None:
        end_session(session, active)
    fresh = start_session(session, outcome.user, ctx.settings.session_max_age_seconds)
    # The new session is committed before this response leaves (``DbSession`` has
    # scope="function"), so a client that follows the redirect at once is logged in.
    redirect = RedirectResponse(safe_next(next), status_code=303)
    ctx.set_cookie(redirect, fresh)
    return redirect


@router.post("/logout")
def logout(request: Request, ctx: Ctx, session: DbSession, me: Staff,
           csrf_token: Annotated[str, Form()] = "") -> Response:
    require_csrf(me.active, csrf_token)
    end_session(session, me.active)
    log_out(session, me.name, client_address(request))
    response = RedirectResponse("/login", status_code=303)
    ctx.delete_cookie(response)
    return response
