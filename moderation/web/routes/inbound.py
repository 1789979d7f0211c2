"""Set-aside mail: quarantined and failed messages, released or retried by the secretariat."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from moderation.models import InboundMessage
from moderation.queries import quarantined_messages
from moderation.transitions import TransitionError, release_inbound, reprocess_inbound
from moderation.web.context import Ctx, DbSession, Staff, StaffSession, WebContext, require_csrf

router = APIRouter()


@router.get("/quarantine")
def quarantine(ctx: Ctx, session: DbSession, me: Staff) -> Response:
    items = quarantined_messages(session, limit=500)
    failed = quarantined_messages(session, limit=500, status="failed")
    return ctx.render("quarantine.html", items=items, failed=failed, user=me.user, csrf=me.csrf)


def _resubmit(ctx: WebContext, session: Session, me: StaffSession, inbound_id: int,
              csrf_token: str, transition: Callable[[Session, int, str], object]) -> Response:
    require_csrf(me.active, csrf_token)
    try:
        transition(session, inbound_id, me.name)
    except TransitionError as error:
        raise HTTPException(409, str(error)) from error
    session.commit()
    if ctx.enqueue is not None:
        ctx.enqueue([inbound_id])  # after the commit above
    return RedirectResponse("/quarantine", status_code=303)


@router.post("/inbound/{inbound_id}/release")
def release(ctx: Ctx, session: DbSession, me: Staff, inbound_id: int,
            csrf_token: Annotated[str, Form()] = "") -> Response:
    return _resubmit(ctx, session, me, inbound_id, csrf_token, release_inbound)


@router.post("/inbound/{inbound_id}/reprocess")
def reprocess(ctx: Ctx, session: DbSession, me: Staff, inbound_id: int,
              csrf_token: Annotated[str, Form()] = "") -> Response:
    return _resubmit(ctx, session, me, inbound_id, csrf_token, reprocess_inbound)


@router.get("/inbound/{inbound_id}/raw")
def raw_message(session: DbSession, me: Staff, inbound_id: int) -> Response:
    """The message exactly as it arrived, as plain text (never rendered as HTML)."""
    message = session.get(InboundMessage, inbound_id)
    if message is None:
        raise HTTPException(404, f"No inbound message #{inbound_id}.")
    return Response(message.raw, media_type="text/plain; charset=us-ascii", headers={
        "Content-Disposition": f'inline; filename="inbound-{inbound_id}.eml"',
        "X-Content-Type-Options": "nosniff",
    })
