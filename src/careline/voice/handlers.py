"""Writes of calls: PBX events, click-to-call, the voice account's settings (docs/channels.md#voice--cti)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from careline.channels.model import ChannelAccount, ChannelKind
from careline.channels.ports import DeliveryError
from careline.contacts.events import CustomerCreated
from careline.contacts.model import Customer, Identity
from careline.kernel.clock import Clock
from careline.kernel.errors import Conflict, InvalidInput, NotFound
from careline.kernel.events import Event
from careline.kernel.ids import new_id
from careline.unit_of_work import UnitOfWork
from careline.voice.commands import ConfigureVoiceAccount, HandOverDial, RecordCallEvent, StartOutboundCall
from careline.voice.history import file_call
from careline.voice.model import Call, CallDirection, CallEventType, CallReport
from careline.voice.numbers import e164
from careline.voice.ports import Dialer

Result = tuple[Any, list[Event]]
ATTEMPTS = 3  # two events of one new call, or of one new caller, may race to create it: the loser retries
VOICE = ChannelKind.VOICE.value
REGION = re.compile(r"[A-Za-z]{2}")


@dataclasses.dataclass(frozen=True)
class DialRequest:
    """What click-to-call hands to the telephony system: the agent's desktop or the integration places the call
    with it (Careline does not POST it to the PBX yet: docs/channels.md#voice--cti)."""

    call: Call
    request: dict[str, Any]


@dataclasses.dataclass(frozen=True)
class HandOver:
    """Whether the telephony system took the dial request; why not, when it did not."""

    handed_over: bool
    reason: str | None = None


class VoiceHandlers:
    def __init__(self, uow_factory: Callable[[], UnitOfWork], clock: Clock, dialer: Dialer | None = None) -> None:
        self._uow = uow_factory
        self._clock = clock
        self._dialer = dialer

    def commands(self) -> dict[type, Callable[[Any], Result]]:
        return {
            RecordCallEvent: self.record_event,
            StartOutboundCall: self.start_outbound,
            HandOverDial: self.hand_over,
            ConfigureVoiceAccount: self.configure,
        }

    def record_event(self, c: RecordCallEvent) -> Result:
        """Apply one PBX event to its call (created by the first event that names it); returns the call."""
        try:
            event = CallEventType(c.event)
        except ValueError:
            raise InvalidInput(f"event must be one of {', '.join(e.value for e in CallEventType)}") from None
        if c.direction not in (None, *CallDirection):
            raise InvalidInput("direction must be inbound or outbound")
        if c.at is not None and c.at.tzinfo is None:
            raise InvalidInput("at must carry a time zone")
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return self._record(c, event)
            except Conflict:
                if attempt == ATTEMPTS:
                    raise
        raise AssertionError("unreachable")

    def _record(self, c: RecordCallEvent, event: CallEventType) -> Result:
        with self._uow() as uow:
            now = self._clock()
            account = _voice_account(uow, c.account)
            call = uow.calls.by_platform_id(account.id, c.call_id)
            is_new = call is None
            if call is None:
                call = self._new_call(uow, account, c, c.at or now, now)
            elif call.agent_id and not call.agent_name:
                call.agent_name = uow.agents.get(call.agent_id).name
            agent = uow.agents.by_email(c.agent_email.strip().lower()) if c.agent_email else None
            report = CallReport(
                event=event,
                at=c.at or now,
                queue=c.queue,
                agent_id=agent.id if agent else None,
                agent_email=c.agent_email,
                agent_name=agent.name if agent else None,
                recording_url=c.recording_url,
            )
            if call.apply(report) and call.is_over:
                self._file(uow, call, now)
            if is_new:
                uow.calls.add(call)
            else:
                uow.calls.save(call)
            uow.record(*call.events)
            call.events.clear()
            return call, uow.commit()

    def _new_call(
        self, uow: UnitOfWork, account: ChannelAccount, c: RecordCallEvent, at: datetime, now: datetime
    ) -> Call:
        direction = CallDirection(c.direction or CallDirection.INBOUND)
        region = account.config.get("region")
        caller, called = e164(c.caller, region), e164(c.called, region)
        number, line = (caller, called) if direction is CallDirection.INBOUND else (called, caller)
        call = Call(
            id=new_id("cal"),
            channel_account_id=account.id,
            platform_call_id=c.call_id,
            direction=direction,
            number=number,
            line=line,
            created_at=at,
        )
        call.customer_id = self._match(uow, number, c.caller_name if direction is CallDirection.INBOUND else None, now)
        return call

    def _match(self, uow: UnitOfWork, number: str | None, name: str | None, now: datetime) -> str | None:
        """The customer behind a number: their voice identity, else the one customer with this number as an
        identity on another channel (then it gains the voice identity), else a new customer."""
        if number is None:
            return None  # withheld: nobody to pop, nothing to file
        known = uow.customers.customers_for(VOICE, [number]).get(number)
        if known is not None:
            return known
        elsewhere = uow.calls.customers_with_number(number)
        if len(elsewhere) == 1:
            customer_id = elsewhere[0]
            uow.customers.add_many([], [Identity(VOICE, number, customer_id, name)])
            return customer_id
        customer = Customer(new_id("cus"), (name or "").strip()[:200] or number, now)
        uow.customers.add_many([customer], [Identity(VOICE, number, customer.id, name)])
        uow.record(
            CustomerCreated(
                occurred_at=now, actor="system:voice", customer_id=customer.id, channel=VOICE, external_id=number
            )
        )
        return customer.id

    def _file(self, uow: UnitOfWork, call: Call, now: datetime) -> None:
        """The finished call joins the customer's history (a withheld number has no customer to file it under)."""
        if call.customer_id is None or call.conversation_id is not None:
            return
        queues = sorted(uow.queues.all(), key=lambda q: (q.rank, q.name))
        queue = next((q for q in queues if q.name == call.queue), None)
        queue = queue or next((q for q in queues if q.is_default), None) or (queues[0] if queues else None)
        if queue is None:
            return  # no queue at all yet (`careline init` makes one): the call is kept, just not filed
        conversation, message = file_call(
            call, conversation_id=new_id("cnv"), message_id=new_id("msg"), queue_id=queue.id, now=now
        )
        uow.conversations.add(conversation)
        uow.messages.add_many([message])
        call.file_as(conversation.id)

    def start_outbound(self, c: StartOutboundCall) -> Result:
        """Record an outbound call in state dialing and return the dial request for the telephony system."""
        with self._uow() as uow:
            now = self._clock()
            agent = uow.agents.get(c.agent_id)
            account = _voice_account(uow, c.account)
            number = e164(c.number, account.config.get("region"))
            if number is None:
                raise InvalidInput(f"{c.number!r} is not a phone number (give it as +<country code><number>)")
            call_id = new_id("cal")
            call = Call(call_id, account.id, call_id, CallDirection.OUTBOUND, number, account.config.get("line"), now)
            if c.customer_id is not None:
                customer = uow.customers.get(c.customer_id)
                call.customer_id = customer.merged_into_id or customer.id
            else:
                call.customer_id = self._match(uow, number, None, now)
            call.agent_email, call.agent_name = agent.email, agent.name
            call.dial(agent_id=agent.id, at=now)
            request = {
                "call_id": call.platform_call_id,
                "account": account.name,
                "number": number,
                "customer_id": call.customer_id,
                "agent": {
                    "id": agent.id,
                    "email": agent.email,
                    "name": agent.name,
                    "extension": agent.attributes.get("extension"),
                },
                "requested_at": now.isoformat(),
            }
            uow.calls.add(call)
            uow.record(*call.events)
            call.events.clear()
            return DialRequest(call, request), uow.commit()

    def hand_over(self, c: HandOverDial) -> Result:
        """POST the dial request to the voice account's callback URL (after StartOutboundCall committed: nothing
        leaves before commit), then record what happened. Without a callback URL the caller passes it on."""
        with self._uow() as uow:
            call = uow.calls.get(c.call_id)
            account = uow.accounts.get(call.channel_account_id)
        if not account.callback_url:
            return HandOver(False, "the voice account has no callback_url: the desktop or integration dials"), []
        if self._dialer is None:
            return HandOver(False, "no telephony connector is configured"), []
        try:
            self._dialer.dial(account, c.request, f"dial:{call.id}")
            outcome = HandOver(True)
        except DeliveryError as error:
            outcome = HandOver(False, str(error))
        with self._uow() as uow:
            call = uow.calls.get(c.call_id)
            if outcome.handed_over:
                call.dial_handed_over(at=self._clock())
            else:
                call.dial_failed(outcome.reason or "", at=self._clock())
            uow.record(*call.events)
            call.events.clear()
            return outcome, uow.commit()

    def configure(self, c: ConfigureVoiceAccount) -> Result:
        """The voice account's home region and line (None leaves a setting as it is, "" removes it)."""
        with self._uow() as uow:
            uow.agents.get(c.agent_id)
            account = _voice_account(uow, c.account)
            config = dict(account.config)
            if c.region is not None and c.region and not REGION.fullmatch(c.region):
                raise InvalidInput("region is a two-letter country code (US, GB, DE...)")
            line = e164(c.line) if c.line else c.line
            if c.line and line is None:
                raise InvalidInput("line must be a phone number in international form (+...)")
            settings = {"region": c.region.upper() if c.region else c.region, "line": line}
            for key, value in settings.items():
                if value:
                    config[key] = value
                elif value is not None:  # "" removes the setting
                    config.pop(key, None)
            account.config = config
            uow.accounts.save_config(account)
            return account, uow.commit()


def _voice_account(uow: UnitOfWork, name: str) -> ChannelAccount:
    account = uow.accounts.find(VOICE, name)
    if account is None:
        raise NotFound(f"voice account {name!r} does not exist; create it first (kind voice)")
    return account
