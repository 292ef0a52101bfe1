"""Alerts reach their subscribers: a real webhook receiver and a real SMTP conversation, retries included."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import sqlalchemy as sa

from careline.adapters.db import tables as t
from careline.alerts import commands as cmd
from careline.bootstrap import bootstrap
from careline.config import Settings
from integration.mail import SmtpServer
from integration.support import Desk, ManualClock

CARD = "my card 4111 1111 1111 1111 was charged twice!!"


class Hook(ThreadingHTTPServer):
    def __init__(self, answers: list[int]) -> None:
        self.answers = answers  # status codes to answer in turn; the last one repeats
        self.received: list[tuple[dict[str, str], dict[str, object]]] = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server API
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.received.append((dict(self.headers), body))
                status = server.answers.pop(0) if len(server.answers) > 1 else server.answers[0]
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_: object) -> None:
                pass

        server = self
        super().__init__(("127.0.0.1", 0), Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/alerts"


@pytest.fixture
def hook() -> Iterator[Hook]:
    server = Hook([503, 200])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def outbox(desk: Desk) -> list[sa.Row[tuple[object, ...]]]:
    return desk.rows(t.outbox, t.outbox.c.kind.like("alert_%"), order_by=t.outbox.c.id)


def test_a_webhook_gets_the_alert_once_after_a_retry(desk: Desk, hook: Hook, clock: ManualClock) -> None:
    desk.app.handle(cmd.CreateAlertSubscription(kind="webhook", target=hook.url))
    desk.ingest(desk.message(CARD))

    assert desk.app.alert_sender.run_once() == 1  # 503: retried later
    [row] = outbox(desk)
    assert (row.status, row.last_error) == ("pending", "webhook answered 503")
    assert desk.app.alert_sender.run_once() == 0  # not due yet
    clock.advance(seconds=5)
    assert desk.app.alert_sender.run_once() == 1
    assert desk.app.alert_sender.run_once() == 0

    [row] = outbox(desk)
    assert row.status == "done" and row.attempts == 2
    (first_headers, first), (headers, body) = hook.received
    assert first == body and headers["Idempotency-Key"] == first_headers["Idempotency-Key"]
    assert body["kind"] == "public_personal_data" and body["post_ids"] and "4111" not in json.dumps(body)


def test_a_webhook_that_refuses_for_good_is_not_retried(desk: Desk, hook: Hook, clock: ManualClock) -> None:
    hook.answers = [404]
    desk.app.handle(cmd.CreateAlertSubscription(kind="webhook", target=hook.url))
    desk.ingest(desk.message(CARD))

    desk.app.alert_sender.run_once()
    clock.advance(minutes=10)
    assert desk.app.alert_sender.run_once() == 0
    [row] = outbox(desk)
    assert (row.status, row.last_error, len(hook.received)) == ("failed", "webhook answered 404", 1)


def test_an_email_subscriber_gets_a_mail_through_smtp(tmp_path: Path, database_url: str) -> None:
    clock = ManualClock()
    with SmtpServer() as smtp:
        settings = Settings(
            home=tmp_path / "home",
            database_url=database_url,
            smtp_host="127.0.0.1",
            smtp_port=smtp.port,
            smtp_from="alerts@acme.example",
        )
        app = bootstrap(settings, clock=clock)
        try:
            desk = Desk(app, clock)
            desk.queue("general", is_default=True)
            desk.account("acme")
            app.handle(cmd.CreateAlertSubscription(kind="email", target="pr@acme.example", min_severity="critical"))
            desk.ingest(desk.message(CARD))  # a warning: below the subscription's minimum
            desk.ingest(desk.message("I'm calling my lawyer about this", author_id="c2"))  # critical
            assert app.alert_sender.run_once() == 1
            assert [row.status for row in outbox(desk)] == ["done"]
        finally:
            app.close()
    [(sender, recipients, mail)] = smtp.received
    assert "alerts@acme.example" in sender and recipients == ["pr@acme.example"]
    assert mail["Subject"].startswith("[Careline critical]") and "lawyer" in mail["Subject"]


def test_without_an_smtp_server_an_email_fails_with_the_reason(desk: Desk) -> None:
    desk.app.handle(cmd.CreateAlertSubscription(kind="email", target="pr@acme.example"))
    desk.ingest(desk.message(CARD))

    desk.app.alert_sender.run_once()
    [row] = outbox(desk)
    assert row.status == "failed" and "CARELINE_SMTP_HOST" in row.last_error
