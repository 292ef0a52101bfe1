"""Commands of triage: the listening rules an admin or the social team saves (docs/listening.md)."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True, kw_only=True)
class CreateListeningRule:
    name: str
    query: str
    queue: str | None = None  # a queue's id or name
    priority_points: float = 0.0
    tags: tuple[str, ...] = ()
    alert: bool = False
    actor_id: str | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class UpdateListeningRule:
    """Only the fields given change; ``clear_queue`` removes the queue."""

    rule_id: str
    name: str | None = None
    query: str | None = None
    queue: str | None = None
    clear_queue: bool = False
    priority_points: float | None = None
    tags: tuple[str, ...] | None = None
    alert: bool | None = None
    active: bool | None = None
    actor_id: str | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class DeleteListeningRule:
    rule_id: str
    actor_id: str | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class CreateCategory:
    name: str
    description: str = ""
    keywords: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()  # example posts: what the model first learns the category from
    queue: str | None = None  # a queue's id or name
    priority_points: float = 0.0


@dataclasses.dataclass(frozen=True, kw_only=True)
class DeleteCategory:
    category_id: str
