"""The secretariat's reasoned responses: one response for a selection of comments, edited
with history; every change writes an audit event for each comment it answers.

OGP's co-creation standards ask the government to say which contributions it took up,
which not, and why. A response answers comments the public can read (approved or
published): a pending comment may still be rejected, and a rejected or withdrawn one is
not on the site, so an answer to it could not be published beside it. A comment has at
most one response; it is corrected by editing the response, which keeps the old text.

This module never sends mail and never writes the site. The citizen's notice is planned
when the response first appears on the public site (``plan_response_notices``, called by
the publisher, so the link in it shows the answer) and sent by ``workers.notices``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from urllib.parse import urlsplit

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from moderation.models import (
    Comment,
    CommentStatus,
    DecisionNotice,
    ModerationEvent,
    NoticeKind,
    NoticeTopic,
    Response,
    ResponseComment,
    ResponseOutcome,
    ResponseRevision,
    utcnow,
)
from moderation.privacy import redact_email_addresses
from moderation.transitions import InputError, StaleVersionError, TransitionError

MAX_TEXT_LENGTH = 10_000
MAX_LINK_LENGTH = 500
MAX_COMMENTS = 500
ANSWERABLE = frozenset({CommentStatus.APPROVED, CommentStatus.PUBLISHED})


class ResponseAction(StrEnum):
    """What the audit log says about a response (one event per comment answered)."""

    RESPOND = "respond"
    RESPOND_EDIT = "respond-edit"


@dataclass(frozen=True)
class OutcomeLabel:
    outcome: ResponseOutcome
    sq: str
    en: str

    @property
    def label(self) -> str:
        return f"{self.sq} / {self.en}"


OUTCOMES: dict[ResponseOutcome, OutcomeLabel] = {
    item.outcome: item
    for item in (
        OutcomeLabel(ResponseOutcome.ADOPTED, "U pranua", "Adopted"),
        OutcomeLabel(ResponseOutcome.PARTLY_ADOPTED, "U pranua pjesërisht", "Partly adopted"),
        OutcomeLabel(ResponseOutcome.NOT_ADOPTED, "Nuk u pranua", "Not adopted"),
        OutcomeLabel(ResponseOutcome.OUT_OF_SCOPE, "Jashtë objektit të planit",
                     "Out of the plan's scope"),
        OutcomeLabel(ResponseOutcome.NOTED, "U mor në dijeni", "Noted"),
    )
}


class StaleResponseError(StaleVersionError):
    """The form was made from an older version of the response (HTTP 409)."""

    def __init__(self, response_id: int, expected: int, current: int) -> None:
        TransitionError.__init__(
            self,
            f"response #{response_id} changed since you opened it (you saw version {expected}, "
            f"it is now version {current}); nothing was overwritten",
        )
        self.comment_id = 0
        self.response_id = response_id
        self.expected = expected
        self.current = current


class ResponseRefusedError(TransitionError):
    """Some of the chosen comments cannot take the response; nothing was written."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("no response was written: " + "; ".join(problems))
        self.problems = list(problems)


# ---------------------------------------------------------------- the words (pure)

@dataclass(frozen=True)
class ResponseDraft:
    """A response's words as checked: the outcome, both texts (one may be empty), a link."""

    outcome: ResponseOutcome
    text_sq: str
    text_en: str
    link: str | None


def parse_outcome(value: str) -> ResponseOutcome:
    try:
        return ResponseOutcome(value.strip().lower())
    except ValueError:
        known = ", ".join(outcome.value for outcome in ResponseOutcome)
        raise InputError(f"unknown outcome {value!r} (use one of {known})") from None


def _text(value: str) -> str:
    return value.replace("\r\n", "\n").replace("\r", "\n").strip()


def link_problem(link: str) -> str | None:
    """Why ``link`` cannot be published and mailed as the link to the commitment text."""
    if len(link) > MAX_LINK_LENGTH:
        return f"the link is longer than {MAX_LINK_LENGTH} characters"
    if any(ch.isspace() or not ch.isprintable() for ch in link):
        return "the link may not contain spaces or control characters"
    parts = urlsplit(link)
    if parts.scheme.lower() not in {"http", "https"} or not parts.hostname:
        return "the link must be an http:// or https:// address"
    if "@" in parts.netloc or redact_email_addresses(link) != link:
        # Public text never carries an address, and a user name in a link is one.
        return "the link may not contain an e-mail address or a user name"
    return None


