"""Email inbound over SMTP: Careline's own receiver, for MX records or forwarding rules (docs/channels.md#email).

RCPT TO picks the account (an email account named by that address; anyone else: 550, so the receiver is never an
open relay). The mail is parsed and ingested, and only once that committed does the client hear 250: a sender
that hears anything else keeps the mail and tries again, and ingestion (unique on the account and Message-ID)
stores nothing twice. A mail over the size limit is refused with 552, an error while storing with 451 (retry).
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from careline.channels.adapters.email import EmailLimits, parse_email
from careline.channels.model import ChannelAccount, ChannelKind
from careline.ingestion.commands import IngestMessages
from careline.ingestion.model import BatchResult, InboundMessage

log = logging.getLogger(__name__)


class Refused(Exception):
    """Ingestion refused the mail for good (it breaks a rule every message must keep)."""


class MailHandler:
    """aiosmtpd's handler: the account lookup at RCPT, ingestion at DATA (in a thread: both are blocking)."""

    def __init__(
        self,
        find_account: Callable[[str], ChannelAccount | None],
        ingest: Callable[[IngestMessages], BatchResult],
        limits: EmailLimits,
    ) -> None:
        self._find_account = find_account
        self._ingest = ingest
        self._limits = limits

    async def handle_RCPT(  # noqa: N802 - the name aiosmtpd calls
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        try:
            account = await asyncio.to_thread(self._find_account, address)
        except Exception:  # noqa: BLE001 - the database is down: the sender tries again later
            log.exception("SMTP receiver: could not look up %s", address)
            return "451 4.3.0 cannot look up the mailbox now; try again later"
        if account is None:
            return f"550 5.1.1 <{address}>: no such mailbox here"
        envelope.rcpt_tos.append(account.name)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        raw = envelope.original_content if envelope.original_content is not None else envelope.content
        if not isinstance(raw, bytes):
            raw = str(raw or "").encode("utf-8", "surrogateescape")
        try:
            stored = await asyncio.to_thread(self._store, envelope.mail_from or "", list(envelope.rcpt_tos), raw)
        except Refused as error:
            return f"554 5.6.0 message refused: {str(error)[:200]}"
        except Exception:  # noqa: BLE001 - nothing was acknowledged: the sender keeps the mail and retries
            log.exception("SMTP receiver: could not store a mail for %s", ", ".join(envelope.rcpt_tos))
            return "451 4.3.0 could not store the message; try again later"
        return f"250 2.0.0 {stored}"

    def _store(self, mail_from: str, accounts: list[str], raw: bytes) -> str:
        """Ingest the mail for each recipient account, in one transaction; what the 250 line says."""
        if mail_from in ("", "<>"):
            log.info("SMTP receiver: a bounce (null sender) for %s ignored", ", ".join(accounts))
            return "bounce ignored"
        items: list[InboundMessage] = []
        for account in dict.fromkeys(accounts):
            parsed = parse_email(raw, account=account, limits=self._limits)
            if parsed.message is None:
                log.info("SMTP receiver: a mail for %s ignored: %s", account, parsed.ignored)
            else:
                items.append(parsed.message)
        if not items:
            return "ignored (automatic mail)"
        result = self._ingest(IngestMessages(items=tuple(items)))
        refused = [item.error or "refused" for item in result.items if item.status == "rejected"]
        if refused:  # the same bytes would fail the same way: a bounce tells the sender, a 250 would lose it
            log.warning("SMTP receiver: a mail was refused: %s", "; ".join(refused))
            raise Refused(refused[0])
        return "stored"


class SmtpReceiver:
    """The receiver on its own thread and event loop (aiosmtpd's Controller), started and stopped with the API."""

    def __init__(self, careline: Any, host: str, port: int) -> None:
        settings = careline.settings
        limits = EmailLimits(settings.email_max_attachment_bytes, settings.email_max_attachments_bytes)

        def find_account(address: str) -> ChannelAccount | None:
            with careline.uow(read_only=True) as uow:
                found: ChannelAccount | None = uow.accounts.find(ChannelKind.EMAIL.value, address)
                return found or uow.accounts.find(ChannelKind.EMAIL.value, address.lower())

        self.port = port or _free_port(host)
        self.host = host
        self._controller = Controller(
            MailHandler(find_account, careline.handle, limits),
            hostname=host,
            port=self.port,
            data_size_limit=settings.email_max_message_bytes,
            enable_SMTPUTF8=True,
            ident="Careline",
        )

    def start(self) -> None:
        self._controller.start()
        log.info("SMTP receiver listening on %s:%s", self.host, self.port)

    def stop(self, timeout: float = 30.0) -> None:
        self._controller.stop()


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])
