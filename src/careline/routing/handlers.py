"""The database-backed router (docs/routing.md#the-router): routing jobs, one short transaction per decision.

Jobs come from committed events (docs/ARCHITECTURE.md#routing): "route conversation X" when work arrives, comes
back or moves; "fill agent Y" when an agent gains room; "sweep" on a timer (offers that expire, steps that time
out, SLA warnings and breaches, wrap-ups that end). They run inline in the embedded deployment and on a Redis
stream shared by several router processes in the scale-out one; every job is idempotent, so a job delivered
twice does nothing the second time.

The decision itself uses the engine's pure policies (routing/policies.py: route, pool, order, selection,
explanation). Correctness under concurrency rests on the database: the ticket row and the chosen agent's row are
locked (other routers skip them), the agent's load is recounted under that lock before committing, the
conversation's version refuses a second writer, and a unique index refuses a second pending offer.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from careline.agents.events import (
    AgentCreated,
    AgentProfileChanged,
    AgentStatusChanged,
    QueueCreated,
    QueueRoutingChanged,
)
from careline.agents.model import Agent, AgentStatus, Queue, Role
from careline.conversations import events as conversation_events
from careline.conversations.model import Conversation, Status
from careline.kernel.clock import Clock
from careline.kernel.errors import Conflict, Forbidden, InvalidInput, NotFound
from careline.kernel.events import Event
from careline.kernel.ids import new_id
from careline.routing import commands as cmd
from careline.routing import events as ev
from careline.routing.config import RoutingSettings, queue_spec
from careline.routing.model import AgentProfile, Job, Ordering, QueueSpec, Step, Ticket, Workflow
from careline.routing.policies import (
    choose_route,
    explanation,
    has_room,
    ordering_key,
    pool_id,
    sla_target,
    steps_of,
    why,
)
from careline.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)
ATTEMPTS = 5
SWEEP_BATCH = 200
LATE = 1e9  # added to the ordering key of work past its deadline (about 30 years of seconds)
SWEEP_LEASE = "routing-sweep"
DONE, AWAY = object(), object()  # what a fill transaction found besides work to offer
FILL_BATCH = 10  # tickets one fill transaction reads (it offers as many as the agent has room for)
CANDIDATES = 8  # agents locked per decision attempt (others stay free for concurrent routers)


@dataclasses.dataclass(frozen=True)
class Compiled:
    """The settings and queues of one settings version, compiled once per router process."""

    version: int
    settings: RoutingSettings
    queues: dict[str, QueueSpec]
    workflow: Workflow
    pools: dict[str, tuple[QueueSpec, Step | None]]

    def steps(self, ticket: Ticket) -> tuple[Step, ...]:
        return steps_of(self.workflow, ticket.route, ticket.queue_id)

    def pools_of(self, profile: AgentProfile) -> list[str]:
        return [
            pid
            for pid, (queue, step) in self.pools.items()
            if not queue.manual
            and queue.target.evaluate(profile.attributes)
            and (step is None or step.target is None or step.target.evaluate(profile.attributes))
        ]


def compile_settings(version: int, spec: dict[str, Any] | None, queues: Sequence[Queue]) -> Compiled:
    by_id = {q.id: q for q in queues}
    settings = RoutingSettings.parse(spec, by_id)
    specs = {q.id: queue_spec(q) for q in queues}
    default = next((q for q in queues if q.is_default), queues[0] if queues else None)
    if default is None:
        raise InvalidInput("routing needs at least one queue")
    workflow = settings.workflow(default.id)
    pools: dict[str, tuple[QueueSpec, Step | None]] = {pool_id(q, None): (specs[q], None) for q in specs}
    for route in workflow.routes:
        for step in route.steps:
            pools.setdefault(pool_id(step.queue_id, step), (specs[step.queue_id], step))
    return Compiled(version, settings, specs, workflow, pools)


def profile_of(agent: Agent) -> AgentProfile:
    return AgentProfile(agent.id, agent.routing_attributes(), dict(agent.capacity), agent.units)


def limit_of(agent: Agent, channel: str) -> int | None:
    """Per-channel limit: the agent's own, else its "default", else the product default (agents/model.py)."""
    return agent.capacity_for(channel)