def check_draft(outcome: str, text_sq: str, text_en: str, link: str | None) -> ResponseDraft:
    """The words of a response, or ``InputError`` naming every problem at once."""
    problems: list[str] = []
    chosen: ResponseOutcome | None = None
    try:
        chosen = parse_outcome(outcome)
    except InputError as error:
        problems.append(str(error))
    sq, en = _text(text_sq), _text(text_en)
    if not sq and not en:
        problems.append("a reasoned response needs an explanation in Albanian or in English "
                        "(or both)")
    for name, value in (("Albanian", sq), ("English", en)):
        if len(value) > MAX_TEXT_LENGTH:
            problems.append(f"the {name} text is longer than {MAX_TEXT_LENGTH} characters")
    clean_link = (link or "").strip() or None
    if clean_link is not None:
        problem = link_problem(clean_link)
        if problem is not None:
            problems.append(problem)
    if problems or chosen is None:
        raise InputError("; ".join(problems))
    return ResponseDraft(chosen, sq, en, clean_link)


def _refusal(comment_id: int, comment: Comment | None, answered_by: int | None) -> str | None:
    """Why this comment cannot take a new response (None: it can)."""
    if comment is None:
        return f"#{comment_id}: there is no such comment"
    if answered_by is not None:
        return f"#{comment_id} already has response #{answered_by}; edit that one instead"
    if comment.status not in ANSWERABLE:
        return (f"#{comment_id} is {comment.status}; a response answers a comment the public "
                "can read, so approve it first" if comment.status == CommentStatus.PENDING
                else f"#{comment_id} is {comment.status}; a response answers a comment the "
                "public can read (approved or published), and this one is not on the site")
    return None


# ---------------------------------------------------------------- writing

def _audit(session: Session, comment: Comment, action: ResponseAction, actor: str,
           detail: str) -> None:
    # No status move and no new comment version: a response is not a change of the
    # comment, so a moderator's open form on it stays valid.
    session.add(ModerationEvent(comment_id=comment.id, inbound_id=comment.inbound_id,
                                actor=actor, action=action.value, version=comment.version,
                                detail=detail))


def respond(session: Session, comment_ids: Iterable[int], outcome: str, text_sq: str,
            text_en: str, link: str | None, actor: str) -> Response:
    """One response for every comment chosen, or none at all (``ResponseRefusedError``
    lists each comment that cannot take it)."""
    draft = check_draft(outcome, text_sq, text_en, link)
    # Sorted: two writers lock the comment rows in the same order (no deadlock).
    ids = sorted(set(comment_ids))
    if not ids:
        raise InputError("choose at least one comment to respond to")
    if len(ids) > MAX_COMMENTS:
        raise InputError(f"at most {MAX_COMMENTS} comments take one response at a time")
    comments = {comment_id: session.get(Comment, comment_id, with_for_update=True)
                for comment_id in ids}
    answered = dict(session.exec(
        select(ResponseComment.comment_id, ResponseComment.response_id)
        .where(col(ResponseComment.comment_id).in_(ids))
    ).all())
    problems = [problem for comment_id in ids
                if (problem := _refusal(comment_id, comments[comment_id],
                                        answered.get(comment_id))) is not None]
    if problems:
        raise ResponseRefusedError(problems)
    response = Response(outcome=draft.outcome.value, text_sq=draft.text_sq,
                        text_en=draft.text_en, link=draft.link, created_by=actor,
                        updated_by=actor)
    session.add(response)
    try:
        session.flush()
        for comment_id in ids:
            session.add(ResponseComment(comment_id=comment_id, response_id=response.id or 0))
        session.flush()
    except IntegrityError as error:
        raise TransitionError("another response was written for these comments at the same "
                              "time; reload and edit that one") from error
    together = f" (one response for #{', #'.join(map(str, ids))})" if len(ids) > 1 else ""
    for comment_id in ids:
        comment = comments[comment_id]
        assert comment is not None
        _audit(session, comment, ResponseAction.RESPOND, actor,
               f"response #{response.id}: {draft.outcome.value}{together}")
    return response


def _changes(response: Response, draft: ResponseDraft) -> list[str]:
    changed = []
    if response.outcome != draft.outcome.value:
        changed.append(f"outcome {response.outcome} -> {draft.outcome.value}")
    if response.text_sq != draft.text_sq:
        changed.append("Albanian text")
    if response.text_en != draft.text_en:
        changed.append("English text")
    if response.link != draft.link:
        changed.append("link")
    return changed


