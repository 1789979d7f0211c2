"""The audit log for the secretariat and admins: filters, pages, CSV."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from fastapi import APIRouter, HTTPException
from fastapi.responses import Response

from moderation.audit import AuditFilter, audit_events, known_actions, to_csv
from moderation.web.context import Ctx, DbSession, Staff

router = APIRouter()
PAGE = 100


def _filter(actor: str, action: str, comment: str, since: str, until: str) -> AuditFilter:
    try:
        return AuditFilter(
            actor=actor.strip() or None,
            action=action.strip() or None,
            comment_id=int(comment) if comment.strip() else None,
            since=_day(since),
            until=_day(until, next_day=True),
        )
    except ValueError as error:
        raise HTTPException(400, f"Bad filter: {error}. Dates are YYYY-MM-DD.") from error


def _day(value: str, next_day: bool = False) -> datetime | None:
    if not value.strip():
        return None
    start = datetime.combine(date.fromisoformat(value.strip()), datetime.min.time(), UTC)
    return start + timedelta(days=1) if next_day else start


@router.get("/audit")
def audit_page(ctx: Ctx, session: DbSession, me: Staff, actor: str = "", action: str = "",
               comment: str = "", since: str = "", until: str = "",
               before: int | None = None) -> Response:
    where = _filter(actor, action, comment, since, until)
    events = audit_events(session, where, limit=PAGE + 1, before_id=before)
    older = events[PAGE].id if len(events) > PAGE else None
    return ctx.render("audit.html", events=events[:PAGE], older=events[PAGE - 1].id
                      if older else None, actions=known_actions(session), user=me.user,
                      csrf=me.csrf, query={"actor": actor, "action": action,
                                           "comment": comment, "since": since, "until": until})


@router.get("/audit.csv")
def audit_csv(session: DbSession, me: Staff, actor: str = "", action: str = "",
              comment: str = "", since: str = "", until: str = "") -> Response:
    where = _filter(actor, action, comment, since, until)
    body = to_csv(audit_events(session, where, limit=None))
    return Response(body, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="audit.csv"'})
