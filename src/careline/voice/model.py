"""Calls: the state machine of one phone call as the PBX reports it (docs/channels.md#voice--cti).

PBXs retry, reorder and repeat their events, so a call accepts them in any order and any number of times:
each event type counts once per call (a repeat changes nothing and records nothing), and an event that comes
too late for the state the call is in (an "answered" after "ended") changes nothing but is kept in the log.

    dialing ─┐
             ├─ ringing ─┬─ answered ── ended
    (none) ──┘           └─ missed (a "missed", or an "ended" that nobody answered)
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from enum import StrEnum
from typing import Any

from careline.kernel.errors import InvalidInput
from careline.kernel.events import Event
from careline.voice import events as ev


class CallState(StrEnum):
    DIALING = "dialing"  # click-to-call: asked of the telephony system, nothing heard back yet
    RINGING = "ringing"
    ANSWERED = "answered"
    ENDED = "ended"  # answered, then hung up
    MISSED = "missed"  # ended without anyone answering


class CallDirection(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class CallEventType(StrEnum):
    RINGING = "ringing"
    ANSWERED = "answered"
    ENDED = "ended"
    MISSED = "missed"


FINAL = frozenset({CallState.ENDED, CallState.MISSED})
_BEFORE_ANSWER = frozenset({None, CallState.DIALING, CallState.RINGING})


def next_state(current: CallState | None, event: CallEventType) -> CallState | None:
    """The state an event moves a call to; None when it comes too late to change anything."""
    if current in FINAL:
        return None
    if event is CallEventType.RINGING:
        return CallState.RINGING if current in (None, CallState.DIALING) else None
    if event is CallEventType.ANSWERED:
        return CallState.ANSWERED if current in _BEFORE_ANSWER else None
    if event is CallEventType.ENDED:
        return CallState.ENDED if current is CallState.ANSWERED else CallState.MISSED
    # "missed" after "answered" contradicts what the PBX said before: the call waits for its "ended".
    return CallState.MISSED if current in _BEFORE_ANSWER else None


@dataclasses.dataclass(frozen=True)
class CallReport:
    """One event as the PBX reports it, already validated and resolved (agent looked up)."""

    event: CallEventType
    at: datetime
    queue: str | None = None
    agent_id: str | None = None
    agent_email: str | None = None
    agent_name: str | None = None
    recording_url: str | None = None


@dataclasses.dataclass
class Call:
    id: str
    channel_account_id: str
    platform_call_id: str  # the PBX's id of the call: (account, platform call id) is unique
    direction: CallDirection
    number: str | None  # the customer's number in E.164 (the caller inbound, the called outbound); None: withheld
    line: str | None  # our side: the number dialled (inbound) or shown (outbound)
    created_at: datetime
    state: CallState | None = None  # None only before the first event is applied
    queue: str | None = None
    customer_id: str | None = None
    agent_id: str | None = None
    agent_email: str | None = None
    agent_name: str | None = None
    ringing_at: datetime | None = None
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    recording_url: str | None = None
    received: list[str] = dataclasses.field(default_factory=list)  # event types the PBX sent, each once
    conversation_id: str | None = None  # the call's place in the customer's history, once it is over
    version: int = 0
    events: list[Event] = dataclasses.field(default_factory=list, repr=False, compare=False)

    @property
    def duration_seconds(self) -> int | None:
        """Talk time of an answered call that ended."""
        if self.state is not CallState.ENDED or self.answered_at is None or self.ended_at is None:
            return None
        return max(0, round((self.ended_at - self.answered_at).total_seconds()))

    @property
    def is_over(self) -> bool:
        return self.state in FINAL

    def dial(self, *, agent_id: str, at: datetime) -> None:
        """Click-to-call: the agent asked the telephony system to call ``number``."""
        if self.state is not None or self.direction is not CallDirection.OUTBOUND:
            raise InvalidInput("only a new outbound call can be dialled")
        self.state, self.agent_id = CallState.DIALING, agent_id
        self.events.append(ev.CallDialRequested(**self._facts(at, f"agent:{agent_id}"), agent_id=agent_id))

    def apply(self, report: CallReport) -> bool:
        """Take one PBX event; True when it moved the call (a repeat or a late event does not)."""
        if report.event.value in self.received:
            return False
        self.received.append(report.event.value)
        target = next_state(self.state, report.event)
        if target is None:
            self.events.append(
                ev.CallEventIgnored(
                    **self._facts(report.at, "system:voice"),
                    event=report.event.value,
                    state=self.state.value if self.state else "new",
                )
            )
            return False
        self._take_details(report)
        self.state = target
        if target is CallState.RINGING:
            self.ringing_at = report.at
            self.events.append(ev.CallRinging(**self._facts(report.at, "system:voice"), agent_id=self.agent_id))
        elif target is CallState.ANSWERED:
            self.answered_at = report.at
            self.events.append(
                ev.CallAnswered(
                    **self._facts(report.at, "system:voice"), agent_id=self.agent_id, agent_email=self.agent_email
                )
            )
        elif target is CallState.ENDED:
            self.ended_at = max(report.at, self.answered_at or report.at)
            self.events.append(
                ev.CallEnded(
                    **self._facts(report.at, "system:voice"),
                    agent_id=self.agent_id,
                    duration_seconds=self.duration_seconds or 0,
                    recording_url=self.recording_url,
                )
            )
        else:
            self.ended_at = report.at
            self.events.append(ev.CallMissed(**self._facts(report.at, "system:voice"), reported_as=report.event.value))
        return True

    def file_as(self, conversation_id: str) -> None:
        """The call is in the customer's history as this conversation; its events not yet written name it."""
        self.conversation_id = conversation_id
        self.events = [dataclasses.replace(e, conversation_id=conversation_id) for e in self.events]

    def _take_details(self, report: CallReport) -> None:
        """What an accepted event adds: the queue and agent when first known, the recording link."""
        self.queue = self.queue or report.queue
        if report.agent_id or report.agent_email:
            if self.agent_id is None or report.event is CallEventType.ANSWERED:
                self.agent_id, self.agent_email = report.agent_id, report.agent_email
                self.agent_name = report.agent_name
        self.recording_url = report.recording_url or self.recording_url

    def dial_handed_over(self, *, at: datetime) -> None:
        """The telephony system took click-to-call's dial request; its own events follow."""
        self.events.append(ev.CallDialHandedOver(**self._facts(at, "system:voice")))

    def dial_failed(self, reason: str, *, at: datetime) -> None:
        """The telephony system could not be given the dial request: nothing will ring."""
        self.events.append(ev.CallDialFailed(**self._facts(at, "system:voice"), reason=reason))

    def _facts(self, at: datetime, actor: str) -> dict[str, Any]:
        return {
            "occurred_at": at,
            "actor": actor,
            "conversation_id": self.conversation_id,
            "call_id": self.id,
            "channel_account_id": self.channel_account_id,
            "platform_call_id": self.platform_call_id,
            "direction": self.direction.value,
            "number": self.number,
            "customer_id": self.customer_id,
            "queue": self.queue,
        }

    def summary(self) -> str:
        """The line the call leaves in the customer's history."""
        number = self.number or "a withheld number"
        inbound = self.direction is CallDirection.INBOUND
        who = self.agent_name or self.agent_email
        if self.state is CallState.MISSED:
            text = f"Missed call from {number}" if inbound else f"Unanswered call to {number}"
            return f"{text} (queue {self.queue})" if self.queue and inbound else text
        parts = [f"Call from {number}" if inbound else f"Call to {number}"]
        if who:
            parts.append(f"answered by {who}" if inbound else f"by {who}")
        parts.append(_duration(self.duration_seconds or 0))
        if self.recording_url:
            parts.append(f"recording: {self.recording_url}")
        return ", ".join(parts)


def _duration(seconds: int) -> str:
    minutes, rest = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes} min {rest} s"
    return f"{minutes} min {rest} s" if minutes else f"{rest} s"
