"""The moderation web UI: server-rendered, works without JavaScript.

Every POST checks the session's CSRF token; every page sends a strict CSP.
Moderators see the comment exactly as it will be published (the same
sanitized HTML the site renders) next to its commitments.
"""


from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from config.catalogue import Catalogue, default_catalogue
from config.settings import Settings
from moderation.db import make_engine, session_scope
from moderation.models import Attachment, Comment, CommentStatus, InboundMessage
from moderation.public import commitments_by_comment
from moderation.queries import count_by_status, list_comments, quarantined_messages
from moderation.transitions import (
    TransitionError,
    approve,
    reject,
    release_inbound,
    reprocess_inbound,
)
from moderation.users import authenticate
from moderation.web.sessions import (
    COOKIE_NAME,
    ActiveSession,
    csrf_valid,
    end_session,
    load_session,
    start_session,
)

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self'; "
    "style-src 'self' 'unsafe-inline'; script-src 'none'; frame-ancestors 'none'; "
    "form-action 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
QUEUE_STATUSES = ("pending", "approved", "rejected", "published", "all")


class LoginRequiredError(Exception):
    pass


def create_app(
    settings: Settings,
    engine: Engine | None = None,
    catalogue: Catalogue | None = None,
    enqueue: Callable[[Sequence[int]], None] | None = None,
) -> FastAPI:
    """``enqueue`` hands released messages to processing; without it they wait
    in ``received`` for the next worker round."""
    engine = engine or make_engine(settings.database_url)
    catalogue = catalogue or default_catalogue()
    templates = Environment(
        loader=PackageLoader("moderation", "web/templates"),
        autoescape=select_autoescape(["html"]),
    )
    app = FastAPI(title="ogp-feedback moderation", docs_url=None, redoc_url=None)
    site_dir = Path(settings.site_dir)
    site_dir.mkdir(parents=True, exist_ok=True)
    app.mount("/site", StaticFiles(directory=site_dir, html=True, check_dir=False), name="site")

    def db() -> Any:
        with session_scope(engine) as session:
            yield session

    DbSession = Annotated[Session, Depends(db)]

    def current(request: Request, session: DbSession) -> ActiveSession | None:
        return load_session(session, request.cookies.get(COOKIE_NAME))

    MaybeSession = Annotated[ActiveSession | None, Depends(current)]

    def moderator(active: MaybeSession) -> ActiveSession:
        if active is None or active.user is None:
            raise LoginRequiredError
        return active

    Moderator = Annotated[ActiveSession, Depends(moderator)]

    def render(name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        html = templates.get_template(name).render(catalogue=catalogue, **context)
        return HTMLResponse(html, status_code=status_code)

    def set_cookie(response: Response, active: ActiveSession) -> None:
        response.set_cookie(COOKIE_NAME, active.token, max_age=settings.session_max_age_seconds,
                            httponly=True, samesite="lax", secure=settings.cookie_secure,
                            path="/")

    def require_csrf(active: ActiveSession | None, token: str | None) -> None:
        if not csrf_valid(active, token):
            raise HTTPException(403, "The form has expired or did not come from this site "
                                     "(CSRF check failed). Reload the page and try again.")

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if not request.url.path.startswith("/site"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.exception_handler(LoginRequiredError)
    async def to_login(request: Request, _exc: LoginRequiredError) -> Response:
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)

    @app.exception_handler(HTTPException)
    async def http_error(_request: Request, exc: HTTPException) -> Response:
        return render("error.html", status_code=exc.status_code, message=exc.detail,
                      user=None, csrf="")

    @app.get("/healthz", response_class=PlainTextResponse)
    def healthz() -> str:
        return "ok"

    @app.get("/")
    def root() -> Response:
        return RedirectResponse("/queue", status_code=303)

    @app.get("/login")
    def login_form(session: DbSession, active: MaybeSession, next: str = "/queue") -> Response:
        if active is None:
            active = start_session(session, None, settings.session_max_age_seconds)
        response = render("login.html", csrf=active.record.csrf_token, next=_safe_next(next),
                          user=active.user, error=None)
        set_cookie(response, active)
        return response

    @app.post("/login")
    def login(
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
            return render("login.html", status_code=401, csrf=active.record.csrf_token,
                          next=_safe_next(next), user=None,
                          error="Emri ose fjalëkalimi është i gabuar. / "
                                "Wrong user name or password.")
        end_session(session, active)
        fresh = start_session(session, user, settings.session_max_age_seconds)
        response = RedirectResponse(_safe_next(next), status_code=303)
        set_cookie(response, fresh)
        return response

    @app.post("/logout")
    def logout(session: DbSession, active: Moderator,
               csrf_token: Annotated[str, Form()] = "") -> Response:
        require_csrf(active, csrf_token)
        end_session(session, active)
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(COOKIE_NAME, path="/")
        return response

    @app.get("/queue")
    def queue(session: DbSession, active: Moderator, status: str = "pending") -> Response:
        if status not in QUEUE_STATUSES:
            raise HTTPException(400, f"unknown status {status!r}")
        items = list_comments(session, status, limit=500)
        return render("queue.html", items=items, status=status, counts=count_by_status(session),
                      statuses=QUEUE_STATUSES, user=active.user, csrf=active.record.csrf_token)

    @app.get("/comments/{comment_id}")
    def comment_page(session: DbSession, active: Moderator, comment_id: int,
                     error: str | None = None) -> Response:
        comment = session.get(Comment, comment_id)
        if comment is None:
            raise HTTPException(404, f"No comment #{comment_id}.")
        inbound = session.get(InboundMessage, comment.inbound_id)
        labels = commitments_by_comment(session, [comment_id]).get(comment_id, [])
        attachments = session.exec(
            select(Attachment).where(Attachment.inbound_id == comment.inbound_id)
        ).all()
        return render("comment.html", comment=comment, inbound=inbound, attachments=attachments,
                      labels=[catalogue.label(label) for label in labels],
                      user=active.user, csrf=active.record.csrf_token, error=error,
                      next_id=_next_pending(session, comment_id))

    @app.get("/quarantine")
    def quarantine(session: DbSession, active: Moderator) -> Response:
        items = quarantined_messages(session, limit=500)
        failed = quarantined_messages(session, limit=500, status="failed")
        return render("quarantine.html", items=items, failed=failed, user=active.user,
                      csrf=active.record.csrf_token)

    def resubmit(session: Session, active: ActiveSession, inbound_id: int, csrf_token: str,
                 transition: Callable[[Session, int, str], object]) -> Response:
        require_csrf(active, csrf_token)
        assert active.user is not None
        try:
            transition(session, inbound_id, active.user.name)
        except TransitionError as error:
            raise HTTPException(409, str(error)) from error
        session.commit()
        if enqueue is not None:
            enqueue([inbound_id])  # after the commit above
        return RedirectResponse("/quarantine", status_code=303)

    @app.post("/inbound/{inbound_id}/release")
    def release(session: DbSession, active: Moderator, inbound_id: int,
                csrf_token: Annotated[str, Form()] = "") -> Response:
        return resubmit(session, active, inbound_id, csrf_token, release_inbound)

    @app.post("/inbound/{inbound_id}/reprocess")
    def reprocess(session: DbSession, active: Moderator, inbound_id: int,
                  csrf_token: Annotated[str, Form()] = "") -> Response:
        return resubmit(session, active, inbound_id, csrf_token, reprocess_inbound)

    @app.post("/comments/{comment_id}/approve")
    def approve_comment(session: DbSession, active: Moderator, comment_id: int,
                        csrf_token: Annotated[str, Form()] = "") -> Response:
        require_csrf(active, csrf_token)
        assert active.user is not None
        try:
            approve(session, comment_id, active.user.name)
        except TransitionError as error:
            raise HTTPException(409, str(error)) from error
        return _after_decision(session, comment_id)

    @app.post("/comments/{comment_id}/reject")
    def reject_comment(session: DbSession, active: Moderator, comment_id: int,
                       csrf_token: Annotated[str, Form()] = "",
                       reason: Annotated[str, Form()] = "") -> Response:
        require_csrf(active, csrf_token)
        assert active.user is not None
        try:
            reject(session, comment_id, active.user.name, reason)
        except TransitionError as error:
            return RedirectResponse(f"/comments/{comment_id}?error={quote(str(error))}",
                                    status_code=303)
        return _after_decision(session, comment_id)

    return app


def _safe_next(target: str) -> str:
    # Only local paths: an open redirect after login is a phishing aid.
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/queue"
    return target


def _next_pending(session: Session, after: int) -> int | None:
    statement = (
        select(Comment.id)
        .where(Comment.status == CommentStatus.PENDING, col(Comment.id) != after)
        .order_by(col(Comment.id) <= after, col(Comment.id))
        .limit(1)
    )
    return session.exec(statement).first()


def _after_decision(session: Session, comment_id: int) -> Response:
    session.flush()
    following = _next_pending(session, comment_id)
    target = f"/comments/{following}" if following else "/queue"
    return RedirectResponse(target, status_code=303)
