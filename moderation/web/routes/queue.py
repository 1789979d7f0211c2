"""The queue of comments and the actions on a selection of them."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from moderation.models import RejectCode
from moderation.queue import (
    CHANNELS,
    LANGUAGES,
    STATUS_CHOICES,
    QueueError,
    QueueQuery,
    fetch_queue,
    parse_queue_query,
)
from moderation.reasons import REJECT_REASONS, parse_reject_code
from moderation.responses import OUTCOMES, ResponseRefusedError, respond
from moderation.transitions import InputError, TransitionError, approve, reject
from moderation.web.context import Ctx, DbSession, Staff, require_csrf
from moderation.web.routes.comments import _undoable

router = APIRouter()
QUEUE_PARAMS = ("status", "commitment", "component", "language", "channel", "q",
                "has_attachments", "released", "low_confidence", "sort", "after", "before",
                "limit")
STATUS_LABELS = {"pending": "Në pritje", "approved": "Miratuar", "rejected": "Refuzuar",
                 "published": "Botuar", "withdrawn": "Tërhequr", "all": "Të gjitha"}
LANGUAGE_LABELS = {"sq": "Shqip", "en": "English", "mixed": "Të përziera / Mixed",
                   "und": "E papërcaktuar / Undetermined"}
CHANNEL_LABELS = {"imap": "E-mail", "import": "Import", "form": "Formulari / Web form"}


@router.get("/queue")
def queue_page(ctx: Ctx, session: DbSession, me: Staff, request: Request,
               done: str | None = None, decided: str | None = None) -> Response:
    """Filters, search and page position all live in the URL: a view can be bookmarked."""
    try:
        query = parse_queue_query({name: request.query_params.get(name)
                                   for name in QUEUE_PARAMS}, ctx.catalogue)
    except QueueError as error:
        raise HTTPException(400, str(error)) from error
    if decided is not None and not decided.isdigit():
        raise HTTPException(400, f"decided must be a comment number (got {decided!r}).")
    page = fetch_queue(session, query, campaign_min_size=ctx.settings.campaign_min_size)
    here = query.to_params()
    first = query.first_page().to_params()
    tabs = [(status, STATUS_LABELS[status], _url(query.first_page(status=status).to_params()),
             page.counts.get(status, 0)) for status in STATUS_CHOICES]
    return ctx.render(
        "queue.html", items=page.items, query=query, status=query.status, tabs=tabs,
        counts=page.counts, user=me.user, csrf=me.csrf, reasons=REJECT_REASONS.values(),
        outcomes=OUTCOMES.values(),
        languages=[(code, LANGUAGE_LABELS[code]) for code in LANGUAGES],
        channels=[(code, CHANNEL_LABELS[code]) for code in CHANNELS],
        next_url=_url({**first, "after": page.next}) if page.next else None,
        prev_url=_url({**first, "before": page.prev}) if page.prev else None,
        clear_url=_url(QueueQuery(status=query.status).to_params()),
        back=_url(here), done=done,
        decided=_undoable(ctx, session, int(decided)) if decided else None,
    )


def _url(params: dict[str, str]) -> str:
    return f"/queue?{urlencode(params)}" if params else "/queue"


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
    if ctx.request_publish is not None and done and action == "approve":
        ctx.request_publish()
    if refused:
        return ctx.render("bulk_result.html", status_code=409 if not done else 200,
                          action=action, done=done, refused=refused, user=me.user,
                          csrf=me.csrf, back=_local(back))
    return RedirectResponse(_with_done(_local(back), f"{action}:{len(done)}"), status_code=303)


@router.post("/comments/respond")
def respond_to_selection(ctx: Ctx, session: DbSession, me: Staff,
                         ids: Annotated[list[int] | None, Form()] = None,
                         outcome: Annotated[str, Form()] = "",
                         text_sq: Annotated[str, Form()] = "",
                         text_en: Annotated[str, Form()] = "",
                         link: Annotated[str, Form()] = "",
                         csrf_token: Annotated[str, Form()] = "",
                         back: Annotated[str, Form()] = "/queue") -> Response:
    """One response for the selection (the queue's respond button posts the bulk form
    here). All or nothing: one comment that cannot take it refuses the whole response,
    so the answer is never given to part of what the secretariat chose."""
    require_csrf(me.active, csrf_token)
    if not ids:
        raise HTTPException(400, "Nothing selected. / Nuk u zgjodh asnjë koment.")
    try:
        respond(session, ids, outcome, text_sq, text_en, link, me.name)
    except InputError as error:
        raise HTTPException(400, str(error)) from error
    except TransitionError as error:
        session.rollback()
        refused = error.problems if isinstance(error, ResponseRefusedError) else [str(error)]
        return ctx.render("bulk_result.html", status_code=409, action="respond", done=[],
                          refused=refused, user=me.user, csrf=me.csrf, back=_local(back))
    session.commit()
    return RedirectResponse(_with_done(_local(back), f"respond:{len(set(ids))}"),
                            status_code=303)


def _local(target: str) -> str:
    return target if target.startswith("/queue") and "\\" not in target else "/queue"


def _with_done(target: str, done: str) -> str:
    return f"{target}{'&' if '?' in target else '?'}done={done}"
