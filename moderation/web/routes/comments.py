"""One comment: open (and hold) it, decide, edit, reclassify, undo, respond.

Every form carries the ``version`` the moderator saw (of the comment, or of its
response); a stale one gets HTTP 409 and a page that lists what changed since, and by whom.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session, col, select

from intake.pii import detect_personal_data
from moderation.access import SECRETARIAT, allows
from moderation.classification import explanation_of
from moderation.models import (
    Attachment,
    Campaign,
    Comment,
    CommentStatus,
    DecisionNotice,
    InboundMessage,
    ModerationEvent,
    NoticeStatus,
    NoticeTopic,
    utcnow,
)
from moderation.reasons import REJECT_REASONS, parse_reject_code
from moderation.redaction import (
    RedactionField,
    all_redactions,
    body_field,
    field_text,
    published_version,
    redetect_edited,
)
from moderation.redaction import add as add_redaction
from moderation.redaction import lift as lift_redaction
from moderation.responses import (
    ANSWERABLE,
    OUTCOMES,
    StaleResponseError,
    edit_response,
    respond,
    response_of,
)
from moderation.transitions import (
    InputError,
    StaleVersionError,
    TransitionError,
    approve,
    claim,
    claim_holder,
    commitments_of,
    edit,
    reclassify,
    record_consent,
    reject,
    release_claim,
    remove_consent,
    undo,
    withdraw,
)
from moderation.web.context import Ctx, DbSession, Staff, StaffSession, WebContext, require_csrf

router = APIRouter()
Version = Annotated[int | None, Form()]
Csrf = Annotated[str, Form()]


@router.get("/comments/{comment_id}")
def comment_page(ctx: Ctx, session: DbSession, me: Staff, comment_id: int,
                 error: str | None = None, decided: int | None = None) -> Response:
    comment = session.get(Comment, comment_id)
    if comment is None:
        raise HTTPException(404, f"No comment #{comment_id}.")
    # Opening a comment holds it for a few minutes, unless someone else holds it.
    claim(session, comment_id, me.name, timedelta(seconds=ctx.settings.claim_seconds))
    return _render_comment(ctx, session, me, comment, error=error, decided=decided)


def _render_comment(ctx: WebContext, session: Session, me: StaffSession, comment: Comment,
                    error: str | None = None, decided: int | None = None,
                    status_code: int = 200, stale: list[ModerationEvent] | None = None
                    ) -> Response:
    comment_id = comment.id or 0
    now = utcnow()
    inbound = session.get(InboundMessage, comment.inbound_id)
    labels = commitments_of(session, comment_id)
    attachments = session.exec(
        select(Attachment).where(Attachment.inbound_id == comment.inbound_id)
    ).all()
    history = session.exec(
        select(ModerationEvent).where(ModerationEvent.comment_id == comment_id)
        .order_by(col(ModerationEvent.id))
    ).all()
    notices = {notice.topic: notice for notice in session.exec(
        select(DecisionNotice).where(DecisionNotice.comment_id == comment_id)).all()}
    notice = notices.get(NoticeTopic.DECISION)
    redactions = all_redactions(session, [comment_id]).get(comment_id, [])
    campaign = session.get(Campaign, comment.campaign_id) if comment.campaign_id else None
    return ctx.render(
        "comment.html", status_code=status_code, comment=comment, inbound=inbound,
        attachments=attachments, labels=[ctx.catalogue.label(label) for label in labels],
        label_ids=set(labels), user=me.user, csrf=me.csrf, error=error,
        holder=claim_holder(comment, now), me=me.name,
        next_id=_neighbour(session, comment_id, older=True),
        prev_id=_neighbour(session, comment_id, older=False),
        reasons=REJECT_REASONS.values(), history=history, notice=notice,
        diff=_diff(comment) if comment.edited_text is not None else None,
        undo_until=_undo_until(ctx, comment, notice),
        decided=_undoable(ctx, session, decided) if decided else None,
        stale=stale,
        answer=response_of(session, comment_id),
        response_notice=notices.get(NoticeTopic.RESPONSE),
        outcomes=OUTCOMES.values(),
        outcome_labels={outcome.value: label.label for outcome, label in OUTCOMES.items()},
        can_respond=allows(SECRETARIAT, me.user.role),
        can_withdraw=allows(SECRETARIAT, me.user.role),
        answerable=comment.status in ANSWERABLE,
        published=published_version(comment, redactions, ctx.format_text),
        redactions=[(r, (field_text(comment, r.field) or "")[r.start:r.end],
                     r.field in (RedactionField.SUBJECT, body_field(comment)))
                    for r in redactions],
        redaction_fields=[RedactionField.SUBJECT, body_field(comment)],
        classification=explanation_of(session, comment_id),
        # Below the minimum size the group is not a campaign to anyone: not shown.
        campaign=campaign if campaign and campaign.size >= ctx.settings.campaign_min_size
        else None,
    )


def _undo_until(ctx: WebContext, comment: Comment, notice: DecisionNotice | None) -> str | None:
    """``HH:MM`` until which the decision can be undone, or None."""
    if comment.status not in {CommentStatus.APPROVED, CommentStatus.REJECTED}:
        return None
    if comment.decided_at is None or (notice is not None
                                      and notice.status != NoticeStatus.PENDING):
        return None
    until = comment.decided_at + timedelta(seconds=ctx.settings.undo_seconds)
    return f"{until:%H:%M:%S}" if until > utcnow() else None


def _undoable(ctx: WebContext, session: Session, comment_id: int) -> Comment | None:
    comment = session.get(Comment, comment_id)
    if comment is None:
        return None
    notice = session.exec(
        select(DecisionNotice).where(DecisionNotice.comment_id == comment_id,
                                     DecisionNotice.topic == NoticeTopic.DECISION)
    ).first()
    return comment if _undo_until(ctx, comment, notice) else None


def _diff(comment: Comment) -> list[tuple[str, str]]:
    """Line diff of the citizen's text against the edit: ('+'|'-'|' ', line)."""
    before = comment.text.splitlines()
    after = (comment.edited_text or "").splitlines()
    return [(line[0], line[2:]) for line in difflib.ndiff(before, after) if line[:1] in "+- "]


