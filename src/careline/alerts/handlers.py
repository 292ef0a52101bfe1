"""Writes of alerts: raising them as posts arrive (inside ingestion's transaction), acknowledging them, and
where they are sent (docs/alerts.md).

Spike counts live in the database, so that every ingestion process adds to the same counts and the pure
``assess`` decides on totals no single process holds. An alert is stored under its dedup key once; only an
alert that was stored now is announced (the in-app event) and sent (one outbox row per subscription).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from careline.alerts import commands as cmd
from careline.alerts.events import AlertAcknowledged, AlertRaised
from careline.alerts.model import MAX_POST_IDS, SEVERITIES, Alert, SpikeKey, SpikePolicy, assess, bucket_start
from careline.alerts.model import spike_alert as make_spike_alert
from careline.alerts.ports import SpikeEpisode, Subscription
from careline.alerts.rules import AlertRule, Signals, default_rules, evaluate
from careline.kernel.clock import Clock
from careline.kernel.errors import InvalidInput, NotFound
from careline.kernel.events import Event
from careline.kernel.ids import new_id
from careline.unit_of_work import UnitOfWork

Result = tuple[Any, list[Event]]
LISTENING = "listening"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclasses.dataclass(frozen=True)
class Observation:
    """One new inbound post, as alerting sees it."""

    post_id: str  # the message id
    conversation_id: str
    at: datetime
    signals: Signals
    spike_keys: tuple[SpikeKey, ...]  # the volumes it counts toward: brand, topic, sentiment
    listening: tuple[tuple[str, str], ...] = ()  # (rule id, rule name) of matching rules that alert


def spike_keys(account: str, sentiment: str, category: str | None) -> tuple[SpikeKey, ...]:
    """Per brand and sentiment always; per topic (category) and sentiment when triage named one."""
    keys: list[SpikeKey] = [("brand", account, sentiment)]
    if category:
        keys.append(("topic", category, sentiment))
    return tuple(keys)


class Alerting:
    """Raises alerts for a batch of new posts in the caller's unit of work (so they commit with the posts)."""

    def __init__(self, policy: SpikePolicy | None = None, rules: Sequence[AlertRule] | None = None) -> None:
        self.policy = policy or SpikePolicy()
        self.rules = list(default_rules() if rules is None else rules)
        # When counting began never changes once something was counted: read it once, not at every batch (it is
        # the oldest bucket of a table that grows by the hour). Only a committed value read back is kept.
        self._counting_since: datetime | None = None

    def observe(self, uow: UnitOfWork, observations: Sequence[Observation], now: datetime) -> list[Alert]:
        if not observations:
            return []
        raised: list[tuple[Alert, dict[str, Any]]] = []
        for seen in observations:
            raised.extend(
                (alert, {"conversation_id": seen.conversation_id}) for alert in evaluate(self.rules, seen.signals)
            )
        raised.extend(self._listening(uow, observations))
        raised.extend(self._spikes(uow, observations))
        stored: list[Alert] = []
        if not raised:
            return stored
        subscriptions = uow.alerts.subscriptions()
        for alert, details in raised:
            alert_id = new_id("alr")
            if not uow.alerts.insert(alert_id, alert, now, details):
                continue
            stored.append(alert)
            uow.record(
                AlertRaised(
                    occurred_at=now,
                    actor="system:alerts",
                    alert_id=alert_id,
                    kind=alert.kind,
                    rule=alert.rule,
                    key="|".join(alert.key),
                    severity=alert.severity,
                    title=alert.title,
                    post_ids=alert.post_ids,
                    details=details,
                )
            )
            for subscription in subscriptions:
                if SEVERITIES.index(alert.severity) >= SEVERITIES.index(subscription.min_severity):
                    uow.enqueue_effect(
                        f"alert_{subscription.kind}",
                        f"{alert_id}:{subscription.id}",
                        {"target": subscription.target, "alert": _public(alert_id, alert, now, details)},
                        alert_id,
                    )
        return stored

    def _listening(self, uow: UnitOfWork, observations: Sequence[Observation]) -> list[tuple[Alert, dict[str, Any]]]:
        """One alert per alerting rule and bucket; later matches in the bucket join it without a new alert."""
        groups: dict[tuple[str, str, datetime], list[str]] = {}
        for seen in observations:
            for rule_id, rule_name in seen.listening:
                groups.setdefault((rule_id, rule_name, bucket_start(seen.at, self.policy)), []).append(seen.post_id)
        alerts = []
        for (rule_id, rule_name, bucket), post_ids in groups.items():
            dedup_key = f"{LISTENING}:{rule_id}:{bucket:%Y-%m-%dT%H:%MZ}"
            title = f"Listening rule {rule_name!r} matched {len(post_ids)} new post(s)"
            alert = Alert(
                LISTENING,
                rule_name,
                ("rule", rule_id),
                "info",
                title,
                dedup_key,
                tuple(post_ids[:MAX_POST_IDS]),
                bucket,
            )
            uow.alerts.add_posts(dedup_key, post_ids)
            alerts.append((alert, {"rule_id": rule_id}))
        return alerts

    def _spikes(self, uow: UnitOfWork, observations: Sequence[Observation]) -> list[tuple[Alert, dict[str, Any]]]:
        size = self.policy.bucket
        increments: dict[tuple[str, datetime], int] = {}
        posts: dict[tuple[str, datetime], list[str]] = {}
        keys: dict[str, SpikeKey] = {}
        for seen in observations:
            bucket = bucket_start(seen.at, self.policy)
            for key in seen.spike_keys:
                name = "|".join(key)
                keys[name] = key
                increments[(name, bucket)] = increments.get((name, bucket), 0) + 1
                posts.setdefault((name, bucket), []).append(seen.post_id)
        if self._counting_since is None:
            self._counting_since = uow.alerts.counting_since()
        started = self._counting_since or min(bucket for _, bucket in increments)
        totals = uow.alerts.count(increments)
        alerts = []
        opened: dict[str, SpikeEpisode] = {}
        details_of: dict[str, dict[str, Any]] = {}  # episodes this batch opens (not stored yet: the caller stores them)
        window = self.policy.baseline_buckets * size
        earliest = max(started, min(bucket for _, bucket in totals) - window)
        history = uow.alerts.volumes(keys, earliest, max(bucket for _, bucket in totals))
        for (name, bucket), total in sorted(totals.items(), key=lambda item: item[0][1]):
            first = max(started, bucket - window)
            counted = history.get(name, {})
            baseline = [counted.get(first + i * size, 0) for i in range(max((bucket - first) // size, 0))]
            verdict = assess(total, baseline, self.policy)
            if not verdict.spike:
                continue
            episode = opened.get(name) or uow.alerts.latest_episode(name)
            if episode is not None and (bucket - episode.last_spike) // size - 1 < self.policy.cooldown_buckets:
                if name in opened:
                    opened[name] = SpikeEpisode(episode.dedup_key, max(bucket, episode.last_spike))
                    details_of[episode.dedup_key]["last_spike"] = opened[name].last_spike.isoformat()
                else:
                    uow.alerts.extend_episode(episode.dedup_key, max(bucket, episode.last_spike))
                continue
            alert = make_spike_alert(keys[name], bucket, verdict, tuple(posts[(name, bucket)]), self.policy)
            # A surge of complaints needs someone now; a surge of praise or questions is worth knowing.
            alert = dataclasses.replace(alert, severity="warning" if "negative" in alert.key else "info")
            details = {"last_spike": bucket.isoformat(), "count": verdict.count, "expected": verdict.expected}
            opened[name] = SpikeEpisode(alert.dedup_key, bucket)
            details_of[alert.dedup_key] = details
            alerts.append((alert, details))
        return alerts


def _public(alert_id: str, alert: Alert, at: datetime, details: dict[str, Any]) -> dict[str, Any]:
    """What a webhook or an email carries: the alert and the posts behind it (ids; the text stays inside)."""
    return {
        "id": alert_id,
        "kind": alert.kind,
        "rule": alert.rule,
        "key": list(alert.key),
        "severity": alert.severity,
        "title": alert.title,
        "post_ids": list(alert.post_ids),
        "raised_at": at.isoformat(),
        "details": details,
    }


class AlertHandlers:
    def __init__(self, uow_factory: Callable[[], UnitOfWork], clock: Clock) -> None:
        self._uow = uow_factory
        self._clock = clock

    def commands(self) -> dict[type, Callable[[Any], Result]]:
        return {
            cmd.AcknowledgeAlert: self.acknowledge,
            cmd.CreateAlertSubscription: self.subscribe,
            cmd.DeleteAlertSubscription: self.unsubscribe,
        }

    def acknowledge(self, c: cmd.AcknowledgeAlert) -> Result:
        with self._uow() as uow:
            now = self._clock()
            if uow.alerts.acknowledge(c.alert_id, c.agent_id, now):
                uow.record(
                    AlertAcknowledged(
                        occurred_at=now, actor=f"agent:{c.agent_id}", alert_id=c.alert_id, agent_id=c.agent_id
                    )
                )
            return None, uow.commit()

    def subscribe(self, c: cmd.CreateAlertSubscription) -> Result:
        target = c.target.strip()
        if c.kind == "webhook":
            if not re.match(r"^https?://[^\s/]+", target) or len(target) > 2000:
                raise InvalidInput("a webhook target must be an http:// or https:// URL of at most 2000 characters")
        elif c.kind == "email":
            if not _EMAIL.match(target) or len(target) > 320:
                raise InvalidInput(f"{target!r} is not an email address")
        else:
            raise InvalidInput("kind must be webhook or email (in-app alerts need no subscription)")
        if c.min_severity not in SEVERITIES:
            raise InvalidInput(f"min_severity must be one of {', '.join(SEVERITIES)}")
        subscription = Subscription(new_id("sub"), c.kind, target, c.min_severity, self._clock())
        with self._uow() as uow:
            uow.alerts.add_subscription(subscription)
            return subscription, uow.commit()

    def unsubscribe(self, c: cmd.DeleteAlertSubscription) -> Result:
        with self._uow() as uow:
            if not any(s.id == c.subscription_id for s in uow.alerts.subscriptions()):
                raise NotFound(f"alert subscription {c.subscription_id} does not exist")
            uow.alerts.delete_subscription(c.subscription_id)
            return None, uow.commit()
