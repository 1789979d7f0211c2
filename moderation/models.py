"""The database tables: the one shared model every adapter reads and writes.

Statuses are plain strings (``StrEnum`` values) so that SQLite and PostgreSQL
store them alike and a migration never has to alter an enum type.
Private data (sender address, raw bytes) lives only here; the public site is
rendered from ``moderation.public`` models that do not have those fields.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Column, Index, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    """Aware UTC; SQLModel's ``UTCDateTime`` refuses naive values and returns UTC."""
    return datetime.now(UTC)


class InboundStatus(StrEnum):
    RECEIVED = "received"
    PROCESSED = "processed"
    QUARANTINED = "quarantined"
    FAILED = "failed"


class InboundSource(StrEnum):
    IMAP = "imap"
    IMPORT = "import"
    FORM = "form"


class CommentStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    PUBLISHED = "published"
    WITHDRAWN = "withdrawn"


class Role(StrEnum):
    MODERATOR = "moderator"
    SECRETARIAT = "secretariat"
    ADMIN = "admin"


class RejectCode(StrEnum):
    """Why a comment is not published; the bilingual wording is in ``moderation.reasons``."""

    SPAM = "spam"
    ABUSIVE = "abusive"
    OFF_TOPIC = "off-topic"
    DUPLICATE = "duplicate"
    PERSONAL_DATA = "personal-data"
    NOT_ABOUT_PLAN = "not-about-plan"
    OTHER = "other"


class InboundMessage(SQLModel, table=True):
    """One message exactly as it arrived; written before anything else happens."""

    __tablename__ = "inbound_message"
    __table_args__ = (UniqueConstraint("mailbox", "uidvalidity", "uid", name="uq_inbound_imap"),)

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    updated_at: datetime = Field(default_factory=utcnow)
    source: str = Field(max_length=16)
    sha256: str = Field(max_length=64, unique=True)
    size: int = Field(sa_type=BigInteger)
    raw: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    message_id: str | None = Field(default=None, max_length=998)
    mailbox: str | None = Field(default=None, max_length=255)
    # IMAP UIDs and UIDVALIDITY are unsigned 32-bit: too big for a signed INTEGER.
    uidvalidity: int | None = Field(default=None, sa_type=BigInteger)
    uid: int | None = Field(default=None, sa_type=BigInteger)
    status: str = Field(default=InboundStatus.RECEIVED, max_length=16, index=True)
    reason: str | None = None
    attempts: int = 0
    # The message was over the size limit: ``raw`` holds its header block only;
    # the whole message stays on the IMAP server.
    truncated: bool = False
    # auto_reply, bounce, mailing_list or spam: never acknowledged, never published.
    machine_kind: str | None = Field(default=None, max_length=32)
    # Keyed hash of the contact form submitter's address, for the rate limit.
    submitter_hash: str | None = Field(default=None, max_length=64, index=True)
    released_by: str | None = Field(default=None, max_length=64)
    # Retention or erasure removed the raw bytes (and so the attachments) at this time.
    raw_purged_at: datetime | None = None
    # The last processing error while the message is retried or after it failed.
    last_error: str | None = None


