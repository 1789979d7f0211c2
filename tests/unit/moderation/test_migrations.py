"""The migrations build exactly the tables the models declare (no drift either way)."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, text
from sqlmodel import SQLModel

from config.settings import Settings
from moderation.db import alembic_config
from tests.conftest import SECRET
from tests.unit.factories import load_comment, make_comment

# Kept by the database itself and declared only in migration 0005: the search index
# (SQLite FTS5 tables, the PostgreSQL tsvector column) and two partial indexes.
MIGRATION_ONLY = ("comment_fts", "search_vector", "ix_comment_search_vector",
                  "ix_comment_attachments_created", "ix_comment_released_created")


def test_models_and_migrations_agree(engine: Engine) -> None:
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    drift = [repr(d) for d in differences
             if not any(name in repr(d) for name in MIGRATION_ONLY)]
    assert drift == []


def test_comments_from_before_redaction_get_their_personal_data_detected(
    database_url: str, engine: Engine
) -> None:
    comment_id = make_comment(engine, text="Më telefononi në 069 123 4567, faleminderit.")
    with engine.begin() as connection:  # as a database from before migration 0008 has it
        connection.execute(text("DELETE FROM redaction"))
    settings = Settings(database_url=database_url, secret_key=SECRET)
    command.downgrade(alembic_config(settings.database_url), "0008")
    command.upgrade(alembic_config(settings.database_url), "head")
    with engine.connect() as connection:
        found = connection.execute(text(
            'SELECT field, kind, start, "end" FROM redaction WHERE comment_id = :id'),
            {"id": comment_id}).all()
    comment = load_comment(engine, comment_id)
    assert [(field, kind, comment.text[start:end]) for field, kind, start, end in found] == [
        ("text", "phone", "069 123 4567")]
