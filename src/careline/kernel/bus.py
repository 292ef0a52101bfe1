"""In-process message bus: commands have exactly one handler; event subscribers run after commit.

Subscribers receive all the events of one kind that a commit produced, in one call, so that a batch of
500 ingested messages triggers one routing pass, not 500.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from careline.kernel.events import Event

log = logging.getLogger(__name__)

Subscriber = Callable[[Sequence[Event]], "list[Event] | None"]


class MessageBus:
    def __init__(self) -> None:
        self._command_handlers: dict[type, Callable[[Any], tuple[Any, list[Event]]]] = {}
        self._subscribers: list[tuple[tuple[type[Event], ...], Subscriber]] = []

    def register(self, command_type: type, handler: Callable[[Any], tuple[Any, list[Event]]]) -> None:
        if command_type in self._command_handlers:
            raise ValueError(f"{command_type.__name__} already has a handler")
        self._command_handlers[command_type] = handler

    def subscribe(self, subscriber: Subscriber, *event_types: type[Event]) -> None:
        self._subscribers.append((event_types, subscriber))

    def handle(self, command: Any) -> Any:
        """Run the command's one handler (which commits), then publish what it committed."""
        handler = self._command_handlers.get(type(command))
        if handler is None:
            raise LookupError(f"no handler for {type(command).__name__}")
        result, events = handler(command)
        self.publish(events)
        return result

    def publish(self, events: Sequence[Event]) -> None:
        """Dispatch committed events; a failing subscriber is logged and never undoes the commit."""
        pending = list(events)
        while pending:
            current, pending = pending, []
            for event_types, subscriber in self._subscribers:
                matching = [e for e in current if isinstance(e, event_types)]
                if not matching:
                    continue
                try:
                    more = subscriber(matching)
                except Exception:  # noqa: BLE001 - a subscriber must not break the command that succeeded
                    log.exception("subscriber %r failed", subscriber)
                    continue
                pending.extend(more or [])
