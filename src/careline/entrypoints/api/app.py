"""The HTTP API's application factory: routes, error mapping and the delivery loop (docs/api.md)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import ModuleType

import sqlalchemy as sa
from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response

from careline.bootstrap import Careline
from careline.channels.adapters import x_poller
from careline.entrypoints.api import (
    routes_admin,
    routes_approvals,
    routes_attachments,
    routes_auth,
    routes_conversations,
    routes_customers,
    routes_deliveries,
    routes_departments,
    routes_email,
    routes_messages,
    routes_meta,
    routes_reports,
    routes_routing,
    routes_triage,
    routes_voice,
    routes_webchat,
    routes_webhooks_meta,
    routes_webhooks_x,
    routes_x,
)
from careline.entrypoints.api.deps import CarelineDep
from careline.entrypoints.api.email_services import email_services
from careline.entrypoints.api.schemas import describe_errors
from careline.entrypoints.api.webhook_inbox import WebhookInbox
from careline.entrypoints.api.worker import ConsultationSweep, DeliveryLoop, Leased, LeasedLoop, RoutingSweep
from careline.entrypoints.web import site
from careline.kernel.errors import CarelineError, Conflict, Forbidden, InvalidInput, NotFound

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1"
ERROR_STATUS: dict[type[CarelineError], int] = {
    NotFound: status.HTTP_404_NOT_FOUND,
    InvalidInput: status.HTTP_422_UNPROCESSABLE_CONTENT,
    Conflict: status.HTTP_409_CONFLICT,
    Forbidden: status.HTTP_403_FORBIDDEN,
}


def create_app(careline: Careline, *, deliver: bool = True) -> FastAPI:
    """The API over one wired application; ``deliver`` runs the outbound delivery loop while it serves."""
    # Thin webhooks: each source's processor turns a stored delivery into commands (docs/channels.md#delivery).
    webhooks = WebhookInbox(
        careline,
        {
            routes_webhooks_meta.SOURCE: routes_webhooks_meta.process,
            routes_webhooks_x.SOURCE: routes_webhooks_x.process,
        },
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        poll = careline.settings.delivery_poll_seconds
        loops = [DeliveryLoop(careline.delivery, poll), DeliveryLoop(careline.alert_sender, poll)] if deliver else []
        if deliver:  # the router's timers: offers that expire, steps that time out, SLA warnings and breaches
            loops.append(DeliveryLoop(RoutingSweep(careline), careline.settings.routing_sweep_seconds))
            # departments' answer targets: consultations past due are marked overdue (docs/departments.md)
            loops.append(DeliveryLoop(ConsultationSweep(careline), careline.settings.routing_sweep_seconds))
            loops.append(DeliveryLoop(webhooks, poll))  # webhook deliveries whose processing failed, again
        if deliver and careline.settings.x_poll_seconds > 0:  # X accounts in poll mode (docs/channels.md#x-twitter)
            poller = Leased(
                careline, x_poller.LEASE_NAME, x_poller.from_careline(careline), ttl_seconds=x_poller.LEASE_SECONDS
            )
            loops.append(LeasedLoop(poller, careline.settings.x_poll_seconds))
        if deliver:  # email: IMAP mailboxes, the SMTP receiver (docs/channels.md#email)
            loops.extend(email_services(careline))
        for loop in loops:
            loop.start()
        try:
            yield
        finally:
            for loop in loops:
                await asyncio.to_thread(loop.stop)  # waits for the pass in flight, without blocking the server

    app = FastAPI(
        title="Careline",
        version="1",
        summary="Social customer care as just another contact-center channel.",
        lifespan=lifespan,
    )
    app.state.careline = careline
    app.state.webhooks = webhooks
    app.add_exception_handler(CarelineError, _domain_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _unexpected_error)
    modules: tuple[ModuleType, ...] = (routes_auth, routes_messages, routes_conversations, routes_customers)
    modules += (routes_admin, routes_reports, routes_triage, routes_routing, routes_departments)
    modules += (routes_approvals, routes_voice, routes_webhooks_meta, routes_deliveries)
    modules += (routes_meta,)
    modules += (routes_webchat, routes_webhooks_x, routes_x)
    modules += (routes_attachments, routes_email)
    for module in modules:
        app.include_router(module.router, prefix=API_PREFIX)
    app.add_api_route("/healthz", healthz, methods=["GET"], tags=["health"])
    site.install(app)  # the agent desktop (docs/web.md)
    return app


def healthz(careline: CarelineDep) -> JSONResponse:
    """The process answers and its database does too (503 when the database does not)."""
    try:
        with careline.engine.connect() as db:
            db.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError as error:
        log.warning("health check: database unreachable: %s", error)
        return JSONResponse({"detail": "the database is unreachable"}, status_code=503)
    return JSONResponse({"status": "ok"})


def _domain_error(request: Request, error: CarelineError) -> Response:
    code = next((c for kind, c in ERROR_STATUS.items() if isinstance(error, kind)), status.HTTP_400_BAD_REQUEST)
    if site.is_page(request):  # the desktop answers with a page
        return site.error_page(request, code, str(error))
    return JSONResponse({"detail": str(error)}, status_code=code)


def _validation_error(_request: Request, error: RequestValidationError) -> JSONResponse:
    """One readable sentence in ``detail`` (as every other error has), the structured list in ``errors``."""
    errors = error.errors()
    structured = [{"loc": list(e.get("loc", ())), "msg": e.get("msg"), "type": e.get("type")} for e in errors]
    return JSONResponse(
        {"detail": describe_errors(errors), "errors": structured},
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
    )


def _unexpected_error(_request: Request, _error: Exception) -> JSONResponse:
    # The JSON shape of every other error; Starlette re-raises afterwards, so the server still logs the trace.
    return JSONResponse({"detail": "internal error; see the server log"}, status_code=500)