class Router:
    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        clock: Clock,
        publish: Callable[[Iterable[Job]], None] | None = None,
        sweep_lease_seconds: float = 10.0,
    ) -> None:
        self._uow = uow_factory
        self._clock = clock
        self._publish = publish
        self._sweep_lease = timedelta(seconds=sweep_lease_seconds)  # a sweeper that stops is replaced after this
        self._name = f"router-{new_id('rtr')}"  # this router, as a lease holder
        self._compiled: Compiled | None = None
        self._channels: dict[str, str] = {}  # channel account -> kind (never changes)

    def commands(self) -> dict[type, Callable[[Any], tuple[Any, list[Event]]]]:
        return {
            cmd.AcceptOffer: lambda c: self.accept(c.offer_id, c.agent_id),
            cmd.RejectOffer: lambda c: self.reject(c.offer_id, c.agent_id, c.reason),
            cmd.SaveRoutingSettings: lambda c: self.save_settings(c.spec, c.actor_id),
        }

    def on_directory(self, events: Sequence[Event]) -> list[Event]:
        """Subscriber: agents, queues or settings changed, so pools are recomputed (then agents filled)."""
        agents = {e.agent_id for e in events if isinstance(e, AgentCreated | AgentProfileChanged)}
        if any(isinstance(e, QueueCreated | QueueRoutingChanged) for e in events):
            self.refresh_pools()
        elif agents:
            self.refresh_pools(agents)
        return []

    # -- jobs --------------------------------------------------------------------------------------------------
    def run(self, job: Job) -> list[Event]:
        """Run one job, retrying a lost race from fresh state."""
        for _ in range(ATTEMPTS):
            try:
                if job.kind == "conversation":
                    return self.route(job.ref)
                if job.kind == "agent":
                    return self.fill(job.ref)
                if job.kind == "sweep":
                    return self.sweep()
                raise InvalidInput(f"unknown routing job {job.kind!r}")
            except Conflict as conflict:
                log.info("routing job %s lost a race (%s); retrying", job, conflict)
        return []

    def jobs_for(self, events: Sequence[Event]) -> list[Job]:
        """The routing jobs a batch of committed events calls for."""
        jobs: dict[Job, None] = {}
        for event in events:
            if event.actor == "system:router" and not isinstance(event, conversation_events.ConversationUnassigned):
                continue  # the router's own decisions need no second look; work it took back does
            if isinstance(event, AgentStatusChanged | AgentCreated | AgentProfileChanged):
                jobs[Job("agent", event.agent_id)] = None
            elif isinstance(event, conversation_events.ConversationUnassigned):
                jobs[Job("agent", event.agent_id)] = None
                jobs[Job("conversation", event.conversation_id or "")] = None
            elif isinstance(event, conversation_events.ConversationResolved):
                jobs[Job("conversation", event.conversation_id or "")] = None
            elif event.conversation_id:
                jobs[Job("conversation", event.conversation_id)] = None
        return list(jobs)

    def on_events(self, events: Sequence[Event]) -> list[Event]:
        """Subscriber: turn committed events into routing jobs; run them here unless a transport takes them."""
        jobs = self.jobs_for(events)
        if self._publish is not None:
            self._publish(jobs)
            return []
        produced: list[Event] = []
        conversations = [job.ref for job in jobs if job.kind == "conversation"]
        if conversations:  # one transaction for a batch (an ingested one), retried whole if it loses a race
            produced += self._retry(functools.partial(self.route_many, conversations))
        for job in jobs:
            if job.kind != "conversation":
                produced += self.run(job)
        return produced

    # -- configuration -----------------------------------------------------------------------------------------
    def compiled(self, uow: UnitOfWork) -> Compiled:
        version = uow.routing.version()
        if self._compiled is None or self._compiled.version != version:
            spec, version = uow.routing.settings()
            self._compiled = compile_settings(version, spec, uow.queues.all())
        return self._compiled

    def refresh_pools(self, agent_ids: Iterable[str] | None = None) -> None:
        """Recompute which pools agents belong to (all agents when None): after a change to agents, queues or
        the workflow. Bumps the settings version so that every router recompiles."""
        with self._uow() as uow:
            now = self._clock()
            if agent_ids is None:
                uow.routing.bump_version(now)
            config = self.compiled(uow)
            agents = uow.agents.all() if agent_ids is None else [uow.agents.get(a) for a in sorted(set(agent_ids))]
            takes_no_work = (Role.INTEGRATION, Role.SOCIAL)
            uow.routing.set_pools(
                {a.id: ([] if a.role in takes_no_work else config.pools_of(profile_of(a))) for a in agents}
            )
            uow.commit()

    def save_settings(self, spec: dict[str, Any], actor_id: str | None) -> tuple[RoutingSettings, list[Event]]:
        """Validate and store the workflow and options; pools are recomputed for every agent."""
        with self._uow() as uow:
            queues = uow.queues.all()
            settings = RoutingSettings.parse(spec, {q.id: q for q in queues})
            compile_settings(0, settings.to_spec(), queues)  # every expression and queue checks out
            now = self._clock()
            version = uow.routing.save_settings(settings.to_spec(), now, actor_id)
            uow.record(
                ev.RoutingSettingsChanged(
                    occurred_at=now, actor=f"agent:{actor_id}" if actor_id else "system", version=version
                )
            )
            events = uow.commit()
        self.refresh_pools()
        return settings, events

    # -- route one conversation --------------------------------------------------------------------------------
    def route(self, conversation_id: str) -> list[Event]:
        return self.route_many([conversation_id])

    def route_many(self, conversation_ids: Iterable[str]) -> list[Event]:
        """Route these conversations in one transaction (an ingested batch): each waiting one gets its ticket
        and an offer when an agent may take it; the others' tickets and offers are brought in line."""
        freed: list[str] = []
        with self._uow() as uow:
            config = self.compiled(uow)
            now = self._clock()
            conversations = uow.conversations.by_ids(conversation_ids)
            tickets = uow.routing.tickets(conversations, lock=True)
            to_start = {
                cid: c.customer_id
                for cid, c in conversations.items()
                if c.assignee_id is None
                and c.status in (Status.NEW, Status.OPEN)
                and self._restarts(c, tickets.get(cid))
            }
            facts = uow.routing.facts_many(to_start)
            anyone = bool(uow.routing.agents_with_room(1))  # nobody has room: no agent to look for
            inserts: list[Ticket] = []
            for cid in sorted(conversations):
                conversation, ticket = conversations[cid], tickets.get(cid)
                if conversation.assignee_id is not None or conversation.status not in (Status.NEW, Status.OPEN):
                    agent_id = self._settle(uow, config, conversation, ticket, now)
                    if agent_id:
                        freed.append(agent_id)
                    continue
                new = ticket is None
                if ticket is None or cid in to_start:
                    ticket = self._start(uow, config, conversation, ticket, now, facts[cid])
                ticket.waiting = True
                self._offer_or_wait(uow, config, conversation, ticket, now, new=new, inserts=inserts, anyone=anyone)
            uow.routing.add_tickets(inserts)
            events = uow.commit()
        for agent_id in freed:
            events += self.fill(agent_id)
        return events

    @staticmethod
    def _restarts(conversation: Conversation, ticket: Ticket | None) -> bool:
        """A waiting conversation needs a new ticket: it has none, a person moved it to another queue, or it
        came back after it was answered."""
        return (
            ticket is None
            or ticket.queue_id != conversation.queue_id
            or (not ticket.waiting and ticket.sla_state == "met")
        )

    def _settle(
        self, uow: UnitOfWork, config: Compiled, conversation: Conversation, ticket: Ticket | None, now: datetime
    ) -> str | None:
        """The conversation is not waiting (someone took it, or it is resolved): bring the ticket and any pending
        offer in line; a resolved conversation's agent keeps the slot through wrap-up. Returns an agent who may
        have gained room."""
        first_seen_resolved = False
        if ticket is not None:
            changed = ticket.waiting
            ticket.waiting = False
            if conversation.status is Status.RESOLVED and ticket.sla_state != "met":
                ticket.sla_state, ticket.sla_due_at, changed = "met", None, True
                first_seen_resolved = True
            if changed:
                uow.routing.save_ticket(ticket)
        pending = uow.routing.pending_offer_of(conversation.id)
        if pending is not None:
            taken = conversation.assignee_id == pending["agent_id"] and conversation.status is not Status.NEW
            if taken:  # accepted by the agent through the conversation itself
                uow.routing.close_offer(pending["id"], "accepted", now, None)
            elif conversation.assignee_id != pending["agent_id"] or conversation.status is Status.RESOLVED:
                uow.routing.close_offer(pending["id"], "revoked", now, "the conversation was taken or closed")
        if conversation.status is not Status.RESOLVED or conversation.assignee_id is None:
            return None
        agent_id = conversation.assignee_id
        if uow.routing.lock_agent(agent_id) is None:
            return None
        channel = self._channel(uow, conversation.channel_account_id)
        wrap = config.settings.wrap_up_seconds.get(channel, 0)
        if wrap > 0 and first_seen_resolved:  # once per resolution, however often the job is delivered
            uow.routing.add_wrap_up(new_id("wrp"), agent_id, channel, now + timedelta(seconds=wrap))
        uow.routing.recount(agent_id, now, config.settings.units)
        return agent_id

    def _channel(self, uow: UnitOfWork, account_id: str) -> str:
        if account_id not in self._channels:
            self._channels[account_id] = uow.accounts.get(account_id).kind.value
        return self._channels[account_id]

    def _start(
        self,
        uow: UnitOfWork,
        config: Compiled,
        conversation: Conversation,
        previous: Ticket | None,
        now: datetime,
        facts: dict[str, Any],
    ) -> Ticket:
        """A new ticket: the route the workflow picks (or the queue a person moved it to), its SLA clock."""
        channel = self._channel(uow, conversation.channel_account_id)
        queue_name = config.queues[conversation.queue_id].name if conversation.queue_id in config.queues else None
        attributes = {
            "channel": channel,
            "sentiment": conversation.sentiment_label,
            "category": conversation.category,
            "priority": conversation.priority,
            "angry": conversation.angry,
            "action": conversation.action,
            "tags": sorted(conversation.tags),
            "queue": queue_name,
            **facts,
        }
        moved_by_person = previous is not None and previous.sla_state != "met"
        route = None if moved_by_person else choose_route(config.workflow, attributes)
        queue_id = route.steps[0].queue_id if route else conversation.queue_id
        if previous is not None and moved_by_person:
            arrived, deadline, sla_state, sla_due = (
                previous.arrived_at,
                previous.deadline,
                previous.sla_state,
                previous.sla_due_at,
            )
            escalations = [
                *previous.escalations,
                {"at": now.isoformat(), "to_queue": queue_id, "reason": "moved by a person"},
            ]
        else:
            queue = config.queues[queue_id]
            arrived = conversation.first_inbound_at or conversation.created_at
            if previous is not None:  # it came back after an answer: the next-response target counts from now
                arrived = now
            target = sla_target(queue, next_response=previous is not None)
            deadline = queue.hours.add_business_time(arrived, target)
            sla_due = queue.hours.add_business_time(arrived, target * config.settings.sla_warning_fraction)
            sla_state, escalations = "running", []
        ticket = Ticket(
            conversation_id=conversation.id,
            channel=channel,
            waiting=True,
            pool="",
            sort_key=0.0,
            route=route.name if route else None,
            step=0,
            queue_id=queue_id,
            step_started_at=now,
            step_due_at=None,
            arrived_at=arrived,
            deadline=deadline,
            sla_due_at=sla_due,
            sla_state=sla_state,
            rejected_by=[],
            escalations=escalations,
            version=previous.version if previous else 0,
        )
        self._enter_step(config, conversation, ticket, 0, now)
        return ticket

    def _enter_step(
        self, config: Compiled, conversation: Conversation, ticket: Ticket, index: int, now: datetime
    ) -> None:
        steps = config.steps(ticket)
        step = steps[index]
        ticket.step = index
        ticket.queue_id = step.queue_id
        ticket.step_started_at = now
        ticket.step_due_at = (
            now + timedelta(seconds=step.timeout_seconds)
            if step.timeout_seconds is not None and index + 1 < len(steps)
            else None
        )
        ticket.pool = pool_id(step.queue_id, step)
        ticket.sort_key = ordering_key(
            config.settings.ordering, conversation.priority + step.priority_boost, ticket.arrived_at, ticket.deadline
        ) + self._late(config, ticket)
        if conversation.queue_id != step.queue_id:
            conversation.transfer(step.queue_id, at=now, actor="system:router")

    def _offer_or_wait(
        self,
        uow: UnitOfWork,
        config: Compiled,
        conversation: Conversation,
        ticket: Ticket,
        now: datetime,
        *,
        new: bool,
        inserts: list[Ticket] | None = None,
        anyone: bool = True,
    ) -> None:
        """Offer the ticket to the agent the policies pick, or leave it waiting in its lane."""

        def save() -> None:
            if new and inserts is not None:
                inserts.append(ticket)  # written with the batch's other new tickets
            else:
                uow.routing.save_ticket(ticket, new=new)

        queue, step = config.pools.get(ticket.pool, (config.queues[ticket.queue_id], None))
        if queue.manual or not anyone:
            save()
            return
        cost = config.settings.units.get(ticket.channel, 20)
        sticky = self._sticky_agent(uow, config, conversation, ticket, now)
        chosen: Agent | None = None
        selection = queue.selection.value
        considered = 0
        if sticky is not None:
            chosen, selection, considered = sticky, "sticky", 1
        else:
            excluded = list(ticket.rejected_by)
            for _ in range(3):  # a few batches: locked candidates whose recount shows no room are skipped
                batch = uow.routing.candidates(ticket.pool, ticket.channel, cost, excluded, selection, CANDIDATES)
                if not batch:
                    break
                considered += len(batch)
                for agent in batch:
                    load, used = uow.routing.recount(agent.id, now, config.settings.units)
                    if has_room(limit_of(agent, ticket.channel), load.get(ticket.channel, 0), used, cost, agent.units):
                        chosen = agent
                        break
                    excluded.append(agent.id)
                if chosen is not None:
                    break
        if chosen is None:
            save()
            return
        ticket.waiting = False
        save()
        self._make_offer(uow, config, conversation, ticket, chosen, queue, step, selection, considered, now)

    def _sticky_agent(
        self, uow: UnitOfWork, config: Compiled, conversation: Conversation, ticket: Ticket, now: datetime
    ) -> Agent | None:
        """The agent who served this customer last, within the window, when they may take it and have room."""
        window = config.settings.sticky_window_seconds
        if conversation.customer_id is None or window <= 0:
            return None
        agent_id = uow.routing.last_agent_of(conversation.customer_id, now - timedelta(seconds=window))
        if agent_id is None or agent_id in ticket.rejected_by or ticket.pool not in uow.routing.pools_of(agent_id):
            return None
        agent = uow.routing.lock_agent(agent_id)
        if agent is None or agent.status is not AgentStatus.ONLINE:
            return None
        load, used = uow.routing.recount(agent.id, now, config.settings.units)
        cost = config.settings.units.get(ticket.channel, 20)
        return (
            agent
            if has_room(limit_of(agent, ticket.channel), load.get(ticket.channel, 0), used, cost, agent.units)
            else None
        )

    def _make_offer(
        self,
        uow: UnitOfWork,
        config: Compiled,
        conversation: Conversation,
        ticket: Ticket,
        agent: Agent,
        queue: QueueSpec,
        step: Step | None,
        selection: str,
        considered: int,
        now: datetime,
    ) -> None:
        """Offer the conversation to the agent (its ticket is saved by the caller, no longer waiting)."""
        steps = config.steps(ticket)
        route = next((r for r in config.workflow.routes if r.name == ticket.route), None)
        if selection == "least_busy":
            detail = "the smallest share"
        elif selection == "next_in_line":
            detail = config.settings.ordering.value
        else:
            detail = f"idle since {agent.available_since:%H:%M:%S}" if agent.available_since else "never offered work"
        explained = explanation(
            route=route,
            steps=steps,
            step_index=ticket.step,
            queue=queue,
            step=step or steps[ticket.step],
            agent_attributes=agent.routing_attributes(),
            selection=selection,
            reason=why(selection, considered, detail),
            candidates=considered,
            priority=conversation.priority,
            waited_seconds=(now - ticket.arrived_at).total_seconds(),
            deadline=ticket.deadline,
            escalations=ticket.escalations,
        )
        offer_id = new_id("ofr")
        conversation.assign(agent.id, at=now, actor="system:router")
        uow.routing.add_offer(
            {
                "id": offer_id,
                "conversation_id": conversation.id,
                "agent_id": agent.id,
                "queue_id": queue.id,
                "status": "pending",
                "offered_at": now,
                "expires_at": now + timedelta(seconds=config.settings.offer_timeout_seconds),
                "explanation": explained,
            }
        )
        uow.routing.hold(agent.id, ticket.channel, config.settings.units.get(ticket.channel, 20), now)
        uow.record(
            ev.OfferMade(
                occurred_at=now,
                actor="system:router",
                conversation_id=conversation.id,
                offer_id=offer_id,
                agent_id=agent.id,
                queue_id=queue.id,
                route=explained["route"],
                step=ticket.step + 1,
                selection=selection,
            )
        )

    # -- fill one agent ----------------------------------------------------------------------------------------
    def fill(self, agent_id: str, *, skip_locked: bool = False) -> list[Event]:
        """The agent may have room: offer it the first waiting work of its pools, as much as its room takes,
        until it has no room or nothing waits that it may take. With `skip_locked` an agent another router is
        busy with is left to it (the sweep's backstop fill)."""
        events: list[Event] = []
        for _ in range(1000):
            made = self._fill_once(agent_id, skip_locked=skip_locked)
            if made is AWAY:  # not at the desk: the offers it holds go back to waiting
                return events + self._revoke_while_away(agent_id)
            if not isinstance(made, list):
                return events
            events += made
        return events

    def _fill_once(self, agent_id: str, *, skip_locked: bool = False) -> list[Event] | object:
        """One transaction: the agent locked and recounted once, then offered the first waiting tickets of its
        lanes while it has room (up to FILL_BATCH). The events, or DONE when nothing changed (no offer, no ticket
        caught up), or AWAY when the agent is not online."""
        with self._uow() as uow:
            config = self.compiled(uow)
            now = self._clock()
            agent = uow.routing.lock_agent(agent_id, skip_locked=skip_locked)
            if agent is None:
                return DONE
            if agent.status is not AgentStatus.ONLINE:
                return AWAY
            load, used = uow.routing.recount(agent_id, now, config.settings.units)
            units = config.settings.units

            def room(channel: str) -> bool:
                cost = units.get(channel, 20)
                return has_room(limit_of(agent, channel), load.get(channel, 0), used, cost, agent.units)

            def slots(channel: str) -> int:  # how many more of this channel fit
                cost, limit = units.get(channel, 20), limit_of(agent, channel)
                by_units = (agent.units - used) // cost if cost > 0 else FILL_BATCH
                return max(0, min(by_units, FILL_BATCH if limit is None else limit - load.get(channel, 0)))

            channels = [channel for channel in units if room(channel)]
            pools = uow.routing.pools_of(agent_id) if channels else set()
            wanted = min(FILL_BATCH, max((slots(channel) for channel in channels), default=0))
            tickets = uow.routing.next_waiting(pools, channels, agent_id, wanted)
            conversations = uow.conversations.by_ids([ticket.conversation_id for ticket in tickets])
            changed = False
            for ticket in tickets:  # lane order
                if not room(ticket.channel):
                    continue
                conversation = conversations[ticket.conversation_id]
                changed = True
                ticket.waiting = False
                uow.routing.save_ticket(ticket)
                if conversation.assignee_id is not None or conversation.status not in (Status.NEW, Status.OPEN):
                    continue  # taken by a person since: the ticket has caught up
                queue, step = config.pools.get(ticket.pool, (config.queues[ticket.queue_id], None))
                self._make_offer(uow, config, conversation, ticket, agent, queue, step, "next_in_line", 1, now)
                load[ticket.channel] = load.get(ticket.channel, 0) + 1
                used += units.get(ticket.channel, 20)
            events = uow.commit()
            return events if changed else DONE

    # -- answers to offers -------------------------------------------------------------------------------------
    def accept(self, offer_id: str, agent_id: str) -> tuple[dict[str, Any], list[Event]]:
        with self._uow() as uow:
            offer = self._own_pending(uow, offer_id, agent_id)
            now = self._clock()
            uow.routing.close_offer(offer_id, "accepted", now, None)
            conversation = uow.conversations.get(offer["conversation_id"])
            conversation.accept(agent_id, at=now)
            uow.record(
                ev.OfferAccepted(
                    occurred_at=now,
                    actor=f"agent:{agent_id}",
                    conversation_id=conversation.id,
                    offer_id=offer_id,
                    agent_id=agent_id,
                )
            )
            events = uow.commit()
            return {**offer, "status": "accepted", "answered_at": now}, events

    def reject(self, offer_id: str, agent_id: str, reason: str | None) -> tuple[dict[str, Any], list[Event]]:
        if reason is not None and len(reason) > 500:
            raise InvalidInput("a reason has at most 500 characters")
        with self._uow() as uow:
            offer = self._own_pending(uow, offer_id, agent_id)
            now = self._clock()
            self._decline(uow, offer, "rejected", reason, now, actor=f"agent:{agent_id}")
            events = uow.commit()
            return {**offer, "status": "rejected", "answered_at": now, "reason": reason}, events

    def _own_pending(self, uow: UnitOfWork, offer_id: str, agent_id: str) -> dict[str, Any]:
        offer = self._lock_offer(uow, offer_id)
        if offer is None:
            raise NotFound(f"offer {offer_id} does not exist")
        if offer["agent_id"] != agent_id:
            raise Forbidden(f"offer {offer_id} was made to another agent")
        if offer["status"] != "pending":
            raise Conflict(f"offer {offer_id} is {offer['status']}, not pending")
        return offer

    @staticmethod
    def _lock_offer(uow: UnitOfWork, offer_id: str) -> dict[str, Any] | None:
        """Lock an offer's ticket, then the offer: every transaction takes these two in this order (a router
        holding tickets may close their offers), so that none waits for the other in a circle."""
        peek = uow.routing.offer(offer_id)
        if peek is None:
            return None
        uow.routing.ticket(peek["conversation_id"], lock=True)
        return uow.routing.offer(offer_id, lock=True)

    def _decline(
        self, uow: UnitOfWork, offer: dict[str, Any], outcome: str, reason: str | None, now: datetime, *, actor: str
    ) -> None:
        """An offer falls through: the conversation waits again (never offered back to whoever said no)."""
        uow.routing.close_offer(offer["id"], outcome, now, reason)
        conversation = uow.conversations.get(offer["conversation_id"])
        back = conversation.assignee_id == offer["agent_id"] and conversation.status is Status.NEW
        if back:
            conversation.unassign(at=now, actor=actor)  # its event asks for the next routing decision
        ticket = uow.routing.ticket(conversation.id, lock=True)
        if ticket is not None:
            if outcome != "revoked" and offer["agent_id"] not in ticket.rejected_by:
                ticket.rejected_by.append(offer["agent_id"])
            ticket.waiting = ticket.waiting or back  # in its lane again, whatever happens to that event
            uow.routing.save_ticket(ticket)
        uow.record(
            ev.OfferDeclined(
                occurred_at=now,
                actor=actor,
                conversation_id=conversation.id,
                offer_id=offer["id"],
                agent_id=offer["agent_id"],
                outcome=outcome,
                reason=reason,
            )
        )

    # -- time ------------------------------------------------------------------------------------------------
    def sweep(self) -> list[Event]:
        """Everything due: waiting conversations routing lost track of (a lost job), expired offers, timed-out
        steps, SLA warnings and breaches, ended wrap-ups; then every agent with room is filled, so that nothing
        waits while someone could take it, whatever job was lost on the way."""
        if not self._lease_sweep():
            return []  # another process sweeps
        events: list[Event] = []
        with self._uow() as uow:  # reads only: it ends without a commit
            now = self._clock()
            offers = uow.routing.due_offers(now, SWEEP_BATCH)
            steps = uow.routing.due_steps(now, SWEEP_BATCH)
            slas = uow.routing.due_sla(now, SWEEP_BATCH)
            wraps = uow.routing.due_wrap_ups(now, SWEEP_BATCH)
            untracked = uow.routing.untracked(SWEEP_BATCH)
        for conversation_id in untracked:
            events += self._retry(functools.partial(self.route, conversation_id))
        for offer_id in offers:
            events += self._retry(functools.partial(self._expire, offer_id))
        for conversation_id in steps:
            events += self._retry(functools.partial(self._time_out_step, conversation_id))
        for conversation_id in slas:
            events += self._retry(functools.partial(self._sla_tick, conversation_id))
        for wrap_id, agent_id in wraps:
            events += self._retry(functools.partial(self._end_wrap_up, wrap_id, agent_id))
        with self._uow() as uow:  # agents with room, when some work waits at all (an idle desk costs nothing)
            ready = uow.routing.agents_with_room(SWEEP_BATCH) if uow.routing.anything_waiting() else []
        for agent_id in ready:  # an agent another router is filling right now is left to it
            events += self._retry(functools.partial(self.fill, agent_id, skip_locked=True))
        return events

    def _lease_sweep(self) -> bool:
        """One process of many sweeps: the holder of the sweep's lease, renewed by each of its sweeps. One that
        stops sweeping (it died, it hangs) loses the lease when it runs out, and the next to sweep takes it."""
        try:
            with self._uow() as uow:
                now = self._clock()
                held = uow.routing.take_lease(SWEEP_LEASE, self._name, now, now + self._sweep_lease)
                uow.commit()
                return held
        except Conflict:
            return False  # another router took it at the same moment

    def close(self) -> None:
        """Hand the sweep over at once (rather than when the lease runs out)."""
        with self._uow() as uow:
            uow.routing.end_lease(SWEEP_LEASE, self._name)
            uow.commit()

    def _retry(self, step: Callable[[], list[Event]]) -> list[Event]:
        for _ in range(ATTEMPTS):
            try:
                return step()
            except Conflict as conflict:
                log.info("routing sweep lost a race (%s); retrying", conflict)
        return []

    def _expire(self, offer_id: str) -> list[Event]:
        with self._uow() as uow:
            config = self.compiled(uow)
            offer = self._lock_offer(uow, offer_id)
            now = self._clock()
            if offer is None or offer["status"] != "pending" or offer["expires_at"] > now:
                return []
            reason = f"no answer in {config.settings.offer_timeout_seconds}s"
            self._decline(uow, offer, "expired", reason, now, actor="system:router")
            agent = uow.agents.get(offer["agent_id"])
            if config.settings.away_after_missed_offer and agent.status is AgentStatus.ONLINE:
                # Whoever lets an offer expire is not at their desk: no more offers until they are back (their
                # other pending offers are revoked by the fill below).
                agent.status = AgentStatus.AWAY
                uow.agents.save(agent)
                uow.record(
                    AgentStatusChanged(
                        occurred_at=now,
                        actor="system:router",
                        agent_id=agent.id,
                        status=AgentStatus.AWAY.value,
                        previous_status=AgentStatus.ONLINE.value,
                    )
                )
            events = uow.commit()
        return events + self.fill(offer["agent_id"])

    def _revoke_while_away(self, agent_id: str) -> list[Event]:
        """An agent who is not online answers no offer: theirs go back to waiting, one transaction each."""
        with self._uow() as uow:  # no lock: each revocation checks again under the offer's lock
            try:
                if uow.agents.get(agent_id).status is AgentStatus.ONLINE:
                    return []
            except NotFound:
                return []
            pending = [o["id"] for o in uow.routing.offers_of_agent(agent_id, "pending")]
        events: list[Event] = []
        for offer_id in pending:
            events += self._retry(functools.partial(self._revoke, offer_id))
        return events

    def _revoke(self, offer_id: str) -> list[Event]:
        with self._uow() as uow:
            offer = self._lock_offer(uow, offer_id)
            if offer is None or offer["status"] != "pending":
                return []
            if uow.agents.get(offer["agent_id"]).status is AgentStatus.ONLINE:
                return []
            self._decline(uow, offer, "revoked", "the agent is not online", self._clock(), actor="system:router")
            return uow.commit()

    def _time_out_step(self, conversation_id: str) -> list[Event]:
        with self._uow() as uow:
            config = self.compiled(uow)
            now = self._clock()
            ticket = uow.routing.ticket(conversation_id, lock=True)
            if ticket is None or not ticket.waiting or ticket.step_due_at is None or ticket.step_due_at > now:
                return []
            conversation = uow.conversations.get(conversation_id)
            steps = config.steps(ticket)
            if ticket.step + 1 >= len(steps):
                ticket.step_due_at = None
                uow.routing.save_ticket(ticket)
                return uow.commit()
            before = ticket.queue_id
            reason = "no agent took it within the step's timeout"
            record: dict[str, Any] = {
                "at": now.isoformat(),
                "from_step": ticket.step + 1,
                "to_step": ticket.step + 2,
                "from_queue": before,
                "to_queue": steps[ticket.step + 1].queue_id,
                "reason": reason,
            }
            ticket.escalations.append(record)
            self._enter_step(config, conversation, ticket, ticket.step + 1, now)
            uow.record(
                ev.RoutingEscalated(
                    occurred_at=now,
                    actor="system:router",
                    conversation_id=conversation_id,
                    from_queue_id=before,
                    to_queue_id=ticket.queue_id,
                    step=ticket.step + 1,
                    reason=reason,
                )
            )
            self._offer_or_wait(uow, config, conversation, ticket, now, new=False)
            return uow.commit()

    @staticmethod
    def _late(config: Compiled, ticket: Ticket) -> float:
        """PRIORITY_SLA: work that has missed its target waits behind all work that can still make it (serving
        it first would no longer save its target); among itself it keeps its order."""
        if config.settings.ordering is Ordering.PRIORITY_SLA and ticket.sla_state == "breached":
            return LATE
        return 0.0

    def _sla_tick(self, conversation_id: str) -> list[Event]:
        with self._uow() as uow:
            config = self.compiled(uow)
            now = self._clock()
            ticket = uow.routing.ticket(conversation_id, lock=True)
            if ticket is None or ticket.sla_due_at is None or ticket.sla_due_at > now:
                return []
            conversation = uow.conversations.get(conversation_id)
            answered = (
                conversation.first_response_at is not None and conversation.first_response_at >= ticket.arrived_at
            )
            if answered or conversation.status is Status.RESOLVED:
                ticket.sla_state, ticket.sla_due_at = "met", None
            elif ticket.sla_state == "running":
                ticket.sla_state, ticket.sla_due_at = "warned", ticket.deadline
                uow.record(
                    ev.SlaWarning(
                        occurred_at=now,
                        actor="system:router",
                        conversation_id=conversation_id,
                        queue_id=ticket.queue_id,
                        deadline=ticket.deadline.isoformat(),
                    )
                )
            else:
                ticket.sla_state, ticket.sla_due_at = "breached", None
                ticket.sort_key += self._late(config, ticket)
                uow.record(
                    ev.SlaBreached(
                        occurred_at=now,
                        actor="system:router",
                        conversation_id=conversation_id,
                        queue_id=ticket.queue_id,
                        deadline=ticket.deadline.isoformat(),
                    )
                )
            uow.routing.save_ticket(ticket)
            return uow.commit()

    def _end_wrap_up(self, wrap_id: str, agent_id: str) -> list[Event]:
        with self._uow() as uow:
            config = self.compiled(uow)
            if uow.routing.lock_agent(agent_id) is None or not uow.routing.delete_wrap_up(wrap_id):
                return []
            uow.routing.recount(agent_id, self._clock(), config.settings.units)
            uow.commit()
        return self.fill(agent_id)
