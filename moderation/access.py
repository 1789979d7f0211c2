"""Who may do what: one declared table for every web route and every command.

Checked in one place each: a FastAPI dependency for the routes
(``moderation.web.context.authorize``) and ``require_role`` for the commands
that act as a named user (``--as USER``). A route missing from the table is
refused (and ``tests/unit/moderation/web/test_access.py`` fails on it).
"""

from __future__ import annotations

from typing import Final, Literal

from moderation.models import Role

Public = Literal["public"]
PUBLIC: Final[Public] = "public"
Roles = frozenset[Role]

MODERATION: Final[Roles] = frozenset({Role.MODERATOR, Role.SECRETARIAT, Role.ADMIN})
SECRETARIAT: Final[Roles] = frozenset({Role.SECRETARIAT, Role.ADMIN})
ADMIN: Final[Roles] = frozenset({Role.ADMIN})

ROUTE_ROLES: Final[dict[tuple[str, str], Roles | Public]] = {
    # Anyone: liveness, readiness and metrics (counts only), the login form, the contact form.
    ("GET", "/"): PUBLIC,
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    ("GET", "/metrics"): PUBLIC,
    ("GET", "/login"): PUBLIC,
    ("POST", "/login"): PUBLIC,
    ("GET", "/contact"): PUBLIC,
    ("POST", "/contact"): PUBLIC,
    ("GET", "/contact/thanks"): PUBLIC,
    # The link in the first mail to a form address shows a button; only the POST confirms.
    ("GET", "/contact/confirm"): PUBLIC,
    ("POST", "/contact/confirm"): PUBLIC,
    # Queue work.
    ("POST", "/logout"): MODERATION,
    ("GET", "/queue"): MODERATION,
    ("GET", "/help"): MODERATION,
    ("GET", "/comments/{comment_id}"): MODERATION,
    ("POST", "/comments/{comment_id}/approve"): MODERATION,
    ("POST", "/comments/{comment_id}/reject"): MODERATION,
    ("POST", "/comments/{comment_id}/edit"): MODERATION,
    ("POST", "/comments/{comment_id}/reclassify"): MODERATION,
    ("POST", "/comments/{comment_id}/undo"): MODERATION,
    # Consent the citizen gave in writing to publish their name (or its removal).
    ("POST", "/comments/{comment_id}/consent"): MODERATION,
    ("POST", "/comments/{comment_id}/consent/remove"): MODERATION,
    # Withdrawal and erasure on the citizen's request.
    ("POST", "/comments/{comment_id}/withdraw"): SECRETARIAT,
    ("POST", "/comments/{comment_id}/erase"): SECRETARIAT,
    ("POST", "/comments/{comment_id}/claim"): MODERATION,
    ("POST", "/comments/{comment_id}/unclaim"): MODERATION,
    ("POST", "/comments/{comment_id}/redactions"): MODERATION,
    ("POST", "/comments/{comment_id}/redactions/{redaction_id}/lift"): MODERATION,
    ("POST", "/comments/bulk"): MODERATION,
    # Campaigns: a form letter decided once for all its senders, split, merged.
    ("GET", "/campaigns"): MODERATION,
    ("GET", "/campaigns/{campaign_id}"): MODERATION,
    ("POST", "/campaigns/{campaign_id}/approve"): MODERATION,
    ("POST", "/campaigns/{campaign_id}/reject"): MODERATION,
    ("POST", "/campaigns/{campaign_id}/merge"): MODERATION,
    ("POST", "/campaigns/{campaign_id}/members/{comment_id}/additions"): MODERATION,
    ("POST", "/campaigns/{campaign_id}/members/{comment_id}/split"): MODERATION,
    # Reasoned responses: the secretariat answers for the government.
    ("POST", "/comments/{comment_id}/response"): SECRETARIAT,
    ("POST", "/comments/{comment_id}/response/edit"): SECRETARIAT,
    ("POST", "/comments/respond"): SECRETARIAT,
    # Set-aside mail, the audit log.
    ("GET", "/quarantine"): SECRETARIAT,
    ("POST", "/inbound/{inbound_id}/release"): SECRETARIAT,
    ("POST", "/inbound/{inbound_id}/reprocess"): SECRETARIAT,
    ("GET", "/audit"): SECRETARIAT,
    ("GET", "/audit.csv"): SECRETARIAT,
    # The digest of comments for a date range, and its downloads.
    ("GET", "/digest"): SECRETARIAT,
    ("GET", "/digest.html"): SECRETARIAT,
    ("GET", "/digest.md"): SECRETARIAT,
    ("GET", "/digest.csv"): SECRETARIAT,
    ("GET", "/digest.json"): SECRETARIAT,
    # Raw mail (every header, the sender's address) and accounts.
    ("GET", "/inbound/{inbound_id}/raw"): ADMIN,
    ("GET", "/users"): ADMIN,
    ("POST", "/users/{name}/disable"): ADMIN,
    ("POST", "/users/{name}/enable"): ADMIN,
}

# Commands that act as a named user; the others are the operator's own (shell access).
COMMAND_ROLES: Final[dict[str, Roles]] = {
    "approve": MODERATION,
    "reject": MODERATION,
    "campaigns": MODERATION,
    "release": SECRETARIAT,
    "reprocess": SECRETARIAT,
    "respond": SECRETARIAT,
    "withdraw": SECRETARIAT,
    "erase": SECRETARIAT,
}


def allows(required: Roles | Public, role: str | None) -> bool:
    if required == PUBLIC:
        return True
    return role is not None and role in {r.value for r in required}
