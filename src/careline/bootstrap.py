"""The one composition root: settings in, a wired application out. Nothing is built at import time."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import httpx
from sqlalchemy.engine import Engine

from careline.adapters.alert_delivery import AlertSender
from careline.adapters.db.engine import create_engine, migrate
from careline.adapters.db.uow import SqlUnitOfWork
from careline.adapters.delivery import DeliveryWorker
from careline.adapters.jobs import RedisStreamJobs
from careline.adapters.secret_box import SecretBox
from careline.agents.events import (
    AgentCreated,
    AgentProfileChanged,
    AgentStatusChanged,
    QueueCreated,
    QueueRoutingChanged,
)
from careline.agents.handlers import AdminHandlers
from careline.alerts.handlers import AlertHandlers
from careline.approvals.handlers import ApprovalHandlers
from careline.canned.handlers import CannedHandlers
from careline.channels.adapters.api import ApiChannel
from careline.channels.adapters.email_out import EmailChannel
from careline.channels.adapters.meta_graph import MetaGraphChannel
from careline.channels.adapters.voice import VoiceChannel
from careline.channels.adapters.webchat import WebChatChannel
from careline.channels.adapters.x_out import XChannel
from careline.channels.email_config import EmailConfigHandlers
from careline.channels.handlers import ChannelHandlers
from careline.channels.registry import ChannelRegistry
from careline.channels.x_handlers import XHandlers
from careline.config import Settings
from careline.contacts.handlers import ContactHandlers
from careline.conversations import events as conversation_events
from careline.conversations.handlers import ConversationHandlers
from careline.departments.handlers import DepartmentHandlers
from careline.ingestion.commands import IngestMessages
from careline.ingestion.handlers import Ingestor
from careline.kernel.bus import MessageBus
from careline.kernel.clock import Clock, utcnow
from careline.reporting.queries import Reports
from careline.routing.handlers import Router
from careline.triage.categories import CategoryLibrary
from careline.triage.handlers import TriageHandlers
from careline.triage.language import LanguageDetector
from careline.triage.model import Post
from careline.triage.pii import PiiDetector
from careline.triage.pipeline import Triage, load_models
from careline.unit_of_work import UnitOfWork
from careline.voice.handlers import VoiceHandlers
from careline.webchat.handlers import WebChatHandlers

# What can put work in front of an agent, or free one: each triggers one routing pass.
DIRECTORY_CHANGES = (AgentCreated, AgentProfileChanged, QueueCreated, QueueRoutingChanged)
ROUTING_TRIGGERS = (
    conversation_events.ConversationAccepted,
    conversation_events.ConversationAssigned,
    conversation_events.ConversationCreated,
    conversation_events.ConversationReopened,
    conversation_events.ConversationTransferred,
    conversation_events.ConversationResolved,
    conversation_events.ConversationUnassigned,
    conversation_events.MessageReceived,
    AgentStatusChanged,
    AgentProfileChanged,
)


log = logging.getLogger(__name__)


@dataclasses.dataclass
class Careline:
    settings: Settings
    engine: Engine
    clock: Clock
    bus: MessageBus
    router: Router
    delivery: DeliveryWorker
    reports: Reports
    http: httpx.Client
    language: LanguageDetector
    triage: Triage
    alert_sender: AlertSender
    categories: CategoryLibrary  # the category model triage uses, kept up to date by ingestion
    jobs: RedisStreamJobs | None = None  # scale-out: routing jobs on a Redis stream for `careline router`
    secrets: SecretBox | None = None  # channel accounts' secrets at rest; None without CARELINE_SECRET_KEY

    def warm_up(self) -> None:
        """Load what the first message would otherwise wait for (the language model, about 0.5 s)."""
        self.language.load()
        self.triage.assess_many([Post(text="warming up")])

    def uow(self, *, read_only: bool = False) -> SqlUnitOfWork:
        """A unit of work; ``read_only`` for plain reads (they never wait for or block writers)."""
        return SqlUnitOfWork(self.engine, self.clock, read_only=read_only, secrets=self.secrets)

    def handle(self, command: Any) -> Any:
        return self.bus.handle(command)

    def close(self) -> None:
        try:
            self.router.close()
        except Exception:  # noqa: BLE001 - closing goes on; the sweep's lease then simply runs out
            log.warning("could not hand the routing sweep over", exc_info=True)
        if self.jobs is not None:
            self.jobs.close()
        self.http.close()
        self.engine.dispose()


def bootstrap(settings: Settings, clock: Clock = utcnow, http: httpx.Client | None = None) -> Careline:
    """Create (or migrate) the database and wire every handler, adapter and subscriber."""
    secret_key = settings.secret_key.get_secret_value() if settings.secret_key else ""
    secrets = SecretBox(secret_key) if secret_key else None  # first: a bad key stops start-up, naming the rule
    settings.ensure_home()
    engine = create_engine(settings.effective_database_url)
    migrate(engine)

    def uow_factory() -> UnitOfWork:
        return SqlUnitOfWork(engine, clock, secrets=secrets)

    http = http or httpx.Client(timeout=10.0)

    bus = MessageBus()
    language = LanguageDetector()
    sentiment, category = load_models(settings.home / "models" / "triage")
    categories = CategoryLibrary(fallback=category)
    triage = Triage(
        sentiment=sentiment, category=categories, language=language, pii=PiiDetector(settings.reference_patterns)
    )
    ingestor = Ingestor(uow_factory, clock, triage, refresh=categories.refresh)
    bus.register(IngestMessages, ingestor.ingest)
    voice = VoiceChannel(http, clock)  # click-to-call's dial requests to the PBX
    handler_groups = (
        ConversationHandlers(uow_factory, clock),
        AdminHandlers(uow_factory, clock),
        ContactHandlers(uow_factory, clock),
        TriageHandlers(uow_factory, clock),
        AlertHandlers(uow_factory, clock),
        DepartmentHandlers(uow_factory, clock),
        ApprovalHandlers(uow_factory, clock),
        CannedHandlers(uow_factory, clock),
        EmailConfigHandlers(uow_factory, clock),
        VoiceHandlers(uow_factory, clock, dialer=voice),
        WebChatHandlers(uow_factory, clock),
    )
    for handlers in handler_groups:
        for command_type, handler in handlers.commands().items():
            bus.register(command_type, handler)
    jobs = RedisStreamJobs(settings.redis_url, stream=settings.routing_stream) if settings.redis_url else None
    router = Router(
        uow_factory,
        clock,
        publish=jobs.publish if jobs else None,
        sweep_lease_seconds=max(10.0, 3 * settings.routing_sweep_seconds),
    )
    for command_type, handler in router.commands().items():
        bus.register(command_type, handler)
    bus.subscribe(router.on_directory, *DIRECTORY_CHANGES)
    bus.subscribe(router.on_events, *ROUTING_TRIGGERS)

    registry = ChannelRegistry(
        [
            ApiChannel(http, clock),
            voice,
            MetaGraphChannel(http, "facebook", clock),
            MetaGraphChannel(http, "instagram", clock),
            WebChatChannel(),
            XChannel(http),
            EmailChannel(),
        ]
    )
    for command_type, handler in ChannelHandlers(uow_factory, clock, registry).commands().items():
        bus.register(command_type, handler)  # receipts, comment moderation: they need the adapters
    for command_type, handler in XHandlers(uow_factory, clock, registry).commands().items():
        bus.register(command_type, handler)  # X's settings and likes
    delivery = DeliveryWorker(engine, registry, clock, settings.delivery_max_attempts, secrets=secrets)
    return Careline(
        settings,
        engine,
        clock,
        bus,
        router,
        delivery,
        Reports(engine),
        http,
        language,
        triage,
        AlertSender(engine, http, settings, clock),
        categories,
        jobs,
        secrets,
    )
