"""The delivery loop the API runs while it serves: drains the outbox every few moments (docs/api.md).

A thread, not an asyncio task: the delivery worker is synchronous (database and HTTP calls), and a
thread keeps it from stalling the event loop that answers requests.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Protocol

from careline.departments.commands import MarkOverdueConsultations

log = logging.getLogger(__name__)
BATCH = 10  # deliveries per pass: bounds how long a shutdown waits for the pass in progress


class Deliverer(Protocol):
    def run_once(self, limit: int = 50) -> int: ...


class DeliveryLoop:
    def __init__(self, delivery: Deliverer, poll_seconds: float) -> None:
        self._delivery = delivery
        self._poll_seconds = poll_seconds
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="careline-delivery", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Ask the loop to end and wait for the delivery in progress, if any, to finish."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                attempted = self._delivery.run_once(limit=BATCH)
            except Exception:  # noqa: BLE001 - a database hiccup must not end delivery for good
                log.exception("delivery pass failed; trying again")
                attempted = 0
            if attempted < BATCH:  # a full pass may have left more due work: then go again at once
                self._stopping.wait(self._poll_seconds)


class RoutingSweep:
    """The router's timers as a loop's pass: what fell due is handled and its events published on the bus."""

    def __init__(self, careline: Any) -> None:
        self._careline = careline

    def run_once(self, limit: int = 50) -> int:
        self._careline.bus.publish(self._careline.router.sweep())
        return 0  # then wait for the next poll: the sweep handles everything due in one pass


class ConsultationSweep:
    """Departments' timer as a loop's pass: consultations past their answer target are marked overdue, once."""

    def __init__(self, careline: Any) -> None:
        self._careline = careline

    def run_once(self, limit: int = 50) -> int:
        marked: int = self._careline.handle(MarkOverdueConsultations(limit=limit))
        return marked  # a full pass (``limit`` marked) goes again at once
