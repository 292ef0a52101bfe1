"""Administration and presence commands."""

from __future__ import annotations

import dataclasses

frozen = dataclasses.dataclass(frozen=True, kw_only=True)


@frozen
class CreateAgent:
    name: str
    email: str
    password: str | None = None
    role: str = "agent"
    skills: frozenset[str] = frozenset()
    capacity: tuple[tuple[str, int], ...] = ()


@frozen
class SetAgentStatus:
    agent_id: str
    status: str


@frozen
class IssueToken:
    """Log in: email and password for a new API token."""

    email: str
    password: str


@frozen
class CreateQueue:
    name: str
    keywords: tuple[str, ...] = ()
    required_skills: frozenset[str] = frozenset()
    first_response_target_seconds: int = 3600
    rank: int = 100
    is_default: bool = False


@frozen
class CreateChannelAccount:
    kind: str
    name: str
    callback_url: str | None = None
