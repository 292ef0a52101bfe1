"""Routing v0 as small pure policies: eligibility, ordering, selection (docs/ARCHITECTURE.md#routing)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from datetime import datetime

from careline.agents.model import Agent, AgentStatus, Queue


@dataclasses.dataclass(frozen=True)
class WaitingWork:
    conversation_id: str
    queue_id: str
    channel: str
    priority: float
    waiting_since: datetime
    version: int


@dataclasses.dataclass
class AgentLoad:
    agent: Agent
    load: dict[str, int]  # channel -> conversations the agent holds now
    idle_since: datetime

    def has_room(self, channel: str) -> bool:
        return self.load.get(channel, 0) < self.agent.capacity_for(channel)


@dataclasses.dataclass(frozen=True)
class Assignment:
    conversation_id: str
    agent_id: str
    version: int


def work_order(items: Iterable[WaitingWork]) -> list[WaitingWork]:
    """Highest priority first, then the longest waiting."""
    return sorted(items, key=lambda w: (-w.priority, w.waiting_since, w.conversation_id))


def is_eligible(candidate: AgentLoad, work: WaitingWork, queue: Queue) -> bool:
    agent = candidate.agent
    return (
        agent.status is AgentStatus.ONLINE
        and queue.required_skills <= agent.skills
        and candidate.has_room(work.channel)
    )


def longest_idle(candidates: Sequence[AgentLoad]) -> AgentLoad | None:
    """The agent idle the longest; among equals (offered work in the same pass) the least loaded."""
    return min(candidates, key=lambda c: (c.idle_since, sum(c.load.values()), c.agent.id), default=None)


def plan_assignments(
    waiting: Iterable[WaitingWork], agents: Sequence[AgentLoad], queues: dict[str, Queue], now: datetime
) -> list[Assignment]:
    """Offer each waiting conversation, in work order, to the longest-idle eligible agent with room."""
    plan: list[Assignment] = []
    for work in work_order(waiting):
        if not any(a.agent.status is AgentStatus.ONLINE for a in agents):
            break
        queue = queues.get(work.queue_id)
        if queue is None:
            continue
        chosen = longest_idle([a for a in agents if is_eligible(a, work, queue)])
        if chosen is None:
            continue
        chosen.load[work.channel] = chosen.load.get(work.channel, 0) + 1
        chosen.idle_since = now
        plan.append(Assignment(work.conversation_id, chosen.agent.id, work.version))
    return plan


def reachable(
    agents: Sequence[AgentLoad], queues: Iterable[Queue], channels: Iterable[str]
) -> tuple[set[str], set[str]]:
    """The channels and the queues some online agent has room and skills for: only that work is worth
    reading, so that a backlog on full channels never hides work that could be offered now."""
    open_channels = {
        channel
        for channel in channels
        if any(a.agent.status is AgentStatus.ONLINE and a.has_room(channel) for a in agents)
    }
    open_queues = {
        queue.id
        for queue in queues
        if any(
            a.agent.status is AgentStatus.ONLINE
            and queue.required_skills <= a.agent.skills
            and any(a.has_room(channel) for channel in open_channels)
            for a in agents
        )
    }
    return open_channels, open_queues
