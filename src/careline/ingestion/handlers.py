"""Ingestion: one batch, one transaction: dedupe, identify, thread, triage, persist (docs/ingestion.md).

The batch is committed before the caller acknowledges anything, so an accepted message is never lost;
(channel account, platform message id) is unique, so replays and retries store nothing twice.
"""

from __future__ import annotations

from collections.abc import Callable

from careline.alerts.handlers import Alerting
from careline.ingestion.commands import IngestMessages
from careline.ingestion.listening import QueryCache
from careline.ingestion.model import BatchResult
from careline.ingestion.writer import BatchWriter
from careline.kernel.clock import Clock
from careline.kernel.errors import Conflict
from careline.kernel.events import Event
from careline.triage.model import Triager
from careline.unit_of_work import UnitOfWork

ATTEMPTS = 3


class Ingestor:
    """Turns normalized inbound messages into stored, threaded, triaged conversations."""

    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        clock: Clock,
        triage: Triager,
        alerting: Alerting | None = None,
        refresh: Callable[[UnitOfWork], None] | None = None,
    ) -> None:
        self._uow_factory = uow_factory
        self._clock = clock
        self._triage = triage
        self._alerting = alerting or Alerting()
        self._queries = QueryCache()
        self._refresh = refresh  # brings triage's category model up to date (new categories, agents' tags)

    def ingest(self, command: IngestMessages) -> tuple[BatchResult, list[Event]]:
        """One transaction; a batch that races another over the same keys is retried and then finds the
        other's rows as duplicates (ingestion is idempotent), so its caller never sees the race."""
        for attempt in range(1, ATTEMPTS + 1):
            try:
                with self._uow_factory() as uow:
                    now = self._clock()
                    if self._refresh is not None:
                        self._refresh(uow)
                    rules = self._queries.compile(uow.listening.active())
                    writer = BatchWriter(uow, now, self._triage, rules, command.create_accounts)
                    result = writer.write(command.items)
                    self._alerting.observe(uow, writer.observations, now)
                    return result, uow.commit()
            except Conflict:
                if attempt == ATTEMPTS:
                    raise
        raise AssertionError("unreachable")
