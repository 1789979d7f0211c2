"""Campaigns (near-identical letters sent by many): the list, one campaign with its members,
and the actions on it: approve or reject every undecided member at once, decide what a
member added, split a member out, merge another campaign in.

Every form carries the campaign's size as the moderator saw it (or the member's version):
a campaign that gained, lost or swapped members since gets HTTP 409 and the page as it is
now, so nobody approves 500 letters on the strength of a page showing 480. The work itself
is ``moderation.campaigns``; this module reads forms and shows results.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session, col, select

from intake.receipts import reference_for
from moderation.campaigns import (
    CampaignDecision,
    CampaignError,
    CampaignSummary,
    approve_campaign,
    decide_additions,
    get_campaign,
    list_campaigns,
    merge_campaigns,
    reject_campaign,
    split_member,
)
from moderation.models import Comment, RejectCode, utcnow
from moderation.reasons import REJECT_REASONS, parse_reject_code
from moderation.redaction import active_redactions, published_version
from moderation.transitions import InputError, TransitionError, claim_holder
from moderation.web.context import Ctx, DbSession, Staff, StaffSession, WebContext, require_csrf

router = APIRouter()
Csrf = Annotated[str, Form()]
Seen = Annotated[int | None, Form()]
Text = Annotated[str, Form()]
# Enough of the representative's text to tell two campaigns apart in the list.
FIRST_WORDS = 30


@dataclass(frozen=True)
class Listed:
    summary: CampaignSummary
    subject: str
    opening: str


@dataclass(frozen=True)
class Member:
    comment: Comment
    reference: str
    holder: str | None


def _first_words(text: str, count: int = FIRST_WORDS) -> str:
    words = text.split()
    return " ".join(words[:count]) + (" …" if len(words) > count else "")


def _representatives(ctx: WebContext, session: Session,
                     ids: list[int]) -> dict[int, tuple[str, str]]:
    """(subject, first words) of each representative, personal data hidden as published."""
    if not ids:
        return {}
    comments = session.exec(select(Comment).where(col(Comment.id).in_(ids))).all()
    redactions = active_redactions(session, ids)
    shown = {}
    for comment in comments:
        version = published_version(comment, redactions.get(comment.id or 0, []),
                                    ctx.format_text)
        shown[comment.id or 0] = (version.subject, _first_words(version.text))
    return shown


@router.get("/campaigns")
def campaigns_page(ctx: Ctx, session: DbSession, me: Staff, done: str | None = None) -> Response:
    summaries = list_campaigns(session, ctx.settings.campaign_min_size)
    texts = _representatives(ctx, session, [s.representative_comment_id for s in summaries])
    listed = [Listed(s, *texts.get(s.representative_comment_id, ("", ""))) for s in summaries]
    return ctx.render("campaigns.html", campaigns=listed, user=me.user, csrf=me.csrf,
                      min_size=ctx.settings.campaign_min_size, done=_done_message(done))


@router.get("/campaigns/{campaign_id}")
def campaign_page(ctx: Ctx, session: DbSession, me: Staff, campaign_id: int,
                  done: str | None = None) -> Response:
    return _render_campaign(ctx, session, me, campaign_id, done=_done_message(done))


def _render_campaign(ctx: WebContext, session: Session, me: StaffSession, campaign_id: int,
                     error: str | None = None, done: str | None = None,
                     status_code: int = 200) -> Response:
    try:
        summary = get_campaign(session, campaign_id)
    except CampaignError as missing:
        raise HTTPException(404, f"No campaign #{campaign_id}. / Nuk ka fushatë "
                                 f"#{campaign_id}.") from missing
    now = utcnow()
    members = [Member(c, reference_for(c.inbound_id), claim_holder(c, now))
               for c in session.exec(select(Comment)
                                     .where(col(Comment.campaign_id) == campaign_id)
                                     .order_by(col(Comment.id))).all()]
    representative = next((m.comment for m in members
                           if m.comment.id == summary.representative_comment_id), None)
    published = None
    if representative is not None:
        redactions = active_redactions(session, [representative.id or 0])
        published = published_version(representative,
                                      redactions.get(representative.id or 0, []),
                                      ctx.format_text)
    return ctx.render(
        "campaign.html", status_code=status_code, campaign=summary, members=members,
        representative=representative, published=published, user=me.user, csrf=me.csrf,
        me=me.name, error=error, done=done, reasons=REJECT_REASONS.values(),
        undecided=summary.statuses.get("pending", 0),
        shown=summary.size >= ctx.settings.campaign_min_size,
        min_size=ctx.settings.campaign_min_size)


def _done_message(done: str | None) -> str | None:
    """The notice after a redirect: ``what:comment-or-campaign-id``."""
    if not done:
        return None
    what, _, number = done.partition(":")
    if not number.isdigit():
        return None
    messages = {
        "split": f"#{number} u nda nga fushata / was split out of the campaign; "
                 "moderohet më vete / it is moderated on its own now.",
        "dissolved": f"#{number} u nda; fushata mbeti me më pak se dy anëtarë dhe u shpërbë "
                     "/ was split out; the campaign was left with fewer than two members "
                     "and is gone.",
        "merged": f"Fushata #{number} u bashkua në këtë / Campaign #{number} was merged "
                  "into this one.",
        "additions-approve": f"Shtesat e #{number} u miratuan / The additions of #{number} "
                             "were approved.",
        "additions-reject": f"Shtesat e #{number} u refuzuan / The additions of #{number} "
                            "were rejected.",
    }
    return messages.get(what)


def _stale(ctx: WebContext, session: Session, me: StaffSession, campaign_id: int,
           error: TransitionError) -> Response:
    """HTTP 409 (400 for a form that cannot be used): the campaign as it is now."""
    session.rollback()
    return _render_campaign(ctx, session, me, campaign_id, error=str(error),
                            status_code=400 if isinstance(error, InputError) else 409)


def _check_size(session: Session, campaign_id: int, size: int | None) -> None:
    summary = get_campaign(session, campaign_id)
    if size is None:
        raise InputError("the form did not say which campaign size it was made from; "
                         "reload the page / formulari nuk tha madhësinë e fushatës; "
                         "ringarkoni faqen")
    if summary.size != size:
        raise TransitionError(
            f"the campaign changed since you opened it: {summary.size} members now, "
            f"{size} when you looked; nothing was done, look again / fushata ndryshoi: "
            f"tani ka {summary.size} anëtarë, kur e hapët kishte {size}; asgjë nuk u bë")


def _member_of(session: Session, campaign_id: int, comment_id: int, version: int | None
               ) -> Comment:
    comment = session.get(Comment, comment_id)
    if comment is None or comment.campaign_id != campaign_id:
        raise TransitionError(f"comment #{comment_id} is no longer in campaign #{campaign_id} "
                              f"/ komenti #{comment_id} nuk është më në fushatën "
                              f"#{campaign_id}")
    if version is None:
        raise InputError("the form did not say which version of the comment it was made "
                         "from; reload the page")
    if comment.version != version:
        raise TransitionError(f"comment #{comment_id} changed since you opened the campaign "
                              f"(version {comment.version}, you saw {version}); nothing was "
                              "done, look again")
    return comment


def _missing(campaign_id: int) -> HTTPException:
    return HTTPException(404, f"No campaign #{campaign_id}. / Nuk ka fushatë #{campaign_id}.")


def _result(ctx: WebContext, session: Session, me: StaffSession, action: str,
            decision: CampaignDecision) -> Response:
    """What one action did to every member: how many, and who was left out and why."""
    skipped = session.exec(select(Comment).where(
        col(Comment.id).in_(sorted(decision.skipped)))).all() if decision.skipped else []
    references = {c.id or 0: reference_for(c.inbound_id) for c in skipped}
    status_code = 409 if decision.skipped and not decision.decided else 200
    return ctx.render("campaign_result.html", status_code=status_code, action=action,
                      decision=decision, references=references,
                      skipped=sorted(decision.skipped.items()),
                      campaign=get_campaign(session, decision.campaign_id),
                      user=me.user, csrf=me.csrf)


@router.post("/campaigns/{campaign_id}/approve")
def approve_all(ctx: Ctx, session: DbSession, me: Staff, campaign_id: int,
                csrf_token: Csrf = "", size: Seen = None) -> Response:
    """Every undecided member, in one action; what members added keeps waiting."""
    require_csrf(me.active, csrf_token)
    try:
        _check_size(session, campaign_id, size)
        decision = approve_campaign(session, campaign_id, me.name)
    except CampaignError as error:
        raise _missing(campaign_id) from error
    except TransitionError as error:
        return _stale(ctx, session, me, campaign_id, error)
    session.commit()
    if decision.decided and ctx.request_publish is not None:
        ctx.request_publish()
    return _result(ctx, session, me, "approve", decision)


@router.post("/campaigns/{campaign_id}/reject")
def reject_all(ctx: Ctx, session: DbSession, me: Staff, campaign_id: int,
               csrf_token: Csrf = "", size: Seen = None, reason_code: Text = "other",
               reason: Text = "") -> Response:
    require_csrf(me.active, csrf_token)
    try:
        _check_size(session, campaign_id, size)
        code = _reject_code(reason_code)
        # ``reject`` asks the same of each member; asked once here, the page says it once
        # rather than listing every member as skipped for it.
        if code is RejectCode.OTHER and not reason.strip():
            raise InputError("a rejection needs a reason the citizen can read: choose one "
                             "from the list or write it")
        decision = reject_campaign(session, campaign_id, me.name, code, reason,
                                   notices=ctx.notice_policy)
    except CampaignError as error:
        raise _missing(campaign_id) from error
    except TransitionError as error:
        return _stale(ctx, session, me, campaign_id, error)
    session.commit()
    if decision.decided and ctx.send_notices is not None:
        ctx.send_notices()
    return _result(ctx, session, me, "reject", decision)


def _reject_code(value: str) -> RejectCode:
    try:
        return parse_reject_code(value or "other")
    except ValueError as error:
        raise InputError(str(error)) from None


@router.post("/campaigns/{campaign_id}/members/{comment_id}/additions")
def decide_member_additions(ctx: Ctx, session: DbSession, me: Staff, campaign_id: int,
                            comment_id: int, csrf_token: Csrf = "", version: Seen = None,
                            decision: Text = "", reason: Text = "") -> Response:
    """Publish (or never publish) what this member wrote beyond the campaign's text."""
    require_csrf(me.active, csrf_token)
    try:
        if decision not in {"approve", "reject"}:
            raise InputError("decision must be approve or reject")
        _member_of(session, campaign_id, comment_id, version)
        decide_additions(session, comment_id, me.name, decision == "approve", reason)
    except TransitionError as error:  # CampaignError is one: shown on the page
        return _stale(ctx, session, me, campaign_id, error)
    session.commit()
    # Approved additions appear under the campaign; rejected ones may have been published.
    if ctx.request_publish is not None:
        ctx.request_publish()
    return RedirectResponse(f"/campaigns/{campaign_id}?done=additions-{decision}:{comment_id}"
                            f"#member-{comment_id}", status_code=303)


