"""Logging in and out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import RedirectResponse, Response

from moderation.users import authenticate
from moderation.web.context import Ctx, DbSession, MaybeSession, Staff, require_csrf
from moderation.web.sessions import COOKIE_NAME, end_session, start_session

router = APIRouter()
WRONG_LOGIN = "Emri ose fjalëkalimi është i gabuar. / Wrong user name or password."


def safe_next(target: str) -> str:
    # Only local paths: an open redirect after login is a phishing aid.
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/queue"
    return target


@router.get("/login")
def login_form(ctx: Ctx, session: DbSession, active: MaybeSession,
               next: str = "/queue") -> Response:
    if active is None:
        active = start_session(session, None, ctx.settings.session_max_age_seconds)
    response = ctx.render("login.html", csrf=active.record.csrf_token, next=safe_next(next),
                          user=active.user, error=None)
    ctx.set_cookie(response, active)
    return response


@router.post("/login")
def login(
    ctx: Ctx,
    session: DbSession,
    active: MaybeSession,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/queue",
) -> Response:
    require_csrf(active, csrf_token)
    assert active is not None
    user = authenticate(session, username, password)
    if user is None:
        return ctx.render("login.html", status_code=401, csrf=active.record.csrf_token,
                          next=safe_next(next), user=None, error=WRONG_LOGIN)
    end_session(session, active)
    fresh = start_session(session, user, ctx.settings.session_max_age_seconds)
    response = RedirectResponse(safe_next(next), status_code=303)
    ctx.set_cookie(response, fresh)
    return response


@router.post("/logout")
def logout(session: DbSession, me: Staff, csrf_token: Annotated[str, Form()] = "") -> Response:
    require_csrf(me.active, csrf_token)
    end_session(session, me.active)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE_NAME, path="/")
    return response
