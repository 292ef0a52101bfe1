"""Approval of public replies: agents who need it, held replies' approvals, the deployment's risky words; a
message's delivery status widens to hold "awaiting_approval" (docs/approvals.md).

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

UTC_DATETIME = sa.DateTime(timezone=True)
ID = sa.String(40)


def upgrade() -> None:
    with op.batch_alter_table("agents") as batch_op:
        batch_op.add_column(sa.Column("needs_approval", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("messages") as batch_op:  # SQLite: the table is copied
        batch_op.alter_column(
            "delivery_status", existing_type=sa.String(16), type_=sa.String(24), existing_nullable=True
        )
    op.create_table(
        "reply_approvals",
        sa.Column("id", ID, nullable=False),
        sa.Column("conversation_id", ID, nullable=False),
        sa.Column("message_id", ID, nullable=False),
        sa.Column("requested_by", ID, nullable=False),
        sa.Column("requested_at", UTC_DATETIME, nullable=False),
        sa.Column("original_text", sa.Text(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("risky_words", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("decided_by", ID, nullable=True),
        sa.Column("decided_at", UTC_DATETIME, nullable=True),
        sa.Column("final_text", sa.Text(), nullable=True),
        sa.Column("rejection_reason", sa.String(500), nullable=True),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_reply_approvals_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["requested_by"], ["agents.id"], name=op.f("fk_reply_approvals_requested_by_agents")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reply_approvals")),
        sa.UniqueConstraint("message_id", name=op.f("uq_reply_approvals_message_id")),
    )
    op.create_index(op.f("ix_reply_approvals_conversation_id"), "reply_approvals", ["conversation_id"])
    op.create_index("ix_reply_approvals_status_requested_at", "reply_approvals", ["status", "requested_at"])
    op.create_table(
        "approval_settings",
        sa.Column("id", sa.String(16), nullable=False),
        sa.Column("risky_words", sa.JSON(), nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_by", ID, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approval_settings")),
    )


def downgrade() -> None:
    op.drop_table("approval_settings")
    op.drop_table("reply_approvals")
    with op.batch_alter_table("messages") as batch_op:
        batch_op.alter_column(
            "delivery_status", existing_type=sa.String(24), type_=sa.String(16), existing_nullable=True
        )
    with op.batch_alter_table("agents") as batch_op:
        batch_op.drop_column("needs_approval")
