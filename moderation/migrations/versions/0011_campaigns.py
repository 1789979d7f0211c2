"""campaigns: near-identical comments grouped, with their LSH bands and members' additions

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Str = sqlmodel.sql.sqltypes.AutoString
When = sqlmodel.sql.sqltypes.UTCDateTime

# Plain ADD COLUMN, never a batch copy of ``comment``: on SQLite a table copy would drop
# the search triggers of migration 0005 (and so ``campaign_id`` is not a foreign key).
COMMENT_COLUMNS = (
    sa.Column('campaign_id', sa.Integer(), nullable=True),
    sa.Column('campaign_split', sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column('additions', Str(), nullable=False, server_default=''),
    sa.Column('additions_status', Str(length=16), nullable=True),
)


def upgrade() -> None:
    op.create_table('campaign',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', When(), nullable=False),
    sa.Column('updated_at', When(), nullable=False),
    sa.Column('representative_comment_id', sa.Integer(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_campaign_representative_comment_id'), 'campaign',
                    ['representative_comment_id'], unique=False)
    op.create_index(op.f('ix_campaign_size'), 'campaign', ['size'], unique=False)

    op.create_table('campaign_band',
    sa.Column('key', sa.BigInteger(), nullable=False),
    sa.Column('comment_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['comment_id'], ['comment.id'], ),
    sa.PrimaryKeyConstraint('key', 'comment_id')
    )
    op.create_index(op.f('ix_campaign_band_comment_id'), 'campaign_band', ['comment_id'],
                    unique=False)

    for column in COMMENT_COLUMNS:
        op.add_column('comment', column)
    op.create_index(op.f('ix_comment_campaign_id'), 'comment', ['campaign_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_comment_campaign_id'), table_name='comment')
    for column in reversed(COMMENT_COLUMNS):
        op.drop_column('comment', column.name)
    op.drop_index(op.f('ix_campaign_band_comment_id'), table_name='campaign_band')
    op.drop_table('campaign_band')
    op.drop_index(op.f('ix_campaign_size'), table_name='campaign')
    op.drop_index(op.f('ix_campaign_representative_comment_id'), table_name='campaign')
    op.drop_table('campaign')
