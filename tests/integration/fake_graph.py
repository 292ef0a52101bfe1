"""A local stand-in for Meta's Graph API: real HTTP on a free port, every request recorded, and answers scripted by
the test (Graph's error bodies, 429 with Meta's rate-limit headers, 5xx, a hang), else Graph's success answers."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

VERSION = "v21.0"


@dataclasses.dataclass(frozen=True)
class Call:
    path: str  # without the version prefix: /{node}/messages
    headers: dict[str, str]
    body: dict[str, Any]


@dataclasses.dataclass(frozen=True)
class Answer:
    status: int = 200
    body: dict[str, Any] | None = None  # None: Graph's success answer for the path
    headers: dict[str, str] = dataclasses.field(default_factory=dict)
    hang: float = 0.0  # seconds to wait before answering (longer than the client's timeout: a timeout)


def graph_error(message: str, code: int, subcode: int | None = None, **extra: Any) -> dict[str, Any]:
    """Graph's error body: {"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}."""
    error: dict[str, Any] = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AbC123"}
    if subcode is not None:
        error["error_subcode"] = subcode
    return {"error": {**error, **extra}}


class FakeGraph:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.script: list[Answer] = []
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                path = self.path.removeprefix(f"/{VERSION}")
                with owner._lock:
                    owner.calls.append(Call(path, dict(self.headers.items()), json.loads(raw or b"{}")))
                    answer = owner.script.pop(0) if owner.script else Answer()
                    serial = len(owner.calls)
                if answer.hang:
                    time.sleep(answer.hang)
                payload = json.dumps(answer.body if answer.body is not None else _success(path, serial)).encode()
                try:
                    self.send_response(answer.status)
                    for name, value in {"Content-Type": "application/json", **answer.headers}.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:  # the client gave up waiting (a timeout test)
                    pass

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._http.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._http.server_address[1]}/{VERSION}"
        self._thread = threading.Thread(target=self._http.serve_forever, args=(0.02,), name="fake-graph", daemon=True)

    def __enter__(self) -> FakeGraph:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._http.shutdown()
        self._http.server_close()
        self._thread.join(10)


def _success(path: str, serial: int) -> dict[str, Any]:
    """What Graph answers: a message's ids, a new comment's id, or success for an update."""
    if path.endswith("/messages"):
        return {"recipient_id": "6100000000000001", "message_id": f"m_OurReply{serial:010d}"}
    if path.endswith(("/comments", "/replies")):
        return {"id": f"{path.split('/')[1]}_reply{serial}"}
    return {"success": True}
