"""Events of calls; their names are the event log's contract (docs/channels.md#voice--cti)."""

from __future__ import annotations

import dataclasses

from careline.kernel.events import Event


@dataclasses.dataclass(frozen=True, kw_only=True)
class CallFacts:
    """What every call event carries: which call, whose, where it waits."""

    call_id: str
    channel_account_id: str
    platform_call_id: str
    direction: str
    number: str | None  # the customer's number (E.164), None when withheld
    customer_id: str | None
    queue: str | None


@dataclasses.dataclass(frozen=True, kw_only=True)
class CallRinging(CallFacts, Event):
    name = "call.ringing"
    agent_id: str | None = None  # the agent whose phone rings, when the PBX says (their desktop pops the caller)


@dataclasses.dataclass(frozen=True, kw_only=True)
class CallAnswered(CallFacts, Event):
    name = "call.answered"
    agent_id: str | None
    agent_email: str | None


@dataclasses.dataclass(frozen=True, kw_only=True)
class CallEnded(CallFacts, Event):
    """An answered call ended; ``conversation_id`` is its place in the customer's history."""

    name = "call.ended"
    agent_id: str | None
    duration_seconds: int
    recording_url: str | None


@dataclasses.dataclass(frozen=True, kw_only=True)
class CallMissed(CallFacts, Event):
    """Nobody answered (the PBX said so, or the call ended before anyone did)."""

    name = "call.missed"
    reported_as: str  # the PBX's event that ended it: missed | ended


@dataclasses.dataclass(frozen=True, kw_only=True)
class CallEventIgnored(CallFacts, Event):
    """A late or contradictory PBX event (an "answered" after "ended"): kept in the log, changes nothing."""

    name = "call.event_ignored"
    event: str
    state: str  # the call's state when it came


@dataclasses.dataclass(frozen=True, kw_only=True)
class CallDialRequested(CallFacts, Event):
    """Click-to-call: an agent asked the telephony system to dial the customer."""

    name = "call.dial_requested"
    agent_id: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class CallDialHandedOver(CallFacts, Event):
    """Click-to-call: the telephony system took the dial request (POSTed to the voice account's callback URL)."""

    name = "call.dial_handed_over"


@dataclasses.dataclass(frozen=True, kw_only=True)
class CallDialFailed(CallFacts, Event):
    """Click-to-call: the telephony system could not be given the dial request; the agent is told why."""

    name = "call.dial_failed"
    reason: str
