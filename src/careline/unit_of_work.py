"""The unit-of-work port every handler runs in: one transaction over the repositories of all contexts.

Handlers depend on this Protocol; adapters/db/uow.py implements it. Events recorded by aggregates (or
with ``record``) are written to the event log by ``commit``, in the same transaction as the state.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any, Protocol, Self

from careline.agents.ports import AgentRepository, QueueRepository
from careline.alerts.ports import AlertRepository
from careline.approvals.ports import ApprovalRepository
from careline.canned.ports import CannedRepository
from careline.channels.attachments import AttachmentRepository
from careline.channels.ports import AccountRepository
from careline.contacts.ports import CustomerRepository
from careline.conversations.ports import ConversationRepository, MessageRepository
from careline.departments.ports import DepartmentRepository
from careline.kernel.events import Event
from careline.routing.ports import RoutingRepository
from careline.triage.ports import CategoryRepository, ListeningRepository
from careline.voice.ports import CallRepository


class UnitOfWork(Protocol):
    @property
    def conversations(self) -> ConversationRepository: ...
    @property
    def messages(self) -> MessageRepository: ...
    @property
    def customers(self) -> CustomerRepository: ...
    @property
    def accounts(self) -> AccountRepository: ...
    @property
    def agents(self) -> AgentRepository: ...
    @property
    def queues(self) -> QueueRepository: ...
    @property
    def listening(self) -> ListeningRepository: ...
    @property
    def alerts(self) -> AlertRepository: ...
    @property
    def categories(self) -> CategoryRepository: ...
    @property
    def routing(self) -> RoutingRepository: ...
    @property
    def departments(self) -> DepartmentRepository: ...
    @property
    def approvals(self) -> ApprovalRepository: ...
    @property
    def canned(self) -> CannedRepository: ...
    @property
    def calls(self) -> CallRepository: ...
    @property
    def attachments(self) -> AttachmentRepository: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    def record(self, *events: Event) -> None:
        """Events no aggregate carries."""
        ...

    def enqueue_effect(
        self, kind: str, idempotency_key: str, payload: dict[str, Any], message_id: str | None = None
    ) -> None:
        """An effect outside the process, carried out by a worker after commit (the outbox)."""
        ...

    def commit(self) -> list[Event]:
        """Write everything and the events, all or nothing; returns the committed events."""
        ...
