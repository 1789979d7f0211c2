"""The queue of comments and the actions on a selection of them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException
from fastapi.responses import RedirectResponse, Response

from moderation.models import RejectCode
from moderation.queries import count_by_status, list_comments
from moderation.reasons import REJECT_REASONS, parse_reject_code
from moderation.transitions import TransitionError, approve, reject
from moderation.web.context import Ctx, DbSession, Staff, require_csrf

router = APIRouter()
QUEUE_STATUSES = ("pending", "approved", "rejected", "published", "all")


@router.get("/queue")
def queue_page(ctx: Ctx, session: DbSession, me: Staff, status: str = "pending",
               done: str | None = None) -> Response:
    if status not in QUEUE_STATUSES:
        raise HTTPException(400, f"unknown status {status!r}")
    items = list_comments(session, status, limit=500)
    return ctx.render("queue.html", items=items, status=status, counts=count_by_status(session),
                      statuses=QUEUE_STATUSES, user=me.user, csrf=me.csrf,
                      reasons=REJECT_REASONS.values(), done=done)


@router.get("/help")
def help_page(ctx: Ctx, me: Staff) -> Response:
    return ctx.render("help.html", user=me.user, csrf=me.csrf)


@router.post("/comments/bulk")
def bulk(ctx: Ctx, session: DbSession, me: Staff,
         action: Annotated[str, Form()] = "",
         ids: Annotated[list[int] | None, Form()] = None,
         reason_code: Annotated[str, Form()] = "",
         reason: Annotated[str, Form()] = "",
         csrf_token: Annotated[str, Form()] = "",
         back: Annotated[str, Form()] = "/queue") -> Response:
    """Approve or reject a selection; each comment in its own savepoint, so one that
    another moderator holds or already decided is reported, not fatal."""
    require_csrf(me.active, csrf_token)
    if action not in {"approve", "reject"}:
        raise HTTPException(400, "action must be approve or reject")
    if not ids:
        raise HTTPException(400, "Nothing selected. / Nuk u zgjodh asnjë koment.")
    code = RejectCode.OTHER
    if action == "reject":
        try:
            code = parse_reject_code(reason_code or "other")
        except ValueError as error:
            raise HTTPException(400, str(error)) from error
    done, refused = [], []
    for comment_id in dict.fromkeys(ids):
        try:
            with session.begin_nested():
                if action == "approve":
                    approve(session, comment_id, me.name)
                else:
                    reject(session, comment_id, me.name, reason, code,
                           notices=ctx.notice_policy)
            done.append(comment_id)
        except TransitionError as error:
            refused.append(f"#{comment_id}: {error}")
    session.commit()
    if ctx.send_notices is not None and done and action == "reject":
        ctx.send_notices()
    if refused:
        return ctx.render("bulk_result.html", status_code=409 if not done else 200,
                          action=action, done=done, refused=refused, user=me.user,
                          csrf=me.csrf, back=_local(back))
    return RedirectResponse(_with_done(_local(back), f"{action}:{len(done)}"), status_code=303)


def _local(target: str) -> str:
    return target if target.startswith("/queue") and "\\" not in target else "/queue"


def _with_done(target: str, done: str) -> str:
    return f"{target}{'&' if '?' in target else '?'}done={done}"
