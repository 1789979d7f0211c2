"""The secretariat's digest in the UI: the HTML digest for a date range, and its downloads."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from moderation.models import utcnow
from moderation.web.context import Ctx, DbSession, Staff, WebContext
from publish.digest import Digest, Period
from publish.digest_load import load_digest
from publish.digest_render import MEDIA_TYPES, Links, render, render_html

router = APIRouter()


def _day(value: str, name: str) -> date | None:
    if not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError as error:
        raise HTTPException(400, f"{name}: {value!r} is not a date (YYYY-MM-DD).") from error


def _digest(ctx: WebContext, session: DbSession, since: str, until: str) -> Digest:
    period = Period(_day(since, "since"), _day(until, "until"), ZoneInfo(ctx.settings.time_zone))
    if period.since and period.until and period.since > period.until:
        raise HTTPException(400, "The first day comes after the last day.")
    return load_digest(session, ctx.catalogue, period, utcnow(),
                       campaign_min_size=ctx.settings.campaign_min_size)


@router.get("/digest")
def digest_page(ctx: Ctx, session: DbSession, me: Staff, since: str = "",
                until: str = "") -> Response:
    digest = _digest(ctx, session, since, until)
    query = urlencode({k: v for k, v in (("since", since), ("until", until)) if v})
    toolbar = Markup(ctx.templates.get_template("digest_toolbar.html").render(  # noqa: S704
        since=since, until=until, query=f"?{query}" if query else "", user=me.user,
        time_zone=ctx.settings.time_zone))
    return HTMLResponse(render_html(digest, ctx.catalogue, Links(public=False), toolbar=toolbar))


def _download(ctx: WebContext, session: DbSession, fmt: str, since: str, until: str) -> Response:
    digest = _digest(ctx, session, since, until)
    body = render(digest, ctx.catalogue, fmt, Links(public=False))
    name = "-".join(["digest", since or "start", until or "now"]) + f".{fmt}"
    return Response(body, media_type=MEDIA_TYPES[fmt],
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/digest.html")
def digest_html(ctx: Ctx, session: DbSession, me: Staff, since: str = "",
                until: str = "") -> Response:
    return _download(ctx, session, "html", since, until)


@router.get("/digest.md")
def digest_md(ctx: Ctx, session: DbSession, me: Staff, since: str = "",
              until: str = "") -> Response:
    return _download(ctx, session, "md", since, until)


@router.get("/digest.csv")
def digest_csv(ctx: Ctx, session: DbSession, me: Staff, since: str = "",
               until: str = "") -> Response:
    return _download(ctx, session, "csv", since, until)


@router.get("/digest.json")
def digest_json(ctx: Ctx, session: DbSession, me: Staff, since: str = "",
                until: str = "") -> Response:
    return _download(ctx, session, "json", since, until)
