"""Events of triage: changes to the listening rules (the audit trail of what the stream is searched for)."""

from __future__ import annotations

import dataclasses

from careline.kernel.events import Event


@dataclasses.dataclass(frozen=True, kw_only=True)
class ListeningRuleSaved(Event):
    """A rule was created or changed; the fields are its state after the change."""

    name = "listening.rule_saved"
    rule_id: str
    rule_name: str
    query: str
    queue_id: str | None
    priority_points: float
    tags: tuple[str, ...]
    alert: bool
    active: bool


@dataclasses.dataclass(frozen=True, kw_only=True)
class ListeningRuleDeleted(Event):
    name = "listening.rule_deleted"
    rule_id: str
    rule_name: str
