"""Departments: escalation paths to experts outside the contact center, and their consultations
(docs/departments.md).

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

UTC_DATETIME = sa.DateTime(timezone=True)
ID = sa.String(40)


def upgrade() -> None:
    op.create_table(
        "departments",
        sa.Column("id", ID, nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("answer_target_seconds", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_departments")),
        sa.UniqueConstraint("name", name=op.f("uq_departments_name")),
    )
    op.create_table(
        "department_members",
        sa.Column("department_id", ID, nullable=False),
        sa.Column("agent_id", ID, nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_department_members_department_id_departments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name=op.f("fk_department_members_agent_id_agents"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("department_id", "agent_id", name=op.f("pk_department_members")),
    )
    op.create_index(op.f("ix_department_members_agent_id"), "department_members", ["agent_id"])
    op.create_table(
        "consultations",
        sa.Column("id", ID, nullable=False),
        sa.Column("conversation_id", ID, nullable=False),
        sa.Column("department_id", ID, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("asked_by", ID, nullable=False),
        sa.Column("owner_id", ID, nullable=False),
        sa.Column("asked_at", UTC_DATETIME, nullable=False),
        sa.Column("due_at", UTC_DATETIME, nullable=False),
        sa.Column("answered_at", UTC_DATETIME, nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answered_by", ID, nullable=True),
        sa.Column("note_message_id", ID, nullable=True),
        sa.Column("overdue_at", UTC_DATETIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_consultations_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["department_id"], ["departments.id"], name=op.f("fk_consultations_department_id_departments")
        ),
        sa.ForeignKeyConstraint(["asked_by"], ["agents.id"], name=op.f("fk_consultations_asked_by_agents")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consultations")),
    )
    op.create_index(op.f("ix_consultations_conversation_id"), "consultations", ["conversation_id"])
    op.create_index(op.f("ix_consultations_department_id"), "consultations", ["department_id"])
    op.create_index(op.f("ix_consultations_due_at"), "consultations", ["due_at"])


def downgrade() -> None:
    op.drop_table("consultations")
    op.drop_table("department_members")
    op.drop_table("departments")
