"""moderators' workbench: claims, versions, edits, notices, labels, accounts, append-only audit

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Str = sqlmodel.sql.sqltypes.AutoString
When = sqlmodel.sql.sqltypes.UTCDateTime

APPEND_ONLY_SQLITE = """
CREATE TRIGGER moderation_event_no_{verb} BEFORE {verb} ON moderation_event
BEGIN SELECT RAISE(ABORT, 'moderation_event is append-only: {verb} refused'); END
"""
APPEND_ONLY_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION moderation_event_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'moderation_event is append-only: % refused', TG_OP;
END
$$
"""


def upgrade() -> None:
    with op.batch_alter_table('comment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('channel', Str(length=16), nullable=False, server_default='imap'))
        batch_op.add_column(sa.Column('has_attachments', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('released', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('reject_code', Str(length=32), nullable=True))
        batch_op.add_column(sa.Column('edited_text', Str(), nullable=True))
        batch_op.add_column(sa.Column('edited_html', Str(), nullable=True))
        batch_op.add_column(sa.Column('edited_by', Str(length=64), nullable=True))
        batch_op.add_column(sa.Column('edited_at', When(), nullable=True))
        batch_op.add_column(sa.Column('claimed_by', Str(length=64), nullable=True))
        batch_op.add_column(sa.Column('claimed_until', When(), nullable=True))
        batch_op.create_index('ix_comment_status_created', ['status', 'created_at', 'id'])
        batch_op.create_index('ix_comment_created_id', ['created_at', 'id'])
        batch_op.create_index('ix_comment_language', ['language'])
        batch_op.create_index('ix_comment_channel', ['channel'])
    op.execute("UPDATE comment SET channel = (SELECT source FROM inbound_message "
               "WHERE inbound_message.id = comment.inbound_id)")
    op.execute("UPDATE comment SET released = TRUE WHERE inbound_id IN "
               "(SELECT id FROM inbound_message WHERE released_by IS NOT NULL)")
    op.execute("UPDATE comment SET has_attachments = TRUE WHERE inbound_id IN "
               "(SELECT inbound_id FROM attachment)")
    reject_other = "UPDATE comment SET reject_code = 'other' WHERE reject_reason IS NOT NULL"
    op.execute(reject_other)

    with op.batch_alter_table('comment_commitment', schema=None) as batch_op:
        batch_op.create_index('ix_comment_commitment_commitment', ['commitment_id', 'comment_id'])

    with op.batch_alter_table('moderation_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('detail', Str(), nullable=True))
        batch_op.create_index('ix_moderation_event_actor', ['actor'])
        batch_op.create_index('ix_moderation_event_action', ['action'])

    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('totp_secret', Str(length=64), nullable=True))
        batch_op.add_column(sa.Column('totp_last_step', sa.BigInteger(), nullable=True))

    with op.batch_alter_table('web_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_seen_at', When(), nullable=False, server_default=sa.func.now()))
        batch_op.create_index('ix_web_session_user_id', ['user_id'])

    op.create_table('decision_notice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('comment_id', sa.Integer(), nullable=False),
    sa.Column('kind', Str(length=16), nullable=False),
    sa.Column('status', Str(length=16), nullable=False),
    sa.Column('due_at', When(), nullable=False),
    sa.Column('error', Str(), nullable=True),
    sa.Column('message_id', Str(length=255), nullable=True),
    sa.Column('created_at', When(), nullable=False),
    sa.Column('updated_at', When(), nullable=False),
    sa.Column('sent_at', When(), nullable=True),
    sa.ForeignKeyConstraint(['comment_id'], ['comment.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('comment_id')
    )
    with op.batch_alter_table('decision_notice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_decision_notice_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_decision_notice_due_at'), ['due_at'], unique=False)

    op.create_table('labelled_example',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('comment_id', sa.Integer(), nullable=False),
    sa.Column('commitments', Str(), nullable=False),
    sa.Column('source', Str(length=16), nullable=False),
    sa.Column('actor', Str(length=64), nullable=False),
    sa.Column('at', When(), nullable=False),
    sa.ForeignKeyConstraint(['comment_id'], ['comment.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('labelled_example', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_labelled_example_comment_id'), ['comment_id'], unique=False)

    # The audit log is append-only: the database itself refuses to change it.
    # (A later SQLite batch migration of this table must create these again.)
    if op.get_bind().dialect.name == "sqlite":
        op.execute(APPEND_ONLY_SQLITE.format(verb="UPDATE"))
        op.execute(APPEND_ONLY_SQLITE.format(verb="DELETE"))
    else:
        op.execute(APPEND_ONLY_PG_FUNCTION)
        op.execute("CREATE TRIGGER moderation_event_append_only BEFORE UPDATE OR DELETE "
                   "ON moderation_event FOR EACH ROW EXECUTE FUNCTION moderation_event_append_only()")
        op.execute("CREATE TRIGGER moderation_event_no_truncate BEFORE TRUNCATE "
                   "ON moderation_event FOR EACH STATEMENT EXECUTE FUNCTION moderation_event_append_only()")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS moderation_event_no_UPDATE")
        op.execute("DROP TRIGGER IF EXISTS moderation_event_no_DELETE")
    else:
        op.execute("DROP TRIGGER IF EXISTS moderation_event_append_only ON moderation_event")
        op.execute("DROP TRIGGER IF EXISTS moderation_event_no_truncate ON moderation_event")
        op.execute("DROP FUNCTION IF EXISTS moderation_event_append_only()")
    op.drop_table('labelled_example')
    op.drop_table('decision_notice')
    with op.batch_alter_table('web_session', schema=None) as batch_op:
        batch_op.drop_index('ix_web_session_user_id')
        batch_op.drop_column('last_seen_at')
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.drop_column('totp_last_step')
        batch_op.drop_column('totp_secret')
    with op.batch_alter_table('moderation_event', schema=None) as batch_op:
        batch_op.drop_index('ix_moderation_event_action')
        batch_op.drop_index('ix_moderation_event_actor')
        batch_op.drop_column('detail')
        batch_op.drop_column('version')
    with op.batch_alter_table('comment_commitment', schema=None) as batch_op:
        batch_op.drop_index('ix_comment_commitment_commitment')
    with op.batch_alter_table('comment', schema=None) as batch_op:
        for index in ('ix_comment_channel', 'ix_comment_language', 'ix_comment_created_id',
                      'ix_comment_status_created'):
            batch_op.drop_index(index)
        for column in ('claimed_until', 'claimed_by', 'edited_at', 'edited_by', 'edited_html',
                       'edited_text', 'reject_code', 'released', 'has_attachments', 'channel'):
            batch_op.drop_column(column)
