"""The delivery worker against a real database and a real HTTP callback server (docs/channels.md#delivery)."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import sqlalchemy as sa

from careline.adapters.db import tables as t
from careline.agents import commands as admin
from careline.bootstrap import Careline, bootstrap
from careline.config import Settings
from careline.conversations import queries
from careline.conversations.commands import RetryDelivery, SendReply
from careline.kernel.errors import Conflict, Forbidden
from integration.support import Desk, ManualClock

MAX_ATTEMPTS = 3


@dataclasses.dataclass(frozen=True)
class Answer:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    location: str | None = None


def answer_json(payload: Any, status: int = 200) -> Answer:
    return Answer(status, json.dumps(payload).encode())


@dataclasses.dataclass(frozen=True)
class Request:
    method: str
    path: str
    idempotency_key: str | None
    body: dict[str, Any] | None


class ScriptedCallback:
    """A customer's endpoint for replies: each request gets the next scripted answer; the last one repeats."""

    def __init__(self) -> None:
        self.answers: list[Answer] = [answer_json({})]
        self.received: list[Request] = []
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
                self._answer(None)

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length", "0"))
                self._answer(json.loads(self.rfile.read(length)))

            def _answer(self, body: dict[str, Any] | None) -> None:
                with owner._lock:
                    owner.received.append(Request(self.command, self.path, self.headers["Idempotency-Key"], body))
                    answer = owner.answers.pop(0) if len(owner.answers) > 1 else owner.answers[0]
                self.send_response(answer.status)
                self.send_header("Content-Type", answer.content_type)
                self.send_header("Content-Length", str(len(answer.body)))
                if answer.location:
                    self.send_header("Location", answer.location)
                self.end_headers()
                self.wfile.write(answer.body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._http.daemon_threads = True
        self.base = f"http://127.0.0.1:{self._http.server_address[1]}"
        self._thread = threading.Thread(target=self._http.serve_forever, name="callback", daemon=True)
        self._thread.start()

    def script(self, *answers: Answer) -> None:
        with self._lock:
            self.answers = list(answers)

    def close(self) -> None:
        self._http.shutdown()
        self._http.server_close()
        self._thread.join(10)


@pytest.fixture
def callback() -> Iterator[ScriptedCallback]:
    server = ScriptedCallback()
    yield server
    server.close()


@pytest.fixture
def delivery_app(settings: Settings, clock: ManualClock) -> Iterator[Careline]:
    """The app on SQLite and PostgreSQL with the hand-driven clock and at most MAX_ATTEMPTS tries per reply."""
    careline = bootstrap(settings.model_copy(update={"delivery_max_attempts": MAX_ATTEMPTS}), clock=clock)
    yield careline
    careline.close()


class Replies:
    """Replies on API accounts whose callback is the scripted server, and what the database says of them."""

    def __init__(self, app: Careline, clock: ManualClock, callback: ScriptedCallback) -> None:
        self.app = app
        self.desk = Desk(app, clock)
        self.desk.queue("general", is_default=True)
        self.agent = self.desk.agent("ana")
        self.callback = callback
        self.accounts: set[str] = set()

    def send(self, text: str = "we are on it", account: str = "default", author: str = "cust-1") -> str:
        """An inbound message on ``account``, then the agent's reply to it; the reply's message id."""
        if account not in self.accounts:
            url = f"{self.callback.base}/replies"
            self.app.handle(admin.CreateChannelAccount(kind="api", name=account, callback_url=url))
            self.accounts.add(account)
        inbound = self.desk.message(channel="api", account=account, author_id=author)
        conversation_id = self.desk.conversation_of(self.desk.ingest(inbound))
        message_id: str = self.app.handle(SendReply(conversation_id=conversation_id, agent_id=self.agent.id, text=text))
        return message_id

    def outbox(self, message_id: str) -> Any:
        [row] = self.desk.rows(t.outbox, t.outbox.c.message_id == message_id)
        return row

    def message(self, message_id: str) -> Any:
        [row] = self.desk.rows(t.messages, t.messages.c.id == message_id)
        return row

    def outcomes(self, message_id: str) -> list[dict[str, Any]]:
        """The delivery events of one reply, in log order: type plus the event's data."""
        events = self.desk.events(None, "message.delivered", "message.delivery_failed")
        return [{"type": e.type, **e.data} for e in events if e.data["message_id"] == message_id]

    def posts(self, message_id: str) -> list[Request]:
        return [r for r in self.callback.received if r.body and r.body["message_id"] == message_id]


@pytest.fixture
def replies(delivery_app: Careline, clock: ManualClock, callback: ScriptedCallback) -> Replies:
    return Replies(delivery_app, clock, callback)


def drain(app: Careline, clock: ManualClock, passes: int = 8) -> None:
    """Several passes, each after every backoff and lease has run out."""
    for _ in range(passes):
        app.delivery.run_once()
        clock.advance(minutes=6)


def test_retryable_failures_stop_at_max_attempts_and_the_reply_ends_failed(replies: Replies) -> None:
    replies.callback.script(Answer(503))
    reply = replies.send()

    drain(replies.app, replies.desk.clock)

    posts = replies.posts(reply)
    assert len(posts) == MAX_ATTEMPTS
    assert {p.idempotency_key for p in posts} == {f"deliver:{reply}"}
    row = replies.outbox(reply)
    assert (row.status, row.attempts, row.last_error) == ("failed", MAX_ATTEMPTS, "callback answered 503")
    assert replies.message(reply).delivery_status == "failed"
    assert [(o["type"], o["attempts"], o["will_retry"]) for o in replies.outcomes(reply)] == [
        ("message.delivery_failed", 1, True),
        ("message.delivery_failed", 2, True),
        ("message.delivery_failed", 3, False),
    ]


def test_a_lease_that_expires_on_the_last_attempt_fails_the_reply_instead_of_sending_again(replies: Replies) -> None:
    crashed, resumed = replies.send("first"), replies.send("second")
    clock = replies.desk.clock
    # Two workers died after claiming (their leases run out now): one on the last attempt, one with attempts left.
    o = t.outbox.c
    with replies.app.engine.begin() as db:
        for message_id, attempts in ((crashed, MAX_ATTEMPTS), (resumed, MAX_ATTEMPTS - 1)):
            db.execute(
                sa.update(t.outbox)
                .where(o.message_id == message_id)
                .values(status="sending", attempts=attempts, next_attempt_at=clock())
            )
    clock.advance(seconds=1)

    drain(replies.app, clock)

    assert replies.posts(crashed) == []
    row = replies.outbox(crashed)
    assert row.status == "failed"
    assert row.attempts == MAX_ATTEMPTS
    assert row.last_error.startswith(f"gave up after {MAX_ATTEMPTS} attempts: no outcome was recorded")
    assert replies.message(crashed).delivery_status == "failed"
    [failed] = replies.outcomes(crashed)
    assert (failed["type"], failed["attempts"], failed["will_retry"]) == ("message.delivery_failed", 3, False)

    assert len(replies.posts(resumed)) == 1
    assert (replies.outbox(resumed).status, replies.outbox(resumed).attempts) == ("done", MAX_ATTEMPTS)
    assert replies.message(resumed).delivery_status == "delivered"


def test_a_redirect_is_a_final_failure_and_is_not_followed(replies: Replies) -> None:
    replies.callback.script(Answer(302, location=f"{replies.callback.base}/elsewhere"))
    reply = replies.send()

    drain(replies.app, replies.desk.clock)

    assert [(r.method, r.path) for r in replies.callback.received] == [("POST", "/replies")]
    row = replies.outbox(reply)
    assert (row.status, row.attempts) == ("failed", 1)
    assert row.last_error == "callback answered 302; redirects are not followed"
    assert replies.message(reply).delivery_status == "failed"
    [failed] = replies.outcomes(reply)
    assert failed["will_retry"] is False


@pytest.mark.parametrize(
    "answer",
    [
        Answer(200, b"OK"),
        Answer(200, b"\xff\xfe not text"),
        Answer(201, b""),
        Answer(200, b'["platform_message_id", "x1"]'),
        Answer(200, b'{"platform_message_id": {"nested": 1}}'),
        Answer(204, b"", content_type="text/plain"),
        Answer(200, b'{"platform_message_id": "x1"}', content_type="text/plain"),
    ],
    ids=["not-json", "not-utf8", "empty", "json-list", "id-not-scalar", "no-content", "not-declared-json"],
)
def test_a_2xx_without_a_usable_json_body_is_delivered_once(replies: Replies, answer: Answer) -> None:
    replies.callback.script(answer)
    reply = replies.send()

    drain(replies.app, replies.desk.clock)

    assert len(replies.posts(reply)) == 1
    assert (replies.outbox(reply).status, replies.outbox(reply).last_error) == ("done", None)
    message = replies.message(reply)
    assert (message.delivery_status, message.platform_message_id) == ("delivered", None)
    [delivered] = replies.outcomes(reply)
    assert (delivered["type"], delivered["platform_message_id"]) == ("message.delivered", None)


def test_a_platform_id_already_stored_on_the_account_still_records_the_delivery_once(replies: Replies) -> None:
    duplicate, other = replies.send("first"), replies.send("second", author="cust-2")
    # The platform answers the first reply with the id of the customer's own message ("p1") on this account.
    replies.callback.script(answer_json({"platform_message_id": "p1"}), answer_json({"platform_message_id": 77}))

    drain(replies.app, replies.desk.clock)

    assert len(replies.posts(duplicate)) == 1
    assert replies.outbox(duplicate).status == "done"
    message = replies.message(duplicate)
    assert (message.delivery_status, message.platform_message_id) == ("delivered", None)
    assert [(o["type"], o["platform_message_id"]) for o in replies.outcomes(duplicate)] == [("message.delivered", None)]
    # The same pass went on, in a transaction the collision did not spoil.
    assert len(replies.posts(other)) == 1
    assert (replies.message(other).delivery_status, replies.message(other).platform_message_id) == ("delivered", "77")


def _delete_message(app: Careline, message_id: str) -> None:
    with app.engine.begin() as db:
        db.execute(sa.delete(t.messages).where(t.messages.c.id == message_id))


def _unknown_account_kind(app: Careline, message_id: str) -> None:
    # An account row this version cannot read (written by a newer one): loading the reply raises.
    account_id = sa.select(t.messages.c.channel_account_id).where(t.messages.c.id == message_id).scalar_subquery()
    with app.engine.begin() as db:
        db.execute(sa.update(t.channel_accounts).where(t.channel_accounts.c.id == account_id).values(kind="fax"))


@pytest.mark.parametrize(
    ("break_it", "final", "reason"),
    [
        (_delete_message, True, "message {} no longer exists"),
        (_unknown_account_kind, False, "delivery error: 'fax' is not a valid ChannelKind"),
    ],
    ids=["message-deleted", "account-unreadable"],
)
def test_a_broken_reply_fails_alone_and_the_pass_delivers_the_others(
    replies: Replies, break_it: Any, final: bool, reason: str
) -> None:
    broken = replies.send("first", account="legacy")
    healthy = replies.send("second")
    break_it(replies.app, broken)

    assert replies.app.delivery.run_once() == 2

    assert replies.message(healthy).delivery_status == "delivered"
    assert [r.body["message_id"] for r in replies.callback.received if r.body] == [healthy]
    row = replies.outbox(broken)
    assert (row.status, row.attempts, row.last_error) == ("failed" if final else "pending", 1, reason.format(broken))
    [failed] = replies.outcomes(broken)
    assert (failed["reason"], failed["will_retry"]) == (reason.format(broken), not final)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # PostgreSQL takes row locks instead
def test_on_sqlite_the_worker_holds_the_write_lock_from_begin_so_a_writer_in_between_cannot_spoil_it(
    replies: Replies, settings: Settings
) -> None:
    """Another process tries to commit after each statement of the worker: it must wait, never the worker.

    A transaction that began with a plain BEGIN, read, and then met such a commit failed at once with
    "database is locked" (its snapshot was stale); the worker's writes now take the lock at BEGIN.
    """
    path = replies.app.engine.url.database
    assert path is not None
    replies.callback.script(Answer(503), answer_json({"platform_message_id": "x1"}))
    reply = replies.send()
    neighbour = Neighbour(path)
    sa.event.listen(replies.app.engine, "after_cursor_execute", neighbour.after_statement)
    try:
        drain(replies.app, replies.desk.clock, passes=3)
    finally:
        sa.event.remove(replies.app.engine, "after_cursor_execute", neighbour.after_statement)
        neighbour.close()

    assert neighbour.committed  # between the worker's plain reads
    assert neighbour.refused  # during each of its write transactions
    assert replies.outbox(reply).status == "done"
    assert [(o["type"], o["attempts"]) for o in replies.outcomes(reply)] == [
        ("message.delivery_failed", 1),
        ("message.delivered", 2),
    ]


class Neighbour:
    """Another process's writer: after each statement of the worker, it commits if it gets the lock at once."""

    def __init__(self, path: str) -> None:
        self._db = sqlite3.connect(path, timeout=0, isolation_level=None)
        self._db.execute("CREATE TABLE IF NOT EXISTS neighbour (n INTEGER)")
        self.committed = 0
        self.refused = 0

    def after_statement(self, _conn: sa.Connection, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK")):
            return
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError:
            self.refused += 1
            return
        self._db.execute("INSERT INTO neighbour VALUES (1)")
        self._db.execute("COMMIT")
        self.committed += 1

    def close(self) -> None:
        self._db.close()


def test_the_callback_names_the_reply_s_thread_and_recipient(replies: Replies) -> None:
    reply = replies.send(author="cust-7")

    drain(replies.app, replies.desk.clock, passes=1)

    [post] = replies.posts(reply)
    assert post.body is not None
    inbound = replies.desk.rows(t.messages, t.messages.c.direction == "inbound")
    assert (post.body["recipient"], post.body["reply_to"]) == ("cust-7", inbound[-1].platform_message_id)


def test_a_dead_letter_is_listed_and_a_retry_delivers_it_with_the_same_key(replies: Replies) -> None:
    replies.callback.script(Answer(503))
    reply = replies.send()
    drain(replies.app, replies.desk.clock)
    [dead], total = queries.failed_deliveries(replies.app.engine)
    assert (total, dead["message_id"], dead["attempts"], dead["last_error"]) == (
        1,
        reply,
        MAX_ATTEMPTS,
        "callback answered 503",
    )
    assert (dead["agent"], dead["channel"], dead["text"]) == ("ana", "api", "we are on it")

    replies.callback.script(answer_json({"platform_message_id": "x9"}))
    replies.app.handle(RetryDelivery(message_id=reply, agent_id=replies.agent.id))
    assert replies.message(reply).delivery_status == "queued"
    assert queries.failed_deliveries(replies.app.engine) == ([], 0)
    drain(replies.app, replies.desk.clock, passes=1)

    posts = replies.posts(reply)
    assert len(posts) == MAX_ATTEMPTS + 1
    assert {p.idempotency_key for p in posts} == {f"deliver:{reply}"}
    assert (replies.message(reply).delivery_status, replies.message(reply).platform_message_id) == ("delivered", "x9")
    [retried] = replies.desk.events(None, "message.delivery_retried")
    assert retried.data == {"message_id": reply, "previous_error": "callback answered 503"}


def test_only_a_failed_reply_can_be_retried_and_only_by_its_author_or_a_supervisor(replies: Replies) -> None:
    replies.callback.script(Answer(400))
    reply = replies.send()
    with pytest.raises(Conflict, match="has not failed"):
        replies.app.handle(RetryDelivery(message_id=reply, agent_id=replies.agent.id))
    drain(replies.app, replies.desk.clock, passes=1)
    assert replies.message(reply).delivery_status == "failed"

    other = replies.desk.agent("bo")
    with pytest.raises(Forbidden):
        replies.app.handle(RetryDelivery(message_id=reply, agent_id=other.id))
    boss = replies.desk.agent("sam", role="supervisor")
    replies.app.handle(RetryDelivery(message_id=reply, agent_id=boss.id))
    assert replies.outbox(reply).status == "pending"
    with pytest.raises(Conflict, match="has not failed"):
        replies.app.handle(RetryDelivery(message_id=reply, agent_id=boss.id))
