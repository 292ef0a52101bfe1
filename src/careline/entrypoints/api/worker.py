"""The delivery loop the API runs while it serves: drains the outbox every few moments (docs/api.md).

A thread, not an asyncio task: the delivery worker is synchronous (database and HTTP calls), and a
thread keeps it from stalling the event loop that answers requests.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any, Protocol

from careline.departments.commands import MarkOverdueConsultations
from careline.kernel.errors import Conflict

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


class Leased:
    """A loop's pass that one process at a time runs, for chores that would be wasted (or would spend a paid
    budget twice) if every API process did them: polling X, reading the mailboxes. The holder of the lease
    ``name`` (the `leases` table, as the routing sweep's) renews it on each pass; when a process stops, or stops
    renewing, another takes over once ``ttl_seconds`` have passed. ``let_go`` runs when this process does not
    hold it (it stops what it had started, e.g. IMAP IDLE threads)."""

    def __init__(
        self,
        careline: Any,
        name: str,
        inner: Deliverer,
        ttl_seconds: float,
        let_go: Callable[[], None] | None = None,
    ) -> None:
        self._careline = careline
        self._name = name
        self._inner = inner
        self._ttl = timedelta(seconds=ttl_seconds)
        self._let_go = let_go
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.holding = False  # as of the last pass

    def held(self) -> bool:
        """Take or renew the lease; False while another process holds it."""
        try:
            with self._careline.uow() as uow:
                now = self._careline.clock()
                taken: bool = uow.routing.take_lease(self._name, self.holder, now, now + self._ttl)
                uow.commit()
                return taken
        except Conflict:
            return False  # another process took it at the same moment

    def run_once(self, limit: int = 50) -> int:
        self.holding = self.held()
        if self.holding:
            return self._inner.run_once(limit)
        if self._let_go is not None:
            self._let_go()
        return 0

    def release(self) -> None:
        """Hand the chore over at once (a process stopping), rather than when the lease runs out."""
        try:
            with self._careline.uow() as uow:
                uow.routing.end_lease(self._name, self.holder)
                uow.commit()
        except Exception:  # noqa: BLE001 - the lease then simply runs out
            log.warning("could not hand the %s lease over", self._name, exc_info=True)


class LeasedLoop(DeliveryLoop):
    """A loop over a Leased pass that hands the lease over when it stops."""

    def __init__(self, leased: Leased, poll_seconds: float) -> None:
        super().__init__(leased, poll_seconds)
        self._leased = leased

    def stop(self, timeout: float = 30.0) -> None:
        super().stop(timeout)
        self._leased.release()