class Comment(SQLModel, table=True):
    """A citizen's comment, derived from one inbound message."""

    # The queue pages by (created_at, id) within a status (keyset pagination).
    __table_args__ = (
        Index("ix_comment_status_created", "status", "created_at", "id"),
        Index("ix_comment_created_id", "created_at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    inbound_id: int = Field(foreign_key="inbound_message.id", unique=True)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    updated_at: datetime = Field(default_factory=utcnow)
    status: str = Field(default=CommentStatus.PENDING, max_length=16, index=True)
    subject: str = ""
    author_name: str = ""
    author_email: str = ""
    language: str = Field(default="und", max_length=8, index=True)
    text: str = ""
    display_html: str = ""
    # What trimming removed (quoted replies, forwarded headers, signature);
    # moderators can look at it, it is never published.
    quoted_text: str = ""
    received_at: datetime | None = None
    # Copied from the inbound message so the queue filters without a join.
    channel: str = Field(default=InboundSource.IMAP, max_length=16, index=True)
    has_attachments: bool = False
    released: bool = False
    reject_code: str | None = Field(default=None, max_length=32)
    reject_reason: str | None = None
    decided_by: str | None = Field(default=None, max_length=64)
    decided_at: datetime | None = None
    published_at: datetime | None = None
    # A moderator's edit of the text to be published; ``text`` and
    # ``display_html`` keep what the citizen wrote.
    edited_text: str | None = None
    edited_html: str | None = None
    edited_by: str | None = Field(default=None, max_length=64)
    edited_at: datetime | None = None
    # Attribution: anonymous unless the citizen consented to their name being published
    # (the contact form's checkbox, or consent given in writing, recorded by a moderator).
    author_public: str | None = Field(default=None, max_length=200)
    consent_source: str | None = Field(default=None, max_length=16)
    consent_by: str | None = Field(default=None, max_length=64)
    consent_at: datetime | None = None
    # Erased on request: the sender's address, name and raw mail are gone.
    erased: bool = False
    # A soft lock: who has the comment open, so two moderators do not work on it at once.
    claimed_by: str | None = Field(default=None, max_length=64)
    claimed_until: datetime | None = None
    # Compared on every write (optimistic locking); a stale form gets HTTP 409.
    version: int = 1
    # The campaign (near-identical letters) the comment belongs to (``moderation.campaigns``).
    # Not a foreign key: on SQLite a column with one can be neither added to nor dropped
    # from ``comment`` without copying the table (which would lose the search triggers).
    campaign_id: int | None = Field(default=None, index=True)
    # A moderator took the comment out of its campaign: it is never grouped again by itself.
    campaign_split: bool = False
    # What the member adds to the campaign's text (its own sentences, personal data
    # redacted), and whether a moderator has looked at it (``AdditionsStatus``); published
    # under the campaign only once approved.
    additions: str = ""
    additions_status: str | None = Field(default=None, max_length=16)


class CommentCommitment(SQLModel, table=True):
    """A commitment (or ``general``) a comment is about, with the classifier's score."""

    __tablename__ = "comment_commitment"
    __table_args__ = (Index("ix_comment_commitment_commitment", "commitment_id", "comment_id"),)

    comment_id: int = Field(foreign_key="comment.id", primary_key=True)
    commitment_id: str = Field(foreign_key="commitment.id", primary_key=True, max_length=16)
    score: float = 0.0


class ComponentRecord(SQLModel, table=True):
    __tablename__ = "component"

    id: str = Field(primary_key=True, max_length=32)
    code: str = Field(max_length=8)
    title_en: str
    title_sq: str
    position: int = 0


class CommitmentRecord(SQLModel, table=True):
    __tablename__ = "commitment"

    id: str = Field(primary_key=True, max_length=16)
    component_id: str | None = Field(default=None, foreign_key="component.id")
    slug: str = Field(max_length=64)
    title_en: str
    title_sq: str
    position: int = 0


class ModerationEvent(SQLModel, table=True):
    """Append-only audit log of every decision, edit, claim, login and user change.

    A database trigger refuses UPDATE and DELETE on both SQLite and PostgreSQL.
    """

    __tablename__ = "moderation_event"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    comment_id: int | None = Field(default=None, foreign_key="comment.id", index=True)
    inbound_id: int | None = Field(default=None, foreign_key="inbound_message.id")
    actor: str = Field(max_length=64, index=True)
    action: str = Field(max_length=32, index=True)
    from_status: str | None = Field(default=None, max_length=16)
    to_status: str | None = Field(default=None, max_length=16)
    reason: str | None = None
    # The comment's version after this change, so a 409 page can list what changed since.
    version: int | None = None
    # Free text for what a status does not say: commitments before/after, a diff summary.
    detail: str | None = None


class User(SQLModel, table=True):
    __tablename__ = "app_user"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=64)
    role: str = Field(max_length=16)
    password_hash: str
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)
    # Base32 TOTP secret when the user has a second factor; the last accepted
    # time step, so a code cannot be replayed.
    totp_secret: str | None = Field(default=None, max_length=64)
    totp_last_step: int | None = Field(default=None, sa_type=BigInteger)


class WebSession(SQLModel, table=True):
    """Server-side session; the cookie carries a random token, we keep its hash."""

    __tablename__ = "web_session"

    token_hash: str = Field(primary_key=True, max_length=64)
    user_id: int | None = Field(default=None, foreign_key="app_user.id", index=True)
    csrf_token: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime = Field(index=True)
    # For the idle timeout; refreshed at most once a minute.
    last_seen_at: datetime = Field(default_factory=utcnow)


class ImapCheckpoint(SQLModel, table=True):
    """Highest UID durably stored per mailbox, valid only for its UIDVALIDITY."""

    __tablename__ = "imap_checkpoint"

    mailbox: str = Field(primary_key=True, max_length=255)
    uidvalidity: int = Field(sa_type=BigInteger)
    last_uid: int = Field(default=0, sa_type=BigInteger)
    updated_at: datetime = Field(default_factory=utcnow)