@router.post("/campaigns/{campaign_id}/members/{comment_id}/split")
def split_out(ctx: Ctx, session: DbSession, me: Staff, campaign_id: int, comment_id: int,
              csrf_token: Csrf = "", version: Seen = None, reason: Text = "") -> Response:
    """Take a member out for good (a different letter): moderated and published alone."""
    require_csrf(me.active, csrf_token)
    try:
        _member_of(session, campaign_id, comment_id, version)
        split_member(session, comment_id, me.name, reason)
    except TransitionError as error:
        return _stale(ctx, session, me, campaign_id, error)
    session.commit()
    if ctx.request_publish is not None:
        ctx.request_publish()
    try:
        get_campaign(session, campaign_id)
    except CampaignError:
        return RedirectResponse(f"/campaigns?done=dissolved:{comment_id}", status_code=303)
    return RedirectResponse(f"/campaigns/{campaign_id}?done=split:{comment_id}",
                            status_code=303)


@router.post("/campaigns/{campaign_id}/merge")
def merge_into(ctx: Ctx, session: DbSession, me: Staff, campaign_id: int,
               csrf_token: Csrf = "", size: Seen = None,
               other: Annotated[str, Form()] = "") -> Response:
    """Move every member of campaign ``other`` into this one (the same letter, grouped
    apart: a long edit, another greeting)."""
    require_csrf(me.active, csrf_token)
    try:
        _check_size(session, campaign_id, size)
        number = other.strip().lstrip("#")
        if not number.isdigit():
            raise InputError(f"give the number of the campaign to merge in (got {other!r}) "
                             "/ jepni numrin e fushatës që do të bashkohet")
        merge_campaigns(session, campaign_id, int(number), me.name)
    except CampaignError as error:
        # This campaign was checked above: the other one is missing, or is this one.
        return _stale(ctx, session, me, campaign_id, InputError(str(error)))
    except TransitionError as error:
        return _stale(ctx, session, me, campaign_id, error)
    session.commit()
    if ctx.request_publish is not None:
        ctx.request_publish()
    return RedirectResponse(f"/campaigns/{campaign_id}?done=merged:{number}", status_code=303)
