"""What every route shares: the app's context, the database session, the signed-in
user, rendering, cookies, CSRF, and the one authorization check.

Routes read the ``WebContext`` from ``request.app.state`` through ``Ctx``, so a
router module needs no factory of its own.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment
from sqlalchemy import Engine
from sqlmodel import Session

from config.catalogue import Catalogue
from config.settings import Settings
from moderation.access import ROUTE_ROLES, Public, Roles, allows
from moderation.db import session_scope
from moderation.models import User
from moderation.throttle import FormThrottle, LoginThrottle
from moderation.transitions import NoticePolicy
from moderation.web import form_tokens
from moderation.web.sessions import ActiveSession, cookie_name, csrf_valid, load_session

Enqueue = Callable[[Sequence[int]], None]


@dataclass
class WebContext:
    settings: Settings
    engine: Engine
    catalogue: Catalogue
    templates: Environment
    # Hands released messages to processing, after the commit.
    enqueue: Enqueue | None
    # Turns a moderator's edited text into the HTML to publish (sanitized, linkified).
    format_text: Callable[[str], str]
    # Sends decision notices that are already due (after the commit); None: the sweeper does.
    send_notices: Callable[[], None] | None = None
    # Sends planned receipts by id (after the commit); None: the sweeper does.
    send_receipts: Callable[[Sequence[int]], None] | None = None
    # Asks for the site to be republished after an approval (debounced, after the undo
    # window); None: the publisher's schedule or `ogp-feedback publish` does it.
    request_publish: Callable[[], None] | None = None
    extras: dict[str, Any] = field(default_factory=dict)
    # Failed-login counters: one per app (in Redis when configured, shared by all processes).
    login_throttle: LoginThrottle = field(init=False, repr=False)
    # Contact-form submissions per client address and from everyone (shared likewise).
    form_throttle: FormThrottle = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.login_throttle = LoginThrottle.from_settings(self.settings)
        self.form_throttle = FormThrottle.from_settings(self.settings)

    @property
    def notice_policy(self) -> NoticePolicy:
        return NoticePolicy.from_settings(self.settings)

    def render(self, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        html = self.templates.get_template(name).render(catalogue=self.catalogue,
                                                        settings=self.settings, **context)
        return HTMLResponse(html, status_code=status_code)

    def set_cookie(self, response: Response, active: ActiveSession) -> None:
        # Strict: a link from another site (a mail, a chat) opens the UI without the
        # session, so no cross-site request can act as the moderator.
        response.set_cookie(cookie_name(self.settings), active.token,
                            max_age=self.settings.session_max_age_seconds, httponly=True,
                            samesite="strict", secure=self.settings.cookie_secure, path="/")

    def delete_cookie(self, response: Response) -> None:
        response.delete_cookie(cookie_name(self.settings), path="/", httponly=True,
                               samesite="strict", secure=self.settings.cookie_secure)


class LoginRequiredError(Exception):
    """Answered with a redirect to the login page."""


def context(request: Request) -> WebContext:
    ctx: WebContext = request.app.state.ctx
    return ctx


Ctx = Annotated[WebContext, Depends(context)]


def db(ctx: Ctx) -> Iterator[Session]:
    with session_scope(ctx.engine) as session:
        yield session


# scope="function": the transaction commits before the response is sent, so a
# client that follows a redirect at once sees what the request wrote.
DbSession = Annotated[Session, Depends(db, scope="function")]


def _required_roles(request: Request) -> Roles | Public | None:
    path = getattr(request.scope.get("route"), "path", None)
    return ROUTE_ROLES.get((request.method, path or ""))


def current(request: Request, session: DbSession, ctx: Ctx) -> ActiveSession | None:
    # Every route uses this one session (and transaction) of the request: on SQLite a
    # second writer in the same request would wait for this one.
    return load_session(session, request.cookies.get(cookie_name(ctx.settings)),
                        idle_seconds=ctx.settings.session_idle_seconds)


MaybeSession = Annotated[ActiveSession | None, Depends(current)]


@dataclass(frozen=True)
class StaffSession:
    """A signed-in user's session; routes get one only after ``authorize`` passed."""

    active: ActiveSession
    user: User

    @property
    def name(self) -> str:
        return self.user.name

    @property
    def csrf(self) -> str:
        return self.active.record.csrf_token


def staff(active: MaybeSession) -> StaffSession:
    if active is None or active.user is None:
        raise LoginRequiredError
    return StaffSession(active, active.user)


Staff = Annotated[StaffSession, Depends(staff)]


def authorize(request: Request, active: MaybeSession) -> None:
    """The one role check: the route's entry in ``ROUTE_ROLES`` against the user's role."""
    required = _required_roles(request)
    if required is None:
        path = getattr(request.scope.get("route"), "path", None)
        # Fail closed: a route nobody declared is nobody's.
        raise HTTPException(403, f"{request.method} {path} has no entry in the role table.")
    if allows(required, None):
        return
    if active is None or active.user is None:
        raise LoginRequiredError
    if not allows(required, active.user.role):
        raise HTTPException(403, "Your role does not allow this. / "
                                 "Roli juaj nuk e lejon këtë veprim.")


CSRF_FAILED = ("The form has expired or did not come from this site "
               "(CSRF check failed). Reload the page and try again.")


def require_csrf(active: ActiveSession | None, token: str | None) -> None:
    if not csrf_valid(active, token):
        raise HTTPException(403, CSRF_FAILED)


def require_form_token(request: Request, ctx: WebContext, token: str | None) -> None:
    """The check for a form served without a session (``moderation.web.form_tokens``)."""
    if form_tokens.verify(request, ctx.settings, token, time.time()) is None:
        raise HTTPException(403, CSRF_FAILED)


def declared_routes(routes: Sequence[Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    """Every (method, path) the app answers, included routers flattened (for the role table
    check and its test)."""
    for route in routes:
        original = getattr(route, "original_router", None)
        if original is not None:
            context_prefix = getattr(getattr(route, "include_context", None), "prefix", "")
            yield from declared_routes(original.routes, prefix + (context_prefix or ""))
            continue
        for method in sorted(getattr(route, "methods", None) or ()):
            yield method, prefix + route.path
