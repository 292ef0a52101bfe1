"""Domain events: frozen dataclasses, named once, registered, serialised into the event log."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any, ClassVar

_REGISTRY: dict[str, type[Event]] = {}


@dataclasses.dataclass(frozen=True, kw_only=True)
class Event:
    """A fact that happened. ``name`` is the stable type written to the event log."""

    name: ClassVar[str] = ""
    occurred_at: datetime
    actor: str  # "agent:<id>", "customer:<id>", "system:<component>", "brand:<handle>"
    conversation_id: str | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.name:
            raise TypeError(f"{cls.__name__} must set a stable event name")
        if cls.name in _REGISTRY and _REGISTRY[cls.name] is not cls:
            raise TypeError(f"event name {cls.name!r} is registered twice")
        _REGISTRY[cls.name] = cls

    def data(self) -> dict[str, Any]:
        """The event's own fields, JSON-ready (envelope fields excluded)."""
        out: dict[str, Any] = {}
        for name in _own_fields(type(self)):
            value = getattr(self, name)
            if isinstance(value, datetime):
                value = value.isoformat()
            elif isinstance(value, tuple | frozenset):
                value = list(value)
            out[name] = value
        return out


_OWN_FIELDS: dict[type, tuple[str, ...]] = {}


def _own_fields(event_type: type[Event]) -> tuple[str, ...]:
    """The fields an event type adds to the envelope (looked up once per type: events are written in bulk)."""
    found = _OWN_FIELDS.get(event_type)
    if found is None:
        envelope = {"occurred_at", "actor", "conversation_id"}
        found = _OWN_FIELDS[event_type] = tuple(
            f.name for f in dataclasses.fields(event_type) if f.name not in envelope
        )
    return found


def registered_events() -> dict[str, type[Event]]:
    return dict(_REGISTRY)
