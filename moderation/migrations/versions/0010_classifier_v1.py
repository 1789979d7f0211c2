"""classifier v1: stored model versions and each comment's classification

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Str = sqlmodel.sql.sqltypes.AutoString
When = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table('classifier_model',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', Str(length=64), nullable=False),
    sa.Column('created_at', When(), nullable=False),
    sa.Column('created_by', Str(length=64), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('activated_at', When(), nullable=True),
    sa.Column('examples', sa.Integer(), nullable=False),
    sa.Column('folds', sa.Integer(), nullable=False),
    sa.Column('scores', Str(), nullable=True),
    sa.Column('baseline_version', Str(length=64), nullable=True),
    sa.Column('baseline_scores', Str(), nullable=True),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('version')
    )
    op.create_index(op.f('ix_classifier_model_active'), 'classifier_model', ['active'],
                    unique=False)

    op.create_table('comment_classification',
    sa.Column('comment_id', sa.Integer(), nullable=False),
    sa.Column('model_version', Str(length=64), nullable=False),
    sa.Column('spam', sa.Boolean(), nullable=False),
    sa.Column('aspect', Str(length=16), nullable=False),
    sa.Column('confidence', sa.Float(), nullable=False),
    sa.Column('low_confidence', sa.Boolean(), nullable=False),
    sa.Column('explanation', Str(), nullable=False),
    sa.Column('scores', Str(), nullable=False),
    sa.Column('classified_at', When(), nullable=False),
    sa.ForeignKeyConstraint(['comment_id'], ['comment.id'], ),
    sa.PrimaryKeyConstraint('comment_id')
    )
    op.create_index(op.f('ix_comment_classification_model_version'), 'comment_classification',
                    ['model_version'], unique=False)
    op.create_index(op.f('ix_comment_classification_low_confidence'),
                    'comment_classification', ['low_confidence'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_comment_classification_low_confidence'),
                  table_name='comment_classification')
    op.drop_index(op.f('ix_comment_classification_model_version'),
                  table_name='comment_classification')
    op.drop_table('comment_classification')
    op.drop_index(op.f('ix_classifier_model_active'), table_name='classifier_model')
    op.drop_table('classifier_model')
