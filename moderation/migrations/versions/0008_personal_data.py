"""personal data: redactions, consent, erasure, retention, address confirmation

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Str = sqlmodel.sql.sqltypes.AutoString
When = sqlmodel.sql.sqltypes.UTCDateTime

# Plain ADD COLUMN, never a batch copy of ``comment``: on SQLite a table copy would drop
# the search triggers of migration 0005.
COMMENT_COLUMNS = (
    sa.Column('author_public', Str(length=200), nullable=True),
    sa.Column('consent_source', Str(length=16), nullable=True),
    sa.Column('consent_by', Str(length=64), nullable=True),
    sa.Column('consent_at', When(), nullable=True),
    sa.Column('erased', sa.Boolean(), nullable=False, server_default=sa.false()),
)


def upgrade() -> None:
    for column in COMMENT_COLUMNS:
        op.add_column('comment', column)
    op.add_column('inbound_message', sa.Column('raw_purged_at', When(), nullable=True))

    op.create_table('redaction',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('comment_id', sa.Integer(), nullable=False),
    sa.Column('field', Str(length=16), nullable=False),
    sa.Column('kind', Str(length=16), nullable=False),
    sa.Column('start', sa.Integer(), nullable=False),
    sa.Column('end', sa.Integer(), nullable=False),
    sa.Column('state', Str(length=16), nullable=False),
    sa.Column('created_by', Str(length=64), nullable=False),
    sa.Column('reason', Str(), nullable=True),
    sa.Column('created_at', When(), nullable=False),
    sa.Column('lifted_by', Str(length=64), nullable=True),
    sa.Column('lifted_reason', Str(), nullable=True),
    sa.Column('lifted_at', When(), nullable=True),
    sa.ForeignKeyConstraint(['comment_id'], ['comment.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_redaction_comment_id'), 'redaction', ['comment_id'], unique=False)

    op.create_table('address_confirmation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('inbound_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', Str(length=64), nullable=False),
    sa.Column('created_at', When(), nullable=False),
    sa.Column('expires_at', When(), nullable=False),
    sa.Column('confirmed_at', When(), nullable=True),
    sa.ForeignKeyConstraint(['inbound_id'], ['inbound_message.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('inbound_id'),
    sa.UniqueConstraint('token_hash')
    )


def downgrade() -> None:
    op.drop_table('address_confirmation')
    op.drop_index(op.f('ix_redaction_comment_id'), table_name='redaction')
    op.drop_table('redaction')
    with op.batch_alter_table('inbound_message', schema=None) as batch_op:
        batch_op.drop_column('raw_purged_at')
    for column in reversed(COMMENT_COLUMNS):
        op.drop_column('comment', column.name)
