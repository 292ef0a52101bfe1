"""A call that is over becomes an interaction in the customer's history: a resolved conversation on the voice
account holding one private message that says what happened (docs/channels.md#voice--cti).

Through the conversations domain (start, triage, receive or send, resolve), so that the customer panel lists it
and the reports count it like any other conversation of the channel; resolved at once, so it is never routed.
"""

from __future__ import annotations

from datetime import datetime

from careline.conversations.model import Conversation, Direction, Message, Visibility, explicit_thread
from careline.voice.model import Call, CallDirection


def platform_message_id(call: Call) -> str:
    """(account, platform message id) is unique: the same call can never be filed twice."""
    return f"call:{call.platform_call_id}"


def file_call(
    call: Call, *, conversation_id: str, message_id: str, queue_id: str, now: datetime
) -> tuple[Conversation, Message]:
    """The conversation, and its one message, that record this finished call."""
    if call.customer_id is None or call.ended_at is None:
        raise ValueError("only a finished call of a known customer is filed")
    inbound = call.direction is CallDirection.INBOUND
    started = call.ringing_at or call.answered_at or call.created_at
    message = Message(
        id=message_id,
        conversation_id=conversation_id,
        channel_account_id=call.channel_account_id,
        direction=Direction.INBOUND if inbound else Direction.OUTBOUND,
        visibility=Visibility.PRIVATE,
        text=call.summary(),
        created_at=started,
        received_at=now,
        platform_message_id=platform_message_id(call),
        author_external_id=call.number if inbound else call.line,
        customer_id=call.customer_id if inbound else None,
        agent_id=None if inbound else call.agent_id,
        raw={
            "call_id": call.id,
            "platform_call_id": call.platform_call_id,
            "state": call.state.value if call.state else None,
            "queue": call.queue,
            "agent_email": call.agent_email,
            "duration_seconds": call.duration_seconds,
            "recording_url": call.recording_url,
        },
        delivery_status=None if inbound else "external",  # the call itself was the delivery
    )
    conversation = Conversation.start(
        id=conversation_id,
        message=message,
        customer_id=call.customer_id,
        thread_key=explicit_thread(platform_message_id(call)),
        queue_id=queue_id,
        actor=f"customer:{call.customer_id}" if inbound else "system:voice",
    )
    conversation.triage(queue_id=queue_id, priority=0.0, rule="voice call", sentiment=("neutral", 0.0), at=started)
    if inbound:
        conversation.receive(message, actor=f"customer:{call.customer_id}")
    else:
        conversation.send(message, actor=f"agent:{call.agent_id}" if call.agent_id else "system:voice")
    conversation.resolve(at=call.ended_at, actor="system:voice")
    return conversation, message