class Attachment(SQLModel, table=True):
    """What a message carried besides its text; the bytes stay in the raw message."""

    id: int | None = Field(default=None, primary_key=True)
    inbound_id: int = Field(foreign_key="inbound_message.id", index=True)
    filename: str = Field(max_length=255)
    content_type: str = Field(max_length=255)
    size: int = Field(sa_type=BigInteger)
    sha256: str = Field(max_length=64)
    dangerous: bool = False
    danger_reason: str | None = None


class ReceiptStatus(StrEnum):
    PENDING = "pending"
    # Claimed by one sender. A receipt left here (the process died between the
    # SMTP send and the commit) is not sent again: one receipt may be missing,
    # but a citizen never gets two.
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class Receipt(SQLModel, table=True):
    """One acknowledgement to a citizen; at most one per address per day."""

    __table_args__ = (UniqueConstraint("address", "day", name="uq_receipt_address_day"),)

    id: int | None = Field(default=None, primary_key=True)
    inbound_id: int = Field(foreign_key="inbound_message.id", unique=True)
    comment_id: int | None = Field(default=None, foreign_key="comment.id")
    address: str = Field(max_length=320)
    day: str = Field(max_length=10)
    reference: str = Field(max_length=32)
    status: str = Field(default=ReceiptStatus.PENDING, max_length=16, index=True)
    error: str | None = None
    message_id: str | None = Field(default=None, max_length=255)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None


class NoticeKind(StrEnum):
    REJECTED = "rejected"
    PUBLISHED = "published"
    # The secretariat's reasoned response (``moderation.responses``).
    RESPONSE = "response"


class NoticeTopic(StrEnum):
    """What a notice is about; a citizen hears at most once per comment and topic."""

    DECISION = "decision"
    RESPONSE = "response"


class NoticeStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    # Undone before it was due: never sent.
    CANCELLED = "cancelled"


class DecisionNotice(SQLModel, table=True):
    """The one message a citizen gets about the outcome of a comment, and the one about
    the secretariat's response to it.

    At most one per comment and topic (unique): a later decision never sends a
    second, nor does an edit of the response. A rejection notice is due only
    after the undo window has passed.
    """

    __tablename__ = "decision_notice"
    __table_args__ = (
        UniqueConstraint("comment_id", "topic", name="uq_decision_notice_comment_topic"),
    )

    id: int | None = Field(default=None, primary_key=True)
    comment_id: int = Field(foreign_key="comment.id")
    topic: str = Field(default=NoticeTopic.DECISION, max_length=16)
    kind: str = Field(max_length=16)
    status: str = Field(default=NoticeStatus.PENDING, max_length=16, index=True)
    due_at: datetime = Field(default_factory=utcnow, index=True)
    error: str | None = None
    message_id: str | None = Field(default=None, max_length=255)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None


class LabelledExample(SQLModel, table=True):
    """A moderator's word on what a comment is about, kept to train a later classifier."""

    __tablename__ = "labelled_example"

    id: int | None = Field(default=None, primary_key=True)
    comment_id: int = Field(foreign_key="comment.id", index=True)
    # Comma-separated commitment ids ("2,9" or "general"); empty = about none.
    commitments: str = ""
    source: str = Field(max_length=16)  # "reclassify" or "approve"
    actor: str = Field(max_length=64)
    at: datetime = Field(default_factory=utcnow)


class ResponseOutcome(StrEnum):
    """What the government did with a contribution (OGP's reasoned response)."""

    ADOPTED = "adopted"
    PARTLY_ADOPTED = "partly-adopted"
    NOT_ADOPTED = "not-adopted"
    OUT_OF_SCOPE = "out-of-scope"
    NOTED = "noted"


class Response(SQLModel, table=True):
    """The secretariat's reasoned response; one response may answer several comments."""

    __tablename__ = "response"

    id: int | None = Field(default=None, primary_key=True)
    outcome: str = Field(max_length=16, index=True)
    text_sq: str = ""
    text_en: str = ""
    # Optional link to the commitment text that changed.
    link: str | None = Field(default=None, max_length=500)
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    updated_by: str = Field(max_length=64)
    updated_at: datetime = Field(default_factory=utcnow)
    version: int = 1


class ResponseComment(SQLModel, table=True):
    """Which comments a response answers; a comment has at most one response."""

    __tablename__ = "response_comment"

    comment_id: int = Field(foreign_key="comment.id", primary_key=True)
    response_id: int = Field(foreign_key="response.id", index=True)


