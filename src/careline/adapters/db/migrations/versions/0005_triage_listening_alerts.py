"""Triage's conclusions on conversations and messages; categories, listening rules, volume counts and alerts.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

UTC_DATETIME = sa.DateTime(timezone=True)
ID = sa.String(40)


def upgrade() -> None:
    with op.batch_alter_table("conversations") as batch_op:
        batch_op.add_column(sa.Column("category", sa.String(100), nullable=True))
        batch_op.add_column(sa.Column("angry", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("action", sa.String(16), nullable=True))
        batch_op.add_column(sa.Column("priority_explanation", sa.JSON(), nullable=True))
    with op.batch_alter_table("messages") as batch_op:
        batch_op.add_column(sa.Column("triage", sa.JSON(), nullable=True))
    with op.batch_alter_table("queues") as batch_op:
        batch_op.add_column(sa.Column("is_triage", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        "categories",
        sa.Column("id", ID, nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.Column("queue_id", ID, nullable=True),
        sa.Column("priority_points", sa.Float(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(["queue_id"], ["queues.id"], name=op.f("fk_categories_queue_id_queues")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_categories")),
        sa.UniqueConstraint("name", name=op.f("uq_categories_name")),
    )
    op.create_table(
        "category_examples",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("category_id", ID, nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("conversation_id", ID, nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["category_id"], ["categories.id"], name=op.f("fk_category_examples_category_id_categories"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_category_examples")),
        sa.UniqueConstraint(
            "category_id", "conversation_id", name=op.f("uq_category_examples_category_id_conversation_id")
        ),
    )
    op.create_index(op.f("ix_category_examples_category_id"), "category_examples", ["category_id"])
    op.create_table(
        "listening_rules",
        sa.Column("id", ID, nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("queue_id", ID, nullable=True),
        sa.Column("priority_points", sa.Float(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("alert", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by", ID, nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(["queue_id"], ["queues.id"], name=op.f("fk_listening_rules_queue_id_queues")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_listening_rules")),
        sa.UniqueConstraint("name", name=op.f("uq_listening_rules_name")),
    )
    op.create_table(
        "listening_matches",
        sa.Column("rule_id", ID, nullable=False),
        sa.Column("message_id", ID, nullable=False),
        sa.Column("conversation_id", ID, nullable=False),
        sa.Column("terms", sa.JSON(), nullable=False),
        sa.Column("matched_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["rule_id"], ["listening_rules.id"], name=op.f("fk_listening_matches_rule_id_listening_rules"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("rule_id", "message_id", name=op.f("pk_listening_matches")),
    )
    op.create_index("ix_listening_matches_rule_time", "listening_matches", ["rule_id", "matched_at"])
    op.create_table(
        "volume_counts",
        sa.Column("key", sa.String(400), nullable=False),
        sa.Column("bucket_start", UTC_DATETIME, nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", "bucket_start", name=op.f("pk_volume_counts")),
    )
    op.create_table(
        "alerts",
        sa.Column("id", ID, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("rule", sa.String(100), nullable=False),
        sa.Column("key", sa.String(400), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("dedup_key", sa.String(500), nullable=False),
        sa.Column("post_ids", sa.JSON(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("raised_at", UTC_DATETIME, nullable=False),
        sa.Column("acknowledged_at", UTC_DATETIME, nullable=True),
        sa.Column("acknowledged_by", ID, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
        sa.UniqueConstraint("dedup_key", name=op.f("uq_alerts_dedup_key")),
    )
    op.create_index(op.f("ix_alerts_raised_at"), "alerts", ["raised_at"])
    op.create_table(
        "alert_subscriptions",
        sa.Column("id", ID, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("target", sa.String(2000), nullable=False),
        sa.Column("min_severity", sa.String(16), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_subscriptions")),
    )


def downgrade() -> None:
    for table in ("alert_subscriptions", "alerts", "volume_counts", "listening_matches", "listening_rules"):
        op.drop_table(table)
    op.drop_table("category_examples")
    op.drop_table("categories")
    with op.batch_alter_table("queues") as batch_op:
        batch_op.drop_column("is_triage")
    with op.batch_alter_table("messages") as batch_op:
        batch_op.drop_column("triage")
    with op.batch_alter_table("conversations") as batch_op:
        batch_op.drop_column("priority_explanation")
        batch_op.drop_column("action")
        batch_op.drop_column("angry")
        batch_op.drop_column("category")
