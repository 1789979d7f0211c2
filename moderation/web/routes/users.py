"""Staff accounts, for admins: who can log in, with which role."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException
from fastapi.responses import RedirectResponse, Response

from moderation.users import UserError, list_users, set_active
from moderation.web.context import Ctx, DbSession, Staff, require_csrf

router = APIRouter()


@router.get("/users")
def users_page(ctx: Ctx, session: DbSession, me: Staff) -> Response:
    return ctx.render("users.html", users=list_users(session), user=me.user, csrf=me.csrf)


def _set_active(session: DbSession, me: Staff, name: str, csrf_token: str,
                active: bool) -> Response:
    require_csrf(me.active, csrf_token)
    if name == me.name and not active:
        raise HTTPException(400, "You cannot disable your own account.")
    try:
        set_active(session, name, active, me.name)
    except UserError as error:
        raise HTTPException(404, str(error)) from error
    session.commit()
    return RedirectResponse("/users", status_code=303)


@router.post("/users/{name}/disable")
def disable(session: DbSession, me: Staff, name: str,
            csrf_token: Annotated[str, Form()] = "") -> Response:
    return _set_active(session, me, name, csrf_token, active=False)


@router.post("/users/{name}/enable")
def enable(session: DbSession, me: Staff, name: str,
           csrf_token: Annotated[str, Form()] = "") -> Response:
    return _set_active(session, me, name, csrf_token, active=True)