def _neighbour(session: Session, comment_id: int, older: bool) -> int | None:
    """The pending comment below (older) or above (newer) this one in the queue, which
    lists newest first."""
    statement = select(Comment.id).where(Comment.status == CommentStatus.PENDING)
    if older:
        statement = statement.where(col(Comment.id) < comment_id).order_by(
            col(Comment.id).desc())
    else:
        statement = statement.where(col(Comment.id) > comment_id).order_by(col(Comment.id))
    return session.exec(statement.limit(1)).first()


def _first_pending(session: Session, other_than: int) -> int | None:
    """After a decision: the next pending comment down the queue, else the newest one."""
    statement = (
        select(Comment.id)
        .where(Comment.status == CommentStatus.PENDING, col(Comment.id) != other_than)
        .order_by(col(Comment.id) > other_than, col(Comment.id).desc())
        .limit(1)
    )
    return session.exec(statement).first()


def _conflict(ctx: WebContext, session: Session, me: StaffSession, comment_id: int,
              error: TransitionError) -> Response:
    """HTTP 409: the comment as it is now, and the changes the moderator did not see."""
    session.rollback()
    comment = session.get(Comment, comment_id)
    if comment is None:
        raise HTTPException(404, f"No comment #{comment_id}.")
    stale: list[ModerationEvent] = []
    # A stale response shows its versions in the response's own history instead.
    if isinstance(error, StaleVersionError) and not isinstance(error, StaleResponseError):
        stale = list(session.exec(
            select(ModerationEvent)
            .where(ModerationEvent.comment_id == comment_id,
                   col(ModerationEvent.version) > error.expected)
            .order_by(col(ModerationEvent.id))
        ).all())
    return _render_comment(ctx, session, me, comment, error=str(error),
                           status_code=400 if isinstance(error, InputError) else 409,
                           stale=stale)


def _decided(ctx: WebContext, session: Session, comment_id: int, notify: bool = False
             ) -> Response:
    """After a decision: on to the next pending comment, with an undo offer."""
    session.commit()
    if notify and ctx.send_notices is not None:
        ctx.send_notices()
    if ctx.request_publish is not None:
        ctx.request_publish()
    following = _first_pending(session, comment_id)
    target = (f"/comments/{following}?decided={comment_id}" if following
              else f"/queue?decided={comment_id}")
    return RedirectResponse(target, status_code=303)


@router.post("/comments/{comment_id}/approve")
def approve_comment(ctx: Ctx, session: DbSession, me: Staff, comment_id: int,
                    csrf_token: Csrf = "", version: Version = None) -> Response:
    require_csrf(me.active, csrf_token)
    try:
        approve(session, comment_id, me.name, _required(version))
    except TransitionError as error:
        return _conflict(ctx, session, me, comment_id, error)
    return _decided(ctx, session, comment_id)


