"""At most one default queue: a partial unique index.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "uq_queues_one_default", "queues", ["is_default"], unique=True,
        sqlite_where=sa.text("is_default"), postgresql_where=sa.text("is_default"),
    )


def downgrade() -> None:
    op.drop_index("uq_queues_one_default", table_name="queues")