class ResponseRevision(SQLModel, table=True):
    """A response as it was before an edit: the history the moderation UI shows."""

    __tablename__ = "response_revision"

    id: int | None = Field(default=None, primary_key=True)
    response_id: int = Field(foreign_key="response.id", index=True)
    version: int
    outcome: str = Field(max_length=16)
    text_sq: str = ""
    text_en: str = ""
    link: str | None = Field(default=None, max_length=500)
    edited_by: str = Field(max_length=64)
    edited_at: datetime = Field(default_factory=utcnow)


class RedactionState(StrEnum):
    ACTIVE = "active"
    LIFTED = "lifted"


class Redaction(SQLModel, table=True):
    """A span of personal data hidden in the published text (safe by default).

    ``start``/``end`` index the field's text as stored on the comment (``subject``,
    ``text``, or ``edited`` for the moderator's edited text). A moderator may lift a
    detected span (who and why are kept) or add one by hand (``kind`` ``manual``).
    """

    __tablename__ = "redaction"

    id: int | None = Field(default=None, primary_key=True)
    comment_id: int = Field(foreign_key="comment.id", index=True)
    field: str = Field(max_length=16)
    kind: str = Field(max_length=16)
    start: int
    end: int
    state: str = Field(default=RedactionState.ACTIVE, max_length=16)
    created_by: str = Field(default="system", max_length=64)
    reason: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    lifted_by: str | None = Field(default=None, max_length=64)
    lifted_reason: str | None = None
    lifted_at: datetime | None = None


class AddressConfirmation(SQLModel, table=True):
    """A contact-form address waiting to be confirmed before anything is mailed to it."""

    __tablename__ = "address_confirmation"

    id: int | None = Field(default=None, primary_key=True)
    inbound_id: int = Field(foreign_key="inbound_message.id", unique=True)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    confirmed_at: datetime | None = None


class ClassifierModel(SQLModel, table=True):
    """One version of the classifier, kept after it is replaced (``classifier train``).

    ``data`` is the model as numpy arrays (``intake.classifier.model``), never a pickle.
    ``scores`` are its cross-validated figures; ``baseline_scores`` those of the version
    that was active, retrained and scored on the same folds. At most one row is active.
    """

    __tablename__ = "classifier_model"

    id: int | None = Field(default=None, primary_key=True)
    version: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow)
    created_by: str = Field(max_length=64)
    active: bool = Field(default=False, index=True)
    activated_at: datetime | None = None
    examples: int = 0
    folds: int = 0
    scores: str | None = None  # JSON
    baseline_version: str | None = Field(default=None, max_length=64)
    baseline_scores: str | None = None  # JSON
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class CommentClassification(SQLModel, table=True):
    """What the classifier said about a comment, with which model version, and why.

    The labels themselves are ``CommentCommitment`` rows (a moderator may change them);
    this keeps the classifier's view: off-topic, aspect, confidence, explanation.
    """

    __tablename__ = "comment_classification"

    comment_id: int = Field(foreign_key="comment.id", primary_key=True)
    model_version: str = Field(max_length=64, index=True)
    spam: bool = False
    aspect: str = Field(default="commitment", max_length=16)
    confidence: float = 0.0
    # Not sure enough to trust: the queue filters on it (abstain rather than guess).
    low_confidence: bool = Field(default=False, index=True)
    # JSON: label (or "off-topic", "aspect") -> the terms that weighed most.
    explanation: str = "{}"
    # JSON: label -> calibrated probability.
    scores: str = "{}"
    classified_at: datetime = Field(default_factory=utcnow)


class AdditionsStatus(StrEnum):
    """A campaign member's own sentences: approving the campaign approves the common text;
    what a member added waits for a moderator's look."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class Campaign(SQLModel, table=True):
    """Near-identical comments (a form letter sent by many), moderated and published once.

    ``size`` counts every member, the representative included; a group smaller than
    ``OGP_CAMPAIGN_MIN_SIZE`` is kept but not shown as a campaign.
    """

    __tablename__ = "campaign"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    # Not a foreign key, as ``comment.campaign_id`` is not one: ``moderation.campaigns``
    # alone writes both.
    representative_comment_id: int = Field(index=True)
    size: int = Field(default=0, index=True)


class CampaignBand(SQLModel, table=True):
    """One LSH band of a comment's MinHash signature: comments sharing a key are
    candidates for the same campaign (``intake.campaigns``)."""

    __tablename__ = "campaign_band"

    key: int = Field(sa_type=BigInteger, primary_key=True)
    comment_id: int = Field(foreign_key="comment.id", primary_key=True, index=True)
