"""The routing engine: agent attributes and weighted capacity, queue targets and hours, the workflow settings,
pools, routing tickets, offers and wrap-ups (docs/routing.md).

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

UTC_DATETIME = sa.DateTime(timezone=True)
ID = sa.String(40)


def upgrade() -> None:
    with op.batch_alter_table("agents") as batch_op:
        batch_op.add_column(sa.Column("proficiency", sa.JSON(), nullable=False, server_default="{}"))
        batch_op.add_column(sa.Column("languages", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("teams", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("seniority", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("attributes", sa.JSON(), nullable=False, server_default="{}"))
        batch_op.add_column(sa.Column("units", sa.Integer(), nullable=False, server_default="100"))
        batch_op.add_column(sa.Column("used_units", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("load", sa.JSON(), nullable=False, server_default="{}"))
        batch_op.add_column(sa.Column("last_offered_at", UTC_DATETIME, nullable=True))
    with op.batch_alter_table("queues") as batch_op:
        batch_op.add_column(sa.Column("target", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("next_response_target_seconds", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("business_hours", sa.JSON(), nullable=False, server_default="{}"))
        batch_op.add_column(
            sa.Column("selection", sa.String(16), nullable=False, server_default="longest_idle")
        )
    op.create_table(
        "routing_settings",
        sa.Column("id", sa.String(16), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_by", ID, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_settings")),
    )
    op.create_table(
        "agent_pools",
        sa.Column("pool", sa.String(80), nullable=False),
        sa.Column("agent_id", ID, nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name=op.f("fk_agent_pools_agent_id_agents"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("pool", "agent_id", name=op.f("pk_agent_pools")),
    )
    op.create_index(op.f("ix_agent_pools_agent_id"), "agent_pools", ["agent_id"])
    op.create_table(
        "routing_tickets",
        sa.Column("conversation_id", ID, nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("waiting", sa.Boolean(), nullable=False),
        sa.Column("pool", sa.String(80), nullable=False),
        sa.Column("sort_key", sa.Float(), nullable=False),
        sa.Column("route", sa.String(100), nullable=True),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("queue_id", ID, nullable=False),
        sa.Column("step_started_at", UTC_DATETIME, nullable=False),
        sa.Column("step_due_at", UTC_DATETIME, nullable=True),
        sa.Column("arrived_at", UTC_DATETIME, nullable=False),
        sa.Column("deadline", UTC_DATETIME, nullable=False),
        sa.Column("sla_due_at", UTC_DATETIME, nullable=True),
        sa.Column("sla_state", sa.String(16), nullable=False),
        sa.Column("rejected_by", sa.JSON(), nullable=False),
        sa.Column("escalations", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_routing_tickets_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("conversation_id", name=op.f("pk_routing_tickets")),
    )
    op.create_index("ix_routing_tickets_lane", "routing_tickets", ["waiting", "pool", "channel", "sort_key"])
    op.create_index("ix_routing_tickets_step_due_at", "routing_tickets", ["step_due_at"])
    op.create_index("ix_routing_tickets_sla_due_at", "routing_tickets", ["sla_due_at"])
    op.create_table(
        "offers",
        sa.Column("id", ID, nullable=False),
        sa.Column("conversation_id", ID, nullable=False),
        sa.Column("agent_id", ID, nullable=False),
        sa.Column("queue_id", ID, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("offered_at", UTC_DATETIME, nullable=False),
        sa.Column("expires_at", UTC_DATETIME, nullable=False),
        sa.Column("answered_at", UTC_DATETIME, nullable=True),
        sa.Column("reason", sa.String(500), nullable=True),
        sa.Column("explanation", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"], name=op.f("fk_offers_agent_id_agents")),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_offers_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offers")),
    )
    op.create_index("ix_offers_conversation_id", "offers", ["conversation_id"])
    op.create_index("ix_offers_status_expires_at", "offers", ["status", "expires_at"])
    op.create_index("ix_offers_agent_id_status", "offers", ["agent_id", "status"])
    op.create_index(
        "uq_offers_one_pending",
        "offers",
        ["conversation_id"],
        unique=True,
        sqlite_where=sa.text("status = 'pending'"),
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_table(
        "wrap_ups",
        sa.Column("id", ID, nullable=False),
        sa.Column("agent_id", ID, nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("until", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name=op.f("fk_wrap_ups_agent_id_agents"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wrap_ups")),
    )
    op.create_index(op.f("ix_wrap_ups_agent_id"), "wrap_ups", ["agent_id"])
    op.create_index(op.f("ix_wrap_ups_until"), "wrap_ups", ["until"])


def downgrade() -> None:
    op.drop_table("wrap_ups")
    op.drop_table("offers")
    op.drop_table("routing_tickets")
    op.drop_table("agent_pools")
    op.drop_table("routing_settings")
    with op.batch_alter_table("queues") as batch_op:
        for column in ("selection", "business_hours", "next_response_target_seconds", "target"):
            batch_op.drop_column(column)
    with op.batch_alter_table("agents") as batch_op:
        for column in (
            "last_offered_at", "load", "used_units", "units", "attributes", "seniority", "teams", "languages",
            "proficiency",
        ):
            batch_op.drop_column(column)
