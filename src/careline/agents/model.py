"""Agents and queues: who can work what, how much at once, and how fast it must be answered."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from enum import StrEnum


class AgentStatus(StrEnum):
    ONLINE = "online"
    AWAY = "away"
    OFFLINE = "offline"


class Role(StrEnum):
    ADMIN = "admin"
    SUPERVISOR = "supervisor"
    AGENT = "agent"
    INTEGRATION = "integration"  # a channel connector or importer: posts messages, does no agent work


DEFAULT_CAPACITY = 3


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

    def capacity_for(self, channel: str) -> int:
        return self.capacity.get(channel, self.capacity.get("default", DEFAULT_CAPACITY))


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
