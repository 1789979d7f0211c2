"""The moderation UI: server-rendered, works without JavaScript.

Every POST checks the session's CSRF token; every page sends a strict CSP (the
keyboard script is served from this origin, nothing inline). Every route's
roles come from ``moderation.access.ROUTE_ROLES``, checked by one dependency.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy import Engine

from config.catalogue import Catalogue, default_catalogue
from config.settings import Settings
from moderation.db import make_engine
from moderation.web.context import LoginRequiredError, WebContext, authorize
from moderation.web.routes import (
    audit,
    auth,
    campaigns,
    comments,
    contact,
    digest,
    inbound,
    queue,
    users,
)

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self'; "
    "style-src 'self' 'unsafe-inline'; script-src 'self'; frame-ancestors 'none'; "
    "form-action 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
# Sent only when cookies are HTTPS-only (OGP_COOKIE_SECURE), i.e. the UI is served over
# HTTPS: a browser then never tries plain HTTP for a year.
HSTS = ("Strict-Transport-Security", "max-age=31536000")
# What a visitor reads when the server failed: never the exception, which can name
# tables, hosts or a citizen's data; the log has it.
SERVER_ERROR = ("Ndodhi një gabim në server. Provoni përsëri më vonë. / "
                "Something went wrong on the server. Please try again later.")
BAD_REQUEST = ("Kërkesa nuk u kuptua. / The request was not understood.")
STATIC_DIR = Path(__file__).with_name("static")


def make_templates() -> Environment:
    return Environment(loader=PackageLoader("moderation", "web/templates"),
                       autoescape=select_autoescape(["html"]))


def create_app(
    settings: Settings,
    engine: Engine | None = None,
    catalogue: Catalogue | None = None,
    enqueue: Callable[[Sequence[int]], None] | None = None,
    format_text: Callable[[str], str] | None = None,
    send_notices: Callable[[], None] | None = None,
    send_receipts: Callable[[Sequence[int]], None] | None = None,
    request_publish: Callable[[], None] | None = None,
) -> FastAPI:
    """``enqueue`` hands released messages to processing; without it they wait
    in ``received`` for the next worker round. ``send_notices`` sends decision
    notices that are due, ``send_receipts`` planned receipts (a contact-form address
    just confirmed); without them the sweeper sends both."""
    if format_text is None:
        # The web layer is an adapter: it may use the intake's pure formatter.
        from intake.sanitize import display_html

        format_text = display_html
    ctx = WebContext(
        settings=settings,
        engine=engine or make_engine(settings.database_url),
        catalogue=catalogue or default_catalogue(),
        templates=make_templates(),
        enqueue=enqueue,
        format_text=format_text,
        send_notices=send_notices,
        send_receipts=send_receipts,
        request_publish=request_publish,
    )
    app = FastAPI(title="ogp-feedback moderation", docs_url=None, redoc_url=None,
                  openapi_url=None, dependencies=[Depends(authorize)])
    app.state.ctx = ctx
    # The site is a symlink into the publisher's store (``publish.store``), switched on each
    # publish: never created here, and followed into the store's folders.
    app.mount("/site", StaticFiles(directory=Path(settings.site_dir), html=True,
                                   check_dir=False, follow_symlink=True), name="site")
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    def secure(request: Request, response: Response) -> Response:
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if settings.cookie_secure:
            response.headers.setdefault(*HSTS)
        if not request.url.path.startswith(("/site", "/static")):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        return secure(request, response)

    @app.exception_handler(Exception)
    async def server_error(request: Request, _exc: Exception) -> Response:
        # Answered outside the middleware above, so the headers are added here too. The
        # exception is raised on after this answer, and the server logs it.
        return secure(request, ctx.render("error.html", status_code=500, message=SERVER_ERROR,
                                          user=None, csrf=""))

    @app.exception_handler(RequestValidationError)
    async def bad_request(_request: Request, _exc: RequestValidationError) -> Response:
        # FastAPI's own answer lists each field, its rules and the input sent back.
        return ctx.render("error.html", status_code=422, message=BAD_REQUEST, user=None,
                          csrf="")

    @app.exception_handler(LoginRequiredError)
    async def to_login(request: Request, _exc: LoginRequiredError) -> Response:
        target = request.url.path
        if request.method == "GET" and request.url.query:
            target += "?" + request.url.query
        from urllib.parse import quote

        return RedirectResponse(f"/login?next={quote(target, safe='/')}", status_code=303)

    @app.exception_handler(HTTPException)
    async def http_error(_request: Request, exc: HTTPException) -> Response:
        return ctx.render("error.html", status_code=exc.status_code, message=exc.detail,
                          user=None, csrf="")

    @app.get("/healthz", response_class=PlainTextResponse)
    def healthz() -> str:
        return "ok"

    @app.get("/")
    def root() -> Response:
        return RedirectResponse("/queue", status_code=303)

    for module in (auth, queue, comments, campaigns, inbound, audit, digest, users, contact):
        app.include_router(module.router)
    return app
