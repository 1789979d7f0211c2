"""``ogp-feedback evidence``: reads the consultation's record and writes it as one zip.

A handful of bulk selects, never one per comment; the files themselves are made by the
pure ``publish.evidence``. Comment words are read for published comments only, and only
the columns the public view uses (plus the sender's name, to hide it where it was
written into the text): no address, no raw mail, no trimmed text is ever selected.

The zip is written beside its destination and renamed over it, so a reader never
finds half an archive; it is read back and checked against its manifest first.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, text
from sqlalchemy import select as sa_select
from sqlalchemy.orm import load_only
from sqlmodel import Session, col, func, select

from config.catalogue import Catalogue
from intake.sanitize import display_html
from moderation.models import (
    Comment,
    CommentCommitment,
    CommentStatus,
    InboundMessage,
    Response,
    ResponseComment,
    utcnow,
)
from moderation.privacy import NameIndex
from moderation.public import to_public
from moderation.redaction import active_redactions
from publish.digest import Period
from publish.digest_load import load_digest
from publish.digest_render import Links, render_html, render_json
from publish.evidence import (
    CommentFacts,
    EvidenceInput,
    PublishedComment,
    ResponseRow,
    build_archive,
    check_manifest,
    pack,
    public_text,
    unpack,
)
from publish.site import published_views

# What ``to_public`` reads, and the sender's name to hide it; no other column is selected.
PUBLISHED_COLUMNS = ("id", "inbound_id", "subject", "text", "display_html", "edited_text",
                     "edited_html", "language", "channel", "received_at", "published_at",
                     "author_name", "author_public")


@dataclass(frozen=True)
class EvidenceReport:
    path: Path
    files: int
    comments: int
    decisions: int
    responses: int
    sha256: str


def load_facts(session: Session) -> list[CommentFacts]:
    rows = session.execute(
        sa_select(col(Comment.id), col(Comment.inbound_id), col(Comment.status),
                  col(Comment.language), col(Comment.channel), col(InboundMessage.created_at),
                  col(Comment.decided_at), col(Comment.published_at), col(Comment.reject_code))
        .join(InboundMessage, col(InboundMessage.id) == col(Comment.inbound_id))
    ).all()
    return [CommentFacts(comment_id=comment_id or 0, inbound_id=inbound_id, status=status,
                         language=language, channel=channel, received_at=received_at,
                         decided_at=decided_at, published_at=published_at,
                         reject_code=reject_code)
            for (comment_id, inbound_id, status, language, channel, received_at, decided_at,
                 published_at, reject_code) in rows]


def load_published(session: Session, catalogue: Catalogue | None = None,
                   campaign_min_size: int = 3) -> list[PublishedComment]:
    """Published comments as the site shows them: with ``catalogue``, a member of a
    campaign carries the campaign's text and its own approved sentences only."""
    comments = session.exec(
        select(Comment)
        .options(load_only(*(getattr(Comment, name) for name in PUBLISHED_COLUMNS),
                           raiseload=True))
        .where(col(Comment.status) == CommentStatus.PUBLISHED)
        .order_by(col(Comment.id))
    ).all()
    labels: dict[int, list[str]] = {}
    for comment_id, commitment_id in session.exec(
        select(col(CommentCommitment.comment_id), col(CommentCommitment.commitment_id))
        .join(Comment, col(Comment.id) == col(CommentCommitment.comment_id))
        .where(col(Comment.status) == CommentStatus.PUBLISHED)
        .order_by(col(CommentCommitment.comment_id), col(CommentCommitment.score).desc(),
                  col(CommentCommitment.commitment_id))
    ):
        labels.setdefault(comment_id, []).append(commitment_id)
    views = to_public(comments, labels,
                      active_redactions(session, [c.id or 0 for c in comments]), display_html)
    if catalogue is not None:
        shown = published_views(session, catalogue, {view.id: view for view in views},
                                campaign_min_size)
        views = [shown[view.id] for view in views]
    return [
        PublishedComment(public=public, inbound_id=comment.inbound_id, channel=comment.channel,
                         edited=comment.edited_html is not None,
                         sender_name=comment.author_name)
        for comment, public in zip(comments, views, strict=True)
    ]


