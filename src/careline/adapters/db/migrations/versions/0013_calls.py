"""Voice / CTI: calls as the PBX reports them; identities found by their external id (docs/channels.md).

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

UTC_DATETIME = sa.DateTime(timezone=True)
ID = sa.String(40)


def upgrade() -> None:
    op.create_table(
        "calls",
        sa.Column("id", ID, nullable=False),
        sa.Column("channel_account_id", ID, nullable=False),
        sa.Column("platform_call_id", sa.String(200), nullable=False),
        sa.Column("direction", sa.String(16), nullable=False),
        sa.Column("number", sa.String(32), nullable=True),
        sa.Column("line", sa.String(32), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("queue", sa.String(100), nullable=True),
        sa.Column("customer_id", ID, nullable=True),
        sa.Column("agent_id", ID, nullable=True),
        sa.Column("agent_email", sa.String(320), nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("ringing_at", UTC_DATETIME, nullable=True),
        sa.Column("answered_at", UTC_DATETIME, nullable=True),
        sa.Column("ended_at", UTC_DATETIME, nullable=True),
        sa.Column("recording_url", sa.String(2000), nullable=True),
        sa.Column("received", sa.JSON(), nullable=False),
        sa.Column("conversation_id", ID, nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"], name=op.f("fk_calls_agent_id_agents")),
        sa.ForeignKeyConstraint(
            ["channel_account_id"], ["channel_accounts.id"], name=op.f("fk_calls_channel_account_id_channel_accounts")
        ),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], name=op.f("fk_calls_customer_id_customers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calls")),
        sa.UniqueConstraint(
            "channel_account_id", "platform_call_id", name=op.f("uq_calls_channel_account_id_platform_call_id")
        ),
    )
    op.create_index("ix_calls_customer_id", "calls", ["customer_id"])
    op.create_index("ix_identities_external_id", "identities", ["external_id"])


def downgrade() -> None:
    op.drop_index("ix_identities_external_id", table_name="identities")
    op.drop_index("ix_calls_customer_id", table_name="calls")
    op.drop_table("calls")
