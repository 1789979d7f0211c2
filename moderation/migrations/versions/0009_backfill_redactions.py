"""personal data already stored: detect it in comments made before redaction existed

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28

Without this, comments processed before 0008 would have no redaction rows and be
published as they are. Plain SQL, so later model changes cannot break it.
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 500
INSERT = sa.text(
    'INSERT INTO redaction (comment_id, field, kind, start, "end", state, created_by, created_at) '
    "VALUES (:comment_id, :field, :kind, :start, :end, 'active', 'system', :created_at)"
)


def upgrade() -> None:
    from intake.pii import detect_personal_data

    bind = op.get_bind()
    now = datetime.now(UTC)
    last_id = 0
    while True:
        comments = bind.execute(sa.text(
            "SELECT id, subject, text, edited_text, author_name FROM comment "
            "WHERE id > :last AND NOT EXISTS "
            "(SELECT 1 FROM redaction WHERE redaction.comment_id = comment.id) "
            "ORDER BY id LIMIT :batch"), {"last": last_id, "batch": BATCH}).all()
        if not comments:
            return
        found = []
        for comment_id, subject, text, edited_text, author_name in comments:
            names = [author_name] if author_name else []
            for field, value in (("subject", subject), ("text", text), ("edited", edited_text)):
                for span in detect_personal_data(value or "", names) if value else ():
                    found.append({"comment_id": comment_id, "field": field, "kind": str(span.kind),
                                  "start": span.start, "end": span.end, "created_at": now})
        if found:
            bind.execute(INSERT, found)
        last_id = comments[-1][0]


def downgrade() -> None:
    # Detected rows cannot be told from later ones reliably; leave them (they only hide).
    pass
