"""Routing writes: offer waiting conversations to agents with room (docs/ARCHITECTURE.md#routing).

Concurrency: the conversation's version means two routers that pick the same conversation cannot both
commit (the loser's whole pass rolls back and is retried from fresh state). Capacity is a limit across
conversations, which no single version guards: a pass locks the online agents' rows before it reads their
loads, so a second pass waits and then sees the first one's assignments.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from careline.channels.model import ChannelKind
from careline.kernel.clock import Clock
from careline.kernel.errors import Conflict
from careline.kernel.events import Event
from careline.routing.policies import AgentLoad, plan_assignments, reachable
from careline.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)
ATTEMPTS = 5


class Router:
    def __init__(self, uow_factory: Callable[[], UnitOfWork], clock: Clock) -> None:
        self._uow = uow_factory
        self._clock = clock

    def route(self) -> list[Event]:
        """One routing pass; returns the committed assignment events."""
        for _ in range(ATTEMPTS):
            try:
                return self._route_once()
            except Conflict as conflict:
                log.info("routing pass lost a race (%s); retrying", conflict)
        return []

    def on_events(self, _events: Sequence[Event]) -> list[Event]:
        """Subscriber: anything that adds waiting work or frees an agent triggers one pass."""
        return self.route()

    def _route_once(self) -> list[Event]:
        now = self._clock()
        with self._uow() as uow:
            online = uow.agents.online_locked()
            if not online:
                return []
            loads = uow.conversations.agent_loads()
            candidates = [
                AgentLoad(agent, dict(loads.get(agent.id, {})), agent.available_since or agent.created_at)
                for agent in online
            ]
            queues = {q.id: q for q in uow.queues.all()}
            channels, queue_ids = reachable(candidates, queues.values(), [kind.value for kind in ChannelKind])
            if not channels or not queue_ids:
                return []
            waiting = uow.conversations.waiting(channels=channels, queue_ids=queue_ids)
            if not waiting:
                return []
            plan = plan_assignments(waiting, candidates, queues, now)
            if not plan:
                return []
            conversations = uow.conversations.by_ids(a.conversation_id for a in plan)
            by_agent = {c.agent.id: c for c in candidates}
            changed = [
                a.conversation_id for a in plan
                if conversations[a.conversation_id].version != a.version
                or conversations[a.conversation_id].assignee_id is not None
            ]
            if changed:
                # Someone (an agent accepting, another router) changed it since it was read as waiting:
                # the plan rests on stale state, so plan again from what is there now.
                raise Conflict(f"conversations changed while routing: {', '.join(changed[:3])}")
            for assignment in plan:
                conversation = conversations[assignment.conversation_id]
                conversation.assign(assignment.agent_id, at=now, actor="system:router")
                agent = by_agent[assignment.agent_id].agent
                agent.available_since = now  # longest-idle ordering counts from the last offer
                uow.agents.save(agent)
            return uow.commit()
