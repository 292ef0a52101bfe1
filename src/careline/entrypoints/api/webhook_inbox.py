"""Webhooks are thin: a route verifies the signature, stores the body, and answers 200; this processes what was
stored, right after the answer and again from a loop for anything left over (docs/channels.md#delivery).

Each source (``meta``, ``x``) registers a processor: the part of its route that used to run in the request,
turning a stored body into commands (IngestMessages, receipts). A processor that raises is retried with
backoff, up to ``MAX_ATTEMPTS``; then the delivery stays ``failed`` in the table with its reason, never lost.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from fastapi import HTTPException, Request, status

from careline.adapters.db import webhook_inbox as inbox
from careline.channels.model import ChannelAccount, ChannelKind, SecretsUnreadable
from careline.kernel.errors import NotFound

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 8

# (careline, account, raw body) -> what it did: counts by outcome (created, duplicates, ignored...)
Processor = Callable[[Any, ChannelAccount, bytes], Mapping[str, int]]


@dataclasses.dataclass(frozen=True)
class Received:
    """What became of one delivery: its row, whether the same bytes came before (a platform's retry), whether
    it still waits for processing, and what processing did (counts by outcome; empty for a repeat)."""

    delivery_id: int
    repeat: bool
    queued: bool
    counts: dict[str, int]


def backoff(attempts: int) -> timedelta:
    """2 s, 4 s, 8 s ... capped at 10 minutes."""
    return timedelta(seconds=min(2**attempts, 600))


class WebhookInbox:
    def __init__(self, careline: Any, processors: Mapping[str, Processor]) -> None:
        self._careline = careline
        self._processors = dict(processors)

    def receive(self, source: str, account: ChannelAccount, body: bytes) -> Received:
        """Store a verified delivery (committed: from here on it cannot be lost, so the platform may be told 200),
        then process it at once; when that fails it is left to the loop, and the answer says ``queued``."""
        if source not in self._processors:
            raise ValueError(f"no webhook processor for {source!r}")
        delivery_id, new = inbox.store(self._careline.engine, source, account.id, body, self._careline.clock())
        if new:  # stored under this request's lease: no loop takes it meanwhile
            self._run(inbox.StoredDelivery(delivery_id, source, account.id, body, attempts=1))
        else:  # a repeat whose first processing failed (and is due again) is tried again here
            self.process(delivery_id)
        stored = inbox.get(self._careline.engine, delivery_id) or {}
        done = stored.get("status") == "done"
        counts = dict(stored.get("result") or {}) if new and done else {}
        return Received(delivery_id, repeat=not new, queued=not done, counts=counts)

    def process(self, delivery_id: int) -> None:
        """Process one stored delivery now, when it is still due and nobody else holds it."""
        claimed = inbox.claim(self._careline.engine, delivery_id, self._careline.clock())
        if claimed is not None:
            self._run(claimed)

    def run_once(self, limit: int = 50) -> int:
        """Process what is due (left by a crash, a failed attempt, or a process that stopped); how many."""
        engine, now = self._careline.engine, self._careline.clock()
        handled = 0
        for delivery_id in inbox.due(engine, now, limit):
            claimed = inbox.claim(engine, delivery_id, now)
            if claimed is not None:
                self._run(claimed)
                handled += 1
        return handled

    def _run(self, delivery: inbox.StoredDelivery) -> None:
        engine = self._careline.engine
        try:
            with self._careline.uow(read_only=True) as uow:
                account = uow.accounts.get(delivery.account_id)
            result = dict(self._processors[delivery.source](self._careline, account, delivery.body))
        except Exception as error:  # noqa: BLE001 - recorded on the row and retried; never lost
            log.exception(
                "webhook delivery %s (%s) failed on attempt %d", delivery.id, delivery.source, delivery.attempts
            )
            last = delivery.attempts >= MAX_ATTEMPTS
            retry_at = None if last else self._careline.clock() + backoff(delivery.attempts)
            inbox.failed(engine, delivery.id, f"{type(error).__name__}: {error}", retry_at)
            return
        inbox.done(engine, delivery.id, result)


def webhook_inbox(request: Request) -> WebhookInbox:
    """The application's webhook inbox (created with the app: entrypoints/api/app.py)."""
    found: WebhookInbox = request.app.state.webhooks
    return found


# What every webhook route does before the inbox: find the account the URL names, read the secret that checks
# its signature, refuse a body that is not JSON. (The signature itself is each platform's own.)


def webhook_account(careline: Any, reference: str, *kinds: ChannelKind) -> ChannelAccount:
    """The account of one of ``kinds`` by id, else by name; 404 naming the kinds."""
    with careline.uow(read_only=True) as uow:
        try:
            found: ChannelAccount | None = uow.accounts.get(reference)
        except NotFound:
            found = next((a for kind in kinds if (a := uow.accounts.find(kind.value, reference))), None)
    if found is None or found.kind not in kinds:
        names = " or ".join(kind.value for kind in kinds)
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no {names} channel account {reference!r}")
    return found


def webhook_secret(account: ChannelAccount, name: str) -> str:
    """The secret a webhook is checked with: 409 when the account has none, 503 when this server cannot read it
    (it refuses rather than take anything unchecked)."""
    if name not in account.secrets.names:
        detail = f"channel account {account.name} has no {name} secret (docs/channels.md)"
        raise HTTPException(status.HTTP_409_CONFLICT, detail)
    try:
        return account.secrets[name]
    except SecretsUnreadable as error:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(error)) from None


def receive_json(request: Request, source: str, account: ChannelAccount, body: bytes) -> Received:
    """A verified body into the inbox (400 when it is not JSON: a platform never sends that, so nothing is kept)."""
    try:
        json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"the body is not valid JSON: {error}") from None
    return webhook_inbox(request).receive(source, account, body)
