"""Messages carry their language, the kinds of personal data in them, and their masked text.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(8), nullable=True))
        batch_op.add_column(sa.Column("pii", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("masked_text", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch_op:
        batch_op.drop_column("masked_text")
        batch_op.drop_column("pii")
        batch_op.drop_column("language")
