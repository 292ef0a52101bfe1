"""Customers' notes and CRM fields; @mentions of agents in internal notes (docs/web.md).

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

UTC_DATETIME = sa.DateTime(timezone=True)
ID = sa.String(40)


def upgrade() -> None:
    with op.batch_alter_table("customers") as batch_op:
        batch_op.add_column(sa.Column("notes", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("fields", sa.JSON(), nullable=True))
    op.create_table(
        "mentions",
        sa.Column("message_id", ID, nullable=False),
        sa.Column("agent_id", ID, nullable=False),
        sa.Column("conversation_id", ID, nullable=False),
        sa.Column("mentioned_at", UTC_DATETIME, nullable=False),
        sa.Column("seen_at", UTC_DATETIME, nullable=True),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"], name=op.f("fk_mentions_agent_id_agents")),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_mentions_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("message_id", "agent_id", name=op.f("pk_mentions")),
    )
    op.create_index("ix_mentions_agent_id_seen_at", "mentions", ["agent_id", "seen_at"])


def downgrade() -> None:
    op.drop_index("ix_mentions_agent_id_seen_at", table_name="mentions")
    op.drop_table("mentions")
    with op.batch_alter_table("customers") as batch_op:
        batch_op.drop_column("fields")
        batch_op.drop_column("notes")
