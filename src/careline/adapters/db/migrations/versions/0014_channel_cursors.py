"""Polled channels (X): each stream's cursor and each endpoint's request budget (docs/channels.md#x-twitter).

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

UTC_DATETIME = sa.DateTime(timezone=True)
ID = sa.String(40)


def upgrade() -> None:
    op.create_table(
        "channel_cursors",
        sa.Column("account_id", ID, nullable=False),
        sa.Column("stream", sa.String(1100), nullable=False),
        sa.Column("since_id", sa.String(40), nullable=True),
        sa.Column("target_id", sa.String(40), nullable=True),
        sa.Column("next_token", sa.String(500), nullable=True),
        sa.Column("next_sweep_at", UTC_DATETIME, nullable=True),
        sa.Column("sweep_started_at", UTC_DATETIME, nullable=True),
        sa.Column("since_at", UTC_DATETIME, nullable=True),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["channel_accounts.id"],
            name=op.f("fk_channel_cursors_account_id_channel_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", "stream", name=op.f("pk_channel_cursors")),
    )
    op.create_table(
        "channel_rate_limits",
        sa.Column("account_id", ID, nullable=False),
        sa.Column("endpoint", sa.String(100), nullable=False),
        sa.Column("limit", sa.Integer(), nullable=True),
        sa.Column("remaining", sa.Integer(), nullable=True),
        sa.Column("reset_at", UTC_DATETIME, nullable=True),
        sa.Column("window_started_at", UTC_DATETIME, nullable=True),
        sa.Column("sent_in_window", sa.Integer(), nullable=False),
        sa.Column("blocked_until", UTC_DATETIME, nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["channel_accounts.id"],
            name=op.f("fk_channel_rate_limits_account_id_channel_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", "endpoint", name=op.f("pk_channel_rate_limits")),
    )


def downgrade() -> None:
    op.drop_table("channel_rate_limits")
    op.drop_table("channel_cursors")
