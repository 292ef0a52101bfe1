"""Writes of triage: listening rules are validated (their query parsed) before they are stored."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

from careline.kernel.clock import Clock
from careline.kernel.errors import Conflict, InvalidInput
from careline.kernel.events import Event
from careline.kernel.ids import new_id
from careline.triage import commands as cmd
from careline.triage.events import ListeningRuleDeleted, ListeningRuleSaved
from careline.triage.listening import parse
from careline.triage.model import Category, ListeningRule
from careline.unit_of_work import UnitOfWork

Result = tuple[Any, list[Event]]
MAX_POINTS = 50.0
MAX_TAGS = 20
MAX_NAME = 100


class TriageHandlers:
    def __init__(self, uow_factory: Callable[[], UnitOfWork], clock: Clock) -> None:
        self._uow = uow_factory
        self._clock = clock

    def commands(self) -> dict[type, Callable[[Any], Result]]:
        return {
            cmd.CreateListeningRule: self.create_rule,
            cmd.UpdateListeningRule: self.update_rule,
            cmd.DeleteListeningRule: self.delete_rule,
            cmd.CreateCategory: self.create_category,
            cmd.DeleteCategory: self.delete_category,
        }

    def create_rule(self, c: cmd.CreateListeningRule) -> Result:
        parse(c.query)  # a QueryError says what is wrong and where
        with self._uow() as uow:
            name = _name(c.name)
            if uow.listening.by_name(name) is not None:
                raise Conflict(f"a listening rule named {name!r} exists already")
            rule = ListeningRule(
                id=new_id("lsn"),
                name=name,
                query=c.query.strip(),
                created_at=self._clock(),
                queue_id=_queue_id(uow, c.queue),
                priority_points=_points(c.priority_points),
                tags=_tags(c.tags),
                alert=c.alert,
                created_by=c.actor_id,
            )
            uow.listening.add(rule)
            uow.record(_saved(rule, self._clock(), c.actor_id))
            return rule, uow.commit()

    def update_rule(self, c: cmd.UpdateListeningRule) -> Result:
        if c.query is not None:
            parse(c.query)
        with self._uow() as uow:
            rule = uow.listening.get(c.rule_id)
            changes: dict[str, Any] = {}
            if c.name is not None and _name(c.name) != rule.name:
                changes["name"] = _name(c.name)
                if uow.listening.by_name(changes["name"]) is not None:
                    raise Conflict(f"a listening rule named {changes['name']!r} exists already")
            if c.query is not None:
                changes["query"] = c.query.strip()
            if c.clear_queue:
                changes["queue_id"] = None
            elif c.queue is not None:
                changes["queue_id"] = _queue_id(uow, c.queue)
            if c.priority_points is not None:
                changes["priority_points"] = _points(c.priority_points)
            if c.tags is not None:
                changes["tags"] = _tags(c.tags)
            for field in ("alert", "active"):
                if getattr(c, field) is not None:
                    changes[field] = getattr(c, field)
            rule = dataclasses.replace(rule, **changes)
            uow.listening.save(rule)
            uow.record(_saved(rule, self._clock(), c.actor_id))
            return rule, uow.commit()

    def delete_rule(self, c: cmd.DeleteListeningRule) -> Result:
        with self._uow() as uow:
            rule = uow.listening.get(c.rule_id)
            uow.listening.delete(rule.id)
            uow.record(
                ListeningRuleDeleted(
                    occurred_at=self._clock(), actor=_actor(c.actor_id), rule_id=rule.id, rule_name=rule.name
                )
            )
            return None, uow.commit()

    def create_category(self, c: cmd.CreateCategory) -> Result:
        name = " ".join(c.name.split())
        if not name or len(name) > MAX_NAME:
            raise InvalidInput(f"a category needs a name of 1 to {MAX_NAME} characters")
        if len(c.description) > 2000:
            raise InvalidInput("a category's description is at most 2000 characters")
        keywords = tuple(dict.fromkeys(" ".join(k.split()).lower() for k in c.keywords if k.strip()))
        if len(keywords) > 200 or any(len(k) > 100 for k in keywords):
            raise InvalidInput("keywords: at most 200, each at most 100 characters")
        examples = tuple(e.strip() for e in c.examples if e.strip())
        if len(examples) > 1000 or any(len(e) > 5000 for e in examples):
            raise InvalidInput("examples: at most 1000, each at most 5000 characters")
        if not (c.description.strip() or keywords or examples):
            raise InvalidInput("a category needs a description, keywords or examples to be learned from")
        with self._uow() as uow:
            if uow.categories.by_name(name) is not None:
                raise Conflict(f"a category named {name!r} exists already")
            category = Category(
                id=new_id("cat"),
                name=name,
                created_at=self._clock(),
                description=c.description.strip(),
                keywords=keywords,
                queue_id=_queue_id(uow, c.queue),
                priority_points=_points(c.priority_points),
            )
            uow.categories.add(category, examples)
            return category, uow.commit()

    def delete_category(self, c: cmd.DeleteCategory) -> Result:
        with self._uow() as uow:
            uow.categories.delete(uow.categories.get(c.category_id).id)
            return None, uow.commit()


def _actor(agent_id: str | None) -> str:
    return f"agent:{agent_id}" if agent_id else "system:admin"


def _saved(rule: ListeningRule, at: Any, actor_id: str | None) -> ListeningRuleSaved:
    return ListeningRuleSaved(
        occurred_at=at,
        actor=_actor(actor_id),
        rule_id=rule.id,
        rule_name=rule.name,
        query=rule.query,
        queue_id=rule.queue_id,
        priority_points=rule.priority_points,
        tags=rule.tags,
        alert=rule.alert,
        active=rule.active,
    )


def _name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > MAX_NAME:
        raise InvalidInput(f"a listening rule needs a name of 1 to {MAX_NAME} characters")
    return name


def _queue_id(uow: UnitOfWork, queue: str | None) -> str | None:
    if queue is None:
        return None
    found = uow.queues.by_name(queue) or next((q for q in uow.queues.all() if q.id == queue), None)
    if found is None:
        raise InvalidInput(f"queue {queue!r} does not exist")
    return found.id


def _points(points: float) -> float:
    if not math.isfinite(points) or abs(points) > MAX_POINTS:
        raise InvalidInput(f"priority_points must be between -{MAX_POINTS:g} and {MAX_POINTS:g}")
    return float(points)


def _tags(tags: tuple[str, ...]) -> tuple[str, ...]:
    cleaned = tuple(dict.fromkeys(t.strip().lower() for t in tags))
    if len(cleaned) > MAX_TAGS or any(not t or len(t) > 64 for t in cleaned):
        raise InvalidInput(f"tags: at most {MAX_TAGS}, each 1 to 64 characters")
    return cleaned
