"""Events are named once, registered, and every registered type serialises to JSON (the event log's schema)."""

from __future__ import annotations

import dataclasses
import importlib
import json
import re
import types
import typing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import careline
from careline.conversations.events import ConversationTagged, MessageSent
from careline.kernel.events import Event, registered_events

T0 = datetime(2024, 3, 4, 9, 0, tzinfo=UTC)

# The names the event log, the reports and the docs rely on (docs/ARCHITECTURE.md#events): never rename one.
CONTRACT = {
    "conversation.created", "conversation.triaged", "message.received", "message.sent", "note.added",
    "conversation.assigned", "conversation.accepted", "conversation.unassigned", "conversation.tagged",
    "conversation.transferred", "conversation.resolved", "conversation.reopened", "conversation.taken_private",
    "customer.created", "customer.merged", "agent.created", "agent.status_changed",
}


def all_events() -> dict[str, type[Event]]:
    """Import every ``events.py`` of the package, then read the registry."""
    root = Path(careline.__file__).parent
    for path in sorted(root.rglob("events.py")):
        module = ".".join(("careline", *path.relative_to(root).with_suffix("").parts))
        importlib.import_module(module)
    return registered_events()


def sample(hint: Any) -> Any:
    """A value of the annotated type; an unknown type fails so that a new field type gets a look here."""
    if hint is str or hint is Any:
        return "text"
    if hint is bool:
        return True
    if hint is int:
        return 7
    if hint is float:
        return -0.25
    if hint is datetime:
        return T0
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (types.UnionType, typing.Union):
        return sample(next(a for a in args if a is not type(None)))
    if origin is tuple:
        return (sample(args[0]), sample(args[0]))
    if origin is frozenset:
        return frozenset({sample(args[0])})
    if origin is dict:
        return {sample(args[0]): sample(args[1])}
    raise AssertionError(f"no sample value for {hint!r}: teach tests/unit/kernel/test_events.py")


def example(event_type: type[Event]) -> Event:
    hints = typing.get_type_hints(event_type)
    values = {f.name: sample(hints[f.name]) for f in dataclasses.fields(event_type)}
    return event_type(**values)


def test_the_contract_names_are_all_registered() -> None:
    assert CONTRACT <= set(all_events())


def test_names_are_context_dot_past_tense_and_map_to_their_class() -> None:
    for name, event_type in all_events().items():
        assert re.fullmatch(r"[a-z]+\.[a-z_]+", name), name
        assert event_type.name == name


@pytest.mark.parametrize("name", sorted(all_events()))
def test_every_registered_event_serialises_to_json(name: str) -> None:
    event_type = all_events()[name]
    assert dataclasses.is_dataclass(event_type)
    assert event_type.__dataclass_params__.frozen  # type: ignore[attr-defined]
    event = example(event_type)

    data = json.loads(json.dumps(event.data()))

    own = {f.name for f in dataclasses.fields(event_type)} - {"occurred_at", "actor", "conversation_id"}
    assert set(data) == own


def test_data_leaves_out_the_envelope_and_makes_values_json_ready() -> None:
    tagged = ConversationTagged(
        occurred_at=T0, actor="agent:a", conversation_id="c1", added=("refund", "vip"), removed=()
    )
    assert tagged.data() == {"added": ["refund", "vip"], "removed": []}
    sent = MessageSent(
        occurred_at=T0, actor="agent:a", conversation_id="c1", message_id="m1", channel_account_id="acc",
        visibility="public", agent_id=None, first_response=False,
    )
    assert sent.data() == {
        "message_id": "m1", "channel_account_id": "acc", "visibility": "public", "agent_id": None,
        "first_response": False,
    }


def test_a_name_cannot_be_registered_twice() -> None:
    before = registered_events()
    with pytest.raises(TypeError, match="registered twice"):

        @dataclasses.dataclass(frozen=True, kw_only=True)
        class AnotherResolved(Event):
            name = "conversation.resolved"

    assert registered_events() == before


def test_an_event_must_name_itself() -> None:
    before = registered_events()
    with pytest.raises(TypeError, match="must set a stable event name"):

        class Nameless(Event):
            pass

    assert registered_events() == before


def test_events_are_immutable() -> None:
    tagged = ConversationTagged(occurred_at=T0, actor="agent:a", conversation_id="c1", added=(), removed=())
    with pytest.raises(dataclasses.FrozenInstanceError):
        tagged.actor = "agent:b"  # type: ignore[misc]