def load_responses(session: Session) -> list[ResponseRow]:
    answered: dict[int, list[int]] = {}
    for comment_id, response_id in session.exec(
        select(col(ResponseComment.comment_id), col(ResponseComment.response_id))
    ):
        answered.setdefault(response_id, []).append(comment_id)
    return [
        ResponseRow(id=response.id or 0, outcome=response.outcome, text_sq=response.text_sq,
                    text_en=response.text_en, link=response.link,
                    created_at=response.created_at, updated_at=response.updated_at,
                    version=response.version,
                    comment_ids=tuple(sorted(answered.get(response.id or 0, ()))))
        for response in session.exec(select(Response).order_by(col(Response.id)))
    ]


def load_sender_names(session: Session) -> list[str]:
    return sorted(session.exec(
        select(col(Comment.author_name)).where(col(Comment.author_name) != "").distinct()
    ).all())


def read_one_snapshot(session: Session) -> None:
    """Make every later select of ``session`` see the same moment of the database.

    The figures must add up across files: a comment published between two selects
    would otherwise be counted as approved in one and listed as published in another.
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        session.execute(text("SET TRANSACTION READ ONLY"))
    elif dialect == "sqlite":
        # pysqlite opens no transaction for a SELECT; in WAL mode an explicit one keeps
        # its first read's snapshot to the end (rolled back when the session closes).
        session.connection().exec_driver_sql("BEGIN")


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def load_evidence(session: Session, catalogue: Catalogue, time_zone: str, site_url: str,
                  extra_files: Mapping[str, bytes] | None = None,
                  campaign_min_size: int = 3) -> EvidenceInput:
    read_one_snapshot(session)
    published = load_published(session, catalogue, campaign_min_size)
    sender_names = load_sender_names(session)
    files = public_digest_files(session, catalogue, time_zone, site_url, published,
                                NameIndex(sender_names), campaign_min_size)
    files.update(extra_files or {})
    return EvidenceInput(
        catalogue=catalogue, time_zone=time_zone, site_url=site_url,
        facts=load_facts(session), published=published,
        responses=load_responses(session), sender_names=sender_names, extra_files=files,
    )


def public_digest_files(session: Session, catalogue: Catalogue, time_zone: str, site_url: str,
                        published: list[PublishedComment], everyone: NameIndex,
                        campaign_min_size: int = 3) -> dict[str, bytes]:
    """The public digest of the whole consultation (published comments only), as JSON and HTML.

    Its quotes pass the archive's own rules once more: no address, and no sender's name
    where the citizen wrote it into the text. Dated by the last change in the data, so
    two runs on the same data give the same bytes.
    """
    as_of = session.exec(select(func.max(Comment.updated_at))).one() or EPOCH
    digest = load_digest(session, catalogue, Period(None, None, ZoneInfo(time_zone)), as_of,
                         public_only=True, campaign_min_size=campaign_min_size)
    senders = {item.public.id: item.sender_name for item in published}

    def clean(comment_id: int, text: str) -> str:
        return public_text(text, (NameIndex([senders.get(comment_id, "")], min_words=1),
                                  everyone))

    digest = replace(digest, representative={
        label: tuple(replace(quote, subject=clean(quote.id, quote.subject),
                             excerpt=clean(quote.id, quote.excerpt)) for quote in quotes)
        for label, quotes in digest.representative.items()})
    links = Links(public=True, prefix=site_url)
    return {
        "digest/digest.json": render_json(digest, catalogue).encode(),
        "digest/digest.html": render_html(digest, catalogue, links).encode(),
    }


def write_atomically(out: Path, data: bytes) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{out.name}-", suffix=".tmp", dir=out.parent)
    temporary = Path(name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        # mkstemp makes 0600; the archive holds public data only and is meant to be handed on.
        temporary.chmod(0o644)
        temporary.replace(out)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_evidence(engine: Engine, catalogue: Catalogue, out: Path, *, time_zone: str,
                   site_url: str, now: datetime | None = None,
                   campaign_min_size: int = 3) -> EvidenceReport:
    with Session(engine) as session:
        data = load_evidence(session, catalogue, time_zone, site_url,
                             campaign_min_size=campaign_min_size)
    files = build_archive(data, generated_at=now or utcnow())
    archive = pack(files)
    problems = check_manifest(unpack(archive))
    if problems:  # a bug here, never the data: refuse to hand on an archive that lies
        raise RuntimeError("the archive does not match its manifest: " + "; ".join(problems))
    write_atomically(out, archive)
    return EvidenceReport(
        path=out, files=len(files),
        comments=len(json.loads(files["comments.json"])),
        decisions=len(json.loads(files["decisions.json"])),
        responses=len(json.loads(files["responses.json"])),
        sha256=hashlib.sha256(archive).hexdigest(),
    )