@router.post("/comments/{comment_id}/reject")
def reject_comment(ctx: Ctx, session: DbSession, me: Staff, comment_id: int,
                   csrf_token: Csrf = "", version: Version = None,
                   reason_code: Annotated[str, Form()] = "other",
                   reason: Annotated[str, Form()] = "") -> Response:
    require_csrf(me.active, csrf_token)
    try:
        code = parse_reject_code(reason_code)
        reject(session, comment_id, me.name, reason, code, _required(version),
               notices=ctx.notice_policy)
    except ValueError as error:  # TransitionError is one
        return _conflict(ctx, session, me, comment_id, _as_transition(error))
    return _decided(ctx, session, comment_id, notify=True)


def _change(ctx: WebContext, session: Session, me: StaffSession, comment_id: int,
            csrf_token: str, apply: Callable[[], object]) -> Response:
    """A change that keeps the moderator on the comment: applied, or the 409/400 page."""
    require_csrf(me.active, csrf_token)
    try:
        apply()
    except TransitionError as error:
        return _conflict(ctx, session, me, comment_id, error)
    session.commit()
    return RedirectResponse(f"/comments/{comment_id}", status_code=303)


@router.post("/comments/{comment_id}/edit")
def edit_comment(ctx: Ctx, session: DbSession, me: Staff, comment_id: int,
                 csrf_token: Csrf = "", version: Version = None,
                 text: Annotated[str, Form()] = "") -> Response:
    def apply() -> None:
        comment = edit(session, comment_id, me.name, text, ctx.format_text, _required(version))
        # The edited text is published: what looks like personal data in it is hidden too.
        redetect_edited(session, comment, detect_personal_data)

    return _change(ctx, session, me, comment_id, csrf_token, apply)


@router.post("/comments/{comment_id}/redactions/{redaction_id}/lift")
def lift_comment_redaction(ctx: Ctx, session: DbSession, me: Staff, comment_id: int,
                           redaction_id: int, csrf_token: Csrf = "", version: Version = None,
                           reason: Annotated[str, Form()] = "") -> Response:
    return _change(ctx, session, me, comment_id, csrf_token, lambda: lift_redaction(
        session, comment_id, redaction_id, me.name, reason, _required(version)))


@router.post("/comments/{comment_id}/redactions")
def add_comment_redaction(ctx: Ctx, session: DbSession, me: Staff, comment_id: int,
                          csrf_token: Csrf = "", version: Version = None,
                          field: Annotated[str, Form()] = RedactionField.TEXT,
                          selection: Annotated[str, Form()] = "",
                          reason: Annotated[str, Form()] = "") -> Response:
    return _change(ctx, session, me, comment_id, csrf_token, lambda: add_redaction(
        session, comment_id, field, selection, me.name, reason, _required(version)))


@router.post("/comments/{comment_id}/reclassify")
def reclassify_comment(ctx: Ctx, session: DbSession, me: Staff, comment_id: int,
                       csrf_token: Csrf = "", version: Version = None,
                       commitments: Annotated[list[str] | None, Form()] = None) -> Response:
    known = [label.id for label in ctx.catalogue.labels]
    return _change(ctx, session, me, comment_id, csrf_token, lambda: reclassify(
        session, comment_id, me.name, commitments or [], known, _required(version)))


@router.post("/comments/{comment_id}/undo")
def undo_decision(ctx: Ctx, session: DbSession, me: Staff, comment_id: int,
                  csrf_token: Csrf = "", version: Version = None) -> Response:
    window = timedelta(seconds=ctx.settings.undo_seconds)
    return _change(ctx, session, me, comment_id, csrf_token, lambda: undo(
        session, comment_id, me.name, window, _required(version)))


@router.post("/comments/{comment_id}/claim")
def take_over(ctx: Ctx, session: DbSession, me: Staff, comment_id: int,
              csrf_token: Csrf = "", version: Version = None) -> Response:
    duration = timedelta(seconds=ctx.settings.claim_seconds)
    return _change(ctx, session, me, comment_id, csrf_token, lambda: claim(
        session, comment_id, me.name, duration, take_over=True,
        expected_version=_required(version)))


@router.post("/comments/{comment_id}/unclaim")
def unclaim(ctx: Ctx, session: DbSession, me: Staff, comment_id: int, csrf_token: Csrf = "",
            version: Version = None) -> Response:
    response = _change(ctx, session, me, comment_id, csrf_token, lambda: release_claim(
        session, comment_id, me.name, expected_version=_required(version)))
    if response.status_code == 303:
        return RedirectResponse("/queue", status_code=303)
    return response


