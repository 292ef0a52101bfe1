"""The relational schema (SQLAlchemy Core). Alembic migrations in ./migrations mirror it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from careline.conversations.model import THREAD_KEY_WIDTH


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """Stores UTC; always hands back timezone-aware datetimes (SQLite forgets the zone)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use UTC-aware datetimes")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ID = sa.String(40)

channel_accounts = sa.Table(
    "channel_accounts",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("callback_url", sa.String(2000)),
    sa.Column("config", sa.JSON, nullable=False, default=dict),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("kind", "name"),
)

customers = sa.Table(
    "customers",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("display_name", sa.String(200), nullable=False),
    sa.Column("tier", sa.String(32), nullable=False, default="standard"),
    sa.Column("merged_into_id", ID, sa.ForeignKey("customers.id")),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("notes", sa.Text),  # the team's notes on this person
    sa.Column("fields", sa.JSON),  # CRM fields: name -> value
)

identities = sa.Table(
    "identities",
    metadata,
    sa.Column("channel", sa.String(16), primary_key=True),
    sa.Column("external_id", sa.String(200), primary_key=True),
    sa.Column("customer_id", ID, sa.ForeignKey("customers.id"), nullable=False, index=True),
    sa.Column("handle", sa.String(200)),
)

queues = sa.Table(
    "queues",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("name", sa.String(100), nullable=False, unique=True),
    sa.Column("required_skills", sa.JSON, nullable=False, default=list),
    sa.Column("first_response_target_seconds", sa.Integer, nullable=False),
    sa.Column("keywords", sa.JSON, nullable=False, default=list),
    sa.Column("rank", sa.Integer, nullable=False, default=100),
    sa.Column("is_default", sa.Boolean, nullable=False, default=False),
    sa.Column("is_triage", sa.Boolean, nullable=False, default=False),  # people decide where its work belongs
    sa.Column("target", sa.Text),  # who may work it (routing/expressions.py); null: every required skill
    sa.Column("next_response_target_seconds", sa.Integer),
    sa.Column("business_hours", sa.JSON, nullable=False, default=dict),  # routing/calendar.py spec; {}: 24/7
    sa.Column("selection", sa.String(16), nullable=False, default="longest_idle"),
    # At most one default queue, even when two are created at the same moment.
    sa.Index(
        "uq_queues_one_default",
        "is_default",
        unique=True,
        sqlite_where=sa.text("is_default"),
        postgresql_where=sa.text("is_default"),
    ),
)

