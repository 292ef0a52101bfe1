"""Administration and presence commands."""

from __future__ import annotations

import dataclasses
from typing import Any


@dataclasses.dataclass(frozen=True, kw_only=True)
class CreateAgent:
    name: str
    email: str
    password: str | None = None
    role: str = "agent"
    skills: frozenset[str] = frozenset()
    capacity: tuple[tuple[str, int], ...] = ()


@dataclasses.dataclass(frozen=True, kw_only=True)
class SetAgentStatus:
    agent_id: str
    status: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class IssueToken:
    """Log in: email and password for a new API token."""

    email: str
    password: str = dataclasses.field(repr=False)


@dataclasses.dataclass(frozen=True, kw_only=True)
class RevokeToken:
    """Log out: the token stops working at once."""

    token: str = dataclasses.field(repr=False)


@dataclasses.dataclass(frozen=True, kw_only=True)
class CreateQueue:
    name: str
    keywords: tuple[str, ...] = ()
    required_skills: frozenset[str] = frozenset()
    first_response_target_seconds: int = 3600
    rank: int = 100
    is_default: bool = False
    is_triage: bool = False


@dataclasses.dataclass(frozen=True, kw_only=True)
class CreateChannelAccount:
    kind: str
    name: str
    callback_url: str | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class SetResponsePolicy:
    """The account's own response-policy rules (docs/triage.md#policy); an empty list restores the defaults."""

    account_id: str
    rules: tuple[dict[str, Any], ...]
    actor_id: str | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class SetChannelSecrets:
    """Replace the account's secrets (docs/channels.md#credentials); an empty mapping removes them all."""

    account_id: str
    secrets: tuple[tuple[str, str], ...] = dataclasses.field(repr=False)
    actor_id: str | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class SetRoutingProfile:
    """What routing knows of an agent: skills with proficiency, languages, teams, seniority, capacity."""

    agent_id: str
    proficiency: tuple[tuple[str, int], ...] = ()  # the agent's skills, each 1..10
    languages: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()
    seniority: int = 0
    attributes: tuple[tuple[str, Any], ...] = ()
    capacity: tuple[tuple[str, int], ...] = ()
    units: int = 100
    actor_id: str | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class SetQueueRouting:
    """A queue's target expression, SLA targets, business hours and agent selection."""

    queue_id: str
    target: str | None = None
    first_response_target_seconds: int = 3600
    next_response_target_seconds: int | None = None
    business_hours: tuple[tuple[str, Any], ...] = ()
    selection: str = "longest_idle"
    actor_id: str | None = None
