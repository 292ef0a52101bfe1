"""Events of the agents context."""

from __future__ import annotations

import dataclasses
from typing import Any

from careline.kernel.events import Event


@dataclasses.dataclass(frozen=True, kw_only=True)
class AgentStatusChanged(Event):
    name = "agent.status_changed"
    agent_id: str
    status: str
    previous_status: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class AgentCreated(Event):
    name = "agent.created"
    agent_id: str
    role: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class QueueCreated(Event):
    name = "queue.created"
    queue_id: str
    queue_name: str
    first_response_target_seconds: int


@dataclasses.dataclass(frozen=True, kw_only=True)
class ChannelAccountCreated(Event):
    name = "channel.account_created"
    account_id: str
    kind: str
    account_name: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class ResponsePolicySet(Event):
    name = "channel.policy_set"
    account_id: str
    rules: tuple[dict[str, Any], ...]  # empty: the defaults apply


@dataclasses.dataclass(frozen=True, kw_only=True)
class ChannelSecretsSet(Event):
    name = "channel.secrets_set"
    account_id: str
    names: tuple[str, ...]  # which secrets the account now has; never their values


@dataclasses.dataclass(frozen=True, kw_only=True)
class AgentProfileChanged(Event):
    name = "agent.profile_changed"
    agent_id: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class QueueRoutingChanged(Event):
    name = "queue.routing_changed"
    queue_id: str
    target: str
    first_response_target_seconds: int
