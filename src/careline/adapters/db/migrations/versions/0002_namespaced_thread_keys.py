"""Namespaced thread keys: "msg:<platform id>", "key:<channel thread>", "private:<customer>".

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversations") as batch_op:
        batch_op.alter_column("thread_key", type_=sa.String(220), existing_type=sa.String(200), existing_nullable=False)
    # Threads keyed before the namespaces were started by a message (private ones already carry theirs).
    op.execute(
        "UPDATE conversations SET thread_key = 'msg:' || thread_key "
        "WHERE thread_key NOT LIKE 'private:%' AND thread_key NOT LIKE 'msg:%' AND thread_key NOT LIKE 'key:%'"
    )


def downgrade() -> None:
    op.execute("UPDATE conversations SET thread_key = substr(thread_key, 5) WHERE thread_key LIKE 'msg:%'")
    op.execute("UPDATE conversations SET thread_key = substr(thread_key, 5) WHERE thread_key LIKE 'key:%'")
    with op.batch_alter_table("conversations") as batch_op:
        batch_op.alter_column("thread_key", type_=sa.String(200), existing_type=sa.String(220), existing_nullable=False)
