"""SQL storage of the router: settings, pools, tickets, offers, wrap-ups, and capacity under row locks.

Concurrency (docs/routing.md#concurrency): a decision locks the conversation's ticket and the chosen agent's row
(``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so that concurrent routers pass each other instead of queueing) and
recounts that agent's load from the conversations it holds before it commits. A second pending offer of one
conversation is refused by a unique index. SQLite has no row locks: BEGIN IMMEDIATE serialises its writers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from careline.adapters.db import rows
from careline.adapters.db import tables as t
from careline.agents.model import Agent, AgentStatus
from careline.conversations.model import Status
from careline.kernel.errors import Conflict
from careline.routing.model import Ticket

SETTINGS_ID = "default"
_TICKET_FIELDS = [c.name for c in t.routing_tickets.columns]


def _ticket(row: Any) -> Ticket:
    values = {name: getattr(row, name) for name in _TICKET_FIELDS}
    values["rejected_by"] = list(values["rejected_by"] or [])
    values["escalations"] = list(values["escalations"] or [])
    return Ticket(**values)


class RoutingRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self._db = connection
        self._locks = connection.dialect.name == "postgresql"
        self._counted: dict[str, tuple[dict[str, int], int]] = {}  # agent -> load and units, recounted here
        self._stored: dict[str, tuple[dict[str, int], int]] = {}  # agent -> its load columns as last read/written

    # -- settings and pools ----------------------------------------------------------------------------------
    def settings(self) -> tuple[dict[str, Any] | None, int]:
        row = self._db.execute(sa.select(t.routing_settings).where(t.routing_settings.c.id == SETTINGS_ID)).first()
        return (dict(row.spec), row.version) if row else (None, 0)

    def version(self) -> int:
        query = sa.select(t.routing_settings.c.version).where(t.routing_settings.c.id == SETTINGS_ID)
        return self._db.execute(query).scalar() or 0

    def save_settings(self, spec: Mapping[str, Any], at: datetime, by: str | None) -> int:
        return self._upsert(dict(spec), at, by)

    def bump_version(self, at: datetime) -> int:
        """Queues or agents changed: routers recompile what they cached."""
        spec, _ = self.settings()
        return self._upsert(spec, at, None)

    def _upsert(self, spec: dict[str, Any] | None, at: datetime, by: str | None) -> int:
        s = t.routing_settings
        current = self._db.execute(sa.select(s.c.version).where(s.c.id == SETTINGS_ID).with_for_update()).scalar()
        if current is None:
            self._db.execute(
                sa.insert(s).values(id=SETTINGS_ID, spec=spec or {}, version=1, updated_at=at, updated_by=by)
            )
            return 1
        values: dict[str, Any] = {"version": current + 1, "updated_at": at}
        if spec is not None:
            values["spec"] = spec
        if by is not None:
            values["updated_by"] = by
        self._db.execute(sa.update(s).where(s.c.id == SETTINGS_ID).values(**values))
        return int(current) + 1

    def take_lease(self, name: str, holder: str, now: datetime, until: datetime) -> bool:
        """Hold the chore `name` until `until` if nobody else holds it now (or renew this holder's lease)."""
        le = t.leases.c
        taken = self._db.execute(
            sa.update(t.leases)
            .where(le.name == name, sa.or_(le.holder == holder, le.expires_at <= now))
            .values(holder=holder, expires_at=until)
        ).rowcount
        if taken:
            return True
        if self._db.execute(sa.select(le.name).where(le.name == name)).first() is not None:
            return False  # another holder's lease runs
        self._db.execute(sa.insert(t.leases).values(name=name, holder=holder, expires_at=until))
        return True  # a concurrent first insert fails on the key: the unit of work turns that into Conflict

    def end_lease(self, name: str, holder: str) -> None:
        le = t.leases.c
        self._db.execute(sa.delete(t.leases).where(le.name == name, le.holder == holder))

    def set_pools(self, memberships: Mapping[str, Iterable[str]]) -> None:
        """Replace the pools of these agents."""
        agents = list(memberships)
        for start in range(0, len(agents), 500):
            batch = agents[start : start + 500]
            self._db.execute(sa.delete(t.agent_pools).where(t.agent_pools.c.agent_id.in_(batch)))
        values = [
            {"pool": pool, "agent_id": agent} for agent, pools in memberships.items() for pool in sorted(set(pools))
        ]
        if values:
            self._db.execute(sa.insert(t.agent_pools), values)

    def pools_of(self, agent_id: str) -> set[str]:
        query = sa.select(t.agent_pools.c.pool).where(t.agent_pools.c.agent_id == agent_id)
        return set(self._db.execute(query).scalars())

    def facts_many(self, customers: Mapping[str, str | None]) -> dict[str, dict[str, Any]]:
        """Per conversation (-> its customer): what a workflow filter may test beyond the conversation row, the
        language and visibility of the customer's latest message and the customer's tier."""
        ids = sorted(customers)
        facts: dict[str, dict[str, Any]] = {
            cid: {"language": None, "public": None, "customer_tier": None} for cid in ids
        }
        m = t.messages.c
        for start in range(0, len(ids), 500):
            batch = ids[start : start + 500]
            query = (
                sa.select(m.conversation_id, m.language, m.visibility)
                .where(m.conversation_id.in_(batch), m.direction == "inbound")
                .order_by(m.conversation_id, m.created_at, m.id)
            )
            for row in self._db.execute(query):  # the last one of each conversation wins
                facts[row.conversation_id].update(language=row.language, public=row.visibility == "public")
        tiers_of = sorted({c for c in customers.values() if c is not None})
        tiers: dict[str, str] = {}
        for start in range(0, len(tiers_of), 500):
            query = sa.select(t.customers.c.id, t.customers.c.tier).where(
                t.customers.c.id.in_(tiers_of[start : start + 500])
            )
            tiers.update({row.id: row.tier for row in self._db.execute(query)})
        for cid, customer in customers.items():
            facts[cid]["customer_tier"] = tiers.get(customer) if customer else None
        return facts

    # -- tickets ---------------------------------------------------------------------------------------------
    def ticket(self, conversation_id: str, *, lock: bool = False) -> Ticket | None:
        query = sa.select(t.routing_tickets).where(t.routing_tickets.c.conversation_id == conversation_id)
        if lock and self._locks:
            query = query.with_for_update()
        row = self._db.execute(query).first()
        return _ticket(row) if row else None

    def tickets(self, conversation_ids: Iterable[str], *, lock: bool = False) -> dict[str, Ticket]:
        wanted = sorted(set(conversation_ids))
        found: dict[str, Ticket] = {}
        for start in range(0, len(wanted), 500):
            query = (
                sa.select(t.routing_tickets)
                .where(t.routing_tickets.c.conversation_id.in_(wanted[start : start + 500]))
                .order_by(t.routing_tickets.c.conversation_id)  # locked in one order by everyone: no lock cycles
            )
            if lock and self._locks:
                query = query.with_for_update()
            found.update({row.conversation_id: _ticket(row) for row in self._db.execute(query)})
        return found

    def add_tickets(self, tickets: Iterable[Ticket]) -> None:
        values = [{name: getattr(ticket, name) for name in _TICKET_FIELDS} for ticket in tickets]
        if values:
            self._db.execute(sa.insert(t.routing_tickets), values)

    def save_ticket(self, ticket: Ticket, *, new: bool = False) -> None:
        values = {name: getattr(ticket, name) for name in _TICKET_FIELDS}
        if new:
            self._db.execute(sa.insert(t.routing_tickets).values(**values))
            return
        c = t.routing_tickets.c
        values["version"] = ticket.version + 1
        result = self._db.execute(
            sa.update(t.routing_tickets)
            .where(c.conversation_id == ticket.conversation_id, c.version == ticket.version)
            .values(**values)
        )
        if result.rowcount != 1:
            raise Conflict(f"the routing of {ticket.conversation_id} was changed by another router")
        ticket.version += 1

    def next_waiting(
        self, pools: Iterable[str], channels: Iterable[str], exclude_agent: str, limit: int = 8
    ) -> list[Ticket]:
        """The first waiting tickets of these lanes (a pool and a channel each), in lane order, locked (ones
        another router holds are skipped). On PostgreSQL each lane is read from its index on its own (a LATERAL
        join: the first `limit` of each lane, then the first `limit` of those), never the whole backlog sorted."""
        pools, channels = sorted(set(pools)), sorted(set(channels))
        if not pools or not channels:
            return []
        c = t.routing_tickets.c
        if not self._locks:  # SQLite: one writer at a time and a small backlog
            query = (
                sa.select(t.routing_tickets)
                .where(c.waiting.is_(True), c.pool.in_(pools), c.channel.in_(channels))
                .order_by(c.sort_key, c.conversation_id)
                .limit(limit)
            )
            found = [_ticket(r) for r in self._db.execute(query)]
        else:
            pairs = [(pool, channel) for pool in pools for channel in channels]
            lanes = (  # unnest(:pools, :channels): two array parameters, so the statement is compiled once
                sa.func.unnest(
                    sa.literal([p for p, _ in pairs], ARRAY(sa.String)),
                    sa.literal([c for _, c in pairs], ARRAY(sa.String)),
                )
                .table_valued("pool", "channel")
                .render_derived(name="lanes")
            )
            first = (
                sa.select(t.routing_tickets)
                .where(
                    c.waiting.is_(True),
                    c.pool == lanes.c.pool,
                    c.channel == lanes.c.channel,
                    sa.not_(sa.cast(c.rejected_by, JSONB).contains([exclude_agent])),
                )
                .order_by(c.sort_key)  # the lane's index order (a tie-break would sort the lane)
                .limit(limit)
                .with_for_update(skip_locked=True)
                .lateral("lane")
            )
            query = (
                sa.select(first)
                .select_from(lanes)
                .join(first, sa.true())
                .order_by(first.c.sort_key, first.c.conversation_id)
                .limit(limit)
            )
            found = [_ticket(r) for r in self._db.execute(query)]
        return [ticket for ticket in found if exclude_agent not in ticket.rejected_by]

    def untracked(self, limit: int) -> list[str]:
        """Waiting conversations whose ticket is missing or says otherwise (a routing job was lost, or they
        predate routing): the sweep routes them again."""
        c, r = t.conversations.c, t.routing_tickets.c
        query = (
            sa.select(c.id)
            .outerjoin(t.routing_tickets, r.conversation_id == c.id)
            .where(
                sa.or_(r.conversation_id.is_(None), r.waiting.is_(False)),
                c.assignee_id.is_(None),
                c.status.in_([Status.NEW.value, Status.OPEN.value]),
            )
            .order_by(c.created_at, c.id)
            .limit(limit)
        )
        return list(self._db.execute(query).scalars())

    def due_steps(self, now: datetime, limit: int) -> list[str]:
        c = t.routing_tickets.c
        query = (
            sa.select(c.conversation_id)
            .where(c.step_due_at.is_not(None), c.step_due_at <= now, c.waiting.is_(True))
            .order_by(c.step_due_at)
            .limit(limit)
        )
        return list(self._db.execute(query).scalars())

    def due_sla(self, now: datetime, limit: int) -> list[str]:
        c = t.routing_tickets.c
        query = (
            sa.select(c.conversation_id)
            .where(c.sla_due_at.is_not(None), c.sla_due_at <= now)
            .order_by(c.sla_due_at)
            .limit(limit)
        )
        return list(self._db.execute(query).scalars())

    def anything_waiting(self) -> bool:
        query = sa.select(t.routing_tickets.c.conversation_id).where(t.routing_tickets.c.waiting.is_(True)).limit(1)
        return self._db.execute(query).first() is not None

    def waiting_count(self, pool: str, channel: str, before_key: float) -> int:
        c = t.routing_tickets.c
        query = sa.select(sa.func.count()).where(
            c.waiting.is_(True), c.pool == pool, c.channel == channel, c.sort_key < before_key
        )
        return int(self._db.execute(query).scalar() or 0)

    # -- capacity ----------------------------------------------------------------------------------------------
    def candidates(
        self, pool: str, channel: str, cost: int, exclude: Iterable[str], order: str, limit: int = 8
    ) -> list[Agent]:
        """Online agents of the pool whose counted load leaves room for `cost` units, in selection order,
        locked; those another router holds are skipped (it may be filling them right now)."""
        a = t.agents.c
        query = (
            sa.select(t.agents)
            .join(t.agent_pools, t.agent_pools.c.agent_id == a.id)
            .where(
                t.agent_pools.c.pool == pool,
                a.status == AgentStatus.ONLINE.value,
                a.used_units + cost <= a.units,
            )
            .limit(limit)
        )
        excluded = sorted(set(exclude))
        if excluded:
            query = query.where(a.id.not_in(excluded))
        if order == "least_busy":
            query = query.order_by(
                sa.cast(a.used_units, sa.Float) / a.units, a.available_since.asc().nulls_first(), a.id
            )
        elif order == "round_robin":
            query = query.order_by(a.last_offered_at.asc().nulls_first(), a.id)
        else:
            query = query.order_by(a.available_since.asc().nulls_first(), a.id)
        if self._locks:
            query = query.with_for_update(of=t.agents, skip_locked=True)
        found = list(self._db.execute(query))
        self._stored.update({r.id: (dict(r.load or {}), r.used_units) for r in found})
        return [rows.agent_from_row(r) for r in found]

    def lock_agent(self, agent_id: str, *, skip_locked: bool = False) -> Agent | None:
        """The agent's row, locked for this transaction (None when it is missing, or held by another router
        and `skip_locked`)."""
        query = sa.select(t.agents).where(t.agents.c.id == agent_id)
        if self._locks:
            query = query.with_for_update(skip_locked=skip_locked)
        row = self._db.execute(query).first()
        if row is None:
            return None
        self._stored[agent_id] = (dict(row.load or {}), row.used_units)
        return rows.agent_from_row(row)

    def recount(self, agent_id: str, now: datetime, units: Mapping[str, int]) -> tuple[dict[str, int], int]:
        """The agent's load counted from what it holds (unresolved conversations assigned to it, wrap-ups not
        over), written back as the pre-filter columns when they differ. Call with the agent's row locked."""
        c, w = t.conversations.c, t.wrap_ups.c
        kind = t.channel_accounts.c.kind
        held = (
            sa.select(kind.label("channel"), sa.func.count().label("n"))
            .select_from(t.conversations)
            .join(t.channel_accounts, t.channel_accounts.c.id == c.channel_account_id)
            .where(c.assignee_id == agent_id, c.status != Status.RESOLVED.value)
            .group_by(kind)
        )
        wrapping = (
            sa.select(w.channel, sa.func.count()).where(w.agent_id == agent_id, w.until > now).group_by(w.channel)
        )
        load: dict[str, int] = {}
        for channel, n in self._db.execute(sa.union_all(held, wrapping)):  # one round trip
            load[channel] = load.get(channel, 0) + int(n)
        used = sum(units.get(channel, 20) * n for channel, n in load.items())
        if self._stored.get(agent_id) != (load, used):
            self._db.execute(sa.update(t.agents).where(t.agents.c.id == agent_id).values(load=load, used_units=used))
            self._stored[agent_id] = (dict(load), used)
        self._counted[agent_id] = (load, used)
        return dict(load), used

    def hold(self, agent_id: str, channel: str, cost: int, at: datetime) -> None:
        """A new offer to an agent counted (recounted) in this transaction: one more conversation held, and the
        agent was offered work at `at` (round robin and longest idle order by it)."""
        load, used = self._counted[agent_id]
        load = {**load, channel: load.get(channel, 0) + 1}
        self._counted[agent_id] = (load, used + cost)
        self._stored[agent_id] = (dict(load), used + cost)
        self._db.execute(
            sa.update(t.agents)
            .where(t.agents.c.id == agent_id)
            .values(load=load, used_units=used + cost, last_offered_at=at, available_since=at)
        )

    def agents_with_room(self, limit: int) -> list[str]:
        a = t.agents.c
        query = (
            sa.select(a.id)
            .where(a.status == AgentStatus.ONLINE.value, a.used_units < a.units)
            .order_by(a.available_since.asc().nulls_first(), a.id)
            .limit(limit)
        )
        return list(self._db.execute(query).scalars())

    def last_agent_of(self, customer_id: str, since: datetime) -> str | None:
        """The agent who last accepted work of this customer, within the sticky window."""
        o, c = t.offers.c, t.conversations.c
        query = (
            sa.select(o.agent_id)
            .join(t.conversations, c.id == o.conversation_id)
            .where(c.customer_id == customer_id, o.status == "accepted", o.answered_at >= since)
            .order_by(o.answered_at.desc())
            .limit(1)
        )
        return self._db.execute(query).scalar()

    # -- offers ----------------------------------------------------------------------------------------------
    def add_offer(self, offer: Mapping[str, Any]) -> None:
        self._db.execute(sa.insert(t.offers).values(**offer))

    def offer(self, offer_id: str, *, lock: bool = False) -> dict[str, Any] | None:
        query = sa.select(t.offers).where(t.offers.c.id == offer_id)
        if lock and self._locks:
            query = query.with_for_update()
        row = self._db.execute(query).first()
        return dict(row._mapping) if row else None

    def pending_offer_of(self, conversation_id: str) -> dict[str, Any] | None:
        o = t.offers.c
        row = self._db.execute(
            sa.select(t.offers).where(o.conversation_id == conversation_id, o.status == "pending")
        ).first()
        return dict(row._mapping) if row else None

    def close_offer(self, offer_id: str, status: str, at: datetime, reason: str | None) -> None:
        o = t.offers.c
        result = self._db.execute(
            sa.update(t.offers)
            .where(o.id == offer_id, o.status == "pending")
            .values(status=status, answered_at=at, reason=(reason or None) and reason[:500])
        )
        if result.rowcount != 1:
            raise Conflict(f"offer {offer_id} is no longer pending")

    def due_offers(self, now: datetime, limit: int) -> list[str]:
        o = t.offers.c
        query = sa.select(o.id).where(o.status == "pending", o.expires_at <= now).order_by(o.expires_at).limit(limit)
        return list(self._db.execute(query).scalars())

    def offers_of_agent(self, agent_id: str, status: str) -> list[dict[str, Any]]:
        o = t.offers.c
        query = sa.select(t.offers).where(o.agent_id == agent_id, o.status == status).order_by(o.offered_at)
        return [dict(r._mapping) for r in self._db.execute(query)]

    def offers_of_conversation(self, conversation_id: str) -> list[dict[str, Any]]:
        o = t.offers.c
        query = sa.select(t.offers).where(o.conversation_id == conversation_id).order_by(o.offered_at, o.id)
        return [dict(r._mapping) for r in self._db.execute(query)]

    # -- wrap-up -----------------------------------------------------------------------------------------------
    def add_wrap_up(self, wrap_id: str, agent_id: str, channel: str, until: datetime) -> None:
        self._db.execute(sa.insert(t.wrap_ups).values(id=wrap_id, agent_id=agent_id, channel=channel, until=until))

    def due_wrap_ups(self, now: datetime, limit: int) -> list[tuple[str, str]]:
        w = t.wrap_ups.c
        query = sa.select(w.id, w.agent_id).where(w.until <= now).order_by(w.until).limit(limit)
        return [(r.id, r.agent_id) for r in self._db.execute(query)]

    def delete_wrap_up(self, wrap_id: str) -> bool:
        return bool(self._db.execute(sa.delete(t.wrap_ups).where(t.wrap_ups.c.id == wrap_id)).rowcount)