def edit_response(session: Session, response_id: int, outcome: str, text_sq: str,
                  text_en: str, link: str | None, actor: str,
                  expected_version: int | None = None) -> Response:
    """Change a response; the version it replaces is kept as a ``ResponseRevision``.

    The citizen is not told again: the notice went once, with the response as it was
    when it first appeared on the site; the site shows the edit after the next publish.
    """
    draft = check_draft(outcome, text_sq, text_en, link)
    response = session.get(Response, response_id, with_for_update=True)
    if response is None:
        raise TransitionError(f"no response with id {response_id}")
    if expected_version is not None and response.version != expected_version:
        raise StaleResponseError(response_id, expected_version, response.version)
    changed = _changes(response, draft)
    if not changed:
        raise InputError("the response is unchanged")
    # The revision is the version being replaced, with the user who wrote it.
    session.add(ResponseRevision(
        response_id=response_id, version=response.version, outcome=response.outcome,
        text_sq=response.text_sq, text_en=response.text_en, link=response.link,
        edited_by=response.updated_by, edited_at=response.updated_at))
    response.outcome = draft.outcome.value
    response.text_sq, response.text_en, response.link = draft.text_sq, draft.text_en, draft.link
    response.version += 1
    response.updated_by = actor
    response.updated_at = utcnow()
    session.add(response)
    for comment in _comments_of(session, response_id):
        _audit(session, comment, ResponseAction.RESPOND_EDIT, actor,
               f"response #{response_id} version {response.version}: {', '.join(changed)}")
    return response


def _comments_of(session: Session, response_id: int) -> list[Comment]:
    return list(session.exec(
        select(Comment)
        .join(ResponseComment, col(ResponseComment.comment_id) == col(Comment.id))
        .where(ResponseComment.response_id == response_id)
        .order_by(col(Comment.id))
    ).all())


# ---------------------------------------------------------------- reading

@dataclass(frozen=True)
class ResponseView:
    """A response as the moderation UI shows it: the comments it answers, its history."""

    response: Response
    comment_ids: tuple[int, ...]
    # Older versions, newest first.
    revisions: tuple[ResponseRevision, ...]

    @property
    def label(self) -> str:
        return OUTCOMES[ResponseOutcome(self.response.outcome)].label


def response_of(session: Session, comment_id: int) -> ResponseView | None:
    link = session.get(ResponseComment, comment_id)
    if link is None:
        return None
    response = session.get(Response, link.response_id)
    if response is None:
        return None
    comment_ids = session.exec(
        select(ResponseComment.comment_id)
        .where(ResponseComment.response_id == link.response_id)
        .order_by(col(ResponseComment.comment_id))
    ).all()
    revisions = session.exec(
        select(ResponseRevision)
        .where(ResponseRevision.response_id == link.response_id)
        .order_by(col(ResponseRevision.version).desc())
    ).all()
    return ResponseView(response, tuple(comment_ids), tuple(revisions))


def responses_by_comment(session: Session,
                         comment_ids: Sequence[int] | None = None) -> dict[int, Response]:
    """The response of each of these comments that has one, or (``None``) of every comment
    that has one; one query."""
    statement = (select(ResponseComment.comment_id, Response)
                 .join(Response, col(Response.id) == col(ResponseComment.response_id)))
    if comment_ids is not None:
        if not comment_ids:
            return {}
        statement = statement.where(col(ResponseComment.comment_id).in_(list(comment_ids)))
    return dict(session.exec(statement).all())


# ---------------------------------------------------------------- the citizen's notice

def plan_response_notices(session: Session, shown: Collection[int],
                          now: datetime | None = None) -> int:
    """A response notice for each published comment that has a response and none yet,
    among ``shown``: the comments whose response the site now shows.

    The publisher calls this once the site shows the responses, so the link in the
    notice leads to the answer (a response written while the site was being rendered
    waits for the next publish). At most one per comment (the table is unique on comment
    and topic): an edit of the response, or a second publish, plans nothing more.
    """
    told = (select(DecisionNotice.id)
            .where(col(DecisionNotice.comment_id) == col(Comment.id),
                   DecisionNotice.topic == NoticeTopic.RESPONSE)
            .exists())
    waiting = session.exec(
        select(Comment.id)
        .join(ResponseComment, col(ResponseComment.comment_id) == col(Comment.id))
        .where(col(Comment.status) == CommentStatus.PUBLISHED, ~told)
        .order_by(col(Comment.id))
    ).all()
    due = now or utcnow()
    planned = [comment_id for comment_id in waiting
               if comment_id is not None and comment_id in shown]
    for comment_id in planned:
        session.add(DecisionNotice(comment_id=comment_id, topic=NoticeTopic.RESPONSE,
                                   kind=NoticeKind.RESPONSE.value, due_at=due))
    return len(planned)
