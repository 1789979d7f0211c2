"""Time-based one-time codes (RFC 6238) for staff who set up a second factor.

Pure functions of a secret, a code and a time: no database, no clock of their
own. Replay protection needs the last accepted time step, which the caller
keeps (``User.totp_last_step``) and compares atomically.
"""

from __future__ import annotations

import hmac
from datetime import datetime

import pyotp

ISSUER = "ogp-feedback"
# One step either side: a phone clock 30 s off still works.
DRIFT_STEPS = 1


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(name: str, secret: str) -> str:
    """The ``otpauth://`` URI an authenticator app reads (pasted, or as a QR code)."""
    return pyotp.TOTP(secret).provisioning_uri(name=name, issuer_name=ISSUER)


def code_at(secret: str, when: datetime) -> str:
    """The code an authenticator app shows at ``when`` (for tests and for support)."""
    return pyotp.TOTP(secret).at(when)


def matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step whose code ``code`` is, within the allowed drift; ``None``: no match."""
    code = "".join(code.split())
    if not code.isdigit() or len(code) != 6:
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None
