"""End-to-end helpers: a real uvicorn server over the `app` fixture, real HTTP clients, a real callback server."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from careline.bootstrap import Careline
from careline.entrypoints.api.server import ServerHandle, run_server_in_thread
from careline.entrypoints.cli.setup import ensure_admin, ensure_defaults

ADMIN_EMAIL = "admin@example.com"
PASSWORD = "correct horse battery"


@pytest.fixture
def server(app: Careline) -> Iterator[ServerHandle]:
    """The API on a free port, with the default queue and API account, and its delivery loop running."""
    ensure_defaults(app)
    ensure_admin(app, ADMIN_EMAIL, PASSWORD)
    handle = run_server_in_thread(app, "127.0.0.1", 0)
    yield handle
    handle.stop()


@pytest.fixture
def client(server: ServerHandle) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30.0) as http:
        yield http


def login(client: httpx.Client, email: str, password: str = PASSWORD) -> dict[str, str]:
    """Headers that authenticate as the agent with this email."""
    response = client.post("/api/v1/auth/token", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


@pytest.fixture
def admin(client: httpx.Client) -> dict[str, str]:
    return login(client, ADMIN_EMAIL)


@pytest.fixture
def make_agent(client: httpx.Client, admin: dict[str, str]) -> Callable[..., tuple[dict[str, Any], dict[str, str]]]:
    """Create an agent through the API and log in as them: (AgentPublic, auth headers)."""

    def make(name: str, role: str = "agent", **fields: Any) -> tuple[dict[str, Any], dict[str, str]]:
        email = f"{name.lower()}@example.com"
        body = {"name": name, "email": email, "password": PASSWORD, "role": role, **fields}
        response = client.post("/api/v1/agents", json=body, headers=admin)
        assert response.status_code == 201, response.text
        return response.json(), login(client, email)

    return make


def inbound(platform_id: str, text: str = "my order never arrived", **fields: Any) -> dict[str, Any]:
    """One inbound message for the default API account."""
    return {
        "channel": "api",
        "account": "default",
        "platform_message_id": platform_id,
        "author_id": "customer-1",
        "author_name": "Casey",
        "text": text,
        **fields,
    }


def wait_for(condition: Callable[[], Any], timeout: float = 20.0, what: str = "condition") -> Any:
    """Poll until ``condition()`` is truthy; its value is returned."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@dataclasses.dataclass
class Received:
    headers: dict[str, str]
    body: dict[str, Any]
    raw: bytes = b""  # the body's bytes as sent (what a signature signs)


class CallbackServer:
    """A customer's endpoint for replies: answers the scripted statuses in turn, then 200."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = list(statuses)
        self.received: list[Received] = []
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                with owner._lock:
                    owner.received.append(Received(dict(self.headers.items()), json.loads(raw), raw))
                    code = owner.statuses.pop(0) if owner.statuses else 200
                payload = json.dumps({"platform_message_id": f"cb-{len(owner.received)}"}).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._http.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._http.server_address[1]}/replies"
        self._thread = threading.Thread(target=self._http.serve_forever, name="callback-server", daemon=True)

    def __enter__(self) -> CallbackServer:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._http.shutdown()
        self._http.server_close()
        self._thread.join(10)