agents = sa.Table(
    "agents",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("email", sa.String(320), nullable=False, unique=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("skills", sa.JSON, nullable=False, default=list),
    sa.Column("capacity", sa.JSON, nullable=False, default=dict),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("available_since", UTCDateTime),
    sa.Column("password_hash", sa.String(300)),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("proficiency", sa.JSON, nullable=False, default=dict),  # skill -> 1..10
    sa.Column("languages", sa.JSON, nullable=False, default=list),
    sa.Column("teams", sa.JSON, nullable=False, default=list),
    sa.Column("seniority", sa.Integer, nullable=False, default=0),
    sa.Column("attributes", sa.JSON, nullable=False, default=dict),
    sa.Column("units", sa.Integer, nullable=False, default=100),
    # What the agent holds now (offers, assigned work, wrap-up), recounted under the agent's row lock by every
    # routing decision that touches it: a pre-filter for "who has room", never trusted on its own.
    sa.Column("used_units", sa.Integer, nullable=False, default=0),
    sa.Column("load", sa.JSON, nullable=False, default=dict),
    sa.Column("last_offered_at", UTCDateTime),
    sa.Column("needs_approval", sa.Boolean, nullable=False, default=False),  # public replies wait for an approver
)

api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("agent_id", ID, sa.ForeignKey("agents.id"), nullable=False, index=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

conversations = sa.Table(
    "conversations",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("channel_account_id", ID, sa.ForeignKey("channel_accounts.id"), nullable=False),
    sa.Column("customer_id", ID, sa.ForeignKey("customers.id"), index=True),
    sa.Column("thread_key", sa.String(THREAD_KEY_WIDTH), nullable=False),
    sa.Column("queue_id", ID, sa.ForeignKey("queues.id"), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("priority", sa.Float, nullable=False, default=0.0),
    sa.Column("assignee_id", ID, sa.ForeignKey("agents.id")),
    sa.Column("tags", sa.JSON, nullable=False, default=list),
    sa.Column("private_conversation_id", ID),
    sa.Column("first_inbound_at", UTCDateTime),
    sa.Column("first_response_at", UTCDateTime),
    sa.Column("sentiment_label", sa.String(16)),
    sa.Column("category", sa.String(100)),
    sa.Column("angry", sa.Boolean, nullable=False, default=False),
    sa.Column("action", sa.String(16)),  # the response policy's decision: answer | acknowledge | ignore | take_private
    sa.Column("priority_explanation", sa.JSON),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("last_message_at", UTCDateTime, nullable=False),
    sa.Column("version", sa.Integer, nullable=False, default=0),
    sa.UniqueConstraint("channel_account_id", "thread_key"),
    sa.Index("ix_conversations_routing", "status", "assignee_id", "queue_id"),
)

messages = sa.Table(
    "messages",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("conversation_id", ID, sa.ForeignKey("conversations.id"), nullable=False, index=True),
    sa.Column("channel_account_id", ID, sa.ForeignKey("channel_accounts.id"), nullable=False),
    sa.Column("platform_message_id", sa.String(200)),
    sa.Column("direction", sa.String(16), nullable=False),
    sa.Column("visibility", sa.String(16), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("author_external_id", sa.String(200)),
    sa.Column("customer_id", ID),
    sa.Column("agent_id", ID),
    sa.Column("reply_to_platform_id", sa.String(200)),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("received_at", UTCDateTime, nullable=False),
    sa.Column("raw", sa.JSON),
    sa.Column("sentiment_label", sa.String(16)),
    sa.Column("sentiment_score", sa.Float),
    sa.Column("delivery_status", sa.String(24)),  # queued, delivered, failed, awaiting_approval, rejected
    sa.Column("language", sa.String(8)),
    sa.Column("pii", sa.JSON),
    sa.Column("masked_text", sa.Text),
    sa.Column("triage", sa.JSON),  # angry, noise, policy action, category: what triage said of this message
    sa.UniqueConstraint("channel_account_id", "platform_message_id"),
)

events = sa.Table(
    "events",
    metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("type", sa.String(64), nullable=False),
    sa.Column("conversation_id", ID, index=True),
    sa.Column("actor", sa.String(250), nullable=False),
    sa.Column("occurred_at", UTCDateTime, nullable=False),
    sa.Column("recorded_at", UTCDateTime, nullable=False),
    sa.Column("data", sa.JSON, nullable=False),
    sa.Index("ix_events_type_occurred", "type", "occurred_at"),
)

outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("message_id", ID, index=True),
    sa.Column("idempotency_key", sa.String(80), nullable=False, unique=True),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("next_attempt_at", UTCDateTime, nullable=False),
    sa.Column("last_error", sa.Text),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Index("ix_outbox_due", "status", "next_attempt_at"),
)

# Triage (issue 3): what is learned, listened for and alerted on. docs/triage.md, docs/listening.md, docs/alerts.md.
categories = sa.Table(
    "categories",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("name", sa.String(100), nullable=False, unique=True),
    sa.Column("description", sa.Text, nullable=False, default=""),
    sa.Column("keywords", sa.JSON, nullable=False, default=list),
    sa.Column("queue_id", ID, sa.ForeignKey("queues.id")),
    sa.Column("priority_points", sa.Float, nullable=False, default=0.0),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

category_examples = sa.Table(
    "category_examples",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("category_id", ID, sa.ForeignKey("categories.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("source", sa.String(16), nullable=False),  # example (given with the category) | tag (an agent's)
    sa.Column("conversation_id", ID),
    sa.Column("created_at", UTCDateTime, nullable=False),
    # An agent tagging the same conversation twice teaches the model once.
    sa.UniqueConstraint("category_id", "conversation_id"),
)

listening_rules = sa.Table(
    "listening_rules",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("name", sa.String(100), nullable=False, unique=True),
    sa.Column("query", sa.Text, nullable=False),
    sa.Column("queue_id", ID, sa.ForeignKey("queues.id")),
    sa.Column("priority_points", sa.Float, nullable=False, default=0.0),
    sa.Column("tags", sa.JSON, nullable=False, default=list),
    sa.Column("alert", sa.Boolean, nullable=False, default=False),
    sa.Column("active", sa.Boolean, nullable=False, default=True),
    sa.Column("created_by", ID),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

listening_matches = sa.Table(
    "listening_matches",
    metadata,
    sa.Column("rule_id", ID, sa.ForeignKey("listening_rules.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("message_id", ID, primary_key=True),
    sa.Column("conversation_id", ID, nullable=False),
    sa.Column("terms", sa.JSON, nullable=False, default=list),
    sa.Column("matched_at", UTCDateTime, nullable=False),
    sa.Index("ix_listening_matches_rule_time", "rule_id", "matched_at"),
)

volume_counts = sa.Table(
    "volume_counts",
    metadata,
    sa.Column("key", sa.String(400), primary_key=True),
    sa.Column("bucket_start", UTCDateTime, primary_key=True),
    sa.Column("count", sa.Integer, nullable=False),
)

alerts = sa.Table(
    "alerts",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("rule", sa.String(100), nullable=False),
    sa.Column("key", sa.String(400), nullable=False),
    sa.Column("severity", sa.String(16), nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("dedup_key", sa.String(500), nullable=False, unique=True),
    sa.Column("post_ids", sa.JSON, nullable=False, default=list),
    sa.Column("details", sa.JSON, nullable=False, default=dict),
    sa.Column("raised_at", UTCDateTime, nullable=False, index=True),
    sa.Column("acknowledged_at", UTCDateTime),
    sa.Column("acknowledged_by", ID),
)

alert_subscriptions = sa.Table(
    "alert_subscriptions",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),  # webhook | email
    sa.Column("target", sa.String(2000), nullable=False),
    sa.Column("min_severity", sa.String(16), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
)


# -- routing (docs/routing.md) --------------------------------------------------------------------------------
routing_settings = sa.Table(
    "routing_settings",
    metadata,
    sa.Column("id", sa.String(16), primary_key=True),  # "default": one document per deployment
    sa.Column("spec", sa.JSON, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("updated_by", ID),
)

leases = sa.Table(  # a chore one process of many does at a time (the routing sweep): who holds it, until when
    "leases",
    metadata,
    sa.Column("name", sa.String(40), primary_key=True),
    sa.Column("holder", sa.String(80), nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
)

agent_pools = sa.Table(
    "agent_pools",
    metadata,
    # A pool: the agents one queue's target (and a step's narrower target) admits, kept when agents, queues or
    # the workflow change, so that "who may take this" is a join, not an expression per decision.
    sa.Column("pool", sa.String(80), primary_key=True),
    sa.Column("agent_id", ID, sa.ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True, index=True),
)

routing_tickets = sa.Table(
    "routing_tickets",
    metadata,
    sa.Column("conversation_id", ID, sa.ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("waiting", sa.Boolean, nullable=False),  # unassigned and unresolved: routers may offer it
    sa.Column("pool", sa.String(80), nullable=False),
    sa.Column("sort_key", sa.Float, nullable=False),  # the engine's ordering: smaller goes first
    sa.Column("route", sa.String(100)),
    sa.Column("step", sa.Integer, nullable=False),
    sa.Column("queue_id", ID, nullable=False),
    sa.Column("step_started_at", UTCDateTime, nullable=False),
    sa.Column("step_due_at", UTCDateTime),  # when the step times out and escalates
    sa.Column("arrived_at", UTCDateTime, nullable=False),
    sa.Column("deadline", UTCDateTime, nullable=False),
    sa.Column("sla_due_at", UTCDateTime),  # the next SLA event: the warning, then the breach
    sa.Column("sla_state", sa.String(16), nullable=False),  # running | warned | breached | met
    sa.Column("rejected_by", sa.JSON, nullable=False, default=list),
    sa.Column("escalations", sa.JSON, nullable=False, default=list),
    sa.Column("version", sa.Integer, nullable=False, default=0),
    sa.Index("ix_routing_tickets_lane", "waiting", "pool", "channel", "sort_key"),
    sa.Index("ix_routing_tickets_step_due_at", "step_due_at"),
    sa.Index("ix_routing_tickets_sla_due_at", "sla_due_at"),
)

offers = sa.Table(
    "offers",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("conversation_id", ID, sa.ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False),
    sa.Column("agent_id", ID, sa.ForeignKey("agents.id"), nullable=False),
    sa.Column("queue_id", ID, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # pending | accepted | rejected | expired | revoked
    sa.Column("offered_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
    sa.Column("answered_at", UTCDateTime),
    sa.Column("reason", sa.String(500)),
    sa.Column("explanation", sa.JSON, nullable=False),
    sa.Index("ix_offers_conversation_id", "conversation_id"),
    sa.Index("ix_offers_status_expires_at", "status", "expires_at"),
    sa.Index("ix_offers_agent_id_status", "agent_id", "status"),
    # The database itself refuses a second pending offer of one conversation.
    sa.Index(
        "uq_offers_one_pending",
        "conversation_id",
        unique=True,
        sqlite_where=sa.text("status = 'pending'"),
        postgresql_where=sa.text("status = 'pending'"),
    ),
)

wrap_ups = sa.Table(
    "wrap_ups",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("agent_id", ID, sa.ForeignKey("agents.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("until", UTCDateTime, nullable=False, index=True),
)

# -- departments (docs/departments.md) ------------------------------------------------------------------------
departments = sa.Table(
    "departments",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("name", sa.String(100), nullable=False, unique=True),
    sa.Column("answer_target_seconds", sa.Integer, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

department_members = sa.Table(
    "department_members",
    metadata,
    sa.Column("department_id", ID, sa.ForeignKey("departments.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("agent_id", ID, sa.ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True, index=True),
)

consultations = sa.Table(
    "consultations",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column(
        "conversation_id", ID, sa.ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    sa.Column("department_id", ID, sa.ForeignKey("departments.id"), nullable=False, index=True),
    sa.Column("kind", sa.String(16), nullable=False),  # consult | transfer
    sa.Column("reason", sa.String(500), nullable=False),
    sa.Column("question", sa.Text, nullable=False),
    sa.Column("asked_by", ID, sa.ForeignKey("agents.id"), nullable=False),
    sa.Column("owner_id", ID, nullable=False),  # the conversation's assignee when asked; it keeps the conversation
    sa.Column("asked_at", UTCDateTime, nullable=False),
    sa.Column("due_at", UTCDateTime, nullable=False, index=True),
    sa.Column("answered_at", UTCDateTime),
    sa.Column("answer", sa.Text),
    sa.Column("answered_by", ID),
    sa.Column("note_message_id", ID),  # no foreign key: the note's row is written at commit, after this one
    sa.Column("overdue_at", UTCDateTime),
)


# -- collision detection (docs/web.md#collision-detection) ------------------------------------------------------
conversation_presence = sa.Table(  # who has a conversation open right now: one heartbeat row per person
    "conversation_presence",
    metadata,
    sa.Column("conversation_id", ID, sa.ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("agent_id", ID, sa.ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("state", sa.String(16), nullable=False),  # viewing | typing
    sa.Column("seen_at", UTCDateTime, nullable=False),
)


# -- approval of public replies (docs/approvals.md) -----------------------------------------------------------
reply_approvals = sa.Table(
    "reply_approvals",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column(
        "conversation_id", ID, sa.ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    sa.Column("message_id", ID, nullable=False, unique=True),  # no foreign key: the message is written at commit
    sa.Column("requested_by", ID, sa.ForeignKey("agents.id"), nullable=False),
    sa.Column("requested_at", UTCDateTime, nullable=False),
    sa.Column("original_text", sa.Text, nullable=False),  # the agent's text, kept when an approver edits it
    sa.Column("reasons", sa.JSON, nullable=False, default=list),  # "agent needs approval", "risky words: ..."
    sa.Column("risky_words", sa.JSON, nullable=False, default=list),
    sa.Column("status", sa.String(16), nullable=False),  # pending | approved | rejected
    sa.Column("decided_by", ID),
    sa.Column("decided_at", UTCDateTime),
    sa.Column("final_text", sa.Text),  # the text sent
    sa.Column("rejection_reason", sa.String(500)),
    sa.Index("ix_reply_approvals_status_requested_at", "status", "requested_at"),
)

approval_settings = sa.Table(
    "approval_settings",
    metadata,
    sa.Column("id", sa.String(16), primary_key=True),  # "default": one list per deployment
    sa.Column("risky_words", sa.JSON, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("updated_by", ID),
)

# -- canned responses (docs/web.md) ---------------------------------------------------------------------------
canned_responses = sa.Table(
    "canned_responses",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("title", sa.String(100), nullable=False, unique=True),
    sa.Column("text", sa.Text, nullable=False),  # with {customer_name}, {agent_name}, {order_id}, {brand}
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("created_by", ID),
)


# -- @mentions in internal notes (docs/web.md) ------------------------------------------------------------------
mentions = sa.Table(
    "mentions",
    metadata,
    sa.Column("message_id", ID, primary_key=True),  # the note
    sa.Column("agent_id", ID, sa.ForeignKey("agents.id"), primary_key=True),
    sa.Column("conversation_id", ID, sa.ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False),
    sa.Column("mentioned_at", UTCDateTime, nullable=False),
    sa.Column("seen_at", UTCDateTime),  # when the agent opened the conversation afterwards
    sa.Index("ix_mentions_agent_id_seen_at", "agent_id", "seen_at"),
)


# -- voice / CTI (docs/channels.md#voice--cti) ------------------------------------------------------------------
calls = sa.Table(  # one phone call as the PBX reports it; a finished one is filed as a conversation
    "calls",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("channel_account_id", ID, sa.ForeignKey("channel_accounts.id"), nullable=False),
    sa.Column("platform_call_id", sa.String(200), nullable=False),  # the PBX's id of the call
    sa.Column("direction", sa.String(16), nullable=False),  # inbound | outbound
    sa.Column("number", sa.String(32)),  # the customer's number, E.164; null: withheld
    sa.Column("line", sa.String(32)),  # our side: the number dialled (inbound) or shown (outbound)
    sa.Column("state", sa.String(16), nullable=False),  # dialing | ringing | answered | ended | missed
    sa.Column("queue", sa.String(100)),
    sa.Column("customer_id", ID, sa.ForeignKey("customers.id"), index=True),
    sa.Column("agent_id", ID, sa.ForeignKey("agents.id")),
    sa.Column("agent_email", sa.String(320)),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("ringing_at", UTCDateTime),
    sa.Column("answered_at", UTCDateTime),
    sa.Column("ended_at", UTCDateTime),
    sa.Column("recording_url", sa.String(2000)),
    sa.Column("received", sa.JSON, nullable=False, default=list),  # the PBX's event types, each counted once
    sa.Column("conversation_id", ID),  # no foreign key: the conversation's row is written at commit, after this one
    sa.Column("version", sa.Integer, nullable=False, default=0),
    sa.UniqueConstraint("channel_account_id", "platform_call_id"),
)

# Screen pop: a caller's number may be the customer's identity on another channel (an SMS or WhatsApp connector).
sa.Index("ix_identities_external_id", identities.c.external_id)


# -- polled channels: where each stream stands, and each endpoint's request budget (docs/channels.md#x-twitter) --
channel_cursors = sa.Table(  # one polled stream of an account (X: "mentions", "search:<query>")
    "channel_cursors",
    metadata,
    sa.Column("account_id", ID, sa.ForeignKey("channel_accounts.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("stream", sa.String(1100), primary_key=True),
    sa.Column("since_id", sa.String(40)),  # everything up to this id is stored
    sa.Column("target_id", sa.String(40)),  # the sweep in progress: since_id once its last page is stored
    sa.Column("next_token", sa.String(500)),  # the sweep in progress: its next page
    sa.Column("next_sweep_at", UTCDateTime),  # a finished sweep waits for the poll interval
    sa.Column("sweep_started_at", UTCDateTime),  # the sweep in progress: when it asked its first page
    sa.Column("since_at", UTCDateTime),  # when the last finished sweep asked its first page (late tweets' overlap)
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

channel_rate_limits = sa.Table(  # one API endpoint's budget for one account, from the platform's headers
    "channel_rate_limits",
    metadata,
    sa.Column("account_id", ID, sa.ForeignKey("channel_accounts.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("endpoint", sa.String(100), primary_key=True),
    sa.Column("limit", sa.Integer),  # the platform's requests per window, as last reported
    sa.Column("remaining", sa.Integer),  # left in the platform's window, as last reported
    sa.Column("reset_at", UTCDateTime),  # when the platform's window ends
    sa.Column("window_started_at", UTCDateTime),  # our own 15-minute window (the account's requests_per_window)
    sa.Column("sent_in_window", sa.Integer, nullable=False, default=0),
    sa.Column("blocked_until", UTCDateTime),  # after a 429, a 5xx or a timeout: no request before this
    sa.Column("failures", sa.Integer, nullable=False, default=0),  # in a row, for the backoff
    sa.Column("last_error", sa.String(500)),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)


# -- email (docs/channels.md#email) -----------------------------------------------------------------------------
attachments = sa.Table(  # files that came with a message; in the database so that every process can serve them
    "attachments",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("message_id", ID, nullable=False, index=True),  # no foreign key: the message is written at commit
    sa.Column("filename", sa.String(255), nullable=False),
    sa.Column("content_type", sa.String(255), nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),  # bytes, decoded; also for a skipped one
    sa.Column("sha256", sa.String(64)),
    sa.Column("data", sa.LargeBinary),  # null: not stored (over a size limit), and skipped_reason says why
    sa.Column("skipped_reason", sa.String(500)),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

imap_cursors = sa.Table(  # how far the IMAP poller has stored a mailbox folder (RFC 3501 UIDs)
    "imap_cursors",
    metadata,
    sa.Column("account_id", ID, sa.ForeignKey("channel_accounts.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("folder", sa.String(200), primary_key=True),
    sa.Column("uidvalidity", sa.BigInteger, nullable=False),  # UIDs count only within one UIDVALIDITY
    sa.Column("last_uid", sa.BigInteger, nullable=False),  # every mail up to this UID is stored
    sa.Column("updated_at", UTCDateTime, nullable=False),
)


# -- webhooks (docs/channels.md#delivery) -----------------------------------------------------------------------
webhook_inbox = sa.Table(  # verified deliveries as received, stored before the platform is answered
    "webhook_inbox",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("source", sa.String(32), nullable=False),  # which processor reads it: meta, x
    sa.Column("channel_account_id", ID, sa.ForeignKey("channel_accounts.id", ondelete="CASCADE"), nullable=False),
    sa.Column("digest", sa.String(64), nullable=False),  # SHA-256 of the body: a platform's retry is stored once
    sa.Column("body", sa.LargeBinary, nullable=False),
    sa.Column("received_at", UTCDateTime, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # pending | done | failed
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("next_attempt_at", UTCDateTime, nullable=False),
    sa.Column("last_error", sa.Text),
    sa.Column("result", sa.JSON),  # what processing did: counts by outcome
    sa.UniqueConstraint("channel_account_id", "digest"),
    sa.Index("ix_webhook_inbox_due", "status", "next_attempt_at"),
)
