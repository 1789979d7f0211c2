"""reasoned responses: response, response_comment, response_revision

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Str = sqlmodel.sql.sqltypes.AutoString
When = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table('response',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('outcome', Str(length=16), nullable=False),
    sa.Column('text_sq', Str(), nullable=False),
    sa.Column('text_en', Str(), nullable=False),
    sa.Column('link', Str(length=500), nullable=True),
    sa.Column('created_by', Str(length=64), nullable=False),
    sa.Column('created_at', When(), nullable=False),
    sa.Column('updated_by', Str(length=64), nullable=False),
    sa.Column('updated_at', When(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_response_outcome'), ['outcome'], unique=False)

    op.create_table('response_comment',
    sa.Column('comment_id', sa.Integer(), nullable=False),
    sa.Column('response_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['comment_id'], ['comment.id'], ),
    sa.ForeignKeyConstraint(['response_id'], ['response.id'], ),
    sa.PrimaryKeyConstraint('comment_id')
    )
    with op.batch_alter_table('response_comment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_response_comment_response_id'), ['response_id'], unique=False)

    op.create_table('response_revision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('response_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('outcome', Str(length=16), nullable=False),
    sa.Column('text_sq', Str(), nullable=False),
    sa.Column('text_en', Str(), nullable=False),
    sa.Column('link', Str(length=500), nullable=True),
    sa.Column('edited_by', Str(length=64), nullable=False),
    sa.Column('edited_at', When(), nullable=False),
    sa.ForeignKeyConstraint(['response_id'], ['response.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('response_revision', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_response_revision_response_id'), ['response_id'], unique=False)


def downgrade() -> None:
    op.drop_table('response_revision')
    op.drop_table('response_comment')
    op.drop_table('response')
