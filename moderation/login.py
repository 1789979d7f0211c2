"""A staff login attempt, from the throttle to the audit log. No HTTP here.

The order is the contract: the throttle is asked first, so a refused attempt
costs no password hashing; only failures are counted; every outcome (login,
failure with its reason, refusal) is one audit row with the client's address.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from moderation.audit import AccountAction, record
from moderation.models import User
from moderation.throttle import LoginThrottle, Refusal
from moderation.users import LoginFailure, check_credentials


@dataclass(frozen=True)
class LoginAttempt:
    name: str
    password: str
    code: str
    address: str

    @property
    def actor(self) -> str:
        # The name as typed, also when nobody has it: the log shows whom an attack aimed at.
        return self.name.strip() or "-"


@dataclass(frozen=True)
class LoginOutcome:
    """Exactly one of: the user, why the login failed, or the throttle's refusal."""

    user: User | None = None
    failure: LoginFailure | None = None
    refusal: Refusal | None = None


def log_in(session: Session, throttle: LoginThrottle, attempt: LoginAttempt,
           now: datetime | None = None) -> LoginOutcome:
    where = f"address {attempt.address}"
    refusal = throttle.check(attempt.name.strip(), attempt.address)
    if refusal is not None:
        record(session, attempt.actor, AccountAction.LOGIN_THROTTLED,
               reason=f"too many failed logins for this {refusal.scope}", detail=where)
        return LoginOutcome(refusal=refusal)
    checked = check_credentials(session, attempt.name, attempt.password, attempt.code, now)
    if isinstance(checked, LoginFailure):
        throttle.failed(attempt.name.strip(), attempt.address)
        record(session, attempt.actor, AccountAction.LOGIN_FAILED, reason=checked.value,
               detail=where)
        return LoginOutcome(failure=checked)
    record(session, checked.name, AccountAction.LOGIN, detail=where)
    return LoginOutcome(user=checked)


def log_out(session: Session, name: str, address: str) -> None:
    record(session, name, AccountAction.LOGOUT, detail=f"address {address}")
