"""SQL repositories: each loads and stores one kind of domain object inside the unit of work's transaction."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from careline.adapters.db import rows
from careline.adapters.db import tables as t
from careline.adapters.db.bulk import insert_rows
from careline.contacts.model import Customer, Identity
from careline.conversations.model import Conversation, Message
from careline.kernel.errors import Conflict, NotFound

CHUNK = 500  # bound the number of bind parameters in IN (...) lists (SQLite allows 32766)


def _chunks(values: Iterable[Any]) -> Iterable[list[Any]]:
    batch: list[Any] = []
    for value in values:
        batch.append(value)
        if len(batch) == CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


class ConversationRepository:
    """Tracks every conversation it hands out, so that the unit of work can flush and collect events."""

    def __init__(self, connection: sa.Connection) -> None:
        self._db = connection
        self.seen: dict[str, Conversation] = {}
        self._new: set[str] = set()

    def _track(self, row: Any) -> Conversation:
        if row.id in self.seen:
            return self.seen[row.id]
        conversation = rows.conversation_from_row(row)
        self.seen[conversation.id] = conversation
        return conversation

    def add(self, conversation: Conversation) -> None:
        self.seen[conversation.id] = conversation
        self._new.add(conversation.id)

    def get(self, conversation_id: str) -> Conversation:
        if conversation_id in self.seen:
            return self.seen[conversation_id]
        row = self._db.execute(sa.select(t.conversations).where(t.conversations.c.id == conversation_id)).first()
        if row is None:
            raise NotFound(f"conversation {conversation_id} does not exist")
        return self._track(row)

    def by_ids(self, ids: Iterable[str]) -> dict[str, Conversation]:
        wanted = set(ids)
        found = {i: self.seen[i] for i in wanted if i in self.seen}
        for batch in _chunks(wanted - found.keys()):
            for row in self._db.execute(sa.select(t.conversations).where(t.conversations.c.id.in_(batch))):
                found[row.id] = self._track(row)
        return found

    def by_thread_keys(self, account_id: str, keys: Iterable[str]) -> dict[str, Conversation]:
        found: dict[str, Conversation] = {}
        c = t.conversations.c
        for batch in _chunks(set(keys)):
            query = sa.select(t.conversations).where(c.channel_account_id == account_id, c.thread_key.in_(batch))
            for row in self._db.execute(query):
                found[row.thread_key] = self._track(row)
        return found

    def flush(self) -> None:
        """Insert the new, and update the changed with an optimistic version check."""
        new_rows = [rows.conversation_to_row(self.seen[i]) for i in self._new]
        insert_rows(self._db, t.conversations, new_rows)
        changed = [c for i, c in self.seen.items() if i not in self._new and c.events]
        c = t.conversations.c
        for conversation in changed:
            values = rows.conversation_to_row(conversation)
            values["version"] = conversation.version + 1
            result = self._db.execute(
                sa.update(t.conversations)
                .where(c.id == conversation.id, c.version == conversation.version)
                .values(**{k: v for k, v in values.items() if k != "id"})
            )
            if result.rowcount != 1:
                raise Conflict(f"conversation {conversation.id} was changed by someone else; try again")
            conversation.version += 1
        self._new.clear()


class MessageRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self._db = connection
        self._staged: list[Message] = []

    def add_mentions(self, message_id: str, conversation_id: str, agent_ids: list[str], at: datetime) -> None:
        rows_ = [
            {"message_id": message_id, "agent_id": a, "conversation_id": conversation_id, "mentioned_at": at}
            for a in agent_ids
        ]
        if rows_:
            self._db.execute(sa.insert(t.mentions), rows_)

    def add_many(self, messages: list[Message]) -> None:
        """Staged until flush: their conversations must be written first."""
        self._staged.extend(messages)

    def flush(self) -> None:
        if self._staged:
            insert_rows(self._db, t.messages, [rows.message_to_row(m) for m in self._staged])
            self._staged = []

    def get(self, message_id: str) -> Message:
        row = self._db.execute(sa.select(t.messages).where(t.messages.c.id == message_id)).first()
        if row is None:
            raise NotFound(f"message {message_id} does not exist")
        return rows.message_from_row(row)

    def update_outbound(self, message: Message) -> None:
        """Store a stored reply's text and delivery status (an approver's decision)."""
        values = {"text": message.text, "delivery_status": message.delivery_status}
        self._db.execute(sa.update(t.messages).where(t.messages.c.id == message.id).values(**values))

    def requeue_delivery(self, message_id: str, at: datetime) -> str | None:
        o = t.outbox.c
        failed = (o.message_id == message_id, o.kind == "deliver", o.status == "failed")
        found = self._db.execute(sa.select(o.id, o.last_error).where(*failed)).first()
        if found is None:
            return None
        self._db.execute(
            sa.update(t.outbox)
            .where(o.id == found.id)
            .values(status="pending", attempts=0, next_attempt_at=at, last_error=None)
        )
        return str(found.last_error or "no reason recorded")

    def last_inbound_at(self, conversation_id: str) -> datetime | None:
        """When the customer last wrote in this conversation."""
        m = t.messages.c
        query = sa.select(sa.func.max(m.created_at)).where(
            m.conversation_id == conversation_id, m.direction == "inbound"
        )
        found = self._db.execute(query).scalar()
        return found if found is None or found.tzinfo else found.replace(tzinfo=UTC)

    def customer_texts(self, conversation_id: str) -> list[str]:
        m = t.messages.c
        query = (
            sa.select(m.text)
            .where(m.conversation_id == conversation_id, m.direction == "inbound")
            .order_by(m.created_at, m.id)
            .limit(20)
        )
        return list(self._db.execute(query).scalars())

    def receipt_targets(
        self, account_id: str, platform_ids: Iterable[str], reader: str, watermark: datetime | None
    ) -> list[Message]:
        m, theirs = t.messages.c, t.messages.alias("theirs").c
        named = list(platform_ids)[:1000]
        about: list[Any] = [m.platform_message_id.in_(named)] if named else []
        if watermark is not None and reader:
            wrote = sa.select(theirs.conversation_id).where(
                theirs.channel_account_id == account_id,
                theirs.direction == "inbound",
                theirs.author_external_id == reader,
            )
            about.append(sa.and_(m.conversation_id.in_(wrote), m.visibility == "private", m.created_at <= watermark))
        if not about:
            return []
        query = (
            sa.select(t.messages)
            .where(
                m.channel_account_id == account_id,
                m.direction == "outbound",
                m.platform_message_id.is_not(None),
                sa.or_(*about),
            )
            .order_by(m.created_at, m.id)
        )
        return [rows.message_from_row(row) for row in self._db.execute(query)]

    def conversations_of(self, wanted: Mapping[str, Iterable[str]]) -> dict[str, dict[str, str]]:
        """Per account id: platform message id -> conversation id, for the ids already stored there.

        One query for all the accounts of a batch (the extra pairs it may match are filtered out here).
        """
        m = t.messages.c
        found: dict[str, dict[str, str]] = {account_id: {} for account_id in wanted}
        wanted_sets = {account_id: set(ids) for account_id, ids in wanted.items()}
        all_ids = set().union(*wanted_sets.values()) if wanted_sets else set()
        for batch in _chunks(all_ids):
            query = sa.select(m.channel_account_id, m.platform_message_id, m.conversation_id).where(
                m.channel_account_id.in_(list(wanted_sets)), m.platform_message_id.in_(batch)
            )
            for r in self._db.execute(query):
                if r.platform_message_id in wanted_sets[r.channel_account_id]:
                    found[r.channel_account_id][r.platform_message_id] = r.conversation_id
        return found

class CustomerRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self._db = connection
        self.seen: dict[str, Customer] = {}

    def customers_for(self, channel: str, external_ids: Iterable[str]) -> dict[str, str]:
        """external id -> surviving customer id (merged customers resolve to the one they joined)."""
        i, cu = t.identities.c, t.customers.c
        found: dict[str, str] = {}
        for batch in _chunks(set(external_ids)):
            query = (
                sa.select(i.external_id, i.customer_id, cu.merged_into_id)
                .join(t.customers, cu.id == i.customer_id)
                .where(i.channel == channel, i.external_id.in_(batch))
            )
            for r in self._db.execute(query):
                found[r.external_id] = r.merged_into_id or r.customer_id
        return found

    def tiers(self, customer_ids: Iterable[str]) -> dict[str, str]:
        cu = t.customers.c
        found: dict[str, str] = {}
        for batch in _chunks(set(customer_ids)):
            query = sa.select(cu.id, cu.tier).where(cu.id.in_(batch), cu.tier != "standard")
            found.update({r.id: r.tier for r in self._db.execute(query)})
        return found

    def add_many(self, customers: list[Customer], identities: list[Identity]) -> None:
        insert_rows(
            self._db,
            t.customers,
            [
                {"id": c.id, "display_name": c.display_name, "tier": c.tier, "created_at": c.created_at}
                for c in customers
            ],
        )
        insert_rows(
            self._db,
            t.identities,
            [
                {"channel": i.channel, "external_id": i.external_id, "customer_id": i.customer_id, "handle": i.handle}
                for i in identities
            ],
        )

    def get(self, customer_id: str) -> Customer:
        if customer_id in self.seen:
            return self.seen[customer_id]
        row = self._db.execute(sa.select(t.customers).where(t.customers.c.id == customer_id)).first()
        if row is None:
            raise NotFound(f"customer {customer_id} does not exist")
        self.seen[customer_id] = rows.customer_from_row(row)
        return self.seen[customer_id]

    def locked(self, *customer_ids: str) -> list[Customer]:
        """These customers, row-locked until commit (in id order: two lockers cannot deadlock), in the order
        asked; so that two merges of the same people run one after the other (SQLite: BEGIN IMMEDIATE)."""
        query = sa.select(t.customers).where(t.customers.c.id.in_(customer_ids)).order_by(t.customers.c.id)
        found = {row.id: rows.customer_from_row(row) for row in self._db.execute(query.with_for_update())}
        missing = [i for i in customer_ids if i not in found]
        if missing:
            raise NotFound(f"customer {missing[0]} does not exist")
        self.seen.update(found)
        return [found[i] for i in customer_ids]

    def identities_of(self, customer_id: str) -> list[Identity]:
        query = sa.select(t.identities).where(t.identities.c.customer_id == customer_id)
        return [Identity(r.channel, r.external_id, r.customer_id, r.handle) for r in self._db.execute(query)]

    def move_everything(self, source_id: str, target_id: str) -> None:
        """After a merge: identities, conversations and messages follow the surviving customer."""
        for table in (t.identities, t.conversations, t.messages):
            self._db.execute(
                sa.update(table).where(table.c.customer_id == source_id).values(customer_id=target_id)
            )

    def flush(self) -> None:
        for customer in self.seen.values():
            if customer.events:
                self._db.execute(
                    sa.update(t.customers)
                    .where(t.customers.c.id == customer.id)
                    .values(
                        merged_into_id=customer.merged_into_id,
                        tier=customer.tier,
                        notes=customer.notes or None,
                        fields=customer.fields or None,
                    )
                )
