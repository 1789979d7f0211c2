"""queue search: a full-text index kept by the database, diacritic- and case-insensitive

The index is maintained by the database itself (SQLite triggers, a PostgreSQL
generated column), so a comment is searchable however its row was written: the
ORM, a bulk COPY, a hand-written INSERT during an incident.

SQLite: ``comment_fts``, an FTS5 external-content table over comment(subject, text)
with ``unicode61 remove_diacritics 2`` ("pershendetje" finds "Përshëndetje"), kept
by three triggers. A later SQLite batch migration of ``comment`` recreates the
table and so drops these triggers: it must create them again (``FTS_TRIGGERS``).

PostgreSQL: ``comment.search_vector``, a STORED generated tsvector over the unaccented
subject and text, with a GIN index. ``to_tsvector`` in a generated column must be
immutable, and ``unaccent(text)`` is only stable (it reads the search path), hence
``ogp_unaccent``: the dictionary and schema named outright, declared IMMUTABLE.
The SQLModel ``Comment`` does not know the column, so the ORM never writes it.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FTS_TABLE = """
CREATE VIRTUAL TABLE comment_fts USING fts5(
    subject, text,
    content='comment', content_rowid='id',
    tokenize='unicode61 remove_diacritics 2'
)
"""
# External content: the FTS table stores only the index, so a delete must hand it
# the old values exactly. Status changes do not touch the index (UPDATE OF).
FTS_TRIGGERS = (
    """CREATE TRIGGER comment_fts_insert AFTER INSERT ON comment BEGIN
  INSERT INTO comment_fts(rowid, subject, text) VALUES (new.id, new.subject, new.text);
END""",
    """CREATE TRIGGER comment_fts_delete AFTER DELETE ON comment BEGIN
  INSERT INTO comment_fts(comment_fts, rowid, subject, text)
  VALUES ('delete', old.id, old.subject, old.text);
END""",
    """CREATE TRIGGER comment_fts_update AFTER UPDATE OF id, subject, text ON comment BEGIN
  INSERT INTO comment_fts(comment_fts, rowid, subject, text)
  VALUES ('delete', old.id, old.subject, old.text);
  INSERT INTO comment_fts(rowid, subject, text) VALUES (new.id, new.subject, new.text);
END""",
)

PG_UNACCENT = """
CREATE OR REPLACE FUNCTION ogp_unaccent(text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
AS $$ SELECT public.unaccent('public.unaccent'::regdictionary, $1) $$
"""
PG_COLUMN = """
ALTER TABLE comment ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
    to_tsvector('simple'::regconfig,
                ogp_unaccent(coalesce(subject, '') || ' ' || coalesce(text, '')))
) STORED
"""

# Rare flags: small partial indexes let "released only" and "with attachments"
# page by (created_at, id) without walking the whole queue.
PARTIAL_INDEXES = (
    ("ix_comment_released_created", "released"),
    ("ix_comment_attachments_created", "has_attachments"),
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(FTS_TABLE)
        for trigger in FTS_TRIGGERS:
            op.execute(trigger)
        # Rows written before this revision.
        op.execute("INSERT INTO comment_fts(comment_fts) VALUES ('rebuild')")
        truth = "1"
    else:
        op.execute("CREATE EXTENSION IF NOT EXISTS unaccent SCHEMA public")
        op.execute(PG_UNACCENT)
        op.execute(PG_COLUMN)
        op.execute("CREATE INDEX ix_comment_search_vector ON comment USING gin (search_vector)")
        truth = "TRUE"
    for name, column in PARTIAL_INDEXES:
        op.execute(f"CREATE INDEX {name} ON comment (created_at, id) WHERE {column} = {truth}")


def downgrade() -> None:
    for name, _column in PARTIAL_INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
    if op.get_bind().dialect.name == "sqlite":
        for name in ("comment_fts_update", "comment_fts_delete", "comment_fts_insert"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS comment_fts")
    else:
        op.execute("DROP INDEX IF EXISTS ix_comment_search_vector")
        op.execute("ALTER TABLE comment DROP COLUMN IF EXISTS search_vector")
        op.execute("DROP FUNCTION IF EXISTS ogp_unaccent(text)")
        # The unaccent extension stays: it may have been there before us, and
        # dropping it would break whatever else uses it.
