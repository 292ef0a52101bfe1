"""Presence: who has a conversation open right now, for the desktop's collision detection
(docs/web.md#collision-detection).

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

ID = sa.String(40)


def upgrade() -> None:
    op.create_table(
        "conversation_presence",
        sa.Column("conversation_id", ID, nullable=False),
        sa.Column("agent_id", ID, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_conversation_presence_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name=op.f("fk_conversation_presence_agent_id_agents"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("conversation_id", "agent_id", name=op.f("pk_conversation_presence")),
    )


def downgrade() -> None:
    op.drop_table("conversation_presence")
