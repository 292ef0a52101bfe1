"""The email channel's inbound services `careline serve` runs beside the API (docs/channels.md#email): the IMAP
pollers (unless CARELINE_EMAIL_IMAP_POLL=false) and the SMTP receiver (when CARELINE_SMTP_RECEIVER_PORT is set)."""

from __future__ import annotations

from typing import Any

from careline.adapters.imap_poller import MailboxPollers
from careline.adapters.smtp_receiver import SmtpReceiver
from careline.entrypoints.api.worker import DeliveryLoop, Leased


class ImapPolling(DeliveryLoop):
    """Looks for mailboxes to poll every ``email_poll_seconds``; each mailbox has its own thread (IDLE waits).
    One process at a time reads the mailboxes (the lease ``poll:imap``): another one's threads stop while it
    does not hold it, and start when it takes over."""

    def __init__(self, careline: Any) -> None:
        self._pollers = MailboxPollers(careline)
        seconds = careline.settings.email_poll_seconds
        self._leased = Leased(
            careline, "poll:imap", self._pollers, ttl_seconds=max(90.0, 3 * seconds), let_go=self._pollers.close
        )
        super().__init__(self._leased, seconds)

    def stop(self, timeout: float = 30.0) -> None:
        super().stop(timeout)
        self._pollers.close()
        self._leased.release()


class SmtpReceiving(DeliveryLoop):
    """The SMTP receiver, started and stopped like the API's other loops."""

    def __init__(self, careline: Any, host: str, port: int) -> None:
        self.receiver = SmtpReceiver(careline, host, port)

    def start(self) -> None:
        self.receiver.start()

    def stop(self, timeout: float = 30.0) -> None:
        self.receiver.stop(timeout)


def email_services(careline: Any) -> list[DeliveryLoop]:
    settings = careline.settings
    services: list[DeliveryLoop] = []
    if settings.email_imap_poll:
        services.append(ImapPolling(careline))
    if settings.smtp_receiver_port is not None:
        services.append(SmtpReceiving(careline, settings.smtp_receiver_host, settings.smtp_receiver_port))
    return services
