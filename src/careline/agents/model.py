"""Agents and queues: who can work what, how much at once, and how fast it must be answered."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from enum import StrEnum
from typing import Any


class AgentStatus(StrEnum):
    ONLINE = "online"  # available: takes offers while there is room
    BUSY = "busy"  # keeps the work held, takes no new offers
    AWAY = "away"  # a break; also where an agent who lets an offer expire is put
    OFFLINE = "offline"


class Role(StrEnum):
    ADMIN = "admin"
    SUPERVISOR = "supervisor"
    AGENT = "agent"
    SOCIAL = "social"  # the social/marketing team: reads conversations and approves public replies
    INTEGRATION = "integration"  # a channel connector or importer: posts messages, does no agent work


DEFAULT_CAPACITY = 3
DEFAULT_PROFICIENCY = 5  # a skill given without a level
TOTAL_UNITS = 100  # an agent's weighted capacity across channels (docs/routing.md#capacity)


@dataclasses.dataclass
class Agent:
    id: str
    name: str
    email: str
    role: Role
    created_at: datetime
    skills: frozenset[str] = frozenset()
    capacity: dict[str, int] = dataclasses.field(default_factory=dict)  # channel kind -> at once
    status: AgentStatus = AgentStatus.OFFLINE
    available_since: datetime | None = None  # when the agent last became free: "longest idle" ordering
    password_hash: str | None = None
    proficiency: dict[str, int] = dataclasses.field(default_factory=dict)  # skill -> 1..10
    languages: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()
    seniority: int = 0
    attributes: dict[str, Any] = dataclasses.field(default_factory=dict)  # anything else targets may test
    units: int = TOTAL_UNITS
    needs_approval: bool = False  # its public replies wait for an approver (docs/approvals.md)

    def capacity_for(self, channel: str) -> int:
        return self.capacity.get(channel, self.capacity.get("default", DEFAULT_CAPACITY))

    def routing_attributes(self) -> dict[str, Any]:
        """What a queue's target expression sees of this agent (docs/routing.md#expressions)."""
        return {
            "id": self.id,
            "name": self.name,
            "role": self.role.value,
            "skills": {skill: self.proficiency.get(skill, DEFAULT_PROFICIENCY) for skill in sorted(self.skills)},
            "languages": list(self.languages),
            "teams": list(self.teams),
            "seniority": self.seniority,
            "attributes": dict(self.attributes),
        }


@dataclasses.dataclass
class Queue:
    id: str
    name: str
    required_skills: frozenset[str] = frozenset()
    first_response_target_seconds: int = 3600
    keywords: tuple[str, ...] = ()  # first-triage rule: any keyword in the text routes here
    rank: int = 100  # lower ranks are tried first when several queues' keywords match
    is_default: bool = False
    is_triage: bool = False  # stage 2, manual routing: people move its work to the queue it belongs in
    target: str | None = None  # who may work it, over agent attributes; None: every required skill
    next_response_target_seconds: int | None = None
    business_hours: dict[str, Any] = dataclasses.field(default_factory=dict)  # routing/calendar.py spec; {}: 24/7
    selection: str = "longest_idle"  # longest_idle | least_busy | round_robin

    def target_source(self) -> str:
        if self.target:
            return self.target
        return " and ".join(f"{json.dumps(skill)} in skills" for skill in sorted(self.required_skills)) or "true"
