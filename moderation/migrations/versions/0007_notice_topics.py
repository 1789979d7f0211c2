"""notice topics: one decision notice and one response notice per comment

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Str = sqlmodel.sql.sqltypes.AutoString
# 0004 left the old unique constraint unnamed: PostgreSQL named it itself, SQLite has no
# name for it, so the batch copy is told what to call it in order to drop it.
SQLITE_NAMES = {"uq": "uq_%(table_name)s_%(column_0_name)s"}
OLD_UNIQUE = {"postgresql": "decision_notice_comment_id_key",
              "sqlite": "uq_decision_notice_comment_id"}


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    with op.batch_alter_table('decision_notice', schema=None,
                              naming_convention=SQLITE_NAMES) as batch_op:
        # Every notice so far was about a decision.
        batch_op.add_column(sa.Column('topic', Str(length=16), nullable=False,
                                      server_default='decision'))
        batch_op.drop_constraint(OLD_UNIQUE[dialect], type_='unique')
        batch_op.create_unique_constraint('uq_decision_notice_comment_topic',
                                          ['comment_id', 'topic'])


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    # The old table holds one notice per comment: response notices cannot stay.
    op.execute("DELETE FROM decision_notice WHERE topic <> 'decision'")
    with op.batch_alter_table('decision_notice', schema=None,
                              naming_convention=SQLITE_NAMES) as batch_op:
        batch_op.drop_constraint('uq_decision_notice_comment_topic', type_='unique')
        batch_op.create_unique_constraint(OLD_UNIQUE[dialect], ['comment_id'])
        batch_op.drop_column('topic')
