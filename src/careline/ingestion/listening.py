"""Listening rules at arrival: which saved searches a new post matches, and what that changes (docs/listening.md).

The rules are read once per batch and their queries compiled once per process (a query is parsed when it is
saved, so parsing a stored one cannot fail); each post is tokenised once for all rules.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from careline.triage import listening
from careline.triage.model import Category, ListeningRule
from careline.triage.priority import MAX_SCORE, MIN_SCORE, Contribution, Priority


@dataclasses.dataclass(frozen=True)
class RuleMatch:
    rule: ListeningRule
    terms: tuple[str, ...]


class QueryCache:
    """Compiled queries by their text: rules change rarely, posts arrive all the time."""

    def __init__(self) -> None:
        self._compiled: dict[str, listening.Query] = {}

    def compile(self, rules: Sequence[ListeningRule]) -> list[tuple[ListeningRule, listening.Query]]:
        compiled = []
        for rule in rules:
            query = self._compiled.get(rule.query)
            if query is None:
                query = self._compiled[rule.query] = listening.parse(rule.query)
            compiled.append((rule, query))
        if len(self._compiled) > 4 * max(len(rules), 64):  # forget queries of rules long changed
            self._compiled = {rule.query: query for rule, query in compiled}
        return compiled


def matches(rules: Sequence[tuple[ListeningRule, listening.Query]], post: listening.Post) -> list[RuleMatch]:
    """The rules the post matches, in rule order (by name), with the terms that made each match."""
    if not rules:
        return []
    prepared = listening.prepare(post)
    found = []
    for rule, query in rules:
        if query.matches(prepared):
            found.append(RuleMatch(rule, tuple(query.matched_terms(prepared))))
    return found


def with_rules(priority: Priority, found: Sequence[RuleMatch], category: Category | None = None) -> Priority:
    """The priority with each matching rule's points, and the category's, added as features of their own."""
    extra = tuple(
        Contribution("listening_rule", m.rule.name, round(m.rule.priority_points, 2))
        for m in found
        if m.rule.priority_points
    )
    if category is not None and category.priority_points:
        extra += (Contribution("category", category.name, round(category.priority_points, 2)),)
    if not extra:
        return priority
    total = priority.base + sum(c.points for c in (*priority.contributions, *extra))
    return Priority(round(min(MAX_SCORE, max(MIN_SCORE, total)), 2), priority.base, priority.contributions + extra)