Text = Annotated[str, Form()]


@router.post("/comments/{comment_id}/response")
def respond_to_comment(ctx: Ctx, session: DbSession, me: Staff, comment_id: int,
                       csrf_token: Csrf = "", outcome: Text = "", text_sq: Text = "",
                       text_en: Text = "", link: Text = "") -> Response:
    """The secretariat answers this one comment (the queue answers a selection)."""
    return _change(ctx, session, me, comment_id, csrf_token, lambda: respond(
        session, [comment_id], outcome, text_sq, text_en, link, me.name))


@router.post("/comments/{comment_id}/response/edit")
def edit_comment_response(ctx: Ctx, session: DbSession, me: Staff, comment_id: int,
                          csrf_token: Csrf = "", version: Version = None, outcome: Text = "",
                          text_sq: Text = "", text_en: Text = "", link: Text = "") -> Response:
    """Edit the response this comment has (``version``: the response's, as the form saw it);
    every comment it answers shows the edit."""
    def apply() -> object:
        answer = response_of(session, comment_id)
        if answer is None or answer.response.id is None:
            raise TransitionError(f"comment {comment_id} has no response to edit")
        return edit_response(session, answer.response.id, outcome, text_sq, text_en, link,
                             me.name, _required(version, "response"))

    return _change(ctx, session, me, comment_id, csrf_token, apply)


@router.post("/comments/{comment_id}/consent")
def record_comment_consent(ctx: Ctx, session: DbSession, me: Staff, comment_id: int,
                           csrf_token: Csrf = "", version: Version = None, name: Text = "",
                           note: Text = "") -> Response:
    """Consent the citizen gave in writing: publish this name with the comment."""
    return _change(ctx, session, me, comment_id, csrf_token, lambda: record_consent(
        session, comment_id, me.name, name, note, _required(version)))


@router.post("/comments/{comment_id}/consent/remove")
def remove_comment_consent(ctx: Ctx, session: DbSession, me: Staff, comment_id: int,
                           csrf_token: Csrf = "", version: Version = None,
                           reason: Text = "") -> Response:
    return _change(ctx, session, me, comment_id, csrf_token, lambda: remove_consent(
        session, comment_id, me.name, reason, _required(version)))


@router.post("/comments/{comment_id}/withdraw")
def withdraw_comment(ctx: Ctx, session: DbSession, me: Staff, comment_id: int,
                     csrf_token: Csrf = "", version: Version = None,
                     reason: Text = "") -> Response:
    """Off the public site at the next publish (secretariat)."""
    return _change(ctx, session, me, comment_id, csrf_token, lambda: withdraw(
        session, comment_id, me.name, reason, _required(version)))


@router.post("/comments/{comment_id}/erase")
def erase_one_comment(ctx: Ctx, session: DbSession, me: Staff, comment_id: int,
                      csrf_token: Csrf = "", version: Version = None,
                      keep_anonymised: Text = "", confirm: Text = "") -> Response:
    """Erase this comment's sender data and raw mail, then republish (secretariat)."""
    from moderation.personal_data import ErasureError, compact, erase_comment
    from publish.site import publish_with_settings

    require_csrf(me.active, csrf_token)
    if confirm != "erase":
        return _conflict(ctx, session, me, comment_id, InputError(
            "type 'erase' to confirm: an erasure cannot be undone"))
    try:
        erase_comment(session, comment_id, me.name, ctx.settings.secret_key,
                      keep_anonymised=keep_anonymised == "yes", format_text=ctx.format_text,
                      expected_version=_required(version))
    except (ErasureError, TransitionError) as error:
        return _conflict(ctx, session, me, comment_id, InputError(str(error)))
    session.commit()
    compact(ctx.engine)
    publish_with_settings(ctx.engine, ctx.catalogue, ctx.settings, actor=me.name)
    return RedirectResponse(f"/comments/{comment_id}", status_code=303)


def _required(version: int | None, of: str = "comment") -> int:
    # A form without a version would overwrite blindly: refuse it as stale.
    if version is None:
        raise InputError(f"the form did not say which version of the {of} it was "
                         "made from; reload the page")
    return version


def _as_transition(error: ValueError) -> TransitionError:
    return error if isinstance(error, TransitionError) else InputError(str(error))
