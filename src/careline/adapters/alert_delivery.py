"""Sends alerts to their webhook and email subscribers from the outbox (docs/alerts.md#delivery).

The alert was stored, announced in-app and queued for each subscriber in the transaction that raised it; this
worker claims the queued rows with the same conditional update and lease as reply delivery, so two workers
never send one twice at once, retries with backoff, and gives up after the attempt limit. A webhook gets the
alert as JSON with an ``Idempotency-Key``; a 2xx is a delivery, 5xx/429/network errors are retried, any other
answer is final. An email goes through the configured SMTP server.
"""

from __future__ import annotations

import dataclasses
import logging
import smtplib
from datetime import datetime
from email.message import EmailMessage
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from careline.adapters.db import tables as t
from careline.adapters.db.engine import write_transaction
from careline.adapters.delivery import LEASE, backoff
from careline.config import Settings
from careline.kernel.clock import Clock

log = logging.getLogger(__name__)
KINDS = ("alert_webhook", "alert_email")


class SendError(Exception):
    def __init__(self, reason: str, retryable: bool) -> None:
        super().__init__(reason)
        self.retryable = retryable


@dataclasses.dataclass(frozen=True)
class _Claim:
    id: int
    kind: str
    idempotency_key: str
    payload: dict[str, Any]
    attempts: int


class AlertSender:
    def __init__(self, engine: Engine, http: httpx.Client, settings: Settings, clock: Clock) -> None:
        self._engine = engine
        self._http = http
        self._settings = settings
        self._clock = clock

    def run_once(self, limit: int = 50) -> int:
        """Try every due alert delivery once; how many were attempted."""
        now = self._clock()
        attempted = 0
        for row in self._due(now, limit):
            claim = self._claim(row, now)
            if claim is None:
                continue
            attempted += 1
            try:
                self._send(claim)
            except SendError as error:
                self._settle(claim, str(error), error.retryable)
            except Exception as error:  # noqa: BLE001 - one broken send must not stop the others
                log.exception("alert delivery %s failed unexpectedly", claim.idempotency_key)
                self._settle(claim, f"send error: {error}", retryable=True)
            else:
                self._settle(claim, None, retryable=False)
        return attempted

    def _due(self, now: datetime, limit: int) -> list[Any]:
        o = t.outbox.c
        with self._engine.connect() as db:
            query = (
                sa.select(o.id, o.kind, o.idempotency_key, o.payload, o.status, o.attempts, o.next_attempt_at)
                .where(o.kind.in_(KINDS), o.status.in_(["pending", "sending"]), o.next_attempt_at <= now)
                .order_by(o.id)
                .limit(limit)
            )
            return list(db.execute(query))

    def _claim(self, row: Any, now: datetime) -> _Claim | None:
        o = t.outbox.c
        give_up = row.attempts >= self._settings.delivery_max_attempts
        with write_transaction(self._engine) as db:
            changed = db.execute(
                sa.update(t.outbox)
                .where(o.id == row.id, o.status == row.status, o.attempts == row.attempts)
                .values(
                    status="failed" if give_up else "sending",
                    attempts=o.attempts if give_up else o.attempts + 1,
                    next_attempt_at=now + LEASE,
                    **({"last_error": f"gave up after {row.attempts} attempts"} if give_up else {}),
                )
            )
        if changed.rowcount != 1 or give_up:
            return None
        return _Claim(row.id, row.kind, row.idempotency_key, dict(row.payload), row.attempts + 1)

    def _send(self, claim: _Claim) -> None:
        if claim.kind == "alert_webhook":
            self._webhook(claim)
        else:
            self._email(claim)

    def _webhook(self, claim: _Claim) -> None:
        try:
            response = self._http.post(
                claim.payload["target"],
                json=claim.payload["alert"],
                headers={"Idempotency-Key": claim.idempotency_key, "User-Agent": "careline-alerts"},
            )
        except httpx.HTTPError as error:
            raise SendError(f"webhook unreachable: {error}", retryable=True) from error
        if 200 <= response.status_code < 300:
            return
        retryable = response.status_code >= 500 or response.status_code == 429
        raise SendError(f"webhook answered {response.status_code}", retryable)

    def _email(self, claim: _Claim) -> None:
        settings = self._settings
        if not settings.smtp_host:
            raise SendError("no SMTP server is configured (CARELINE_SMTP_HOST)", retryable=False)
        alert = claim.payload["alert"]
        message = EmailMessage()
        message["From"] = settings.smtp_from
        message["To"] = claim.payload["target"]
        message["Subject"] = f"[Careline {alert['severity']}] {alert['title']}"[:250]
        message["Message-ID"] = f"<{claim.idempotency_key.replace(':', '.')}@careline>"
        posts = "\n".join(f"  - {post_id}" for post_id in alert["post_ids"]) or "  (none)"
        message.set_content(
            f"{alert['title']}\n\nKind: {alert['kind']} ({alert['rule']})\nRaised at: {alert['raised_at']}\n"
            f"Posts behind it (message ids):\n{posts}\n"
        )
        try:
            with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=10) as smtp:
                if settings.smtp_starttls:
                    smtp.starttls()
                if settings.smtp_user and settings.smtp_password:
                    smtp.login(settings.smtp_user, settings.smtp_password)
                smtp.send_message(message)
        except smtplib.SMTPResponseException as error:
            raise SendError(
                f"SMTP server answered {error.smtp_code}", retryable=error.smtp_code >= 400 and error.smtp_code < 500
            ) from error
        except (OSError, smtplib.SMTPException) as error:
            raise SendError(f"SMTP server unreachable: {error}", retryable=True) from error

    def _settle(self, claim: _Claim, error: str | None, retryable: bool) -> None:
        now = self._clock()
        give_up = error is not None and (not retryable or claim.attempts >= self._settings.delivery_max_attempts)
        status = "done" if error is None else "failed" if give_up else "pending"
        with write_transaction(self._engine) as db:
            db.execute(
                sa.update(t.outbox)
                .where(t.outbox.c.id == claim.id)
                .values(status=status, last_error=error, next_attempt_at=now + backoff(claim.attempts))
            )
        if error is not None:
            log.warning("alert delivery %s failed (attempt %d): %s", claim.idempotency_key, claim.attempts, error)
