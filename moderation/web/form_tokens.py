"""CSRF tokens for the forms anyone may send: the contact form, the address confirmation
and the login form.

Serving such a form writes nothing anywhere (a crawler or a script that fetches it
a million times grows no table). The check is a double submit: a random value in a
cookie (HttpOnly, SameSite=Strict; ``__Host-`` when cookies are HTTPS-only), and in the
form the time it was served with an HMAC (``OGP_SECRET_KEY``) over that value and the
time; one token serves every such form, as the session's token did. Another site can
neither read the cookie nor forge the signature; the signed time also says how long the
form was open, which is the contact form's check against scripts that post faster than
a person types.

Staff forms behind a login keep the session's CSRF token (``moderation.web.sessions``).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from fastapi import Request
from fastapi.responses import Response

from config.settings import Settings
from moderation.web.sessions import cookie_name

FORM_COOKIE = "ogp_form"
_NONCE = re.compile(r"[A-Za-z0-9_-]{32}")
_TOKEN = re.compile(r"(?P<issued>[0-9]{1,12})\.(?P<mac>[0-9a-f]{64})")


def sign(secret_key: str, nonce: str, issued_at: int) -> str:
    """The form field's value: when it was served, and the signature binding it to the cookie."""
    message = f"anonymous-form|{nonce}|{issued_at}".encode()
    mac = hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()
    return f"{issued_at}.{mac}"


def seconds_open(secret_key: str, nonce: str | None, token: str | None, now: float,
                 max_age: float) -> float | None:
    """How long ago a genuine token was served; ``None`` when it is missing, forged, made
    for another cookie, from the future, or older than ``max_age``."""
    if not nonce or not token or not _NONCE.fullmatch(nonce):
        return None
    match = _TOKEN.fullmatch(token)
    if match is None:
        return None
    issued_at = int(match["issued"])
    if not hmac.compare_digest(sign(secret_key, nonce, issued_at), token):
        return None
    age = now - issued_at
    # A little slack for a clock step between two web processes.
    if age < -5 or age > max_age:
        return None
    return max(0.0, age)


@dataclass(frozen=True)
class IssuedForm:
    """The token to put in the form, and the cookie value to set when the browser has none."""

    token: str
    nonce: str
    new_cookie: bool


def _cookie(request: Request, settings: Settings) -> str | None:
    value = request.cookies.get(cookie_name(settings, FORM_COOKIE))
    return value if value is not None and _NONCE.fullmatch(value) else None


def issue(request: Request, settings: Settings, now: float) -> IssuedForm:
    """A token for a form being served; the browser's cookie value is kept when it has one,
    so two open tabs both stay valid."""
    nonce = _cookie(request, settings)
    fresh = nonce is None
    if nonce is None:
        nonce = secrets.token_urlsafe(24)
    return IssuedForm(sign(settings.secret_key, nonce, int(now)), nonce, fresh)


def remember(response: Response, settings: Settings, issued: IssuedForm) -> None:
    if issued.new_cookie:
        response.set_cookie(cookie_name(settings, FORM_COOKIE), issued.nonce,
                            max_age=settings.session_max_age_seconds, httponly=True,
                            samesite="strict", secure=settings.cookie_secure, path="/")


def verify(request: Request, settings: Settings, submitted: str | None,
           now: float) -> float | None:
    """Seconds the submitted form was open, or ``None`` when its token does not hold."""
    return seconds_open(settings.secret_key, _cookie(request, settings), submitted, now,
                        settings.session_max_age_seconds)
